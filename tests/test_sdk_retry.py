"""The caller's retries: botocore's legacy and standard modes, the quota, and `LambdaClient`."""

from __future__ import annotations

import itertools
import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from invokemodels import (
    Failure,
    FailureKind,
    Function,
    LambdaClient,
    LegacyRetry,
    NoRetry,
    RequestResponseInvoker,
    Scheduler,
    StandardRetry,
    SystemClock,
)
from invokemodels.core import Outcome, ThrottleReason
from invokemodels.exceptions import (
    InvalidParameterValueError,
    InvalidRequestContentError,
    InvocationError,
    ReadTimeoutError,
    ServiceError,
    TooManyRequestsError,
)
from invokemodels.sync import ClientAttempt, RetryQuota


def failure(attempt: int = 1, code: str = "", status: int | None = None) -> Failure:
    return Failure(attempt=attempt, kind=FailureKind.SERVICE_ERROR, code=code, status_code=status)


THROTTLE = ("TooManyRequestsException", 429)
SERVICE = ("ServiceException", 500)
BAD_GATEWAY = ("EC2UnexpectedException", 502)
LIMIT_509 = ("BandwidthLimitExceeded", 509)
READ_TIMEOUT = ("ReadTimeoutError", None)
CONNECT_TIMEOUT = ("ConnectTimeoutError", None)
THROTTLING_400 = ("ThrottlingException", 400)
INVALID = ("InvalidRequestContentException", 400)
TOO_LARGE = ("RequestEntityTooLargeException", 413)
NOT_FOUND = ("ResourceNotFoundException", 404)
EFS_408 = ("EFSMountTimeoutException", 408)


# -- which errors each mode retries -----------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "legacy", "standard"),
    [
        (THROTTLE, True, True),
        (SERVICE, True, True),
        (BAD_GATEWAY, True, True),
        (("ResourceNotReadyException", 503), True, True),
        (("GatewayTimeout", 504), True, True),
        (LIMIT_509, True, True),  # standard retries it by its code, not its status
        (("SomethingElse", 509), True, False),
        (READ_TIMEOUT, True, True),
        (CONNECT_TIMEOUT, True, True),  # legacy catches ConnectionError and its subclasses
        (("ConnectionClosedError", None), True, True),
        (("EndpointConnectionError", None), True, True),
        (THROTTLING_400, True, True),
        (("ThrottlingException", 403), False, True),
        (("RequestTimeout", 400), False, True),
        (("PriorRequestNotComplete", 400), False, True),
        (("SlowDown", 503), True, True),
        (INVALID, False, False),
        (TOO_LARGE, False, False),
        (NOT_FOUND, False, False),
        (EFS_408, False, False),
        (("EFSMountFailureException", 403), False, False),
    ],
)
def test_retryable_errors_per_mode(
    error: tuple[str, int | None], legacy: bool, standard: bool
) -> None:
    code, status = error
    assert LegacyRetry().retryable(failure(1, code, status)) is legacy
    assert StandardRetry().retryable(failure(1, code, status)) is standard


def test_non_retryable_failures_stop_with_a_reason() -> None:
    rng = random.Random(0)
    assert LegacyRetry().decide(failure(1, *INVALID), rng).reason == "not_retryable"
    assert StandardRetry().decide(failure(1, *TOO_LARGE), rng).reason == "not_retryable"
    assert NoRetry().decide(failure(1, *THROTTLE), rng).reason == "max_attempts"


# -- attempt counts and delay bounds -----------------------------------------------------------


@given(
    seed=st.integers(min_value=0, max_value=2**32),
    attempt=st.integers(min_value=1, max_value=40),
    total=st.integers(min_value=1, max_value=40),
    error=st.sampled_from([THROTTLE, SERVICE, BAD_GATEWAY, LIMIT_509, READ_TIMEOUT]),
)
def test_legacy_delay_is_rand_times_two_to_the_n_minus_1_without_cap(
    seed: int, attempt: int, total: int, error: tuple[str, int | None]
) -> None:
    policy = LegacyRetry(total_max_attempts=total)
    decision = policy.decide(failure(attempt, *error), random.Random(seed))
    if attempt >= total:
        assert decision.delay is None
        assert decision.reason == "max_attempts"
    else:
        assert decision.delay is not None
        assert 0 <= decision.delay < 2 ** (attempt - 1)
        assert decision.delay == random.Random(seed).random() * 2 ** (attempt - 1)


