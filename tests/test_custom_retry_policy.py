"""A retry policy written from the public API alone drives the sync client and the Event model.

It gets exactly what a built-in policy gets: ``decide`` for every failure, ``succeeded``
after every success (if it has one), and its stop reason recorded as it is.  Policies
compose with ``|`` / `CombinedPolicy`: the first to stop wins, else the longest delay.
"""

from __future__ import annotations

import random
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from invokemodels import (
    Decision,
    EventInvokeConfig,
    EventInvoker,
    EventOutcomeKind,
    EventRetryPolicy,
    Failure,
    FailureKind,
    Function,
    FunctionErrorRetries,
    LambdaClient,
    LegacyRetry,
    QueueTarget,
    RequestResponseInvoker,
    RetryPolicy,
    StandardRetry,
    ThrottleBackoff,
)
from invokemodels.core import CombinedPolicy, MaxAge
from invokemodels.exceptions import ServiceError


class GiveUpAfter:
    """Retry every failure after 5 s, up to ``tries`` tries; then stop with a reason of its own."""

    def __init__(self, tries: int) -> None:
        self.tries = tries
        self.seen: list[tuple[int, FailureKind, str]] = []
        self.successes: list[int] = []

    def decide(self, failure: Failure, rng: random.Random) -> Decision:
        self.seen.append((failure.attempt, failure.kind, failure.code))
        if failure.attempt >= self.tries:
            return Decision.stop("my_reason")
        return Decision.after(5.0)

    def succeeded(self, attempts: int) -> None:
        self.successes.append(attempts)


def failing(event: Any, context: Any) -> Any:
    raise RuntimeError("no")


def test_a_custom_policy_drives_the_event_model_and_its_reason_is_recorded() -> None:
    policy = GiveUpAfter(tries=3)
    failures = QueueTarget()
    invoker = EventInvoker(
        Function(name="custom", handler=failing),
        config=EventInvokeConfig(on_failure=failures),
        retry_policy=policy,
        seed=2,
    )
    rid = invoker.invoke({"n": 1}).request_id
    invoker.scheduler.run_until_idle()
    assert [a.started_at for a in invoker.history.where(item=rid, ran=True)] == [0.0, 5.0, 10.0]
    assert policy.seen == [(n, FailureKind.FUNCTION_ERROR, "RuntimeError") for n in (1, 2, 3)]
    outcome = invoker.outcome(rid)
    assert (outcome.kind, outcome.condition) == (EventOutcomeKind.RETRIES_EXHAUSTED, "my_reason")
    assert outcome.record()["requestContext"]["condition"] == "my_reason"
    [delivered] = failures.records
    assert delivered["requestContext"]["condition"] == "my_reason"


def test_a_custom_policy_hears_of_event_successes() -> None:
    calls = iter([RuntimeError("once"), None])

    def flaky(event: Any, context: Any) -> Any:
        error = next(calls)
        if error is not None:
            raise error
        return event

    policy = GiveUpAfter(tries=3)
    invoker = EventInvoker(Function(name="custom", handler=flaky), retry_policy=policy, seed=2)
    rid = invoker.invoke({}).request_id
    invoker.scheduler.run_until_idle()
    assert invoker.outcome(rid).condition == "Success"
    assert policy.successes == [2]


def test_a_custom_policy_drives_the_sync_client_and_its_reason_is_logged() -> None:
    policy = GiveUpAfter(tries=2)
    invoker = RequestResponseInvoker(Function(name="custom", handler=lambda e, c: e), seed=4)
    invoker.inject(ServiceError("Internal error"), ServiceError("Internal error"))
    client = LambdaClient(invoker, retry=policy)
    try:
        client.invoke({})
    except ServiceError:
        pass
    else:  # pragma: no cover - the policy stops after two tries
        raise AssertionError("the client should have raised the last error")
    assert [(a.attempt, a.sent_at, a.retry_delay, a.reason) for a in client.attempts] == [
        (1, 0.0, 5.0, ""),
        (2, 5.0, None, "my_reason"),
    ]
    assert policy.seen == [(1, FailureKind.SERVICE_ERROR, "ServiceException")] * 1 + [
        (2, FailureKind.SERVICE_ERROR, "ServiceException")
    ]
    assert client.invoke({"ok": 1}).json() == {"ok": 1}
    assert policy.successes == [1]


