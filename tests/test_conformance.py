"""The conformance kits: the reference pollers and retry policies pass, and implementations
broken in one way each fail with the rule they break, named, and the input that shows it."""

from __future__ import annotations

import base64
import random
from collections.abc import Sequence
from typing import Any

import attrs
import pytest

from invokemodels import (
    Batch,
    BatchOutcome,
    Decision,
    EventRetryPolicy,
    Failure,
    FailureKind,
    FunctionErrorRetries,
    LegacyRetry,
    NoRetry,
    Outcome,
    Scheduler,
    StandardRetry,
    ThrottleBackoff,
)
from invokemodels.aws import KinesisStream, Queue
from invokemodels.core import MaxAge, PollerHandle
from invokemodels.exceptions import InvalidParameterValueError
from invokemodels.mapping import SQSMappingConfig, SQSPoller, StreamMappingConfig, StreamPoller
from invokemodels.testing import ConformanceError, check_poller, check_retry_policy

# -- retry policies -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "policy",
    [
        EventRetryPolicy(),
        EventRetryPolicy(function_errors=FunctionErrorRetries(jitter=30.0)),
        FunctionErrorRetries(maximum_retry_attempts=0),
        EventRetryPolicy() | MaxAge(seconds=300),
        LegacyRetry(),
        NoRetry(),
        StandardRetry,  # a factory: a fresh quota for every run
        StandardRetry(),
    ],
    ids=repr,
)
def test_the_reference_policies_pass(policy: Any) -> None:
    check_retry_policy(policy, max_examples=20)


def test_a_policy_that_leaves_stopping_to_the_model_passes_with_its_max_age() -> None:
    check_retry_policy(ThrottleBackoff(), max_age=21600, max_examples=20)
    check_retry_policy(ThrottleBackoff(jitter=0.5), max_age=60, max_examples=20)
    with pytest.raises(ConformanceError) as caught:
        check_retry_policy(ThrottleBackoff())
    assert caught.value.rule == "retries-forever"
    assert "pass max_age=" in str(caught.value)


class Tries:
    """Retry after ``delay`` until ``tries`` tries, then stop: a well-behaved policy."""

    def __init__(self, tries: int = 3, delay: float = 5.0) -> None:
        self.tries = tries
        self.delay = delay
        self.successes: list[int] = []

    def decide(self, failure: Failure, rng: random.Random) -> Decision:
        if failure.attempt >= self.tries:
            return Decision.stop("mine")
        return Decision.after(self.delay + rng.random())

    def succeeded(self, attempts: int) -> None:
        self.successes.append(attempts)


def test_a_policy_of_ones_own_passes_and_is_left_as_it_was() -> None:
    mine = Tries()
    check_retry_policy(mine, max_examples=20)
    assert mine.successes == []  # each run had a copy of its own


class Negative(Tries):
    def decide(self, failure: Failure, rng: random.Random) -> Decision:
        if failure.attempt >= 2:
            return Decision.stop("done")
        return Decision(delay=-1.0)  # Decision.after would clamp it


class Forever:
    def decide(self, failure: Failure, rng: random.Random) -> Decision:
        return Decision.after(1.0)


class ZeroDelay:
    def decide(self, failure: Failure, rng: random.Random) -> Decision:
        return Decision.after(0.0)


class GlobalJitter(Tries):
    def decide(self, failure: Failure, rng: random.Random) -> Decision:
        if failure.attempt >= 3:
            return Decision.stop("done")
        return Decision.after(1.0 + random.random())  # not the rng it is given


class SharedState:
    calls = 0  # class state outlives every fresh copy

    def decide(self, failure: Failure, rng: random.Random) -> Decision:
        SharedState.calls += 1
        if failure.attempt >= 3:
            return Decision.stop("done")
        return Decision.after(float(SharedState.calls))


class NotADecision:
    def decide(self, failure: Failure, rng: random.Random) -> Any:
        return 5.0


class NoReason:
    def decide(self, failure: Failure, rng: random.Random) -> Decision:
        return Decision(delay=None, reason=None)  # type: ignore[arg-type]


class Raises:
    def decide(self, failure: Failure, rng: random.Random) -> Decision:
        if failure.kind is FailureKind.THROTTLE:
            raise KeyError(failure.kind)
        return Decision.stop("done")


class BadHook(Tries):
    succeeded = "yes"  # type: ignore[assignment]


