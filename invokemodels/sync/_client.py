"""The caller's side of a synchronous invoke: AWS SDK (botocore) retry modes and a client.

Lambda never retries a synchronous invoke; the SDK that makes the call does
(reference 2.5, 2.8).  The two botocore modes are `RetryPolicy` values:

- `LegacyRetry` (boto3's default): 5 attempts including the first, delay
  ``rand * 2 ** (n - 1)`` seconds with no cap; retries socket errors
  (``ReadTimeoutError`` included), HTTP 429/500/502/503/504/509 and the
  throttling codes (with HTTP 400).
- `StandardRetry`: 3 attempts, delay ``rand * min(2 ** (n - 1), 20)``; retries
  transient errors (500/502/503/504, connection errors, ``ReadTimeoutError``)
  and throttling codes (``TooManyRequestsException`` included), spending a
  `RetryQuota` of 500 tokens (5 per retry, 10 after a timeout; a success
  refunds).

`LambdaClient` drives a `RequestResponseInvoker` with one of them on the
scheduler's clock and models the read-timeout pitfall (reference 2.6): when a
function runs longer than the client's ``read_timeout`` (60 s by default), the
client gives up, backs off and invokes *again* while the first attempt is
still running, so the handler runs twice, concurrently.
"""

from __future__ import annotations

import collections
import random
from typing import Any, Final

import attrs

from invokemodels.core._clock import on_grid
from invokemodels.core._combine import Composable, SuccessHook, retry_policy, success_hook
from invokemodels.core._history import Span
from invokemodels.core._protocols import InvokeResponse, RetryPolicy
from invokemodels.core._retry import (
    STALL_LIMIT,
    Decision,
    Failure,
    FailureKind,
    checked_decision,
    count_stall,
    past_the_clock,
    stalled,
)
from invokemodels.core._validate import attribute_of, in_range, instance_of, is_random
from invokemodels.exceptions import InvocationError, ReadTimeoutError
from invokemodels.sync._invoker import ClientContextInput, RequestResponseInvoker

_NEVER: Final = float("inf")

__all__ = [
    "LEGACY_RETRYABLE_CODES",
    "LEGACY_RETRYABLE_STATUS",
    "STANDARD_THROTTLING_CODES",
    "STANDARD_TRANSIENT_CODES",
    "STANDARD_TRANSIENT_STATUS",
    "ClientAttempt",
    "LambdaClient",
    "LegacyRetry",
    "NoRetry",
    "RetryQuota",
    "StandardRetry",
]

# botocore's legacy handler catches these classes with ``except``, so subclasses count too:
# ConnectTimeoutError is a ConnectionError.
_SOCKET_ERRORS: Final = frozenset(
    {
        "ConnectionError",
        "ConnectionClosedError",
        "ReadTimeoutError",
        "EndpointConnectionError",
        "ConnectTimeoutError",
    }
)
_LEGACY_THROTTLING: Final = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "ProvisionedThroughputExceededException",
    }
)

LEGACY_RETRYABLE_STATUS: Final = frozenset({429, 500, 502, 503, 504, 509})
"""HTTP statuses legacy mode retries (botocore ``_retry.json``)."""

LEGACY_RETRYABLE_CODES: Final = _SOCKET_ERRORS | _LEGACY_THROTTLING
"""Socket errors legacy mode retries, and throttling codes it retries when sent with HTTP 400."""

STANDARD_TRANSIENT_STATUS: Final = frozenset({500, 502, 503, 504})
"""HTTP statuses standard mode retries as transient."""

STANDARD_TRANSIENT_CODES: Final = frozenset(
    {
        "RequestTimeout",
        "RequestTimeoutException",
        "PriorRequestNotComplete",
        # botocore's ConnectionError and HTTPClientError, and their subclasses:
        "ConnectionError",
        "HTTPClientError",
        "ReadTimeoutError",
        "ConnectTimeoutError",
        "ConnectionClosedError",
        "EndpointConnectionError",
    }
)
"""Error codes and client exceptions standard mode retries as transient."""

STANDARD_THROTTLING_CODES: Final = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
        "LimitExceededException",
        "RequestThrottled",
        "SlowDown",
        "PriorRequestNotComplete",
        "EC2ThrottledException",
    }
)
"""Error codes standard mode retries as throttling (any HTTP status)."""

_TIMEOUT_ERRORS: Final = frozenset({"ReadTimeoutError", "ConnectTimeoutError"})


_MAX_ATTEMPTS: Final = Decision.stop("max_attempts")
_NOT_RETRYABLE: Final = Decision.stop("not_retryable")


