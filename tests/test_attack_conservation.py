"""Conservation under attack: handlers that do anything, destinations that fail, off-grid times.

Whatever a handler does (return, raise any `BaseException`, return what cannot be
serialised, run past its timeout) and whatever a destination does (deliver, or raise), every
event, message and record ends in exactly one recorded outcome, the concurrency slots come
back, and the clock only moves forward.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from invokemodels import (
    EventInvokeConfig,
    EventInvoker,
    EventOutcomeKind,
    Function,
    KinesisStream,
    Queue,
    QueueTarget,
    RedrivePolicy,
    Scheduler,
    SQSMappingConfig,
    StreamMappingConfig,
)
from tests.test_time_properties import run_to_idle, times


class Unprintable(Exception):
    def __str__(self) -> str:
        raise RuntimeError("no str")


class Custom(BaseException):
    pass


class Unserialisable(dict[str, Any]):
    def items(self) -> Any:
        raise RuntimeError("no items")


def _raise(exc: BaseException) -> Callable[[Any], Any]:
    def act(context: Any) -> Any:
        raise exc

    return act


# What one call of the handler does, keyed for readable Hypothesis output.
ACTIONS: dict[str, Callable[[Any], Any]] = {
    "return": lambda context: {"ok": True},
    "return-none": lambda context: None,
    "raise": _raise(RuntimeError("boom")),
    "exit": _raise(SystemExit(3)),
    "interrupt": _raise(KeyboardInterrupt()),
    "generator-exit": _raise(GeneratorExit()),
    "custom-base": _raise(Custom()),
    "unprintable": _raise(Unprintable()),
    "unserialisable": lambda context: Unserialisable(a=1),
    "object": lambda context: object(),
    "overrun": lambda context: context.spend(10.0),  # past the 5 s timeout
}
script = st.lists(st.sampled_from(sorted(ACTIONS)), min_size=1, max_size=12)


def scripted(actions: list[str]) -> Any:
    """A handler that does ``actions[i % len]`` on its i-th call."""
    calls = 0

    def handler(event: Any, context: Any) -> Any:
        nonlocal calls
        action = ACTIONS[actions[calls % len(actions)]]
        calls += 1
        return action(context)

    return handler


@attrs.define
class Flaky:
    """A destination (and dead-letter queue) that raises on some deliveries."""

    fail_every: int
    name: str = "flaky"
    delivered: list[Any] = attrs.field(factory=list)
    calls: int = 0

    @property
    def arn(self) -> str:
        return f"arn:aws:sqs:us-east-1:123456789012:{self.name}"

    def _maybe_fail(self) -> None:
        self.calls += 1
        if self.fail_every and self.calls % self.fail_every == 0:
            raise ConnectionError("destination unavailable")

    def deliver(self, record: dict[str, Any], delivery: Any) -> None:
        self._maybe_fail()
        self.delivered.append(record)

    def send_message(self, body: str, attributes: Any = None) -> None:
        self._maybe_fail()
        self.delivered.append(body)


@settings(max_examples=100)
@given(
    actions=script,
    at=st.lists(times, min_size=1, max_size=6),
    concurrency=st.sampled_from([None, 0, 1]),
    retries=st.integers(0, 2),
    age=st.integers(60, 300),
    fail_every=st.integers(0, 3),
    seed=st.integers(0, 2**16),
)
def test_event_model_conserves_events_whatever_handlers_and_destinations_do(
    actions: list[str],
    at: list[float],
    concurrency: int | None,
    retries: int,
    age: int,
    fail_every: int,
    seed: int,
) -> None:
    sched = Scheduler()
    fn = Function("f", scripted(actions), timeout=5, reserved_concurrency=concurrency)
    on_success, on_failure = Flaky(fail_every, "ok"), Flaky(fail_every, "failed")
    dlq = Flaky(fail_every, "dlq")
    invoker = EventInvoker(
        fn,
        config=EventInvokeConfig(
            maximum_retry_attempts=retries,
            maximum_event_age=age,
            on_success=on_success,
            on_failure=on_failure,
        ),
        dead_letter=dlq,
        scheduler=sched,
        seed=seed,
    )
    ids: list[str] = []
    for when in at:
        sched.at(when, lambda: ids.append(invoker.invoke({"n": 1}).request_id))
    run_to_idle(sched)
    assert invoker.pending == 0
    assert sorted(o.request_id for o in invoker.outcomes) == sorted(ids)
    assert fn.in_flight == 0
    metrics = invoker.metrics
    failed = [o for o in invoker.outcomes if o.kind is not EventOutcomeKind.SUCCEEDED]
    succeeded = len(ids) - len(failed)
    # Every delivery was either made or recorded as a failure, never dropped silently.
    delivery_errors = sum(
        e.startswith("destination:") for o in invoker.outcomes for e in o.delivery_errors
    )
    assert delivery_errors == metrics.destination_delivery_failures
    assert len(on_success.delivered) + len(on_failure.delivered) + delivery_errors == len(ids)
    assert len(on_success.delivered) <= succeeded
    dead_letter_errors = sum(
        e.startswith("dead-letter:") for o in invoker.outcomes for e in o.delivery_errors
    )
    assert dead_letter_errors == metrics.dead_letter_errors
    assert len(dlq.delivered) + dead_letter_errors == len(failed)


@settings(max_examples=60)
@given(
    actions=script,
    at=st.lists(times, min_size=1, max_size=8),
    concurrency=st.sampled_from([None, 0, 1]),
    redrive=st.one_of(st.none(), st.integers(1, 3)),
    report=st.booleans(),
    batch_size=st.integers(1, 4),
    window=st.integers(0, 3),
    seed=st.integers(0, 2**16),
)
def test_sqs_mapping_conserves_messages_whatever_handlers_do(
    actions: list[str],
    at: list[float],
    concurrency: int | None,
    redrive: int | None,
    report: bool,
    batch_size: int,
    window: int,
    seed: int,
) -> None:
    sched = Scheduler()
    dlq = Queue("dlq", scheduler=sched, seed=seed)
    policy = (
        None
        if redrive is None
        else RedrivePolicy(dead_letter_target=dlq, max_receive_count=redrive)
    )
    q = Queue(
        "q",
        scheduler=sched,
        seed=seed,
        visibility_timeout=7,
        message_retention_period=60,
        redrive_policy=policy,
    )
    fn = Function("f", scripted(actions), timeout=5, reserved_concurrency=concurrency)
    config = SQSMappingConfig(
        batch_size=batch_size,
        maximum_batching_window=window,
        function_response_types=["ReportBatchItemFailures"] if report else [],
    )
    q.map_to(fn, config, seed=seed)
    sent: list[str] = []
    for n, when in enumerate(at):
        sched.at(when, lambda n=n: sent.append(q.send_message(str(n)).message_id))
    run_to_idle(sched)
    terminal = [e.message_id for e in q.events if e.kind in {"deleted", "moved_to_dlq", "expired"}]
    assert sorted(terminal) == sorted(sent)
    moved = [e.message_id for e in q.fates if e.kind == "moved_to_dlq"]
    assert sorted(dlq.message_ids) == sorted(moved)
    assert fn.in_flight == 0


@settings(max_examples=60)
@given(
    actions=script,
    at=st.lists(times, min_size=1, max_size=8),
    concurrency=st.sampled_from([None, 0, 1]),
    retries=st.sampled_from([-1, 0, 1]),
    bisect=st.booleans(),
    fail_every=st.integers(0, 2),
    seed=st.integers(0, 2**16),
)
def test_stream_mapping_conserves_records_whatever_handlers_and_destinations_do(
    actions: list[str],
    at: list[float],
    concurrency: int | None,
    retries: int,
    bisect: bool,
    fail_every: int,
    seed: int,
) -> None:
    sched = Scheduler()
    stream = KinesisStream("s", scheduler=sched, shard_count=2)
    fn = Function("f", scripted(actions), timeout=5, reserved_concurrency=concurrency)
    destination = Flaky(fail_every)
    config = StreamMappingConfig(
        starting_position="TRIM_HORIZON",
        batch_size=3,
        maximum_retry_attempts=retries,
        maximum_record_age=60,
        bisect_batch_on_function_error=bisect,
        on_failure=destination,
    )
    mapping = stream.map_to(fn, config, seed=seed)
    put: list[tuple[str, str]] = []

    def write(n: int) -> None:
        result = stream.put_record(str(n), f"key-{n % 3}")
        put.append((result["ShardId"], result["SequenceNumber"]))

    for n, when in enumerate(at):
        sched.at(when, write, n)
    run_to_idle(sched)
    poller = mapping.poller
    ended = sorted((o.shard_id, o.sequence_number) for o in poller.outcomes)
    assert ended == sorted(put)
    built = len(poller.failure_records)
    assert len(destination.delivered) + mapping.destination_delivery_failures == built
    assert len(mapping.delivery_errors) == mapping.destination_delivery_failures
    assert fn.in_flight == 0


@pytest.mark.parametrize("interrupt", [KeyboardInterrupt(), SystemExit(3)])
def test_an_interrupt_from_a_destination_is_raised_after_the_outcome_is_recorded(
    interrupt: BaseException,
) -> None:
    sched = Scheduler()

    @attrs.define
    class Interrupting:
        arn: str = "arn:aws:sqs:us-east-1:123456789012:interrupting"

        def deliver(self, record: dict[str, Any], delivery: Any) -> None:
            raise interrupt

    dlq = QueueTarget("dlq")

    def fails(event: Any, context: Any) -> None:
        raise RuntimeError("x")

    invoker = EventInvoker(
        Function("f", fails),
        config=EventInvokeConfig(maximum_retry_attempts=0, on_failure=Interrupting()),
        dead_letter=dlq,
        scheduler=sched,
        seed=1,
    )
    request_id = invoker.invoke({}).request_id
    with pytest.raises(type(interrupt)):
        sched.run_until_idle()
    outcome = invoker.outcome(request_id)
    assert outcome.kind is EventOutcomeKind.RETRIES_EXHAUSTED
    assert outcome.delivery_errors == (f"destination: {type(interrupt).__name__}: {interrupt}",)
    assert invoker.metrics.destination_delivery_failures == 1
    assert len(dlq.records) == 1  # the dead-letter queue still got the event
    assert invoker.pending == 0


def test_a_stream_destination_that_raises_does_not_stop_the_mapping() -> None:
    sched = Scheduler()
    stream = KinesisStream("s", scheduler=sched)
    destination = Flaky(fail_every=1)

    def fails(event: Any, context: Any) -> None:
        raise RuntimeError("poison")

    config = StreamMappingConfig(
        starting_position="TRIM_HORIZON", maximum_retry_attempts=0, on_failure=destination
    )
    mapping = stream.map_to(Function("f", fails), config, seed=1)
    for n in range(3):
        stream.put_record(str(n), "key")
        sched.run_for(5)
    sched.run_until_idle()
    poller = mapping.poller
    assert [o.fate.name for o in poller.outcomes] == ["DISCARDED"] * 3
    assert mapping.destination_delivery_failures == len(poller.failure_records) == 3
    assert mapping.delivery_errors == ["ConnectionError: destination unavailable"] * 3
    assert destination.delivered == []
