"""Kinesis streams and DynamoDB streams over boto3, read by the stream poller of the models.

A `StreamConsumer` reads each shard of a real stream with ``GetShardIterator`` /
``GetRecords`` and writes the records it reads, in order, into a local `StreamLog` with
the real shard ids, sequence numbers, partition keys and arrival times.  The *same*
`StreamPoller` the in-process models use reads that log: in-order batches per shard (and
per lane with ``ParallelizationFactor``), the batching window, retries until
``MaximumRetryAttempts`` / ``MaximumRecordAgeInSeconds`` / the records' expiry, bisection,
partial batch responses, tumbling windows, and on-failure records sent to the configured
destination (a real queue or topic: `SQSDestination`, `SNSDestination`).

Checkpoints: a shard's checkpoint is the sequence number of the last record before which
every record read has ended (processed, filtered, discarded or expired).  They are kept in
a `CheckpointStore`, by default `MemoryCheckpoints`; pass your own store (a file, a
DynamoDB table) to persist them: ``save`` is called each time a checkpoint moves, and
``load`` when the consumer starts, which then reads each shard ``AFTER_SEQUENCE_NUMBER``
its checkpoint (records read but not ended when the process stopped are read again).

A record's age (``MaximumRecordAgeInSeconds``, retention) is judged by this machine's
clock against the stream's ``ApproximateArrivalTimestamp`` (DynamoDB:
``ApproximateCreationDateTime``), so keep the clock synchronised.

Reading is paced by the polling interval (Kinesis 1 s, DynamoDB 0.25 s by default) and
held back while ``max_pending`` records wait in the poller; an expired shard iterator is
renewed from the last record read; other AWS errors back off (`Backoff`).

Not followed (documented gaps): shards that appear after the consumer starts (resharding,
DynamoDB's shard rollover) are read only after a restart; a closed shard is read to its end.
Records stay in the local log until the stream's retention trims them, as in the model.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import attrs

from invokemodels.adapters._boto import Backoff, ErrorLog, aws_error_code, aws_errors, make_client
from invokemodels.core._clock import SystemClock, on_grid
from invokemodels.core._function import Function
from invokemodels.core._history import History
from invokemodels.core._protocols import Batch, BatchOutcome, PollerHandle
from invokemodels.core._records import dynamodb_record, kinesis_record
from invokemodels.core._scheduler import Scheduler
from invokemodels.core._validate import check_range
from invokemodels.exceptions import InvalidParameterValueError
from invokemodels.mapping._loop import EventSourceMapping
from invokemodels.mapping._stream_config import StreamMappingConfig
from invokemodels.mapping._stream_log import (
    Shard,
    StreamLog,
    StreamRecord,
    json_size,
    split_hash_space,
)
from invokemodels.mapping._streams import StreamPoller, config_for_source

__all__ = [
    "CheckpointStore",
    "MemoryCheckpoints",
    "StreamConsumer",
    "map_dynamodb_stream",
    "map_kinesis_stream",
]

_DYNAMODB_RETENTION = 24 * 3600.0
"""DynamoDB Streams keep records for 24 hours."""


class CheckpointStore(Protocol):
    """**Protocol**: where a `StreamConsumer` keeps each shard's checkpoint.

    ``load(stream_arn, shard_id)`` returns the saved sequence number or None;
    ``save(stream_arn, shard_id, sequence_number)`` is called each time it moves.
    """

    def load(self, stream_arn: str, shard_id: str) -> str | None: ...

    def save(self, stream_arn: str, shard_id: str, sequence_number: str) -> None: ...


@attrs.define(repr=False, eq=False)
class MemoryCheckpoints:
    """Checkpoints in memory (the default `CheckpointStore`): lost when the process ends.

    ``checkpoints`` maps ``(stream_arn, shard_id)`` to the sequence number.
    """

    checkpoints: dict[tuple[str, str], str] = attrs.field(factory=dict)

    def __repr__(self) -> str:
        return f"<MemoryCheckpoints shards={len(self.checkpoints)}>"

    def load(self, stream_arn: str, shard_id: str) -> str | None:
        """The saved checkpoint, or None."""
        return self.checkpoints.get((stream_arn, shard_id))

    def save(self, stream_arn: str, shard_id: str, sequence_number: str) -> None:
        """Keep ``sequence_number`` as the shard's checkpoint."""
        self.checkpoints[(stream_arn, shard_id)] = sequence_number