@attrs.frozen(kw_only=True)
class LegacyRetry(Composable):
    """botocore's ``legacy`` retry mode, the default of boto3 (reference 2.8).

    Args:
        total_max_attempts: attempts including the first (default 5).  boto3's
            ``retries={"max_attempts": N}`` counts retries only: it is
            ``total_max_attempts=N + 1``.

    A failure is retried when its code is a socket error (``ConnectionError``,
    ``ConnectionClosedError``, ``ReadTimeoutError``, ``EndpointConnectionError``,
    and ``ConnectionError``'s subclass ``ConnectTimeoutError``),
    its HTTP status is 429, 500, 502, 503, 504 or 509, or it is a throttling
    code sent with HTTP 400.  The delay before retry ``n`` (``n`` = attempts
    made) is ``rand() * 2 ** (n - 1)`` seconds, uncapped.  Lambda marks no
    errors ``retryable``, and a function error is a 200 response: never retried.
    Stateless (no ``succeeded``); ``|`` combines it with another policy.
    """

    total_max_attempts: int = attrs.field(
        default=5, validator=in_range("total_max_attempts", 1, 1000, integer=True)
    )

    def retryable(self, failure: Failure) -> bool:
        """True when legacy mode retries this kind of failure (attempts aside)."""
        code, status = failure.code, failure.status_code
        return (
            code in _SOCKET_ERRORS
            or status in LEGACY_RETRYABLE_STATUS
            or (code in _LEGACY_THROTTLING and status == 400)
        )

    def decide(self, failure: Failure, rng: random.Random) -> Decision:
        """Retry after ``rand * 2 ** (attempt - 1)`` s, or stop: max_attempts, not_retryable."""
        if failure.attempt >= self.total_max_attempts:
            return _MAX_ATTEMPTS
        if not self.retryable(failure):
            return _NOT_RETRYABLE
        return Decision.after(rng.random() * 2 ** (failure.attempt - 1))


@attrs.frozen
class NoRetry(Composable):
    """No client retries: boto3's ``retries={"max_attempts": 0}``, the advice for long invokes.

    Stateless (no ``succeeded``).
    """

    def decide(self, failure: Failure, rng: random.Random) -> Decision:
        """Always stop (``max_attempts``)."""
        return _MAX_ATTEMPTS


@attrs.define(repr=False, on_setattr=attrs.setters.NO_OP)
class RetryQuota:
    """Standard mode's client-wide retry quota: a token bucket (botocore ``RetryQuota``).

    Args:
        capacity: initial and maximum tokens (default 500).
    """

    capacity: int = attrs.field(default=500, validator=in_range("capacity", 0, 10**9, integer=True))
    _available: int = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        self._available = self.capacity

    def __repr__(self) -> str:
        return f"<RetryQuota {self._available}/{self.capacity}>"

    @property
    def available(self) -> int:
        """Tokens left."""
        return self._available

    def acquire(self, amount: int) -> bool:
        """Take ``amount`` tokens; False (and nothing taken) when fewer are left."""
        if amount > self._available:
            return False
        self._available -= amount
        return True

    def release(self, amount: int) -> None:
        """Give back ``amount`` tokens, never above ``capacity``."""
        self._available = min(self._available + amount, self.capacity)