def test_a_stateless_policy_needs_no_succeeded() -> None:
    class Once:
        def decide(self, failure: Failure, rng: random.Random) -> Decision:
            return Decision.stop("once") if failure.attempt > 1 else Decision.after(1.0)

    invoker = EventInvoker(Function(name="custom", handler=failing), retry_policy=Once())
    rid = invoker.invoke({}).request_id
    invoker.scheduler.run_until_idle()
    assert invoker.outcome(rid).condition == "once"
    client = LambdaClient(RequestResponseInvoker(Function(name="s", handler=lambda e, c: e)))
    client.retry = Once()
    assert client.invoke(1).json() == 1


def test_policies_compose_with_or() -> None:
    rng = random.Random(0)
    error = Failure(attempt=1, kind=FailureKind.FUNCTION_ERROR, failed_at=10.0)
    combined = FunctionErrorRetries(delays=(60.0,)) | MaxAge(seconds=30)
    assert combined == CombinedPolicy((FunctionErrorRetries(delays=(60.0,)), MaxAge(seconds=30)))
    assert combined.decide(error, rng) == Decision.after(60.0)
    late = Failure(attempt=1, kind=FailureKind.FUNCTION_ERROR, failed_at=30.0)
    assert combined.decide(late, rng) == Decision.stop("EventAgeExceeded")
    mine = GiveUpAfter(tries=1)
    assert (ThrottleBackoff() | mine).policies == (ThrottleBackoff(), mine)
    assert (mine | ThrottleBackoff()).policies == (mine, ThrottleBackoff())
    assert ((LegacyRetry() | mine) | MaxAge(seconds=1)) == (
        LegacyRetry() | (mine | MaxAge(seconds=1))
    )
    assert combined.succeeded is None
    assert (mine | StandardRetry()).succeeded is not None


def test_a_combined_policy_drives_the_event_model() -> None:
    invoker = EventInvoker(
        Function(name="custom", handler=failing),
        retry_policy=EventRetryPolicy() | MaxAge(seconds=50, reason="TooOld"),
    )
    rid = invoker.invoke({}).request_id
    invoker.scheduler.run_until_idle()
    assert [a.started_at for a in invoker.history.where(item=rid, ran=True)] == [0.0, 60.0]
    assert invoker.outcome(rid).condition == "TooOld"


# -- the combinator's rule ----------------------------------------------------------------------


class Fixed:
    """Always the same answer; counts how often it was asked."""

    def __init__(self, decision: Decision) -> None:
        self.decision = decision
        self.asked = 0

    def decide(self, failure: Failure, rng: random.Random) -> Decision:
        self.asked += 1
        return self.decision


decisions = st.one_of(
    st.builds(Decision.after, st.floats(0, 1e6)),
    st.builds(Decision.stop, st.sampled_from(["a", "b", "RetriesExhausted"])),
)


@given(st.lists(decisions, min_size=1, max_size=6))
def test_the_first_stop_wins_else_the_longest_delay(answers: list[Decision]) -> None:
    parts = [Fixed(answer) for answer in answers]
    policies: list[RetryPolicy] = list(parts)
    got = CombinedPolicy(tuple(policies)).decide(
        Failure(attempt=1, kind=FailureKind.THROTTLE), random.Random(0)
    )
    stops = [i for i, answer in enumerate(answers) if answer.delay is None]
    if stops:
        assert got == answers[stops[0]]
        assert [p.asked for p in parts] == [1] * (stops[0] + 1) + [0] * (len(parts) - stops[0] - 1)
    else:
        assert got.delay == max(answer.delay for answer in answers if answer.delay is not None)
        assert [p.asked for p in parts] == [1] * len(parts)


@given(st.lists(decisions, min_size=1, max_size=6), st.integers(0, 5))
def test_combining_is_flat_whatever_the_grouping(answers: list[Decision], cut: int) -> None:
    parts: list[RetryPolicy] = [Fixed(answer) for answer in answers]
    cut = min(cut, len(parts) - 1)
    flat = CombinedPolicy(tuple(parts))
    left = CombinedPolicy(tuple(parts[: cut + 1]))
    grouped = CombinedPolicy((left, *parts[cut + 1 :])) if cut + 1 < len(parts) else left
    assert grouped.policies == flat.policies
    failure = Failure(attempt=1, kind=FailureKind.FUNCTION_ERROR)
    assert grouped.decide(failure, random.Random(0)) == flat.decide(failure, random.Random(0))


@given(decisions)
def test_one_policy_combined_is_itself(answer: Decision) -> None:
    failure = Failure(attempt=1, kind=FailureKind.FUNCTION_ERROR)
    assert CombinedPolicy((Fixed(answer),)).decide(failure, random.Random(0)) == answer