def _epoch(value: Any) -> float:
    if isinstance(value, _dt.datetime):
        return value.timestamp()
    return float(value)


class _ShardState:
    __slots__ = ("closed", "fetch_at", "iterator", "last", "pending")

    def __init__(self) -> None:
        self.iterator: str | None = None
        self.closed = False
        self.fetch_at = float("-inf")
        self.last: str | None = None
        self.pending: deque[str] = deque()


class _Service:
    """What differs between Kinesis and DynamoDB Streams (internal)."""

    kind = ""

    def __init__(self, client: Any, stream: str) -> None:
        self.client = client
        self.stream = stream

    def describe(self) -> tuple[str, list[Shard], float]:  # pragma: no cover - overridden
        raise NotImplementedError

    def iterator(self, shard_id: str, kind: str, value: Any) -> str:  # pragma: no cover
        raise NotImplementedError

    def convert(
        self, raw: dict[str, Any], shard_id: str, arn: str, region: str
    ) -> tuple[str, str, float, dict[str, Any]]:  # pragma: no cover - overridden
        raise NotImplementedError


class _Kinesis(_Service):
    kind = "kinesis"

    def describe(self) -> tuple[str, list[Shard], float]:
        summary = self.client.describe_stream_summary(StreamName=self.stream)
        description = summary["StreamDescriptionSummary"]
        shards: list[Shard] = []
        kwargs: dict[str, Any] = {"StreamName": self.stream}
        while True:
            page = self.client.list_shards(**kwargs)
            for shard in page["Shards"]:
                hash_range = shard["HashKeyRange"]
                shards.append(
                    Shard(
                        shard["ShardId"],
                        int(hash_range["StartingHashKey"]),
                        int(hash_range["EndingHashKey"]),
                    )
                )
            token = page.get("NextToken")
            if not token:
                break
            kwargs = {"NextToken": token}
        retention = float(description.get("RetentionPeriodHours", 24)) * 3600.0
        return description["StreamARN"], shards, retention

    def iterator(self, shard_id: str, kind: str, value: Any) -> str:
        kwargs: dict[str, Any] = {
            "StreamName": self.stream,
            "ShardId": shard_id,
            "ShardIteratorType": kind,
        }
        if kind == "AT_TIMESTAMP":
            kwargs["Timestamp"] = value
        elif value is not None:
            kwargs["StartingSequenceNumber"] = value
        return str(self.client.get_shard_iterator(**kwargs)["ShardIterator"])

    def convert(
        self, raw: dict[str, Any], shard_id: str, arn: str, region: str
    ) -> tuple[str, str, float, dict[str, Any]]:
        sequence = raw["SequenceNumber"]
        key = raw["PartitionKey"]
        arrival = round(_epoch(raw["ApproximateArrivalTimestamp"]), 3)
        event = kinesis_record(key, sequence, bytes(raw["Data"]), arrival, shard_id, region, arn)
        return sequence, key, arrival, event


