"""One attempt lifecycle: take a concurrency slot, run the attempt, release it at its end.

Every model (sync, Event and its real-clock worker, the mapping loop) runs its tries
through an `AttemptLifecycle`, the way SimPy's ``BaseResource`` owns the bookkeeping of a
resource and a ``Store`` fills ``_do_put`` / ``_do_get``: the base takes the slot
(`Function.try_acquire`), runs the attempt (`Function.run_attempt` on the model's clock),
gives the slot back when the run raises (a model error, never a function outcome),
releases it at the attempt's end and hands the history over for the try's `Span`.  A
model fills two hooks, `throttled` and `ended`, with what is its own: its response, its
retry rules, its poller hand-back.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from invokemodels.core._clock import Clock
from invokemodels.core._context import ClientContext
from invokemodels.core._function import AttemptResult, Function
from invokemodels.core._history import History, Span
from invokemodels.core._logs import WATCHED, AttemptLog, LogRecorder, watching
from invokemodels.core._scheduler import Scheduler

__all__ = ["AttemptLifecycle"]

J = TypeVar("J")


class AttemptLifecycle(Generic[J]):
    """The lifecycle of a model's tries on one `Function`: slot, run, release, record.

    A try goes through, in this order:

    - `admit` ``(job, request_id, now)``: takes a concurrency slot.  True: the try holds
      it.  False: the function throttled it, and the `throttled` hook has been called
      with the ``ThrottleReason`` (the hook records the throttle and reacts; it may raise).
    - `run` ``(request, request_id)``: runs the attempt on the scheduler's clock and
      returns its `AttemptResult`.  A function error is a result; when the run *raises*
      (the model's own failure, e.g. a ``duration`` callable that raises) the slot is
      given back before the exception propagates.
    - `begin` is `admit` then `run` in one call (None when throttled): the hot path;
      `run_and_end` is `run` then `end` in one call.
    - `end` ``(job, result, now)``: releases the slot at ``result.ended_at`` and then
      calls the `ended` hook.  When ``now`` is given and the attempt has already ended by
      then (a caller that waited, a real clock) this happens at once, without a
      scheduler entry; otherwise through the scheduler at ``ended_at``.

    ``job`` is whatever the model needs in its hooks (an event, a batch, None).  `record`
    adds a try's span to the model's `History` (nothing when it keeps nothing).  With
    every try going through these steps a model leaves ``function.in_flight`` and the
    account's counters balanced whatever its tries do.

    Args:
        function: the `Function` the tries run.
        scheduler: the scheduler whose clock the attempts run on.
        history: the model's `History`.
    """

    __slots__ = (
        "_ended",
        "acquire",
        "clock",
        "function",
        "history",
        "release",
        "scheduler",
    )

    def __init__(self, function: Function, scheduler: Scheduler, history: History) -> None:
        self.function = function
        self.scheduler = scheduler
        self.clock: Clock = scheduler.clock
        self.history = history
        # Bound once: these run on every try of every model.
        self.acquire: Callable[[], str | None] = function.try_acquire
        """Take a slot (`Function.try_acquire`): None, or the ``ThrottleReason``."""
        self.release: Callable[[], None] = function.release
        """Give a slot back (`Function.release`)."""
        # A model without an `ended` hook (the sync one) pays no call for it at each end.
        ended = self.ended
        self._ended: Callable[[J, AttemptResult, bool], None] | None = (
            None if type(self).ended is AttemptLifecycle.ended else ended
        )

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.function.name} in_flight={self.function.in_flight}>"

    # -- the hooks a model fills ----------------------------------------------------------

    def throttled(self, job: J, request_id: str, reason: str, now: float) -> None:
        """Hook: the try ``request_id`` found no free slot at ``now`` (``reason``).

        Records the throttle (see `record`) and applies the model's rule: a 429, a retry,
        a hand-back to the poller.  The default does nothing.
        """

    def ended(self, job: J, result: AttemptResult, scheduled: bool) -> None:
        """Hook: the attempt ended and its slot is free again.

        ``scheduled`` is True when this runs as a scheduler callback at ``ended_at``,
        False when `end` was called at or after the end.  The default does nothing.
        """

    # -- the steps ------------------------------------------------------------------------

    def admit(self, job: J, request_id: str, now: float) -> bool:
        """Take a slot for the try; False (after the `throttled` hook) when throttled."""
        reason = self.acquire()
        if reason is None:
            return True
        self.throttled(job, request_id, reason, now)
        return False

    def run(
        self,
        request: str,
        request_id: str,
        *,
        qualifier: str | None = None,
        client_context: ClientContext | None = None,
    ) -> AttemptResult:
        """Run the admitted attempt (`Function.run_attempt`); a raise gives the slot back.

        When a `LogRecorder` watches the function, its log is captured and recorded.
        """
        if WATCHED:
            recorder = watching(self.function)
            if recorder is not None:
                return self.run_logged(recorder, request, request_id, qualifier, client_context)[0]
        try:
            return self.function.run_attempt(
                request,
                request_id=request_id,
                clock=self.clock,
                qualifier=qualifier,
                client_context=client_context,
                handler_time=self.scheduler.handler_time,
            )
        except BaseException:
            self.release()
            raise

    def run_logged(
        self,
        recorder: LogRecorder,
        request: str,
        request_id: str,
        qualifier: str | None = None,
        client_context: ClientContext | None = None,
    ) -> tuple[AttemptResult, AttemptLog]:
        """`run` with the attempt's log captured by ``recorder`` (``LogType=Tail``)."""
        function = self.function

        def attempt() -> AttemptResult:
            return function.run_attempt(
                request,
                request_id=request_id,
                clock=self.clock,
                qualifier=qualifier,
                client_context=client_context,
                handler_time=self.scheduler.handler_time,
            )

        try:
            result: AttemptResult
            result, log = recorder.run(function, request_id, self.clock, attempt)
        except BaseException:
            self.release()
            raise
        return result, log

    def begin(
        self,
        job: J,
        request: str,
        request_id: str,
        now: float,
        qualifier: str | None = None,
        client_context: ClientContext | None = None,
    ) -> AttemptResult | None:
        """`admit` then `run` in one step: the result, or None when throttled."""
        function = self.function
        reason = self.acquire()
        if reason is not None:
            self.throttled(job, request_id, reason, now)
            return None
        if WATCHED:
            recorder = watching(function)
            if recorder is not None:
                return self.run_logged(recorder, request, request_id, qualifier, client_context)[0]
        try:
            return function.run_attempt(
                request,
                request_id=request_id,
                clock=self.clock,
                qualifier=qualifier,
                client_context=client_context,
                handler_time=self.scheduler.handler_time,
            )
        except BaseException:
            self.release()
            raise

    def run_and_end(self, job: J, request: str, request_id: str, now: float) -> None:
        """`run` the admitted attempt, then `end` it with ``now``, in one step.

        The hot path of a model that runs its tries inline (the Event model's
        `InlineExecutor`): the same steps as ``end(job, run(request, request_id), now)``.
        When the run raises, the slot is given back (as `run` does) and nothing is ended.
        """
        if WATCHED and watching(self.function) is not None:
            self.end(job, self.run(request, request_id), now)
            return
        try:
            result = self.function.run_attempt(
                request,
                request_id=request_id,
                clock=self.clock,
                handler_time=self.scheduler.handler_time,
            )
        except BaseException:
            self.release()
            raise
        if result.ended_at <= now:
            self.release()
            ended = self._ended
            if ended is not None:
                ended(job, result, False)
        else:
            self.scheduler.at(result.ended_at, self._end, job, result)
        # A failed attempt's traceback keeps this frame alive: holding the result here
        # too would make a reference cycle per error, left for the cyclic GC to find.
        del result

    def end(self, job: J, result: AttemptResult, now: float | None = None) -> None:
        """Release the slot at ``result.ended_at``, then call `ended`.

        At once when ``now`` is given and ``result.ended_at <= now``; else the scheduler
        does it at ``ended_at``.
        """
        if now is not None and result.ended_at <= now:
            self.release()
            ended = self._ended
            if ended is not None:
                ended(job, result, False)
        else:
            self.scheduler.at(result.ended_at, self._end, job, result)

    def _end(self, job: J, result: AttemptResult) -> None:
        self.release()
        ended = self._ended
        if ended is not None:
            ended(job, result, True)

    def record(self, make: Callable[..., Span], *args: Any) -> None:
        """Add the span ``make(*args)`` to the history, built when read (`History.defer`)."""
        history = self.history
        if history.keep:
            history.defer(make, *args)