class InfiniteDelay:
    def decide(self, failure: Failure, rng: random.Random) -> Decision:
        return Decision(delay=float("inf")) if failure.attempt < 2 else Decision.stop("x")


class Bypassed:
    """A delay set past `Decision`'s own check (which refuses it when the value is made)."""

    def decide(self, failure: Failure, rng: random.Random) -> Decision:
        decision = Decision.after(1.0)
        object.__setattr__(decision, "delay", float("nan"))
        return decision


@pytest.mark.parametrize(
    ("policy", "rule", "shows"),
    [
        (Negative(), "delay", "-1.0"),
        (Bypassed(), "delay", "nan"),
        (InfiniteDelay(), "delay", "inf"),
        (Forever(), "retries-forever", "1000 consecutive"),
        (ZeroDelay(), "zero-delay-loop", "after 0 s"),
        (MaxAge(seconds=60), "zero-delay-loop", "100 times in a row"),
        (GlobalJitter(), "determinism", "seed"),
        (SharedState(), "determinism", "decided differently"),
        (NotADecision(), "decision", "returned 5.0, not a Decision"),
        (NoReason(), "reason", "must be a str"),
        (Raises(), "decision", "raised KeyError"),
        (BadHook(), "succeeded", "'yes'"),
    ],
    ids=lambda value: value if isinstance(value, str) else type(value).__name__,
)
def test_a_broken_policy_fails_with_the_rule_it_breaks(policy: Any, rule: str, shows: str) -> None:
    with pytest.raises(ConformanceError) as caught:
        check_retry_policy(policy, max_examples=30)
    error = caught.value
    assert isinstance(error, AssertionError)
    assert error.rule == rule
    assert str(error).startswith(f"{rule}: ")
    assert shows in str(error)
    assert error.input is not None


def test_a_policy_meant_for_some_kinds_is_checked_on_those() -> None:
    class ThrottlesOnly:
        def decide(self, failure: Failure, rng: random.Random) -> Decision:
            if failure.kind is FailureKind.THROTTLE and failure.kind_count < 4:
                return Decision.after(2.0**failure.kind_count)
            if failure.kind is FailureKind.THROTTLE:
                return Decision.stop("throttled")
            raise ValueError("not mine")

    check_retry_policy(ThrottlesOnly(), kinds=[FailureKind.THROTTLE], max_examples=10)
    with pytest.raises(ConformanceError, match="raised ValueError"):
        check_retry_policy(ThrottlesOnly(), max_examples=10)


@pytest.mark.parametrize(
    ("arguments", "parameter"),
    [
        ({"policy": 3}, "policy"),
        ({"policy": Tries(), "max_age": -1}, "max_age"),
        ({"policy": Tries(), "max_attempts": 0}, "max_attempts"),
        ({"policy": Tries(), "kinds": ["throttle"]}, "kinds"),
        ({"policy": Tries(), "max_examples": 0}, "max_examples"),
    ],
)
def test_bad_arguments_to_the_policy_kit(arguments: dict[str, Any], parameter: str) -> None:
    with pytest.raises(InvalidParameterValueError) as caught:
        check_retry_policy(**arguments)
    assert caught.value.parameter == parameter


def test_a_policy_that_cannot_be_copied_asks_for_a_factory() -> None:
    class Uncopyable(Tries):
        def __deepcopy__(self, memo: Any) -> Any:
            raise TypeError("no copies")

    with pytest.raises(InvalidParameterValueError, match="pass a factory"):
        check_retry_policy(Uncopyable())
    check_retry_policy(Uncopyable, max_examples=5)
    with pytest.raises(ConformanceError) as caught:
        check_retry_policy(lambda: "not a policy")
    assert caught.value.rule == "protocol"


# -- pollers --------------------------------------------------------------------------------------


def sqs_bodies(batch: Batch) -> list[str]:
    return [record["body"] for record in batch.event["Records"]]


def kinesis_data(batch: Batch) -> list[str]:
    return [base64.b64decode(r["kinesis"]["data"]).decode() for r in batch.event["Records"]]


def standard_queue(scheduler: Scheduler, items: Sequence[str]) -> SQSPoller:
    queue = Queue("orders", scheduler=scheduler)
    for item in items:
        queue.send_message(item)
    return SQSPoller(queue, SQSMappingConfig(batch_size=3))


def fifo_queue(scheduler: Scheduler, items: Sequence[str]) -> SQSPoller:
    queue = Queue("orders.fifo", scheduler=scheduler)
    for item in items:
        queue.send_message(item, message_group_id="customer", message_deduplication_id=item)
    return SQSPoller(queue, SQSMappingConfig(batch_size=2))


