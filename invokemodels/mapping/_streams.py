"""`StreamPoller`: the stream side of an event source mapping, for Kinesis and DynamoDB alike.

It reproduces reference 4.1 on the virtual clock:

- Each shard is read in order, one batch at a time.  With a
  ``ParallelizationFactor`` of N, a shard is read as N *lanes*: a record's lane
  is the MD5 of its partition key modulo N (not its hash key, which an
  ``ExplicitHashKey`` may set), so records of one partition key stay in order and
  up to N batches of a shard run at once ([UNCONFIRMED]: AWS does not document
  how keys are spread over the concurrent batches).
- Polling cadence: a lane with nothing to read looks again after the polling
  interval (Kinesis 1 s, DynamoDB 0.25 s); after a completed batch it reads
  again at once ("keeps processing batches until the function catches up").
  The loop stays idle while a stream is empty: a write wakes it at the lane's
  next polling instant.
- A batch is flushed when it holds ``BatchSize`` records, when its payload
  would pass 6 MB, or when the batching window (which "begins as soon as the
  previous function invocation completes") has passed.
- A function error retries the whole batch and blocks the lane until the batch
  succeeds, runs out of retries (``MaximumRetryAttempts``), holds a record older
  than ``MaximumRecordAgeInSeconds`` (checked before each invoke; "older" is
  strictly greater), or its records leave the stream (retention).  In the two
  middle cases the records are discarded, an on-failure record is built (and
  sent to the destination if one is configured; ``approximateInvokeCount`` counts
  the invocations of that batch that reached the function, and is 1 for records
  given up on before any, as AWS records it), and the lane moves on.  Throttles
  do not consume retries.  Retries are made after ``retry_delay`` (default: the
  polling interval) [UNCONFIRMED: AWS does not document the interval].  Records
  already too old when first read are discarded without an invoke.
- ``BisectBatchOnFunctionError`` splits a failing batch into halves of ⌈n/2⌉ and
  ⌊n/2⌋ records, first half first; a split consumes no retry, and each half
  carries on with the retries its parent had used (reference model for the
  [UNCONFIRMED] order; ``bisect_at`` changes where the split falls).  With
  ``ReportBatchItemFailures`` a partial failure is split at the lowest reported
  sequence number: the records before it are
  checkpointed, the rest are retried (without bisect that retry consumes one
  retry attempt).  When the lowest reported record is the first of the batch,
  nothing was checkpointed and the response counts as a failure of the batch.
- When records of a batch that is being retried leave the stream, they are
  recorded as expired and the records that remain are read again as a fresh
  batch (the iterator restarts at the trim horizon) [UNCONFIRMED]. Expiry by
  retention sends no on-failure record (AWS documents only the conditions
  ``RetryAttemptsExhausted`` and ``RecordAgeExceeded``).
- Tumbling windows: windows are aligned on Unix time by arrival timestamp; a
  lane carries ``state`` between the invocations of a window; once a window has
  closed, the next invocation delivers its remaining records (possibly none)
  with ``isFinalInvokeForWindow: true``.  A response without ``state`` is a
  failure; a state over 1 MB terminates the window early: the next invocation
  is final with ``isWindowTerminatedEarly: true`` and no records, and later
  records start a fresh state [UNCONFIRMED model].

Every record the mapping reads ends exactly once in `StreamPoller.outcomes`:
``PROCESSED``, ``FILTERED``, ``DISCARDED`` (with the on-failure condition) or
``EXPIRED``.
"""

from __future__ import annotations

import enum
import math
import re
from collections import deque
from collections.abc import Callable, Hashable, Sequence
from typing import TYPE_CHECKING, Any, Final

import attrs

from invokemodels.core._clock import iso_timestamp, on_grid
from invokemodels.core._function import (
    SYNC_PAYLOAD_LIMIT,
    AttemptResult,
    Function,
    encode_payload,
    new_request_id,
)
from invokemodels.core._history import History, Outcome
from invokemodels.core._protocols import Batch, BatchOutcome, PollerHandle
from invokemodels.core._records import stream_on_failure_record
from invokemodels.core._scheduler import Scheduler
from invokemodels.core._validate import callable_value, check_range, instance_of, render_value, text
from invokemodels.exceptions import InvalidParameterValueError
from invokemodels.mapping._filters import FilterCriteria, filter_view
from invokemodels.mapping._loop import EventSourceMapping
from invokemodels.mapping._partial import batch_item_failures
from invokemodels.mapping._stream_config import StreamMappingConfig
from invokemodels.mapping._stream_log import StreamLog, StreamRecord, json_size, md5_hash_key

