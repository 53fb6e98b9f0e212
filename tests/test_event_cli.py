"""`invokemodels invoke --invocation-type Event` and the Event section of the demo."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from invokemodels._cli import _demo_event
from invokemodels._cli import _main as cli
from invokemodels._cli._event import attempt_line
from invokemodels.core import Model, Outcome, Span

FAIL = "invokemodels.examples:fail"
HELLO = "invokemodels.examples:hello"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(["invoke", "--invocation-type", "Event", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def timeline(err: str) -> list[str]:
    """The timeline lines on stderr (after the attempts' logs)."""
    lines = err.splitlines()
    start = next(n for n, line in enumerate(lines) if "MaximumRetryAttempts=" in line)
    return lines[start:]


def test_prints_202_then_the_timeline_and_outcome(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "--handler", FAIL, "-")
    assert code == 0
    assert json.loads(out) == {"StatusCode": 202}
    assert err.count("START RequestId: ") == 3
    assert err.count("[ERROR] ValueError: something went wrong") == 3
    lines = [out.strip(), *timeline(err)]
    assert lines[1].endswith(": MaximumRetryAttempts=2, MaximumEventAgeInSeconds=21600")
    assert lines[2:] == [
        "  t=    0.00s  attempt 1: FunctionError (ValueError)",
        "  t=   60.00s  attempt 2: FunctionError (ValueError)",
        "  t=  180.00s  attempt 3: FunctionError (ValueError)",
        "  t=  180.00s  outcome: RetriesExhausted after 3 invocations",
    ]


def test_options_and_report(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    outfile = tmp_path / "out.json"
    code, out, err = run(
        capsys, "--handler", FAIL, "--max-retry-attempts", "2", "--max-event-age", "90",
        "--duration", "2", "--payload", '{"order": 7}', "--report", str(report), str(outfile),
    )  # fmt: skip
    assert code == 0
    assert outfile.read_bytes() == b""
    assert json.loads(out) == {"StatusCode": 202}
    assert timeline(err)[-1] == "  t=   64.00s  outcome: EventAgeExceeded after 2 invocations"
    data = json.loads(report.read_text())
    assert data["invocation_type"] == "Event"
    assert data["status_code"] == 202
    assert data["config"] == {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 90}
    assert [(a["started_at"], a["ended_at"], a["outcome"]) for a in data["attempts"]] == [
        (0.0, 2.0, "FunctionError"),
        (62.0, 64.0, "FunctionError"),
    ]
    assert data["outcome"] == {
        "condition": "EventAgeExceeded",
        "kind": "EventAgeExceeded",
        "approximate_invoke_count": 2,
        "ended_at": 64.0,
    }
    (record,) = data["destination_records"]["on_failure"]
    assert record["requestPayload"] == {"order": 7}
    assert record["requestContext"]["requestId"] == data["request_id"]
    assert data["destination_records"]["on_success"] == []
    assert data["metrics"]["AsyncEventsDropped"] == 1


def test_success_with_no_retries(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "--handler", HELLO, "--max-retry-attempts", "0", "-")
    assert code == 0
    assert timeline(err)[1:] == [
        "  t=    0.00s  attempt 1: Success",
        "  t=    0.00s  outcome: Success after 1 invocation",
    ]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--qualifier", "7", "-"], "(ResourceNotFoundException) when calling the Invoke"),
        (
            ["--payload", json.dumps("x" * 1_048_600), "-"],
            "1048602 byte payload is too large for the Event invocation type (limit 1048576 bytes)",
        ),
        (["--max-event-age", "90.5", "-"], "MaximumEventAgeInSeconds=90.5 is invalid"),
        (["--report", "/no/such/dir/r.json", "-"], "--report='/no/such/dir/r.json' is invalid"),
        (["/no/such/dir/out.json"], "OUTFILE='/no/such/dir/out.json' is invalid: cannot write"),
    ],
)
def test_refusals_are_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, _, err = run(capsys, "--handler", HELLO, *argv)
    assert (code, err.count("\n")) == (2, 1)
    assert message in err


def test_demo_section(capsys: pytest.CaptureFixture[str]) -> None:
    assert "invokemodels._cli._demo_event" in cli.DEMO_SECTIONS
    _demo_event.run(sys.stdout, seed=3)
    out = capsys.readouterr().out
    assert "== Asynchronous (Event)" in out
    assert "invoke -> StatusCode 202; nothing has run yet" in out
    assert out.count("  t=  181.00s  attempt 3: Success") == 1
    assert "  t=  181.50s  outcome: Success after 3 invocations" in out
    assert "  t=  181.50s  outcome: RetriesExhausted after 3 invocations" in out
    assert 'dead-letter message: body {"order": 2}, ErrorCode 200' in out
    assert "  t=   61.00s  outcome: EventAgeExceeded after 2 invocations" in out
    _demo_event.run(sys.stdout, seed=3)
    assert capsys.readouterr().out == out


def test_a_throttled_try_reads_as_not_invoked() -> None:
    throttle = Span(
        Model.EVENT, "f", "r", 1, None, 0.0, 3.0, 3.0, Outcome.THROTTLED,
        "ConcurrentInvocationLimitExceeded",
    )  # fmt: skip
    assert attempt_line(throttle) == (
        "t=    3.00s  Throttled (ConcurrentInvocationLimitExceeded), not invoked"
    )
