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
    Queue,
    RedrivePolicy,
    RequestResponseInvoker,
    Scheduler,
    SQSMappingConfig,
)
from invokemodels.aws import MessageState
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
    # Every try fails, and the script's delays stay far below the six-hour maximum age.
    assert {o.approximate_invoke_count for o in invoker.outcomes} == {len(delays) + 1}

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


# -- an SQS queue that hides a received message for 0 s -------------------------------------


def test_a_zero_visibility_timeout_with_instant_attempts_stops_the_run_and_loses_nothing() -> None:
    # VisibilityTimeout=0 is SQS's own range; with attempts of no modelled time the
    # mapping would receive the message again and again at t=0.
    calls: list[int] = []

    def handler(event: Any, context: Any) -> Any:
        calls.append(len(event["Records"]))
        raise RuntimeError("no")

    queue = Queue("orders", seed=1, visibility_timeout=0, message_retention_period=60)
    function = Function("consume", handler)
    queue.map_to(function)
    queue.send_message("order 1")
    with pytest.raises(InvalidParameterValueError, match=r"^VisibilityTimeout=0 is invalid") as e:
        queue.scheduler.run_until_idle()
    assert f"received {STALL_LIMIT} times in a row at t=0.0 s" in str(e.value)
    assert queue.scheduler.clock.now() == 0.0
    # A batch holds one receive's messages, each once: 999 batches of the one message;
    # the 1,000th receive raised before its batch was sent.
    assert calls == [1] * (STALL_LIMIT - 1)
    assert queue.has_visible()
    # A run resumed once attempts take time goes on until the message expires.
    function.duration = 0.5
    queue.scheduler.run_until_idle()
    [fate] = queue.fates
    assert (fate.kind, fate.at) == ("expired", 60.0)


def test_a_zero_visibility_timeout_with_a_redrive_policy_or_timed_attempts_is_not_a_loop() -> None:
    dlq = Queue("orders-dlq", seed=2)
    queue = Queue(
        "orders",
        seed=1,
        scheduler=dlq.scheduler,
        visibility_timeout=0,
        redrive_policy=RedrivePolicy(dead_letter_target=dlq, max_receive_count=5),
    )
    queue.map_to(Function("consume", failing))
    queue.send_message("order 1")
    queue.scheduler.run_until_idle()
    assert [fate.kind for fate in queue.fates] == ["moved_to_dlq"]
    assert queue.fates[0].at == 0.0
    assert dlq.count(MessageState.VISIBLE) == 1

    timed = Queue("timed", seed=3, visibility_timeout=0, message_retention_period=60)
    timed.map_to(Function("consume", failing, duration=0.25))
    timed.send_message("order 2")
    timed.scheduler.run_until_idle()
    assert [(fate.kind, fate.at) for fate in timed.fates] == [("expired", 60.0)]


@settings(max_examples=12, deadline=None)
@given(
    sends=st.integers(1, 4),
    fifo=st.booleans(),
    fail_every=st.integers(0, 3),
    batch_size=st.integers(1, 10),
    redrive=st.booleans(),
    duration=st.sampled_from([0.0, 0.0, 0.5]),
    seed=st.integers(0, 2**16),
)
def test_with_a_zero_visibility_timeout_every_message_ends_or_the_run_stops_by_name(
    sends: int,
    fifo: bool,
    fail_every: int,
    batch_size: int,
    redrive: bool,
    duration: float,
    seed: int,
) -> None:
    count = [0]
    batches: list[list[str]] = []

    def handler(event: Any, context: Any) -> Any:
        batches.append([record["messageId"] for record in event["Records"]])
        count[0] += 1
        if fail_every and count[0] % fail_every:
            raise RuntimeError("no")

    scheduler = Scheduler()
    dlq = Queue("dlq.fifo" if fifo else "dlq", scheduler=scheduler, seed=seed)
    queue = Queue(
        "q.fifo" if fifo else "q",
        scheduler=scheduler,
        seed=seed,
        visibility_timeout=0,
        message_retention_period=60,
        redrive_policy=RedrivePolicy(dead_letter_target=dlq, max_receive_count=3)
        if redrive
        else None,
    )
    function = Function("consume", handler, duration=duration)
    queue.map_to(function, SQSMappingConfig(batch_size=batch_size), seed=seed)
    sent = [
        queue.send_message(
            str(n), message_group_id="g" if fifo else None,
            message_deduplication_id=str(n) if fifo else None,
        ).message_id
        for n in range(sends)
    ]  # fmt: skip
    stopped: InvalidParameterValueError | None = None
    try:
        scheduler.run_until_idle()
    except InvalidParameterValueError as exc:
        stopped = exc
    if stopped is not None:
        assert stopped.parameter == "VisibilityTimeout"
        assert duration == 0.0
        assert not redrive
        assert scheduler.clock.now() == 0.0
        function.duration = 0.5
        scheduler.run_until_idle()
    assert sorted(fate.message_id for fate in queue.fates) == sorted(sent)
    assert function.in_flight == 0
    assert all(len(set(ids)) == len(ids) for ids in batches)  # never twice in one batch