def kinesis_stream(scheduler: Scheduler, items: Sequence[str]) -> StreamPoller:
    stream = KinesisStream("clicks", shard_count=2, scheduler=scheduler)
    for item in items:
        stream.put_record(item, "key-a" if int(item.split("-")[1]) % 2 else "key-b")
    config = StreamMappingConfig(starting_position="TRIM_HORIZON", batch_size=2)
    return StreamPoller(stream.log, config)


def bisecting_stream(scheduler: Scheduler, items: Sequence[str]) -> StreamPoller:
    stream = KinesisStream("clicks", scheduler=scheduler)
    for item in items:
        stream.put_record(item, "key")
    config = StreamMappingConfig(
        starting_position="TRIM_HORIZON",
        batch_size=4,
        maximum_retry_attempts=2,
        bisect_batch_on_function_error=True,
    )
    return StreamPoller(stream.log, config)


@pytest.mark.parametrize(
    ("factory", "items_of", "ordered"),
    [
        (standard_queue, sqs_bodies, False),
        (fifo_queue, sqs_bodies, True),
        (kinesis_stream, kinesis_data, True),
        (bisecting_stream, kinesis_data, True),
    ],
    ids=["sqs-standard", "sqs-fifo", "kinesis", "kinesis-bisect"],
)
def test_the_reference_pollers_pass(factory: Any, items_of: Any, ordered: bool) -> None:
    check_poller(factory, items_of=items_of, ordered=ordered, max_examples=15)


@attrs.define
class ListPoller:
    """A poller of one's own over a list: batches of ``size``, retried after a jittered delay
    up to ``limit`` attempts, then given up on.  The flags break it in one way each."""

    items: list[str]
    size: int = 2
    limit: int = 3
    delay: float = 10.0
    handle: PollerHandle | None = None
    busy: bool = False
    attempts: int = 0
    retry_at: float = 0.0
    given_up: list[str] = attrs.field(factory=list)

    def bind(self, handle: PollerHandle) -> None:
        self.handle = handle

    def take(self, capacity: int) -> list[Batch]:
        taken = tuple(self.items[: self.size])
        return [Batch({"Records": list(taken)}, taken, lane="only", ids=taken)]

    def poll(self, now: float, capacity: int) -> Sequence[Batch]:
        if self.busy or not self.items or now < self.retry_at or capacity < 1:
            return []
        self.busy = True
        return self.take(capacity)

    def jitter(self) -> float:
        assert self.handle is not None
        return self.handle.rng.uniform(0.0, self.delay)

    def consume(self, batch: Batch) -> None:
        del self.items[: len(batch.records)]

    def complete(self, batch: Batch, outcome: BatchOutcome) -> None:
        assert self.handle is not None
        self.busy = False
        if outcome.kind is Outcome.THROTTLED:
            self.retry_at = self.handle.now() + 1.0
            return
        self.attempts += 1
        if outcome.kind is not Outcome.SUCCESS and self.attempts < self.limit:
            self.retry_at = self.handle.now() + self.delay + self.jitter()
            return
        if outcome.kind is not Outcome.SUCCESS:
            self.given_up.extend(batch.records)
        self.consume(batch)
        self.attempts = 0
        self.retry_at = 0.0

    def next_poll_at(self, now: float) -> float | None:
        if self.busy or not self.items:
            return None
        return max(now, self.retry_at)


def make(kind: type[ListPoller], **options: Any) -> Any:
    def factory(scheduler: Scheduler, items: Sequence[str]) -> ListPoller:
        return kind(list(items), **options)

    return factory


def test_a_poller_of_ones_own_passes() -> None:
    check_poller(make(ListPoller), ordered=True, max_examples=30)
    check_poller(make(ListPoller, size=5, limit=1), ordered=True, max_examples=10)


class Drops(ListPoller):
    def consume(self, batch: Batch) -> None:
        del self.items[: len(batch.records) + 1]  # one too many


class Reorders(ListPoller):
    def take(self, capacity: int) -> list[Batch]:
        taken = tuple(self.items[-self.size :])  # the newest first
        return [Batch({"Records": list(taken)}, taken, lane="only", ids=taken)]

    def consume(self, batch: Batch) -> None:
        for record in batch.records:
            self.items.remove(record)


class GlobalRandom(ListPoller):
    def jitter(self) -> float:
        return random.uniform(0.0, self.delay)  # not the handle's rng


