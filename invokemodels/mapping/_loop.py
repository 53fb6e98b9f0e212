"""Poll-based invocation: the generic event source mapping loop (the `Poller` protocol and
its values live in `invokemodels.core._protocols`).

The loop (`EventSourceMapping`) is the same for every source.  It asks a
poller for batches, invokes the function *synchronously* through the shared
`Function` attempt runner (so concurrency, timeouts and error payloads are the
same as for direct invokes), and hands each outcome back to the poller, which
applies its source's rules: checkpoint, retry, bisect, delete, redrive.

A poller for a new source implements three methods (see `Poller`) and never
touches the function or the clock directly: what it needs of the mapping (the clock,
the seeded rng, the function's identity, wake-ups, on-failure deliveries) comes through
the `PollerHandle` the loop hands to its ``bind`` method (a `BindablePoller`).
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Hashable
from typing import Any, Final, Generic, TypeVar

import attrs

from invokemodels.core._chain import done as chain_done
from invokemodels.core._chain import running as running_chain
from invokemodels.core._chain import stops
from invokemodels.core._clock import TICKS_PER_SECOND, on_grid
from invokemodels.core._function import (
    SYNC_PAYLOAD_LIMIT,
    AttemptResult,
    Function,
    encode_payload,
    new_request_id,
)
from invokemodels.core._history import History, Model, Outcome, Span, new_history
from invokemodels.core._lifecycle import AttemptLifecycle
from invokemodels.core._protocols import (
    Batch,
    BatchOutcome,
    Delivery,
    Destination,
    FunctionIdentity,
    Poller,
)
from invokemodels.core._scheduler import Scheduler, Timer
from invokemodels.core._validate import (
    implements,
    in_range,
    instance_of,
    is_random,
    seeded,
    text,
)
from invokemodels.exceptions import describe_error
from invokemodels.mapping._partial import batch_item_failures

__all__ = ["EventSourceMapping", "MappingHandle"]

_ESM: Final = Model.EVENT_SOURCE_MAPPING
_SUCCESS: Final = Outcome.SUCCESS
_FUNCTION_ERROR: Final = Outcome.FUNCTION_ERROR
_THROTTLED: Final = Outcome.THROTTLED
# The history is handed plain values (see History.defer): the outcomes' values.
_SUCCESS_VALUE: Final = _SUCCESS.value
_FUNCTION_ERROR_VALUE: Final = _FUNCTION_ERROR.value
_THROTTLED_VALUE: Final = _THROTTLED.value


def _failed_ids(payload: str, ids: tuple[str, ...]) -> tuple[str, ...]:
    """The items a partial batch response failed, in batch order, read by the one reader
    the pollers use (`batch_item_failures`): a complete failure (a response it cannot
    read) fails every item."""
    try:
        response = json.loads(payload)
    except ValueError:
        return ids
    failed = batch_item_failures(response, set(ids))
    if failed is None:
        return ids
    return tuple(i for i in ids if i in failed)


def _batch_span(
    function: str,
    request_id: str,
    lane: Hashable,
    size: int,
    ids: tuple[str, ...],
    attempt: int,
    kind: str,
    started_at: float,
    ended_at: float,
    error_type: str | None,
    payload: str | None,
    in_flight: int | None,
    enqueued_at: float | None,
    source: str | None,
    duplicates: tuple[str, ...] = (),
) -> Span:
    # Built when the history is read: the partial batch response is parsed only then.
    return Span(
        _ESM, function, request_id, attempt, None if in_flight is None else 1,
        started_at if enqueued_at is None else enqueued_at, started_at, ended_at,
        Outcome(kind), error_type, None, lane, size, ids,
        () if payload is None else _failed_ids(payload, ids), in_flight, source, duplicates,
    )  # fmt: skip


P = TypeVar("P", bound=Poller)


_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _default_uuid(mapping: EventSourceMapping[Any]) -> str:
    # Defaults are computed before validators run: a bad rng is reported by its validator.
    rng = mapping.rng
    return new_request_id(rng) if isinstance(rng, random.Random) else ""


class MappingHandle:
    """The `PollerHandle` an `EventSourceMapping` hands its poller (``mapping.handle``)."""

    __slots__ = ("_clock", "_mapping", "function")

    def __init__(self, mapping: EventSourceMapping[Any]) -> None:
        self._mapping = mapping
        self._clock = mapping.scheduler.clock
        fn = mapping.function
        self.function = FunctionIdentity(
            name=fn.name,
            arn=fn.arn,
            region=fn.region,
            account_id=fn.account.account_id,
            timeout=fn.timeout,
        )

    def __repr__(self) -> str:
        return f"<MappingHandle {self._mapping.uuid} function={self.function.name}>"

    @property
    def uuid(self) -> str:
        """The mapping's ``UUID``."""
        return self._mapping.uuid

    @property
    def rng(self) -> random.Random:
        """The mapping's seeded randomness."""
        return self._mapping.rng

    @property
    def recording(self) -> bool:
        """True when the mapping's history keeps spans (`History.keep`)."""
        return self._mapping.history.keep

    def now(self) -> float:
        """The clock time, in seconds."""
        return self._clock.now()

    def epoch(self) -> float:
        """The clock time as Unix seconds."""
        return self._clock.epoch()

    def wake(self) -> None:
        """Poll now (nothing while the mapping is disabled)."""
        self._mapping.wake()

    def wake_at(self, when: float) -> None:
        """Poll at clock time ``when`` (an earlier pending wake-up wins; past means now)."""
        self._mapping.wake_at(when)

    def send_on_failure(
        self, destination: Destination, record: dict[str, Any], *, shard_id: str = ""
    ) -> str | None:
        """Deliver an on-failure ``record``; a raising destination is counted and noted.

        Returns None when delivered, else the description of what was raised (also in
        the mapping's ``delivery_errors``; ``destination_delivery_failures`` counts it).
        """
        mapping = self._mapping
        function = self.function
        prefix = (
            f"aws/lambda/{mapping.uuid}/{shard_id}/" if shard_id else f"aws/lambda/{mapping.uuid}/"
        )
        delivery = Delivery(
            function_arn=function.arn,
            success=False,
            epoch=self._clock.epoch(),
            region=function.region,
            account_id=function.account_id,
            s3_prefix=prefix,
            rng=mapping.rng,
        )
        try:
            destination.deliver(record, delivery)
        except Exception as exc:
            # The records are given up on all the same; the send failure is the
            # DestinationDeliveryFailures metric (reference 3.8, async and stream ESMs).
            error = describe_error(exc)
            mapping.destination_delivery_failures += 1
            mapping.delivery_errors.append(error)
            return error
        return None


