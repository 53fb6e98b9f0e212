"""Configuration and retry rules of the asynchronous (``Event``) model.

- `EventInvokeConfig` mirrors ``FunctionEventInvokeConfig`` (reference 3.4): retry attempts,
  maximum event age and the on-success / on-failure destinations, with AWS's ranges and rules.
- `FunctionErrorRetries`, `ThrottleBackoff` and `EventRetryPolicy` are the reference 3.3 retry
  rules as `RetryPolicy` objects, so a model user can swap any of them.
"""

from __future__ import annotations

import random
from typing import Any, Final

import attrs

from invokemodels.core._combine import Composable, SuccessHook, fan_out, retry_policy
from invokemodels.core._protocols import Destination, RetryPolicy
from invokemodels.core._retry import Decision, Failure, FailureKind, checked_decision
from invokemodels.core._validate import (
    attribute_of,
    check_implements,
    check_range,
    in_range,
    seconds,
    seconds_or_none,
)
from invokemodels.exceptions import InvalidParameterValueError

__all__ = [
    "DEFAULT_MAXIMUM_EVENT_AGE",
    "DEFAULT_MAXIMUM_RETRY_ATTEMPTS",
    "EventInvokeConfig",
    "EventRetryPolicy",
    "FunctionErrorRetries",
    "ThrottleBackoff",
]

DEFAULT_MAXIMUM_RETRY_ATTEMPTS: Final = 2
"""``MaximumRetryAttempts`` default (range 0-2)."""

DEFAULT_MAXIMUM_EVENT_AGE: Final = 21600.0
"""``MaximumEventAgeInSeconds`` default: six hours (range 60-21600)."""

DESTINATION_ARN_LIMIT: Final = 350
"""``DestinationConfig`` ARNs are at most 350 characters."""

_DESTINATION_SERVICES: Final = ("sqs", "sns", "lambda", "events", "s3")
RETRIES_EXHAUSTED: Final = "RetriesExhausted"
EVENT_AGE_EXCEEDED: Final = "EventAgeExceeded"
# The policies answer with these shared, immutable values instead of building new ones.
_STOP_RETRIES: Final = Decision.stop(RETRIES_EXHAUSTED)
_STOP_AGE: Final = Decision.stop(EVENT_AGE_EXCEEDED)
_TABLE_SIZE: Final = 64


def _service(arn: str) -> str:
    parts = arn.split(":")
    return parts[2] if len(parts) > 2 and parts[0] == "arn" else ""


def _check_destination(parameter: str, destination: Destination, *, on_success: bool) -> None:
    check_implements(parameter, destination, "Destination", ("deliver",), ("arn",))
    arn = destination.arn
    if not isinstance(arn, str) or len(arn) > DESTINATION_ARN_LIMIT:
        raise InvalidParameterValueError(
            parameter, arn, f"must be an ARN of at most {DESTINATION_ARN_LIMIT} characters"
        )
    service = _service(arn)
    if service not in _DESTINATION_SERVICES:
        raise InvalidParameterValueError(
            parameter,
            arn,
            "must be the ARN of an SQS queue, SNS topic, Lambda function, EventBridge bus "
            "or (on failure only) S3 bucket",
        )
    if on_success and service == "s3":
        raise InvalidParameterValueError(
            parameter, arn, "S3 buckets are supported only for on-failure destinations"
        )
    if service in ("sqs", "sns") and arn.endswith(".fifo"):
        raise InvalidParameterValueError(
            parameter, arn, "FIFO queues and topics are not supported as destinations"
        )


def check_not_self(function_arn: str, config: EventInvokeConfig) -> None:
    """AWS's rule: a function cannot be a direct destination of itself (any qualifier)."""
    for parameter, destination in (
        ("DestinationConfig.OnSuccess.Destination", config.on_success),
        ("DestinationConfig.OnFailure.Destination", config.on_failure),
    ):
        if destination is None:
            continue
        arn = destination.arn
        if arn == function_arn or arn.startswith(function_arn + ":"):
            raise InvalidParameterValueError(
                parameter, arn, "You can't specify the function as a direct destination for itself."
            )


