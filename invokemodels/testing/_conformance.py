"""Conformance kits: check your own `Poller` or `RetryPolicy` against the protocol's contract.

In the manner of trio's ``trio.testing.check_one_way_stream``: you hand over your
implementation (or a factory for it), the kit exercises it with inputs Hypothesis draws
(a bounded budget, derandomized, so a run is repeatable) and raises `ConformanceError`
naming the first rule it broke, with the input that shows it (shrunk by Hypothesis).

`check_retry_policy` checks the `RetryPolicy` rules: every answer is a `Decision`; a retry's
delay is a finite number of seconds >= 0; a stop's reason is text; ``succeeded``, if there
is one, is callable; the same failures and seed give the same decisions (randomness comes
from the ``rng`` only); no loop of zero-delay retries; and the policy stops (or, with
``max_age``, lets the clock reach the age at which the model stops it).

`check_poller` drives your poller with the `EventSourceMapping` loop over items the kit
chooses, with a `FailureSchedule` of errors, timeouts and throttles, and checks the
`Poller` rules: at most ``capacity`` batches per poll; only the source's items, none handed
out twice at once; conservation (every item is handed out, none again after it succeeded,
none lost after a throttle); order per lane when the poller claims it; the same timeline
for the same seed; a polling cadence that lets the clock move on.

Hypothesis is needed here (the ``testing`` extra); it is imported when a kit runs.
"""

from __future__ import annotations

import collections
import copy
import math
import random
from collections.abc import Callable, Hashable, Sequence
from typing import TYPE_CHECKING, Any, Final, TypeVar

import attrs

from invokemodels.core._function import Function
from invokemodels.core._history import History, Outcome
from invokemodels.core._protocols import Batch, BatchOutcome, Poller, PollerHandle, RetryPolicy
from invokemodels.core._retry import Decision, Failure, FailureKind
from invokemodels.core._scheduler import Scheduler
from invokemodels.exceptions import InvalidParameterValueError, describe_error
from invokemodels.mapping._loop import EventSourceMapping
from invokemodels.testing._schedules import Behaviour, FailureSchedule

if TYPE_CHECKING:
    import hypothesis

__all__ = ["ConformanceError", "check_poller", "check_retry_policy"]

T = TypeVar("T")


class ConformanceError(AssertionError):
    """An implementation broke a rule of its protocol's contract.

    Attributes:
        rule: the rule's name (``"delay"``, ``"determinism"``, ``"conservation"``, ...).
        detail: what happened.
        input: the input that shows it (a failure sequence, a list of items and a
            schedule, ...), or None.
    """

    def __init__(self, rule: str, detail: str, input: Any = None) -> None:
        self.rule = rule
        self.detail = detail
        self.input = input
        text = f"{rule}: {detail}"
        if input is not None:
            text += f"\n  input: {input!r}"
        super().__init__(text)


def _need_hypothesis() -> None:
    try:
        import hypothesis  # noqa: F401, PLC0415 - the kits need it only when they run
    except ImportError as exc:  # pragma: no cover - hypothesis is installed for the tests
        msg = "the invokemodels.testing kits need Hypothesis: pip install 'invokemodels[testing]'"
        raise ImportError(msg) from exc