@attrs.define(repr=False, on_setattr=attrs.setters.NO_OP)
class StandardRetry(Composable):
    """botocore's ``standard`` retry mode (reference 2.8).

    Args:
        total_max_attempts: attempts including the first (default 3).
        max_backoff: the backoff cap in seconds (default 20).
        quota: the client's `RetryQuota` (default: 500 tokens; share one
            between policies to model one client).
        retry_cost: tokens a retry takes (default 5).
        timeout_retry_cost: tokens a retry after ``ReadTimeoutError`` or
            ``ConnectTimeoutError`` takes (default 10).
        no_retry_increment: tokens a success on the first attempt refunds (default 1).

    A failure is retried when it is transient (HTTP 500/502/503/504,
    ``RequestTimeout``, ``RequestTimeoutException``, ``PriorRequestNotComplete``,
    connection errors, ``ReadTimeoutError``) or a throttling code
    (`STANDARD_THROTTLING_CODES`, ``TooManyRequestsException`` among them), the
    attempts are not used up, *and* the quota has the tokens.  A success after
    retries refunds the last retry's cost.  The delay before retry ``n`` is
    ``rand() * min(2 ** (n - 1), max_backoff)``.  Arguments are validated when the
    policy is made (not on later assignment).  ``|`` combines it with another policy;
    put it last, so that it pays its quota only for retries that happen.
    """

    total_max_attempts: int = attrs.field(
        default=3, validator=in_range("total_max_attempts", 1, 1000, integer=True)
    )
    max_backoff: float = attrs.field(default=20.0, validator=in_range("max_backoff", 0, 3600))
    quota: RetryQuota = attrs.field(
        factory=RetryQuota, validator=instance_of("quota", RetryQuota, "a RetryQuota")
    )
    retry_cost: int = attrs.field(
        default=5, validator=in_range("retry_cost", 0, 10**6, integer=True)
    )
    timeout_retry_cost: int = attrs.field(
        default=10, validator=in_range("timeout_retry_cost", 0, 10**6, integer=True)
    )
    no_retry_increment: int = attrs.field(
        default=1, validator=in_range("no_retry_increment", 0, 10**6, integer=True)
    )
    _last_cost: int = attrs.field(default=0, init=False)

    def __repr__(self) -> str:
        return (
            f"<StandardRetry total_max_attempts={self.total_max_attempts} "
            f"quota={self.quota.available}/{self.quota.capacity}>"
        )

    def retryable(self, failure: Failure) -> bool:
        """True when standard mode retries this kind of failure (attempts and quota aside)."""
        code = failure.code
        return (
            failure.status_code in STANDARD_TRANSIENT_STATUS
            or code in STANDARD_TRANSIENT_CODES
            or code in STANDARD_THROTTLING_CODES
        )

    def decide(self, failure: Failure, rng: random.Random) -> Decision:
        """Retry after ``rand * min(2 ** (attempt - 1), max_backoff)`` s, paying the quota.

        Stops with ``max_attempts``, ``not_retryable`` or ``retry_quota_exhausted``.
        """
        if failure.attempt >= self.total_max_attempts:
            return _MAX_ATTEMPTS
        if not self.retryable(failure):
            return _NOT_RETRYABLE
        cost = self.timeout_retry_cost if failure.code in _TIMEOUT_ERRORS else self.retry_cost
        if not self.quota.acquire(cost):
            return Decision.stop("retry_quota_exhausted")
        self._last_cost = cost
        return Decision.after(rng.random() * min(2 ** (failure.attempt - 1), self.max_backoff))

    def succeeded(self, attempts: int) -> None:
        """Refund: ``no_retry_increment`` after a first-try success, else the last retry's cost."""
        self.quota.release(self.no_retry_increment if attempts <= 1 else self._last_cost)
        self._last_cost = 0


@attrs.frozen
class ClientAttempt:
    """One attempt of a `LambdaClient` call, as the client saw it.

    Attributes:
        call: 1-based number of the client call (one ``client.invoke``).
        attempt: 1-based attempt within the call.
        request_id: the request id Lambda gave the attempt.
        sent_at: clock time the request was sent.
        answered_at: clock time the client got the response, the refusal, or gave up.
        outcome: ``"Success"``, the function's ``errorType`` (a 200 response with
            ``FunctionError``), the refusal's wire code, or ``"ReadTimeoutError"``.
        retry_delay: the backoff the policy chose before the next attempt, or None.
        reason: why the policy stopped (``max_attempts``, ...), empty otherwise.
        span: the attempt as Lambda ran it (the `Span` of the invoker's history; it may end
            after the client gave up), or None when the call was refused.
    """

    call: int
    attempt: int
    request_id: str
    sent_at: float
    answered_at: float
    outcome: str
    retry_delay: float | None = None
    reason: str = ""
    span: Span | None = attrs.field(default=None, repr=False)


def _failure_kind(error: InvocationError) -> FailureKind:
    if error.status_code == 429:
        return FailureKind.THROTTLE
    if error.status_code >= 500:
        return FailureKind.SERVICE_ERROR
    return FailureKind.INVALID_REQUEST