def check_dead_letter(target: Any) -> None:
    """``DeadLetterConfig.TargetArn``: a standard SQS queue or a standard SNS topic.

    The target must implement `DeadLetterQueue` (``send_message``) or
    `DeadLetterTopic` (``publish``), with the ARN of that service.
    """
    arn = attribute_of(target, "arn")
    service = _service(arn) if isinstance(arn, str) else ""
    method = {"sqs": "send_message", "sns": "publish"}.get(service)
    if method is None or arn.endswith(".fifo"):
        raise InvalidParameterValueError(
            "DeadLetterConfig.TargetArn", arn, "must be a standard SQS queue or SNS topic"
        )
    protocol = "DeadLetterQueue" if service == "sqs" else "DeadLetterTopic"
    check_implements("DeadLetterConfig", target, protocol, (method,), ("arn",))


def _on_success(instance: Any, _attribute: Any, value: Any) -> None:
    del instance
    if value is not None:
        _check_destination("DestinationConfig.OnSuccess.Destination", value, on_success=True)


def _on_failure(instance: Any, _attribute: Any, value: Any) -> None:
    del instance
    if value is not None:
        _check_destination("DestinationConfig.OnFailure.Destination", value, on_success=False)


@attrs.frozen(kw_only=True)
class EventInvokeConfig:
    """``FunctionEventInvokeConfig``: how Lambda handles an asynchronous event (reference 3.4).

    Args:
        maximum_retry_attempts: ``MaximumRetryAttempts``, 0-2 (default 2): how many times a
            *function error* is retried.  Throttles and system errors do not count.
        maximum_event_age: ``MaximumEventAgeInSeconds``, 60-21600 (default 21600, six hours);
            a `datetime.timedelta` is accepted.
        on_success: ``DestinationConfig.OnSuccess``: SQS, SNS, Lambda or EventBridge (not S3).
        on_failure: ``DestinationConfig.OnFailure``: SQS, SNS, Lambda, EventBridge or S3.

    Destination ARNs follow AWS's rules (at most 350 characters, no FIFO queues or topics,
    S3 only on failure); the rule that a function cannot be its own destination is
    checked by `EventInvoker`, which knows the function.
    """

    maximum_retry_attempts: int = attrs.field(
        default=DEFAULT_MAXIMUM_RETRY_ATTEMPTS,
        validator=in_range("MaximumRetryAttempts", 0, 2, integer=True),
    )
    maximum_event_age: float = attrs.field(
        default=DEFAULT_MAXIMUM_EVENT_AGE,
        converter=seconds,
        validator=in_range("MaximumEventAgeInSeconds", 60, 21600, integer=True),
    )
    on_success: Destination | None = attrs.field(default=None, validator=_on_success)
    on_failure: Destination | None = attrs.field(default=None, validator=_on_failure)


def _as_delays(value: Any) -> Any:
    try:
        return tuple(seconds(delay) for delay in value)
    except TypeError:
        return value


LONGEST_DELAY: Final = 1_000_000_000
"""The upper bound of the retry policies' durations: 10**9 s, about 31.7 years.

Far past any age an event can reach (``MaximumEventAgeInSeconds`` is at most 21600),
so every useful value fits, while infinity, ``nan`` and integers past the float range
are refused.  A delay that reaches past the event's maximum age ends the event with
``EventAgeExceeded`` at once (the look-ahead rule).
"""

SHORTEST_THROTTLE_DELAY: Final = 0.001
"""``ThrottleBackoff`` delays are at least 1 ms: throttles retry until the event's age
runs out, and a zero delay would retry at the same instant forever."""


def _non_negative(parameter: str) -> Any:
    return in_range(parameter, 0, LONGEST_DELAY)


def _delays(_instance: Any, _attribute: Any, value: Any) -> None:
    if not isinstance(value, tuple) or not value:
        raise InvalidParameterValueError(
            "delays", value, "must be a non-empty tuple of seconds >= 0"
        )
    for delay in value:
        check_range("delays", delay, 0, LONGEST_DELAY)


