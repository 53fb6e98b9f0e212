"""An in-memory Kinesis data stream, and mapping it to a function.

`KinesisStream` models what a Kinesis event source mapping sees: shards that
split the 128-bit hash key space evenly, partition keys routed by MD5 like
Kinesis, increasing sequence numbers (digit strings), approximate arrival
timestamps from the clock, and retention (24 h default, 24-8760 h) that trims
old records.  `KinesisStream.map_to` connects it to a `Function` through a
`StreamPoller` (reference 4.1, event shape 5.3)::

    from invokemodels import Function, Scheduler
    from invokemodels.aws import KinesisStream
    from invokemodels.mapping import StreamMappingConfig

    sched = Scheduler()
    stream = KinesisStream("orders", shard_count=2, scheduler=sched)
    seen = []
    fn = Function("consumer", lambda event, ctx: seen.extend(event["Records"]))
    mapping = stream.map_to(fn, StreamMappingConfig(starting_position="TRIM_HORIZON"))
    stream.put_record(b'{"id": 1}', partition_key="customer-1")
    sched.run_until_idle()
    assert seen[0]["eventName"] == "aws:kinesis:record"
"""

from __future__ import annotations

from binascii import b2a_base64
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Final

import attrs

from invokemodels.core._clock import on_grid
from invokemodels.core._function import Function
from invokemodels.core._history import History
from invokemodels.core._records import kinesis_record
from invokemodels.core._scheduler import Scheduler
from invokemodels.core._validate import ACCOUNT_ID, REGION, check_range, instance_of, text
from invokemodels.exceptions import InvalidParameterValueError
from invokemodels.mapping._stream_config import StreamMappingConfig
from invokemodels.mapping._stream_log import (
    HASH_KEY_SPACE,
    StreamLog,
    StreamRecord,
    json_size,
    md5_hash_key,
    split_hash_space,
)
from invokemodels.mapping._streams import StreamPoller, map_stream

if TYPE_CHECKING:
    from invokemodels.mapping._loop import EventSourceMapping

__all__ = ["KINESIS_POLLING_INTERVAL", "KinesisStream"]

KINESIS_POLLING_INTERVAL: Final = 1.0
"""Lambda polls each Kinesis shard "at a base rate of once per second"."""

MAX_RECORD_SIZE: Final = 1_048_576
"""A record's data blob plus partition key may be 1 MiB (a stream's default maximum record size)."""

_FIRST_SEQUENCE: Final = 49590338271490256608559692538361571095921575989136588898
_SEQUENCE_STEP: Final = 1 << 64


def _name(value: Any) -> str:
    if not isinstance(value, str) or not 1 <= len(value) <= 128:
        raise InvalidParameterValueError("StreamName", value, "must be 1-128 characters")
    return value


class _KinesisRecords:
    """Builds the event record of a Kinesis `StreamRecord` from its data (its ``payload``).

    One is shared by every record a stream writes with the same region and ARN; a record
    keeps only its data, partition key, sequence number and arrival time.
    """

    __slots__ = ("_inner", "_outer", "arn", "region")

    def __init__(self, region: str, arn: str) -> None:
        self.region = region
        self.arn = arn
        # The event record with its constant values in place, in `kinesis_record`'s key
        # order: a copy and six assignments cost a third of building both dicts anew.
        self._inner: dict[str, Any] = {
            "kinesisSchemaVersion": "1.0", "partitionKey": "", "sequenceNumber": "",
            "data": "", "approximateArrivalTimestamp": 0.0,
        }  # fmt: skip
        self._outer: dict[str, Any] = {
            "kinesis": None, "eventSource": "aws:kinesis", "eventVersion": "1.0",
            "eventID": "", "eventName": "aws:kinesis:record", "invokeIdentityArn": "",
            "awsRegion": region, "eventSourceARN": arn,
        }  # fmt: skip

    def build(self, record: StreamRecord) -> dict[str, Any]:
        """The ``Records`` entry of ``record`` (``invokeIdentityArn`` left empty).

        The same dict as `kinesis_record` makes, key for key and in the same order (a
        property test holds them equal): a mapping builds one for every record it reads.
        """
        sequence = record.sequence_number
        inner = self._inner.copy()
        inner["partitionKey"] = record.partition_key
        inner["sequenceNumber"] = sequence
        inner["data"] = b2a_base64(record.payload, newline=False).decode("ascii")
        inner["approximateArrivalTimestamp"] = record.arrival_epoch
        outer = self._outer.copy()
        outer["kinesis"] = inner
        outer["eventID"] = f"{record.shard_id}:{sequence}"
        return outer

    def build_from(
        self, partition_key: str, sequence_number: str, data: bytes, epoch: float, shard_id: str
    ) -> dict[str, Any]:
        """The same record from its fields, before the `StreamRecord` exists."""
        return kinesis_record(
            partition_key, sequence_number, data, epoch, shard_id, self.region, self.arn
        )