@given(
    seed=st.integers(min_value=0, max_value=2**32),
    attempt=st.integers(min_value=1, max_value=40),
    error=st.sampled_from([THROTTLE, SERVICE, BAD_GATEWAY, READ_TIMEOUT, THROTTLING_400]),
)
def test_standard_delay_is_rand_times_two_to_the_n_minus_1_capped_at_20(
    seed: int, attempt: int, error: tuple[str, int | None]
) -> None:
    policy = StandardRetry(total_max_attempts=41, quota=RetryQuota(capacity=10**6))
    decision = policy.decide(failure(attempt, *error), random.Random(seed))
    assert decision.delay is not None
    cap = min(2 ** (attempt - 1), 20)
    assert 0 <= decision.delay < cap
    assert decision.delay == random.Random(seed).random() * cap


def always(error: InvocationError) -> Any:
    return lambda number, rng: error


@settings(max_examples=30)
@given(
    seed=st.integers(min_value=0, max_value=2**32),
    mode=st.sampled_from(["legacy", "standard"]),
    total=st.integers(min_value=1, max_value=8),
    error=st.sampled_from(
        [TooManyRequestsError(ThrottleReason.RESERVED), ServiceError("Internal error")]
    ),
)
def test_a_client_makes_exactly_total_max_attempts_with_backoff_in_bounds(
    seed: int, mode: str, total: int, error: InvocationError
) -> None:
    ran: list[Any] = []
    invoker = RequestResponseInvoker(
        Function(name="f", handler=lambda e, c: ran.append(e)), seed=seed, fault=always(error)
    )
    policy = (
        LegacyRetry(total_max_attempts=total)
        if mode == "legacy"
        else StandardRetry(total_max_attempts=total)
    )
    client = LambdaClient(invoker, retry=policy)
    with pytest.raises(type(error)):
        client.invoke({"x": 1})
    assert ran == []
    assert len(client.attempts) == len(list(invoker.history)) == total
    assert [a.attempt for a in client.attempts] == list(range(1, total + 1))
    assert client.attempts[-1].retry_delay is None
    assert client.attempts[-1].reason == "max_attempts"
    cap = float("inf") if mode == "legacy" else 20.0
    for n, (this, following) in enumerate(itertools.pairwise(client.attempts), start=1):
        assert this.retry_delay is not None
        assert 0 <= this.retry_delay < min(2 ** (n - 1), cap)
        assert following.sent_at == pytest.approx(this.answered_at + this.retry_delay)
        assert this.outcome == error.code


def test_default_modes_attempt_counts() -> None:
    for policy, expected in ((LegacyRetry(), 5), (StandardRetry(), 3), (NoRetry(), 1)):
        invoker = RequestResponseInvoker(
            Function(name="f", handler=lambda e, c: e), seed=1, fault=always(ServiceError("x"))
        )
        with pytest.raises(ServiceError):
            LambdaClient(invoker, retry=policy).invoke({})
        assert invoker.calls == expected


def test_a_client_does_not_retry_function_errors_or_bad_requests() -> None:
    def boom(event: Any, context: Any) -> Any:
        raise ValueError("boom")

    invoker = RequestResponseInvoker(Function(name="f", handler=boom), seed=1)
    client = LambdaClient(invoker)
    response = client.invoke({})
    assert (response.status_code, response.function_error) == (200, "Unhandled")
    assert [(a.attempt, a.outcome) for a in client.attempts] == [(1, "ValueError")]
    with pytest.raises(InvalidRequestContentError):
        client.invoke(b"{nope")
    assert client.attempts[-1].reason == "not_retryable"
    assert invoker.calls == 2


