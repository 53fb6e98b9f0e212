"""Virtual time inside handler code: ``Scheduler(handler_time=True)``."""

from __future__ import annotations

import asyncio
import datetime as dt
import importlib.util
import threading
import time
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from invokemodels import (
    EventInvoker,
    Function,
    History,
    Queue,
    RequestResponseInvoker,
    Scheduler,
    SystemClock,
    VirtualClock,
)
from invokemodels.core import Outcome
from invokemodels.core._clock import on_grid
from invokemodels.exceptions import InvalidParameterValueError

EPOCH = 1_700_000_000.0


def invoke(handler: Any, *, timeout: float = 10, scheduler: Scheduler | None = None) -> Any:
    scheduler = Scheduler(handler_time=True) if scheduler is None else scheduler
    fn = Function(name="clocked", handler=handler, timeout=timeout)
    invoker = RequestResponseInvoker(fn, scheduler=scheduler, seed=1)
    response = invoker.invoke({})
    [span] = invoker.history.spans()
    return response, span


def test_the_handler_reads_the_virtual_instant_from_time_and_datetime() -> None:
    def handler(event: Any, context: Any) -> dict[str, Any]:
        return {
            "time": time.time(),
            "time_ns": time.time_ns(),
            "utc": dt.datetime.now(dt.timezone.utc).isoformat(),
            "today": dt.date.today().isoformat(),
            "gmtime": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()),
            "monotonic": time.monotonic(),
            "perf_counter": time.perf_counter(),
        }

    response, _ = invoke(handler)
    assert response.json() == {
        "time": EPOCH,
        "time_ns": int(EPOCH) * 1_000_000_000,
        "utc": "2023-11-14T22:13:20+00:00",
        "today": dt.datetime.fromtimestamp(EPOCH).date().isoformat(),
        "gmtime": "2023-11-14T22:13:20",
        "monotonic": 0.0,
        "perf_counter": 0.0,
    }


def test_the_instant_follows_the_clock_and_its_epoch_origin() -> None:
    scheduler = Scheduler(VirtualClock(epoch_origin=1_000_000_000.0), handler_time=True)
    scheduler.run(until=90.0)
    response, _ = invoke(
        lambda event, context: [time.time(), time.monotonic()], scheduler=scheduler
    )
    assert response.json() == [1_000_000_090.0, 90.0]


def test_sleep_makes_the_attempt_last_as_long_and_the_context_agrees() -> None:
    def handler(event: Any, context: Any) -> list[Any]:
        before = (time.time(), time.monotonic(), context.get_remaining_time_in_millis())
        time.sleep(2.5)
        after = (time.time(), time.monotonic(), context.get_remaining_time_in_millis())
        return [before, after]

    response, span = invoke(handler, timeout=10)
    assert response.json() == [[EPOCH, 0.0, 10_000], [EPOCH + 2.5, 2.5, 7_500]]
    assert (span.started_at, span.ended_at, span.outcome) == (0.0, 2.5, Outcome.SUCCESS)


def test_context_spend_moves_the_handler_clocks_too() -> None:
    def handler(event: Any, context: Any) -> list[float]:
        context.spend(1.25)
        return [time.time(), time.monotonic()]

    response, span = invoke(handler)
    assert response.json() == [EPOCH + 1.25, 1.25]
    assert span.duration == 1.25


def test_a_sleep_past_the_timeout_ends_the_attempt_at_the_timeout_and_nothing_after_runs() -> None:
    ran_after: list[str] = []

    def handler(event: Any, context: Any) -> str:
        try:
            time.sleep(5)
        except Exception:  # a handler's own error handling cannot catch the timeout
            ran_after.append("except")
        ran_after.append("after")
        return "done"

    response, span = invoke(handler, timeout=3)
    assert ran_after == []
    assert response.function_error == "Unhandled"
    assert response.json()["errorType"] == "Sandbox.Timedout"
    assert "Task timed out after 3.00 seconds" in response.json()["errorMessage"]
    assert (span.started_at, span.ended_at, span.error_type) == (0.0, 3.0, "Sandbox.Timedout")


def test_sleep_rejects_what_time_sleep_rejects() -> None:
    def handler(event: Any, context: Any) -> list[str]:
        def refused(bad: Any) -> str:
            try:
                time.sleep(bad)
            except (TypeError, ValueError) as exc:
                return type(exc).__name__
            return "slept"

        return [refused(bad) for bad in (-1, "1", float("nan"))]

    response, span = invoke(handler)
    assert response.json() == ["ValueError", "TypeError", "ValueError"]
    assert span.duration == 0.0


