"""Properties of the Event model: retry counts, delays, age look-ahead, conservation, seeds."""

from __future__ import annotations

import itertools
import random
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

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
    QueueTarget,
    ThrottleBackoff,
)
from invokemodels.event import InMemoryServiceQueue
from invokemodels.exceptions import TooManyRequestsError

DELAYS = (60.0, 120.0)
ages = st.integers(60, 21600)
retries = st.integers(0, 2)
# Half-second steps keep every sum exact in binary floating point.
durations = st.integers(0, 600).map(lambda n: n / 2)


def expected_starts(
    fails: list[bool], maximum_retries: int, maximum_age: float, duration: float
) -> tuple[list[float], str]:
    """The reference 3.3 rule written plainly: start times and the final condition."""
    starts: list[float] = []
    start = 0.0
    for taken in range(3):
        starts.append(start)
        failed = fails[taken] if taken < len(fails) else False
        if not failed:
            return starts, "Success"
        if taken >= maximum_retries:
            return starts, "RetriesExhausted"
        upcoming = start + duration + DELAYS[taken]
        if upcoming >= maximum_age:
            return starts, "EventAgeExceeded"
        start = upcoming
    raise AssertionError("unreachable: at most two retries")


@given(
    fails=st.lists(st.booleans(), min_size=0, max_size=3),
    maximum_retries=retries,
    maximum_age=ages,
    duration=durations,
)
def test_invocations_are_one_plus_retries_taken_bounded_by_budget_and_age(
    fails: list[bool], maximum_retries: int, maximum_age: int, duration: float
) -> None:
    script = list(fails)

    def handler(event: Any, context: Any) -> Any:
        if script and script.pop(0):
            raise RuntimeError("scripted failure")
        return "ok"

    fn = Function(name="prop", handler=handler, timeout=900, duration=duration)
    config = EventInvokeConfig(
        maximum_retry_attempts=maximum_retries, maximum_event_age=maximum_age
    )
    invoker = EventInvoker(fn, config=config, seed=1)
    rid = invoker.invoke({}).request_id
    invoker.scheduler.run_until_idle()

    starts, condition = expected_starts(fails, maximum_retries, maximum_age, duration)
    outcome = invoker.outcome(rid)
    attempts = invoker.history.where(item=rid, ran=True)
    assert [a.started_at for a in attempts] == starts
    assert outcome.condition == condition
    # Decided when the last attempt ends: the age rule does not wait for the deadline.
    assert outcome.ended_at == starts[-1] + duration
    assert outcome.approximate_invoke_count == len(starts) <= 1 + maximum_retries
    assert [a.execution for a in attempts] == list(range(1, len(starts) + 1))
    retries_taken = len(starts) - 1
    assert retries_taken == sum(1 for a in attempts if a.outcome.value == "FunctionError") - (
        0 if condition == "Success" else 1
    )
    # The look-ahead rule: no attempt starts at or after the maximum age.
    assert all(start < maximum_age for start in starts)


@given(blocked_for=st.integers(1, 800), maximum_retries=retries)
@settings(max_examples=40)
def test_throttles_never_consume_the_retry_budget(blocked_for: int, maximum_retries: int) -> None:
    def handler(event: Any, context: Any) -> Any:
        if event == "blocker":
            context.spend(blocked_for)
            return "done"
        raise RuntimeError("always fails")

    fn = Function(name="prop", handler=handler, timeout=900, reserved_concurrency=1)
    invoker = EventInvoker(
        fn, config=EventInvokeConfig(maximum_retry_attempts=maximum_retries), seed=2
    )
    invoker.invoke("blocker")
    rid = invoker.invoke("victim").request_id
    invoker.scheduler.run_until_idle()

    tries = invoker.history.of(rid)
    throttled = [t for t in tries if t.execution is None]
    executions = [t for t in tries if t.execution is not None]
    assert len(executions) == 1 + maximum_retries
    assert invoker.outcome(rid).condition == "RetriesExhausted"
    assert throttled
    assert tries[: len(throttled)] == throttled  # every throttle precedes the first execution
    assert executions[0].started_at >= blocked_for
    backoff = ThrottleBackoff()
    gaps = [b.started_at - a.started_at for a, b in itertools.pairwise(tries[: len(throttled) + 1])]
    assert gaps == [backoff.delay(n) for n in range(1, len(throttled) + 1)]
    gaps_between_executions = [b.started_at - a.ended_at for a, b in itertools.pairwise(executions)]
    assert gaps_between_executions == list(DELAYS[:maximum_retries])


scenario = st.fixed_dictionaries(
    {
        "events": st.integers(1, 25),
        "p_fail": st.sampled_from([0.0, 0.3, 0.7, 1.0]),
        "reserved": st.sampled_from([None, None, 0, 1, 2]),
        "duration": st.integers(0, 40),
        "duplicates": st.sampled_from([0.0, 0.3]),
        "service_errors": st.sampled_from([0.0, 0.2]),
        "maximum_age": st.sampled_from([60, 90, 600, 21600]),
        "maximum_retries": retries,
        "max_in_flight": st.sampled_from([None, 1, 3]),
        "spacing": st.sampled_from([0.0, 0.5, 7.0]),
        "seed": st.integers(0, 2**16),
        "jitter": st.sampled_from([0.0, 0.0, 7.5]),
    }
)