class _DynamoDB(_Service):
    kind = "dynamodb"

    def describe(self) -> tuple[str, list[Shard], float]:
        ids: list[str] = []
        kwargs: dict[str, Any] = {"StreamArn": self.stream}
        while True:
            description = self.client.describe_stream(**kwargs)["StreamDescription"]
            ids.extend(shard["ShardId"] for shard in description["Shards"])
            last = description.get("LastEvaluatedShardId")
            if not last:
                break
            kwargs = {"StreamArn": self.stream, "ExclusiveStartShardId": last}
        return self.stream, split_hash_space(ids), _DYNAMODB_RETENTION

    def iterator(self, shard_id: str, kind: str, value: Any) -> str:
        kwargs: dict[str, Any] = {
            "StreamArn": self.stream,
            "ShardId": shard_id,
            "ShardIteratorType": kind,
        }
        if value is not None:
            kwargs["SequenceNumber"] = value
        return str(self.client.get_shard_iterator(**kwargs)["ShardIterator"])

    def convert(
        self, raw: dict[str, Any], shard_id: str, arn: str, region: str
    ) -> tuple[str, str, float, dict[str, Any]]:
        del shard_id
        dynamodb = dict(raw["dynamodb"])
        created = float(math.floor(_epoch(dynamodb["ApproximateCreationDateTime"])))
        dynamodb["ApproximateCreationDateTime"] = created
        event = dynamodb_record(raw["eventID"], raw["eventName"], dynamodb, region, arn)
        # What the stream says (DynamoDB sends "1.1"); Lambda passes it on as it is.
        event["eventVersion"] = raw.get("eventVersion", event["eventVersion"])
        key = json.dumps(dynamodb.get("Keys", {}), sort_keys=True)
        return dynamodb["SequenceNumber"], key, created, event


