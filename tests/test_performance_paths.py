"""The fast paths give what the plain paths give, and a long run keeps only what is in flight."""

from __future__ import annotations

import gc
import json
import math
import os
import random
import subprocess
import sys
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from invokemodels import (
    EventInvoker,
    Function,
    History,
    KinesisStream,
    Queue,
    RedrivePolicy,
    Scheduler,
    SQSMappingConfig,
    StreamMappingConfig,
)
from invokemodels.aws import MessageState
from invokemodels.aws._sqs import _Message
from invokemodels.core import Batch, encode_payload
from invokemodels.core._clock import TICKS_PER_SECOND, on_grid
from invokemodels.event._invoker import InlineExecutor, InMemoryServiceQueue, _Event
from invokemodels.exceptions import InvalidRequestContentError, ReceiptHandleIsInvalidError
from invokemodels.mapping import EventSourceMapping, StreamPoller

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# -- the scheduler's inlined run loop against `step` ---------------------------------------

programs = st.lists(
    st.tuples(
        st.integers(0, 50),  # delay in ms
        st.integers(0, 3),  # how many follow-ups the callback schedules
        st.booleans(),  # cancel the timer right away
    ),
    max_size=30,
)


def _play(program: list[tuple[int, int, bool]], *, fast: bool) -> tuple[list[Any], int]:
    sched = Scheduler()
    log: list[Any] = []

    def fire(label: str, follow: int) -> None:
        log.append((sched.now, label, sched.running))
        for k in range(follow):
            sched.schedule(k * 0.001, log.append, (sched.now, f"{label}.{k}"))

    for i, (delay, follow, cancel) in enumerate(program):
        timer = sched.schedule(delay / 1000, fire, str(i), follow)
        if cancel:
            timer.cancel()
    steps = sched.run_until_idle() if fast else sched.run_until_idle(max_steps=10**9)
    return log, steps


@given(programs)
def test_the_inlined_run_loop_runs_what_step_runs_in_the_same_order(
    program: list[tuple[int, int, bool]],
) -> None:
    assert _play(program, fast=True) == _play(program, fast=False)


# -- the scheduler's sorted run and same-instant line against one heap ----------------------

# Each step: (when in ms, absolute (at) or relative (schedule), follow-ups, cancel an earlier
# timer by index, how the program is driven: 0 run_until_idle, 1 step, 2 run(until)).
timer_programs = st.lists(
    st.tuples(
        st.integers(-5, 40),
        st.booleans(),
        st.lists(st.tuples(st.integers(-3, 10), st.booleans()), max_size=3),
        st.integers(-1, 30),
    ),
    max_size=30,
)


def _timers(
    program: list[tuple[int, bool, list[tuple[int, bool]], int]], drive: int, *, heap_only: bool
) -> list[Any]:
    sched = Scheduler()
    sched._sorted_run = not heap_only
    log: list[Any] = []
    timers: list[Any] = []

    def book(label: str, ms: int, absolute: bool, follow: list[tuple[int, bool]]) -> None:
        if absolute:
            timer = sched.at(ms / 1000, fire, label, follow)
        else:
            timer = sched.schedule(max(ms, 0) / 1000, fire, label, follow)
        timers.append(timer)

    def fire(label: str, follow: list[tuple[int, bool]]) -> None:
        log.append((sched.now, label, len(sched), sched.next_due()))
        for k, (ms, absolute) in enumerate(follow):
            book(f"{label}.{k}", ms + int(sched.now * 1000), absolute, [])

    for i, (ms, absolute, follow, cancel) in enumerate(program):
        book(str(i), ms, absolute, follow)
        if 0 <= cancel < len(timers):
            timers[cancel].cancel()
    if drive == 1:
        while sched.step():
            log.append(("step", sched.now, len(sched)))
    elif drive == 2:
        for until in (0.005, 0.012, 0.012, 0.03):
            sched.run(until=until)
            log.append(("until", sched.now, len(sched), sched.quiet_until(sched.now + 0.002)))
        sched.run_until_idle()
    else:
        log.append(("steps", sched.run_until_idle()))
    log.append(("end", sched.now, len(sched), sched.next_due()))
    return log


