from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from invokemodels import Scheduler, SystemClock


def test_callbacks_run_in_time_order_with_fifo_ties() -> None:
    sched = Scheduler()
    log: list[tuple[float, str]] = []
    sched.schedule(60.0, lambda: log.append((sched.now, "b")))
    sched.schedule(0.0, lambda: log.append((sched.now, "a")))
    sched.at(60.0, lambda: log.append((sched.now, "c")))
    sched.schedule(180.0, lambda: log.append((sched.now, "d")))
    assert sched.run_until_idle() == 4
    assert log == [(0.0, "a"), (60.0, "b"), (60.0, "c"), (180.0, "d")]


def test_run_until_stops_and_leaves_clock_there() -> None:
    sched = Scheduler()
    log: list[float] = []
    for t in (1.0, 2.0, 3.0):
        sched.at(t, log.append, t)
    sched.run(until=2.0)
    assert log == [1.0, 2.0]
    assert sched.now == 2.0
    assert sched.next_due() == 3.0
    sched.run(until=10.0)
    assert log == [1.0, 2.0, 3.0]
    assert sched.now == 10.0


def test_cancelled_timer_does_not_run() -> None:
    sched = Scheduler()
    log: list[str] = []
    timer = sched.schedule(5.0, log.append, "x")
    assert len(sched) == 1
    timer.cancel()
    assert timer.cancelled
    assert len(sched) == 0
    assert sched.step() is False
    assert log == []
    assert sched.now == 0.0


def test_at_in_the_past_means_now() -> None:
    sched = Scheduler()
    sched.run(until=10.0)
    timer = sched.at(3.0, lambda: None)
    assert timer.when == 10.0


def test_negative_delay_is_refused() -> None:
    with pytest.raises(ValueError, match="delay must be >= 0"):
        Scheduler().schedule(-1.0, lambda: None)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf"), 1e300, 10**400])
def test_a_time_that_is_no_time_is_refused_naming_the_argument(value: float) -> None:
    sched = Scheduler()
    with pytest.raises(ValueError, match=r"^when must be a finite number of seconds, got "):
        sched.at(value, lambda: None)
    with pytest.raises(ValueError, match=r"^until must be a finite number of seconds, got "):
        sched.run(until=value)
    if value > 0:
        with pytest.raises(ValueError, match=r"^delay must be a finite number of seconds, got "):
            sched.schedule(value, lambda: None)
    assert len(sched) == 0
    assert sched.now == 0.0


def test_nan_delay_is_refused_and_a_huge_integer_is_shown_short() -> None:
    sched = Scheduler()
    with pytest.raises(ValueError, match="got nan"):
        sched.schedule(float("nan"), lambda: None)
    with pytest.raises(ValueError, match=r"got 10000000000000000000\.\.\.\(401 characters\)$"):
        sched.schedule(10**400, lambda: None)


def test_large_finite_times_still_run() -> None:
    sched = Scheduler()
    log: list[float] = []
    sched.at(1e290, lambda: log.append(sched.now))
    sched.run_until_idle()
    assert log == [1e290]


def test_max_steps_guards_a_model_that_never_idles() -> None:
    sched = Scheduler()

    def forever() -> None:
        sched.schedule(1.0, forever)

    sched.schedule(0.0, forever)
    with pytest.raises(RuntimeError, match="max_steps=10"):
        sched.run_until_idle(max_steps=10)


def test_running_flag_and_repr() -> None:
    sched = Scheduler()
    seen: list[bool] = []
    sched.schedule(1.0, lambda: seen.append(sched.running))
    assert "pending=1" in repr(sched)
    sched.run_for(2.0)
    assert seen == [True]
    assert sched.running is False
    assert sched.is_virtual


def test_system_clock_scheduler_really_waits() -> None:
    sched = Scheduler(clock=SystemClock())
    log: list[float] = []
    sched.schedule(0.02, lambda: log.append(sched.now))
    sched.run_until_idle()
    assert len(log) == 1
    assert log[0] >= 0.02
    assert not sched.is_virtual


@given(st.lists(st.tuples(st.integers(0, 100), st.integers(0, 1000)), max_size=40))
def test_order_is_by_time_then_insertion(entries: list[tuple[int, int]]) -> None:
    sched = Scheduler()
    log: list[tuple[float, int]] = []
    for index, (when, _) in enumerate(entries):
        sched.at(float(when), log.append, (float(when), index))
    sched.run_until_idle()
    assert log == sorted(log)
    assert len(log) == len(entries)
