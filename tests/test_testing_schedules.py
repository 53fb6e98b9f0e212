"""`FailureSchedule`: attempt n gets the n-th behaviour, under every model.

A schedule wraps a handler (errors, timeouts, duplicates) or drives a `Function` (throttles
too); the sync model, the Event model, an SQS mapping and a Kinesis mapping each see
exactly the attempts the schedule asks for, and the model's own rules decide what follows.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from invokemodels import (
    EventInvokeConfig,
    EventInvoker,
    Function,
    Outcome,
    RequestResponseInvoker,
    Scheduler,
)
from invokemodels.aws import KinesisStream, MessageState, Queue
from invokemodels.core import ThrottleReason
from invokemodels.exceptions import InvalidParameterValueError, TooManyRequestsError
from invokemodels.mapping import StreamMappingConfig
from invokemodels.testing import (
    Behaviour,
    FailureSchedule,
    ScheduledAttempt,
    ScheduledError,
    ScheduledFunction,
    failure_schedules,
)
from invokemodels.testing._schedules import FAILING, RUNS

B = Behaviour


class Inner:
    """The handler under a schedule: records what it was given."""

    def __init__(self) -> None:
        self.events: list[Any] = []

    def __call__(self, event: Any, context: Any) -> Any:
        self.events.append(event)
        event["touched"] = True  # a duplicate's second run gets a fresh copy all the same
        return {"seen": len(self.events)}


def fails(handler: Any, event: Any) -> bool:
    """True when the handler raised `ScheduledError` for ``event``."""
    try:
        handler(event, None)
    except ScheduledError:
        return True
    return False


def span_outcome(behaviour: Behaviour) -> Outcome:
    if behaviour is B.THROTTLE:
        return Outcome.THROTTLED
    if behaviour in FAILING:
        return Outcome.FUNCTION_ERROR
    return Outcome.SUCCESS


def error_type(behaviour: Behaviour) -> str | None:
    if behaviour is B.TIMEOUT:
        return "Sandbox.Timedout"
    if behaviour in (B.ERROR, B.ERROR_AFTER):
        return "ScheduledError"
    if behaviour is B.THROTTLE:
        return ThrottleReason.RESERVED
    return None


def until_success(schedule: FailureSchedule) -> list[Behaviour]:
    """The attempts of an item retried until it succeeds: the steps up to the first success."""
    out: list[Behaviour] = []
    n = 1
    while True:
        behaviour = schedule.at(n)
        out.append(behaviour)
        if behaviour is B.OK or behaviour is B.DUPLICATE:
            return out
        n += 1


# -- the value -----------------------------------------------------------------------------


def test_attempt_n_gets_the_nth_step_then_the_rest() -> None:
    schedule = FailureSchedule.of("error", B.TIMEOUT, then="throttle")
    assert schedule == FailureSchedule((B.ERROR, B.TIMEOUT), B.THROTTLE)
    assert [schedule.at(n) for n in (1, 2, 3, 4)] == [B.ERROR, B.TIMEOUT, B.THROTTLE, B.THROTTLE]
    assert schedule.throttles
    assert not FailureSchedule.of("error").throttles
    assert FailureSchedule().at(1) is B.OK


@pytest.mark.parametrize(
    ("make", "parameter"),
    [
        (lambda: FailureSchedule.of("explode"), "behaviour"),
        (lambda: FailureSchedule("error"), "steps"),  # type: ignore[arg-type]
        (lambda: FailureSchedule(then="nope"), "behaviour"),  # type: ignore[arg-type]
        (lambda: FailureSchedule().at(0), "attempt"),
        (lambda: FailureSchedule.of("throttle").handler(Inner()), "schedule"),
        (lambda: FailureSchedule().handler("not callable"), "handler"),
        (lambda: ScheduledFunction("f", lambda e, c: None), "handler"),
    ],
)
def test_bad_input_names_the_parameter(make: Any, parameter: str) -> None:
    with pytest.raises(InvalidParameterValueError) as caught:
        make()
    assert caught.value.parameter == parameter


def test_a_wrapped_handler_follows_the_schedule_call_by_call() -> None:
    inner = Inner()
    handler = FailureSchedule.of("error", "error_after", "duplicate").handler(inner)
    with pytest.raises(ScheduledError, match="attempt 1 fails"):
        handler({"n": 1}, None)
    assert inner.events == []  # ERROR: nothing was done
    with pytest.raises(ScheduledError, match="attempt 2 fails after its work"):
        handler({"n": 2}, None)
    assert inner.events == [{"n": 2, "touched": True}]
    assert handler({"n": 3}, None) == {"seen": 3}  # DUPLICATE: run twice, the second counts
    assert inner.events[1:] == [{"n": 3, "touched": True}] * 2
    assert handler({"n": 4}, None) == {"seen": 4}
    assert handler.runs == 4
    assert [a.behaviour for a in handler.attempts] == [B.ERROR, B.ERROR_AFTER, B.DUPLICATE, B.OK]


@given(failure_schedules(behaviours=["ok", "error", "error_after", "duplicate"]))
def test_the_handler_runs_as_often_as_the_behaviours_say(schedule: FailureSchedule) -> None:
    inner = Inner()
    handler = schedule.handler(inner)
    attempts = len(schedule.steps) + 2
    failed = [fails(handler, {"n": n}) for n in range(1, attempts + 1)]
    assert failed == [schedule.at(n) in FAILING for n in range(1, attempts + 1)]
    assert handler.runs == len(inner.events)
    assert handler.runs == sum(RUNS[schedule.at(n)] for n in range(1, attempts + 1))


# -- under each model -----------------------------------------------------------------------


@given(failure_schedules())
def test_sync_invokes_follow_the_schedule(schedule: FailureSchedule) -> None:
    inner = Inner()
    function = schedule.function("scheduled", inner)
    invoker = RequestResponseInvoker(function, seed=1)
    attempts = len(schedule.steps) + 2
    for n in range(1, attempts + 1):
        behaviour = schedule.at(n)
        if behaviour is B.THROTTLE:
            with pytest.raises(TooManyRequestsError) as caught:
                invoker.invoke({"n": n})
            assert caught.value.reason == ThrottleReason.RESERVED
            continue
        response = invoker.invoke({"n": n})
        if behaviour in FAILING:
            assert response.function_error == "Unhandled"
            assert response.json()["errorType"] == error_type(behaviour)
        else:
            assert response.json() == {"seen": len(inner.events)}
    spans = list(invoker.history)
    assert [s.outcome for s in spans] == [
        span_outcome(schedule.at(n)) for n in range(1, attempts + 1)
    ]
    assert [s.error_type for s in spans if s.outcome is not Outcome.THROTTLED] == [
        error_type(schedule.at(n))
        for n in range(1, attempts + 1)
        if schedule.at(n) is not B.THROTTLE
    ]
    assert len(inner.events) == sum(RUNS[schedule.at(n)] for n in range(1, attempts + 1))
    assert [a.attempt for a in function.attempts] == list(range(1, attempts + 1))
    assert function.in_flight == 0


@given(failure_schedules(), st.integers(0, 2))
def test_an_event_follows_the_schedule_until_its_retries_run_out(
    schedule: FailureSchedule, retries: int
) -> None:
    inner = Inner()
    function = schedule.function("scheduled", inner)
    invoker = EventInvoker(
        function, config=EventInvokeConfig(maximum_retry_attempts=retries), seed=3
    )
    rid = invoker.invoke({"order": 7}).request_id
    invoker.scheduler.run_until_idle()
    # The Event rules: function errors use up MaximumRetryAttempts; throttles do not.
    expected: list[Behaviour] = []
    errors = 0
    n = 0
    while True:
        n += 1
        behaviour = schedule.at(n)
        expected.append(behaviour)
        if behaviour in FAILING:
            errors += 1
            if errors > retries:
                condition = "RetriesExhausted"
                break
        elif behaviour is not B.THROTTLE:
            condition = "Success"
            break
    spans = invoker.history.of(rid)
    assert [s.outcome for s in spans] == [span_outcome(b) for b in expected]
    assert [s.error_type for s in spans] == [error_type(b) for b in expected]
    assert invoker.outcome(rid).condition == condition
    assert [a.behaviour for a in function.attempts] == expected
    assert {a.request_id for a in function.attempts if a.request_id is not None} <= {rid}
    assert len(inner.events) == sum(RUNS[b] for b in expected)


@given(failure_schedules(max_steps=6))
def test_an_sqs_message_is_redelivered_until_the_schedule_lets_it_succeed(
    schedule: FailureSchedule,
) -> None:
    sched = Scheduler()
    queue = Queue("orders", scheduler=sched)
    queue.send_message("order 1")
    inner = Inner()
    function = schedule.function("scheduled", inner)
    mapping = queue.map_to(function, seed=5)
    sched.run(until=3600)
    expected = until_success(schedule)
    spans = list(mapping.history)
    assert [s.outcome for s in spans] == [span_outcome(b) for b in expected]
    assert [s.error_type for s in spans] == [error_type(b) for b in expected]
    assert [a.behaviour for a in function.attempts] == expected
    assert len(inner.events) == sum(RUNS[b] for b in expected)
    assert queue.count(MessageState.DELETED) == 1


@given(failure_schedules(max_steps=6))
def test_a_kinesis_batch_is_retried_until_the_schedule_lets_it_succeed(
    schedule: FailureSchedule,
) -> None:
    sched = Scheduler()
    stream = KinesisStream("clicks", scheduler=sched)
    stream.put_record(b"click", "user-1")
    inner = Inner()
    function = schedule.function("scheduled", inner)
    mapping = stream.map_to(function, StreamMappingConfig(starting_position="TRIM_HORIZON"))
    sched.run(until=3600)
    expected = until_success(schedule)
    spans = list(mapping.history)
    assert [s.outcome for s in spans] == [span_outcome(b) for b in expected]
    assert [s.attempt for s in spans if s.outcome is not Outcome.THROTTLED][-1] >= 1
    assert [a.behaviour for a in function.attempts] == expected
    assert len(inner.events) == sum(RUNS[b] for b in expected)


def test_a_timeout_runs_the_handler_and_then_the_clock_past_the_timeout() -> None:
    inner = Inner()
    function = FailureSchedule.of("timeout").function("slow", inner, timeout=10)
    invoker = RequestResponseInvoker(function)
    assert invoker.invoke({}).json()["errorType"] == "Sandbox.Timedout"
    (span,) = invoker.history
    assert (span.started_at, span.ended_at) == (0.0, 10.0)
    assert len(inner.events) == 1
    assert function.attempts == [ScheduledAttempt(1, B.TIMEOUT, span.request_id)]


def test_a_function_own_concurrency_throttle_takes_no_step() -> None:
    function = FailureSchedule.of("error").function("busy", Inner(), reserved_concurrency=0)
    assert isinstance(function, Function)
    assert function.try_acquire() == ThrottleReason.RESERVED
    assert function.attempts == []
    assert function.scheduled.peek() is B.ERROR  # still attempt 1's
    function.set_reserved_concurrency(1)
    invoker = RequestResponseInvoker(function)
    assert invoker.invoke({}).json()["errorType"] == "ScheduledError"
    assert [a.behaviour for a in function.attempts] == [B.ERROR]
