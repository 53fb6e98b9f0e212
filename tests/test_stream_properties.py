"""Properties of stream event source mappings: order, expiry-based retry, conservation,
bisect and retries, determinism."""

from __future__ import annotations

import base64
from collections import Counter
from typing import Any

import attrs
from hypothesis import given, settings
from hypothesis import strategies as st

from invokemodels import (
    Bucket,
    Function,
    KinesisStream,
    QueueTarget,
    Scheduler,
    StreamMappingConfig,
    Table,
    VirtualClock,
)
from invokemodels.core._clock import iso_timestamp
from invokemodels.mapping import RecordFate, StreamRecord

FOREVER = 10**9
RETENTION = 86400.0
SKIP_E = {"Filters": [{"Pattern": '{"partitionKey": [{"anything-but": ["e"]}]}'}]}


@attrs.frozen
class Put:
    gap: float
    key: str
    fails: int
    explicit: int | None = None


@attrs.frozen
class Scenario:
    puts: tuple[Put, ...]
    shards: int
    batch_size: int
    window: int | None
    parallelization: int
    bisect: bool
    report: bool
    retries: int
    age: int
    retry_delay: float
    duration: float
    seed: int
    tumbling: int = 0
    skip_e: bool = False


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    puts = draw(
        st.lists(
            st.builds(
                Put,
                gap=st.sampled_from([0.0, 0.0, 0.25, 1.0, 7.5, 900.0]),
                key=st.sampled_from("abcde"),
                fails=st.sampled_from([0, 0, 0, 1, 2, FOREVER]),
                # An ExplicitHashKey picks the shard; the partition key still picks the lane.
                explicit=st.sampled_from([None, None, None, 2, 3, 2**127 + 4, 2**127 + 5]),
            ),
            min_size=1,
            max_size=18,
        )
    )
    return Scenario(
        puts=tuple(puts),
        shards=draw(st.integers(1, 2)),
        batch_size=draw(st.integers(1, 5)),
        window=draw(st.sampled_from([None, 0, 2])),
        parallelization=draw(st.integers(1, 3)),
        bisect=draw(st.booleans()),
        report=draw(st.booleans()),
        retries=draw(st.sampled_from([-1, 0, 1, 3])),
        age=draw(st.sampled_from([-1, 60, 7200])),
        retry_delay=draw(st.sampled_from([60.0, 600.0, 3600.0])),
        duration=draw(st.sampled_from([0.0, 0.5])),
        seed=draw(st.integers(0, 2**16)),
        tumbling=draw(st.sampled_from([0, 0, 30])),
        skip_e=draw(st.booleans()),
    )


@attrs.define
class Run:
    """One scenario run: the invocations the handler saw and what the mapping recorded."""

    stream: KinesisStream
    mapping: Any
    sched: Scheduler
    invocations: list[tuple[float, list[int], bool]] = attrs.field(factory=list)
    records: dict[str, int] = attrs.field(factory=dict)
    shards: dict[int, str] = attrs.field(factory=dict)
    arrivals: dict[int, StreamRecord] = attrs.field(factory=dict)


