"""Retry decisions: the values the `RetryPolicy` protocol works on.

A model (the caller of a synchronous invoke, the asynchronous event queue,
a poller) describes each failed attempt as a `Failure` and asks a policy for
a `Decision`: retry after some delay, or stop (with a reason that ends up in
records).  Randomness (jitter) comes from the ``rng`` the model passes, so one
seed gives one timeline.

How policies compose (`CombinedPolicy`, `MaxAge`) is in `invokemodels.core._combine`.
"""

from __future__ import annotations

import enum
import math
from typing import Any, Final

import attrs

from invokemodels.exceptions import InvalidParameterValueError

__all__ = ["Decision", "Failure", "FailureKind"]

STALL_LIMIT: Final = 1000
"""Retries of one item in a row with no clock time passing that a model takes for a loop.

A policy that answers ``Decision.after(0)`` to an attempt of no modelled time asks for
the next attempt at the very instant of the failure; one that never stops (``MaxAge``
alone, a custom policy) would keep the clock at that instant for ever.  After this many
such retries in a row the model raises `InvalidParameterValueError` naming the policy
(the item stays where it was, counted as pending).  The conformance kit's
``zero-delay-loop`` rule (`invokemodels.testing.check_retry_policy`) finds such a policy
before it runs.
"""


class FailureKind(enum.Enum):
    """What went wrong with an attempt, in the classes Lambda's retry rules distinguish."""

    FUNCTION_ERROR = "function_error"
    """The code or runtime failed (exception, timeout, marshal error, oversized response)."""
    THROTTLE = "throttle"
    """429 ``TooManyRequestsException``: the attempt never reached the function."""
    SERVICE_ERROR = "service_error"
    """A 5xx invocation error (``ServiceException`` and friends)."""
    CLIENT_TIMEOUT = "client_timeout"
    """The caller stopped waiting (botocore ``ReadTimeoutError``); the function may still run."""
    INVALID_REQUEST = "invalid_request"
    """A 4xx refusal other than throttling; no client retries it."""


@attrs.frozen(kw_only=True)
class Failure:
    """One failed attempt, as a `RetryPolicy` sees it.

    Attributes:
        attempt: 1-based number of the attempt that failed, counting every try.
        kind: the failure class.
        kind_count: how many failures of this ``kind`` so far, this one included
            (asynchronous function errors are counted apart from throttles).
        code: the wire error code or runtime ``errorType`` (``"TooManyRequestsException"``,
            ``"Sandbox.Timedout"``, ``"ReadTimeoutError"``, ...).
        status_code: the HTTP status when there is one (429, 500, ...), else None.
        first_attempt_at: clock time of the first attempt (or of acceptance, for events).
        failed_at: clock time the failure became known.
    """

    attempt: int
    kind: FailureKind
    kind_count: int = 1
    code: str = ""
    status_code: int | None = None
    first_attempt_at: float = 0.0
    failed_at: float = 0.0

    @property
    def elapsed(self) -> float:
        """Seconds from the first attempt to this failure."""
        return self.failed_at - self.first_attempt_at


@attrs.frozen
class Decision:
    """A policy's answer: retry after ``delay`` seconds, or stop (``delay is None``).

    ``reason`` says why a policy stopped, in the words records use
    (``"RetriesExhausted"``, ``"EventAgeExceeded"``, ``"max_attempts"``, ...).
    """

    delay: float | None = attrs.field(validator=lambda _self, _field, value: _check_delay(value))
    reason: str = ""

    @property
    def retry(self) -> bool:
        """True when the policy asks for another attempt."""
        return self.delay is not None

    @classmethod
    def after(cls, delay: float) -> Decision:
        """Retry after ``delay`` seconds (a negative delay is 0: at once).

        ``nan``, infinite and non-numeric delays raise `InvalidParameterValueError`.
        """
        if (
            isinstance(delay, bool)
            or not isinstance(delay, (int, float))
            or not -math.inf < delay < math.inf  # False for nan
        ):
            _check_delay(delay, optional=False)  # raises, naming the value
        return cls(delay=max(0.0, float(delay)))

    @classmethod
    def stop(cls, reason: str) -> Decision:
        """Do not retry; ``reason`` says why."""
        return cls(delay=None, reason=reason)


def _check_delay(delay: object, *, optional: bool = True) -> None:
    """A `Decision`'s delay: None (when ``optional``), or a finite number of seconds >= 0."""
    if delay is None and optional:
        return
    if (
        isinstance(delay, bool)
        or not isinstance(delay, (int, float))
        or not 0 <= delay < math.inf  # False for nan
    ):
        raise InvalidParameterValueError(
            "delay", delay, "a retry's delay must be a finite number of seconds >= 0 (or None)"
        )


def checked_decision(parameter: str, policy: object, decision: Any) -> Decision:
    """``decision`` when it is a `Decision`; else the error naming the policy that gave it."""
    if isinstance(decision, Decision):
        return decision
    raise InvalidParameterValueError(
        parameter,
        policy,
        f"its decide() returned {type(decision).__name__} {decision!r:.200}; a RetryPolicy "
        "must return a Decision (Decision.after(seconds) or Decision.stop(reason))",
    )


def count_stall(stall: tuple[float, int] | None, now: float) -> tuple[float, int]:
    """``(now, count)`` of the retries asked at once in a row, ``stall`` being the last one."""
    return (now, stall[1] + 1 if stall is not None and stall[0] == now else 1)


def past_the_clock(
    parameter: str, policy: object, delay: float, what: str
) -> InvalidParameterValueError:
    """The error for a policy asking to wait ``delay`` s, past the end of the clock."""
    return InvalidParameterValueError(
        parameter, policy, f"it asked to wait {delay!r} s before {what}: past the end of the clock"
    )


def stalled(parameter: str, policy: object, what: str, now: float) -> InvalidParameterValueError:
    """The error for `STALL_LIMIT` retries in a row of ``what`` with no clock time passing."""
    return InvalidParameterValueError(
        parameter,
        policy,
        f"it asked to retry {what} {STALL_LIMIT} times in a row at t={now!r} s with no "
        "time passing (delay 0 after attempts of no modelled time), so the clock could never "
        "move on; give the retries a delay > 0 or a limit that stops them (for example "
        "FunctionErrorRetries() | MaxAge(seconds=300))",
    )
