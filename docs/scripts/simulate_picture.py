"""Draw ``docs/images/simulate-stream-poison.svg``: ``examples/stream-poison.toml``, seed 1.

Run ``python docs/scripts/simulate_picture.py`` after changing the picture or the example;
``tests/test_simulate.py`` checks that the checked-in file is what this script draws (the
same as ``invokemodels simulate examples/stream-poison.toml --seed 1 --plot F``).

Two shards, five records a second for two minutes; record 40 is poison.  Its batch fails
four times (``MaximumRetryAttempts = 3``) and is given up to the on-failure queue, while the
iterator age of its shard climbs and then drops.
"""

from __future__ import annotations

import sys
from pathlib import Path

from invokemodels.simulate import load_scenario, run

ROOT = Path(__file__).resolve().parent.parent.parent
SCENARIO = ROOT / "examples" / "stream-poison.toml"
PICTURE = ROOT / "docs" / "images" / "simulate-stream-poison.svg"


def picture() -> str:
    """The SVG text of the picture."""
    result = run(load_scenario(SCENARIO), seed=1)
    return result.timeline.svg(title=result.summary.scenario)


if __name__ == "__main__":
    PICTURE.write_text(picture(), encoding="utf-8")
    sys.stdout.write(f"wrote {PICTURE}\n")