if TYPE_CHECKING:
    import random

    from invokemodels.core._protocols import FunctionIdentity

__all__ = [
    "IteratorAgeSample",
    "RecordFate",
    "RecordOutcome",
    "StreamPoller",
]

TUMBLING_STATE_LIMIT: Final = 1_048_576
"""A tumbling window's state may be 1 MB per shard; a larger state ends the window early."""

RETRY_ATTEMPTS_EXHAUSTED: Final = "RetryAttemptsExhausted"
RECORD_AGE_EXCEEDED: Final = "RecordAgeExceeded"

# {"Records": [ ... ]} with the payload encoder's separators.
_ENVELOPE: Final = len('{"Records": []}')
_FAILED: Final = -1


class RecordFate(enum.Enum):
    """How a record read by a stream mapping ended (each record ends exactly once)."""

    PROCESSED = "processed"
    """Part of a batch that succeeded (or checkpointed by a partial batch response)."""
    FILTERED = "filtered"
    """Did not match ``FilterCriteria``; the iterator advanced past it."""
    DISCARDED = "discarded"
    """Given up on: retries exhausted or record too old; an on-failure record says which."""
    EXPIRED = "expired"
    """Left the stream (retention) before it was processed."""


@attrs.frozen(weakref_slot=False)
class RecordOutcome:
    """The end of one record's road through a mapping.

    ``at`` is the clock time it happened (for ``EXPIRED``: when retention
    trimmed the record); ``condition`` is the on-failure condition for
    ``DISCARDED`` records (``RetryAttemptsExhausted`` or ``RecordAgeExceeded``);
    ``partition_key`` the record's partition key (for DynamoDB, the item's key as JSON).
    A record discarded with its whole batch names the batch's condition: which record of
    the batch failed it shows in the batch spans of the mapping's `History`
    (``history.of(sequence_number)``, or ``Timeline.explain``).
    """

    shard_id: str
    sequence_number: str
    fate: RecordFate
    at: float
    condition: str | None = None
    partition_key: str | None = None


@attrs.frozen
class IteratorAgeSample:
    """The ``IteratorAge`` metric for one batch: the age of its last record when handed over.

    ``milliseconds`` is the metric's unit in CloudWatch.
    """

    at: float
    shard_id: str
    milliseconds: float


class _Window:
    __slots__ = ("close_at", "end", "start", "state", "terminated")

    def __init__(self, start: float, end: float, close_at: float) -> None:
        self.start = start
        self.end = end
        self.close_at = close_at
        self.state: Any = {}
        self.terminated = False


class _Piece:
    """A batch of a lane: handed out, retried, split, until it ends."""

    __slots__ = (
        "attempt", "early", "encoded", "event", "final", "invokes", "records", "request",
        "request_id", "retries",
    )  # fmt: skip

    def __init__(
        self,
        records: tuple[StreamRecord, ...],
        event: Any,
        retries: int = 0,
        *,
        final: bool = False,
        early: bool = False,
    ) -> None:
        self.records = records
        self.event = event
        self.retries = retries
        self.invokes = 0
        self.request_id = ""
        self.attempt: AttemptResult | None = None
        self.final = final
        self.early = early
        # ``event`` as JSON text, and the event it was made from: a blocked shard retries
        # the same batch for up to a day, and encoding it again each time is most of a retry.
        self.request: str | None = None
        self.encoded: Any = None


class _Lane:
    __slots__ = (
        "busy",
        "head",
        "idle_since",
        "key",
        "last_look",
        "next_look",
        "pieces",
        "queue",
        "ready_at",
        "shard_id",
        "window",
    )

    def __init__(self, shard_id: str, index: int, now: float) -> None:
        self.key: tuple[str, int] = (shard_id, index)
        self.shard_id = shard_id
        self.queue: list[tuple[StreamRecord, bool]] = []
        self.head = 0
        self.pieces: deque[_Piece] = deque()
        self.busy = False
        self.ready_at = now
        self.next_look = now
        self.last_look = now
        self.idle_since = now
        self.window: _Window | None = None

    def has_unread(self) -> bool:
        return self.head < len(self.queue)


_ARN: Final = re.compile(r"arn:\S+")


