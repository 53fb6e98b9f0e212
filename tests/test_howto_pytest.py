"""The how-to pages written for pytest run under pytest, with the plugin as a user has it:
each page's ``python`` blocks, in order, are one test module (`tests/test_docs.py` runs the
same blocks as a script)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parent.parent
BLOCK = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)
TEST = re.compile(r"^def (test_\w+)\(", re.MULTILINE)
PAGES = [
    "docs/howto/first-property-test.md",
    "docs/howto/test-a-fifo-handler.md",
    "docs/howto/test-a-kinesis-partial-batch-response.md",
    "docs/howto/test-an-event-functions-destinations.md",
]


@pytest.mark.parametrize("page", PAGES)
def test_the_pages_tests_pass_under_pytest(pytester: pytest.Pytester, page: str) -> None:
    module = "\n\n".join(BLOCK.findall((ROOT / page).read_text(encoding="utf-8")))
    tests = TEST.findall(module)
    assert len(tests) >= 2
    assert any("im_" in line for line in module.splitlines() if line.startswith("def test_"))
    pytester.makepyfile(**{"test_" + Path(page).stem.replace("-", "_"): module})
    result = pytester.runpytest("-p", "no:cacheprovider", "-v")
    result.assert_outcomes(passed=len(tests))
    result.stdout.fnmatch_lines([f"*::{name} PASSED*" for name in tests], consecutive=False)


def test_a_broken_handler_fails_with_the_timeline(pytester: pytest.Pytester) -> None:
    # The page's own advice: break the handler and see the timeline in the report.
    page = "docs/howto/test-an-event-functions-destinations.md"
    module = "\n\n".join(BLOCK.findall((ROOT / page).read_text(encoding="utf-8")))
    broken = module.replace('if event["amount"] <= 0:', 'if event["amount"] < 0:')
    assert broken != module
    broken = broken[: broken.index("from invokemodels.testing import Environment")]
    pytester.makepyfile(test_broken=broken)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, failed=1)
    out = result.stdout.str()
    assert "expected tries starting at [0, 60, 180], got [0]" in out
    assert "carried by 1 tries; succeeded" in out  # the assertion's own story of the event
    result.stdout.fnmatch_lines(
        [
            "*- invokemodels timeline (seed 0) -*",
            "*time*function*track*what*detail*",
            "*0.000s*charge*invocations*Event * try 1*Success*",
        ]
    )
