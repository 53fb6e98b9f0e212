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
from invokemodels.event._invoker import _Event
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