def test_clocks_are_restored_after_the_attempt_even_when_the_handler_raises() -> None:
    def handler(event: Any, context: Any) -> None:
        time.sleep(1)
        raise RuntimeError("boom")

    response, _ = invoke(handler)
    assert response.json()["errorType"] == "RuntimeError"
    assert time.time() > 1_750_000_000  # the real wall clock again
    assert time.sleep.__module__ == "time"
    assert time.monotonic.__module__ == "time"


def test_off_by_default() -> None:
    response, span = invoke(
        lambda event, context: [time.time(), time.sleep(0.001)], scheduler=Scheduler()
    )
    assert response.json()[0] > 1_750_000_000
    assert span.duration == 0.0
    assert Scheduler().handler_time is False


def test_other_threads_keep_the_real_monotonic_clock_and_sleep() -> None:
    def handler(event: Any, context: Any) -> list[float]:
        seen: list[float] = []

        def other() -> None:
            start = time.monotonic()
            time.sleep(0.01)
            seen.append(time.monotonic() - start)

        worker = threading.Thread(target=other)
        worker.start()
        worker.join()
        return [seen[0], time.monotonic()]

    response, span = invoke(handler)
    real_sleep, virtual_now = response.json()
    assert real_sleep >= 0.009
    assert virtual_now == 0.0
    assert span.duration == 0.0


def test_an_asyncio_loop_in_the_handler_keeps_real_time() -> None:
    def handler(event: Any, context: Any) -> str:
        async def main() -> str:
            await asyncio.sleep(0.01)
            return "woke"

        return asyncio.run(main())

    response, _ = invoke(handler)
    assert response.json() == "woke"


def test_event_retries_see_the_retry_times() -> None:
    seen: list[float] = []

    def handler(event: Any, context: Any) -> None:
        seen.append(time.time() - EPOCH)
        time.sleep(1)
        raise RuntimeError("again")

    fn = Function(name="retried", handler=handler)
    invoker = EventInvoker(fn, scheduler=Scheduler(handler_time=True), seed=3)
    invoker.invoke({})
    invoker.scheduler.run_until_idle()
    assert seen == [0.0, 61.0, 182.0]  # retries 60 s and 120 s after each 1 s attempt


def test_an_sqs_mapping_handler_sleeping_past_its_timeout_fails_the_batch() -> None:
    queue = Queue("work", scheduler=Scheduler(handler_time=True), seed=1, visibility_timeout=30)
    history = History()
    fn = Function(name="slow", handler=lambda event, context: time.sleep(4), timeout=3)
    queue.map_to(fn, history=history)
    queue.send_message("m")
    queue.scheduler.run(until=31)
    first = history.spans()[0]
    assert (first.started_at, first.ended_at, first.error_type) == (0.0, 3.0, "Sandbox.Timedout")


def test_bad_switches_are_refused_with_the_parameter_named(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with pytest.raises(InvalidParameterValueError, match=r"handler_time=True.*virtual clock"):
        Scheduler(SystemClock(), handler_time=True)
    with pytest.raises(InvalidParameterValueError, match=r"handler_time='yes'.*True or False"):
        Scheduler(handler_time="yes")  # type: ignore[arg-type]
    scheduler = Scheduler()
    with pytest.raises(InvalidParameterValueError, match="handler_time"):
        scheduler.handler_time = 1  # type: ignore[assignment]
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *args: None if name == "time_machine" else real(name, *args),
    )
    with pytest.raises(
        InvalidParameterValueError, match=r"time-machine.*invokemodels\[handler-time\]"
    ):
        Scheduler(handler_time=True)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(0, 2, allow_nan=False).map(lambda s: round(s, 3)), max_size=8),
    st.integers(1, 6),
)
def test_sleeps_add_up_to_the_duration_or_a_timeout_at_the_timeout(
    sleeps: list[float], timeout: int
) -> None:
    done: list[float] = []

    def handler(event: Any, context: Any) -> list[float]:
        for seconds in sleeps:
            time.sleep(seconds)
            done.append(time.monotonic())
        return done

    response, span = invoke(handler, timeout=timeout)
    total = 0.0
    expected: list[float] = []
    for seconds in sleeps:
        if total + seconds > timeout:
            break
        total += seconds
        expected.append(total)
    assert done == pytest.approx(expected)
    if len(expected) == len(sleeps):
        assert span.outcome is Outcome.SUCCESS
        assert span.ended_at == on_grid(total)
        assert response.json() == pytest.approx(expected)
    else:
        assert span.error_type == "Sandbox.Timedout"
        assert span.ended_at == timeout
