"""The Event model on the real clock: background thread, worker pool, time scale, clean shutdown."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from invokemodels import (
    BackgroundEventInvoker,
    EventInvokeConfig,
    EventOutcomeKind,
    Function,
    QueueTarget,
    ScaledClock,
)
from invokemodels.exceptions import InvalidParameterValueError

SCALE = 0.002  # 60 s of model time is 0.12 s of real time


@pytest.fixture(autouse=True)
def no_leaked_threads() -> Iterator[None]:
    before = set(threading.enumerate())
    yield
    leaked = [t for t in threading.enumerate() if t not in before and t.is_alive()]
    assert leaked == []


def flaky(failures: int) -> Any:
    seen: dict[str, int] = {}
    lock = threading.Lock()

    def handler(event: Any, context: Any) -> Any:
        with lock:
            seen[context.aws_request_id] = seen.get(context.aws_request_id, 0) + 1
            count = seen[context.aws_request_id]
        if count <= failures:
            raise RuntimeError(f"failure {count}")
        return {"ok": event}

    return handler


def test_retries_run_on_the_scaled_real_clock_and_close_drains() -> None:
    fn = Function(name="realtime", handler=flaky(2))
    failures = QueueTarget()
    with BackgroundEventInvoker(
        fn, time_scale=SCALE, seed=1, config=EventInvokeConfig(on_failure=failures)
    ) as events:
        response = events.invoke({"order": 1})
        assert response.status_code == 202
    assert events.closed
    starts = [a.started_at for a in events.of(response.request_id) if a.ran]
    assert len(starts) == 3
    # 60 s then 120 s after the failed attempt, in model seconds (real delays are scaled);
    # never early, and late by at most ~0.1 s of real time on a busy machine.
    assert 60.0 <= starts[1] - starts[0] < 110.0
    assert 120.0 <= starts[2] - starts[1] < 170.0
    outcome = events.outcome(response.request_id)
    assert (outcome.condition, outcome.approximate_invoke_count) == ("Success", 3)
    assert events.pending == 0
    assert failures.messages == []
    assert events.metrics.invocations == 3


def test_close_without_draining_cancels_queued_events() -> None:
    fn = Function(name="realtime", handler=flaky(5))
    events = BackgroundEventInvoker(fn, time_scale=0.05, seed=2)
    rid = events.invoke({}).request_id
    assert events.drain(timeout=0.2) is False  # waiting for the 60 s (3 s real) retry
    cancelled = events.close(drain=False)
    assert cancelled == [rid]
    assert events.outcome(rid).kind is EventOutcomeKind.CANCELLED
    assert [a.outcome.value for a in events.of(rid) if a.ran] == ["FunctionError"]
    assert events.close() == [rid]  # closing twice is harmless
    with pytest.raises(RuntimeError, match="after close"):
        events.invoke({})


def test_exception_in_with_block_cancels() -> None:
    fn = Function(name="realtime", handler=flaky(5))
    with pytest.raises(KeyError), BackgroundEventInvoker(fn, time_scale=0.05) as events:
        events.invoke({})
        raise KeyError("application error")
    assert [o.kind for o in events.outcomes] == [EventOutcomeKind.CANCELLED]


def test_invoke_from_many_threads_with_bounded_workers() -> None:
    running = 0
    peak = 0
    lock = threading.Lock()
    gate = threading.Event()

    def handler(event: Any, context: Any) -> Any:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        gate.wait(0.01)
        with lock:
            running -= 1
        return event

    fn = Function(name="realtime", handler=handler)
    ids: list[str] = []
    ids_lock = threading.Lock()
    with BackgroundEventInvoker(fn, time_scale=SCALE, max_workers=3, seed=3) as events:

        def client(n: int) -> None:
            for k in range(10):
                rid = events.invoke({"client": n, "k": k}).request_id
                with ids_lock:
                    ids.append(rid)

        clients = [threading.Thread(target=client, args=(n,)) for n in range(6)]
        for thread in clients:
            thread.start()
        for thread in clients:
            thread.join()
    assert len(set(ids)) == 60
    assert sorted(o.request_id for o in events.outcomes) == sorted(ids)
    assert all(o.succeeded for o in events.outcomes)
    assert 1 <= peak <= 3
    assert events.metrics.throttles == 0
    assert repr(events).startswith("<BackgroundEventInvoker realtime closed")


def test_options_pass_through_to_the_event_invoker() -> None:
    seen: list[Any] = []
    fn = Function(name="realtime", handler=lambda event, context: event)
    with BackgroundEventInvoker(
        fn, time_scale=SCALE, options={"on_outcome": seen.append, "duplicate_probability": 1.0}
    ) as events:
        events.invoke({"n": 1})
    assert sorted(o.duplicate for o in seen) == [False, True]  # workers finish in any order


def test_scaled_clock() -> None:
    clock = ScaledClock(0.01)
    start = clock.now()
    clock.sleep_until(start + 5.0)  # 5 model seconds = 0.05 s
    assert 5.0 <= clock.now() - start < 30.0
    assert abs(clock.epoch() - clock._epoch_origin - clock.now()) < 1.0
    assert clock.real_delay(60.0) == pytest.approx(0.6)
    assert repr(clock).startswith("<ScaledClock scale=0.01")
    with pytest.raises(InvalidParameterValueError, match="time_scale"):
        ScaledClock(0)
    with pytest.raises(InvalidParameterValueError, match="max_workers"):
        BackgroundEventInvoker(Function(name="f", handler=lambda e, c: e), max_workers=0)


def test_cancelling_while_an_attempt_runs_cancels_what_it_would_dispatch_next() -> None:
    gate = threading.Event()
    started = threading.Event()

    def handler(event: Any, context: Any) -> Any:
        started.set()
        gate.wait(5.0)
        return event

    fn = Function(name="realtime", handler=handler, timeout=10)
    events = BackgroundEventInvoker(fn, time_scale=SCALE, max_workers=1)
    first = events.invoke({"n": 1}).request_id
    second = events.invoke({"n": 2}).request_id
    assert started.wait(5.0)
    closer = threading.Thread(target=events.close, kwargs={"drain": False})
    closer.start()
    while not events._closing:
        gate.wait(0.001)
    gate.set()
    closer.join()
    assert events.outcome(first).succeeded
    assert events.outcome(second).kind is EventOutcomeKind.CANCELLED
    assert events.close(drain=False) == [second]


def test_a_retry_falling_due_while_closing_is_cancelled() -> None:
    gate = threading.Event()

    def handler(event: Any, context: Any) -> Any:
        if event == "slow":
            gate.wait(5.0)
            return event
        raise RuntimeError("fast failure")

    fn = Function(name="realtime", handler=handler, timeout=10)
    events = BackgroundEventInvoker(fn, time_scale=SCALE, max_workers=2)
    events.invoke("slow")
    failing = events.invoke("fast").request_id
    while not [a for a in events.of(failing) if a.ran]:
        gate.wait(0.001)
    closer = threading.Thread(target=events.close, kwargs={"drain": False})
    closer.start()
    threading.Event().wait(0.3)  # the 60 s retry (0.12 s real) falls due while closing
    gate.set()
    closer.join()
    outcome = events.outcome(failing)
    assert outcome.kind is EventOutcomeKind.CANCELLED
    assert [a.outcome.value for a in events.of(failing)] == ["FunctionError"]


def test_zero_concurrency_on_the_real_clock() -> None:
    fn = Function(name="realtime", handler=lambda event, context: event, reserved_concurrency=0)
    with BackgroundEventInvoker(fn, time_scale=SCALE) as events:
        rid = events.invoke({}).request_id
    assert events.outcome(rid).kind is EventOutcomeKind.ZERO_CONCURRENCY


def test_a_callback_that_raises_stops_the_invoker_and_close_reraises() -> None:
    def broken_callback(outcome: Any) -> None:
        raise LookupError("callback bug")

    fn = Function(name="realtime", handler=flaky(5))
    events = BackgroundEventInvoker(
        fn, time_scale=SCALE, max_workers=1, options={"on_outcome": broken_callback}
    )
    ids = {events.invoke({"n": n}).request_id for n in range(2)}
    events.drain(timeout=5.0)  # returns once the thread stopped, instead of waiting forever
    assert events._error is not None
    with pytest.raises(RuntimeError, match="background thread failed"):
        events.invoke({})
    with pytest.raises(LookupError, match="callback bug"):
        events.close(timeout=5.0)
    assert events.closed
    # Every accepted event still has exactly one outcome: decided, or cancelled by the stop.
    kinds = sorted(o.kind.value for o in events.outcomes)
    assert kinds in (["Cancelled", "RetriesExhausted"], ["RetriesExhausted", "RetriesExhausted"])
    assert {o.request_id for o in events.outcomes} == ids
    cancelled = [o.request_id for o in events.outcomes if o.kind is EventOutcomeKind.CANCELLED]
    assert events.close() == cancelled  # raised once; closing again is harmless
    assert events.pending == 0
    assert fn.in_flight == 0


def test_an_attempt_that_breaks_the_model_does_not_hang_close(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(self: Function, request: str, **kwargs: Any) -> Any:
        raise MemoryError("model broke")

    fn = Function(name="realtime", handler=flaky(0))
    events = BackgroundEventInvoker(fn, time_scale=SCALE, max_workers=1)
    monkeypatch.setattr(Function, "run_attempt", broken)
    events.invoke({})
    events.invoke({})
    with pytest.raises(MemoryError, match="model broke"):
        events.close(timeout=5.0)
    assert fn.in_flight == 0
    assert [o.kind for o in events.outcomes] == [EventOutcomeKind.CANCELLED]


def test_an_exception_in_the_with_block_wins_over_a_background_failure() -> None:
    def broken_callback(outcome: Any) -> None:
        raise LookupError("callback bug")

    fn = Function(name="realtime", handler=lambda event, context: event)
    with (
        pytest.raises(KeyError, match="application error"),
        BackgroundEventInvoker(
            fn, time_scale=SCALE, options={"on_outcome": broken_callback}
        ) as events,
    ):
        events.invoke({})
        events.drain(timeout=5.0)
        raise KeyError("application error")
    assert events.closed


def test_a_retry_policy_that_raises_stops_the_invoker_and_close_reraises() -> None:
    class Broken:
        def decide(self, failure: Any, rng: Any) -> Any:
            raise ArithmeticError("policy bug")

        def succeeded(self, attempts: int) -> None:
            pass

    fn = Function(name="realtime", handler=flaky(5))
    events = BackgroundEventInvoker(fn, time_scale=SCALE, options={"retry_policy": Broken()})
    request_id = events.invoke({}).request_id
    assert events.drain(timeout=5.0) is False  # the background thread failed
    with pytest.raises(ArithmeticError, match="policy bug"):
        events.close()
    assert events.closed
    assert fn.in_flight == 0
    assert events.metrics.async_event_age_count == 1
    # Not lost: it went back to the queue, and was cancelled as the invoker stopped.
    assert events.invoker.pending == 0
    assert events.invoker.outcome(request_id).kind is EventOutcomeKind.CANCELLED


class Halt(BaseException):
    """A BaseException that is not an Exception."""


@pytest.mark.parametrize("stop", [SystemExit(3), Halt("halt"), KeyboardInterrupt()])
def test_a_callback_that_raises_a_base_exception_stops_the_invoker_and_close_reraises(
    stop: BaseException,
) -> None:
    # sys.exit() in a callback ended the background thread, and close() waited forever.
    def callback(outcome: Any) -> None:
        raise stop

    fn = Function(name="realtime", handler=flaky(0))
    events = BackgroundEventInvoker(
        fn, time_scale=SCALE, max_workers=1, options={"on_outcome": callback}
    )
    ids = {events.invoke({"n": n}).request_id for n in range(3)}
    raised: list[BaseException] = []

    def close() -> None:
        try:
            events.close()
        except BaseException as exc:
            raised.append(exc)

    closer = threading.Thread(target=close, daemon=True)
    closer.start()
    closer.join(timeout=10.0)  # a regression fails here instead of hanging the suite
    assert not closer.is_alive()
    assert raised == [stop]
    assert events.closed
    assert {o.request_id for o in events.outcomes} == ids
    assert events.pending == 0
    assert fn.in_flight == 0
    assert events.close() == [
        o.request_id for o in events.outcomes if o.kind is EventOutcomeKind.CANCELLED
    ]
