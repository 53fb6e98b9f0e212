"""KinesisStream: shards, MD5 routing, sequence numbers, arrival times, retention, event shape."""

from __future__ import annotations

import base64
import hashlib
import itertools
from typing import Any

import pytest

from invokemodels import Function, KinesisStream, Scheduler, StreamMappingConfig, VirtualClock
from invokemodels.exceptions import InvalidParameterValueError
from invokemodels.mapping import TrimmedRecord


def test_shards_split_the_128_bit_hash_key_space_evenly() -> None:
    stream = KinesisStream("s", shard_count=4)
    shards = stream.log.shards
    assert stream.shard_ids == [f"shardId-00000000000{i}" for i in range(4)]
    assert shards[0].starting_hash_key == 0
    assert shards[-1].ending_hash_key == 2**128 - 1
    for left, right in itertools.pairwise(shards):
        assert right.starting_hash_key == left.ending_hash_key + 1
    assert shards[1].starting_hash_key == 2**126


def test_three_shards_have_the_hash_key_ranges_kinesis_gives_them() -> None:
    stream = KinesisStream("s", shard_count=3)
    assert [(s.starting_hash_key, s.ending_hash_key) for s in stream.log.shards] == [
        (0, 113427455640312821154458202477256070484),
        (113427455640312821154458202477256070485, 226854911280625642308916404954512140969),
        (226854911280625642308916404954512140970, 340282366920938463463374607431768211455),
    ]
    # MD5("a") = 0cc175b9..., MD5("b") = 92eb5ffe..., MD5("c") = 4a8a08f0...
    assert [stream.put_record(b"x", key)["ShardId"][-1] for key in "abc"] == ["0", "1", "0"]


@pytest.mark.parametrize("key", ["a", "customer-1", "ü", "x" * 256])
def test_partition_keys_route_by_md5(key: str) -> None:
    stream = KinesisStream("s", shard_count=3)
    digest = int(hashlib.md5(key.encode()).hexdigest(), 16)
    expected = next(s.shard_id for s in stream.log.shards if s.holds(digest))
    assert stream.put_record(b"x", key)["ShardId"] == expected


def test_explicit_hash_key_overrides_the_partition_key() -> None:
    stream = KinesisStream("s", shard_count=2)
    assert stream.put_record(b"x", "k", explicit_hash_key=0)["ShardId"] == "shardId-000000000000"
    top = stream.put_record(b"x", "k", explicit_hash_key=2**128 - 1)
    assert top["ShardId"] == "shardId-000000000001"
    with pytest.raises(InvalidParameterValueError, match="ExplicitHashKey"):
        stream.put_record(b"x", "k", explicit_hash_key=2**128)


def test_sequence_numbers_are_increasing_digit_strings() -> None:
    stream = KinesisStream("s", shard_count=2)
    result = stream.put_records(
        [{"Data": str(i).encode(), "PartitionKey": f"k{i}"} for i in range(20)]
    )
    assert result["FailedRecordCount"] == 0
    numbers = [r["SequenceNumber"] for r in result["Records"]]
    assert all(n.isdigit() for n in numbers)
    assert [int(n) for n in numbers] == sorted(int(n) for n in numbers)
    assert len(set(numbers)) == 20
    for shard in stream.log.shards:
        orders = [r.order for r in shard.records]
        assert orders == sorted(orders)


def test_arrival_timestamps_come_from_the_clock_epoch() -> None:
    sched = Scheduler(VirtualClock(epoch_origin=1_545_084_650.0))
    stream = KinesisStream("s", scheduler=sched)
    sched.run(until=0.987)
    stream.put_record("text", "1")
    (record,) = stream.records()
    assert record.arrival == 0.987
    assert record.arrival_epoch == 1_545_084_650.987
    assert record.event["kinesis"]["approximateArrivalTimestamp"] == 1_545_084_650.987


def test_event_record_has_the_aws_shape_key_for_key() -> None:
    sched = Scheduler(VirtualClock(epoch_origin=1_545_084_650.987))
    stream = KinesisStream("lambda-stream", scheduler=sched, region="us-east-2")
    seen: list[Any] = []
    fn = Function("f", lambda event, ctx: seen.append(event))
    stream.map_to(fn, StreamMappingConfig(starting_position="TRIM_HORIZON"))
    put = stream.put_record(b"Hello, this is a test.", "1")
    sched.run_until_idle()
    seq = put["SequenceNumber"]
    assert seen == [
        {
            "Records": [
                {
                    "kinesis": {
                        "kinesisSchemaVersion": "1.0",
                        "partitionKey": "1",
                        "sequenceNumber": seq,
                        "data": "SGVsbG8sIHRoaXMgaXMgYSB0ZXN0Lg==",
                        "approximateArrivalTimestamp": 1545084650.987,
                    },
                    "eventSource": "aws:kinesis",
                    "eventVersion": "1.0",
                    "eventID": f"shardId-000000000000:{seq}",
                    "eventName": "aws:kinesis:record",
                    "invokeIdentityArn": "arn:aws:iam::123456789012:role/lambda-role",
                    "awsRegion": "us-east-2",
                    "eventSourceARN": "arn:aws:kinesis:us-east-2:123456789012:stream/lambda-stream",
                }
            ]
        }
    ]
    assert list(seen[0]["Records"][0]) == [
        "kinesis", "eventSource", "eventVersion", "eventID", "eventName",
        "invokeIdentityArn", "awsRegion", "eventSourceARN",
    ]  # fmt: skip
    assert base64.b64decode(seen[0]["Records"][0]["kinesis"]["data"]) == b"Hello, this is a test."


