"""Virtual time inside handler code: ``Scheduler(handler_time=True)``.

While an attempt runs on a virtual clock, the handler (and the libraries it calls) reads
the attempt's virtual instant, ``clock time + the time the attempt has used``:

- the wall clock through `time-machine <https://github.com/adamchainz/time-machine>`_
  (``time.time``, ``time.time_ns``, ``time.gmtime``, ``time.localtime``,
  ``time.strftime``, ``datetime.datetime.now`` / ``utcnow`` / ``today``,
  ``datetime.date.today``), which patches the functions themselves, so a reference taken
  at import time (``from time import time``) follows too;
- ``time.monotonic``, ``time.monotonic_ns``, ``time.perf_counter``,
  ``time.perf_counter_ns`` and ``time.sleep``, which time-machine leaves alone, through
  ``unittest.mock.patch`` of the ``time`` module's attributes (only code that looks them
  up on the module at call time sees them: ``import time; time.sleep(1)``, not a
  ``from time import sleep`` made before the attempt).

``time.sleep(s)`` spends ``s`` seconds of the attempt (as ``context.spend(s)`` does), so
the attempt's duration and ``context.get_remaining_time_in_millis()`` agree with what
the handler slept; a sleep past the function's timeout stops the handler there, and the
attempt ends as ``Sandbox.Timedout`` at the timeout instant.

Only the thread that runs the attempt is affected by the monotonic clocks and
``time.sleep``; time-machine's wall clock is process-wide while an attempt runs.  An
asyncio event loop running in the handler keeps the real monotonic clock (its timers
would never fire on a clock that stands still).  C extensions that read the system clock
themselves are not reached.  See docs/reference/handler-time.md.
"""

from __future__ import annotations

import asyncio
import datetime as _dt
import importlib
import importlib.util
import math
import threading
import time
from typing import TYPE_CHECKING, Any
from unittest import mock

from invokemodels.exceptions import InvalidParameterValueError

if TYPE_CHECKING:
    from invokemodels.core._clock import Clock
    from invokemodels.core._context import LambdaContext

__all__ = ["HandlerTime", "check_handler_time"]

INSTALL_HINT = "pip install 'invokemodels[handler-time]'"

_real_monotonic = time.monotonic
_real_monotonic_ns = time.monotonic_ns
_real_perf_counter = time.perf_counter
_real_perf_counter_ns = time.perf_counter_ns
_real_sleep = time.sleep
_running_loop = asyncio._get_running_loop
_UNIX_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)


def _instant(epoch: float) -> _dt.datetime:
    """Unix time as an aware datetime, exact to the microsecond (a float timestamp handed
    to time-machine would come back a few hundred nanoseconds off)."""
    return _UNIX_EPOCH + _dt.timedelta(microseconds=round(epoch * 1_000_000))


def check_handler_time(value: object, virtual: bool) -> None:
    """Validate a ``handler_time`` switch: a bool; True needs a virtual clock and
    time-machine installed (`InvalidParameterValueError` naming ``handler_time``)."""
    if not isinstance(value, bool):
        raise InvalidParameterValueError("handler_time", value, "must be True or False")
    if not value:
        return
    if not virtual:
        raise InvalidParameterValueError(
            "handler_time",
            value,
            "applies to a virtual clock only (on a real clock handler code reads real time)",
        )
    if importlib.util.find_spec("time_machine") is None:
        raise InvalidParameterValueError(
            "handler_time",
            value,
            f"needs the time-machine package, which is not installed ({INSTALL_HINT})",
        )


class AttemptTimedOut(BaseException):
    """Raised in the handler by a ``time.sleep`` past the function's timeout.

    A `BaseException`, so a handler's ``except Exception`` does not swallow it: on Lambda
    nothing after the timeout runs.  The attempt ends as ``Sandbox.Timedout``.
    """


class HandlerTime:
    """Virtual time for handler code during one attempt (a context manager).

    Args:
        clock: the virtual clock the attempt runs on.
        context: the attempt's context (its `LambdaContext.elapsed` is the time used).
        timeout: the function's timeout in seconds.
    """

    __slots__ = ("_clock", "_context", "_patches", "_thread", "_timeout", "_travel", "_traveller")

    def __init__(self, clock: Clock, context: LambdaContext, timeout: float) -> None:
        self._clock = clock
        self._context = context
        self._timeout = timeout
        self._thread = 0
        self._travel: Any = None
        self._traveller: Any = None
        self._patches: list[Any] = []

    def now(self) -> float:
        """The attempt's virtual instant on the clock's axis (clock time plus time used)."""
        return self._clock.now() + self._context.spent

    def epoch(self) -> float:
        """The attempt's virtual instant as Unix time."""
        return self._clock.epoch() + self._context.spent

    def __enter__(self) -> HandlerTime:
        time_machine = importlib.import_module("time_machine")
        self._thread = threading.get_ident()
        self._travel = time_machine.travel(_instant(self.epoch()), tick=False)
        self._traveller = self._travel.start()
        fakes = {
            "monotonic": self._monotonic,
            "monotonic_ns": self._monotonic_ns,
            "perf_counter": self._monotonic,
            "perf_counter_ns": self._monotonic_ns,
            "sleep": self._sleep,
        }
        try:
            for name, fake in fakes.items():
                patch = mock.patch.object(time, name, fake)
                patch.start()
                self._patches.append(patch)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        self._context._listen(self._moved)
        return self

    def __exit__(self, *exc: object) -> None:
        self._context._listen(None)
        while self._patches:
            self._patches.pop().stop()
        if self._travel is not None:
            self._travel.stop()
            self._travel = self._traveller = None

    # -- the patched functions --------------------------------------------------------------

    def _moved(self) -> None:
        """The attempt used more time: move the wall clock along."""
        traveller = self._traveller
        if traveller is not None:
            traveller.move_to(_instant(self.epoch()), tick=False)

    def _ours(self) -> bool:
        return threading.get_ident() == self._thread and _running_loop() is None

    def _monotonic(self) -> float:
        if not self._ours():
            return _real_monotonic()
        return self.now()

    def _monotonic_ns(self) -> int:
        if not self._ours():
            return _real_monotonic_ns()
        return round(self.now() * 1_000_000_000)

    def _sleep(self, seconds: float, /) -> None:
        if threading.get_ident() != self._thread:
            _real_sleep(seconds)
            return
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
            msg = f"'{type(seconds).__name__}' object cannot be interpreted as a number of seconds"
            raise TypeError(msg)
        try:
            value = float(seconds)
        except OverflowError:
            value = math.inf
        if math.isnan(value):
            msg = "Invalid value NaN (not a number)"
            raise ValueError(msg)
        if value < 0:
            msg = "sleep length must be non-negative"
            raise ValueError(msg)
        context = self._context
        past_timeout = context.elapsed + value > self._timeout
        if past_timeout:
            # Lambda stops the sandbox at the timeout: use up the rest and stop here.
            value = self._timeout - context.elapsed + 1e-9 if math.isinf(value) else value
        context.spend(max(value, 0.0))
        if past_timeout:
            raise AttemptTimedOut(f"time.sleep({seconds!r}) ran past the function's timeout")