class Delegating:
    """A custom policy that answers what the built-in one would, through ``decide``."""

    def __init__(self, policy: EventRetryPolicy) -> None:
        self.policy = policy

    def decide(self, failure: Failure, rng: random.Random) -> Decision:
        return self.policy.decide(failure, rng)

    def succeeded(self, attempts: int) -> None:
        if self.policy.succeeded is not None:  # the built-ins are stateless
            self.policy.succeeded(attempts)


def run_scenario(
    spec: dict[str, Any], *, delegate: bool = False
) -> tuple[EventInvoker, list[str], Function]:
    rng = random.Random(spec["seed"])

    def handler(event: Any, context: Any) -> Any:
        if rng.random() < spec["p_fail"]:
            raise RuntimeError("flaky")
        return event

    fn = Function(
        name="mix",
        handler=handler,
        timeout=60,
        duration=spec["duration"],
        reserved_concurrency=spec["reserved"],
    )
    config = EventInvokeConfig(
        maximum_event_age=spec["maximum_age"],
        maximum_retry_attempts=spec["maximum_retries"],
        on_failure=QueueTarget(),
    )
    policy = EventRetryPolicy(
        function_errors=FunctionErrorRetries(
            maximum_retry_attempts=spec["maximum_retries"], jitter=spec["jitter"]
        ),
        throttles=ThrottleBackoff(jitter=spec["jitter"] / 10),
        maximum_event_age=spec["maximum_age"],
    )
    invoker = EventInvoker(
        fn,
        config=config,
        retry_policy=Delegating(policy) if delegate else policy,
        dead_letter=QueueTarget(name="dlq"),
        seed=spec["seed"],
        duplicate_probability=spec["duplicates"],
        service_error_probability=spec["service_errors"],
        max_in_flight=spec["max_in_flight"],
    )
    ids: list[str] = []
    refused: list[int] = []

    def send(n: int) -> None:
        try:
            ids.append(invoker.invoke({"n": n}).request_id)
        except TooManyRequestsError:
            refused.append(n)  # the acceptance throttle: never queued, never an outcome

    for n in range(spec["events"]):
        invoker.scheduler.at(n * spec["spacing"], send, n)
    invoker.scheduler.run_until_idle()
    return invoker, ids, fn


@given(scenario)
@settings(max_examples=50)
def test_every_event_ends_in_exactly_one_terminal_outcome(spec: dict[str, Any]) -> None:
    invoker, ids, fn = run_scenario(spec)
    metrics = invoker.metrics
    outcomes = invoker.outcomes
    counts = invoker.counts()
    assert invoker.pending == 0
    assert fn.in_flight == 0
    assert metrics.async_events_received == len(ids) == len(set(ids))
    assert sum(counts.values()) == len(outcomes) == len(ids) + metrics.duplicates
    originals = [o for o in outcomes if not o.duplicate]
    assert sorted(o.request_id for o in originals) == sorted(ids)
    assert counts[EventOutcomeKind.CANCELLED] == 0
    dropped = len(outcomes) - counts[EventOutcomeKind.SUCCEEDED]
    assert metrics.async_events_dropped == dropped
    assert metrics.invocations == sum(o.approximate_invoke_count for o in outcomes)
    for outcome in outcomes:
        assert outcome.approximate_invoke_count <= 1 + spec["maximum_retries"]
        assert all(
            a.started_at < outcome.enqueued_at + spec["maximum_age"]
            for a in invoker.history.of(outcome.request_id)
        )
        if spec["reserved"] == 0:
            assert outcome.kind is EventOutcomeKind.ZERO_CONCURRENCY
            assert outcome.approximate_invoke_count == 0
    failures = invoker.config.on_failure
    assert isinstance(failures, QueueTarget)
    assert len(failures.messages) == dropped
    assert isinstance(invoker.dead_letter, QueueTarget)
    assert len(invoker.dead_letter.messages) == dropped


@given(scenario)
@settings(max_examples=25)
def test_same_seed_gives_the_same_timeline(spec: dict[str, Any]) -> None:
    def observe() -> list[tuple[Any, ...]]:
        invoker, _, _ = run_scenario(spec)
        return [
            (
                o.request_id,
                o.condition,
                o.ended_at,
                tuple(invoker.history.of(o.request_id)),
                o.duplicate,
            )
            for o in invoker.outcomes
        ]

    assert observe() == observe()