@attrs.define(repr=False, eq=False)
class EventSourceMapping(Generic[P]):
    """The event source mapping loop: polls a `Poller`, invokes a `Function` with its batches.

    Args:
        function: the function to invoke.
        poller: the source's poller.
        scheduler: the scheduler (and clock) to run on.
        seed: seeds request ids (or pass ``rng``).
        max_concurrency: cap on batches in flight from this mapping (None: the
            poller's ``capacity`` is unbounded and the poller decides).
        history: the `History` that gets a `Span` per batch invocation, throttles
            included (default: a new kept one; share one across models for one
            timeline; ``History(keep=False)`` keeps nothing).  A span carries the batch's
            ``ids`` and ``lane``, and the ids a partial batch response failed.

    When it is created, the mapping calls the poller's ``bind(handle)`` if it has one (a
    `BindablePoller`): `handle` is the `PollerHandle` through which the poller reads the
    clock, draws from `rng`, learns the function's identity and `uuid`, wakes the loop and
    sends on-failure records.  Failed on-failure deliveries are counted in
    `destination_delivery_failures` (what was raised is in `delivery_errors`).

    Call `start` (or create it through a source's helper, which does); then
    run the scheduler.  `disable` pauses polling (in-flight batches finish);
    `enable` resumes from where the poller left off.  The class is generic in
    its poller type, so ``mapping.poller`` keeps the poller's own API for type
    checkers (``EventSourceMapping[StreamPoller]``).
    """

    function: Function = attrs.field(validator=instance_of("function", Function, "a Function"))
    poller: P = attrs.field(
        validator=implements("poller", "Poller", ("poll", "complete", "next_poll_at"))
    )
    scheduler: Scheduler = attrs.field(
        factory=Scheduler, validator=instance_of("scheduler", Scheduler, "a Scheduler")
    )
    seed: int | None = None
    rng: random.Random = attrs.field(
        default=attrs.Factory(lambda self: seeded(self.seed), takes_self=True),
        validator=is_random,
    )
    max_concurrency: int | None = attrs.field(
        default=None,
        validator=in_range("max_concurrency", 1, 1 << 31, integer=True, optional=True),
    )
    history: History = attrs.field(
        default=None,
        converter=new_history,
        validator=instance_of("history", History, "a History"),
    )
    uuid: str = attrs.field(
        default=attrs.Factory(_default_uuid, takes_self=True),
        validator=text("uuid", _UUID, "must be a lowercase UUID (8-4-4-4-12 hex digits)"),
    )
    # Counters and internal state have no validator: written without attrs' hooks, as
    # they change on every batch.
    invocations: int = attrs.field(default=0, init=False, on_setattr=attrs.setters.NO_OP)
    throttles: int = attrs.field(default=0, init=False, on_setattr=attrs.setters.NO_OP)
    function_errors: int = attrs.field(default=0, init=False, on_setattr=attrs.setters.NO_OP)
    recursive_invocations_dropped: int = attrs.field(
        default=0, init=False, on_setattr=attrs.setters.NO_OP
    )
    destination_delivery_failures: int = attrs.field(
        default=0, init=False, on_setattr=attrs.setters.NO_OP
    )
    delivery_errors: list[str] = attrs.field(factory=list, init=False)
    handle: MappingHandle = attrs.field(init=False)
    _enabled: bool = attrs.field(default=False, init=False, on_setattr=attrs.setters.NO_OP)
    _in_flight: int = attrs.field(default=0, init=False, on_setattr=attrs.setters.NO_OP)
    _timer: Timer | None = attrs.field(default=None, init=False, on_setattr=attrs.setters.NO_OP)
    _lifecycle: _BatchLifecycle = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        self._lifecycle = _BatchLifecycle(self)
        self.handle = MappingHandle(self)
        bind = getattr(self.poller, "bind", None)
        if callable(bind):
            bind(self.handle)

    def __repr__(self) -> str:
        state = "Enabled" if self._enabled else "Disabled"
        return (
            f"<EventSourceMapping {self.uuid} {state} function={self.function.name} "
            f"in_flight={self._in_flight} invocations={self.invocations}>"
        )

    @property
    def enabled(self) -> bool:
        """True while the mapping polls (``State`` ``Enabled``)."""
        return self._enabled

    @property
    def state(self) -> str:
        """``Enabled`` or ``Disabled``, as ``GetEventSourceMapping`` reports it."""
        return "Enabled" if self._enabled else "Disabled"

    @property
    def in_flight(self) -> int:
        """Batches currently being processed by the function."""
        return self._in_flight

    def start(self) -> EventSourceMapping[P]:
        """Enable the mapping and poll at once; returns self."""
        self.enable()
        return self

    def enable(self) -> None:
        """Resume polling (``Enabled=true``)."""
        self._enabled = True
        self._wake_at(self.scheduler.now)

    def disable(self) -> None:
        """Pause polling (``Enabled=false``); batches in flight still complete."""
        self._enabled = False
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def wake(self) -> None:
        """Ask the loop to poll now (sources call this when new records arrive)."""
        if self._enabled:
            self._wake_at(self.scheduler.now)

    def wake_at(self, when: float) -> None:
        """Ask the loop to poll at clock time ``when`` (a past time means now).

        A poller that models a polling cadence calls this when records arrive
        between polls, so the loop stays idle (and ``run_until_idle`` returns)
        while there is nothing to read.  An earlier pending wake-up wins.
        """
        if self._enabled:
            self._wake_at(max(when, self.scheduler.now))

    def _wake_at(self, when: float) -> None:
        # The first tick at or after ``when``: a wake-up a hair before a poller's
        # off-grid time would find nothing due, and the loop would poll at that tick forever.
        when = on_grid(when, up=True)
        timer = self._timer
        if timer is not None and not timer.cancelled:
            if timer.when <= when:
                return
            timer.cancel()
        self._timer = self.scheduler.at(when, self._poll)

    def _poll(self) -> None:
        self._timer = None
        if not self._enabled:
            return
        now = self.scheduler.now
        if self.max_concurrency is None:
            capacity = 1 << 30
        else:
            capacity = self.max_concurrency - self._in_flight
        if capacity <= 0:
            # Every slot is busy: the next completion wakes the loop (no spinning at `now`).
            return
        invoked = self.invocations
        for batch in self.poller.poll(now, capacity):
            self._invoke(batch)
        if not self._enabled:
            return
        upcoming = self.poller.next_poll_at(now)
        if upcoming is None:
            return
        if upcoming <= now and self.invocations == invoked:
            # Nothing reached the function, so polling again at this tick would change
            # nothing: the next tick, so that virtual time moves on.
            self._wake_next_tick()
            return
        self._wake_at(max(upcoming, now))

    def _wake_next_tick(self) -> None:
        # In ticks, not float seconds: past 2**53 ns a reading cannot tell two ticks apart.
        upcoming = self.scheduler.schedule(1 / TICKS_PER_SECOND, self._poll)
        timer = self._timer
        if timer is not None and not timer.cancelled:
            if timer.ticks <= upcoming.ticks:
                upcoming.cancel()
                return
            timer.cancel()
        self._timer = upcoming

    def _stop_loop(self, batch: Batch, request_id: str, now: float) -> None:
        """Recursive loop detection: the batch is not invoked and its records go back.

        For SQS "it returns to the queue and its redrive policy applies" (reference 3.10,
        [UNCONFIRMED]): the poller completes it as a function error without an attempt, so
        its messages reappear after the visibility timeout; the batch's span is a
        function error of type ``RecursiveInvocationException`` with no attempt.
        """
        self.recursive_invocations_dropped += 1
        history = self.history
        if history.keep:
            history.defer(_stop_loop_span, self.function.name, request_id, batch, now)
        self.poller.complete(batch, BatchOutcome(_FUNCTION_ERROR, request_id, now, now))

    def _invoke(self, batch: Batch) -> None:
        # A batch that is not JSON or is over 6 MB is the poller's bug: it raises before a
        # concurrency slot is taken, so the function's slots stay balanced.
        request = batch.request
        if request is None:
            request = encode_payload(batch.event, limit=SYNC_PAYLOAD_LIMIT)
        request_id = new_request_id(self.rng)
        lifecycle = self._lifecycle
        now = self.scheduler.now
        chain = batch.chain
        function = self.function
        if chain and stops(chain, function):
            self._stop_loop(batch, request_id, now)
            return
        token = running_chain((chain, function))
        try:
            attempt = lifecycle.begin(batch, request, request_id, now)
        finally:
            chain_done(token)
        if attempt is None:
            return
        self._in_flight += 1
        self.invocations += 1
        lifecycle.end((batch, self.function.in_flight), attempt)