def run(scenario: Scenario, *, destination: Any = None) -> Run:
    # An origin off the whole second, so tumbling windows close between polls.
    sched = Scheduler(VirtualClock(epoch_origin=1_700_000_000.3))
    stream = KinesisStream("s", shard_count=scenario.shards, scheduler=sched)
    remaining = [put.fails for put in scenario.puts]
    holder: list[Run] = []

    def handler(event: Any, context: Any) -> Any:
        indexes = [int(base64.b64decode(r["kinesis"]["data"])) for r in event["Records"]]
        failing = []
        for record, index in zip(event["Records"], indexes, strict=True):
            if remaining[index] > 0:
                remaining[index] -= 1
                failing.append(record["kinesis"]["sequenceNumber"])
        holder[0].invocations.append((sched.now, indexes, not failing))
        if failing and not scenario.report:
            raise RuntimeError("record failed")
        failures = [{"itemIdentifier": seq} for seq in failing]
        return {"state": {"n": len(holder[0].invocations)}, "batchItemFailures": failures}

    fn = Function("f", handler, duration=scenario.duration)
    config = StreamMappingConfig(
        starting_position="TRIM_HORIZON",
        batch_size=scenario.batch_size,
        maximum_batching_window=scenario.window,
        parallelization_factor=scenario.parallelization,
        bisect_batch_on_function_error=scenario.bisect,
        function_response_types=["ReportBatchItemFailures"] if scenario.report else [],
        maximum_retry_attempts=scenario.retries,
        maximum_record_age=scenario.age,
        on_failure=destination,
        tumbling_window=scenario.tumbling,
        filter_criteria=SKIP_E if scenario.skip_e else None,
    )
    mapping = stream.map_to(fn, config, seed=scenario.seed, retry_delay=scenario.retry_delay)
    result = Run(stream, mapping, sched)
    holder.append(result)
    stream.log.subscribe(lambda r: result.arrivals.__setitem__(len(result.arrivals), r))
    for index, put in enumerate(scenario.puts):
        if put.gap:
            sched.run_for(put.gap)
        record = stream.put_record(str(index), put.key, explicit_hash_key=put.explicit)
        result.records[record["SequenceNumber"]] = index
        result.shards[index] = record["ShardId"]
    sched.run_until_idle(max_steps=200_000)
    return result


@settings(max_examples=40)
@given(scenarios())
def test_order_per_partition_key(scenario: Scenario) -> None:
    result = run(scenario)
    outcomes = {result.records[o.sequence_number]: o for o in result.mapping.poller.outcomes}
    # Order is kept per partition key within a shard (an ExplicitHashKey can send records of
    # one partition key to different shards, which Kinesis never orders against each other).
    keys = [(result.shards[i], put.key) for i, put in enumerate(scenario.puts)]
    # (1a) first deliveries come in sequence order within a key
    first_seen: list[int] = []
    for _, indexes, _ in result.invocations:
        for index in indexes:
            if index not in first_seen:
                first_seen.append(index)
    for key in set(keys):
        mine = [i for i in first_seen if keys[i] == key]
        assert mine == sorted(mine)
    # (1b) once a later record of a key succeeded, no earlier record of that key is delivered.
    # Records of one key share a lane, whose invocations run one after another, so the order
    # the handler saw them in is the order they happened in.
    for later, outcome in outcomes.items():
        if outcome.fate is not RecordFate.PROCESSED:
            continue
        last = max(n for n, (_, indexes, _) in enumerate(result.invocations) if later in indexes)
        assert result.invocations[last][2] or scenario.report
        for _, indexes, _ in result.invocations[last + 1 :]:
            assert later not in indexes
            assert not [i for i in indexes if i < later and keys[i] == keys[later]]