def _check_count(parameter: str, value: Any, low: int, high: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise InvalidParameterValueError(parameter, value, f"must be an integer in {low}-{high}")


def _check_seconds(parameter: str, value: Any, *, optional: bool = False) -> None:
    if value is None and optional:
        return
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not ok or not 0 < value < math.inf:
        raise InvalidParameterValueError(
            parameter,
            value,
            "must be a finite number of seconds > 0" + (" or None" if optional else ""),
        )


def _settings(max_examples: int) -> hypothesis.settings:
    _need_hypothesis()
    from hypothesis import HealthCheck, Phase, settings  # noqa: PLC0415

    return settings(
        # No "explain" phase: it traces every line of a run, which is slow for a whole mapping.
        phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
        max_examples=max_examples,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        print_blob=False,
        report_multiple_bugs=False,
    )


def _with_global_random(seed: int, run: Callable[[], T]) -> T:
    """``run()`` with the `random` module seeded with ``seed``; its state is put back after."""
    state = random.getstate()
    random.seed(seed)
    try:
        return run()
    finally:
        random.setstate(state)


# -- retry policies ---------------------------------------------------------------------------

_CODES: Final = {
    FailureKind.FUNCTION_ERROR: ("Unhandled", 200),
    FailureKind.THROTTLE: ("TooManyRequestsException", 429),
    FailureKind.SERVICE_ERROR: ("ServiceException", 500),
    FailureKind.CLIENT_TIMEOUT: ("ReadTimeoutError", None),
    FailureKind.INVALID_REQUEST: ("InvalidRequestContentException", 400),
}


@attrs.frozen
class FailedTry:
    """One failed try in a scenario of `check_retry_policy`: its kind and how long it ran."""

    kind: FailureKind
    took: float


def _policy_maker(policy_or_factory: Any) -> Callable[[], RetryPolicy]:
    if not isinstance(policy_or_factory, type) and callable(
        getattr(policy_or_factory, "decide", None)
    ):
        policy = policy_or_factory
        try:
            copy.deepcopy(policy)
        except Exception as exc:
            raise InvalidParameterValueError(
                "policy",
                policy,
                f"could not be copied for a fresh run ({describe_error(exc)}): pass a factory "
                "that makes a new policy",
            ) from exc
        return lambda: copy.deepcopy(policy)
    if callable(policy_or_factory):
        factory: Callable[[], RetryPolicy] = policy_or_factory

        def make() -> RetryPolicy:
            made = factory()
            if not callable(getattr(made, "decide", None)):
                raise ConformanceError(
                    "protocol", f"the factory made {made!r}, which has no decide(failure, rng)"
                )
            return made

        return make
    raise InvalidParameterValueError(
        "policy", policy_or_factory, "must be a RetryPolicy or a callable that makes one"
    )


class _PolicyRun:
    """One run of a scenario against a fresh policy: every decision, checked as it comes."""

    def __init__(self, policy: RetryPolicy, seed: int, *, max_age: float | None) -> None:
        self.policy = policy
        self.rng = random.Random(seed)
        self.max_age = max_age
        self.now = 0.0
        self.decisions: list[tuple[str, float | None, str]] = []
        hook = getattr(policy, "succeeded", None)
        if hook is not None and not callable(hook):
            raise ConformanceError(
                "succeeded",
                f"succeeded is {hook!r}: it must be callable or None",
                f"the policy as made: {policy!r}",
            )
        self.succeeded: Callable[[int], object] | None = hook

    def decide(self, failure: Failure, scenario: Any) -> Decision:
        try:
            decision = self.policy.decide(failure, self.rng)
        except InvalidParameterValueError as exc:
            # `Decision` refuses a bad delay when it is made: the rule is the delay's.
            rule = "delay" if exc.parameter == "delay" else "decision"
            raise ConformanceError(
                rule, f"decide({failure!r}) raised {describe_error(exc)}", scenario
            ) from exc
        except Exception as exc:
            raise ConformanceError(
                "decision", f"decide({failure!r}) raised {describe_error(exc)}", scenario
            ) from exc
        if not isinstance(decision, Decision):
            raise ConformanceError(
                "decision",
                f"decide({failure!r}) returned {decision!r}, not a Decision "
                "(Decision.after(seconds) or Decision.stop(reason))",
                scenario,
            )
        delay = decision.delay
        if delay is None:
            if not isinstance(decision.reason, str):
                raise ConformanceError(
                    "reason", f"a stop's reason must be a str, got {decision.reason!r}", scenario
                )
        elif (
            not isinstance(delay, (int, float))
            or isinstance(delay, bool)
            or not 0 <= delay < math.inf
        ):
            raise ConformanceError(
                "delay",
                f"decide({failure!r}) asked to retry after {delay!r}: a delay must be a finite "
                "number of seconds >= 0",
                scenario,
            )
        self.decisions.append((failure.kind.value, delay, decision.reason))
        return decision

    def item(self, tries: Sequence[FailedTry], scenario: Any) -> None:
        """One item failing with ``tries`` in turn (then succeeding), until the policy stops."""
        start = self.now
        counts: collections.Counter[FailureKind] = collections.Counter()
        for number, tried in enumerate(tries, 1):
            self.now += tried.took
            counts[tried.kind] += 1
            code, status = _CODES[tried.kind]
            failure = Failure(
                attempt=number, kind=tried.kind, kind_count=counts[tried.kind], code=code,
                status_code=status, first_attempt_at=start, failed_at=self.now,
            )  # fmt: skip
            decision = self.decide(failure, scenario)
            if decision.delay is None:
                return
            if self.max_age is not None and self.now + decision.delay >= start + self.max_age:
                return  # the model ends the item here, whatever the policy says
            self.now += decision.delay
        if self.succeeded is not None:
            try:
                self.succeeded(len(tries) + 1)
            except Exception as exc:
                raise ConformanceError(
                    "succeeded",
                    f"succeeded({len(tries) + 1}) raised {describe_error(exc)}",
                    scenario,
                ) from exc

    def endless(self, kind: FailureKind, *, max_attempts: int, max_zero_delays: int) -> None:
        """Fail one item with ``kind`` until the policy stops; it must, in time."""
        start = self.now
        zeros = 0
        for number in range(1, max_attempts + 1):
            code, status = _CODES[kind]
            failure = Failure(
                attempt=number, kind=kind, kind_count=number, code=code, status_code=status,
                first_attempt_at=start, failed_at=self.now,
            )  # fmt: skip
            scenario = f"{number} consecutive {kind.name} failures, each taking no time"
            decision = self.decide(failure, scenario)
            delay = decision.delay
            if delay is None:
                return
            if self.max_age is not None and self.now + delay >= start + self.max_age:
                return
            zeros = zeros + 1 if delay == 0 else 0
            if zeros >= max_zero_delays:
                raise ConformanceError(
                    "zero-delay-loop",
                    f"after {number} consecutive {kind.name} failures the policy has retried "
                    f"{zeros} times in a row after 0 s: the clock does not advance, and an "
                    "item would be retried at the same instant forever",
                    scenario,
                )
            self.now += delay
        limit = (
            f"nor let the clock reach the maximum age of {self.max_age} s"
            if self.max_age is not None
            else "(pass max_age= if the model that runs it stops items at an age)"
        )
        raise ConformanceError(
            "retries-forever",
            f"the policy still retries after {max_attempts} consecutive {kind.name} failures "
            f"({self.now - start} s after the first), and did not stop {limit}",
            f"{max_attempts} consecutive {kind.name} failures, each taking no time",
        )


def _first_difference(first: Sequence[Any], second: Sequence[Any]) -> tuple[int, tuple[Any, Any]]:
    """Where two runs' traces first differ, and what each has there (``"nothing"`` past an end)."""
    at = next(
        (i for i, (a, b) in enumerate(zip(first, second, strict=False)) if a != b),
        min(len(first), len(second)),
    )
    return at, (
        first[at] if at < len(first) else "nothing",
        second[at] if at < len(second) else "nothing",
    )


def check_retry_policy(
    policy: RetryPolicy | Callable[[], RetryPolicy],
    *,
    max_age: float | None = None,
    kinds: Sequence[FailureKind] | None = None,
    max_attempts: int = 1000,
    max_zero_delays: int = 100,
    max_examples: int = 50,
) -> None:
    """Check a `RetryPolicy` against the protocol's contract; `ConformanceError` if it fails.

    Args:
        policy: the policy, or a callable with no arguments that makes a fresh one.  A
            policy is deep-copied for each run, so a stateful one starts afresh and yours
            is not changed.
        max_age: the age in seconds at which the model running the policy ends an item
            whatever the policy says (the ``Event`` model's ``MaximumEventAgeInSeconds``);
            None (default): the policy must stop on its own.
        kinds: the `FailureKind` values the policy is meant for (default: every kind).
        max_attempts: consecutive failures of one kind by which the policy must have
            stopped (or reached ``max_age``); default 1000.
        max_zero_delays: consecutive retries after 0 s that count as a loop (default 100).
        max_examples: the Hypothesis budget of drawn scenarios (default 50).

    The rules, each named in the error:

    - ``decision``: ``decide(failure, rng)`` returns a `Decision` (and does not raise).
    - ``delay``: a retry's delay is a finite number of seconds >= 0.
    - ``reason``: a stop's reason is a ``str``.
    - ``succeeded``: ``succeeded``, when present, is callable (or None) and takes the
      number of attempts of a success.
    - ``determinism``: the same failures and the same seed give the same decisions, also
      when the `random` module is in another state (randomness comes from ``rng``).
    - ``zero-delay-loop``: it does not keep retrying after 0 s (``max_zero_delays``
      times in a row) while attempts take no time.
    - ``retries-forever``: a run of failures of one kind ends within ``max_attempts``: the
      policy stops, or (with ``max_age``) its delays reach the age.

    Scenarios are sequences of items, each failing with a drawn run of kinds and attempt
    durations before it succeeds, against one policy (so stateful policies such as a
    retry quota are exercised); the drawing is derandomized, so a run is repeatable.
    """
    make = _policy_maker(policy)
    _check_seconds("max_age", max_age, optional=True)
    _check_count("max_attempts", max_attempts, 1, 10**6)
    _check_count("max_zero_delays", max_zero_delays, 1, 10**6)
    _check_count("max_examples", max_examples, 1, 10**5)
    chosen = tuple(FailureKind) if kinds is None else tuple(kinds)
    if not chosen or not all(isinstance(kind, FailureKind) for kind in chosen):
        raise InvalidParameterValueError(
            "kinds", kinds, "must be a non-empty sequence of FailureKind"
        )

    for kind in chosen:
        _PolicyRun(make(), 0, max_age=max_age).endless(
            kind, max_attempts=max_attempts, max_zero_delays=max_zero_delays
        )

    _need_hypothesis()
    from hypothesis import given  # noqa: PLC0415
    from hypothesis import strategies as st  # noqa: PLC0415

    tries = st.builds(
        FailedTry,
        st.sampled_from(chosen),
        st.sampled_from([0.0, 0.001, 1.0, 3.0]) | st.floats(0, 900, allow_nan=False),
    )
    scenarios = st.tuples(
        st.integers(0, 2**32 - 1),
        st.lists(st.lists(tries, max_size=8), min_size=1, max_size=5),
    )

    def run(
        seed: int, items: list[list[FailedTry]], outside: int
    ) -> list[tuple[str, float | None, str]]:
        scenario = {"seed": seed, "items": items}

        def go() -> list[tuple[str, float | None, str]]:
            state = _PolicyRun(make(), seed, max_age=max_age)
            for tried in items:
                state.item(tried, scenario)
            return state.decisions

        return _with_global_random(outside, go)

    @_settings(max_examples)
    @given(scenarios)
    def scenario_holds(drawn: tuple[int, list[list[FailedTry]]]) -> None:
        seed, items = drawn
        first = run(seed, items, 1)
        second = run(seed, items, 2)
        if first != second:
            at, shown = _first_difference(first, second)
            raise ConformanceError(
                "determinism",
                f"two runs with seed {seed} decided differently at decision {at + 1}: "
                f"{shown[0]} then {shown[1]} (is randomness drawn from somewhere other than "
                "the rng the policy is given, or does state outlive a fresh policy?)",
                {"seed": seed, "items": items},
            )

    scenario_holds()


# -- pollers ----------------------------------------------------------------------------------


def _default_items_of(batch: Batch) -> Sequence[str]:
    return batch.ids


@attrs.define
class _Flight:
    items: tuple[str, ...]
    lane: Hashable


class _Recorder:
    """The user's poller between the loop and the kit: every call checked and recorded."""

    def __init__(
        self,
        poller: Poller,
        items: Sequence[str],
        items_of: Callable[[Batch], Sequence[str]],
        scenario: Any,
        max_busy_polls: int,
    ) -> None:
        self.poller = poller
        self.known = {item: index for index, item in enumerate(items)}
        self.items_of = items_of
        self.scenario = scenario
        self.max_busy_polls = max_busy_polls
        self.handle: PollerHandle | None = None
        self.trace: list[tuple[Any, ...]] = []
        self.in_flight: dict[int, _Flight] = {}
        self.flying: collections.Counter[str] = collections.Counter()
        self.last: dict[str, str] = {}  # item -> "success" | "failed" | "throttled"
        self.handed: dict[str, int] = collections.defaultdict(int)
        self.after_success: set[str] = set()
        self.handouts: list[tuple[Hashable, str]] = []  # (lane, item) at first handout
        self.successes: list[tuple[Hashable, str]] = []
        self.first_handed: set[str] = set()
        self.busy_second = -1
        self.busy_polls = 0
        self.activity = 0.0

    def fail(self, rule: str, detail: str) -> ConformanceError:
        return ConformanceError(rule, detail, self.scenario)

    def call(self, what: str, method: Callable[..., T], *args: Any) -> T:
        try:
            return method(*args)
        except ConformanceError:
            raise
        except Exception as exc:
            raise self.fail("raised", f"{what} raised {describe_error(exc)}") from exc

    def bind(self, handle: PollerHandle) -> None:
        self.handle = handle
        bind = getattr(self.poller, "bind", None)
        if callable(bind):
            self.call("bind(handle)", bind, handle)

    def poll(self, now: float, capacity: int) -> Sequence[Batch]:
        batches = self.call(f"poll({now}, {capacity})", self.poller.poll, now, capacity)
        try:
            batches = list(batches)
        except TypeError:
            raise self.fail(
                "poll", f"poll({now}, {capacity}) returned {batches!r}, not a sequence of Batch"
            ) from None
        if len(batches) > capacity:
            raise self.fail(
                "capacity",
                f"poll({now}, {capacity}) returned {len(batches)} batches, more than the "
                f"capacity of {capacity}",
            )
        if not batches:
            second = int(now)
            if second != self.busy_second:
                self.busy_second, self.busy_polls = second, 0
            self.busy_polls += 1
            if self.busy_polls > self.max_busy_polls:
                raise self.fail(
                    "busy-poll",
                    f"{self.busy_polls} polls within the virtual second at {second} s handed "
                    "out nothing: next_poll_at keeps the loop polling while the clock stands "
                    "still",
                )
        for batch in batches:
            self.hand_out(now, batch)
        return batches

    def hand_out(self, now: float, batch: Any) -> None:
        if not isinstance(batch, Batch):
            raise self.fail("poll", f"poll returned {batch!r}, not a Batch")
        carried = tuple(self.call("items_of(batch)", self.items_of, batch))
        for item in carried:
            if item not in self.known:
                raise self.fail(
                    "unknown-item",
                    f"a batch at {now} s carries {item!r}, which the source never held "
                    f"(it held {list(self.known)})",
                )
        repeated = [item for item, n in collections.Counter(carried).items() if n > 1]
        if repeated:
            raise self.fail("double-handout", f"a batch at {now} s carries {repeated[0]!r} twice")
        for item in carried:
            if self.flying[item]:
                raise self.fail(
                    "double-handout",
                    f"{item!r} was handed out at {now} s while a batch carrying it was still "
                    "in flight",
                )
            if self.last.get(item) == "success":
                self.after_success.add(item)
            if item not in self.first_handed:
                self.first_handed.add(item)
                self.handouts.append((batch.lane, item))
            self.flying[item] += 1
            self.handed[item] += 1
        self.in_flight[id(batch)] = _Flight(carried, batch.lane)
        self.activity = now
        self.trace.append((now, "batch", carried, repr(batch.lane), batch.attempt))

    def complete(self, batch: Batch, outcome: BatchOutcome) -> None:
        flight = self.in_flight.pop(id(batch), None)
        now = outcome.ended_at
        if flight is not None:
            kind = outcome.kind
            fate = (
                "success"
                if kind is Outcome.SUCCESS
                else "throttled"
                if kind is Outcome.THROTTLED
                else "failed"
            )
            for item in flight.items:
                self.flying[item] -= 1
                self.last[item] = fate
                if fate == "success":
                    self.successes.append((flight.lane, item))
            self.trace.append((now, "complete", flight.items, kind.value))
        self.activity = now
        self.call("complete(batch, outcome)", self.poller.complete, batch, outcome)

    def next_poll_at(self, now: float) -> float | None:
        upcoming = self.call(f"next_poll_at({now})", self.poller.next_poll_at, now)
        if upcoming is not None and (
            not isinstance(upcoming, (int, float))
            or isinstance(upcoming, bool)
            or math.isnan(upcoming)
        ):
            raise self.fail(
                "next-poll-at", f"next_poll_at({now}) returned {upcoming!r}: a time or None"
            )
        return upcoming

    def verdict(self, items: Sequence[str], *, ordered: bool, duplicates: bool) -> None:
        for item in items:
            if item not in self.first_handed:
                raise self.fail(
                    "conservation",
                    f"{item!r} was never handed out: the poller dropped it",
                )
            if self.last.get(item) == "throttled":
                raise self.fail(
                    "conservation",
                    f"{item!r} was throttled and never handed out again: a throttled batch "
                    "never reached the function, so its records must be retried",
                )
        if not duplicates and self.after_success:
            item = sorted(self.after_success, key=self.known.__getitem__)[0]
            raise self.fail(
                "conservation",
                f"{item!r} was handed out again after its batch succeeded (pass "
                "duplicates=True for an at-least-once source)",
            )
        if ordered:
            for rule, sequence, what in (
                ("ordering", self.handouts, "handed out"),
                ("ordering", self.successes, "processed"),
            ):
                seen: dict[str, tuple[int, str]] = {}
                for lane, item in sequence:
                    index = self.known[item]
                    key = repr(lane)
                    before = seen.get(key)
                    if before is not None and index < before[0]:
                        raise self.fail(
                            rule,
                            f"in lane {lane!r}, {item!r} was {what} after {before[1]!r}, which "
                            "comes later in the source (the poller claims order)",
                        )
                    if before is None or index > before[0]:
                        seen[key] = (index, item)


@attrs.frozen
class PollerScenario:
    """A scenario of `check_poller`: the source's items, the function's `FailureSchedule`,
    the mapping's seed, each attempt's duration and the mapping's ``max_concurrency``."""

    items: tuple[str, ...]
    schedule: FailureSchedule
    seed: int
    duration: float
    max_concurrency: int | None


def check_poller(
    factory: Callable[[Scheduler, Sequence[str]], Poller],
    *,
    items_of: Callable[[Batch], Sequence[str]] | None = None,
    ordered: bool = False,
    duplicates: bool = False,
    throttles: bool = True,
    max_items: int = 8,
    max_examples: int = 25,
    quiet: float = 900.0,
    horizon: float = 86400.0,
    max_busy_polls: int = 1000,
) -> None:
    """Check a `Poller` against the protocol's contract; `ConformanceError` if it fails.

    Args:
        factory: ``factory(scheduler, items)`` makes a fresh poller over a source that
            holds ``items`` (distinct strings), in that order, on ``scheduler``'s clock.
            The kit drives it with an `EventSourceMapping` on that scheduler (which binds
            it, if it is a `BindablePoller`).
        items_of: which of the items a `Batch` carries (default: its ``ids``); e.g. the
            bodies of an SQS batch's records.
        ordered: the poller claims order per `Batch.lane` (a shard, a message group):
            checked when True.
        duplicates: the source may deliver an item again after it succeeded (at least
            once); when False (default) that breaks conservation.
        throttles: include throttled attempts in the drawn schedules (default True).
        max_items: at most this many items per scenario (default 8).
        max_examples: the Hypothesis budget of drawn scenarios (default 25).
        quiet: a run ends once nothing is in flight and nothing has happened for this
            many virtual seconds (default 900: past the usual retry delays).
        horizon: a run ends at this virtual time in any case (default one day).
        max_busy_polls: polls handing out nothing within one virtual second that count as
            a busy loop (default 1000).

    Each scenario draws the items, a `FailureSchedule` of errors, timeouts and (with
    ``throttles``) throttles that ends in success, the attempts' duration, the mapping's
    ``max_concurrency`` and its seed, and runs the mapping twice.  The rules, each named
    in the error:

    - ``poll`` / ``next-poll-at``: ``poll`` returns a sequence of `Batch`;
      ``next_poll_at`` a time or None.
    - ``capacity``: ``poll(now, capacity)`` returns at most ``capacity`` batches.
    - ``unknown-item``: a batch carries only items of the source.
    - ``double-handout``: no item is in two batches in flight at once.
    - ``conservation``: every item is handed out; an item whose batch was throttled is
      handed out again; no item is handed out again after its batch succeeded (unless
      ``duplicates``).  An item whose last batch failed and that is not handed out
      again counts as given up on (discarded, sent to a dead-letter queue or on-failure
      destination): allowed.
    - ``ordering`` (with ``ordered``): within a lane, items are first handed out, and
      processed, in the source's order.
    - ``determinism``: two runs with the same seed give the same timeline of batches and
      outcomes, also when the `random` module is in another state.
    - ``busy-poll``: the cadence lets the clock move on (``max_busy_polls``).
    - ``raised``: no method raises.
    """
    if not callable(factory):
        raise InvalidParameterValueError(
            "factory", factory, "must be a callable factory(scheduler, items) -> Poller"
        )
    if items_of is not None and not callable(items_of):
        raise InvalidParameterValueError("items_of", items_of, "must be a callable items_of(batch)")
    _check_count("max_items", max_items, 1, 1000)
    _check_count("max_examples", max_examples, 1, 10**5)
    _check_count("max_busy_polls", max_busy_polls, 1, 10**9)
    _check_seconds("quiet", quiet)
    _check_seconds("horizon", horizon)
    reader = _default_items_of if items_of is None else items_of

    def run(scenario: PollerScenario, outside: int) -> _Recorder:
        def go() -> _Recorder:
            scheduler = Scheduler()
            poller = factory(scheduler, list(scenario.items))
            recorder = _Recorder(poller, scenario.items, reader, scenario, max_busy_polls)
            function = scenario.schedule.function(
                "conformance", lambda event, context: None, duration=scenario.duration
            )
            mapping = _mapping(function, recorder, scheduler, scenario)
            mapping.start()
            while True:
                due = scheduler.next_due()
                if due is None or due > horizon:
                    break
                if not recorder.in_flight and due > recorder.activity + quiet:
                    break
                scheduler.step()
            recorder.verdict(scenario.items, ordered=ordered, duplicates=duplicates)
            return recorder

        return _with_global_random(outside, go)

    _need_hypothesis()
    from hypothesis import given  # noqa: PLC0415
    from hypothesis import strategies as st  # noqa: PLC0415

    behaviours = [Behaviour.OK, Behaviour.ERROR, Behaviour.TIMEOUT]
    if throttles:
        behaviours.append(Behaviour.THROTTLE)
    scenarios = st.builds(
        PollerScenario,
        st.integers(1, max_items).map(lambda n: tuple(f"item-{i}" for i in range(n))),
        st.builds(
            FailureSchedule,
            st.lists(st.sampled_from(behaviours), max_size=6).map(tuple),
        ),
        st.integers(0, 2**32 - 1),
        st.sampled_from([0.0, 0.5, 2.0]),
        st.none() | st.integers(1, 3),
    )

    @_settings(max_examples)
    @given(scenarios)
    def scenario_holds(scenario: PollerScenario) -> None:
        first = run(scenario, 1).trace
        second = run(scenario, 2).trace
        if first != second:
            at, shown = _first_difference(first, second)
            raise ConformanceError(
                "determinism",
                f"two runs with seed {scenario.seed} differ at step {at + 1} of the timeline: "
                f"{shown[0]} then {shown[1]} (does the poller draw randomness from somewhere "
                "other than its handle's rng?)",
                scenario,
            )

    scenario_holds()


def _mapping(
    function: Function, poller: Any, scheduler: Scheduler, scenario: PollerScenario
) -> EventSourceMapping[Any]:
    return EventSourceMapping(
        function,
        poller,
        scheduler,
        seed=scenario.seed,
        max_concurrency=scenario.max_concurrency,
        history=History(keep=False),
    )