@given(timer_programs, st.integers(0, 2))
def test_the_sorted_run_and_the_same_instant_line_run_what_one_heap_runs(
    program: list[tuple[int, bool, list[tuple[int, bool]], int]], drive: int
) -> None:
    assert _timers(program, drive, heap_only=False) == _timers(program, drive, heap_only=True)


# -- a retried stream batch reuses its JSON text ---------------------------------------------


@attrs.define
class _EncodeEveryTime(StreamPoller):
    """The plain path: the loop encodes every batch itself."""

    def poll(self, now: float, capacity: int) -> list[Batch]:
        return [attrs.evolve(batch, request=None) for batch in super().poll(now, capacity)]


def _stream_run(fails: list[int], bisect: bool, *, plain: bool) -> tuple[list[Any], list[Any]]:
    sched = Scheduler()
    stream = KinesisStream("props", shard_count=2, scheduler=sched)
    for i in range(len(fails)):
        stream.put_record(json.dumps({"i": i}).encode(), f"key-{i % 3}")
    left = dict(enumerate(fails))

    def handler(event: Any, context: Any) -> None:
        for record in event["Records"]:
            i = json.loads(__import__("base64").b64decode(record["kinesis"]["data"]))["i"]
            if left[i]:
                left[i] -= 1
                raise RuntimeError(f"record {i} fails")

    config = StreamMappingConfig(
        starting_position="TRIM_HORIZON",
        batch_size=4,
        bisect_batch_on_function_error=bisect,
        maximum_retry_attempts=3,
    )
    kind = _EncodeEveryTime if plain else StreamPoller
    history = History()
    mapping = EventSourceMapping(
        Function("props", handler), kind(stream.log, config), sched, seed=3, history=history
    )
    mapping.start()
    sched.run_until_idle()
    spans = [attrs.evolve(span, request_id="") for span in history.spans()]
    outcomes = [(o.sequence_number, o.fate, o.at) for o in mapping.poller.outcomes]
    return spans, outcomes


@given(st.lists(st.integers(0, 3), min_size=1, max_size=12), st.booleans())
@settings(max_examples=40)
def test_a_retried_batch_reusing_its_json_has_the_history_of_one_encoded_each_time(
    fails: list[int], bisect: bool
) -> None:
    assert _stream_run(fails, bisect, plain=False) == _stream_run(fails, bisect, plain=True)


# -- what a long run keeps -------------------------------------------------------------------


def test_an_sqs_mapping_keeps_nothing_per_message_after_a_drain() -> None:
    sched = Scheduler()
    # A seed no other test uses: ids are drawn from it, and the check below looks them up.
    dlq = Queue("keep-dlq", scheduler=sched, seed=141_421, keep_events=False)
    queue = Queue(
        "keep",
        scheduler=sched,
        seed=141_421,
        keep_events=False,
        redrive_policy=RedrivePolicy(dead_letter_target=dlq, max_receive_count=2),
    )
    rng = random.Random(5)

    def handler(event: Any, context: Any) -> None:
        if rng.random() < 0.3:
            raise RuntimeError("batch fails")

    queue.map_to(
        Function("keep", handler), SQSMappingConfig(batch_size=10), history=History(keep=False)
    )
    peak = 0
    sent: set[str] = set()
    for second in range(30):
        for i in range(200):
            sent.add(queue.send_message(json.dumps({"second": second, "i": i})).message_id)
        sched.run(until=sched.now + 1.0)
        peak = max(peak, len(queue._messages))
        # The heaps follow the live messages, not every message ever sent.
        assert len(queue._expiry) <= 2 * len(queue._messages) + 256
        assert len(queue._pending) <= 2 * len(queue._messages) + 256
    sched.run_until_idle()
    counts = queue.counts()
    assert counts[MessageState.DELETED] + counts[MessageState.MOVED_TO_DLQ] == 6000
    assert counts[MessageState.MOVED_TO_DLQ] > 0
    assert peak < 6000
    assert queue._fates == {}
    assert queue._sent == []
    assert queue._messages == {}
    assert queue.fates == []
    assert queue.message_ids == []
    # What is left alive of them are the dead-letter queue's copies, still live there.
    gc.collect()
    held = {id(m) for m in dlq._messages.values()}
    left = [
        m
        for m in gc.get_objects()
        if type(m) is _Message and m.message_id in sent and id(m) not in held
    ]
    assert left == []
    assert len(held) == dlq.count(MessageState.VISIBLE) > 0


