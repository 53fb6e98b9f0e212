"""Failure schedules: which attempts of a function fail, time out, are throttled or duplicate.

A `FailureSchedule` is a plain value (a tuple of `Behaviour` steps and what follows them),
so Hypothesis can generate, print and shrink it (`failure_schedules`).  It drives a
function deterministically, attempt by attempt, in either of two ways:

- ``schedule.handler(inner)``: a `ScheduledHandler` wrapping your handler.  Its n-th call
  is attempt n.  It realizes every behaviour a handler can: an error, a timeout, a
  duplicate delivery.
- ``schedule.function(name, inner, **options)``: a `ScheduledFunction`, a `Function` whose
  attempts follow the schedule, throttles included: a throttled attempt is refused before
  the handler runs, as a function without free concurrency refuses it.

Each attempt is logged as a `ScheduledAttempt` (``.attempts``), so a test can compare what
the model did with what the schedule asked for.
"""

from __future__ import annotations

import collections
import copy
import enum
from collections.abc import Iterable
from typing import Any, Final

import attrs

from invokemodels.core._function import Function, ThrottleReason
from invokemodels.exceptions import InvalidParameterValueError

__all__ = [
    "Behaviour",
    "FailureSchedule",
    "ScheduledAttempt",
    "ScheduledError",
    "ScheduledFunction",
    "ScheduledHandler",
]


class Behaviour(enum.Enum):
    """What one attempt does under a `FailureSchedule`."""

    OK = "ok"
    """The handler runs and its result is the attempt's."""
    ERROR = "error"
    """The attempt fails with `ScheduledError` before the handler runs (nothing was done)."""
    ERROR_AFTER = "error_after"
    """The handler runs, then the attempt fails with `ScheduledError` (the work was done,
    the attempt still failed: the case that makes a retry a repeat)."""
    TIMEOUT = "timeout"
    """The handler runs, then the attempt runs past the function's timeout
    (``Sandbox.Timedout``): it spends the time left through ``context.spend``."""
    THROTTLE = "throttle"
    """The attempt is throttled (429, ``ReservedFunctionConcurrentInvocationLimitExceeded``):
    the handler does not run.  Only a `ScheduledFunction` can throttle."""
    DUPLICATE = "duplicate"
    """The event is delivered twice: the handler runs twice on the same event (a fresh copy
    each time) and context, and the second result is the attempt's, so the side effects of
    an at-least-once duplicate delivery happen within the one attempt."""

    def __repr__(self) -> str:
        return f"Behaviour.{self.name}"


FAILING: Final = frozenset({Behaviour.ERROR, Behaviour.ERROR_AFTER, Behaviour.TIMEOUT})
"""The behaviours after which the attempt is a function error."""

RUNS: Final = {
    Behaviour.OK: 1,
    Behaviour.ERROR: 0,
    Behaviour.ERROR_AFTER: 1,
    Behaviour.TIMEOUT: 1,
    Behaviour.THROTTLE: 0,
    Behaviour.DUPLICATE: 2,
}
"""How many times each behaviour runs the wrapped handler."""


class ScheduledError(Exception):
    """The error a `FailureSchedule` raises for an ``ERROR`` or ``ERROR_AFTER`` attempt
    (its ``errorType`` is ``"ScheduledError"``)."""


def _behaviour(value: Any) -> Behaviour:
    if isinstance(value, Behaviour):
        return value
    try:
        return Behaviour(value)
    except ValueError:
        allowed = ", ".join(repr(b.value) for b in Behaviour)
        raise InvalidParameterValueError(
            "behaviour", value, f"must be a Behaviour or one of {allowed}"
        ) from None


def _steps(value: Any) -> tuple[Behaviour, ...]:
    if isinstance(value, (str, Behaviour)) or not isinstance(value, Iterable):
        raise InvalidParameterValueError(
            "steps", value, "must be a sequence of Behaviour values (or their names)"
        )
    return tuple(_behaviour(step) for step in value)


