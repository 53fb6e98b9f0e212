"""A retry policy cannot hang the clock or lose an event, whatever it answers.

`Decision` refuses a delay that is not a finite number of seconds >= 0 when it is made;
a model refuses an answer that is not a `Decision`, naming the policy; and a policy that
keeps asking for a retry at once, with no time passing, is stopped after `STALL_LIMIT`
retries in a row by an error naming it, the item left pending (not lost).
"""

from __future__ import annotations

import math
import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from invokemodels import (
    Decision,
    EventInvoker,
    EventOutcomeKind,
    EventRetryPolicy,
    Failure,
    FailureKind,
    Function,
    FunctionErrorRetries,
    LambdaClient,
    RequestResponseInvoker,
    Scheduler,
)
from invokemodels.core import CombinedPolicy, MaxAge
from invokemodels.core._retry import STALL_LIMIT
from invokemodels.event import InlineExecutor
from invokemodels.exceptions import InvalidParameterValueError, ServiceError


def failing(event: Any, context: Any) -> Any:
    raise RuntimeError("no")


class Answers:
    """A policy that answers every failure with ``answer()`` and counts the calls."""

    def __init__(self, answer: Any) -> None:
        self.answer = answer
        self.calls = 0

    def decide(self, failure: Failure, rng: random.Random) -> Any:
        self.calls += 1
        return self.answer()


# -- Decision -----------------------------------------------------------------------------


@pytest.mark.parametrize("delay", [math.nan, math.inf, -math.inf, -1.0, -1, "5", True, [1]])
def test_a_decision_refuses_a_delay_that_is_not_a_finite_number_of_seconds(delay: Any) -> None:
    with pytest.raises(InvalidParameterValueError, match=r"^delay=.* is invalid: .*finite") as e:
        Decision(delay=delay)
    assert e.value.parameter == "delay"


@pytest.mark.parametrize("delay", [math.nan, math.inf, -math.inf, "5", None, False])
def test_decision_after_refuses_what_is_not_a_time(delay: Any) -> None:
    with pytest.raises(InvalidParameterValueError, match=r"^delay="):
        Decision.after(delay)


def test_decision_after_takes_a_negative_delay_as_at_once() -> None:
    assert Decision.after(-3).delay == 0.0
    assert Decision.after(2).delay == 2.0
    assert Decision(delay=None, reason="x").retry is False


# -- what the models do with any answer ---------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "shows"),
    [(lambda: None, "returned NoneType None"), (lambda: 5.0, "returned float 5.0")],
)
def test_the_event_model_names_a_policy_that_does_not_return_a_decision(
    answer: Any, shows: str
) -> None:
    scheduler = Scheduler()
    policy = Answers(answer)
    invoker = EventInvoker(Function("f", failing), scheduler=scheduler, retry_policy=policy)
    invoker.invoke({"n": 1})
    with pytest.raises(InvalidParameterValueError, match=r"^retry_policy=") as caught:
        scheduler.run_until_idle()
    assert shows in str(caught.value)
    assert "must return a Decision" in str(caught.value)


def test_parts_of_composed_policies_are_named() -> None:
    bad = Answers(lambda: None)
    failure = Failure(attempt=1, kind=FailureKind.FUNCTION_ERROR)
    with pytest.raises(InvalidParameterValueError, match=r"^policies\[1\]="):
        CombinedPolicy((FunctionErrorRetries(), bad)).decide(failure, random.Random(0))
    with pytest.raises(InvalidParameterValueError, match=r"^function_errors="):
        EventRetryPolicy(function_errors=bad).decide(failure, random.Random(0))  # type: ignore[arg-type]


def test_a_policy_retrying_at_once_for_ever_stops_the_run_with_its_name_and_loses_nothing() -> None:
    # MaxAge alone answers "no objection" (0 s): with attempts of no modelled time the
    # age never grows, so the event would be retried at t=0 for ever.
    scheduler = Scheduler()
    calls: list[float] = []

    def handler(event: Any, context: Any) -> Any:
        calls.append(scheduler.clock.now())
        raise RuntimeError("no")

    invoker = EventInvoker(
        Function("f", handler), scheduler=scheduler, retry_policy=MaxAge(seconds=300)
    )
    invoker.invoke({"n": 1})
    with pytest.raises(InvalidParameterValueError, match=r"^retry_policy=MaxAge\(") as caught:
        scheduler.run_until_idle()
    message = str(caught.value)
    assert f"{STALL_LIMIT} times in a row at t=0.0 s" in message
    assert "FunctionErrorRetries() | MaxAge(seconds=300)" in message
    assert len(calls) == STALL_LIMIT
    assert set(calls) == {0.0}
    # Not lost: still pending, and it ends once the policy is one that moves time.
    assert invoker.pending == 1
    invoker.retry_policy = FunctionErrorRetries(maximum_retry_attempts=1) | MaxAge(seconds=300)
    scheduler.run_until_idle()
    assert invoker.pending == 0
    [outcome] = invoker.outcomes
    assert outcome.kind is EventOutcomeKind.RETRIES_EXHAUSTED


def test_retries_at_once_are_fine_while_attempts_take_time() -> None:
    # Each attempt takes 1 s, so a 0 s retry is at a new instant: the age rule ends it.
    invoker = EventInvoker(Function("f", failing, duration=1.0), retry_policy=MaxAge(seconds=1500))
    invoker.invoke({"n": 1})
    invoker.scheduler.run_until_idle()
    [outcome] = invoker.outcomes
    assert outcome.kind is EventOutcomeKind.EVENT_AGE_EXCEEDED
    assert outcome.approximate_invoke_count == 1500  # at t = 0, 1, ..., 1499


