"""The asynchronous model on the real clock, for application code.

`BackgroundEventInvoker` runs the same `EventInvoker` (same queue, retry rules, records)
on a `ScaledClock`: a background thread owns the scheduler and sleeps until the next
event is due, and a bounded pool of worker threads runs the attempts.  ``time_scale``
shrinks every delay of the model (0.01 turns the 60 s retry into 0.6 s of real time).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from types import TracebackType
from typing import Any, Final

import attrs
from typing_extensions import Self

from invokemodels.core._clock import ScaledClock
from invokemodels.core._function import Function
from invokemodels.core._history import History, Span, new_history
from invokemodels.core._protocols import DeadLetterQueue, DeadLetterTopic, InvokeResponse
from invokemodels.core._scheduler import Scheduler
from invokemodels.core._validate import boolean, in_range, instance_of
from invokemodels.event._invoker import (
    AttemptHandle,
    EventInvoker,
    EventMetrics,
    EventOutcome,
)
from invokemodels.event._policy import EventInvokeConfig
from invokemodels.exceptions import InvalidParameterValueError

__all__ = ["BackgroundEventInvoker"]


# The EventInvoker arguments BackgroundEventInvoker sets itself (its own arguments and clock).
_OWN_OPTIONS: Final = frozenset(
    {
        "function",
        "config",
        "dead_letter",
        "scheduler",
        "seed",
        "keep_records",
        "history",
        "max_in_flight",
        "executor",
    }
)


def _check_options(_instance: Any, _attribute: Any, value: Any) -> None:
    if not isinstance(value, Mapping):
        raise InvalidParameterValueError(
            "options", value, "must be a mapping of EventInvoker arguments"
        )
    allowed = {str(field.alias) for field in attrs.fields(EventInvoker) if field.init}
    allowed -= _OWN_OPTIONS
    unknown = [key for key in value if key not in allowed]
    if unknown:
        raise InvalidParameterValueError(
            "options",
            unknown[0],
            f"is not an EventInvoker argument BackgroundEventInvoker passes on; allowed: "
            f"{', '.join(sorted(allowed))}",
        )


@attrs.define(repr=False, eq=False, on_setattr=attrs.setters.NO_OP)
class BackgroundEventInvoker:
    """`EventInvoker` on the real clock: a background thread and a bounded worker pool.

    ``invoke`` may be called from any thread; it returns 202 at once, as on Lambda.  The
    background thread dispatches events when they are due; at most ``max_workers``
    attempts run at once (ready events wait in the queue meanwhile, and the function's
    reserved concurrency and account limit throttle as usual).  Use it as a context
    manager, or call `close`:

    - ``close()`` (and a normal ``with`` exit) drains: it waits until every event has an
      outcome, retries included (scaled by ``time_scale``).
    - ``close(drain=False)`` (and a ``with`` exit on an exception) cancels: attempts
      running now finish, every queued event ends with `EventOutcomeKind.CANCELLED`.

    Either way every thread it started is joined before ``close`` returns.  Function
    timeouts are enforced in real, unscaled seconds; a handler that overruns its timeout
    is recorded as ``Sandbox.Timedout`` at once, but Python cannot stop a thread, so the
    handler's own (daemon) thread runs on until the handler returns.  If a callback raises on the
    background thread (``on_outcome``, a custom retry policy), the invoker stops as
    ``close(drain=False)`` would (an event whose retry policy raised goes back to the queue,
    and is cancelled with the rest), and the next `close` re-raises that exception; this holds
    for any `BaseException` (``sys.exit()`` in a callback included), and `close` returns
    (or raises) even then.

    Args:
        function: the function to invoke.
        config: the `EventInvokeConfig`.
        dead_letter: the dead-letter queue or topic (see `EventInvoker`).
        time_scale: real seconds per model second (default 1.0; 0.01 makes the 60 s
            retry take 0.6 s).
        max_workers: worker threads, the most attempts running at once (default 4).
        seed: seeds request ids and jitter.
        keep_records: keep every outcome (default True; see `EventInvoker`).
        history: the `History` of the tries (default: a new kept one); read it with
            `of` (under the lock) while the worker runs, or directly once closed.
        options: further `EventInvoker` keyword arguments (``retry_policy``,
            ``on_outcome``, ``duplicate_probability``, ...).
        lock: the condition the background thread and the workers hold while they touch
            the model (default: a new one).  Pass one to share it with other code that
            takes the same function's concurrency slots from other threads (a local
            Invoke endpoint's synchronous calls), so the slot counts stay exact.
    """

    function: Function
    config: EventInvokeConfig = attrs.field(factory=EventInvokeConfig)
    dead_letter: DeadLetterQueue | DeadLetterTopic | None = None
    time_scale: float = attrs.field(default=1.0, validator=in_range("time_scale", 1e-6, 1e6))
    max_workers: int = attrs.field(
        default=4, validator=in_range("max_workers", 1, 1024, integer=True)
    )
    seed: int | None = None
    keep_records: bool = attrs.field(default=True, validator=boolean("keep_records"))
    history: History = attrs.field(
        default=None,
        converter=new_history,
        validator=instance_of("history", History, "a History"),
    )
    options: Mapping[str, Any] = attrs.field(factory=dict, validator=_check_options)
    lock: threading.Condition = attrs.field(
        factory=threading.Condition,
        validator=instance_of("lock", threading.Condition, "a threading.Condition"),
    )
    clock: ScaledClock = attrs.field(init=False)
    invoker: EventInvoker = attrs.field(init=False)
    _cond: threading.Condition = attrs.field(init=False)
    _executor: ThreadPoolExecutor = attrs.field(init=False)
    _thread: threading.Thread = attrs.field(init=False)
    _closing: bool = attrs.field(default=False, init=False)
    _closed: bool = attrs.field(default=False, init=False)
    _cancelled: list[str] = attrs.field(factory=list, init=False)
    _error: BaseException | None = attrs.field(default=None, init=False)
    _error_raised: bool = attrs.field(default=False, init=False)
    _stopped: bool = attrs.field(default=False, init=False)

    def __attrs_post_init__(self) -> None:
        self._cond = self.lock
        self.clock = ScaledClock(self.time_scale)
        options = dict(self.options)
        callback = options.get("on_outcome")
        if callback is not None:
            options["on_outcome"] = self._guarded(callback)
        self.invoker = EventInvoker(
            self.function,
            config=self.config,
            dead_letter=self.dead_letter,
            scheduler=Scheduler(clock=self.clock),
            seed=self.seed,
            keep_records=self.keep_records,
            history=self.history,
            max_in_flight=self.max_workers,
            executor=_WorkerPool(self),
            **options,
        )
        self._executor = ThreadPoolExecutor(
            max_workers=self.max_workers, thread_name_prefix="invokemodels-event-worker"
        )
        self._thread = threading.Thread(
            target=self._loop, name=f"invokemodels-event-{self.function.name}", daemon=True
        )
        self._thread.start()

    def __repr__(self) -> str:
        state = "closed" if self._closed else "running"
        return (
            f"<BackgroundEventInvoker {self.function.name} {state} "
            f"pending={self.invoker.pending} workers={self.max_workers}>"
        )

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
            return
        # The exception leaving the with block matters more than a background failure.
        with contextlib.suppress(BaseException):
            self.close(drain=False)

    # -- the Invoker side (any thread) ---------------------------------------------------------

    def invoke(self, payload: Any) -> InvokeResponse:
        """Queue an event; returns 202 at once (refusals raise, as `EventInvoker.invoke`)."""
        with self._cond:
            if self._error is not None:
                msg = "invoke() after the background thread failed (close() re-raises why)"
                raise RuntimeError(msg) from self._error
            if self._closing:
                msg = "invoke() after close(): this BackgroundEventInvoker is shut down"
                raise RuntimeError(msg)
            response = self.invoker.invoke(payload)
            self._cond.notify_all()
        return response

    def drain(self, timeout: float | None = None) -> bool:
        """Wait (real seconds) until every accepted event has an outcome; False on timeout.

        Also returns False when the background thread failed (`close` raises why): the
        events it had not ended are then cancelled, not run.
        """
        with self._cond:
            self._cond.wait_for(
                lambda: self.invoker.pending == 0 or self._error is not None or self._stopped,
                timeout,
            )
            return self.invoker.pending == 0 and self._error is None

    def close(self, *, drain: bool = True, timeout: float | None = None) -> list[str]:
        """Stop the background thread and the workers; returns the ids of cancelled events.

        With ``drain`` (default), first wait up to ``timeout`` real seconds (None: for as
        long as it takes) for every event to reach its outcome; whatever is still queued
        after that is cancelled.  Safe to call twice.  Raises the exception that stopped
        the background thread, if one did (once).
        """
        if not self._closed:
            if drain:
                self.drain(timeout)
            with self._cond:
                self._closing = True
                self._cond.notify_all()
            self._thread.join()
            self._executor.shutdown(wait=True)
            self._closed = True
        if self._error is not None and not self._error_raised:
            self._error_raised = True
            raise self._error
        return list(self._cancelled)

    @property
    def closed(self) -> bool:
        """True once `close` returned."""
        return self._closed

    # -- queries (any thread) ------------------------------------------------------------------

    def outcome(self, request_id: str) -> EventOutcome:
        """`EventInvoker.outcome`, under the lock."""
        with self._cond:
            return self.invoker.outcome(request_id)

    @property
    def outcomes(self) -> list[EventOutcome]:
        """`EventInvoker.outcomes`, under the lock."""
        with self._cond:
            return self.invoker.outcomes

    def of(self, item_id: str) -> list[Span]:
        """`History.of` on the tries' history, under the lock (every try, throttles included)."""
        with self._cond:
            return self.history.of(item_id)

    @property
    def metrics(self) -> EventMetrics:
        """A snapshot of the metrics."""
        with self._cond:
            return attrs.evolve(self.invoker.metrics)

    @property
    def pending(self) -> int:
        """Events accepted but without an outcome yet."""
        with self._cond:
            return self.invoker.pending

    # -- the background thread -----------------------------------------------------------------

    def _guarded(
        self, callback: Callable[[EventOutcome], object]
    ) -> Callable[[EventOutcome], None]:
        """``on_outcome`` that cannot break the loop: an error stops the invoker instead."""

        def on_outcome(outcome: EventOutcome) -> None:
            try:
                callback(outcome)
            except BaseException as exc:  # sys.exit() too: it must not end the thread
                self._fail(exc)

        return on_outcome

    def _submit(self, attempt: AttemptHandle, now: float) -> None:
        """Start a try on a worker thread (called by the dispatcher, lock held)."""
        if self._closing:
            self._cancelled.append(attempt.request_id)
            attempt.cancel()
            return
        if not attempt.start(now):
            return
        self._executor.submit(self._attempt, attempt)

    def _attempt(self, attempt: AttemptHandle) -> None:
        try:
            result = attempt.run()
        except BaseException as exc:
            # Not a function error (those are results): the model broke.  Give the slot
            # back so the background thread can stop instead of waiting for this try.
            with self._cond:
                attempt.abandon(requeue=False)
                self._fail(exc)
            return
        with self._cond:
            attempt.finish(result)
            self._cond.notify_all()

    def _fail(self, exc: BaseException) -> None:
        """Keep the first error and stop taking work (lock held)."""
        if self._error is None:
            self._error = exc
        self._closing = True
        self._cond.notify_all()

    def _loop(self) -> None:
        try:
            self._run()
        except BaseException as exc:
            # The thread is ending anyway: keep why, so that close() raises it instead of
            # waiting for events that nothing will dispatch.
            with self._cond:
                self._fail(exc)
        finally:
            with self._cond:
                self._stopped = True
                self._closing = True
                self._cond.notify_all()

    def _run(self) -> None:
        invoker = self.invoker
        sched = invoker.scheduler
        clock = self.clock
        with self._cond:
            while True:
                if self._closing and invoker.in_flight == 0:
                    self._cancelled.extend(invoker.cancel_pending())
                    self._cond.notify_all()
                    return
                due = sched.next_due()
                now = clock.now()
                if due is not None and due <= now:
                    try:
                        sched.step()
                    except BaseException as exc:
                        self._fail(exc)
                        continue
                    if invoker.pending == 0:
                        self._cond.notify_all()
                    continue
                self._cond.wait(None if due is None else clock.real_delay(due - now))


@attrs.frozen
class _WorkerPool:
    """The `AttemptExecutor` of a `BackgroundEventInvoker`: its worker threads."""

    background: BackgroundEventInvoker

    def submit(self, attempt: AttemptHandle, now: float) -> None:
        self.background._submit(attempt, now)