def test_invoke_identity_arn_is_configurable() -> None:
    stream = KinesisStream("s")
    seen: list[Any] = []
    fn = Function("f", lambda event, ctx: seen.extend(event["Records"]))
    role = "arn:aws:iam::123456789012:role/lambda-kinesis-role"
    stream.map_to(
        fn, StreamMappingConfig(starting_position="TRIM_HORIZON"), invoke_identity_arn=role
    )
    stream.put_record(b"x", "k")
    stream.scheduler.run_until_idle()
    assert seen[0]["invokeIdentityArn"] == role


def test_retention_trims_records_and_records_the_trim() -> None:
    sched = Scheduler()
    stream = KinesisStream("s", scheduler=sched)
    first = stream.put_record(b"a", "k")["SequenceNumber"]
    sched.run(until=3600.0)
    second = stream.put_record(b"b", "k")["SequenceNumber"]
    sched.run(until=86399.0)
    assert [r.sequence_number for r in stream.records()] == [first, second]
    sched.run(until=86400.0)
    assert [r.sequence_number for r in stream.records()] == [second]
    assert stream.log.trimmed == [TrimmedRecord("shardId-000000000000", first, 86400.0)]
    sched.run(until=90000.0)
    assert stream.records() == []
    assert [t.at for t in stream.log.trimmed] == [86400.0, 90000.0]


def test_retention_can_be_extended_to_365_days() -> None:
    sched = Scheduler()
    stream = KinesisStream("s", scheduler=sched, retention_period_hours=8760)
    stream.put_record(b"a", "k")
    sched.run(until=8760 * 3600.0 - 1)
    assert len(stream.records()) == 1
    sched.run(until=8760 * 3600.0)
    assert stream.records() == []


@pytest.mark.parametrize(
    ("kwargs", "parameter"),
    [
        ({"retention_period_hours": 23}, "RetentionPeriodHours"),
        ({"retention_period_hours": 8761}, "RetentionPeriodHours"),
        ({"shard_count": 0}, "ShardCount"),
        ({"name": ""}, "StreamName"),
    ],
)
def test_invalid_stream_parameters(kwargs: dict[str, Any], parameter: str) -> None:
    kwargs.setdefault("name", "s")
    with pytest.raises(InvalidParameterValueError) as caught:
        KinesisStream(**kwargs)
    assert caught.value.parameter == parameter


def test_invalid_records_are_refused() -> None:
    stream = KinesisStream("s")
    with pytest.raises(InvalidParameterValueError, match="PartitionKey"):
        stream.put_record(b"x", "")
    with pytest.raises(InvalidParameterValueError, match="PartitionKey"):
        stream.put_record(b"x", "k" * 257)
    with pytest.raises(InvalidParameterValueError, match="Data"):
        stream.put_record(42, "k")  # type: ignore[arg-type]
    assert stream.records() == []


def test_a_record_is_at_most_1_mib_with_its_partition_key() -> None:
    stream = KinesisStream("s")
    stream.put_record(b"x" * (1_048_576 - 2), "kk")
    with pytest.raises(InvalidParameterValueError, match="1048576") as caught:
        stream.put_record(b"x" * (1_048_576 - 1), "kk")
    assert caught.value.parameter == "Data"
    with pytest.raises(InvalidParameterValueError, match="Data"):
        stream.put_records([{"Data": b"x" * 1_048_576, "PartitionKey": "k"}])
    assert len(stream.records()) == 1


def test_repr_is_short() -> None:
    stream = KinesisStream("orders", shard_count=2)
    stream.put_record(b"x", "k")
    assert repr(stream) == "<KinesisStream orders shards=2 records=1>"
    assert repr(stream.log.shards[0]).startswith("<Shard shardId-000000000000 records=")
    assert "records=1" in repr(stream.log)
    assert repr(stream.records()[0]).startswith("<StreamRecord shardId-")


def test_shards_are_found_by_id() -> None:
    stream = KinesisStream("s", shard_count=2)
    assert stream.log.shard("shardId-000000000001") is stream.log.shards[1]
    with pytest.raises(KeyError):
        stream.log.shard("shardId-000000000002")


def test_explicit_hash_key_may_be_digits_but_nothing_else() -> None:
    stream = KinesisStream("s", shard_count=2)
    assert stream.put_record(b"x", "k", explicit_hash_key="0")["ShardId"] == "shardId-000000000000"  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterValueError, match="ExplicitHashKey"):
        stream.put_record(b"x", "k", explicit_hash_key="zero")  # type: ignore[arg-type]