@attrs.frozen
class ScheduledAttempt:
    """One attempt as a `FailureSchedule` drove it.

    Attributes:
        attempt: 1-based number of the attempt among those the schedule drove.
        behaviour: the `Behaviour` it was given.
        request_id: the attempt's ``context.aws_request_id`` (None for a throttle: the
            handler never ran, and no context was made).
    """

    attempt: int
    behaviour: Behaviour
    request_id: str | None = None


@attrs.frozen(repr=False)
class FailureSchedule:
    """Which attempts of a function fail, time out, are throttled or duplicate.

    Attempt ``n`` (1-based) gets ``steps[n - 1]``; every attempt after the steps gets
    ``then`` (default `Behaviour.OK`, so every schedule ends in success).  Attempts are
    counted across everything the function runs, in the order the model runs them, which
    on the virtual clock is the same for the same seed.

    Args:
        steps: the behaviours of the first attempts: `Behaviour` values or their names
            (``("error", "throttle", "ok")``).
        then: the behaviour of every later attempt (default `Behaviour.OK`).
    """

    steps: tuple[Behaviour, ...] = attrs.field(default=(), converter=_steps)
    then: Behaviour = attrs.field(default=Behaviour.OK, converter=_behaviour)

    def __repr__(self) -> str:
        parts = [repr(step.value) for step in self.steps]
        if self.then is not Behaviour.OK:
            parts.append(f"then={self.then.value!r}")
        return f"FailureSchedule.of({', '.join(parts)})"

    @classmethod
    def of(cls, *steps: Behaviour | str, then: Behaviour | str = Behaviour.OK) -> FailureSchedule:
        """``FailureSchedule.of("error", "timeout")``: the steps as arguments."""
        return cls(steps, then)

    def at(self, attempt: int) -> Behaviour:
        """The behaviour of the 1-based ``attempt``."""
        if not isinstance(attempt, int) or isinstance(attempt, bool) or attempt < 1:
            raise InvalidParameterValueError("attempt", attempt, "must be an integer >= 1")
        steps = self.steps
        return steps[attempt - 1] if attempt <= len(steps) else self.then

    @property
    def throttles(self) -> bool:
        """True when some attempt is throttled (then only a `ScheduledFunction` can run it)."""
        return Behaviour.THROTTLE in self.steps or self.then is Behaviour.THROTTLE

    def handler(self, inner: Any) -> ScheduledHandler:
        """Your handler ``inner(event, context)`` wrapped to follow the schedule.

        Its n-th call is attempt n.  A schedule with throttles needs `function` instead:
        a throttle happens before any handler runs.
        """
        if self.throttles:
            raise InvalidParameterValueError(
                "schedule",
                self,
                "has THROTTLE attempts, which happen before a handler runs: drive a Function "
                "with schedule.function(name, handler) instead",
            )
        return ScheduledHandler(self, inner)

    def function(self, name: str, inner: Any, **options: Any) -> ScheduledFunction:
        """A `ScheduledFunction` named ``name`` running ``inner`` under the schedule.

        ``options`` are the other `Function` arguments (``timeout``, ``duration``,
        ``reserved_concurrency``, ...).
        """
        return ScheduledFunction(name, ScheduledHandler(self, inner, driven=True), **options)