def test_retry_then_success_timeline() -> None:
    invoker = RequestResponseInvoker(
        Function(name="f", handler=lambda e, c: "ok", duration=0.5), seed=7
    )
    invoker.inject(ServiceError("Internal error"), TooManyRequestsError(ThrottleReason.RESERVED))
    client = LambdaClient(invoker, retry=LegacyRetry())
    response = client.invoke({})
    assert response.json() == "ok"
    rng = random.Random(7)
    # the invoker and the client share the seeded rng: a request id per call, a delay per retry
    rng.getrandbits(128)
    d1 = rng.random() * 1
    rng.getrandbits(128)
    d2 = rng.random() * 2
    assert [(a.attempt, a.outcome, a.retry_delay) for a in client.attempts] == [
        (1, "ServiceException", d1),
        (2, "TooManyRequestsException", d2),
        (3, "Success", None),
    ]
    # virtual time has nanosecond ticks
    assert [a.sent_at for a in client.attempts] == pytest.approx([0.0, d1, d1 + d2], abs=1e-9)
    assert client.attempts[-1].answered_at == pytest.approx(d1 + d2 + 0.5)
    assert all(isinstance(a, ClientAttempt) for a in client.attempts)


# -- the retry quota -------------------------------------------------------------------------


def test_quota_costs_and_refunds() -> None:
    quota = RetryQuota()
    policy = StandardRetry(quota=quota)
    rng = random.Random(1)
    assert quota.available == 500
    policy.succeeded(1)  # a first-try success refunds 1, capped at capacity
    assert quota.available == 500
    assert policy.decide(failure(1, *SERVICE), rng).retry
    assert quota.available == 495
    assert policy.decide(failure(2, *READ_TIMEOUT), rng).retry
    assert quota.available == 485
    policy.succeeded(3)  # a success after retries refunds the last retry's cost
    assert quota.available == 495
    policy.succeeded(1)
    assert quota.available == 496
    assert repr(quota) == "<RetryQuota 496/500>"
    assert repr(policy) == "<StandardRetry total_max_attempts=3 quota=496/500>"


def test_empty_quota_stops_retries() -> None:
    policy = StandardRetry(total_max_attempts=10, quota=RetryQuota(capacity=12))
    rng = random.Random(1)
    decisions = [policy.decide(failure(n, *THROTTLE), rng) for n in (1, 2, 3)]
    assert [d.retry for d in decisions] == [True, True, False]
    assert decisions[2].reason == "retry_quota_exhausted"
    assert policy.quota.available == 2
    # max attempts and non-retryable errors are checked before the quota is touched
    assert policy.decide(failure(10, *THROTTLE), rng).reason == "max_attempts"
    assert policy.decide(failure(1, *INVALID), rng).reason == "not_retryable"
    assert policy.quota.available == 2


@given(
    ops=st.lists(
        st.one_of(
            st.tuples(st.just("fail"), st.sampled_from([SERVICE, THROTTLE, READ_TIMEOUT, INVALID])),
            st.tuples(st.just("ok"), st.integers(min_value=1, max_value=3)),
        ),
        max_size=80,
    ),
    capacity=st.integers(min_value=0, max_value=60),
)
def test_quota_matches_a_plain_model(ops: list[tuple[str, Any]], capacity: int) -> None:
    policy = StandardRetry(total_max_attempts=100, quota=RetryQuota(capacity=capacity))
    rng = random.Random(0)
    available, last_cost = capacity, 0
    for op, arg in ops:
        if op == "fail":
            code, status = arg
            decision = policy.decide(failure(1, code, status), rng)
            cost = 10 if code == "ReadTimeoutError" else 5
            if code == "InvalidRequestContentException":
                assert decision.reason == "not_retryable"
            elif cost <= available:
                assert decision.retry
                available -= cost
                last_cost = cost
            else:
                assert decision.reason == "retry_quota_exhausted"
        else:
            policy.succeeded(arg)
            available = min(capacity, available + (1 if arg == 1 else last_cost))
            last_cost = 0
        assert policy.quota.available == available
        assert 0 <= policy.quota.available <= capacity


