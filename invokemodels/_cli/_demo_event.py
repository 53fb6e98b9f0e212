"""``invokemodels demo``: the asynchronous section (``InvocationType=Event``)."""

from __future__ import annotations

import textwrap
from typing import Any, TextIO

from invokemodels._cli._event import attempt_line, outcome_line
from invokemodels.aws._targets import QueueTarget
from invokemodels.core._context import LambdaContext
from invokemodels.core._function import Function
from invokemodels.core._scheduler import Scheduler
from invokemodels.event._invoker import EventInvoker
from invokemodels.event._policy import EventInvokeConfig
from invokemodels.observe._timeline import Timeline

__all__ = ["run"]


def _fails_first(times: int) -> Any:
    """A handler that fails the first ``times`` attempts of each event, then succeeds."""
    seen: dict[str, int] = {}

    def handler(event: Any, context: LambdaContext) -> Any:
        count = seen[context.aws_request_id] = seen.get(context.aws_request_id, 0) + 1
        context.spend(0.5)
        if count <= times:
            msg = f"payment service unavailable (attempt {count})"
            raise ConnectionError(msg)
        return {"charged": event["order"]}

    return handler


def _show(out: TextIO, invoker: EventInvoker, request_id: str) -> None:
    outcome = invoker.outcome(request_id)
    for attempt in invoker.history.of(request_id):
        out.write(f"  {attempt_line(attempt)}\n")
    out.write(f"  {outcome_line(outcome)}\n")


def _timeline(out: TextIO, invoker: EventInvoker) -> None:
    """The section's timeline: acceptance, every try, the outcome and its destinations."""
    timeline = Timeline.from_history(invoker.history, sources=[invoker])
    out.write("  timeline:\n")
    out.write(textwrap.indent(timeline.text(), "    "))


def run(out: TextIO, *, seed: int = 1) -> None:
    """Print an event that fails twice then succeeds, one that exhausts its retries, and more."""
    out.write(
        "== Asynchronous (Event): 202 at once; Lambda retries function errors twice,\n"
        "   about 1 then 2 minutes apart, and keeps the outcome in destinations\n"
    )
    sched = Scheduler()
    failures = QueueTarget(name="failures")
    dlq = QueueTarget(name="dead-letters")
    flaky = Function(name="charge", handler=_fails_first(2), timeout=10)
    invoker = EventInvoker(
        flaky, config=EventInvokeConfig(on_failure=failures), scheduler=sched, seed=seed
    )
    first = invoker.invoke({"order": 1})
    out.write(f"  invoke -> StatusCode {first.status_code}; nothing has run yet\n")
    sched.run_until_idle()
    out.write("  an event that fails twice, then succeeds:\n")
    _show(out, invoker, first.request_id)

    broken = Function(name="ship", handler=_fails_first(99), timeout=10)
    sched = Scheduler()
    invoker = EventInvoker(
        broken,
        config=EventInvokeConfig(on_failure=failures),
        dead_letter=dlq,
        scheduler=sched,
        seed=seed,
    )
    second = invoker.invoke({"order": 2})
    sched.run_until_idle()
    out.write("  an event that exhausts its retries:\n")
    _show(out, invoker, second.request_id)
    _timeline(out, invoker)
    record = failures.records[-1]
    out.write(
        f"  on-failure record: condition {record['requestContext']['condition']}, "
        f"approximateInvokeCount {record['requestContext']['approximateInvokeCount']}\n"
    )
    attributes = dlq.messages[-1].attributes
    out.write(
        f"  dead-letter message: body {dlq.messages[-1].body}, "
        f"ErrorCode {attributes['ErrorCode']['StringValue']}, "
        f"ErrorMessage {attributes['ErrorMessage']['StringValue']!r}\n"
    )

    out.write(
        "  the same failing event with MaximumEventAgeInSeconds=90 (the age rule looks ahead):\n"
    )
    sched = Scheduler()
    invoker = EventInvoker(
        broken, config=EventInvokeConfig(maximum_event_age=90), scheduler=sched, seed=seed
    )
    third = invoker.invoke({"order": 3})
    sched.run_until_idle()
    _show(out, invoker, third.request_id)