@attrs.define(repr=False, eq=False)
class StreamConsumer:
    """The poller of a mapping from a real stream: reads shards into a `StreamLog` that a
    `StreamPoller` reads (a `BindablePoller`).

    Made by `map_kinesis_stream` / `map_dynamodb_stream`.  ``poller`` is the
    `StreamPoller` (its ``outcomes``, ``failure_records``, ``fate(...)``); ``log`` the
    local copy of what was read; ``checkpoints`` the `CheckpointStore`;
    ``checkpoint(shard_id)`` the current checkpoint; ``errors`` the `ErrorLog`.
    """

    service: _Service
    log: StreamLog
    poller: StreamPoller
    checkpoints: CheckpointStore
    starting_position: str
    starting_timestamp: float | None
    limit: int
    max_pending: int
    read_interval: float
    errors: ErrorLog
    read: int = attrs.field(default=0, init=False)
    _shards: dict[str, _ShardState] = attrs.field(factory=dict, init=False)
    _handle: PollerHandle | None = attrs.field(default=None, init=False)

    def __repr__(self) -> str:
        return f"<StreamConsumer {self.log.arn} read={self.read} pending={self.poller.pending}>"

    @property
    def arn(self) -> str:
        """The stream's ARN."""
        return self.log.arn

    def checkpoint(self, shard_id: str) -> str | None:
        """The shard's checkpoint (None before any record of it ended)."""
        return self.checkpoints.load(self.arn, shard_id)

    def bind(self, handle: PollerHandle) -> None:
        """Bind the `StreamPoller` and open an iterator on every shard."""
        self.poller.bind(handle)
        self._handle = handle
        for shard in self.log.shards:
            state = _ShardState()
            state.last = self.checkpoints.load(self.arn, shard.shard_id)
            self._shards[shard.shard_id] = state

    def _open(self, shard_id: str, state: _ShardState) -> None:
        if state.last is not None:
            state.iterator = self.service.iterator(shard_id, "AFTER_SEQUENCE_NUMBER", state.last)
        elif self.starting_position == "AT_TIMESTAMP":
            stamp = _dt.datetime.fromtimestamp(self.starting_timestamp or 0.0, _dt.timezone.utc)
            state.iterator = self.service.iterator(shard_id, "AT_TIMESTAMP", stamp)
        else:
            state.iterator = self.service.iterator(shard_id, self.starting_position, None)

    def _fetch(self, now: float) -> None:
        if now < self.errors.retry_at:
            return
        handle = self._handle
        assert handle is not None, "give the consumer to an EventSourceMapping first"
        region = self.arn.split(":")[3]
        for shard in self.log.shards:
            state = self._shards[shard.shard_id]
            if state.closed or now < state.fetch_at or self.poller.pending >= self.max_pending:
                continue
            try:
                if state.iterator is None:
                    self._open(shard.shard_id, state)
                response = self.service.client.get_records(
                    ShardIterator=state.iterator, Limit=self.limit
                )
            except aws_errors() as exc:
                if aws_error_code(exc) == "ExpiredIteratorException":
                    state.iterator = None
                    continue
                self.errors.failed(exc, now)
                return
            self.errors.succeeded()
            records = response.get("Records", [])
            epoch_now = handle.epoch()
            for raw in records:
                sequence, key, arrival_epoch, event = self.service.convert(
                    raw, shard.shard_id, self.arn, region
                )
                arrival = now - max(0.0, epoch_now - arrival_epoch)
                record = StreamRecord(
                    shard.shard_id, sequence, key, arrival, arrival_epoch,
                    on_grid(arrival + self.log.retention), json_size(event), payload=event,
                )  # fmt: skip
                state.pending.append(sequence)
                state.last = sequence
                self.log.append(shard, record)
            self.read += len(records)
            state.iterator = response.get("NextShardIterator")
            state.closed = state.iterator is None
            behind = response.get("MillisBehindLatest", 0)
            full = len(records) >= self.limit or bool(behind)
            state.fetch_at = now if full else now + self.read_interval

    def _advance(self) -> None:
        fate = self.poller.fate
        for shard_id, state in self._shards.items():
            moved: str | None = None
            pending = state.pending
            while pending and fate(pending[0], shard_id) is not None:
                moved = pending.popleft()
            if moved is not None:
                self.checkpoints.save(self.arn, shard_id, moved)

    # -- Poller ---------------------------------------------------------------------------------

    def poll(self, now: float, capacity: int) -> Sequence[Batch]:
        """Read the shards that are due, then hand out the `StreamPoller`'s batches."""
        self._fetch(now)
        batches = self.poller.poll(now, capacity)
        self._advance()
        return batches

    def complete(self, batch: Batch, outcome: BatchOutcome) -> None:
        """The `StreamPoller`'s rules; then move the checkpoints."""
        self.poller.complete(batch, outcome)
        self._advance()

    def next_poll_at(self, now: float) -> float | None:
        """The poller's next poll, or the next shard read, whichever is first (no read
        while ``max_pending`` records wait: a completion wakes the loop)."""
        due: list[float] = []
        inner = self.poller.next_poll_at(now)
        if inner is not None:
            due.append(inner)
        if self.poller.pending < self.max_pending:
            reads = [state.fetch_at for state in self._shards.values() if not state.closed]
            if reads:
                due.append(max(min(reads), self.errors.retry_at, now))
        return min(due) if due else None

    def shutdown(self) -> None:
        """Save the checkpoints as they stand (records not ended are read again later)."""
        self._advance()