@attrs.frozen(kw_only=True)
class FunctionErrorRetries(Composable):
    """Lambda's retries of *function errors* for ``Event`` invokes (reference 3.3).

    "a one-minute wait between the first two attempts, and two minutes between the second
    and third attempts": the n-th retry waits ``delays[n - 1]`` seconds after the failed
    attempt ended (the last delay repeats), plus a uniform jitter of up to ``jitter``
    seconds drawn from the model's seeded ``rng``.

    Args:
        maximum_retry_attempts: retries allowed (``MaximumRetryAttempts``, 0-2, default 2).
        delays: seconds before each retry (default ``(60.0, 120.0)``), each 0 to 10**9.
        jitter: up to this many extra seconds per retry (default 0: exactly 60 and 120),
            0 to 10**9.

    A delay (plus jitter) that reaches past the event's maximum age ends the event with
    ``"EventAgeExceeded"`` at once (the look-ahead rule of `EventRetryPolicy`).
    Stateless (no ``succeeded``); ``|`` combines it with another policy (`CombinedPolicy`).
    """

    maximum_retry_attempts: int = attrs.field(
        default=DEFAULT_MAXIMUM_RETRY_ATTEMPTS,
        validator=in_range("MaximumRetryAttempts", 0, 2, integer=True),
    )
    delays: tuple[float, ...] = attrs.field(
        default=(60.0, 120.0), converter=_as_delays, validator=_delays
    )
    jitter: float = attrs.field(default=0.0, converter=seconds, validator=_non_negative("jitter"))
    _decisions: tuple[Decision, ...] = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        # Without jitter every answer is known in advance: the model's hot path allocates none.
        object.__setattr__(self, "_decisions", tuple(Decision.after(d) for d in self.delays))

    def decide(self, failure: Failure, rng: random.Random) -> Decision:
        """Retry after the delay for this retry, or stop with ``"RetriesExhausted"``."""
        retry = failure.kind_count
        if retry > self.maximum_retry_attempts:
            return _STOP_RETRIES
        index = retry - 1 if retry <= len(self.delays) else -1
        if self.jitter:
            return Decision.after(self.delays[index] + rng.random() * self.jitter)
        return self._decisions[index]


@attrs.frozen(kw_only=True)
class ThrottleBackoff(Composable):
    """Lambda's backoff for throttles (429) and system errors (5xx) of ``Event`` invokes.

    "The retry interval increases exponentially from 1 second after the first attempt to a
    maximum of 5 minutes" (reference 3.3).  The growth factor is not published: doubling
    (1, 2, 4, ... 256, 300, 300, ...) is the [UNCONFIRMED] model, hence ``factor``.  These
    retries never stop on their own; the event's maximum age bounds them (see
    `EventRetryPolicy`), and they do not consume ``MaximumRetryAttempts``.

    Args:
        initial: the first delay in seconds (default 1; 0.001 to 10**9).
        factor: growth per throttle (default 2.0, [UNCONFIRMED]; 1-1000).
        cap: the longest delay in seconds (default 300; 0.001 to 10**9).
        jitter: up to this fraction of the delay added at random (default 0; 0-1).

    A zero ``initial`` or ``cap`` is refused: every delay would be 0, and a throttled
    event would be retried at the same instant forever, the clock never reaching the
    maximum age that ends it.  Stateless (no ``succeeded``); ``|`` combines it with
    another policy (`CombinedPolicy`).
    """

    initial: float = attrs.field(
        default=1.0,
        converter=seconds,
        validator=in_range("initial", SHORTEST_THROTTLE_DELAY, LONGEST_DELAY),
    )
    factor: float = attrs.field(default=2.0, validator=in_range("factor", 1, 1000))
    cap: float = attrs.field(
        default=300.0,
        converter=seconds,
        validator=in_range("cap", SHORTEST_THROTTLE_DELAY, LONGEST_DELAY),
    )
    jitter: float = attrs.field(default=0.0, validator=in_range("jitter", 0, 1))
    _table: tuple[Decision, ...] = attrs.field(init=False, eq=False, repr=False)
    _tail: Decision | None = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        # The answers without jitter, up to the cap (after which every answer is the cap's).
        table: list[Decision] = []
        tail = None
        for count in range(1, _TABLE_SIZE + 1):
            delay = self.delay(count)
            table.append(Decision.after(delay))
            if delay >= self.cap or self.factor == 1:
                tail = table[-1]
                break
        object.__setattr__(self, "_table", tuple(table))
        object.__setattr__(self, "_tail", tail)

    def delay(self, count: int) -> float:
        """The delay after the ``count``-th throttle (1-based), without jitter."""
        try:
            return min(self.initial * self.factor ** (count - 1), self.cap)
        except OverflowError:  # factor ** n past the float range: long since at the cap
            return self.cap

    def decide(self, failure: Failure, rng: random.Random) -> Decision:
        """Always retry, after ``min(initial * factor ** (n - 1), cap)`` seconds."""
        count = failure.kind_count
        if self.jitter:
            delay = self.delay(count)
            return Decision.after(delay + rng.random() * self.jitter * delay)
        table = self._table
        if 0 < count <= len(table):
            return table[count - 1]
        if count > 0 and self._tail is not None:
            return self._tail
        return Decision.after(self.delay(count))