def test_receipt_handles_are_recognised_without_being_kept() -> None:
    sched = Scheduler()
    queue = Queue("handles", scheduler=sched, seed=2, keep_events=False)
    sent = queue.send_message("body")
    [first] = queue.receive_messages()
    sched.run_for(31)
    [second] = queue.receive_messages()
    assert queue.delete_message(first.receipt_handle) is False  # stale
    assert queue.delete_message(second.receipt_handle) is True
    assert queue.delete_message(second.receipt_handle) is False  # already gone
    assert not queue.is_in_flight(second.receipt_handle)
    forged = second.receipt_handle[:-6] + (
        "AAAAAA" if second.receipt_handle[-6:] != "AAAAAA" else "BBBBBB"
    )
    with pytest.raises(ReceiptHandleIsInvalidError, match="not a valid receipt handle"):
        queue.delete_message(forged)
    with pytest.raises(KeyError, match="keep_fates=False"):
        queue.state_of(sent.message_id)
    assert queue.fate(sent.message_id) is None
    other = Queue("other", scheduler=sched, seed=2)
    with pytest.raises(ReceiptHandleIsInvalidError):
        other.delete_message(second.receipt_handle)  # another queue never issued it


def test_an_event_invoker_keeps_nothing_per_event_after_a_drain() -> None:
    sched = Scheduler()
    rng = random.Random(9)

    def handler(event: Any, context: Any) -> None:
        if rng.random() < 0.3:
            raise RuntimeError("fails")

    invoker = EventInvoker(
        Function("keep", handler),
        scheduler=sched,
        seed=1,
        keep_records=False,
        history=History(keep=False),
        invoke_rate_factor=None,
    )
    for i in range(3000):
        sched.at(i * 0.001, invoker.invoke, {"order": i})
    sched.run_until_idle()
    assert invoker.metrics.async_events_received == 3000
    assert invoker.pending == 0
    assert len(invoker.queue) == 0
    assert invoker._timer is None
    assert len(sched) == 0
    assert len(sched._heap) == 0
    assert len(sched._run) == len(sched._soon) == 0
    gc.collect()
    assert [e for e in gc.get_objects() if type(e) is _Event and e.invoker is invoker] == []


