"""A clock says what it is: a user's own virtual clock drives every model in virtual time.

The clock below is written from the `Clock` protocol alone (it is no `VirtualClock` and
no `TickClock`): the models must jump its time, run handlers inline and model timeouts,
and never sleep for real.
"""

from __future__ import annotations

import time
from typing import Any

from invokemodels import (
    Clock,
    EventInvoker,
    Function,
    Queue,
    RequestResponseInvoker,
    Scheduler,
    SQSMappingConfig,
    VirtualClock,
)
from invokemodels.core import tick_clock


class SteppingClock:
    """A virtual clock of the user's own: float seconds, jumps on ``sleep_until``."""

    virtual = True

    def __init__(self, origin: float = 1_800_000_000.0) -> None:
        self._now = 0.0
        self._origin = origin
        self.jumps: list[float] = []

    def now(self) -> float:
        return self._now

    def epoch(self) -> float:
        return self._origin + self._now

    def sleep_until(self, when: float) -> None:
        if when > self._now:
            self.jumps.append(when)
            self._now = when


def test_a_clock_says_what_it_is() -> None:
    clock: Clock = SteppingClock()
    assert clock.virtual
    assert tick_clock(clock) is None  # driven through the Clock protocol alone
    virtual = VirtualClock()
    assert tick_clock(virtual) is virtual  # the tick fast path
    assert Scheduler(clock=SteppingClock()).is_virtual


def test_the_event_model_jumps_a_users_virtual_clock_through_its_retries() -> None:
    clock = SteppingClock()

    def handler(event: Any, context: Any) -> Any:
        raise RuntimeError("always")

    invoker = EventInvoker(
        Function(name="stepping", handler=handler), scheduler=Scheduler(clock=clock), seed=3
    )
    rid = invoker.invoke({}).request_id
    wall = time.perf_counter()
    invoker.scheduler.run_until_idle()
    assert time.perf_counter() - wall < 5.0  # 180 s of retries, no real sleeping
    assert [a.started_at for a in invoker.history.where(item=rid, ran=True)] == [0.0, 60.0, 180.0]
    assert invoker.outcome(rid).condition == "RetriesExhausted"
    assert clock.jumps == [60.0, 180.0]
    assert invoker.outcome(rid).record()["timestamp"].startswith("2027-01-15T08:03:00")


def test_the_sync_invoker_models_durations_and_timeouts_on_a_users_virtual_clock() -> None:
    clock = SteppingClock()
    calls: list[float] = []

    def handler(event: Any, context: Any) -> Any:
        calls.append(context.get_remaining_time_in_millis())
        context.spend(event["spend"])  # modelled, not slept
        return event

    function = Function(name="stepping", handler=handler, timeout=3, duration=1.0)
    invoker = RequestResponseInvoker(function, scheduler=Scheduler(clock=clock), seed=3)
    wall = time.perf_counter()
    assert invoker.invoke({"spend": 0.5}).json() == {"spend": 0.5}
    assert clock.now() == 1.5
    timed_out = invoker.invoke({"spend": 60.0})
    assert time.perf_counter() - wall < 5.0
    assert timed_out.function_error == "Unhandled"
    assert timed_out.json()["errorType"] == "Sandbox.Timedout"
    assert clock.now() == 4.5  # the timeout, 3 s after the second call started
    assert calls == [3000, 3000]
    assert function.in_flight == 0


def test_a_mapping_polls_on_a_users_virtual_clock() -> None:
    clock = SteppingClock()
    sched = Scheduler(clock=clock)
    seen: list[tuple[float, list[str]]] = []

    def handler(event: Any, context: Any) -> Any:
        seen.append((clock.now(), [r["body"] for r in event["Records"]]))

    queue = Queue("stepping", scheduler=sched, seed=5)
    mapping = queue.map_to(
        Function(name="consumer", handler=handler),
        SQSMappingConfig(batch_size=10, maximum_batching_window=2),
    )
    queue.send_message("a")
    sched.schedule(1.0, queue.send_message, "b")
    wall = time.perf_counter()
    sched.run(until=30.0)
    mapping.disable()
    assert time.perf_counter() - wall < 5.0
    assert seen == [(2.0, ["a", "b"])]
    assert clock.now() == 30.0
    assert queue.attributes()["ApproximateNumberOfMessages"] == "0"