class OwnRandom(ListPoller):
    def jitter(self) -> float:
        return random.Random().uniform(0.0, self.delay)  # seeded from the OS


@attrs.define
class Greedy(ListPoller):
    """Every item its own batch (and lane), all at once, whatever the capacity."""

    flying: set[str] = attrs.field(factory=set)

    def poll(self, now: float, capacity: int) -> Sequence[Batch]:
        free = [item for item in self.items if item not in self.flying]
        self.flying.update(free)
        return [Batch({"Records": [i]}, (i,), lane=i, ids=(i,)) for i in free]

    def complete(self, batch: Batch, outcome: BatchOutcome) -> None:
        (item,) = batch.records
        self.flying.discard(item)
        if outcome.kind is Outcome.SUCCESS:
            self.items.remove(item)

    def next_poll_at(self, now: float) -> float | None:
        return now if set(self.items) - self.flying else None


class Spins(ListPoller):
    def next_poll_at(self, now: float) -> float | None:
        return now  # even with nothing to hand out


class ForgetsThrottles(ListPoller):
    def complete(self, batch: Batch, outcome: BatchOutcome) -> None:
        if outcome.kind is Outcome.THROTTLED:
            self.busy = False
            self.consume(batch)  # as if it had run
            return
        super().complete(batch, outcome)


class Redelivers(ListPoller):
    def consume(self, batch: Batch) -> None:
        if not getattr(self, "again", False):
            self.again = True
            return  # the first batch stays, and is handed out again
        super().consume(batch)


class Twice(ListPoller):
    """Hands out the head again while its batch is still running."""

    def poll(self, now: float, capacity: int) -> Sequence[Batch]:
        if not self.items or now < self.retry_at or capacity < 1:
            return []
        return self.take(capacity)

    def next_poll_at(self, now: float) -> float | None:
        return now + 0.1 if self.items else None


class Invents(ListPoller):
    def take(self, capacity: int) -> list[Batch]:
        return [Batch({"Records": ["ghost"]}, ("ghost",), ids=("ghost",))]


class Crashes(ListPoller):
    def complete(self, batch: Batch, outcome: BatchOutcome) -> None:
        if outcome.kind is not Outcome.SUCCESS:
            raise RuntimeError("bookkeeping bug")
        super().complete(batch, outcome)


@pytest.mark.parametrize(
    ("kind", "rule", "shows"),
    [
        (Drops, "conservation", "never handed out"),
        (Reorders, "ordering", "comes later in the source"),
        (GlobalRandom, "determinism", "seed"),
        (OwnRandom, "determinism", "differ at step"),
        (Greedy, "capacity", "more than the capacity"),
        (Spins, "busy-poll", "clock stands still"),
        (ForgetsThrottles, "conservation", "was throttled and never handed out again"),
        (Redelivers, "conservation", "handed out again after its batch succeeded"),
        (Twice, "double-handout", "still in flight"),
        (Invents, "unknown-item", "'ghost'"),
        (Crashes, "raised", "RuntimeError: bookkeeping bug"),
    ],
    ids=lambda value: value if isinstance(value, str) else getattr(value, "__name__", ""),
)
def test_a_broken_poller_fails_with_the_rule_it_breaks(
    kind: type[ListPoller], rule: str, shows: str
) -> None:
    with pytest.raises(ConformanceError) as caught:
        check_poller(make(kind), ordered=True, max_examples=40)
    error = caught.value
    assert error.rule == rule, str(error)
    assert shows in str(error)
    assert "items=('item-0'" in str(error)  # the drawn scenario, shrunk


def test_an_at_least_once_source_may_redeliver_when_it_says_so() -> None:
    check_poller(make(Redelivers), duplicates=True, max_examples=10)


@pytest.mark.parametrize(
    ("arguments", "parameter"),
    [
        ({"factory": None}, "factory"),
        ({"factory": make(ListPoller), "items_of": 3}, "items_of"),
        ({"factory": make(ListPoller), "max_items": 0}, "max_items"),
        ({"factory": make(ListPoller), "quiet": 0}, "quiet"),
        ({"factory": make(ListPoller), "horizon": float("inf")}, "horizon"),
    ],
)
def test_bad_arguments_to_the_poller_kit(arguments: dict[str, Any], parameter: str) -> None:
    with pytest.raises(InvalidParameterValueError) as caught:
        check_poller(**arguments)
    assert caught.value.parameter == parameter