@settings(max_examples=40)
@given(scenarios())
def test_conservation_every_record_ends_exactly_once(scenario: Scenario) -> None:
    queue = QueueTarget()
    result = run(scenario, destination=queue)
    poller = result.mapping.poller
    ended = [o.sequence_number for o in poller.outcomes]
    assert sorted(ended) == sorted(result.records)
    assert len(ended) == len(set(ended))
    assert poller.pending == 0
    trimmed = {t.sequence_number: t.at for t in result.stream.log.trimmed}
    delivered_ok = {i for _, indexes, ok in result.invocations for i in indexes}
    # An on-failure record stands for `batchSize` records of one shard, given up at its
    # timestamp for its condition. Its sequence range is a range of that shard only (sequence
    # numbers of different shards interleave), and with a parallelization factor it may span
    # records of the shard's other lanes, so a record is matched by shard, time and range.
    origin = result.sched.clock.epoch_origin
    sent: Counter[tuple[str, str, str]] = Counter()
    ranges: dict[tuple[str, str, str], list[tuple[int, int]]] = {}
    for record in queue.records:
        info = record["KinesisBatchInfo"]
        key = (info["shardId"], record["timestamp"], record["requestContext"]["condition"])
        sent[key] += info["batchSize"]
        span = (int(info["startSequenceNumber"]), int(info["endSequenceNumber"]))
        ranges.setdefault(key, []).append(span)
    given_up: Counter[tuple[str, str, str]] = Counter()
    ends: dict[int, tuple[str, str, str]] = {}
    for outcome in poller.outcomes:
        if outcome.fate is RecordFate.DISCARDED:
            assert outcome.condition is not None
            key = (outcome.shard_id, iso_timestamp(origin + outcome.at), outcome.condition)
            given_up[key] += 1
            ends[int(outcome.sequence_number)] = key
    assert given_up == sent
    for key, spans in ranges.items():
        for start, end in spans:
            assert ends[start] == key
            assert ends[end] == key
    arrivals = {r.sequence_number: r for r in result.arrivals.values()}
    for outcome in poller.outcomes:
        seq = outcome.sequence_number
        index = result.records[seq]
        if outcome.fate is RecordFate.PROCESSED:
            assert index in delivered_ok
        elif outcome.fate is RecordFate.DISCARDED:
            key = ends[int(seq)]
            assert any(start <= int(seq) <= end for start, end in ranges[key])
        elif outcome.fate is RecordFate.EXPIRED:
            assert trimmed[seq] == outcome.at == arrivals[seq].arrival + RETENTION
        else:
            assert outcome.fate is RecordFate.FILTERED
            assert scenario.skip_e
            assert scenario.puts[index].key == "e"
            assert index not in delivered_ok
    if scenario.skip_e:
        delivered = {i for _, indexes, _ in result.invocations for i in indexes}
        assert all(scenario.puts[i].key != "e" for i in delivered)
    discarded = sum(o.fate is RecordFate.DISCARDED for o in poller.outcomes)
    assert discarded == sum(r["KinesisBatchInfo"]["batchSize"] for r in queue.records)
    # Records that never fail are never discarded for running out of retries.
    for outcome in poller.outcomes:
        if scenario.puts[result.records[outcome.sequence_number]].fails == 0:
            assert outcome.condition != "RetryAttemptsExhausted" or scenario.batch_size > 1


def expected_end(retries: int, age: int, delay: float) -> tuple[list[float], str, float]:
    """A plain model of a poison record alone in its batch: attempt times, fate, end time."""
    attempts: list[float] = []
    k = 0
    while True:
        t = k * delay
        if t >= RETENTION:
            return attempts, "expired", RETENTION
        if age >= 0 and t > age:
            return attempts, "RecordAgeExceeded", t
        attempts.append(t)
        if 0 <= retries <= k:
            return attempts, "RetryAttemptsExhausted", t
        k += 1


@settings(max_examples=60)
@given(
    retries=st.sampled_from([-1, 0, 1, 5, 30, 150]),
    age=st.sampled_from([-1, 60, 61, 3599, 3600, 50000, 604800]),
    delay=st.sampled_from([45.0, 600.0, 1800.0, 7200.0]),
    followers=st.integers(0, 3),
)
def test_poison_record_is_retried_until_the_first_limit(
    retries: int, age: int, delay: float, followers: int
) -> None:
    scenario = Scenario(
        puts=(Put(0.0, "k", FOREVER), *(Put(float(i == 0), "k", 0) for i in range(followers))),
        shards=1,
        batch_size=1,
        window=None,
        parallelization=1,
        bisect=False,
        report=False,
        retries=retries,
        age=age,
        retry_delay=delay,
        duration=0.0,
        seed=1,
    )
    result = run(scenario)
    attempts, fate, end = expected_end(retries, age, delay)
    assert [t for t, indexes, _ in result.invocations if indexes == [0]] == attempts
    outcome = result.mapping.poller.outcomes[0]
    assert result.records[outcome.sequence_number] == 0
    if fate == "expired":
        assert (outcome.fate, outcome.at) == (RecordFate.EXPIRED, end)
    else:
        assert (outcome.fate, outcome.condition, outcome.at) == (RecordFate.DISCARDED, fate, end)
    # The shard made no progress past the poison record meanwhile.
    assert all(t >= end for t, indexes, _ in result.invocations if indexes != [0])
    follower_fates = list(result.mapping.poller.outcomes[1:])
    assert len(follower_fates) == followers
    for o in follower_fates:
        # Followers (put at 1 s) are read as soon as the shard is free; too old by then,
        # they are discarded without an invoke.
        if age >= 0 and end - 1.0 > age:
            assert (o.fate, o.condition, o.at) == (RecordFate.DISCARDED, "RecordAgeExceeded", end)
        else:
            assert (o.fate, o.at) == (RecordFate.PROCESSED, max(end, 1.0))


