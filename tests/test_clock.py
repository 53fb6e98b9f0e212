from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from invokemodels import Scheduler, SystemClock, VirtualClock
from invokemodels.core import TICKS_PER_SECOND, on_grid
from invokemodels.core._clock import iso_timestamp


def test_virtual_clock_starts_at_zero_and_maps_to_epoch() -> None:
    clock = VirtualClock(epoch_origin=1_573_755_365.568)
    assert clock.now() == 0.0
    assert iso_timestamp(clock.epoch()) == "2019-11-14T18:16:05.568Z"
    assert iso_timestamp(clock.epoch(), milliseconds=False) == "2019-11-14T18:16:05Z"


def test_virtual_clock_never_goes_backwards() -> None:
    clock = VirtualClock()
    clock.sleep_until(5.0)
    clock.sleep_until(1.0)
    assert clock.now() == 5.0
    with pytest.raises(ValueError, match="backwards"):
        clock.advance_to_ticks(1)


def test_million_small_steps_have_no_drift() -> None:
    sched = Scheduler()
    steps = 0

    def tick() -> None:
        nonlocal steps
        steps += 1
        if steps < 1_000_000:
            sched.schedule(0.01, tick)

    sched.schedule(0.01, tick)
    sched.run_until_idle()
    assert steps == 1_000_000
    assert sched.now == 10000.0
    assert f"{sched.now:.2f}" == "10000.00"


@given(st.lists(st.floats(min_value=0, max_value=1e6, allow_nan=False), max_size=50))
def test_virtual_time_is_monotonic(targets: list[float]) -> None:
    clock = VirtualClock()
    seen = [clock.now()]
    for target in targets:
        clock.sleep_until(target)
        seen.append(clock.now())
    assert seen == sorted(seen)
    assert clock.now() == pytest.approx(max([0.0, *targets]), abs=1e-9)


def test_system_clock_moves_forward_and_sleeps() -> None:
    clock = SystemClock()
    start = clock.now()
    clock.sleep_until(start + 0.01)
    assert clock.now() >= start + 0.01
    assert clock.epoch() > 1_600_000_000


def test_system_clock_wake_cuts_sleep_short() -> None:
    import threading

    clock = SystemClock()
    timer = threading.Timer(0.01, clock.wake)
    timer.start()
    start = clock.now()
    clock.sleep_until(start + 5.0)
    timer.join()
    assert clock.now() - start < 4.0


def test_on_grid_rounds_to_the_nearest_tick_as_the_clock_reads_it() -> None:
    assert on_grid(0.1 + 0.2) == 0.3
    assert on_grid(2.559826087 + 1) == 3.559826087
    assert on_grid(1.0000000004) == 1.0
    assert on_grid(1.0000000006) == 1.000000001


def test_on_grid_up_is_the_first_tick_at_or_after() -> None:
    assert on_grid(31.31903458274959, up=True) == 31.319034583
    assert on_grid(1.0000000004, up=True) == 1.000000001
    assert on_grid(0.3, up=True) == 0.3
    assert on_grid(0.1 + 0.2, up=True) == 0.300000001


def test_on_grid_is_total_for_numbers() -> None:
    assert on_grid(math.inf) == math.inf
    assert on_grid(-math.inf) == -math.inf
    assert on_grid(1e300) == math.inf  # past the float range in ticks: never
    assert on_grid(10**400) == math.inf
    assert on_grid(-(10**400)) == -math.inf
    assert on_grid(7) == 7.0
    with pytest.raises(ValueError, match="nan is not a time"):
        on_grid(math.nan)


@given(st.floats(0, 1e6, allow_subnormal=False), st.booleans())
def test_on_grid_lands_on_a_tick_the_clock_reads_back(seconds: float, up: bool) -> None:
    grid = on_grid(seconds, up=up)
    clock = VirtualClock()
    clock.sleep_until(grid)
    assert clock.now() == grid
    assert abs(grid - seconds) <= 1.5 / TICKS_PER_SECOND
    if up:
        assert grid >= seconds
    assert on_grid(grid) == grid
    assert on_grid(grid, up=True) == grid