def _map_stream(
    service: _Service,
    function: Function,
    config: StreamMappingConfig,
    scheduler: Scheduler | None,
    checkpoints: CheckpointStore | None,
    seed: int | None,
    history: History | None,
    polling_interval: float,
    retry_delay: float | None,
    bisect_at: Callable[[int], int] | None,
    limit: int,
    max_pending: int,
    backoff: Backoff | None,
) -> EventSourceMapping[StreamConsumer]:
    if not isinstance(config, StreamMappingConfig):
        raise InvalidParameterValueError("config", config, "must be a StreamMappingConfig")
    check_range("limit", limit, 1, 10_000, integer=True)
    check_range("max_pending", max_pending, 1, 10_000_000, integer=True)
    if scheduler is None:
        scheduler = Scheduler(clock=SystemClock())
    if scheduler.is_virtual:
        raise InvalidParameterValueError(
            "scheduler", scheduler, "must run on a real clock (SystemClock) to read a real stream"
        )
    config = config_for_source(service.kind, config)
    arn, shards, retention = service.describe()
    log = StreamLog(service.kind, arn, shards, retention, scheduler)
    # The local log starts empty and every record read is written to it: the starting
    # position applies to the shard iterators, the poller reads all it is given.
    local = attrs.evolve(config, starting_position="TRIM_HORIZON", starting_position_timestamp=None)
    poller = StreamPoller(
        log, local, polling_interval=polling_interval, retry_delay=retry_delay,
        bisect_at=bisect_at,
    )  # fmt: skip
    consumer = StreamConsumer(
        service=service,
        log=log,
        poller=poller,
        checkpoints=MemoryCheckpoints() if checkpoints is None else checkpoints,
        starting_position=config.starting_position,
        starting_timestamp=config.starting_position_timestamp,
        limit=limit,
        max_pending=max_pending,
        read_interval=polling_interval,
        errors=ErrorLog(backoff=Backoff() if backoff is None else backoff),
    )
    mapping = EventSourceMapping(function, consumer, scheduler, seed=seed, history=history)
    if config.enabled:
        mapping.start()
    return mapping


def map_kinesis_stream(
    function: Function,
    stream_name: str,
    config: StreamMappingConfig,
    *,
    scheduler: Scheduler | None = None,
    client: Any = None,
    endpoint_url: str | None = None,
    region_name: str | None = None,
    checkpoints: CheckpointStore | None = None,
    seed: int | None = None,
    history: History | None = None,
    polling_interval: float = 1.0,
    retry_delay: float | None = None,
    bisect_at: Callable[[int], int] | None = None,
    limit: int = 1000,
    max_pending: int = 10_000,
    backoff: Backoff | None = None,
) -> EventSourceMapping[StreamConsumer]:
    """An event source mapping from a real Kinesis stream to a local ``function``, started.

    ``config`` is the `StreamMappingConfig` (its ``StartingPosition`` applies to shards
    without a checkpoint in ``checkpoints``).  ``polling_interval`` paces both the shard
    reads and the poller (Kinesis: once a second); ``limit`` is ``GetRecords``' ``Limit``
    (1-10000, default 1000); reading pauses while ``max_pending`` records wait.  The
    scheduler must run on a real clock (default: a new one on a `SystemClock`); run it
    with `MappingRunner`.
    """
    client = make_client("kinesis", client, endpoint_url=endpoint_url, region_name=region_name)
    return _map_stream(
        _Kinesis(client, stream_name), function, config, scheduler, checkpoints, seed, history,
        polling_interval, retry_delay, bisect_at, limit, max_pending, backoff,
    )  # fmt: skip


def map_dynamodb_stream(
    function: Function,
    stream_arn: str,
    config: StreamMappingConfig,
    *,
    scheduler: Scheduler | None = None,
    client: Any = None,
    endpoint_url: str | None = None,
    region_name: str | None = None,
    checkpoints: CheckpointStore | None = None,
    seed: int | None = None,
    history: History | None = None,
    polling_interval: float = 0.25,
    retry_delay: float | None = None,
    bisect_at: Callable[[int], int] | None = None,
    limit: int = 1000,
    max_pending: int = 10_000,
    backoff: Backoff | None = None,
) -> EventSourceMapping[StreamConsumer]:
    """An event source mapping from a real DynamoDB stream (its ``LatestStreamArn``) to a
    local ``function``, started.

    ``client`` is a ``dynamodbstreams`` client.  The rest is as for `map_kinesis_stream`;
    DynamoDB's polling interval is 0.25 s and ``AT_TIMESTAMP`` is refused.
    """
    client = make_client(
        "dynamodbstreams", client, endpoint_url=endpoint_url, region_name=region_name
    )
    return _map_stream(
        _DynamoDB(client, stream_arn), function, config, scheduler, checkpoints, seed, history,
        polling_interval, retry_delay, bisect_at, limit, max_pending, backoff,
    )  # fmt: skip