@attrs.frozen(kw_only=True)
class EventRetryPolicy(Composable):
    """The whole ``Event`` retry rule: function errors, throttles, and the event-age look-ahead.

    Function errors go to ``function_errors``, throttles and system errors to ``throttles``
    (so throttles never consume the retry budget).  Whatever they answer, the age rule
    looks ahead: when the next attempt would start at or after ``first_attempt_at +
    maximum_event_age`` (the enqueue time plus the maximum age), the event ends *now*
    with ``"EventAgeExceeded"``.  AWS recorded this early ending: with a 60 s maximum age
    a failing function runs once, with 90 s twice (reference 3.3).  The boundary is
    inclusive (an attempt may not start exactly at the maximum age), so the 60 s case holds
    even when attempts take no time.  A sub-policy's stop reason is passed on as it is.

    ``succeeded`` is the sub-policies' ``succeeded`` (both, in that order), or None when
    neither has one (the built-ins are stateless); ``|`` combines the whole rule with
    another policy (`CombinedPolicy`).

    Args:
        function_errors: policy for function errors (default `FunctionErrorRetries`).
        throttles: policy for throttles and 5xx errors (default `ThrottleBackoff`).
        maximum_event_age: ``MaximumEventAgeInSeconds`` (default 21600; 0 to 10**9);
            None disables the rule.
    """

    function_errors: RetryPolicy = attrs.field(
        factory=FunctionErrorRetries, validator=retry_policy("function_errors")
    )
    throttles: RetryPolicy = attrs.field(
        factory=ThrottleBackoff, validator=retry_policy("throttles")
    )
    maximum_event_age: float | None = attrs.field(
        default=DEFAULT_MAXIMUM_EVENT_AGE,
        converter=seconds_or_none,
        validator=in_range("MaximumEventAgeInSeconds", 0, LONGEST_DELAY, optional=True),
    )
    succeeded: SuccessHook | None = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "succeeded", fan_out((self.function_errors, self.throttles)))

    @classmethod
    def from_config(cls, config: EventInvokeConfig) -> EventRetryPolicy:
        """The AWS rule for ``config``: its retry attempts and maximum age, default delays."""
        return cls(
            function_errors=FunctionErrorRetries(
                maximum_retry_attempts=config.maximum_retry_attempts
            ),
            maximum_event_age=config.maximum_event_age,
        )

    def decide(self, failure: Failure, rng: random.Random) -> Decision:
        """Route ``failure`` by kind, then apply the look-ahead age rule."""
        kind = failure.kind
        if kind is FailureKind.FUNCTION_ERROR:
            policy: RetryPolicy = self.function_errors
            part = "function_errors"
        elif kind is FailureKind.THROTTLE or kind is FailureKind.SERVICE_ERROR:
            policy, part = self.throttles, "throttles"
        else:
            return _STOP_RETRIES
        decision = policy.decide(failure, rng)
        if type(decision) is not Decision:
            decision = checked_decision(part, policy, decision)
        delay = decision.delay
        if delay is None:
            return decision
        age = self.maximum_event_age
        if age is not None and failure.failed_at + delay >= failure.first_attempt_at + age:
            return _STOP_AGE
        return decision
