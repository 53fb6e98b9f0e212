"""One attempt lifecycle: every model leaves the slots balanced and records each try once.

The four callers of `AttemptLifecycle` (the sync model, the Event model, the mapping loop
and the real-clock worker) run a mix of successes, handler errors, throttles, timeouts and
a model error (a ``duration`` callable that raises); afterwards ``function.in_flight`` is 0,
the account's unreserved counter is 0, and each try appears exactly once in the history.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from invokemodels import (
    Account,
    BackgroundEventInvoker,
    Batch,
    BatchOutcome,
    EventInvokeConfig,
    EventInvoker,
    EventSourceMapping,
    Function,
    History,
    Outcome,
    RequestResponseInvoker,
    Scheduler,
)
from invokemodels.core import AttemptLifecycle, AttemptResult, ThrottleReason
from invokemodels.exceptions import InvalidParameterValueError, TooManyRequestsError

KINDS = ("ok", "boom", "slow", "bad")
"""ok: a success; boom: a handler error; slow: past the timeout; bad: ``duration`` raises once."""

mixes = st.lists(st.sampled_from(KINDS), min_size=1, max_size=12)
reservations = st.sampled_from([None, 1, 2])


def _kind(event: Any) -> str:
    text = str(event)
    for kind in ("bad", "slow", "boom"):
        if kind in text:
            return kind
    return "ok"


def make_function(reserved: int | None) -> tuple[Function, Account]:
    """A function whose ``duration`` raises the first time it sees each "bad" event."""
    seen: set[str] = set()
    account = Account(concurrency_limit=2, unreserved_minimum=0)

    def duration(event: Any) -> float:
        kind = _kind(event)
        if kind == "bad" and str(event) not in seen:
            seen.add(str(event))
            raise KeyError("a bad duration")
        return math.inf if kind == "slow" else 1.5

    def handler(event: Any, context: Any) -> Any:
        if _kind(event) == "boom":
            raise RuntimeError("boom")
        return {"ok": True}

    fn = Function(
        name="f",
        handler=handler,
        timeout=3,
        duration=duration,
        reserved_concurrency=reserved,
        account=account,
    )
    return fn, account


def assert_balanced(fn: Function, account: Account) -> None:
    assert fn.in_flight == 0
    assert account.unreserved_in_flight == 0


def run_through(scheduler: Scheduler) -> int:
    """Run until idle, counting the model errors the run stopped with."""
    errors = 0
    while True:
        try:
            scheduler.run()
        except InvalidParameterValueError:
            errors += 1
            continue
        return errors


@settings(max_examples=60, deadline=None)
@given(mix=mixes, reserved=reservations)
def test_sync_calls_leave_the_slots_balanced(mix: list[str], reserved: int | None) -> None:
    fn, account = make_function(reserved)
    invoker = RequestResponseInvoker(fn, seed=1)
    outcomes: list[str] = []
    for number, kind in enumerate(mix):
        try:
            # start: the call does not wait, so calls overlap and throttle.
            invoker.start({"kind": kind, "n": number})
            outcomes.append("ran")
        except TooManyRequestsError:
            outcomes.append("throttled")
        except InvalidParameterValueError:
            outcomes.append("model error")
        assert fn.in_flight <= (2 if reserved is None else reserved)
    invoker.scheduler.run()
    assert_balanced(fn, account)
    spans = invoker.history.spans()
    # Each call that ran or was throttled is one span; a model error is no try.
    assert len(spans) == len([o for o in outcomes if o != "model error"])
    assert len({span.request_id for span in spans}) == len(spans)
    assert sum(s.outcome is Outcome.THROTTLED for s in spans) == outcomes.count("throttled")


@settings(max_examples=60, deadline=None)
@given(mix=mixes, reserved=reservations)
def test_event_tries_leave_the_slots_balanced(mix: list[str], reserved: int | None) -> None:
    fn, account = make_function(reserved)
    config = EventInvokeConfig(maximum_retry_attempts=1, maximum_event_age=21600)
    invoker = EventInvoker(fn, config=config, seed=2, invoke_rate_factor=None)
    for number, kind in enumerate(mix):
        invoker.invoke({"kind": kind, "n": number})
    errors = run_through(invoker.scheduler)
    assert errors == mix.count("bad")
    assert_balanced(fn, account)
    assert invoker.in_flight == 0
    assert invoker.pending == 0
    history = invoker.history
    executions = 0
    for outcome in invoker.outcomes:
        tries = history.of(outcome.request_id)
        # Each try once, numbered in order; the try a model error undid is not one.
        assert [span.attempt for span in tries] == list(range(1, len(tries) + 1))
        ran = [span for span in tries if span.execution is not None]
        assert len(ran) == outcome.approximate_invoke_count
        executions += len(ran)
    assert executions == invoker.metrics.invocations
    throttled = sum(span.outcome is Outcome.THROTTLED for span in history)
    assert throttled == invoker.metrics.throttles


@attrs.define
class ListPoller:
    """One batch per poll from a list, each handed out once, whatever its outcome."""

    items: list[str]
    outcomes: list[BatchOutcome] = attrs.field(factory=list)
    handed: list[str] = attrs.field(factory=list)

    def poll(self, now: float, capacity: int) -> Sequence[Batch]:
        if not self.items or capacity < 1:
            return []
        item = self.items.pop(0)
        self.handed.append(item)
        return [Batch({"Records": [item]}, (item,), None, (item,))]

    def complete(self, batch: Batch, outcome: BatchOutcome) -> None:
        self.outcomes.append(outcome)

    def next_poll_at(self, now: float) -> float | None:
        return now if self.items else None


@settings(max_examples=60, deadline=None)
@given(mix=mixes, reserved=reservations)
def test_mapping_batches_leave_the_slots_balanced(mix: list[str], reserved: int | None) -> None:
    fn, account = make_function(reserved)
    items = [f"{kind}-{number}" for number, kind in enumerate(mix)]
    poller = ListPoller(list(items))
    scheduler = Scheduler()
    mapping = EventSourceMapping(fn, poller, scheduler, seed=3).start()
    errors = 0
    while True:
        try:
            scheduler.run()
        except InvalidParameterValueError:
            errors += 1
            mapping.wake()  # the loop stopped mid-poll: poll on
            continue
        break
    assert_balanced(fn, account)
    assert mapping.in_flight == 0
    spans = mapping.history.spans()
    tried = sorted(span.carried[0] for span in spans)
    # Each batch that reached the function (or was throttled) once; a model error (only a
    # "bad" batch that was not throttled) is no try.
    assert len(set(tried)) == len(tried)
    errored = sorted(set(items) - set(tried))
    assert len(errored) == errors
    assert all(item.startswith("bad") for item in errored)
    assert len(poller.outcomes) == len(tried)
    throttled = sum(span.outcome is Outcome.THROTTLED for span in spans)
    assert throttled == mapping.throttles


@attrs.define(eq=False)
class BrokenFunction(Function):
    """A function whose runtime breaks (a model error) on events that ask for it."""

    def run_attempt(self, request: str, **kwargs: Any) -> AttemptResult:
        if "bad" in request:
            raise KeyError("the runtime broke")
        return super().run_attempt(request, **kwargs)


def _handler(event: Any, context: Any) -> Any:
    if event["kind"] == "boom":
        raise RuntimeError("boom")
    return event


def test_the_real_clock_worker_leaves_the_slots_balanced() -> None:
    account = Account(concurrency_limit=2, unreserved_minimum=0)
    fn = Function(name="f", handler=_handler, account=account)
    config = EventInvokeConfig(maximum_retry_attempts=1)
    with BackgroundEventInvoker(fn, config=config, time_scale=0.001, max_workers=4) as events:
        threads = [
            threading.Thread(target=events.invoke, args=({"kind": kind, "n": n},))
            for n, kind in enumerate(["ok", "boom", "ok", "ok", "boom", "ok"] * 2)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert_balanced(fn, account)
    outcomes = events.outcomes
    assert len(outcomes) == 12
    for outcome in outcomes:
        tries = events.history.of(outcome.request_id)
        assert [span.attempt for span in tries] == list(range(1, len(tries) + 1))
        ran = [span for span in tries if span.execution is not None]
        assert len(ran) == outcome.approximate_invoke_count


def test_a_model_error_on_the_real_clock_gives_the_slot_back() -> None:
    account = Account(concurrency_limit=2, unreserved_minimum=0)
    fn = BrokenFunction(name="f", handler=_handler, account=account)
    events = BackgroundEventInvoker(fn, time_scale=0.001)
    events.invoke({"kind": "bad"})
    with pytest.raises((RuntimeError, KeyError)):
        events.close()
    assert_balanced(fn, account)


class CountingLifecycle(AttemptLifecycle[list[str]]):
    """A model of one's own: the hooks note what happened."""

    def throttled(self, job: list[str], request_id: str, reason: str, now: float) -> None:
        job.append(f"throttled {reason}")

    def ended(self, job: list[str], result: AttemptResult, scheduled: bool) -> None:
        job.append(f"ended {'later' if scheduled else 'now'} {result.ok}")


def test_a_lifecycle_of_ones_own() -> None:
    fn = Function(name="f", handler=_handler, reserved_concurrency=1, duration=2.0)
    scheduler = Scheduler()
    history = History()
    lifecycle = CountingLifecycle(fn, scheduler, history)
    notes: list[str] = []
    assert lifecycle.admit(notes, "r1", 0.0)
    result = lifecycle.run('{"kind": "ok"}', "r1")
    assert not lifecycle.admit(notes, "r2", 0.0)
    lifecycle.end(notes, result)
    assert fn.in_flight == 1
    scheduler.run()
    assert fn.in_flight == 0
    assert notes == [f"throttled {ThrottleReason.RESERVED}", "ended later True"]
    assert lifecycle.admit(notes, "r3", scheduler.now)
    result = lifecycle.run('{"kind": "boom"}', "r3")
    lifecycle.end(notes, result, result.ended_at)
    assert notes[-1] == "ended now False"
    assert fn.in_flight == 0
    assert len(history) == 0  # the hooks here record nothing