@settings(max_examples=60)
@given(
    size=st.integers(1, 12),
    poison=st.data(),
    retries=st.integers(0, 4),
)
def test_bisect_never_consumes_retries(size: int, poison: st.DataObject, retries: int) -> None:
    bad = poison.draw(st.integers(0, size - 1))
    puts = tuple(Put(0.0, "k", FOREVER if i == bad else 0) for i in range(size))
    base = Scenario(
        puts=puts, shards=1, batch_size=size, window=None, parallelization=1, bisect=True,
        report=False, retries=retries, age=-1, retry_delay=1.0, duration=0.0, seed=3,
    )  # fmt: skip
    queue = QueueTarget()
    result = run(base, destination=queue)
    alone = [t for t, indexes, _ in result.invocations if indexes == [bad]]
    assert len(alone) == 1 + retries
    (record,) = queue.records
    assert record["requestContext"]["approximateInvokeCount"] == 1 + retries
    assert record["KinesisBatchInfo"]["batchSize"] == 1
    fates = {result.records[o.sequence_number]: o.fate for o in result.mapping.poller.outcomes}
    assert fates == {
        i: RecordFate.DISCARDED if i == bad else RecordFate.PROCESSED for i in range(size)
    }
    # Without bisect the whole batch is tried exactly as often.
    plain = run(attrs.evolve(base, bisect=False))
    assert len(plain.invocations) == 1 + retries
    assert all(indexes == list(range(size)) for _, indexes, _ in plain.invocations)


@settings(max_examples=25)
@given(scenarios())
def test_same_seed_same_timeline(scenario: Scenario) -> None:
    bucket = Bucket()
    first = run(scenario, destination=bucket)
    second = run(scenario, destination=Bucket())
    # An S3 on-failure record's payload holds exactly the records its batch info describes.
    for record in bucket.records:
        info = record["KinesisBatchInfo"]
        sequence = [r["kinesis"]["sequenceNumber"] for r in record["payload"]["Records"]]
        assert len(sequence) == info["batchSize"]
        assert (sequence[0], sequence[-1]) == (
            info["startSequenceNumber"],
            info["endSequenceNumber"],
        )
    assert first.invocations == second.invocations
    assert list(first.mapping.history) == list(second.mapping.history)
    assert first.mapping.poller.outcomes == second.mapping.poller.outcomes
    assert first.mapping.poller.failure_records == second.mapping.poller.failure_records
    assert first.mapping.uuid == second.mapping.uuid


@settings(max_examples=20)
@given(
    seed=st.integers(0, 1000),
    writes=st.lists(st.tuples(st.integers(0, 3), st.sampled_from(["put", "update", "delete"])),
                    max_size=15),
)  # fmt: skip
def test_same_seed_same_dynamodb_timeline(seed: int, writes: list[tuple[int, str]]) -> None:
    def once() -> tuple[list[Any], list[Any]]:
        sched = Scheduler()
        table = Table("tbl", key_schema="Id", scheduler=sched, seed=seed)
        seen: list[Any] = []
        fn = Function("f", lambda event, ctx: seen.append(event))
        mapping = table.map_to(fn, StreamMappingConfig(starting_position="TRIM_HORIZON"), seed=seed)
        for n, (key, action) in enumerate(writes):
            sched.run_for(0.1)
            item_key = {"Id": {"N": str(key)}}
            if action == "put":
                table.put_item({**item_key, "v": {"N": str(n)}})
            elif action == "update":
                table.update_item(item_key, set={"w": {"S": str(n)}})
            else:
                table.delete_item(item_key)
        sched.run_until_idle()
        return seen, list(mapping.history)

    assert once() == once()