def test_policy_validation() -> None:
    with pytest.raises(InvalidParameterValueError, match="total_max_attempts=0"):
        LegacyRetry(total_max_attempts=0)
    with pytest.raises(InvalidParameterValueError, match=r"total_max_attempts=1\.5"):
        StandardRetry(total_max_attempts=1.5)  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterValueError, match="capacity=-1"):
        RetryQuota(capacity=-1)
    with pytest.raises(InvalidParameterValueError, match="read_timeout=0"):
        LambdaClient(
            RequestResponseInvoker(Function(name="f", handler=lambda e, c: 1)), read_timeout=0
        )


# -- the read-timeout pitfall ------------------------------------------------------------------


def slow(event: Any, context: Any) -> Any:
    context.spend(event["seconds"])
    return {"ran": event["seconds"]}


def test_read_timeout_duplicates_a_long_invoke_while_the_first_still_runs() -> None:
    executions: list[str] = []

    def handler(event: Any, context: Any) -> Any:
        executions.append(context.aws_request_id)
        return slow(event, context)

    sched = Scheduler()
    fn = Function(name="report", handler=handler, timeout=900)
    invoker = RequestResponseInvoker(fn, scheduler=sched, seed=11)
    client = LambdaClient(invoker, retry=LegacyRetry(total_max_attempts=2), read_timeout=60.0)
    with pytest.raises(ReadTimeoutError) as info:
        client.invoke({"seconds": 120})
    assert isinstance(info.value, TimeoutError)
    assert str(info.value) == (
        'Read timeout on endpoint URL: "https://lambda.us-east-1.amazonaws.com/2015-03-31/'
        'functions/report/invocations"'
    )
    delay = client.attempts[0].retry_delay
    assert delay is not None
    assert 0 <= delay < 1
    # the client's view: two timeouts, 60 s after each send
    assert [(a.attempt, a.outcome) for a in client.attempts] == [
        (1, "ReadTimeoutError"),
        (2, "ReadTimeoutError"),
    ]
    assert [(a.sent_at, a.answered_at) for a in client.attempts] == [
        (0.0, 60.0),
        (pytest.approx(60.0 + delay, abs=1e-9), pytest.approx(120.0 + delay, abs=1e-9)),
    ]
    # Lambda's view: both attempts ran the handler to the end, overlapping, 2 in flight
    first, second = list(invoker.history)
    assert (first.started_at, first.ended_at, first.outcome, first.in_flight) == (
        0.0,
        120.0,
        Outcome.SUCCESS,
        1,
    )
    assert (second.started_at, second.in_flight) == (pytest.approx(60.0 + delay, abs=1e-9), 2)
    assert second.ended_at == pytest.approx(180.0 + delay)
    assert first.overlaps(second)
    assert executions == [first.request_id, second.request_id]
    assert fn.in_flight == 1  # the second attempt is still running when the client gives up
    sched.run_until_idle()
    assert fn.in_flight == 0


@settings(max_examples=40)
@given(
    seed=st.integers(min_value=0, max_value=2**32),
    seconds=st.floats(min_value=60.5, max_value=899),
    total=st.integers(min_value=1, max_value=6),
    mode=st.sampled_from(["legacy", "standard"]),
)
def test_every_client_attempt_runs_the_handler_when_the_function_outlasts_the_read_timeout(
    seed: int, seconds: float, total: int, mode: str
) -> None:
    runs: list[float] = []

    def handler(event: Any, context: Any) -> Any:
        runs.append(context.spent)
        return slow(event, context)

    fn = Function(name="f", handler=handler, timeout=900)
    invoker = RequestResponseInvoker(fn, seed=seed)
    policy = (
        LegacyRetry(total_max_attempts=total)
        if mode == "legacy"
        else StandardRetry(total_max_attempts=total)
    )
    client = LambdaClient(invoker, retry=policy, read_timeout=60.0)
    with pytest.raises(ReadTimeoutError):
        client.invoke({"seconds": seconds})
    assert len(runs) == len(list(invoker.history)) == total
    attempts = list(invoker.history)
    for a in attempts:
        assert a.outcome is Outcome.SUCCESS
        assert a.duration == pytest.approx(seconds)
    # each retry is sent 60 s (the read timeout) + backoff (at most 2^(n-1) s) after the
    # previous one, and overlaps it exactly when that is sooner than the `seconds` it runs
    for index, (earlier, later) in enumerate(itertools.pairwise(attempts)):
        gap = later.started_at - earlier.started_at
        assert 60.0 - 1e-9 <= gap <= 60.0 + 2**index + 1e-9
        if gap < seconds:
            assert earlier.overlaps(later)
            assert later.in_flight >= 2
        else:
            assert not earlier.overlaps(later)
    assert client.attempts[-1].answered_at == pytest.approx(attempts[-1].started_at + 60.0)


