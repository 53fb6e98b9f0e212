"""`MappingRunner`: event source mappings as a long-running process on the real clock.

The mapping loop is the one the in-process models use; the runner only drives its
`Scheduler` on a real clock: it sleeps until the next callback is due (waking early when
asked to stop), runs it, and on `stop` (or SIGINT / SIGTERM with ``handle_signals``)
finishes what it is doing and shuts down cleanly.

A batch's handler runs inside one scheduler callback (on a real clock the attempt has
ended when its handler returns) and its completion is the next callback, so when the
runner stops it disables every mapping, runs the completions that are due (every batch
that ran is completed: its messages deleted, its checkpoint advanced), and then calls each
poller's ``shutdown()`` if it has one
(`SQSConsumer` returns the messages it received but never handed to the function;
`StreamConsumer` saves its checkpoints).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import attrs

from invokemodels.core._scheduler import Scheduler
from invokemodels.core._validate import check_range
from invokemodels.exceptions import InvalidParameterValueError
from invokemodels.mapping._loop import EventSourceMapping

__all__ = ["MappingRunner"]


def _mappings(value: Any) -> tuple[EventSourceMapping[Any], ...]:
    if isinstance(value, EventSourceMapping):
        return (value,)
    mappings = tuple(value)
    if not mappings or not all(isinstance(m, EventSourceMapping) for m in mappings):
        raise InvalidParameterValueError(
            "mappings", value, "must be one EventSourceMapping or a non-empty sequence of them"
        )
    schedulers = {id(m.scheduler) for m in mappings}
    if len(schedulers) != 1:
        raise InvalidParameterValueError(
            "mappings", value, "must all run on one Scheduler (one clock for the process)"
        )
    return mappings


@attrs.define(repr=False, eq=False)
class MappingRunner:
    """Runs event source mappings on the real clock until stopped.

    Args:
        mappings: one `EventSourceMapping` or several on one `Scheduler`, whose clock
            must be real (``SystemClock``).

    ``run()`` blocks; ``stop()`` (thread-safe, also from a signal handler) ends it after
    the current callback.  ``run(handle_signals=True)`` (from the main thread) turns
    SIGINT and SIGTERM into ``stop()`` and restores the previous handlers afterwards.
    """

    mappings: tuple[EventSourceMapping[Any], ...] = attrs.field(converter=_mappings)
    _stop: threading.Event = attrs.field(factory=threading.Event, init=False)
    stopped_by: str | None = attrs.field(default=None, init=False)

    def __attrs_post_init__(self) -> None:
        if self.scheduler.is_virtual:
            raise InvalidParameterValueError(
                "mappings", self.mappings, "must run on a real clock (run a virtual one with "
                "scheduler.run_until_idle())"
            )  # fmt: skip

    def __repr__(self) -> str:
        return f"<MappingRunner mappings={len(self.mappings)} stopped_by={self.stopped_by}>"

    @property
    def scheduler(self) -> Scheduler:
        """The scheduler the mappings run on."""
        return self.mappings[0].scheduler

    def stop(self, reason: str = "stop") -> None:
        """End `run` after the callback in progress (safe from any thread or signal)."""
        if self.stopped_by is None:
            self.stopped_by = reason
        self._stop.set()

    def run(
        self,
        *,
        timeout: float | None = None,
        until: Callable[[], bool] | None = None,
        handle_signals: bool = False,
        max_wait: float = 1.0,
    ) -> str:
        """Run until `stop`, a signal, ``timeout`` seconds, or ``until()`` is true.

        ``until`` is checked after every callback and at least every ``max_wait``
        seconds (0.001-3600, default 1).  Returns why it stopped: ``"stop"``,
        ``"SIGINT"``, ``"SIGTERM"``, ``"timeout"`` or ``"until"``.  On the way out every
        mapping is disabled and each poller's ``shutdown()`` is called (see the module
        docstring).
        """
        if timeout is not None:
            check_range("timeout", timeout, 0, 10**9)
        check_range("max_wait", max_wait, 0.001, 3600)
        scheduler = self.scheduler
        clock = scheduler.clock
        deadline = float("inf") if timeout is None else clock.now() + timeout
        self._stop.clear()
        self.stopped_by = None
        with self._signals(handle_signals):
            try:
                while not self._stop.is_set():
                    if until is not None and until():
                        self.stop("until")
                        break
                    now = clock.now()
                    if now >= deadline:
                        self.stop("timeout")
                        break
                    due = scheduler.next_due()
                    wait = max_wait if due is None else due - now
                    if wait > 0:
                        self._stop.wait(min(wait, max_wait, deadline - now))
                        continue
                    scheduler.step()
            finally:
                self._shutdown()
        return self.stopped_by or "stop"

    def _shutdown(self) -> None:
        for mapping in self.mappings:
            mapping.disable()
        # A batch's end is its own callback at the attempt's end (already reached on a
        # real clock): run those, so every batch that ran is completed (deleted,
        # checkpointed); a disabled mapping polls no more.
        scheduler = self.scheduler
        clock = scheduler.clock
        while True:
            due = scheduler.next_due()
            if due is None or due > clock.now():
                break
            scheduler.step()
        for mapping in self.mappings:
            shutdown = getattr(mapping.poller, "shutdown", None)
            if callable(shutdown):
                shutdown()

    @contextmanager
    def _signals(self, enabled: bool) -> Iterator[None]:
        if not enabled:
            yield
            return

        def handler(signum: int, _frame: Any) -> None:
            self.stop(signal.Signals(signum).name)

        previous = [
            (signum, signal.signal(signum, handler)) for signum in (signal.SIGINT, signal.SIGTERM)
        ]
        try:
            yield
        finally:
            for signum, old in previous:
                signal.signal(signum, old)
