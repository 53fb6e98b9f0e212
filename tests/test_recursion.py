"""Recursive loop detection (reference 3.10): a loop of requests stops, the clock moves on.

A function whose code sends to what triggers it (its own SQS queue, an asynchronous invoke
of itself, a loop through other functions) is stopped the 17th time it would be invoked
in the same chain of requests, unless its ``RecursiveLoop`` is ``Allow``.  Without this,
an SQS loop ran at one instant for ever.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from invokemodels import (
    BackgroundEventInvoker,
    EventBus,
    EventInvokeConfig,
    EventInvoker,
    EventOutcomeKind,
    Function,
    History,
    Queue,
    QueueTarget,
    RedrivePolicy,
    Scheduler,
    Topic,
)
from invokemodels.core import Outcome
from invokemodels.core._chain import RECURSION_LIMIT, current
from invokemodels.exceptions import InvalidParameterValueError


def test_an_asynchronous_self_invoke_stops_after_16_invocations() -> None:
    scheduler = Scheduler()
    hops: list[int] = []
    failures = QueueTarget()

    def handler(event: Any, context: Any) -> None:
        hops.append(event["hop"])
        invoker.invoke({"hop": event["hop"] + 1})

    invoker = EventInvoker(
        Function("again", handler),
        scheduler=scheduler,
        config=EventInvokeConfig(on_failure=failures),
    )
    invoker.invoke({"hop": 1})
    scheduler.run_until_idle()  # it ends: before, the loop never went idle
    assert hops == list(range(1, RECURSION_LIMIT + 1))
    kinds = [outcome.kind for outcome in invoker.outcomes]
    assert kinds == [EventOutcomeKind.SUCCEEDED] * 16 + [EventOutcomeKind.RECURSIVE_LOOP]
    stopped = invoker.outcomes[-1]
    assert stopped.condition == "RecursiveInvocationException"
    assert stopped.approximate_invoke_count == 0
    assert invoker.metrics.recursive_invocations_dropped == 1
    assert invoker.metrics.as_dict()["RecursiveInvocationsDropped"] == 1
    [record] = failures.records
    assert record["requestContext"]["condition"] == "RecursiveInvocationException"
    assert record["requestPayload"] == {"hop": 17}


def test_allow_lets_the_loop_run() -> None:
    scheduler = Scheduler()
    calls = [0]

    def handler(event: Any, context: Any) -> None:
        calls[0] += 1
        invoker.invoke({})

    function = Function("again", handler, recursive_loop="Allow")
    invoker = EventInvoker(function, scheduler=scheduler)
    invoker.invoke({})
    scheduler.run(until=1.0)
    assert calls[0] > 100
    assert invoker.metrics.recursive_invocations_dropped == 0


def test_recursive_loop_is_checked() -> None:
    with pytest.raises(InvalidParameterValueError, match=r"^RecursiveLoop='Stop' is invalid"):
        Function("f", lambda event, context: None, recursive_loop="Stop")


def test_a_loop_through_two_functions_stops_the_first_to_reach_16() -> None:
    scheduler = Scheduler()
    order: list[str] = []

    def ping(event: Any, context: Any) -> None:
        order.append("ping")
        pongs.invoke({})

    def pong(event: Any, context: Any) -> None:
        order.append("pong")
        pings.invoke({})

    pings = EventInvoker(Function("ping", ping), scheduler=scheduler)
    pongs = EventInvoker(Function("pong", pong), scheduler=scheduler)
    pings.invoke({})
    scheduler.run_until_idle()
    assert order == ["ping", "pong"] * 16
    assert pings.outcomes[-1].kind is EventOutcomeKind.RECURSIVE_LOOP
    assert pongs.metrics.recursive_invocations_dropped == 0


def test_what_is_sent_from_outside_a_handler_starts_a_new_chain() -> None:
    assert current() == ()
    queue = Queue("orders", seed=1)
    queue.send_message("hello")
    [message] = queue.receive_messages()
    assert message.chain == ()


def test_an_sqs_loop_stops_and_the_message_follows_the_redrive_policy() -> None:
    scheduler = Scheduler()
    dlq = Queue("loop-dlq", scheduler=scheduler, seed=2)
    queue = Queue(
        "loop",
        scheduler=scheduler,
        seed=1,
        redrive_policy=RedrivePolicy(dead_letter_target=dlq, max_receive_count=3),
    )
    calls = [0]

    def handler(event: Any, context: Any) -> None:
        calls[0] += 1
        queue.send_message(event["Records"][0]["body"])

    history = History()
    mapping = queue.map_to(Function("loop", handler), history=history)
    queue.send_message("ping")
    scheduler.run_until_idle()  # before, it ran at t=0 for ever
    assert calls[0] == RECURSION_LIMIT
    # The 17th message is not delivered: it comes back after the visibility timeout (30 s),
    # is stopped again, and moves to the dead-letter queue on its 4th receive.
    assert mapping.recursive_invocations_dropped == 3
    assert [fate.kind for fate in queue.fates][-1] == "moved_to_dlq"
    [moved] = dlq.receive_messages()
    assert len(moved.chain) == RECURSION_LIMIT
    stopped = [span for span in history.spans() if span.error_type is not None]
    assert [span.error_type for span in stopped] == ["RecursiveInvocationException"] * 3
    assert all(span.outcome is Outcome.FUNCTION_ERROR for span in stopped)
    assert [span.started_at for span in stopped] == [0.0, 30.0, 60.0]


def test_an_sqs_loop_without_a_redrive_policy_ends_when_the_message_expires() -> None:
    queue = Queue("loop", seed=1, message_retention_period=600)

    def handler(event: Any, context: Any) -> None:
        queue.send_message("again")

    mapping = queue.map_to(Function("loop", handler))
    queue.send_message("ping")
    queue.scheduler.run_until_idle()
    assert mapping.invocations == RECURSION_LIMIT
    assert mapping.recursive_invocations_dropped == 20  # every 30 s for 600 s
    assert queue.fates[-1].kind == "expired"
    assert queue.scheduler.clock.now() == 600.0


def test_the_chain_follows_a_handler_on_the_real_clock() -> None:
    calls: list[str] = []
    lock = threading.Lock()

    def handler(event: Any, context: Any) -> None:
        with lock:
            calls.append(context.aws_request_id)
        events.invoke({})

    events = BackgroundEventInvoker(Function("again", handler), time_scale=0.001)
    try:
        events.invoke({})
        assert events.drain(timeout=10.0)
    finally:
        events.close()
    assert len(calls) == RECURSION_LIMIT
    kinds = [outcome.kind for outcome in events.outcomes]
    assert kinds.count(EventOutcomeKind.RECURSIVE_LOOP) == 1
    assert kinds.count(EventOutcomeKind.SUCCEEDED) == RECURSION_LIMIT


@settings(max_examples=20, deadline=None)
@given(ring=st.integers(1, 3), allow=st.sampled_from([None, 0, 1, 2]))
def test_a_ring_of_functions_stops_once_and_nothing_runs_more_than_16_times(
    ring: int, allow: int | None
) -> None:
    # A ring of Event functions, each invoking the next; one of them (``allow``) may be
    # allowed to loop, the others stop the ring at their 17th invocation.
    scheduler = Scheduler()
    calls = [0] * ring
    invokers: list[EventInvoker] = []

    def make(index: int) -> Any:
        def handler(event: Any, context: Any) -> None:
            calls[index] += 1
            invokers[(index + 1) % ring].invoke({})

        return handler

    for index in range(ring):
        mode = "Allow" if allow == index else "Terminate"
        invokers.append(
            EventInvoker(
                Function(f"f{index}", make(index), recursive_loop=mode), scheduler=scheduler
            )
        )
    invokers[0].invoke({})
    if ring == 1 and allow == 0:
        scheduler.run(until=1.0)  # a function allowed to call itself runs on
        assert calls[0] > RECURSION_LIMIT
        return
    scheduler.run_until_idle()
    # The function that stops the ring ran 16 times; one allowed to loop may run once more.
    for index, count in enumerate(calls):
        assert RECURSION_LIMIT - 1 <= count <= RECURSION_LIMIT + (index == allow)
    assert RECURSION_LIMIT in calls
    stopped = [
        outcome
        for invoker in invokers
        for outcome in invoker.outcomes
        if outcome.kind is EventOutcomeKind.RECURSIVE_LOOP
    ]
    assert len(stopped) == 1
    assert all(invoker.pending == 0 for invoker in invokers)


def test_an_sns_loop_is_stopped_and_an_eventbridge_loop_is_not() -> None:
    # Lambda detects loops through SNS (and SQS, S3, Lambda), not through EventBridge.
    scheduler = Scheduler()
    topic = Topic("loop", scheduler=scheduler, seed=1)
    published = [0]

    def republish(event: Any, context: Any) -> None:
        published[0] += 1
        topic.publish(event["Records"][0]["Sns"]["Message"])

    subscription = topic.subscribe(Function("republish", republish))
    topic.publish("ping")
    scheduler.run_until_idle()
    assert published[0] == RECURSION_LIMIT
    assert subscription.invoker.metrics.recursive_invocations_dropped == 1

    bus = EventBus(scheduler=scheduler, seed=2)
    forwarded = [0]

    def forward(event: Any, context: Any) -> None:
        forwarded[0] += 1
        if forwarded[0] < 40:  # a loop Lambda does not stop: this one stops itself
            bus.put_events([{"Source": "loop", "DetailType": "Again", "Detail": "{}"}])

    bus.put_rule("loop", event_pattern={"source": ["loop"]}, targets=[Function("fwd", forward)])
    bus.put_events([{"Source": "loop", "DetailType": "Again", "Detail": "{}"}])
    scheduler.run_until_idle()
    assert forwarded[0] == 40