def test_no_retry_or_a_longer_read_timeout_avoids_the_duplicate() -> None:
    for client_kwargs in ({"retry": NoRetry()}, {"read_timeout": 901.0}, {"read_timeout": None}):
        runs: list[str] = []

        def handler(event: Any, context: Any, runs: list[str] = runs) -> Any:
            runs.append(context.aws_request_id)
            return slow(event, context)

        invoker = RequestResponseInvoker(Function(name="f", handler=handler, timeout=900), seed=1)
        client = LambdaClient(invoker, **client_kwargs)
        try:
            response = client.invoke({"seconds": 120})
        except ReadTimeoutError:
            assert client_kwargs == {"retry": NoRetry()}
        else:
            assert response.json() == {"ran": 120}
            assert invoker.now == 120.0
        assert len(runs) == 1


def test_standard_mode_pays_10_tokens_per_read_timeout_retry() -> None:
    invoker = RequestResponseInvoker(Function(name="f", handler=slow, timeout=900), seed=1)
    policy = StandardRetry()
    with pytest.raises(ReadTimeoutError):
        LambdaClient(invoker, retry=policy).invoke({"seconds": 100})
    assert policy.quota.available == 500 - 2 * 10


def test_a_throttled_duplicate_under_reserved_concurrency_one() -> None:
    fn = Function(name="f", handler=slow, timeout=900, reserved_concurrency=1)
    invoker = RequestResponseInvoker(fn, seed=2)
    client = LambdaClient(invoker, retry=LegacyRetry(total_max_attempts=3))
    with pytest.raises(TooManyRequestsError):
        client.invoke({"seconds": 100})
    assert [a.outcome for a in client.attempts] == [
        "ReadTimeoutError",
        "TooManyRequestsException",
        "TooManyRequestsException",
    ]
    assert [inv.ran for inv in invoker.history] == [True, False, False]
    assert client.attempts[1].request_id == invoker.history[1].request_id


class _NoJitter(random.Random):
    def random(self) -> float:
        return 0.0


def test_client_on_a_real_clock_judges_the_timeout_after_the_attempt() -> None:
    invoker = RequestResponseInvoker(
        Function(name="f", handler=lambda e, c: "ok"), scheduler=Scheduler(SystemClock()), seed=1
    )
    client = LambdaClient(invoker, retry=StandardRetry())
    assert client.invoke({}).json() == "ok"
    assert client.retry.quota.available == 500  # type: ignore[attr-defined]
    assert repr(client).startswith("<LambdaClient f calls=1 attempts=1")

    def sleepy(event: Any, context: Any) -> Any:
        context.spend(0.03)  # really sleeps on a real clock
        return "late"

    slow_invoker = RequestResponseInvoker(
        Function(name="f", handler=sleepy), scheduler=Scheduler(SystemClock()), seed=1
    )
    slow_client = LambdaClient(
        slow_invoker, retry=LegacyRetry(total_max_attempts=2), read_timeout=0.01, rng=_NoJitter()
    )
    with pytest.raises(ReadTimeoutError):
        slow_client.invoke({})
    assert [a.outcome for a in slow_client.attempts] == ["ReadTimeoutError"] * 2
    first, second = list(slow_invoker.history)
    assert (first.outcome, second.outcome) == (Outcome.SUCCESS, Outcome.SUCCESS)
    assert first.duration >= 0.03
    # on a real clock the attempt ran to its end first: the retry follows it, no overlap
    assert second.started_at >= first.ended_at
    assert not first.overlaps(second)
