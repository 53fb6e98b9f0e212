"""The generic event source mapping loop, driven by a custom poller written with the public API."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs
import pytest

from invokemodels import (
    Batch,
    BatchOutcome,
    EventSourceMapping,
    Function,
    Outcome,
    Scheduler,
)
from invokemodels.core import History, Model, ThrottleReason
from invokemodels.exceptions import InvalidParameterValueError, RequestEntityTooLargeError


@attrs.define
class ListPoller:
    """Hands out items in batches, one batch at a time; a failed batch is retried after 5 s."""

    items: list[str]
    batch_size: int = 2
    done: list[str] = attrs.field(factory=list)
    outcomes: list[BatchOutcome] = attrs.field(factory=list)
    busy: bool = False
    retry_at: float = 0.0

    def poll(self, now: float, capacity: int) -> Sequence[Batch]:
        if self.busy or not self.items or now < self.retry_at:
            return []
        self.busy = True
        batch = tuple(self.items[: self.batch_size])
        return [Batch({"items": list(batch)}, batch, lane="list")]

    def complete(self, batch: Batch, outcome: BatchOutcome) -> None:
        self.busy = False
        self.outcomes.append(outcome)
        if outcome.kind is Outcome.SUCCESS:
            del self.items[: len(batch.records)]
            self.done.extend(batch.records)
        else:
            self.retry_at = outcome.ended_at + 5.0

    def next_poll_at(self, now: float) -> float | None:
        if self.busy or not self.items:
            return None
        return max(now, self.retry_at)


@attrs.define
class Many:
    """Hands out every item at once as its own batch (lanes are the items)."""

    items: list[str]
    outcomes: list[BatchOutcome] = attrs.field(factory=list)

    def poll(self, now: float, capacity: int) -> Sequence[Batch]:
        out = [Batch({"item": item}, (item,), lane=item) for item in self.items[:capacity]]
        del self.items[:capacity]
        return out

    def complete(self, batch: Batch, outcome: BatchOutcome) -> None:
        self.outcomes.append(outcome)

    def next_poll_at(self, now: float) -> float | None:
        return now if self.items else None


def test_a_custom_poller_drives_the_loop() -> None:
    sched = Scheduler()
    log: list[tuple[float, list[str]]] = []

    def handler(event: Any, context: Any) -> dict[str, int]:
        log.append((sched.now, event["items"]))
        if "boom" in event["items"] and len(log) < 3:
            raise ValueError("boom")
        return {"n": len(event["items"])}

    poller = ListPoller(["a", "b", "boom", "c", "d"])
    fn = Function("f", handler, duration=1.0)
    mapping = EventSourceMapping(fn, poller, sched, seed=1).start()
    assert mapping.state == "Enabled"
    sched.run_until_idle()
    assert log == [
        (0.0, ["a", "b"]),
        (1.0, ["boom", "c"]),
        (7.0, ["boom", "c"]),
        (8.0, ["d"]),
    ]
    assert poller.done == ["a", "b", "boom", "c", "d"]
    assert (mapping.invocations, mapping.function_errors, mapping.throttles) == (4, 1, 0)
    assert [o.kind for o in poller.outcomes] == [
        Outcome.SUCCESS, Outcome.FUNCTION_ERROR, Outcome.SUCCESS, Outcome.SUCCESS,
    ]  # fmt: skip
    assert poller.outcomes[0].response() == {"n": 2}
    assert poller.outcomes[1].function_error == "Unhandled"
    assert poller.outcomes[1].response()["errorType"] == "ValueError"
    span = mapping.history[1]
    assert (span.lane, span.request_id, span.started_at, span.ended_at, span.outcome) == (
        "list",
        poller.outcomes[1].request_id,
        1.0,
        2.0,
        Outcome.FUNCTION_ERROR,
    )
    assert (span.size, span.model, span.error_type) == (2, Model.EVENT_SOURCE_MAPPING, "ValueError")
    assert fn.in_flight == 0


def test_throttled_batches_never_reach_the_function() -> None:
    sched = Scheduler()
    fn = Function("f", lambda e, c: None, reserved_concurrency=0)
    poller = ListPoller(["a"])
    mapping = EventSourceMapping(fn, poller, sched, seed=1).start()
    sched.run(until=12.0)
    assert [(o.kind, o.started_at, o.throttle_reason) for o in poller.outcomes] == [
        (Outcome.THROTTLED, 0.0, ThrottleReason.RESERVED),
        (Outcome.THROTTLED, 5.0, ThrottleReason.RESERVED),
        (Outcome.THROTTLED, 10.0, ThrottleReason.RESERVED),
    ]
    assert poller.outcomes[0].attempt is None
    assert poller.outcomes[0].response() is None
    assert poller.outcomes[0].function_error is None
    assert (mapping.invocations, mapping.throttles) == (0, 3)


def test_disable_pauses_and_enable_resumes() -> None:
    sched = Scheduler()
    seen: list[float] = []
    fn = Function("f", lambda e, c: seen.append(sched.now), duration=1.0)
    poller = ListPoller(["a", "b", "c", "d"], batch_size=1)
    mapping = EventSourceMapping(fn, poller, sched, seed=1)
    assert mapping.state == "Disabled"
    mapping.wake()
    mapping.wake_at(3.0)
    sched.run_until_idle()
    assert seen == []
    mapping.start()
    sched.run(until=0.5)
    mapping.disable()
    assert mapping.in_flight == 1
    sched.run(until=10.0)
    assert seen == [0.0]
    assert poller.done == ["a"]
    mapping.enable()
    sched.run_until_idle()
    assert seen == [0.0, 10.0, 11.0, 12.0]
    assert mapping.enabled


def test_wake_at_schedules_a_poll_and_an_earlier_wake_wins() -> None:
    sched = Scheduler()
    seen: list[float] = []
    fn = Function("f", lambda e, c: seen.append(sched.now))
    poller = ListPoller([])
    mapping = EventSourceMapping(fn, poller, sched, seed=1).start()
    sched.run_until_idle()
    poller.items.extend(["a", "b", "c"])
    poller.batch_size = 1
    mapping.wake_at(7.0)
    mapping.wake_at(4.0)
    mapping.wake_at(9.0)
    sched.run_until_idle()
    assert seen == [4.0, 4.0, 4.0]
    poller.items.append("d")
    mapping.wake_at(-1.0)
    sched.run_until_idle()
    assert seen[-1] == 4.0


def test_max_concurrency_caps_batches_without_spinning() -> None:
    sched = Scheduler()
    starts: list[float] = []
    fn = Function("f", lambda e, c: starts.append(sched.now), duration=2.0)
    poller = Many([str(i) for i in range(5)])
    mapping = EventSourceMapping(fn, poller, sched, seed=1, max_concurrency=2).start()
    steps = sched.run_until_idle(max_steps=100)
    assert starts == [0.0, 0.0, 2.0, 2.0, 4.0]
    assert steps < 30
    assert mapping.in_flight == 0


def test_history_can_be_turned_off_and_repr_is_short() -> None:
    sched = Scheduler()
    fn = Function("f", lambda e, c: None)
    mapping = EventSourceMapping(
        fn, Many(["a"]), sched, seed=1, history=History(keep=False)
    ).start()
    sched.run_until_idle()
    assert list(mapping.history) == []
    assert mapping.invocations == 1
    assert repr(mapping) == (
        f"<EventSourceMapping {mapping.uuid} Enabled function=f in_flight=0 invocations=1>"
    )


def test_same_seed_same_request_ids() -> None:
    def ids(seed: int) -> list[str]:
        sched = Scheduler()
        fn = Function("f", lambda e, c: None)
        mapping = EventSourceMapping(fn, Many(["a", "b"]), sched, seed=seed).start()
        sched.run_until_idle()
        return [mapping.uuid, *(t.request_id for t in mapping.history)]

    assert ids(7) == ids(7)
    assert ids(7) != ids(8)


def test_a_disabled_mapping_does_not_poll_when_a_completion_arrives() -> None:
    sched = Scheduler()
    fn = Function("f", lambda e, c: None, duration=1.0)
    poller = ListPoller(["a", "b"], batch_size=1)
    mapping = EventSourceMapping(fn, poller, sched, seed=1).start()
    sched.run(until=0.5)
    mapping.disable()
    sched.run_until_idle()
    assert poller.done == ["a"]
    assert poller.items == ["b"]


def test_a_batch_over_6_mb_raises_without_holding_a_concurrency_slot() -> None:
    sched = Scheduler()
    fn = Function("f", lambda e, c: None, reserved_concurrency=1)
    poller = ListPoller(["x" * 6_291_456], batch_size=1)
    mapping = EventSourceMapping(fn, poller, sched, seed=1).start()
    with pytest.raises(RequestEntityTooLargeError):
        sched.run_until_idle()
    assert fn.in_flight == 0
    assert (mapping.invocations, mapping.throttles) == (0, 0)


def test_a_bad_duration_stops_the_loop_and_gives_the_slot_back() -> None:
    sched = Scheduler()
    fn = Function("f", lambda event, context: None, duration=lambda event: float("nan"))
    poller = Many(["a"])
    EventSourceMapping(fn, poller, sched, seed=1).start()
    with pytest.raises(InvalidParameterValueError, match="duration=nan"):
        sched.run_until_idle()
    assert fn.in_flight == 0
    assert poller.outcomes == []  # the batch never reached the handler


@attrs.define
class OffGrid:
    """Retries a failed or throttled batch a third of a second later, an off-grid float."""

    items: list[str]
    polls: list[tuple[float, float]] = attrs.field(factory=list)
    busy: bool = False
    retry_at: float = 0.0

    def poll(self, now: float, capacity: int) -> Sequence[Batch]:
        if self.busy or not self.items or now < self.retry_at:
            return []
        self.polls.append((self.retry_at, now))
        self.busy = True
        return [Batch({"item": self.items[0]}, (self.items[0],))]

    def complete(self, batch: Batch, outcome: BatchOutcome) -> None:
        self.busy = False
        if outcome.kind is Outcome.SUCCESS:
            del self.items[0]
        else:
            self.retry_at = outcome.ended_at + 1 / 3

    def next_poll_at(self, now: float) -> float | None:
        return None if self.busy or not self.items else self.retry_at


def test_an_off_grid_next_poll_at_wakes_at_the_first_tick_after_it() -> None:
    # A wake-up at the nearest tick could land a hair before `retry_at`: the poller saw
    # nothing due and asked for the same tick again, forever.
    sched = Scheduler()
    calls = 0

    def handler(event: Any, context: Any) -> None:
        nonlocal calls
        calls += 1
        if calls <= 3:
            raise RuntimeError("fails three times")

    poller = OffGrid(["a"])
    EventSourceMapping(Function("f", handler), poller, sched, seed=1).start()
    sched.run_until_idle(max_steps=100)
    assert calls == 4
    assert all(now >= requested for requested, now in poller.polls)
    assert [now for _, now in poller.polls] == [0.0, 0.333333334, 0.666666668, 1.000000002]


@attrs.define
class RetryNow:
    """Retries a throttled batch at once, giving up after three throttles."""

    throttles: list[float] = attrs.field(factory=list)
    waiting: bool = True

    def poll(self, now: float, capacity: int) -> Sequence[Batch]:
        return [Batch({}, ("x",))] if self.waiting else []

    def complete(self, batch: Batch, outcome: BatchOutcome) -> None:
        self.throttles.append(outcome.started_at)
        self.waiting = len(self.throttles) < 3

    def next_poll_at(self, now: float) -> float | None:
        return now if self.waiting else None


def test_a_poll_that_invokes_nothing_moves_the_clock_to_the_next_tick() -> None:
    sched = Scheduler()
    fn = Function("f", lambda e, c: None, reserved_concurrency=0)
    poller = RetryNow()
    mapping = EventSourceMapping(fn, poller, sched, seed=1).start()
    sched.run_until_idle(max_steps=100)
    assert poller.throttles == [0.0, 1e-9, 2e-9]
    assert mapping.throttles == 3
