"""Stream records keep their fields and build their event record when it is read.

The event a record gives is the one the stream used to build and keep at write time, key
for key and byte for byte; its size is the size of that event; and what a stream keeps per
retained record stays small.
"""

from __future__ import annotations

import gc
import tracemalloc
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from invokemodels import Function, History, KinesisStream, Scheduler, StreamMappingConfig, Table
from invokemodels.aws import STREAM_VIEW_TYPES
from invokemodels.aws._dynamodb import stream_record_size
from invokemodels.core import encode_payload
from invokemodels.core._clock import on_grid
from invokemodels.core._records import dynamodb_change, dynamodb_record, kinesis_record
from invokemodels.mapping import StreamRecord, md5_hash_key
from invokemodels.mapping._stream_log import json_size

# -- Kinesis -------------------------------------------------------------------------------

puts = st.lists(
    st.tuples(
        st.binary(max_size=64),
        st.text(min_size=1, max_size=40),
        st.none() | st.integers(0, 2**128 - 1),
        st.integers(0, 3000),  # milliseconds before the write (0: the same instant)
        st.booleans(),  # PutRecords rather than PutRecord
    ),
    min_size=1,
    max_size=25,
)


@settings(max_examples=60, deadline=None)
@given(puts, st.integers(1, 5), st.sampled_from(["us-east-1", "eu-west-2"]))
def test_a_kinesis_record_builds_the_event_it_used_to_keep(
    writes: list[tuple[bytes, str, int | None, int, bool]], shards: int, region: str
) -> None:
    sched = Scheduler()
    stream = KinesisStream("orders", shard_count=shards, scheduler=sched, region=region)
    expected: list[tuple[StreamRecord, dict[str, Any], int | None, float, float]] = []
    for data, key, explicit, wait, batch in writes:
        sched.run_for(wait / 1000)
        epoch = round(sched.clock.epoch(), 3)
        if batch:
            entry: dict[str, Any] = {"Data": data, "PartitionKey": key}
            if explicit is not None:
                entry["ExplicitHashKey"] = explicit
            reply = stream.put_records([entry])["Records"][0]
        else:
            reply = stream.put_record(data, key, explicit_hash_key=explicit)
        record = stream.log.shard(reply["ShardId"]).records[-1]
        assert record.sequence_number == reply["SequenceNumber"]
        eager = kinesis_record(
            key, reply["SequenceNumber"], data, epoch, reply["ShardId"], region, stream.arn
        )
        expected.append((record, eager, explicit, sched.now, epoch))
    for record, eager, explicit, arrival, epoch in expected:
        assert record.event == eager
        assert list(record.event) == list(eager)
        assert list(record.event["kinesis"]) == list(eager["kinesis"])
        assert encode_payload(record.event, limit=None) == encode_payload(eager, limit=None)
        assert record.size == json_size(eager)
        assert record.own_event() == eager
        assert record.hash_key == (
            md5_hash_key(record.partition_key) if explicit is None else explicit
        )
        assert record.order == int(record.sequence_number)
        assert record.arrival == arrival
        assert record.arrival_epoch == epoch
        assert record.expires_at == on_grid(arrival + stream.log.retention)
        assert stream.log.route(record.hash_key).shard_id == record.shard_id


def test_each_read_of_an_event_is_a_new_dict_that_a_change_does_not_reach() -> None:
    stream = KinesisStream("orders")
    stream.put_record(b'{"id": 1}', "k")
    record = stream.records()[0]
    first = record.event
    first["kinesis"]["data"] = "changed"
    first["eventName"] = "changed"
    again = record.event
    assert again is not first
    assert again["eventName"] == "aws:kinesis:record"
    assert again["kinesis"]["data"] == "eyJpZCI6IDF9"


def test_a_record_made_with_its_event_gives_that_dict() -> None:
    event = {"eventID": "x", "dynamodb": {}}
    record = StreamRecord("s", "42", "k", 1.0, 2.0, 3.0, json_size(event), payload=event)
    assert record.event is event
    copy = record.own_event()
    assert copy == event
    assert copy is not event
    assert record.hash_key == md5_hash_key("k")
    assert record.order == 42


