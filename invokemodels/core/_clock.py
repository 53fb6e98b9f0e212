"""Time, the only module that reads the wall clock.

Everything time-aware in invokemodels takes a `Clock`, and a clock says what it
is (``virtual``): the models decide threading and timeouts from that, never from
the clock's type.  Three are provided:

- `VirtualClock` starts at 0, never goes backwards and moves only when the
  `Scheduler` advances it.  It counts integer nanosecond ticks, so a million
  steps of 0.01 s end at exactly 10000.0 s: there is no floating drift.  It is
  also a `TickClock`, which lets the scheduler and the queues read and move it in
  ticks, without a float round trip.
- `SystemClock` reads `time.monotonic()` and really sleeps; `ScaledClock` is
  real time slowed down or sped up.

Every time a model computes (a retry, a batching window closing, a backoff
ending, an attempt ending, a visibility deadline) goes through `on_grid`, so it
is a time the clock can read: a wake-up at it finds ``now`` equal to it, not a
hair short.

``ruff``'s banned-api rule keeps ``time.time``, ``time.monotonic`` and
``time.sleep`` out of every other module.
"""

from __future__ import annotations

import datetime as _dt
import math
import threading
import time
from typing import ClassVar, Final, Protocol

import attrs

from invokemodels.core._validate import in_range, instance_of

__all__ = [
    "TICKS_PER_SECOND",
    "Clock",
    "ScaledClock",
    "SystemClock",
    "TickClock",
    "VirtualClock",
    "on_grid",
    "tick_clock",
]

TICKS_PER_SECOND = 1_000_000_000
"""Resolution of virtual time: one tick is a nanosecond."""

EPOCH_ORIGIN = 1_700_000_000.0
"""Default Unix time that virtual time 0 stands for (2023-11-14T22:13:20Z).

Records need wall-clock looking timestamps (ISO 8601 strings, epoch
milliseconds); a virtual clock maps its time ``t`` to ``epoch_origin + t``.
"""

# Record timestamps are ISO 8601 dates: Unix time up to the end of year 9999.
_LAST_EPOCH = 253_402_300_799


_SETATTR = object.__setattr__
# Below this many seconds a float's ticks are finite (float range / TICKS_PER_SECOND).
_FAST_LIMIT: Final = 1e290


def to_ticks(seconds: float) -> int:
    """Convert seconds to integer ticks, rounding to the nearest nanosecond."""
    return round(seconds * TICKS_PER_SECOND)