@given(scenario)
@settings(max_examples=25)
def test_built_in_policies_answer_as_their_decide_does(spec: dict[str, Any]) -> None:
    # One call path for every policy: a custom policy that delegates to a built-in one's
    # ``decide`` (and has a ``succeeded`` of its own) must see the very same timeline.
    def observe(*, delegate: bool) -> list[tuple[Any, ...]]:
        invoker, _, _ = run_scenario(spec, delegate=delegate)
        return [
            (
                o.request_id,
                o.condition,
                o.ended_at,
                tuple(invoker.history.of(o.request_id)),
                o.duplicate,
            )
            for o in invoker.outcomes
        ]

    assert observe(delegate=True) == observe(delegate=False)


@given(
    initial=st.floats(0.001, 10),
    factor=st.floats(1, 4),
    cap=st.floats(0.001, 1000),
    count=st.integers(1, 200),
)
def test_throttle_backoff_grows_and_is_capped(
    initial: float, factor: float, cap: float, count: int
) -> None:
    backoff = ThrottleBackoff(initial=initial, factor=factor, cap=cap)
    assert backoff.delay(count) == min(initial * factor ** (count - 1), cap)
    assert backoff.delay(count) <= cap
    assert backoff.delay(count) <= backoff.delay(count + 1)
    failure = Failure(attempt=count, kind=FailureKind.SERVICE_ERROR, kind_count=count)
    assert backoff.decide(failure, random.Random(0)) == Decision.after(backoff.delay(count))


@given(
    kind=st.sampled_from([FailureKind.FUNCTION_ERROR, FailureKind.THROTTLE]),
    count=st.integers(1, 30),
    first=st.integers(0, 10_000),
    elapsed=st.integers(0, 22_000),
    age=ages,
)
def test_policy_stops_exactly_when_the_next_attempt_would_reach_the_age(
    kind: FailureKind, count: int, first: int, elapsed: int, age: int
) -> None:
    policy = EventRetryPolicy(maximum_event_age=age)
    failure = Failure(
        attempt=count,
        kind=kind,
        kind_count=count,
        first_attempt_at=first,
        failed_at=first + elapsed,
    )
    decision = policy.decide(failure, random.Random(0))
    base = (
        policy.function_errors.decide(failure, random.Random(0))
        if kind is FailureKind.FUNCTION_ERROR
        else policy.throttles.decide(failure, random.Random(0))
    )
    if base.delay is None:
        assert decision == Decision.stop("RetriesExhausted")
    elif elapsed + base.delay >= age:
        assert decision == Decision.stop("EventAgeExceeded")
    else:
        assert decision == base


class QueueMachine(RuleBasedStateMachine):
    """`InMemoryServiceQueue` against a plain list: earliest ready first, ties in order."""

    def __init__(self) -> None:
        super().__init__()
        self.queue: InMemoryServiceQueue[int] = InMemoryServiceQueue()
        self.model: list[tuple[float, int, int]] = []
        self.counter = 0

    @rule(ready_at=st.integers(0, 20).map(float))
    def put(self, ready_at: float) -> None:
        self.queue.put(self.counter, ready_at)
        self.model.append((ready_at, self.counter, self.counter))
        self.counter += 1

    @rule(now=st.integers(0, 25).map(float))
    def take(self, now: float) -> None:
        ready = [entry for entry in self.model if entry[0] <= now]
        expected = min(ready) if ready else None
        got = self.queue.take(now)
        if expected is None:
            assert got is None
        else:
            assert got == expected[2]
            self.model.remove(expected)

    @precondition(lambda self: bool(self.model))
    @rule()
    def take_earliest(self) -> None:
        upcoming = self.queue.next_ready_at()
        assert upcoming is not None
        self.take(upcoming)

    @invariant()
    def same_size_and_head(self) -> None:
        assert len(self.queue) == len(self.model)
        head = min(self.model)[0] if self.model else None
        assert self.queue.next_ready_at() == head


TestServiceQueue = QueueMachine.TestCase


@given(
    duration=st.floats(0, 5, allow_subnormal=False),
    jitter=st.floats(0, 10, allow_subnormal=False),
    throttle_jitter=st.floats(0, 1),
    seed=st.integers(0, 2**16),
)
@settings(max_examples=30)
def test_any_fractional_timing_runs_to_an_outcome(
    duration: float, jitter: float, throttle_jitter: float, seed: int
) -> None:
    # Retry times that fall between two ticks of the scheduler once made dispatch spin.
    def handler(event: Any, context: Any) -> Any:
        raise RuntimeError("always fails")

    fn = Function(
        name="prop", handler=handler, timeout=900, duration=duration, reserved_concurrency=1
    )
    policy = EventRetryPolicy(
        function_errors=FunctionErrorRetries(jitter=jitter),
        throttles=ThrottleBackoff(jitter=throttle_jitter),
    )
    invoker = EventInvoker(fn, retry_policy=policy, seed=seed)
    for _ in range(4):
        invoker.invoke({})
    invoker.scheduler.run_until_idle(max_steps=2_000)
    assert invoker.pending == 0
    assert [o.approximate_invoke_count for o in invoker.outcomes] == [3] * 4
