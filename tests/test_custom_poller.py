"""A user's poller gets exactly what the built-in pollers get: written from the public API alone.

Two sources of our own, a plain Python list and a JSON-lines file, driven by the same
`EventSourceMapping` loop through `Poller` and the `PollerHandle` it binds them to:
batching, retries after a jittered delay up to a limit, wake-ups from the producer,
seeded randomness, and an on-failure record sent to a `QueueTarget` through the handle.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs
import pytest

from invokemodels import (
    Batch,
    BatchOutcome,
    Destination,
    EventSourceMapping,
    Function,
    Outcome,
    QueueTarget,
    Scheduler,
)
from invokemodels.core import BindablePoller, PollerHandle


@attrs.define
class Retrying:
    """The retry rules both sources share: a failed batch is tried again after a jittered
    delay, ``limit`` attempts at most, then given up on with an on-failure record."""

    size: int = 2
    limit: int = 3
    delay: float = 10.0
    destination: Destination | None = None
    handle: PollerHandle | None = None
    busy: bool = False
    attempts: int = 0
    retry_at: float = 0.0
    done: list[Any] = attrs.field(factory=list)
    given_up: list[Any] = attrs.field(factory=list)

    def bind(self, handle: PollerHandle) -> None:
        self.handle = handle

    def pending(self) -> Sequence[Any]:
        raise NotImplementedError

    def consume(self, count: int) -> None:
        raise NotImplementedError

    def poll(self, now: float, capacity: int) -> Sequence[Batch]:
        items = self.pending()
        if self.busy or not items or now < self.retry_at or capacity < 1:
            return []
        self.busy = True
        taken = tuple(items[: self.size])
        return [Batch({"Records": list(taken)}, taken, lane="only")]

    def complete(self, batch: Batch, outcome: BatchOutcome) -> None:
        assert self.handle is not None
        self.busy = False
        if outcome.kind is not Outcome.THROTTLED:
            self.attempts += 1
        if outcome.kind is Outcome.SUCCESS:
            self.done.extend(batch.records)
        elif self.attempts >= self.limit:
            self.given_up.extend(batch.records)
            if self.destination is not None:
                record = {
                    "requestContext": {
                        "requestId": outcome.request_id,
                        "functionArn": self.handle.function.arn,
                        "condition": "RetryAttemptsExhausted",
                        "approximateInvokeCount": self.attempts,
                    },
                    "epoch": self.handle.epoch(),
                    "mapping": self.handle.uuid,
                    "records": list(batch.records),
                }
                self.handle.send_on_failure(self.destination, record, shard_id="only")
        else:
            jitter = self.handle.rng.uniform(0.0, self.delay)
            self.retry_at = self.handle.now() + self.delay + jitter
            return
        self.consume(len(batch.records))
        self.attempts = 0
        self.retry_at = 0.0

    def next_poll_at(self, now: float) -> float | None:
        if self.busy or not self.pending():
            return None
        return max(now, self.retry_at)


@attrs.define
class ListPoller(Retrying):
    """A source over a plain list: ``append`` is the producer, and it wakes the loop."""

    items: list[Any] = attrs.field(factory=list)

    def pending(self) -> Sequence[Any]:
        return self.items

    def consume(self, count: int) -> None:
        del self.items[:count]

    def append(self, item: Any) -> None:
        self.items.append(item)
        if self.handle is not None:
            self.handle.wake()


@attrs.define
class JsonLinesPoller(Retrying):
    """A source over a JSON-lines file, read from where it left off."""

    path: Path = Path()
    offset: int = 0
    _lines: list[Any] = attrs.field(factory=list)

    def pending(self) -> Sequence[Any]:
        with self.path.open("rb") as stream:
            stream.seek(self.offset)
            for line in stream:
                if not line.endswith(b"\n"):
                    break
                self.offset += len(line)
                self._lines.append(json.loads(line))
        return self._lines

    def consume(self, count: int) -> None:
        del self._lines[:count]

    def write(self, *values: Any) -> None:
        with self.path.open("a", encoding="utf-8") as stream:
            for value in values:
                stream.write(json.dumps(value) + "\n")
        if self.handle is not None:
            self.handle.wake()


def test_a_list_poller_is_a_bindable_poller() -> None:
    poller: BindablePoller = ListPoller()
    assert hasattr(poller, "bind")


def run(
    poller: Retrying, *, seed: int, fail: set[Any] | None = None
) -> tuple[Scheduler, EventSourceMapping[Any], list[tuple[float, list[Any]]]]:
    sched = Scheduler()
    log: list[tuple[float, list[Any]]] = []
    broken = fail or set()

    def handler(event: dict[str, Any], context: Any) -> None:
        log.append((sched.now, event["Records"]))
        if broken & {json.dumps(r) for r in event["Records"]}:
            raise ValueError("cannot do it")

    mapping = EventSourceMapping(Function("worker", handler), poller, sched, seed=seed).start()
    return sched, mapping, log


def test_list_poller_batches_and_wakes_up_from_its_producer() -> None:
    poller = ListPoller(items=["a", "b", "c"])
    sched, mapping, log = run(poller, seed=1)
    sched.run_until_idle()
    assert log == [(0.0, ["a", "b"]), (0.0, ["c"])]
    assert sched.now == 0.0
    # Items appended later wake the loop through the handle; idle again once they are done.
    sched.run(until=30.0)
    poller.append("d")
    poller.append("e")
    sched.run_until_idle()
    assert log[2:] == [(30.0, ["d", "e"])]
    assert poller.done == ["a", "b", "c", "d", "e"]
    assert (mapping.invocations, sched.now) == (3, 30.0)


def test_a_failed_batch_is_retried_after_a_jittered_delay_until_it_succeeds() -> None:
    calls: list[float] = []
    sched = Scheduler()

    def flaky(event: dict[str, Any], context: Any) -> None:
        calls.append(sched.now)
        if len(calls) < 3:
            raise ValueError("not yet")

    poller = ListPoller(items=["x"], limit=5)
    EventSourceMapping(Function("worker", flaky), poller, sched, seed=7).start()
    sched.run_until_idle()
    assert len(calls) == 3
    assert calls[0] == 0.0
    # Each retry waits the delay plus a jitter below it, from the seeded rng.
    assert 10.0 <= calls[1] - calls[0] < 20.0
    assert 10.0 <= calls[2] - calls[1] < 20.0
    assert poller.done == ["x"]
    assert poller.given_up == []


def timeline(seed: int) -> list[float]:
    poller = ListPoller(items=["bad", "ok"], size=1, limit=4)
    sched, _, log = run(poller, seed=seed, fail={'"bad"'})
    sched.run_until_idle()
    return [at for at, _ in log]


def test_one_seed_one_timeline_and_another_seed_another() -> None:
    assert timeline(3) == timeline(3)
    assert timeline(3) != timeline(4)
    assert len(timeline(3)) == 5  # four attempts of "bad", then "ok"


def test_records_given_up_on_are_sent_to_a_queue_target_through_the_handle() -> None:
    target = QueueTarget()
    poller = ListPoller(items=["bad", "ok"], size=1, limit=2, destination=target)
    sched, mapping, log = run(poller, seed=5, fail={'"bad"'})
    sched.run_until_idle()
    assert [records for _, records in log] == [["bad"], ["bad"], ["ok"]]
    assert poller.given_up == ["bad"]
    assert poller.done == ["ok"]
    (record,) = target.records
    context = record["requestContext"]
    assert context["functionArn"] == "arn:aws:lambda:us-east-1:123456789012:function:worker"
    assert context["functionArn"] == mapping.handle.function.arn
    assert context["condition"] == "RetryAttemptsExhausted"
    assert context["approximateInvokeCount"] == 2
    assert context["requestId"] == mapping.history[1].request_id
    assert record["epoch"] == pytest.approx(mapping.handle.epoch() - sched.now + log[1][0])
    assert record["mapping"] == mapping.uuid
    assert record["records"] == ["bad"]
    assert mapping.destination_delivery_failures == 0


def test_a_destination_that_raises_is_counted_by_the_mapping() -> None:
    @attrs.define
    class Broken:
        arn: str = "arn:aws:sqs:us-east-1:123456789012:broken"

        def deliver(self, record: dict[str, Any], delivery: Any) -> None:
            raise OSError("queue is gone")

    poller = ListPoller(items=["bad", "ok"], size=1, limit=1, destination=Broken())
    sched, mapping, _ = run(poller, seed=1, fail={'"bad"'})
    sched.run_until_idle()
    # The mapping goes on: the records are given up on all the same.
    assert (poller.given_up, poller.done) == (["bad"], ["ok"])
    assert mapping.destination_delivery_failures == 1
    (error,) = mapping.delivery_errors
    assert "queue is gone" in error
    assert mapping.handle.send_on_failure(QueueTarget(), {"x": 1}, shard_id="s") is None


def test_a_json_lines_poller_reads_the_file_as_it_grows(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text("")
    target = QueueTarget()
    poller = JsonLinesPoller(path=path, size=3, limit=2, destination=target)
    sched, mapping, log = run(poller, seed=2, fail={json.dumps({"id": 4})})
    sched.run_until_idle()
    assert log == []
    poller.write({"id": 1}, {"id": 2}, {"id": 3}, {"id": 4})
    sched.run_until_idle()
    first_retry = log[2][0]
    assert [(at, [r["id"] for r in records]) for at, records in log] == [
        (0.0, [1, 2, 3]),
        (0.0, [4]),
        (first_retry, [4]),
    ]
    assert 10.0 <= first_retry < 20.0
    sched.run(until=100.0)
    poller.write({"id": 5})
    sched.run_until_idle()
    assert log[-1] == (100.0, [{"id": 5}])
    assert [r["id"] for r in poller.done] == [1, 2, 3, 5]
    (record,) = target.records
    assert record["records"] == [{"id": 4}]
    assert record["epoch"] == pytest.approx(mapping.handle.epoch() - 100.0 + first_retry)
