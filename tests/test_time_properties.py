"""Time never stops: at any float time, every model goes idle, the clock only moves forward,
and every event, message and record ends in exactly one recorded outcome.

Off-grid times (a send at 2.559826087..., a window opened at 31.31903458274959) once left a
retry or a window's end a hair past the tick the scheduler woke at: the model saw nothing
due and asked for the same tick again, forever.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from invokemodels import (
    EventInvokeConfig,
    EventInvoker,
    EventRetryPolicy,
    Function,
    FunctionErrorRetries,
    KinesisStream,
    Queue,
    Scheduler,
    SQSMappingConfig,
    StreamMappingConfig,
    Table,
    ThrottleBackoff,
)

MAX_STEPS = 50_000
times = st.floats(0, 1e4, allow_nan=False, allow_infinity=False, allow_subnormal=False)
reserved = st.sampled_from([None, 0, 1])
durations = st.one_of(st.just(0.0), st.floats(0, 3, allow_subnormal=False))


def run_to_idle(sched: Scheduler) -> None:
    """Step the scheduler to idle, checking that the clock never goes back."""
    last = sched.now
    steps = 0
    while sched.step():
        steps += 1
        assert sched.now >= last
        last = sched.now
        assert steps < MAX_STEPS, f"still busy at {sched.now!r}"
    assert sched.run_until_idle(max_steps=1) == 0


def failing(every: int) -> Any:
    calls = 0

    def handler(event: Any, context: Any) -> Any:
        nonlocal calls
        calls += 1
        if every and calls % every == 0:
            raise RuntimeError("fails now and then")
        return None

    return handler


@settings(max_examples=100)
@given(
    at=st.lists(times, min_size=1, max_size=6),
    concurrency=reserved,
    duration=durations,
    fail_every=st.integers(0, 3),
    jitter=st.floats(0, 100, allow_subnormal=False),
    initial=st.floats(0.001, 5, allow_subnormal=False),
    throttle_jitter=st.floats(0, 1),
    age=st.integers(60, 400),
    seed=st.integers(0, 2**16),
)
def test_event_model_goes_idle_at_any_time(
    at: list[float],
    concurrency: int | None,
    duration: float,
    fail_every: int,
    jitter: float,
    initial: float,
    throttle_jitter: float,
    age: int,
    seed: int,
) -> None:
    sched = Scheduler()
    fn = Function(
        "f", failing(fail_every), duration=duration, timeout=5, reserved_concurrency=concurrency
    )
    policy = EventRetryPolicy(
        function_errors=FunctionErrorRetries(delays=(0.5, 1 / 3), jitter=jitter),
        throttles=ThrottleBackoff(initial=initial, factor=1.5, cap=7.3, jitter=throttle_jitter),
        maximum_event_age=age,
    )
    invoker = EventInvoker(
        fn,
        config=EventInvokeConfig(maximum_event_age=age),
        retry_policy=policy,
        scheduler=sched,
        seed=seed,
    )
    ids: list[str] = []
    for when in at:
        sched.at(when, lambda: ids.append(invoker.invoke({}).request_id))
    run_to_idle(sched)
    assert invoker.pending == 0
    assert sorted(o.request_id for o in invoker.outcomes) == sorted(ids)
    for outcome in invoker.outcomes:
        # The last attempt starts before the maximum age and may run up to its timeout.
        assert outcome.enqueued_at <= outcome.ended_at <= outcome.enqueued_at + age + 5
    assert fn.in_flight == 0


@settings(max_examples=100)
@given(
    at=st.lists(times, min_size=1, max_size=8),
    fifo=st.booleans(),
    concurrency=reserved,
    duration=durations,
    fail_every=st.integers(0, 3),
    batch_size=st.integers(1, 10),
    window=st.integers(0, 5),
    visibility=st.integers(1, 40),
    seed=st.integers(0, 2**16),
)
def test_sqs_mapping_goes_idle_at_any_time(
    at: list[float],
    fifo: bool,
    concurrency: int | None,
    duration: float,
    fail_every: int,
    batch_size: int,
    window: int,
    visibility: int,
    seed: int,
) -> None:
    sched = Scheduler()
    name = "t.fifo" if fifo else "t"
    q = Queue(
        name,
        scheduler=sched,
        seed=seed,
        visibility_timeout=visibility,
        message_retention_period=60,
    )
    fn = Function(
        "f", failing(fail_every), duration=duration, timeout=5, reserved_concurrency=concurrency
    )
    config = SQSMappingConfig(batch_size=batch_size, maximum_batching_window=0 if fifo else window)
    q.map_to(fn, config, seed=seed)
    sent: list[str] = []

    def send(n: int) -> None:
        group, dedup = (str(n % 2), str(n)) if fifo else (None, None)
        result = q.send_message(str(n), message_group_id=group, message_deduplication_id=dedup)
        sent.append(result.message_id)

    for n, when in enumerate(at):
        sched.at(when, send, n)
    run_to_idle(sched)
    terminal = [e.message_id for e in q.events if e.kind in {"deleted", "moved_to_dlq", "expired"}]
    assert sorted(terminal) == sorted(sent)
    assert sorted(e.message_id for e in q.fates) == sorted(sent)
    assert fn.in_flight == 0


@settings(max_examples=100)
@given(
    at=st.lists(times, min_size=1, max_size=8),
    dynamodb=st.booleans(),
    concurrency=reserved,
    duration=durations,
    fail_every=st.integers(0, 3),
    batch_size=st.integers(1, 5),
    window=st.sampled_from([None, 0, 1, 2]),
    retry_delay=st.one_of(st.none(), st.floats(0.5, 30, allow_subnormal=False)),
    retries=st.sampled_from([-1, 0, 2]),
    seed=st.integers(0, 2**16),
)
def test_stream_mapping_goes_idle_at_any_time(
    at: list[float],
    dynamodb: bool,
    concurrency: int | None,
    duration: float,
    fail_every: int,
    batch_size: int,
    window: int | None,
    retry_delay: float | None,
    retries: int,
    seed: int,
) -> None:
    sched = Scheduler()
    fn = Function(
        "f", failing(fail_every), duration=duration, timeout=5, reserved_concurrency=concurrency
    )
    # A record age bounds throttles and infinite retries well before the 24 h retention.
    config = StreamMappingConfig(
        starting_position="TRIM_HORIZON",
        batch_size=batch_size,
        maximum_batching_window=window,
        maximum_retry_attempts=retries,
        maximum_record_age=60,
    )
    writes: list[Any] = []
    if dynamodb:
        table = Table("tbl", key_schema="Id", scheduler=sched, seed=seed)
        mapping = table.map_to(fn, config, seed=seed, retry_delay=retry_delay)

        def write(n: int) -> None:
            table.put_item({"Id": {"S": str(n)}})
            writes.append(n)

    else:
        stream = KinesisStream("s", scheduler=sched)
        mapping = stream.map_to(fn, config, seed=seed, retry_delay=retry_delay)

        def write(n: int) -> None:
            stream.put_record(str(n), f"k{n % 3}")
            writes.append(n)

    for n, when in enumerate(at):
        sched.at(when, write, n)
    run_to_idle(sched)
    poller = mapping.poller
    ended = [(o.shard_id, o.sequence_number) for o in poller.outcomes]
    assert len(ended) == len(set(ended)) == len(writes)
    assert poller.pending == 0
    assert fn.in_flight == 0
