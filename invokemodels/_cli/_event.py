"""``invokemodels invoke --invocation-type Event``: the asynchronous model on the command line.

Prints ``{"StatusCode": 202}`` on standard output as ``aws lambda invoke`` does, then (being
in-process) runs the service queue to completion on a virtual clock and writes the attempt
timeline (the event's spans in the invoker's `History`) and the final outcome to the timeline
stream (standard error unless ``--timeline-file`` or ``--quiet`` says otherwise).  ``--report
FILE`` writes the attempts, the outcome and the destination records as JSON.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any, TextIO

from invokemodels.aws._targets import QueueTarget
from invokemodels.core._function import Function
from invokemodels.core._history import Outcome, Span
from invokemodels.core._scheduler import Scheduler
from invokemodels.event._invoker import EventInvoker, EventOutcome
from invokemodels.event._policy import (
    DEFAULT_MAXIMUM_EVENT_AGE,
    DEFAULT_MAXIMUM_RETRY_ATTEMPTS,
    EventInvokeConfig,
)
from invokemodels.exceptions import InvalidParameterValueError, ResourceNotFoundError

__all__ = ["attempt_line", "invoke_event", "outcome_line", "outcome_text"]

_VERSION = re.compile(r"^[0-9]+$")


def attempt_line(attempt: Span) -> str:
    """One try as a timeline line: ``t=  60.00s  attempt 2: FunctionError (ValueError)``."""
    if attempt.execution is None:
        what = f"{attempt.outcome.value} ({attempt.error_type}), not invoked"
    else:
        what = f"attempt {attempt.execution}: {attempt.outcome.value}"
        if attempt.error_type:
            what += f" ({attempt.error_type})"
    return f"t={attempt.started_at:>8.2f}s  {what}"


def outcome_text(span: Span) -> str:
    """A span's outcome as the command line prints it: ``Success``, the function's
    ``errorType``, ``DryRun``, or a refusal's wire code (``TooManyRequestsException``)."""
    if span.outcome is Outcome.THROTTLED and span.status_code is not None:
        return "TooManyRequestsException"
    return span.outcome.value if span.error_type is None else span.error_type


def outcome_line(outcome: EventOutcome) -> str:
    """The terminal outcome as a timeline line."""
    count = outcome.approximate_invoke_count
    plural = "" if count == 1 else "s"
    return (
        f"t={outcome.ended_at:>8.2f}s  outcome: {outcome.condition} "
        f"after {count} invocation{plural}"
    )


def _write(option: str, path: str, data: bytes) -> None:
    try:
        Path(path).write_bytes(data)
    except OSError as exc:
        raise InvalidParameterValueError(
            option, path, f"cannot write: {exc.strerror or exc}"
        ) from None


def _attempt_json(attempt: Span) -> dict[str, Any]:
    return {
        "number": attempt.attempt,
        "execution": attempt.execution,
        "enqueued_at": attempt.enqueued_at,
        "started_at": attempt.started_at,
        "ended_at": attempt.ended_at,
        "dwell_time": attempt.dwell_time,
        "outcome": attempt.outcome.value,
        "error_type": attempt.error_type,
    }


def invoke_event(
    function: Function, payload: str, args: argparse.Namespace, stdout: TextIO, stderr: TextIO
) -> int:
    """Run one ``Event`` invoke to completion on a virtual clock; returns the exit status.

    The metadata goes to ``stdout``, the timeline to ``stderr`` (the timeline stream).
    Refusals (413, 400, 429) and bad options raise, and the command line reports them.
    """
    timeline = stderr
    qualifier = args.qualifier
    if qualifier is not None and _VERSION.match(qualifier) and qualifier != function.version:
        msg = f"Function not found: {function.arn}:{qualifier}"
        raise ResourceNotFoundError(msg)
    base: EventInvokeConfig | None = getattr(args, "event_config", None)
    on_success = (
        base.on_success
        if base is not None and base.on_success is not None
        else QueueTarget(name="on-success", region=function.region)
    )
    on_failure = (
        base.on_failure
        if base is not None and base.on_failure is not None
        else QueueTarget(name="on-failure", region=function.region)
    )
    retries = DEFAULT_MAXIMUM_RETRY_ATTEMPTS if base is None else base.maximum_retry_attempts
    age = DEFAULT_MAXIMUM_EVENT_AGE if base is None else base.maximum_event_age
    config = EventInvokeConfig(
        maximum_retry_attempts=retries
        if args.max_retry_attempts is None
        else args.max_retry_attempts,
        maximum_event_age=age if args.max_event_age is None else args.max_event_age,
        on_success=on_success,
        on_failure=on_failure,
    )
    scheduler = Scheduler()
    invoker = EventInvoker(function, config=config, scheduler=scheduler, seed=args.seed)
    response = invoker.invoke(payload.encode("utf-8"))
    if args.outfile != "-":
        _write("OUTFILE", args.outfile, response.payload)  # empty, as for aws lambda invoke
    stdout.write(json.dumps(response.to_dict(), indent=4) + "\n")
    scheduler.run_until_idle()
    outcome = invoker.outcome(response.request_id)
    timeline.write(
        f"Event {response.request_id}: MaximumRetryAttempts={config.maximum_retry_attempts}, "
        f"MaximumEventAgeInSeconds={config.maximum_event_age:g}\n"
    )
    attempts = invoker.history.of(response.request_id)
    for attempt in attempts:
        timeline.write(f"  {attempt_line(attempt)}\n")
    timeline.write(f"  {outcome_line(outcome)}\n")
    if args.report is None:
        return 0
    report = {
        "function": function.arn,
        "invocation_type": "Event",
        "status_code": response.status_code,
        "request_id": response.request_id,
        "config": {
            "MaximumRetryAttempts": config.maximum_retry_attempts,
            "MaximumEventAgeInSeconds": int(config.maximum_event_age),
        },
        "attempts": [_attempt_json(attempt) for attempt in attempts],
        "outcome": {
            "condition": outcome.condition,
            "kind": outcome.kind.value,
            "approximate_invoke_count": outcome.approximate_invoke_count,
            "ended_at": outcome.ended_at,
        },
        "destination_records": {
            "on_success": getattr(on_success, "records", []),
            "on_failure": getattr(on_failure, "records", []),
        },
        "metrics": invoker.metrics.as_dict(),
    }
    _write("--report", args.report, (json.dumps(report, indent=2) + "\n").encode("utf-8"))
    return 0