def test_a_few_retries_at_once_are_not_a_loop() -> None:
    invoker = EventInvoker(Function("f", failing), retry_policy=FunctionErrorRetries(delays=(0.0,)))
    for n in range(5):
        invoker.invoke({"n": n})
    invoker.scheduler.run_until_idle()
    assert [o.approximate_invoke_count for o in invoker.outcomes] == [3] * 5
    assert invoker.scheduler.clock.now() == 0.0


@settings(max_examples=40, deadline=None)
@given(
    delays=st.lists(st.sampled_from([0.0, 0.0, 0.5, 60.0]), max_size=30),
    events=st.integers(1, 4),
    duration=st.sampled_from([0.0, 0.2]),
)
def test_any_finite_policy_ends_every_event_once_and_any_endless_one_is_stopped(
    delays: list[float], events: int, duration: float
) -> None:
    class Scripted:
        def decide(self, failure: Failure, rng: random.Random) -> Decision:
            if failure.attempt > len(delays):
                return Decision.stop("script")
            return Decision.after(delays[failure.attempt - 1])

    invoker = EventInvoker(Function("f", failing, duration=duration), retry_policy=Scripted())
    for n in range(events):
        invoker.invoke({"n": n})
    invoker.scheduler.run_until_idle()
    assert invoker.pending == 0
    assert len(invoker.outcomes) == events
    assert {o.approximate_invoke_count for o in invoker.outcomes} <= {len(delays) + 1}

    endless = EventInvoker(Function("f", failing), retry_policy=Answers(lambda: Decision.after(0)))
    for n in range(events):
        endless.invoke({"n": n})
    with pytest.raises(InvalidParameterValueError, match="no time passing"):
        endless.scheduler.run_until_idle()
    assert endless.pending == events
    assert endless.scheduler.clock.now() == 0.0


# -- the synchronous client ---------------------------------------------------------------


def _client(policy: Any) -> LambdaClient:
    invoker = RequestResponseInvoker(Function("f", lambda event, context: 1))
    invoker.fault = lambda number, rng: ServiceError("Internal error")
    return LambdaClient(invoker, retry=policy)


def test_the_client_names_a_policy_that_does_not_return_a_decision() -> None:
    client = _client(Answers(lambda: None))
    with pytest.raises(InvalidParameterValueError, match=r"^retry=.*returned NoneType None"):
        client.invoke({})


def test_the_client_stops_a_policy_retrying_at_once_for_ever() -> None:
    policy = Answers(lambda: Decision.after(0))
    client = _client(policy)
    with pytest.raises(InvalidParameterValueError, match=r"retry call 1 1000 times in a row"):
        client.invoke({})
    assert policy.calls == STALL_LIMIT
    assert len(client.attempts) == STALL_LIMIT


def test_the_client_refuses_a_wait_past_the_end_of_the_clock() -> None:
    client = _client(Answers(lambda: Decision.after(1e300)))
    with pytest.raises(InvalidParameterValueError, match=r"wait 1e\+300 s before attempt 2"):
        client.invoke({})


def test_the_client_still_retries_at_once_a_bounded_number_of_times() -> None:
    answers = iter([Decision.after(0)] * 5 + [Decision.stop("enough")])
    client = _client(Answers(lambda: next(answers)))
    with pytest.raises(ServiceError):
        client.invoke({})
    assert [a.reason for a in client.attempts][-1] == "enough"
    assert len(client.attempts) == 6


class Through:
    """An `AttemptExecutor` of its own: every try through the `AttemptHandle` protocol."""

    def submit(self, attempt: Any, now: float) -> None:
        InlineExecutor().submit(attempt, now)


@pytest.mark.parametrize("duration", [0.0, 1.5])
@pytest.mark.parametrize("executor", [None, Through()], ids=["inline", "handles"])
def test_a_raising_policy_stops_the_run_and_the_event_waits_in_the_queue(
    duration: float, executor: Any
) -> None:
    class Broken:
        def decide(self, failure: Failure, rng: random.Random) -> Decision:
            raise ZeroDivisionError("policy bug")

    calls: list[float] = []

    def handler(event: Any, context: Any) -> Any:
        calls.append(event["n"])
        raise RuntimeError("no")

    scheduler = Scheduler()
    extra = {} if executor is None else {"executor": executor}
    invoker = EventInvoker(
        Function("f", handler, duration=duration),
        scheduler=scheduler,
        retry_policy=Broken(),
        **extra,
    )
    invoker.invoke({"n": 1})
    with pytest.raises(ZeroDivisionError, match="policy bug"):
        scheduler.run_until_idle()
    assert (invoker.pending, invoker.in_flight, invoker.function.in_flight) == (1, 0, 0)
    assert invoker.metrics.invocations == 1
    invoker.retry_policy = FunctionErrorRetries(maximum_retry_attempts=0)
    scheduler.run_until_idle()
    assert (invoker.pending, invoker.in_flight) == (0, 0)
    [outcome] = invoker.outcomes
    assert outcome.kind is EventOutcomeKind.RETRIES_EXHAUSTED
    assert outcome.approximate_invoke_count == 2  # the try before the bug, and one after
    assert calls == [1, 1]