# -- DynamoDB ------------------------------------------------------------------------------

values = st.recursive(
    st.builds(lambda s: {"S": s}, st.text(max_size=8))
    | st.builds(lambda n: {"N": str(n)}, st.integers(-1000, 1000))
    | st.just({"BOOL": True})
    | st.just({"NULL": True}),
    lambda inner: (
        st.builds(lambda v: {"L": v}, st.lists(inner, max_size=3))
        | st.builds(lambda m: {"M": m}, st.dictionaries(st.sampled_from("abc"), inner, max_size=3))
    ),
    max_leaves=6,
)
operations = st.lists(
    st.tuples(
        st.sampled_from(["put", "update", "delete"]),
        st.integers(0, 3),  # which item
        st.dictionaries(st.sampled_from(["Name", "Total", "Tags"]), values, max_size=3),
        st.integers(0, 2500),  # milliseconds before the write
    ),
    min_size=1,
    max_size=20,
)


@settings(max_examples=60, deadline=None)
@given(operations, st.sampled_from(STREAM_VIEW_TYPES), st.integers(1, 3))
def test_a_dynamodb_record_builds_the_event_it_used_to_keep(
    ops: list[tuple[str, int, dict[str, Any], int]], view: str, shards: int
) -> None:
    sched = Scheduler()
    table = Table("Orders", key_schema="Id", stream_view_type=view, scheduler=sched, seed=7,
                  shard_count=shards)  # fmt: skip
    model: dict[int, dict[str, Any]] = {}
    expected: list[tuple[str, str | None, dict[str, Any], Any, Any, float]] = []
    for op, ident, attributes, wait in ops:
        sched.run_for(wait / 1000)
        key = {"Id": {"N": str(ident)}}
        old = model.get(ident)
        if op == "put":
            new: dict[str, Any] | None = {**key, **attributes}
            table.put_item(new)
        elif op == "update":
            new = {**(old or key), **attributes}
            table.update_item(key, set=attributes)
        else:
            new = None
            table.delete_item(key)
        if new is None:
            model.pop(ident, None)
        else:
            model[ident] = new
        if old == new:
            continue
        name = "REMOVE" if new is None else "INSERT" if old is None else "MODIFY"
        created = float(int(sched.clock.epoch()))
        expected.append((name, None, key, new, old, created))
    records = sorted(table.stream.records(), key=lambda r: r.order)
    assert len(records) == len(expected)
    for record, (name, _, key, new, old, created) in zip(records, expected, strict=True):
        change = dynamodb_change(
            created_epoch=created, keys=key, new_image=new, old_image=old,
            sequence_number=record.sequence_number, size_bytes=0, stream_view_type=view,
        )  # fmt: skip
        change["SizeBytes"] = stream_record_size(change)
        event = record.event
        eager = dynamodb_record(event["eventID"], name, change, table.region, table.stream_arn)
        assert len(event["eventID"]) == 32
        assert event == eager
        assert list(event) == list(eager)
        assert list(event["dynamodb"]) == list(eager["dynamodb"])
        assert encode_payload(event, limit=None) == encode_payload(eager, limit=None)
        assert record.size == json_size(eager)
        assert record.arrival_epoch == created
        assert record.hash_key == md5_hash_key(record.partition_key)


def test_a_dynamodb_record_keeps_only_the_images_its_view_type_shows() -> None:
    for view in STREAM_VIEW_TYPES:
        table = Table("Orders", key_schema="Id", stream_view_type=view)
        table.put_item({"Id": {"S": "a"}, "Total": {"N": "1"}})
        table.put_item({"Id": {"S": "a"}, "Total": {"N": "2"}})
        modify = table.stream.records()[-1]
        _, _, _, new, old, _, _ = modify.payload
        assert (new is not None) == (view in ("NEW_IMAGE", "NEW_AND_OLD_IMAGES"))
        assert (old is not None) == (view in ("OLD_IMAGE", "NEW_AND_OLD_IMAGES"))


# -- what a retained record costs ----------------------------------------------------------