@attrs.define(repr=False, eq=False)
class StreamPoller:
    """The `Poller` of a Kinesis or DynamoDB stream event source mapping.

    Args:
        log: the stream (`KinesisStream.log`, `Table.stream`).
        config: the mapping's `StreamMappingConfig`.
        polling_interval: seconds between polls of an idle shard (Kinesis 1.0,
            DynamoDB 0.25).
        retry_delay: seconds before a failed or throttled batch is tried again,
            0.001-86400 (default: the polling interval) [UNCONFIRMED].
        invoke_identity_arn: Kinesis records' ``invokeIdentityArn`` (the mapping's
            execution role; default ``arn:aws:iam::<account>:role/lambda-role``).
        bisect_at: with ``BisectBatchOnFunctionError``, how many records of a failing
            batch of ``n`` (> 1) go in the first part, which is retried first: a function
            of ``n`` returning 1 to ``n - 1``.  Default ``None``: ⌈n/2⌉, the reference's
            suggested model for what AWS leaves [UNCONFIRMED].

    Usually made by ``stream.map_to(...)``.  Made by hand, give it to an
    `EventSourceMapping` on the stream's scheduler, which binds it (`bind`)::

        poller = StreamPoller(stream.log, config)
        mapping = EventSourceMapping(fn, poller, sched, seed=1).start()

    Everything it needs of the mapping (the clock, the rng, the function's ARN and
    account, wake-ups, on-failure deliveries) comes through the `PollerHandle`.

    Results: `outcomes` (one `RecordOutcome` per record read), `failure_records`
    (every on-failure record built, whether or not a destination is configured),
    `iterator_ages` (the ``IteratorAge`` metric) and `fate` for one record.  A destination
    whose ``deliver`` raises does not stop the mapping: the records are discarded all the
    same, and the mapping's ``destination_delivery_failures`` counts it
    (``DestinationDeliveryFailures``) and its ``delivery_errors`` say what was raised.
    """

    log: StreamLog = attrs.field(
        validator=instance_of("log", StreamLog, "a stream log (KinesisStream.log, Table.stream)")
    )
    config: StreamMappingConfig = attrs.field(
        validator=instance_of("config", StreamMappingConfig, "a StreamMappingConfig")
    )
    polling_interval: float = 1.0
    retry_delay: float | None = None
    invoke_identity_arn: str | None = attrs.field(
        default=None,
        validator=text("invoke_identity_arn", _ARN, "must be an ARN ('arn:...')", optional=True),
    )
    bisect_at: Callable[[int], int] | None = attrs.field(
        default=None,
        validator=callable_value("bisect_at", "a callable bisect_at(n) -> int", optional=True),
    )
    outcomes: list[RecordOutcome] = attrs.field(factory=list, init=False)
    failure_records: list[dict[str, Any]] = attrs.field(factory=list, init=False)
    iterator_ages: list[IteratorAgeSample] = attrs.field(factory=list, init=False)
    _lanes: dict[Hashable, _Lane] = attrs.field(factory=dict, init=False)
    _lane_list: list[_Lane] = attrs.field(factory=list, init=False)
    # Shard id -> sequence number -> outcome, for `fate`: one small dict per shard rather
    # than a tuple key per record, and brought up to date from `outcomes` when `fate` is
    # asked (``_indexed`` outcomes are in it), so a run that never asks keeps no index.
    _fates: dict[str, dict[str, RecordOutcome]] = attrs.field(factory=dict, init=False)
    _indexed: int = attrs.field(default=0, init=False)
    _handle: PollerHandle | None = attrs.field(default=None, init=False)
    _offset: float = attrs.field(default=0.0, init=False)
    _cursor: int = attrs.field(default=0, init=False)

    def __attrs_post_init__(self) -> None:
        check_range("polling_interval", self.polling_interval, 0.001, 3600)
        if self.retry_delay is not None:
            # Not 0: an infinitely retried batch would be retried at one instant forever.
            check_range("retry_delay", self.retry_delay, 0.001, 86400)

    def __repr__(self) -> str:
        return (
            f"<StreamPoller {self.log.arn} lanes={len(self._lane_list)} "
            f"pending={self.pending} outcomes={len(self.outcomes)}>"
        )

    # -- wiring -----------------------------------------------------------------------------

    @property
    def _delay(self) -> float:
        return self.polling_interval if self.retry_delay is None else self.retry_delay

    def bind(self, handle: PollerHandle) -> None:
        """Attach to a mapping through its ``handle`` (the `EventSourceMapping` calls this
        when it is created): read what the starting position selects, then follow writes."""
        if self._handle is not None:
            msg = "this StreamPoller is already bound to a mapping"
            raise RuntimeError(msg)
        self._handle = handle
        now = handle.now()
        self._offset = handle.epoch() - now
        factor = self.config.parallelization_factor
        for shard in self.log.shards:
            for index in range(factor):
                lane = _Lane(shard.shard_id, index, now)
                self._lanes[lane.key] = lane
                self._lane_list.append(lane)
        position = self.config.starting_position
        if position != "LATEST":
            stamp = self.config.starting_position_timestamp
            for record in self.log.records():
                if stamp is None or record.arrival_epoch >= stamp:
                    self._ingest(record, notify=False)
        self.log.subscribe(self._ingest)

    @property
    def _bound(self) -> PollerHandle:
        assert self._handle is not None, "give the poller to an EventSourceMapping first"
        return self._handle

    @property
    def _rng(self) -> random.Random:
        return self._bound.rng

    @property
    def _function(self) -> FunctionIdentity:
        return self._bound.function

    def _ingest(self, record: StreamRecord, *, notify: bool = True) -> None:
        criteria = self.config.filter_criteria
        keep = True if criteria is None else bool(criteria.matches(filter_view(record.event)))
        factor = self.config.parallelization_factor
        index = 0 if factor == 1 else md5_hash_key(record.partition_key) % factor
        lane = self._lanes[(record.shard_id, index)]
        idle = not lane.busy and not lane.pieces and not lane.has_unread()
        lane.queue.append((record, keep))
        handle = self._handle
        if notify and idle and handle is not None:
            now = handle.now()
            interval = self.polling_interval
            ticks = max(0, math.ceil((now - lane.last_look) / interval - 1e-9))
            lane.next_look = on_grid(lane.last_look + ticks * interval)
            handle.wake_at(lane.next_look)

    # -- results ----------------------------------------------------------------------------

    @property
    def pending(self) -> int:
        """Records read but not yet ended (queued, in a batch, or waiting for a retry)."""
        total = 0
        for lane in self._lane_list:
            total += len(lane.queue) - lane.head
            total += sum(len(piece.records) for piece in lane.pieces)
        return total

    def fate(self, sequence_number: str, shard_id: str | None = None) -> RecordOutcome | None:
        """The outcome of the record ``sequence_number`` (None while it is still pending)."""
        fates = self._fates
        outcomes = self.outcomes
        if self._indexed > len(outcomes):  # the list was cut short by hand: index it again
            fates.clear()
            self._indexed = 0
        if self._indexed < len(outcomes):
            for outcome in outcomes[self._indexed :]:
                shard_fates = fates.get(outcome.shard_id)
                if shard_fates is None:
                    shard_fates = fates[outcome.shard_id] = {}
                shard_fates[outcome.sequence_number] = outcome
            self._indexed = len(outcomes)
        if shard_id is not None:
            return fates.get(shard_id, {}).get(sequence_number)
        for lane in self._lane_list:
            found = fates.get(lane.shard_id, {}).get(sequence_number)
            if found is not None:
                return found
        return None

    def _end(
        self, records: Sequence[StreamRecord], fate: RecordFate, at: float, condition: str | None
    ) -> None:
        append = self.outcomes.append
        for record in records:
            outcome = RecordOutcome(
                record.shard_id, record.sequence_number, fate, at, condition,
                record.partition_key,
            )  # fmt: skip
            append(outcome)

    # -- Poller protocol --------------------------------------------------------------------

    def poll(self, now: float, capacity: int) -> Sequence[Batch]:
        """Hand out the next batch of every idle lane that has one, up to ``capacity``.

        When ``capacity`` runs out, the next poll starts with the lane that missed out
        (round robin), so a mapping capped by ``max_concurrency`` reads every shard.
        """
        batches: list[Batch] = []
        lanes = self._lane_list
        start = self._cursor
        for step in range(len(lanes)):
            lane = lanes[(start + step) % len(lanes)]
            if len(batches) >= capacity:
                # Out of slots: the next poll starts at this lane, so every shard gets its
                # turn instead of the first shards taking every free slot.
                self._cursor = (start + step) % len(lanes)
                break
            if lane.busy:
                continue
            piece = self._next_piece(lane, now)
            if piece is None:
                continue
            lane.busy = True
            if piece.records:
                last = piece.records[-1]
                self.iterator_ages.append(
                    IteratorAgeSample(now, lane.shard_id, (now - last.arrival) * 1000.0)
                )
            if piece.encoded is not piece.event:
                piece.request = encode_payload(piece.event, limit=SYNC_PAYLOAD_LIMIT)
                piece.encoded = piece.event
            batches.append(
                Batch(
                    piece.event,
                    piece.records,
                    lane.key,
                    tuple([record.sequence_number for record in piece.records]),
                    piece.invokes + 1,
                    piece.request,
                    enqueued_at=piece.records[-1].arrival if piece.records else None,
                    source=self.log.arn,
                    report_batch_item_failures=self.config.report_batch_item_failures,
                )
            )
        return batches

    def next_poll_at(self, now: float) -> float | None:
        """The earliest moment an idle lane has something to do (None: wait for a write)."""
        best: float | None = None
        for lane in self._lane_list:
            if lane.busy:
                continue
            if lane.pieces:
                when = lane.ready_at
            elif lane.has_unread():
                when = lane.next_look
            elif lane.window is not None:
                # The final invoke of a window happens at the lane's first poll after it closes.
                when = lane.next_look
                if not lane.window.terminated:
                    when = max(when, lane.window.close_at)
            else:
                continue
            if best is None or when < best:
                best = when
        return best

    def complete(self, batch: Batch, outcome: BatchOutcome) -> None:
        """Apply the stream rules to a batch's outcome: checkpoint, retry, split or discard."""
        lane = self._lanes[batch.lane]
        lane.busy = False
        piece = lane.pieces[0]
        now = self._bound.now()
        piece.request_id = outcome.request_id
        if outcome.kind is Outcome.THROTTLED:
            # The batch never reached the function: no retry attempt is consumed.
            lane.ready_at = on_grid(now + self._delay)
            return
        piece.invokes += 1
        piece.attempt = outcome.attempt
        records = piece.records
        if outcome.kind is Outcome.SUCCESS:
            cut, state = self._judge(piece, outcome)
        else:
            cut, state = _FAILED, None
        if cut == len(records):
            self._succeeded(lane, piece, now, state)
            return
        config = self.config
        bisect = config.bisect_batch_on_function_error
        exhausted = 0 <= config.maximum_retry_attempts <= piece.retries
        if cut > 0:
            # Partial batch response: checkpoint before the lowest reported record.
            self._end(records[:cut], RecordFate.PROCESSED, now, None)
            rest = records[cut:]
            if not bisect and exhausted:
                lane.pieces.popleft()
                self._discard(lane, rest, piece, RETRY_ATTEMPTS_EXHAUSTED, now)
                return
            child = self._child(lane, piece, rest, last=True)
            if bisect:
                child.retries = piece.retries
            else:
                child.retries = piece.retries + 1
                child.invokes = piece.invokes
                child.request_id = piece.request_id
                child.attempt = piece.attempt
            lane.pieces[0] = child
        elif bisect and len(records) > 1:
            half = self._bisect_at(len(records))
            first = self._child(lane, piece, records[:half], last=False)
            second = self._child(lane, piece, records[half:], last=True)
            first.retries = second.retries = piece.retries
            lane.pieces.popleft()
            lane.pieces.appendleft(second)
            lane.pieces.appendleft(first)
        elif exhausted:
            lane.pieces.popleft()
            self._discard(lane, records, piece, RETRY_ATTEMPTS_EXHAUSTED, now)
            return
        else:
            piece.retries += 1
        lane.ready_at = on_grid(now + self._delay)

    # -- internals --------------------------------------------------------------------------

    def _bisect_at(self, size: int) -> int:
        if self.bisect_at is None:
            return (size + 1) // 2
        half = self.bisect_at(size)
        if isinstance(half, bool) or not isinstance(half, int) or not 1 <= half < size:
            msg = (
                f"bisect_at({size}) returned {render_value(half)}; "
                f"it must be an int from 1 to {size - 1}"
            )
            raise ValueError(msg)
        return half

    def _judge(self, piece: _Piece, outcome: BatchOutcome) -> tuple[int, Any]:
        """How many leading records of the batch succeeded (``_FAILED``: the batch failed).

        Also returns the window state the function returned (tumbling windows).
        """
        records = piece.records
        response = outcome.response()
        state: Any = None
        if self.config.tumbling_window:
            if not isinstance(response, dict) or "state" not in response:
                return _FAILED, None
            state = response["state"]
        if not self.config.report_batch_item_failures:
            return len(records), state
        if response is None or response in ("", [], {}):
            return len(records), state
        index = {record.sequence_number: i for i, record in enumerate(records)}
        failed = batch_item_failures(response, index)
        if failed is None:
            return _FAILED, state
        if not failed:
            return len(records), state
        lowest = min(index[identifier] for identifier in failed)
        # The lowest reported record first in the batch: nothing to checkpoint, a failure.
        return (lowest or _FAILED), state

    def _succeeded(self, lane: _Lane, piece: _Piece, now: float, state: Any) -> None:
        lane.pieces.popleft()
        self._end(piece.records, RecordFate.PROCESSED, now, None)
        window = lane.window
        if window is not None and self.config.tumbling_window:
            if piece.final:
                lane.window = None
            else:
                window.state = state
                if json_size(state) > TUMBLING_STATE_LIMIT:
                    window.terminated = True
        self._moved_on(lane, now)

    def _moved_on(self, lane: _Lane, now: float) -> None:
        lane.idle_since = now
        lane.next_look = now
        lane.ready_at = now

    def _child(
        self, lane: _Lane, parent: _Piece, records: tuple[StreamRecord, ...], *, last: bool
    ) -> _Piece:
        final = parent.final and last
        early = parent.early and last
        event = self._event(lane, records, final=final, early=early, state=self._state_of(parent))
        return _Piece(records, event, final=final, early=early)

    @staticmethod
    def _state_of(piece: _Piece) -> Any:
        event = piece.event
        return event.get("state") if isinstance(event, dict) else None

    def _discard(
        self,
        lane: _Lane,
        records: Sequence[StreamRecord],
        piece: _Piece | None,
        condition: str,
        now: float,
    ) -> None:
        """Give up on ``records``: build the on-failure record, send it, and move on."""
        self._end(records, RecordFate.DISCARDED, now, condition)
        if piece is not None and piece.final and lane.window is not None:
            lane.window = None
        self._moved_on(lane, now)
        if not records:
            return
        handle = self._bound
        function = handle.function
        request_id = piece.request_id if piece is not None and piece.request_id else ""
        if not request_id:
            request_id = new_request_id(self._rng)
        attempt = piece.attempt if piece is not None else None
        kinesis = self.log.kind == "kinesis"
        first, last = records[0], records[-1]
        record = stream_on_failure_record(
            request_id=request_id,
            function_arn=function.arn,
            condition=condition,
            # Records given up on before any invocation are recorded with 1, not 0
            # (reference 4.1, [expire-before-ingestion]).
            invoke_count=max(1, piece.invokes if piece is not None else 0),
            # functionError is null when the function returned but its response failed
            # the batch (a malformed or partial batchItemFailures): recorded shape.
            response=(attempt.executed_version, attempt.function_error)
            if condition == RETRY_ATTEMPTS_EXHAUSTED and attempt is not None
            else None,
            epoch=handle.epoch(),
            kinesis=kinesis,
            shard_id=lane.shard_id,
            start_sequence_number=first.sequence_number,
            end_sequence_number=last.sequence_number,
            first_arrival_epoch=first.arrival_epoch,
            last_arrival_epoch=last.arrival_epoch,
            batch_size=len(records),
            stream_arn=self.log.arn,
        )
        destination = self.config.on_failure
        if destination is not None and destination.arn.startswith("arn:aws:s3:"):
            if piece is not None and tuple(piece.records) == tuple(records):
                record["payload"] = piece.event
            else:
                record["payload"] = self._event(lane, records)
        self.failure_records.append(record)
        if destination is not None:
            # A destination that raises is counted by the mapping; the records are
            # discarded all the same.
            handle.send_on_failure(destination, record, shard_id=lane.shard_id)

    def _expire(self, lane: _Lane, now: float) -> None:
        """Records retention removed: recorded as expired at the moment they left the stream."""
        pieces = lane.pieces
        while pieces:
            piece = pieces[0]
            records = piece.records
            cut = 0
            while cut < len(records) and records[cut].expires_at <= now:
                cut += 1
            if cut == 0:
                break
            for record in records[:cut]:
                self._end((record,), RecordFate.EXPIRED, record.expires_at, None)
            if cut == len(records):
                pieces.popleft()
                if not pieces:
                    self._moved_on(lane, now)
                continue
            # The iterator restarts at the trim horizon: what is left is read as a new batch.
            rest = records[cut:]
            pieces[0] = _Piece(
                rest,
                self._event(lane, rest, final=piece.final, early=piece.early,
                            state=self._state_of(piece)),
                final=piece.final,
                early=piece.early,
            )  # fmt: skip
            break
        queue = lane.queue
        head = lane.head
        while head < len(queue) and queue[head][0].expires_at <= now:
            record = queue[head][0]
            self._end((record,), RecordFate.EXPIRED, record.expires_at, None)
            head += 1
        self._advance(lane, head)

    @staticmethod
    def _advance(lane: _Lane, head: int) -> None:
        lane.head = head
        if head > 1024 and head * 2 > len(lane.queue):
            del lane.queue[:head]
            lane.head = 0

    def _too_old(self, record: StreamRecord, now: float) -> bool:
        age = self.config.maximum_record_age
        return age >= 0 and now - record.arrival > age

    def _next_piece(self, lane: _Lane, now: float) -> _Piece | None:
        self._expire(lane, now)
        pieces = lane.pieces
        while pieces:
            if now < lane.ready_at:
                return None
            piece = pieces[0]
            records = piece.records
            cut = 0
            while cut < len(records) and self._too_old(records[cut], now):
                cut += 1
            if cut == 0:
                return piece
            if cut == len(records):
                pieces.popleft()
                self._discard(lane, records, piece, RECORD_AGE_EXCEEDED, now)
                continue
            # The on-failure record (and an S3 payload) describes only the records given up on.
            old = _Piece(
                records[:cut], self._event(lane, records[:cut], state=self._state_of(piece))
            )
            old.invokes, old.request_id = piece.invokes, piece.request_id
            piece.records = records[cut:]
            piece.event = self._event(
                lane, piece.records, final=piece.final, early=piece.early,
                state=self._state_of(piece),
            )  # fmt: skip
            self._discard(lane, old.records, old, RECORD_AGE_EXCEEDED, now)
            return piece
        if now < lane.next_look:
            return None
        return self._read(lane, now)

    def _read(self, lane: _Lane, now: float) -> _Piece | None:
        """Read a new batch from the lane's unread records, following the flush rules."""
        config = self.config
        window = lane.window
        if window is not None and window.terminated:
            piece = _Piece((), None, final=True, early=True)
            piece.event = self._event(lane, (), final=True, early=True, state=window.state)
            lane.pieces.append(piece)
            return piece
        queue = lane.queue
        extra = 0
        if config.tumbling_window:
            if window is None:
                # A window opens with the first record that passes the filter.
                first = next((r for r, keep in queue[lane.head :] if keep), None)
                if first is not None:
                    window = lane.window = self._open_window(first)
            if window is not None:
                # The window's keys, measured: a long stream ARN must not push a batch past 6 MB.
                extra = json_size(self._event(lane, (), state=window.state)) - _ENVELOPE
        identity_extra = len(self._identity) if self.log.kind == "kinesis" else 0
        limit = SYNC_PAYLOAD_LIMIT - _ENVELOPE - extra
        while True:
            taken: list[StreamRecord] = []
            old: list[StreamRecord] = []
            skipped: list[tuple[int, StreamRecord]] = []
            size = 0
            full = False
            index = lane.head
            # Filtered records after the last record taken stay unread until the next read,
            # so records of a lane end in order whenever none are filtered out in between.
            consumed = index
            while index < len(queue):
                record, keep = queue[index]
                if window is not None and record.arrival_epoch >= window.end:
                    break
                if not keep:
                    skipped.append((index, record))
                    index += 1
                    continue
                if not taken and self._too_old(record, now) and len(old) < config.batch_size:
                    old.append(record)
                    index += 1
                    consumed = index
                    continue
                if old:
                    break
                grown = size + record.size + identity_extra + (2 if taken else 0)
                if taken and grown > limit:
                    full = True
                    break
                taken.append(record)
                size = grown
                index += 1
                consumed = index
                if len(taken) >= config.batch_size:
                    full = True
                    break
            if old:
                self._skip(lane, skipped, consumed, now)
                self._discard(lane, old, None, RECORD_AGE_EXCEEDED, now)
                continue
            break
        closed = window is not None and now >= window.close_at
        window_done = (
            window is not None
            and closed
            and (index >= len(queue) or queue[index][0].arrival_epoch >= window.end)
        )
        if not taken and not window_done:
            if skipped:
                self._skip(lane, skipped, index, now)
            lane.last_look = now
            lane.next_look = on_grid(now + self.polling_interval)
            return None
        flush_at = on_grid(lane.idle_since + config.batching_window)
        if not full and not closed and now < flush_at:
            lane.last_look = now
            lane.next_look = min(on_grid(now + self.polling_interval), flush_at)
            return None
        self._skip(lane, skipped, consumed if taken else index, now)
        records = tuple(taken)
        piece = _Piece(
            records,
            self._event(lane, records, final=window_done, early=False,
                        state=None if window is None else window.state),
            final=window_done,
        )  # fmt: skip
        lane.pieces.append(piece)
        return piece

    def _skip(
        self, lane: _Lane, skipped: list[tuple[int, StreamRecord]], upto: int, now: float
    ) -> None:
        """End the filtered records before position ``upto`` and move the lane's head there."""
        self._end([record for at, record in skipped if at < upto], RecordFate.FILTERED, now, None)
        self._advance(lane, upto)

    def _open_window(self, record: StreamRecord) -> _Window:
        length = float(self.config.tumbling_window)
        start = math.floor(record.arrival_epoch / length) * length
        return _Window(start, start + length, on_grid(round(start + length - self._offset, 6)))

    @property
    def _identity(self) -> str:
        arn = self.invoke_identity_arn
        if arn is None:
            arn = f"arn:aws:iam::{self._function.account_id}:role/lambda-role"
        return arn

    def _event(
        self,
        lane: _Lane,
        records: Sequence[StreamRecord],
        *,
        final: bool = False,
        early: bool = False,
        state: Any = None,
    ) -> dict[str, Any]:
        if self.log.kind == "kinesis":
            identity = self._identity
            items = []
            for record in records:
                item = record.own_event()
                item["invokeIdentityArn"] = identity
                items.append(item)
        else:
            items = [record.event for record in records]
        event: dict[str, Any] = {"Records": items}
        if self.config.tumbling_window:
            window = lane.window
            if window is not None:
                event["window"] = {
                    "start": iso_timestamp(window.start, milliseconds=False),
                    "end": iso_timestamp(window.end, milliseconds=False),
                }
            event["state"] = {} if state is None else state
            event["shardId"] = lane.shard_id
            event["eventSourceARN"] = self.log.arn
            event["isFinalInvokeForWindow"] = final
            event["isWindowTerminatedEarly"] = early
        return event