@attrs.define(repr=False, eq=False, on_setattr=attrs.setters.NO_OP)
class LambdaClient:
    """A boto3-like Lambda client: synchronous invokes with SDK retries and a read timeout.

    Args:
        invoker: the `RequestResponseInvoker` the client calls (its scheduler
            is the client's clock).
        retry: the client's `RetryPolicy` (default `LegacyRetry`, boto3's default).
        read_timeout: botocore's ``read_timeout`` in seconds (default 60);
            None waits forever.  A function that runs longer makes the client
            raise ``ReadTimeoutError`` internally and, if the policy retries it,
            invoke again while the first attempt still runs.
        rng: jitter source (default: the invoker's ``rng``, so one seed gives one run).

    `invoke` returns the `InvokeResponse` of the first attempt that gets one, a
    function error included (the SDK never retries those), or raises the last
    error (`InvocationError` or `ReadTimeoutError`) when the policy stops.
    Every attempt is logged in `attempts`; the invoker's `history` shows the
    attempts as Lambda ran them, overlapping ones included (``attempt.span``).

    Each attempt is one `RequestResponseInvoker.call` with the client's read timeout, and
    time passes through the invoker's scheduler (`RequestResponseInvoker.sleep_until`).
    On a real clock an attempt runs to its end before the client compares its
    duration with ``read_timeout``, so overlap is modelled on virtual clocks only.
    Arguments are validated when the client is made (not on later assignment).
    """

    invoker: RequestResponseInvoker = attrs.field(
        validator=instance_of("invoker", RequestResponseInvoker, "a RequestResponseInvoker")
    )
    retry: RetryPolicy = attrs.field(factory=LegacyRetry, validator=retry_policy("retry"))
    read_timeout: float | None = attrs.field(
        default=60.0, validator=in_range("read_timeout", 0.001, 86400, optional=True)
    )
    rng: random.Random = attrs.field(
        default=attrs.Factory(lambda self: attribute_of(self.invoker, "rng"), takes_self=True),
        validator=is_random,
    )
    attempts: list[ClientAttempt] = attrs.field(factory=list, init=False)
    _calls: int = attrs.field(default=0, init=False)
    _succeeded: SuccessHook | None = attrs.field(default=None, init=False)
    _hooked: RetryPolicy | None = attrs.field(default=None, init=False)

    def __attrs_post_init__(self) -> None:
        self._hooked = self.retry
        self._succeeded = success_hook(self.retry)

    def __repr__(self) -> str:
        return (
            f"<LambdaClient {self.invoker.function.name} calls={self._calls} "
            f"attempts={len(self.attempts)} read_timeout={self.read_timeout!r}>"
        )

    @property
    def endpoint(self) -> str:
        """The Invoke URL botocore would name in ``ReadTimeoutError``."""
        function = self.invoker.function
        return (
            f"https://lambda.{function.region}.amazonaws.com/2015-03-31/functions/"
            f"{function.name}/invocations"
        )

    def invoke(
        self,
        payload: Any = None,
        *,
        invocation_type: str | None = None,
        qualifier: str | None = None,
        log_type: str | None = None,
        client_context: ClientContextInput | None = None,
    ) -> InvokeResponse:
        """``client.invoke(...)``: invoke with the SDK's retries; see the class docstring."""
        self._calls += 1
        call = self._calls
        invoker = self.invoker
        first_at = invoker.now
        counts: collections.Counter[FailureKind] | None = None
        attempt = 0
        stall: tuple[float, int] | None = None  # retries asked at once (STALL_LIMIT)
        while True:
            attempt += 1
            sent_at = invoker.now
            error: InvocationError | ReadTimeoutError
            status: int | None
            read_timeout = self.read_timeout
            span: Span | None = None
            try:
                # The invoker waits for the response only when it comes within the read
                # timeout; otherwise the attempt keeps running and the client gives up.
                pending = invoker.call(
                    payload,
                    invocation_type=invocation_type,
                    qualifier=qualifier,
                    log_type=log_type,
                    client_context=client_context,
                    read_timeout=read_timeout,
                )
            except InvocationError as exc:
                error, kind, status = exc, _failure_kind(exc), exc.status_code
                request_id = invoker.last_request_id
            else:
                done = span = pending.span
                request_id = done.request_id
                if read_timeout is None or done.ended_at - done.started_at <= read_timeout:
                    if self.retry is not self._hooked:  # assigned later: look it up once
                        self._hooked, self._succeeded = self.retry, success_hook(self.retry)
                    if self._succeeded is not None:
                        self._succeeded(attempt)
                    self.attempts.append(
                        ClientAttempt(
                            call,
                            attempt,
                            request_id,
                            sent_at,
                            done.ended_at,
                            "Success" if done.error_type is None else done.error_type,
                            span=done,
                        )
                    )
                    return pending.response
                error = ReadTimeoutError(self.endpoint, read_timeout)
                kind, status = FailureKind.CLIENT_TIMEOUT, None
            if counts is None:
                counts = collections.Counter()
            counts[kind] += 1
            failure = Failure(
                attempt=attempt,
                kind=kind,
                kind_count=counts[kind],
                code=error.code,
                status_code=status,
                first_attempt_at=first_at,
                failed_at=invoker.now,
            )
            policy = self.retry
            decision = policy.decide(failure, self.rng)
            if type(decision) is not Decision:
                decision = checked_decision("retry", policy, decision)
            self.attempts.append(
                ClientAttempt(
                    call,
                    attempt,
                    request_id,
                    sent_at,
                    invoker.now,
                    error.code,
                    decision.delay,
                    decision.reason,
                    span,
                )
            )
            delay = decision.delay
            if delay is None:
                raise error
            now = invoker.now
            wake = on_grid(now + delay)
            if wake == _NEVER:
                raise past_the_clock(
                    "retry", policy, delay, f"attempt {attempt + 1} of call {call}"
                )
            if wake <= now:
                stall = count_stall(stall, now)
                if stall[1] >= STALL_LIMIT:
                    raise stalled("retry", policy, f"call {call}", now)
            invoker.sleep_until(now + delay)
