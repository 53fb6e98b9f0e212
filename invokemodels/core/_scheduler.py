"""The discrete-event core: a heap of ``(when, seq, callback)``, like SimPy's ``Environment``.

The heap holds plain ``(ticks, seq, timer)`` tuples: ``heapq`` compares them in C (the
``seq`` is unique, so the comparison never reaches the `Timer`).  Beside it a deque holds
a *sorted run*: a timer due at or after the last one appended to the run is appended to
it instead of being pushed on the heap.  Timers are mostly booked in time order (every
arrival of a run scheduled up front, ``sched.at(i * 0.001, ...)``; a wake-up for the
current instant; a retry a fixed delay after now), so most of them never enter the heap,
and the heap stays small.  The next timer is the smaller head of the two (by ``(ticks,
seq)``, the heap's own order): exactly the order of one heap.

Callbacks run in time order; two callbacks due at the same instant run in the
order they were scheduled (``seq`` breaks the tie), so one seed gives one
timeline.  Time is kept in integer ticks (see `invokemodels.core._clock`).
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections import deque
from collections.abc import Callable
from typing import Any

import attrs

from invokemodels.core._clock import (
    TICKS_PER_SECOND,
    Clock,
    TickClock,
    VirtualClock,
    tick_clock,
    to_ticks,
)
from invokemodels.core._handler_time import check_handler_time
from invokemodels.core._validate import implements

__all__ = ["Scheduler", "Timer"]


class Timer:
    """A scheduled callback; `cancel` it to keep it from running."""

    __slots__ = ("args", "callback", "seq", "ticks")

    def __init__(
        self, ticks: int, seq: int, callback: Callable[..., object] | None, args: tuple[Any, ...]
    ) -> None:
        self.ticks = ticks
        self.seq = seq
        self.callback = callback
        self.args = args

    def __repr__(self) -> str:
        state = "cancelled" if self.callback is None else "pending"
        return f"<Timer when={self.when!r} {state}>"

    @property
    def when(self) -> float:
        """When the callback is due, in clock seconds."""
        return self.ticks / TICKS_PER_SECOND

    @property
    def cancelled(self) -> bool:
        """True once `cancel` was called (or the callback ran)."""
        return self.callback is None

    def cancel(self) -> None:
        """Keep the callback from running; harmless if it already ran."""
        self.callback = None
        self.args = ()


def _default_clock() -> Clock:
    return VirtualClock()


@attrs.define(repr=False)
class Scheduler:
    """Runs callbacks at points in time, on a `VirtualClock` (default) or any `Clock`.

    On a virtual clock (``clock.virtual``), running the scheduler jumps time from
    one callback to the next, so a six-hour retry window passes in microseconds:
    a `TickClock` is moved in ticks, any other virtual clock with ``sleep_until``.
    On a real clock it sleeps until each callback is due.

    Args:
        clock: the `Clock` (default: a new `VirtualClock`).
        handler_time: virtual time inside handler code (default False).  True makes every
            attempt run by a model on this scheduler patch the handler's clocks while it
            runs: ``time.time()``, ``datetime.now()`` and friends read the attempt's
            virtual instant, ``time.monotonic()`` / ``time.perf_counter()`` its clock
            time, and ``time.sleep(s)`` spends ``s`` seconds of the attempt (a sleep past
            the timeout ends it as ``Sandbox.Timedout``).  Needs a virtual clock and the
            ``time-machine`` package (``pip install 'invokemodels[handler-time]'``);
            either missing raises `InvalidParameterValueError` naming ``handler_time``.
            What it reaches and what it cannot: docs/reference/handler-time.md.

    Example::

        sched = Scheduler()
        sched.schedule(60.0, print, "one minute later")
        sched.run_until_idle()
        assert sched.now == 60.0
    """

    clock: Clock = attrs.field(
        factory=_default_clock,
        validator=implements("clock", "Clock", ("now", "epoch", "sleep_until"), ("virtual",)),
    )
    handler_time: bool = attrs.field(
        default=False,
        kw_only=True,
        validator=lambda scheduler, _attribute, value: check_handler_time(
            value, bool(scheduler.clock.virtual)
        ),
    )
    _heap: list[tuple[int, int, Timer]] = attrs.field(factory=list, init=False)
    # The sorted run: entries in ``(ticks, seq)`` order, each due at or after the one before.
    _run: deque[tuple[int, int, Timer]] = attrs.field(factory=deque, init=False)
    # Entries booked for the instant they were booked at (a wake-up for "now"), in order.
    _soon: deque[tuple[int, int, Timer]] = attrs.field(factory=deque, init=False)
    # False: every timer goes on the heap (the plain path the sorted run is tested against).
    _sorted_run: bool = attrs.field(default=True, init=False)
    _seq: itertools.count[int] = attrs.field(factory=itertools.count, init=False)
    _virtual: TickClock | None = attrs.field(default=None, init=False)
    _is_virtual: bool = attrs.field(default=False, init=False)
    _running: bool = attrs.field(default=False, init=False)

    def __attrs_post_init__(self) -> None:
        self._is_virtual = bool(self.clock.virtual)
        self._virtual = tick_clock(self.clock)

    def __repr__(self) -> str:
        return f"<Scheduler now={self.now!r} pending={len(self)}>"

    def __len__(self) -> int:
        return sum(
            1
            for line in (self._heap, self._run, self._soon)
            for entry in line
            if entry[2].callback is not None
        )

    @property
    def now(self) -> float:
        """The clock's current time in seconds."""
        return self.clock.now()

    @property
    def is_virtual(self) -> bool:
        """True when the scheduler drives a virtual clock (``clock.virtual``)."""
        return self._is_virtual

    @property
    def running(self) -> bool:
        """True while a callback of this scheduler is executing."""
        return self._running

    def _now_ticks(self) -> int:
        if self._virtual is not None:
            return self._virtual.ticks
        return to_ticks(self.clock.now())

    def schedule(self, delay: float, callback: Callable[..., object], *args: Any) -> Timer:
        """Run ``callback(*args)`` ``delay`` seconds from now (``delay >= 0``, finite).

        The delay is rounded to the nearest nanosecond tick.  A negative, ``nan`` or
        infinite delay (or one whose ticks are past the float range) is a `ValueError`.
        """
        ticks = _finite_ticks("delay", delay)
        if ticks < 0 or delay < 0:
            msg = f"delay must be >= 0 seconds, got {_show(delay)}"
            raise ValueError(msg)
        return self._push(self._now_ticks() + ticks, callback, args)

    def at(self, when: float, callback: Callable[..., object], *args: Any) -> Timer:
        """Run ``callback(*args)`` at clock time ``when``; a time in the past means now.

        ``when`` is rounded to the nearest nanosecond tick (a model that compares the
        clock with a time it computed rounds it with `invokemodels.core._clock.on_grid`);
        ``nan`` or an infinite time is a `ValueError`.
        """
        if type(when) is float and -_FAST_LIMIT < when < _FAST_LIMIT:
            ticks = round(when * TICKS_PER_SECOND)
        else:
            ticks = _finite_ticks("when", when)
        virtual = self._virtual
        now = virtual.ticks if virtual is not None else to_ticks(self.clock.now())
        if ticks < now:  # noqa: PLR1730 - the hot path avoids a call
            ticks = now
        seq = next(self._seq)
        timer = Timer(ticks, seq, callback, args)
        if self._sorted_run:
            if ticks == now:
                soon = self._soon
                if not soon or soon[-1][0] == ticks:
                    soon.append((ticks, seq, timer))
                    return timer
            run = self._run
            if not run or run[-1][0] <= ticks:
                run.append((ticks, seq, timer))
                return timer
        heapq.heappush(self._heap, (ticks, seq, timer))
        return timer

    def _push(self, ticks: int, callback: Callable[..., object], args: tuple[Any, ...]) -> Timer:
        seq = next(self._seq)
        timer = Timer(ticks, seq, callback, args)
        if self._sorted_run:
            if ticks == self._now_ticks():
                soon = self._soon
                if not soon or soon[-1][0] == ticks:
                    soon.append((ticks, seq, timer))
                    return timer
            run = self._run
            if not run or run[-1][0] <= ticks:
                run.append((ticks, seq, timer))
                return timer
        heapq.heappush(self._heap, (ticks, seq, timer))
        return timer

    def _head(self) -> tuple[int, int, Timer] | None:
        # The next pending entry of the three, cancelled ones dropped; not removed.
        heap = self._heap
        while heap and heap[0][2].callback is None:
            heapq.heappop(heap)
        head = heap[0] if heap else None
        for line in (self._run, self._soon):
            while line and line[0][2].callback is None:
                line.popleft()
            if line and (head is None or line[0] < head):
                head = line[0]
        return head

    def _pop(self) -> tuple[int, int, Timer] | None:
        # The next entry of the three (cancelled or not), removed; None when all are empty.
        heap = self._heap
        run = self._run
        soon = self._soon
        if soon:
            if run and run[0] < soon[0]:
                if heap and heap[0] < run[0]:
                    return heapq.heappop(heap)
                return run.popleft()
            if heap and heap[0] < soon[0]:
                return heapq.heappop(heap)
            return soon.popleft()
        if run:
            if heap and heap[0] < run[0]:
                return heapq.heappop(heap)
            return run.popleft()
        return heapq.heappop(heap) if heap else None

    def next_due(self) -> float | None:
        """When the next pending callback is due, or None when idle."""
        head = self._head()
        return head[0] / TICKS_PER_SECOND if head is not None else None

    def quiet_until(self, when: float) -> bool:
        """True when the clock is virtual, no callback is running and none is due by ``when``.

        Then a caller may move the clock to ``when`` itself: nothing would have run in
        between.  (A callback due exactly at ``when`` makes it False.)
        """
        if not self._is_virtual or self._running:
            return False
        if not self._heap and not self._run and not self._soon:  # a lone invoke: nothing booked
            return True
        head = self._head()
        return head is None or head[0] / TICKS_PER_SECOND > when

    def step(self) -> bool:
        """Advance to the next pending callback and run it; False when there is none."""
        while (entry := self._pop()) is not None:
            ticks, _seq, timer = entry
            callback = timer.callback
            if callback is None:
                continue
            self._advance(ticks)
            timer.callback = None
            _SETATTR(self, "_running", True)
            try:
                callback(*timer.args)
            finally:
                _SETATTR(self, "_running", False)
            return True
        return False

    def _advance(self, ticks: int) -> None:
        if self._virtual is not None:
            self._virtual.advance_to_ticks(max(ticks, self._virtual.ticks))
        else:
            self.clock.sleep_until(ticks / TICKS_PER_SECOND)

    def run(self, until: float | None = None) -> None:
        """Run callbacks in time order.

        With ``until``, run every callback due at or before ``until`` and leave
        the clock at ``until``; without it, the same as `run_until_idle`.
        """
        if until is None:
            self.run_until_idle()
            return
        limit = _finite_ticks("until", until)
        while True:
            head = self._head()
            if head is None or head[0] > limit:
                break
            self.step()
        if limit > self._now_ticks():
            self._advance(limit)

    def run_until_idle(self, *, max_steps: int | None = None) -> int:
        """Run until no callback is pending; returns the number of callbacks run.

        ``max_steps`` guards against a model that never goes idle (raises
        ``RuntimeError`` when reached).
        """
        virtual = self._virtual
        if virtual is None or max_steps is not None:
            steps = 0
            while self.step():
                steps += 1
                if max_steps is not None and steps >= max_steps and self.next_due() is not None:
                    msg = f"scheduler still busy after max_steps={max_steps} callbacks"
                    raise RuntimeError(msg)
            return steps
        # The loop of `step` on a tick clock, inlined: it is the loop of every long run.
        # ``running`` is set once around the loop: between two callbacks nothing else runs.
        # The next entry is the smaller head of the heap and the sorted run.
        heap = self._heap
        run = self._run
        soon = self._soon
        pop = heapq.heappop
        advance = virtual.advance_to_ticks
        steps = 0
        _SETATTR(self, "_running", True)
        try:
            while True:
                # `_pop`, inlined.
                if soon:
                    if run and run[0] < soon[0]:
                        if heap and heap[0] < run[0]:
                            ticks, _seq, timer = pop(heap)
                        else:
                            ticks, _seq, timer = run.popleft()
                    elif heap and heap[0] < soon[0]:
                        ticks, _seq, timer = pop(heap)
                    else:
                        ticks, _seq, timer = soon.popleft()
                elif run:
                    if heap and heap[0] < run[0]:
                        ticks, _seq, timer = pop(heap)
                    else:
                        ticks, _seq, timer = run.popleft()
                elif heap:
                    ticks, _seq, timer = pop(heap)
                else:
                    break
                callback = timer.callback
                if callback is None:
                    continue
                now = virtual.ticks
                advance(ticks if ticks > now else now)
                timer.callback = None
                callback(*timer.args)
                steps += 1
        finally:
            _SETATTR(self, "_running", False)
        return steps

    def run_for(self, seconds: float) -> None:
        """Run for ``seconds`` from now (see `run`)."""
        self.run(until=self.now + seconds)


_SETATTR = object.__setattr__
# Below this many seconds a float converts to ticks without overflow or a non-finite value.
_FAST_LIMIT = 1e290


def _finite_ticks(parameter: str, seconds: float) -> int:
    """``to_ticks(seconds)``, or a `ValueError` naming ``parameter`` when that is no time."""
    try:
        scaled = float(seconds) * TICKS_PER_SECOND
    except OverflowError:  # an int past the float range
        scaled = math.inf
    if not math.isfinite(scaled):
        msg = f"{parameter} must be a finite number of seconds, got {_show(seconds)}"
        raise ValueError(msg)
    return to_ticks(seconds)


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:20]}...({len(text)} characters)"


def default_scheduler(clock: Clock | None) -> Scheduler:
    """A scheduler on ``clock``, or on a new `VirtualClock` when None."""
    return Scheduler(clock=clock if clock is not None else VirtualClock())