RECORDS = 10_000
DATA = b'{"kind": "order", "total": 12.5}'
KEYS = [f"customer-{i}" for i in range(1000)]


def _retained_per_record(write: Any) -> float:
    """Bytes still allocated after ``write()`` ran, per record (its result is kept alive)."""
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        kept = write()
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert kept is not None
    return (after - before) / RECORDS


def test_a_retained_kinesis_record_costs_little_beyond_its_data() -> None:
    """Data and partition keys are the caller's (made before); the stream's own share per
    record is the record, its sequence number, its size and a list slot: under 300 bytes
    (about 1,200 when every record kept its event dict)."""

    def burst() -> KinesisStream:
        sched = Scheduler()
        stream = KinesisStream("orders", shard_count=4, scheduler=sched)
        for i in range(RECORDS):
            stream.put_record(DATA, KEYS[i % 1000])
            if i % 1000 == 999:
                sched.run_for(1.0)
        assert len(stream.log) == RECORDS
        return stream

    def spread() -> KinesisStream:
        sched = Scheduler()
        stream = KinesisStream("orders", shard_count=4, scheduler=sched)
        for i in range(RECORDS):
            stream.put_record(DATA, KEYS[i % 1000])
            sched.run_for(0.001)
        return stream

    assert _retained_per_record(burst) < 300
    # Written one by one at distinct instants, each record has its own three time stamps.
    assert _retained_per_record(spread) < 400


def test_a_mapping_that_read_every_record_adds_only_its_outcome_per_record() -> None:
    def mapped() -> Any:
        sched = Scheduler()
        stream = KinesisStream("orders", shard_count=4, scheduler=sched)
        mapping = stream.map_to(
            Function("consumer", lambda event, context: None),
            StreamMappingConfig(starting_position="TRIM_HORIZON", batch_size=100),
            seed=1,
            history=History(keep=False),
        )
        for start in range(0, RECORDS, 1000):
            for i in range(start, start + 1000):
                stream.put_record(DATA, KEYS[i % 1000])
            sched.run(until=sched.now + 1.0)
        sched.run_until_idle()
        assert len(mapping.poller.outcomes) == RECORDS
        assert mapping.poller.pending == 0
        return stream, mapping

    # The record (under 300 bytes) and one RecordOutcome (about 1,400 with the event dicts).
    assert _retained_per_record(mapped) < 400


def test_a_dynamodb_record_keeps_its_images_not_a_copy_of_them() -> None:
    table = Table("Orders", key_schema="Id")
    table.put_item({"Id": {"S": "a"}, "Total": {"N": "1"}})
    record = table.stream.records()[0]
    assert record.payload[3] is table._items[table._id({"Id": {"S": "a"}})]


def test_fate_answers_for_every_outcome_however_often_it_is_asked() -> None:
    sched = Scheduler()
    stream = KinesisStream("orders", shard_count=3, scheduler=sched)
    calls = 0

    def sometimes_failing(event: Any, context: Any) -> None:
        nonlocal calls
        calls += 1
        if calls % 3 == 0:
            raise RuntimeError("retry me")

    mapping = stream.map_to(
        Function("consumer", sometimes_failing),
        StreamMappingConfig(starting_position="TRIM_HORIZON", batch_size=5),
        seed=1,
    )
    poller = mapping.poller
    written = []
    for step in range(6):
        written.extend(stream.put_record(b"x", f"k{step}-{i}") for i in range(20))
        sched.run_for(1.0)
        # Asked between runs: what has ended is known, the rest is still pending.
        ended = {(o.shard_id, o.sequence_number) for o in poller.outcomes}
        for reply in written:
            found = poller.fate(reply["SequenceNumber"], reply["ShardId"])
            assert (found is not None) == ((reply["ShardId"], reply["SequenceNumber"]) in ended)
    sched.run_until_idle()
    assert len(poller.outcomes) == len(written)
    for outcome in poller.outcomes:
        assert poller.fate(outcome.sequence_number, outcome.shard_id) is outcome
        assert poller.fate(outcome.sequence_number) is outcome
    assert poller.fate("1", "shardId-000000000000") is None