@attrs.define(repr=False, eq=False)
class KinesisStream:
    """An in-memory Kinesis data stream (provisioned shards, standard iterators).

    Args:
        name: ``StreamName``.
        shard_count: ``ShardCount``, 1-500 here (default 1); shard ``i`` is
            ``shardId-00000000000i`` and owns the ``i``-th even slice of the hash
            key space.
        retention_period_hours: 24-8760 (default 24): records older than this are
            trimmed (and a mapping stuck on them sees them expire).
        scheduler: the scheduler whose clock stamps arrivals (default: a new one).
        region, account_id: used in the stream ARN.

    ``put_record`` / ``put_records`` return what the Kinesis API returns.
    """

    name: str = attrs.field(converter=_name)
    shard_count: int = attrs.field(default=1)
    retention_period_hours: int = attrs.field(default=24)
    scheduler: Scheduler = attrs.field(
        factory=Scheduler, validator=instance_of("scheduler", Scheduler, "a Scheduler")
    )
    region: str = attrs.field(
        default="us-east-1", validator=text("region", REGION, "must look like 'us-east-1'")
    )
    account_id: str = attrs.field(
        default="123456789012", validator=text("account_id", ACCOUNT_ID, "must be 12 digits")
    )
    log: StreamLog = attrs.field(init=False)
    _counter: int = attrs.field(default=0, init=False)
    _source: _KinesisRecords = attrs.field(init=False)
    _stamps: tuple[float, float, float, float] = attrs.field(
        default=(-1.0, -1.0, -1.0, -1.0), init=False
    )

    def __attrs_post_init__(self) -> None:
        check_range("ShardCount", self.shard_count, 1, 500, integer=True)
        check_range("RetentionPeriodHours", self.retention_period_hours, 24, 8760, integer=True)
        shards = split_hash_space([f"shardId-{i:012d}" for i in range(self.shard_count)])
        self.log = StreamLog(
            "kinesis", self.arn, shards, self.retention_period_hours * 3600.0, self.scheduler
        )
        self._source = _KinesisRecords(self.region, self.arn)

    def __repr__(self) -> str:
        return f"<KinesisStream {self.name} shards={self.shard_count} records={len(self.log)}>"

    @property
    def arn(self) -> str:
        """``arn:aws:kinesis:<region>:<account>:stream/<name>``."""
        return f"arn:aws:kinesis:{self.region}:{self.account_id}:stream/{self.name}"

    @property
    def shard_ids(self) -> list[str]:
        """The shard ids, in hash-key order."""
        return [shard.shard_id for shard in self.log.shards]

    def put_record(
        self,
        data: bytes | str,
        partition_key: str,
        *,
        explicit_hash_key: int | None = None,
    ) -> dict[str, str]:
        """``PutRecord``: append ``data`` to the shard that ``partition_key`` hashes to.

        ``data`` is bytes (a ``str`` is UTF-8 encoded); with the partition key it
        may be 1 MiB (`MAX_RECORD_SIZE`).  Returns
        ``{"ShardId": ..., "SequenceNumber": ...}``.
        """
        record = self._write(data, partition_key, explicit_hash_key)
        return {"ShardId": record.shard_id, "SequenceNumber": record.sequence_number}

    def put_records(self, records: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
        """``PutRecords``: ``[{"Data": ..., "PartitionKey": ...}, ...]``, written in order."""
        results = []
        for entry in records:
            record = self._write(entry["Data"], entry["PartitionKey"], entry.get("ExplicitHashKey"))
            results.append({"SequenceNumber": record.sequence_number, "ShardId": record.shard_id})
        return {"FailedRecordCount": 0, "Records": results}

    def _write(
        self, data: bytes | str, partition_key: str, explicit_hash_key: int | str | None
    ) -> StreamRecord:
        if not isinstance(partition_key, str) or not 1 <= len(partition_key) <= 256:
            raise InvalidParameterValueError(
                "PartitionKey", partition_key, "must be 1-256 characters"
            )
        if isinstance(data, str):
            data = data.encode("utf-8")
        if not isinstance(data, (bytes, bytearray)):
            raise InvalidParameterValueError("Data", data, "must be bytes or str")
        size = len(data) + len(partition_key.encode("utf-8"))
        if size > MAX_RECORD_SIZE:
            raise InvalidParameterValueError(
                "Data",
                f"<{size} bytes with the partition key>",
                f"a record (data blob plus partition key) must be at most {MAX_RECORD_SIZE} bytes",
            )
        if explicit_hash_key is None:
            hash_key = md5_hash_key(partition_key)
        else:
            try:
                hash_key = int(explicit_hash_key)
            except (TypeError, ValueError):
                raise InvalidParameterValueError(
                    "ExplicitHashKey", explicit_hash_key, "must be an integer (as digits)"
                ) from None
            check_range("ExplicitHashKey", hash_key, 0, HASH_KEY_SPACE - 1, integer=True)
        log = self.log
        shard = log.route(hash_key)
        now = self.scheduler.now
        epoch = round(self.scheduler.clock.epoch(), 3)
        stamps = self._stamps
        if stamps[0] == now and stamps[1] == epoch and stamps[3] == log.retention:
            # Records written at one instant (a PutRecords call, a burst) share their time
            # stamps: three floats a record, kept for the whole retention period.
            now, epoch, expires = stamps[0], stamps[1], stamps[2]
        else:
            expires = on_grid(now + log.retention)
            self._stamps = (now, epoch, expires, log.retention)
        sequence = _FIRST_SEQUENCE + self._counter * _SEQUENCE_STEP
        self._counter += 1
        text = str(sequence)
        blob = bytes(data)
        source = self._source
        if source.region != self.region or source.arn != self.arn:
            source = self._source = _KinesisRecords(self.region, self.arn)
        record = StreamRecord(
            shard.shard_id, text, partition_key, now, epoch, expires,
            json_size(source.build_from(partition_key, text, blob, epoch, shard.shard_id)),
            None if explicit_hash_key is None else hash_key, blob, source,
        )  # fmt: skip
        log.append(shard, record)
        return record

    def records(self) -> list[StreamRecord]:
        """Every record still in the stream (after trimming), shard by shard."""
        return self.log.records()

    def map_to(
        self,
        function: Function,
        config: StreamMappingConfig,
        *,
        scheduler: Scheduler | None = None,
        seed: int | None = None,
        max_concurrency: int | None = None,
        history: History | None = None,
        polling_interval: float = KINESIS_POLLING_INTERVAL,
        retry_delay: float | None = None,
        invoke_identity_arn: str | None = None,
        bisect_at: Callable[[int], int] | None = None,
    ) -> EventSourceMapping[StreamPoller]:
        """Create an event source mapping from this stream to ``function``.

        The mapping is started when ``config.enabled``.  See `StreamPoller` for
        ``polling_interval`` (default 1 s, Kinesis's base rate), ``retry_delay``,
        ``invoke_identity_arn`` and ``bisect_at``.
        """
        return map_stream(
            self.log, function, config, scheduler=scheduler, seed=seed,
            max_concurrency=max_concurrency, history=history,
            polling_interval=polling_interval, retry_delay=retry_delay,
            invoke_identity_arn=invoke_identity_arn, bisect_at=bisect_at,
        )  # fmt: skip
