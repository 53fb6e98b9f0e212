"""Composing retry policies, and how a model reads one.

`CombinedPolicy` (also spelt ``a | b`` with the built-in policies, through `Composable`)
retries only when every part retries, and `MaxAge` stops after a time, as tenacity
composes ``stop_after_attempt(3) | stop_after_delay(10)``.  `success_hook` is how a model
finds a policy's optional ``succeeded``, once.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from typing import Any, Final

import attrs

from invokemodels.core._protocols import RetryPolicy
from invokemodels.core._retry import Decision, Failure, checked_decision
from invokemodels.core._validate import check_implements, in_range
from invokemodels.core._validate import seconds as to_seconds
from invokemodels.exceptions import InvalidParameterValueError

__all__ = [
    "CombinedPolicy",
    "Composable",
    "MaxAge",
    "SuccessHook",
    "check_retry_policy",
    "fan_out",
    "retry_policy",
    "success_hook",
]


SuccessHook = Callable[[int], object]
"""A policy's ``succeeded(attempts)``."""


def success_hook(policy: object) -> SuccessHook | None:
    """The policy's ``succeeded`` method, or None for a stateless policy (see `RetryPolicy`).

    A model looks it up once, when it is made, and calls it after every success.
    """
    hook = getattr(policy, "succeeded", None)
    return hook if callable(hook) else None


def check_retry_policy(parameter: str, policy: object) -> None:
    """`InvalidParameterValueError` unless ``policy`` is a `RetryPolicy`.

    ``decide`` must be callable; ``succeeded``, if present, callable or None.
    """
    check_implements(parameter, policy, "RetryPolicy", ("decide",))
    hook = getattr(policy, "succeeded", None)
    if hook is not None and not callable(hook):
        raise InvalidParameterValueError(
            parameter, policy, "must implement RetryPolicy; its succeeded is not callable"
        )


def retry_policy(parameter: str) -> Callable[[Any, Any, Any], None]:
    """An attrs validator for `check_retry_policy`."""

    def validate(_instance: Any, _attribute: Any, value: Any) -> None:
        check_retry_policy(parameter, value)

    return validate


def fan_out(policies: Iterable[object]) -> SuccessHook | None:
    """One ``succeeded`` calling every part's, in order; None when no part has one."""
    hooks = tuple(hook for hook in map(success_hook, policies) if hook is not None)
    if not hooks:
        return None
    if len(hooks) == 1:
        return hooks[0]

    def succeeded(attempts: int) -> None:
        for hook in hooks:
            hook(attempts)

    return succeeded


class Composable:
    """``policy | other`` for a `RetryPolicy`: the two as a `CombinedPolicy`.

    The built-in policies have it; a user's policy may inherit it, or be combined with
    `CombinedPolicy` directly (``builtin | mine`` works either way).
    """

    __slots__ = ()

    def __or__(self, other: RetryPolicy) -> CombinedPolicy:
        return CombinedPolicy((self, other))  # type: ignore[arg-type]  # self is a policy

    def __ror__(self, other: RetryPolicy) -> CombinedPolicy:
        return CombinedPolicy((other, self))  # type: ignore[arg-type]  # self is a policy


def _flatten(policies: Iterable[RetryPolicy]) -> tuple[RetryPolicy, ...]:
    out: list[RetryPolicy] = []
    for policy in policies:
        if isinstance(policy, CombinedPolicy):
            out.extend(policy.policies)
        else:
            out.append(policy)
    return tuple(out)


def _parts(_instance: Any, _attribute: Any, value: Any) -> None:
    if not value:
        raise InvalidParameterValueError("policies", value, "must hold at least one RetryPolicy")
    for policy in value:
        check_retry_policy("policies", policy)


@attrs.frozen
class CombinedPolicy(Composable):
    """Several `RetryPolicy` objects as one: retry only when every one of them retries.

    The parts are asked in order.  The first that stops wins, with its reason, and the
    parts after it are not asked (so put a policy that spends a quota, such as
    `StandardRetry`, last: it pays only for retries that happen).  When every part
    retries, the longest delay wins: each part's delay is the earliest time it allows
    the next attempt, so the combination waits until all of them allow it (summing
    would count one backoff twice).  ``succeeded`` reaches every part that has one.

    ``a | b`` makes one from the built-in policies; nested combinations are flattened,
    so ``(a | b) | c`` and ``a | (b | c)`` are ``CombinedPolicy((a, b, c))``.

    Args:
        policies: the parts, at least one.
    """

    policies: tuple[RetryPolicy, ...] = attrs.field(converter=_flatten, validator=_parts)
    succeeded: SuccessHook | None = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "succeeded", fan_out(self.policies))

    def decide(self, failure: Failure, rng: random.Random) -> Decision:
        """The first part's stop, else the retry with the longest delay."""
        longest: Decision | None = None
        for index, policy in enumerate(self.policies):
            decision = policy.decide(failure, rng)
            if type(decision) is not Decision:
                decision = checked_decision(f"policies[{index}]", policy, decision)
            delay = decision.delay
            if delay is None:
                return decision
            if longest is None or delay > longest.delay:  # type: ignore[operator]
                longest = decision
        assert longest is not None  # at least one part
        return longest


_NO_OBJECTION: Final = Decision(delay=0.0)


@attrs.frozen(kw_only=True)
class MaxAge(Composable):
    """Stop once ``seconds`` have passed since the first attempt (tenacity's ``stop_after_delay``).

    A failure at ``failure.elapsed >= seconds`` stops with ``reason``; an earlier one
    retries after 0 s, no objection: combine it with a policy that sets the delay
    (``FunctionErrorRetries() | MaxAge(seconds=300)``).  It does not look ahead at the
    next attempt's start, as `EventRetryPolicy`'s ``maximum_event_age`` does.

    Args:
        seconds: the age limit in seconds, 0 to 10**9 (a `datetime.timedelta` is accepted).
        reason: the stop reason (default ``"EventAgeExceeded"``, the ``Event`` record's
            condition for an event too old to retry).
    """

    seconds: float = attrs.field(converter=to_seconds, validator=in_range("seconds", 0, 10**9))
    reason: str = "EventAgeExceeded"
    _stop: Decision = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "_stop", Decision.stop(self.reason))

    def decide(self, failure: Failure, rng: random.Random) -> Decision:
        """Stop with ``reason`` at or past the age, else no objection (0 s)."""
        if failure.failed_at - failure.first_attempt_at >= self.seconds:
            return self._stop
        return _NO_OBJECTION