def test_the_benchmark_runner_prints_the_table_in_quick_mode() -> None:
    out = subprocess.run(
        [sys.executable, os.path.join(ROOT, "benchmarks", "run.py"), "--quick"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    assert "| measure |" in out
    assert "Python" in out
    for measure in ("SQS mapping", "Event model", "blocked stream shard", "RequestResponse"):
        assert measure in out, measure


# -- the strict JSON check and on_grid's fast path -------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=10,
)


def _plain_check(text: str) -> str:
    """What the check said before it had a fast path: json.loads with a refusing
    parse_constant."""

    def refuse(name: str) -> Any:
        msg = f"{name} is not a JSON value"
        raise ValueError(msg)

    try:
        json.loads(text, parse_constant=refuse)
    except (ValueError, RecursionError) as exc:
        return f"Could not parse request body into json: {exc}"
    return "ok"


@given(
    json_values,
    st.sampled_from(["", " ", "\n", "\ufeff"]),
    st.sampled_from(["", " ", "x", "]", " NaN", "Infinity"]),
)
def test_the_prebuilt_strict_decoder_accepts_and_refuses_what_json_loads_does(
    value: Any, before: str, after: str
) -> None:
    text = before + json.dumps(value, separators=(",", ":")) + after
    try:
        encode_payload(text.encode(), limit=None)
        got = "ok"
    except InvalidRequestContentError as exc:
        got = str(exc).split(": ", 1)[1]
    assert got == _plain_check(text)


def _plain_on_grid(value: float, *, up: bool) -> float:
    """on_grid as it was before its fast path (finite floats)."""
    scaled = value * TICKS_PER_SECOND
    if not math.isfinite(scaled):
        return math.inf if value > 0 else -math.inf
    ticks = round(scaled)
    reading = ticks / TICKS_PER_SECOND
    if up and reading < value:
        numerator, denominator = value.as_integer_ratio()
        reading = -(-numerator * TICKS_PER_SECOND // denominator) / TICKS_PER_SECOND
    return reading


@given(st.floats(allow_nan=False, allow_infinity=False), st.booleans())
def test_on_grid_fast_path_gives_what_the_plain_path_gives(seconds: float, up: bool) -> None:
    assert on_grid(seconds, up=up) == _plain_on_grid(seconds, up=up)
    if math.isfinite(on_grid(seconds, up=up)) and up:
        assert on_grid(seconds, up=True) >= seconds


# -- the Event model's inline path against the executor protocol -------------------------------


class _ThroughTheHandle:
    """The plain path: every try through the `AttemptHandle` protocol, as any executor."""

    def submit(self, attempt: Any, now: float) -> None:
        if not attempt.start(now):
            return
        try:
            result = attempt.run()
        except BaseException:
            attempt.abandon()
            raise
        attempt.finish(result)


class _NeverQuiet(Scheduler):
    """The plain path of a lone sync invoke: the scheduler never says it is quiet."""

    def quiet_until(self, when: float) -> bool:
        return False


class _OwnQueue(InMemoryServiceQueue[Any]):
    """A service queue of another type: the dispatcher calls its `take` / `next_ready_at`."""


event_runs = st.fixed_dictionaries(
    {
        "fails": st.lists(st.integers(0, 3), min_size=1, max_size=25),
        "durations": st.lists(st.sampled_from([0.0, 0.0, 0.5, 1.0, 2.5]), min_size=1),
        "reserved": st.sampled_from([None, None, 1, 2]),
        "max_in_flight": st.sampled_from([None, None, 1, 3]),
        "up_front": st.booleans(),
        "gap_ms": st.sampled_from([0, 1, 500, 1000]),
        "service_errors": st.sampled_from([0.0, 0.0, 0.2]),
        "duplicates": st.sampled_from([0.0, 0.0, 0.3]),
        "max_age": st.sampled_from([60, 90, 21600]),
    }
)


def _event_run(
    run: dict[str, Any],
    *,
    plain: bool,
    keep_records: bool,
    keep_history: bool,
    heap_only: bool = False,
    own_queue: bool = False,
) -> dict[str, Any]:
    from invokemodels import EventInvokeConfig

    sched = _NeverQuiet() if plain else Scheduler()
    sched._sorted_run = not heap_only
    left = dict(enumerate(run["fails"]))
    calls: list[Any] = []
    durations = run["durations"]

    def handler(event: Any, context: Any) -> Any:
        calls.append((sched.now, context.aws_request_id, event["i"], context.memory_limit_in_mb))
        context.spend(durations[len(calls) % len(durations)])
        if left[event["i"]]:
            left[event["i"]] -= 1
            raise RuntimeError(f"event {event['i']} fails")
        return None if event["i"] % 2 else {"i": event["i"]}

    invoker = EventInvoker(
        Function("paths", handler, reserved_concurrency=run["reserved"], timeout=2),
        config=EventInvokeConfig(maximum_event_age=run["max_age"]),
        scheduler=sched,
        seed=5,
        keep_records=keep_records,
        history=History(keep=keep_history),
        max_in_flight=run["max_in_flight"],
        service_error_probability=run["service_errors"],
        duplicate_probability=run["duplicates"],
        executor=_ThroughTheHandle() if plain else InlineExecutor(),
        invoke_rate_factor=None,
        queue=_OwnQueue() if own_queue else InMemoryServiceQueue(),
    )
    ids = []
    for i in range(len(run["fails"])):
        at = i * run["gap_ms"] / 1000
        if run["up_front"]:
            sched.at(at, lambda i=i: ids.append(invoker.invoke({"i": i}).request_id))
        else:
            sched.run(until=at)
            ids.append(invoker.invoke({"i": i}).request_id)
    sched.run_until_idle()
    assert invoker.function.in_flight == 0
    assert invoker.pending == 0
    return {
        "ids": ids,
        "calls": calls,
        "metrics": attrs.asdict(invoker.metrics),
        "now": sched.now,
        "spans": invoker.history.spans() if keep_history else None,
        "outcomes": [
            (o.request_id, o.kind, o.condition, o.approximate_invoke_count, o.ended_at, o.duplicate)
            for o in invoker.outcomes
        ]
        if keep_records
        else None,
    }


@given(event_runs)
@settings(max_examples=60, deadline=None)
def test_the_inline_dispatch_gives_what_the_executor_protocol_gives(run: dict[str, Any]) -> None:
    fast = _event_run(run, plain=False, keep_records=True, keep_history=True)
    assert fast == _event_run(run, plain=True, keep_records=True, keep_history=True)


@given(event_runs)
@settings(max_examples=60, deadline=None)
def test_the_event_fast_path_without_records_or_history_runs_what_recording_runs(
    run: dict[str, Any],
) -> None:
    recorded = _event_run(run, plain=True, keep_records=True, keep_history=True)
    quiet = _event_run(run, plain=False, keep_records=False, keep_history=False)
    for key in ("ids", "calls", "metrics", "now"):
        assert quiet[key] == recorded[key], key


@given(event_runs)
@settings(max_examples=60, deadline=None)
def test_the_event_model_on_the_sorted_run_gives_what_it_gives_on_one_heap(
    run: dict[str, Any],
) -> None:
    fast = _event_run(run, plain=False, keep_records=True, keep_history=True)
    one_heap = _event_run(run, plain=False, keep_records=True, keep_history=True, heap_only=True)
    assert fast == one_heap


@given(event_runs)
@settings(max_examples=60, deadline=None)
def test_the_dispatch_reading_the_default_queue_gives_what_its_methods_give(
    run: dict[str, Any],
) -> None:
    fast = _event_run(run, plain=False, keep_records=True, keep_history=True)
    called = _event_run(run, plain=False, keep_records=True, keep_history=True, own_queue=True)
    assert fast == called


# -- a lone synchronous invoke's shortcut against the scheduler's way -----------------------------


@given(
    st.lists(
        st.tuples(
            st.sampled_from([0.0, 0.0, 0.25, 1.0]),  # modelled duration
            st.booleans(),  # the handler fails
            st.sampled_from([None, 0.0, 0.25, 0.5, 3.0]),  # another timer, this far ahead
            st.sampled_from([None, 0.1, 0.5]),  # read timeout
        ),
        min_size=1,
        max_size=12,
    )
)
@settings(max_examples=60, deadline=None)
def test_a_lone_sync_invoke_ends_as_the_scheduler_would_end_it(
    calls: list[tuple[float, bool, float | None, float | None]],
) -> None:
    from invokemodels import RequestResponseInvoker

    def play(plain: bool) -> list[Any]:
        sched = _NeverQuiet() if plain else Scheduler()
        log: list[Any] = []

        def handler(event: Any, context: Any) -> Any:
            context.spend(event["duration"])
            if event["fails"]:
                raise ValueError("no")
            return {"at": sched.now}

        invoker = RequestResponseInvoker(Function("sync", handler), scheduler=sched, seed=3)
        for duration, fails, other, read_timeout in calls:
            if other is not None:
                sched.schedule(other, lambda: log.append(("timer", sched.now)))
            pending = invoker.call(
                {"duration": duration, "fails": fails}, read_timeout=read_timeout
            )
            log.append(
                (sched.now, pending.response, pending.started_at, pending.ended_at,
                 invoker.function.in_flight)
            )  # fmt: skip
        sched.run_until_idle()
        log.append((sched.now, invoker.function.in_flight, invoker.history.spans()))
        return log

    assert play(plain=False) == play(plain=True)


@given(programs, st.integers(0, 60))
def test_quiet_until_is_what_next_due_says(program: list[tuple[int, int, bool]], ms: int) -> None:
    sched = Scheduler()
    for i, (delay, _follow, cancel) in enumerate(program):
        timer = sched.schedule(delay / 1000, print, i)
        if cancel:
            timer.cancel()
    due = sched.next_due()
    assert sched.quiet_until(ms / 1000) == (due is None or due > ms / 1000)
    seen: list[bool] = []
    sched.schedule(0.0, lambda: seen.append(sched.quiet_until(1e9)))
    sched.run(until=0.0)
    assert seen == [False]  # never while a callback runs


# -- values built without attrs' __init__ -------------------------------------------------------


@given(
    st.integers(100, 599),
    st.binary(max_size=8),
    st.none() | st.just("Unhandled"),
    st.none() | st.sampled_from(["$LATEST", "3"]),
    st.text(max_size=8),
    st.none() | st.text(max_size=8),
)
def test_a_response_built_by_its_maker_is_the_one_its_init_builds(
    status: int, payload: bytes, error: str | None, version: str | None, rid: str, log: str | None
) -> None:
    from invokemodels.core import InvokeResponse
    from invokemodels.core._fast import positional_maker

    made = positional_maker(InvokeResponse)(status, payload, error, version, rid, log)
    plain = InvokeResponse(status, payload, error, version, rid, log)
    assert made == plain
    assert hash(made) == hash(plain)
    assert repr(made) == repr(plain)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        made.status_code = 1  # type: ignore[misc]


def test_a_maker_refuses_a_class_whose_init_checks_or_converts() -> None:
    from invokemodels import EventInvokeConfig
    from invokemodels.core._fast import positional_maker

    with pytest.raises(TypeError, match="EventInvokeConfig"):
        positional_maker(EventInvokeConfig)


@given(
    st.lists(
        st.sampled_from(
            [
                ("name", "other"),
                ("name", "paths"),
                ("region", "eu-west-1"),
                ("memory_size", 512),
                ("memory_size", 1024),
                ("memory_size", 128),
                ("account_id", "210987654321"),
                ("account", None),
                ("version", "7"),
            ]
        ),
        max_size=8,
    )
)
def test_the_context_strings_follow_every_field_they_come_from(
    changes: list[tuple[str, Any]],
) -> None:
    from invokemodels import Account, VirtualClock

    function = Function("paths", lambda event, context: None)
    clock = VirtualClock()
    for field, value in [(None, None), *changes]:
        if field == "account_id":
            function.account.account_id = value
        elif field == "account":
            function.account = Account()
        elif field == "memory_size":
            function.memory_size = int(str(value))  # a new int object, equal or not
        elif field is not None:
            setattr(function, field, value)
        context = function.new_context("rid", clock, 0.0, qualifier="live")
        assert context.function_name == function.name
        assert context.invoked_function_arn == (
            f"arn:aws:lambda:{function.region}:{function.account.account_id}"
            f":function:{function.name}:live"
        )
        assert context.invoked_function_arn == f"{function.arn}:live"
        assert context.memory_limit_in_mb == str(function.memory_size)
        assert context.log_group_name == f"/aws/lambda/{function.name}" == function.log_group_name
        assert context.function_version == function.version


def test_a_handler_returning_none_answers_the_json_of_none() -> None:
    from invokemodels import RequestResponseInvoker

    response = RequestResponseInvoker(Function("none", lambda e, c: None), seed=1).invoke({})
    assert response.payload == json.dumps(None).encode() == b"null"
    assert response.function_error is None
    assert response.json() is None