def on_grid(seconds: float, *, up: bool = False) -> float:
    """``seconds`` on the clock's nanosecond grid, as the virtual clock reads that tick.

    The nearest tick by default: ``on_grid(0.1 + 0.2) == 0.3``, and a time computed
    as ``on_grid(now + delay)`` compares equal to ``now`` when the clock gets there.
    With ``up=True`` the first tick whose reading is at or after ``seconds``, so a
    wake-up scheduled for an arbitrary float finds ``now >= seconds``.

    Total for numbers: ``inf`` (and any value whose ticks are past the float range,
    such as ``1e300`` or ``10**400``) is ``inf``, "never"; ``-inf`` likewise stays
    ``-inf``.  ``nan`` is no time at all: `ValueError`.  Below 2**53 ticks (about 104
    days) every tick has a distinct reading; beyond, readings are spaced wider than a
    tick and the grid is the float's.
    """
    if type(seconds) is float and -_FAST_LIMIT < seconds < _FAST_LIMIT:
        # The common case, without the checks a huge or non-finite value needs.
        reading = round(seconds * TICKS_PER_SECOND) / TICKS_PER_SECOND
        if not up or reading >= seconds:
            return reading
    value = seconds if type(seconds) is float else _as_float(seconds)
    scaled = value * TICKS_PER_SECOND
    if not math.isfinite(scaled):
        if math.isnan(value):
            msg = "nan is not a time on the clock"
            raise ValueError(msg)
        return math.inf if value > 0 else -math.inf
    ticks = round(scaled)
    reading = ticks / TICKS_PER_SECOND
    if up and reading < value:
        # The exact ceiling of value * 10**9: its reading cannot round below value.
        numerator, denominator = value.as_integer_ratio()
        ticks = -(-numerator * TICKS_PER_SECOND // denominator)
        reading = ticks / TICKS_PER_SECOND
    return reading


def _as_float(seconds: float) -> float:
    try:
        return float(seconds)
    except OverflowError:  # an int past the float range
        return math.inf if seconds > 0 else -math.inf


def iso_timestamp(epoch_seconds: float, *, milliseconds: bool = True) -> str:
    """Format Unix time the way Lambda's records do: ``2019-11-14T18:16:05.568Z``.

    With ``milliseconds=False`` the fraction is dropped (DynamoDB stream
    on-failure records: ``2019-11-14T00:13:19Z``).
    """
    ms_total = round(epoch_seconds * 1000)
    seconds, ms = divmod(ms_total, 1000)
    moment = _dt.datetime.fromtimestamp(seconds, tz=_dt.timezone.utc)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if milliseconds:
        return f"{text}.{ms:03d}Z"
    return f"{text}Z"


class Clock(Protocol):
    """**Protocol**: where time comes from.

    ``now()`` is seconds on the clock's own axis (virtual time starts at 0);
    ``epoch()`` is the same instant as Unix time, for record timestamps.

    ``virtual`` says what the clock is.  True: time moves only when the scheduler
    moves it, and ``sleep_until(when)`` jumps to ``when`` at once; handlers run
    inline, their durations and timeouts are modelled, and nothing sleeps for real.
    False: a real clock, whose ``sleep_until`` really waits; handlers run on threads
    and timeouts are enforced in real time.  A class attribute will do
    (``virtual = True``).
    """

    @property
    def virtual(self) -> bool: ...

    def now(self) -> float: ...

    def epoch(self) -> float: ...

    def sleep_until(self, when: float) -> None: ...


class TickClock(Clock, Protocol):
    """**Protocol**: a virtual `Clock` that counts integer nanosecond ticks (optional).

    A virtual clock that offers these members is read and moved in ticks by the
    `Scheduler` and the in-memory services, a fast path with no float round trip;
    any other virtual clock is driven through `Clock` alone (``now``, ``epoch``,
    ``sleep_until``).  ``epoch_origin + ticks / TICKS_PER_SECOND`` must be
    ``epoch()``; ``advance_to_ticks`` never goes backwards.
    """

    @property
    def ticks(self) -> int: ...

    @property
    def epoch_origin(self) -> float: ...

    def advance_to_ticks(self, ticks: int) -> None: ...


def tick_clock(clock: Clock) -> TickClock | None:
    """``clock`` when it is virtual and a `TickClock`, else None (then use `Clock` alone).

    Asked once, when a component is made: the answer picks its fast path.
    """
    if not clock.virtual:
        return None
    for member in ("ticks", "epoch_origin", "advance_to_ticks"):
        if not hasattr(clock, member):
            return None
    return clock  # type: ignore[return-value]  # checked member by member above


@attrs.define(repr=False)
class VirtualClock:
    """Virtual time: starts at 0 and moves only when the scheduler advances it.

    A `TickClock` (``virtual`` is True).

    Args:
        epoch_origin: the Unix time that virtual time 0 stands for (default
            ``1_700_000_000.0``, 2023-11-14T22:13:20Z), used by record timestamps.
    """

    virtual: ClassVar[bool] = True
    """A virtual clock: time moves only when the scheduler moves it."""

    epoch_origin: float = attrs.field(
        default=EPOCH_ORIGIN, validator=in_range("epoch_origin", 0, _LAST_EPOCH)
    )
    _ticks: int = attrs.field(default=0, init=False)

    def __repr__(self) -> str:
        return f"<VirtualClock now={self.now()!r}>"

    @property
    def ticks(self) -> int:
        """The current time in integer nanosecond ticks."""
        return self._ticks

    def now(self) -> float:
        """Current virtual time in seconds."""
        return self._ticks / TICKS_PER_SECOND

    def epoch(self) -> float:
        """Current virtual time as Unix time."""
        return self.epoch_origin + self._ticks / TICKS_PER_SECOND

    def advance_to_ticks(self, ticks: int) -> None:
        """Move to ``ticks``; virtual time never goes backwards (``ValueError``)."""
        if ticks < self._ticks:
            msg = f"virtual time cannot go backwards: now={self._ticks} ticks, requested={ticks}"
            raise ValueError(msg)
        # Past attrs' on_setattr hooks: the scheduler moves the clock once per callback.
        _SETATTR(self, "_ticks", ticks)

    def sleep_until(self, when: float) -> None:
        """Jump to ``when`` (seconds); earlier times are a no-op."""
        ticks = to_ticks(when)
        _SETATTR(self, "_ticks", max(self._ticks, ticks))


@attrs.define(repr=False)
class SystemClock:
    """Real time: ``now()`` is seconds since the clock was made, ``sleep_until`` really sleeps.

    ``wake()`` interrupts a sleep early (used by background workers when new
    work arrives).  ``virtual`` is False.
    """

    virtual: ClassVar[bool] = False
    """A real clock."""

    _origin: float = attrs.field(factory=time.monotonic, init=False)
    _epoch_origin: float = attrs.field(factory=time.time, init=False)
    _wakeup: threading.Event = attrs.field(factory=threading.Event, init=False)

    def __repr__(self) -> str:
        return f"<SystemClock now={self.now():.3f}>"

    def now(self) -> float:
        """Seconds since this clock was created (monotonic)."""
        return time.monotonic() - self._origin

    def epoch(self) -> float:
        """The current Unix time, consistent with `now`."""
        return self._epoch_origin + self.now()

    def sleep_until(self, when: float) -> None:
        """Sleep until ``when`` or until `wake` is called, whichever comes first."""
        delay = when - self.now()
        if delay > 0:
            self._wakeup.wait(delay)
        self._wakeup.clear()

    def wake(self) -> None:
        """Cut a current `sleep_until` short."""
        self._wakeup.set()


@attrs.define(repr=False)
class ScaledClock:
    """Real time, scaled: one model second lasts ``scale`` real seconds.

    ``now()`` counts model seconds since the clock was made; ``sleep_until`` really sleeps
    for the scaled time; ``epoch()`` is the Unix time at creation plus model seconds (so
    record timestamps follow the model's timeline).  ``scale=1`` is plain real time.
    ``virtual`` is False.
    """

    virtual: ClassVar[bool] = False
    """A real clock."""

    scale: float = attrs.field(default=1.0, validator=in_range("time_scale", 1e-6, 1e6))
    base: SystemClock = attrs.field(
        factory=SystemClock, validator=instance_of("base", SystemClock, "a SystemClock")
    )
    _epoch_origin: float = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        self._epoch_origin = self.base.epoch() - self.base.now()

    def __repr__(self) -> str:
        return f"<ScaledClock scale={self.scale!r} now={self.now():.3f}>"

    def now(self) -> float:
        """Model seconds since the clock was made."""
        return self.base.now() / self.scale

    def epoch(self) -> float:
        """Unix time at creation plus `now` model seconds."""
        return self._epoch_origin + self.now()

    def sleep_until(self, when: float) -> None:
        """Sleep until model time ``when`` (``(when - now) * scale`` real seconds)."""
        self.base.sleep_until(when * self.scale)

    def real_delay(self, model_seconds: float) -> float:
        """Real seconds that ``model_seconds`` last."""
        return model_seconds * self.scale