def config_for_source(kind: str, config: StreamMappingConfig) -> StreamMappingConfig:
    """``config`` checked for a ``kind`` stream ("kinesis" or "dynamodb"), as Lambda checks it
    at create time: DynamoDB Streams have no ``AT_TIMESTAMP``, and filter patterns are bound
    to the stream's event source (``{"data": [...]}`` / ``{"dynamodb": [...]}``)."""
    if kind == "dynamodb" and config.starting_position == "AT_TIMESTAMP":
        raise InvalidParameterValueError(
            "StartingPosition", "AT_TIMESTAMP", "must be TRIM_HORIZON or LATEST for DynamoDB "
            "Streams"
        )  # fmt: skip
    criteria = config.filter_criteria
    if isinstance(criteria, FilterCriteria) and criteria.event_source is None:
        source = f"aws:{kind}"
        config = attrs.evolve(config, filter_criteria=attrs.evolve(criteria, event_source=source))
    return config


def map_stream(
    log: StreamLog,
    function: Function,
    config: StreamMappingConfig,
    *,
    scheduler: Scheduler | None = None,
    seed: int | None = None,
    max_concurrency: int | None = None,
    history: History | None = None,
    polling_interval: float = 1.0,
    retry_delay: float | None = None,
    invoke_identity_arn: str | None = None,
    bisect_at: Callable[[int], int] | None = None,
) -> EventSourceMapping[StreamPoller]:
    """Create (and, when ``config.enabled``, start) a mapping from ``log`` to ``function``."""
    if scheduler is None:
        scheduler = log.scheduler
    elif scheduler is not log.scheduler:
        msg = "a stream mapping must run on its stream's scheduler"
        raise ValueError(msg)
    if not isinstance(config, StreamMappingConfig):
        raise InvalidParameterValueError("config", config, "must be a StreamMappingConfig")
    config = config_for_source(log.kind, config)
    stamp = config.starting_position_timestamp
    epoch = scheduler.clock.epoch()
    if stamp is not None and stamp > epoch:
        raise InvalidParameterValueError(
            "StartingPositionTimestamp", stamp, f"cannot be in the future (now is {epoch})"
        )
    poller = StreamPoller(
        log, config, polling_interval=polling_interval, retry_delay=retry_delay,
        invoke_identity_arn=invoke_identity_arn, bisect_at=bisect_at,
    )  # fmt: skip
    mapping: EventSourceMapping[StreamPoller] = EventSourceMapping(
        function, poller, scheduler, seed=seed, max_concurrency=max_concurrency,
        history=history,
    )  # fmt: skip
    if config.enabled:
        mapping.start()
    return mapping