RECURSIVE_LOOP_ERROR: Final = "RecursiveInvocationException"
"""The error type of a batch span stopped by recursive loop detection [UNCONFIRMED]."""


def _stop_loop_span(function: str, request_id: str, batch: Batch, now: float) -> Span:
    # A batch recursive loop detection stopped: no attempt, the records go back.
    return _batch_span(function, request_id, batch.lane, len(batch.records), batch.ids,
                       batch.attempt, _FUNCTION_ERROR_VALUE, now, now,
                       RECURSIVE_LOOP_ERROR, None, None, batch.enqueued_at, batch.source,
                       batch.duplicates)  # fmt: skip


class _BatchLifecycle(AttemptLifecycle[Any]):
    """The mapping loop's hooks: a throttle or a finished batch goes back to the poller.

    The job is the `Batch` at admission, ``(batch, in_flight)`` at the end.
    """

    __slots__ = ("mapping",)

    def __init__(self, mapping: EventSourceMapping[Any]) -> None:
        super().__init__(mapping.function, mapping.scheduler, mapping.history)
        self.mapping = mapping

    def throttled(self, job: Any, request_id: str, reason: str, now: float) -> None:
        batch: Batch = job
        mapping = self.mapping
        mapping.throttles += 1
        if self.history.keep:
            self.history.defer(_batch_span, self.function.name, request_id, batch.lane,
                               len(batch.records), batch.ids, batch.attempt, _THROTTLED_VALUE,
                               now, now, reason, None, None, batch.enqueued_at,
                               batch.source, batch.duplicates)  # fmt: skip
        mapping.poller.complete(batch, BatchOutcome(_THROTTLED, request_id, now, now, None, reason))

    def ended(self, job: Any, result: AttemptResult, scheduled: bool) -> None:
        batch: Batch
        batch, in_flight = job
        mapping = self.mapping
        mapping._in_flight -= 1
        if result.ok:
            kind = _SUCCESS
        else:
            kind = _FUNCTION_ERROR
            mapping.function_errors += 1
        history = self.history
        if history.keep:
            ok = kind is _SUCCESS
            history.defer(_batch_span, self.function.name, result.request_id, batch.lane,
                          len(batch.records), batch.ids, batch.attempt,
                          _SUCCESS_VALUE if ok else _FUNCTION_ERROR_VALUE,
                          result.started_at, result.ended_at,
                          None if ok else result.error_type,
                          result.payload if ok and batch.report_batch_item_failures else None,
                          in_flight, batch.enqueued_at, batch.source,
                          batch.duplicates)  # fmt: skip
        outcome = BatchOutcome(kind, result.request_id, result.started_at, result.ended_at, result)
        mapping.poller.complete(batch, outcome)
        if mapping._enabled:
            # "The next batching window begins as soon as the previous invocation completes."
            mapping._wake_at(mapping.scheduler.now)