@attrs.define(eq=False)
class ScheduledHandler:
    """A handler that follows a `FailureSchedule`; made by `FailureSchedule.handler`.

    Attributes:
        schedule: the schedule.
        inner: the wrapped handler.
        attempts: one `ScheduledAttempt` per attempt so far, in order.
        runs: how many times ``inner`` has been called.
    """

    schedule: FailureSchedule
    inner: Any = attrs.field()
    driven: bool = attrs.field(default=False, kw_only=True, repr=False)
    attempts: list[ScheduledAttempt] = attrs.field(factory=list, init=False)
    runs: int = attrs.field(default=0, init=False)
    _admitted: collections.deque[int] = attrs.field(factory=collections.deque, init=False)
    _count: int = attrs.field(default=0, init=False, repr=False)

    @inner.validator
    def _check_inner(self, _attribute: Any, value: Any) -> None:
        if not callable(value):
            raise InvalidParameterValueError(
                "handler", value, "must be a callable handler(event, context)"
            )

    def peek(self) -> Behaviour:
        """The behaviour of the next attempt, without numbering it."""
        return self.schedule.at(self._count + 1)

    def next_attempt(self) -> tuple[int, Behaviour]:
        """Number the next attempt; returns it with its behaviour."""
        self._count += 1
        return self._count, self.schedule.at(self._count)

    def throttled(self, attempt: int) -> None:
        """Log ``attempt`` as throttled (`ScheduledFunction` refused it)."""
        self.attempts.append(ScheduledAttempt(attempt, Behaviour.THROTTLE))

    def admitted(self, attempt: int) -> None:
        """``attempt`` took a slot; the next call of the handler runs it."""
        self._admitted.append(attempt)

    def __call__(self, event: Any, context: Any) -> Any:
        if self.driven and self._admitted:
            attempt = self._admitted.popleft()
            behaviour = self.schedule.at(attempt)
        else:
            attempt, behaviour = self.next_attempt()
        request_id = getattr(context, "aws_request_id", None)
        self.attempts.append(ScheduledAttempt(attempt, behaviour, request_id))
        if behaviour is Behaviour.ERROR:
            raise ScheduledError(f"attempt {attempt} fails (scheduled)")
        if behaviour is Behaviour.THROTTLE:  # a handler called directly, not by its Function
            raise ScheduledError(f"attempt {attempt} is throttled (scheduled)")
        if behaviour is Behaviour.DUPLICATE:
            self._run(copy.deepcopy(event), context)
            return self._run(event, context)
        if behaviour is Behaviour.TIMEOUT:
            try:
                self._run(event, context)
            finally:
                # Past the deadline: the milliseconds left are truncated, so one more runs over.
                context.spend(context.get_remaining_time_in_millis() / 1000 + 0.001)
            return None
        result = self._run(event, context)
        if behaviour is Behaviour.ERROR_AFTER:
            raise ScheduledError(f"attempt {attempt} fails after its work (scheduled)")
        return result

    def _run(self, event: Any, context: Any) -> Any:
        self.runs += 1
        return self.inner(event, context)


@attrs.define(repr=False, eq=False)
class ScheduledFunction(Function):
    """A `Function` whose attempts follow a `FailureSchedule`; made by `FailureSchedule.function`.

    Each time a model asks for a concurrency slot (`Function.try_acquire`) is an attempt.
    A ``THROTTLE`` attempt is refused with ``ReservedFunctionConcurrentInvocationLimitExceeded``
    and the handler does not run; any other takes its slot as usual and the next handler
    run gets its behaviour.  A try that the function's own concurrency throttles takes no
    step of the schedule.
    """

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.handler, ScheduledHandler):
            raise InvalidParameterValueError(
                "handler",
                self.handler,
                "must be a ScheduledHandler: make the function with "
                "schedule.function(name, handler)",
            )
        super().__attrs_post_init__()

    @property
    def scheduled(self) -> ScheduledHandler:
        """The `ScheduledHandler` the function runs."""
        return self.handler  # type: ignore[return-value]  # checked when made

    @property
    def attempts(self) -> list[ScheduledAttempt]:
        """One `ScheduledAttempt` per attempt so far, throttles included, in order."""
        return self.scheduled.attempts

    def try_acquire(self) -> str | None:
        """Take a slot, or refuse the attempt when the schedule throttles it."""
        scheduled = self.scheduled
        if scheduled.peek() is Behaviour.THROTTLE:
            attempt, _ = scheduled.next_attempt()
            scheduled.throttled(attempt)
            return ThrottleReason.RESERVED
        reason = super().try_acquire()
        if reason is None:
            attempt, _ = scheduled.next_attempt()
            scheduled.admitted(attempt)
        return reason
