"""The storage both reference streams share: shards of ordered records with a retention period.

A `StreamLog` is what a stream event source mapping reads.  `KinesisStream`
owns one; a DynamoDB `Table` owns one as its stream.  Records stay in the log
after they are processed ("Processed items aren't removed from the stream") and
are trimmed when they are older than the retention period; every trim is
written to `StreamLog.trimmed`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any, Final, Protocol

import attrs

from invokemodels.core._function import encode_payload, payload_size
from invokemodels.core._scheduler import Scheduler

__all__ = [
    "HASH_KEY_SPACE",
    "RecordSource",
    "Shard",
    "StreamLog",
    "StreamRecord",
    "TrimmedRecord",
    "md5_hash_key",
]

HASH_KEY_SPACE: Final = 1 << 128
"""Kinesis hash keys are 128-bit integers: MD5 of the partition key."""


def md5_hash_key(partition_key: str) -> int:
    """The 128-bit hash key Kinesis derives from a partition key (MD5, big-endian)."""
    return int.from_bytes(hashlib.md5(partition_key.encode("utf-8")).digest(), "big")


def json_size(value: Any) -> int:
    """Bytes of ``value`` as JSON, encoded the way invoke payloads are (by the same encoder)."""
    return payload_size(encode_payload(value, limit=None))


class RecordSource(Protocol):
    """What builds the event record of a `StreamRecord` that keeps only its fields.

    A stream keeps every record for its retention period (a day at least), and most are
    never read again once processed: the event dict of each (nested dicts, a base64 text,
    the ARN, the event id) costs several times the record's data.  A writer that gives a
    record a ``source`` keeps only what the event is made from in the record's
    ``payload`` and the source builds the event each time `StreamRecord.event` is read.
    """

    def build(self, record: StreamRecord) -> dict[str, Any]:
        """The event record of ``record``, as the function receives it (a new dict)."""


@attrs.frozen(eq=False, weakref_slot=False)
class StreamRecord:
    """One record in a stream shard, with the event record a function receives for it.

    Attributes:
        shard_id: the shard holding the record.
        sequence_number: the record's sequence number (a digit string).
        partition_key: Kinesis ``PartitionKey``; for DynamoDB the item's key, as JSON.
        arrival: clock time the record was written.
        arrival_epoch: the same moment as Unix time (``approximateArrivalTimestamp``
            for Kinesis, ``ApproximateCreationDateTime`` (whole seconds) for DynamoDB).
        expires_at: clock time retention trims the record.
        size: bytes of `event` as JSON.
        hash_key: the 128-bit hash key that routed the record to its shard (the MD5
            of the partition key, or Kinesis's ``ExplicitHashKey``).  Given as None,
            it is the MD5 of the partition key, worked out when it is read.
        payload: with no ``source``, the event record itself (a dict, returned as it
            is by `event`); with a ``source``, what the source builds it from.
        source: the `RecordSource` that builds `event` from ``payload``, or None.

    The streams of this package keep a record's fields and data and build its event
    record when a batch is read (``source``), so a retained record costs little more
    than its data; `event` gives the same record, key for key, either way.
    """

    shard_id: str
    sequence_number: str
    partition_key: str
    arrival: float
    arrival_epoch: float
    expires_at: float
    size: int
    _hash_key: int | None = None
    _payload: Any = None
    _source: RecordSource | None = None

    def __repr__(self) -> str:
        return f"<StreamRecord {self.shard_id}:{self.sequence_number}>"

    @property
    def event(self) -> dict[str, Any]:
        """The record as it appears in the function's ``Records`` list.

        Built from the record's fields each time it is read when the record has a
        source (a new dict each time); otherwise the dict it was made with.
        """
        source = self._source
        return self._payload if source is None else source.build(self)

    def own_event(self) -> dict[str, Any]:
        """`event` as a dict the caller may change (a copy when the record keeps its dict)."""
        source = self._source
        return dict(self._payload) if source is None else source.build(self)

    @property
    def order(self) -> int:
        """The sequence number as an int (records of a shard increase in it)."""
        return int(self.sequence_number)

    @property
    def hash_key(self) -> int:
        """The 128-bit hash key that routed the record to its shard."""
        key = self._hash_key
        return md5_hash_key(self.partition_key) if key is None else key

    @property
    def payload(self) -> Any:
        """What `event` is built from (with a source), or the event record itself."""
        return self._payload


@attrs.frozen
class TrimmedRecord:
    """A record that left the stream because it outlived the retention period."""

    shard_id: str
    sequence_number: str
    at: float


@attrs.define(repr=False, eq=False)
class Shard:
    """A shard: a hash-key range and its records in sequence order."""

    shard_id: str
    starting_hash_key: int
    ending_hash_key: int
    records: list[StreamRecord] = attrs.field(factory=list)

    def __repr__(self) -> str:
        return f"<Shard {self.shard_id} records={len(self.records)}>"

    def holds(self, hash_key: int) -> bool:
        """True when ``hash_key`` falls in this shard's range."""
        return self.starting_hash_key <= hash_key <= self.ending_hash_key


def split_hash_space(shard_ids: list[str]) -> list[Shard]:
    """Shards that split the 128-bit hash key space evenly, as ``CreateStream`` does."""
    count = len(shard_ids)
    return [
        Shard(
            shard_id,
            index * HASH_KEY_SPACE // count,
            (index + 1) * HASH_KEY_SPACE // count - 1,
        )
        for index, shard_id in enumerate(shard_ids)
    ]


@attrs.define(repr=False, eq=False)
class StreamLog:
    """The shards and records of one stream, trimmed by retention.

    Args:
        kind: ``"kinesis"`` or ``"dynamodb"``: which record shapes and rules apply.
        arn: the stream ARN (``eventSourceARN``).
        shards: the shards.
        retention: retention period in seconds.
        scheduler: the scheduler whose clock stamps records.
    """

    kind: str
    arn: str
    shards: list[Shard]
    retention: float
    scheduler: Scheduler
    _trimmed: list[TrimmedRecord] = attrs.field(factory=list, init=False)
    _subscribers: list[Callable[[StreamRecord], None]] = attrs.field(factory=list, init=False)
    _next_expiry: float = attrs.field(default=float("inf"), init=False)

    def __repr__(self) -> str:
        return f"<StreamLog {self.arn} shards={len(self.shards)} records={len(self)}>"

    def __len__(self) -> int:
        return sum(len(shard.records) for shard in self.shards)

    def subscribe(self, callback: Callable[[StreamRecord], None]) -> None:
        """Call ``callback(record)`` for every record written from now on."""
        self._subscribers.append(callback)

    def shard(self, shard_id: str) -> Shard:
        """The shard called ``shard_id`` (``KeyError`` if there is none)."""
        for shard in self.shards:
            if shard.shard_id == shard_id:
                return shard
        raise KeyError(shard_id)

    def route(self, hash_key: int) -> Shard:
        """The shard whose hash-key range holds ``hash_key``."""
        for shard in self.shards:
            if shard.holds(hash_key):
                return shard
        msg = f"hash key {hash_key} is outside [0, 2**128)"  # pragma: no cover - guarded by callers
        raise ValueError(msg)  # pragma: no cover

    def append(self, shard: Shard, record: StreamRecord) -> None:
        """Write ``record`` to ``shard`` and tell the subscribers."""
        self.trim()
        shard.records.append(record)
        self._next_expiry = min(self._next_expiry, record.expires_at)
        for callback in self._subscribers:
            callback(record)

    def trim(self) -> list[TrimmedRecord]:
        """Remove the records retention has expired by now; returns those trimmed by this call."""
        now = self.scheduler.now
        if now < self._next_expiry:
            return []
        done: list[TrimmedRecord] = []
        upcoming = float("inf")
        for shard in self.shards:
            records = shard.records
            cut = 0
            while cut < len(records) and records[cut].expires_at <= now:
                record = records[cut]
                done.append(
                    TrimmedRecord(shard.shard_id, record.sequence_number, record.expires_at)
                )
                cut += 1
            if cut:
                del records[:cut]
            if records:
                upcoming = min(upcoming, records[0].expires_at)
        self._next_expiry = upcoming
        self._trimmed.extend(done)
        return done

    @property
    def trimmed(self) -> list[TrimmedRecord]:
        """Every record retention has removed so far, each with the moment it left."""
        self.trim()
        return list(self._trimmed)

    def records(self) -> list[StreamRecord]:
        """Every record still in the stream, shard by shard, in sequence order."""
        self.trim()
        return [record for shard in self.shards for record in shard.records]
