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

import attrs

__all__ = ["Decision", "Failure", "FailureKind"]


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

    delay: float | None
    reason: str = ""

    @property
    def retry(self) -> bool:
        """True when the policy asks for another attempt."""
        return self.delay is not None

    @classmethod
    def after(cls, delay: float) -> Decision:
        """Retry after ``delay`` seconds."""
        return cls(delay=max(0.0, float(delay)))

    @classmethod
    def stop(cls, reason: str) -> Decision:
        """Do not retry; ``reason`` says why."""
        return cls(delay=None, reason=reason)
