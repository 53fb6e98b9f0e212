"""StreamPoller timelines: cadence, flush rules, blocking retries, bisect, partial batch
responses, on-failure records, tumbling windows, IteratorAge, filters, starting positions."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from invokemodels import (
    Bucket,
    Function,
    KinesisStream,
    Outcome,
    QueueTarget,
    Scheduler,
    StreamMappingConfig,
    Topic,
    VirtualClock,
)
from invokemodels.core import SYNC_PAYLOAD_LIMIT
from invokemodels.mapping import IteratorAgeSample, RecordFate, StreamPoller, md5_hash_key

EPOCH = 1_700_000_000.0
Log = list[tuple[float, list[str]]]


def datas(event: Any) -> list[str]:
    return [base64.b64decode(r["kinesis"]["data"]).decode() for r in event["Records"]]


def setup(
    handler: Any,
    *,
    shards: int = 1,
    duration: float = 0.0,
    retry_delay: float | None = None,
    function: dict[str, Any] | None = None,
    mapping: dict[str, Any] | None = None,
    **config: Any,
) -> tuple[Scheduler, KinesisStream, Any]:
    sched = Scheduler(VirtualClock(epoch_origin=EPOCH))
    stream = KinesisStream("s", shard_count=shards, scheduler=sched)
    stream.log.subscribe(remember)
    fn = Function("consumer", handler, duration=duration, **(function or {}))
    config.setdefault("starting_position", "TRIM_HORIZON")
    esm = stream.map_to(
        fn, StreamMappingConfig(**config), seed=1, retry_delay=retry_delay, **(mapping or {})
    )
    return sched, stream, esm


def recorder(log: Log, sched: Scheduler, poison: str = "bad") -> Any:
    def handler(event: Any, context: Any) -> Any:
        got = datas(event)
        log.append((sched.now, got))
        if poison in got:
            raise ValueError(poison)
        return None

    return handler


NAMES: dict[str, str] = {}
"""Sequence number -> data of every record put through `setup` (trimmed records included)."""


def remember(record: Any) -> None:
    NAMES[record.sequence_number] = base64.b64decode(record.event["kinesis"]["data"]).decode()


def fates(esm: Any) -> dict[str, tuple[str, float, str | None]]:
    """Each record's (fate, at, condition), keyed by its data."""
    poller: StreamPoller = esm.poller
    return {NAMES[o.sequence_number]: (o.fate.value, o.at, o.condition) for o in poller.outcomes}


# -- ordering, batch size, cadence, batching window -----------------------------------------


def make(log: Log, **kwargs: Any) -> tuple[Scheduler, KinesisStream, Any]:
    """A mapping whose handler logs ``(now, [data...])`` and fails on ``"bad"``."""
    holder: dict[str, Scheduler] = {}

    def handler(event: Any, context: Any) -> Any:
        got = datas(event)
        log.append((holder["sched"].now, got))
        response = kwargs_response(event, got)
        if "bad" in got:
            raise ValueError("bad")
        return response

    kwargs_response = kwargs.pop("respond", lambda event, got: None)
    sched, stream, esm = setup(handler, **kwargs)
    holder["sched"] = sched
    return sched, stream, esm


def test_one_batch_at_a_time_per_shard_in_order() -> None:
    log: Log = []
    sched, stream, esm = make(log, batch_size=2, duration=0.5)
    for i in range(5):
        stream.put_record(f"r{i}", "same-key")
    sched.run_until_idle()
    assert log == [(0.0, ["r0", "r1"]), (0.5, ["r2", "r3"]), (1.0, ["r4"])]
    assert [t.size for t in esm.history] == [2, 2, 1]


def test_records_put_between_polls_wait_for_the_next_poll_of_the_shard() -> None:
    log: Log = []
    sched, stream, _ = make(log)
    sched.run(until=0.3)
    stream.put_record("a", "k")
    sched.run(until=2.5)
    stream.put_record("b", "k")
    stream.put_record("c", "k")
    sched.run_until_idle()
    assert log == [(1.0, ["a"]), (3.0, ["b", "c"])]
    assert sched.now == 3.0


def test_a_shard_with_more_records_is_read_again_at_once() -> None:
    log: Log = []
    sched, stream, _ = make(log, batch_size=2, duration=0.1)
    for i in range(5):
        stream.put_record(str(i), "k")
    sched.run_until_idle()
    assert log == [(0.0, ["0", "1"]), (0.1, ["2", "3"]), (0.2, ["4"])]


def test_batching_window_gathers_records_until_it_closes() -> None:
    log: Log = []
    sched, stream, _ = make(log, batch_size=100, maximum_batching_window=5)
    stream.put_record("a", "k")
    sched.run(until=1.2)
    stream.put_record("b", "k")
    sched.run(until=3.0)
    stream.put_record("c", "k")
    sched.run(until=5.5)
    stream.put_record("d", "k")
    sched.run_until_idle()
    # The window begins when the previous invocation completes (at 5.0).
    assert log == [(5.0, ["a", "b", "c"]), (10.0, ["d"])]


def test_batch_size_flushes_before_the_window_closes() -> None:
    log: Log = []
    sched, stream, _ = make(log, batch_size=3, maximum_batching_window=60)
    sched.run(until=0.2)
    for name in "abcd":
        stream.put_record(name, "k")
    sched.run_until_idle()
    # The next window begins when the first batch completes (1.0): "d" waits until 61.0.
    assert log == [(1.0, ["a", "b", "c"]), (61.0, ["d"])]


def test_batches_are_capped_at_6_mb() -> None:
    sizes: list[int] = []

    def handler(event: Any, context: Any) -> None:
        sizes.append(len(json.dumps(event["Records"])))

    sched, stream, esm = setup(handler, batch_size=100)
    blob = b"x" * 1_000_000
    for _ in range(11):
        stream.put_record(blob, "k")
    sched.run_until_idle()
    assert [t.size for t in esm.history] == [4, 4, 3]
    assert all(size <= SYNC_PAYLOAD_LIMIT for size in sizes)
    assert all(o.fate is RecordFate.PROCESSED for o in esm.poller.outcomes)


@pytest.mark.parametrize("over", [0, 1])
def test_a_batch_may_be_exactly_6_mb_and_not_a_byte_more(over: int) -> None:
    sizes: list[int] = []

    def handler(event: Any, context: Any) -> None:
        sizes.append(len(json.dumps(event)))

    def record_size(data: int, key: int) -> int:
        scratch = KinesisStream("s", scheduler=Scheduler(VirtualClock(epoch_origin=EPOCH)))
        scratch.put_record(b"x" * data, "k" * key)
        return scratch.records()[0].size

    sched, stream, esm = setup(handler, batch_size=100)
    esm.disable()
    for _ in range(4):
        stream.put_record(b"x" * 1_047_000, "k")
    identity = len("arn:aws:iam::123456789012:role/lambda-role")
    used = len('{"Records": []}') + sum(r.size + identity + 2 for r in stream.records())
    room = SYNC_PAYLOAD_LIMIT - used - identity  # what the fifth record's own JSON may take
    data = (room - 50 - record_size(0, 1)) // 4 * 3  # base64: 4 characters per 3 bytes
    key = 1 + room - record_size(data, 1) + over
    stream.put_record(b"x" * data, "k" * key)
    esm.enable()
    sched.run_until_idle()
    if over:
        assert [t.size for t in esm.history] == [4, 1]
    else:
        assert [t.size for t in esm.history] == [5]
        assert sizes == [SYNC_PAYLOAD_LIMIT]


# -- function errors: blocking, retry quota, record age, retention ---------------------------


def test_function_error_blocks_the_shard_until_the_retry_quota_is_used() -> None:
    log: Log = []
    queue = QueueTarget()
    sched, stream, esm = make(log, batch_size=1, maximum_retry_attempts=2, on_failure=queue)
    for name in ("ok1", "bad", "ok2"):
        stream.put_record(name, "k")
    sched.run_until_idle()
    assert log == [(0.0, ["ok1"]), (0.0, ["bad"]), (1.0, ["bad"]), (2.0, ["bad"]), (2.0, ["ok2"])]
    assert fates(esm) == {
        "ok1": ("processed", 0.0, None),
        "bad": ("discarded", 2.0, "RetryAttemptsExhausted"),
        "ok2": ("processed", 2.0, None),
    }
    (record,) = queue.records
    assert record["requestContext"]["approximateInvokeCount"] == 3
    assert record["requestContext"]["requestId"] == esm.history[3].request_id


def test_the_whole_batch_is_retried() -> None:
    log: Log = []
    sched, stream, _ = make(log, maximum_retry_attempts=1)
    for name in ("a", "bad", "c"):
        stream.put_record(name, "k")
    sched.run_until_idle()
    assert log == [(0.0, ["a", "bad", "c"]), (1.0, ["a", "bad", "c"])]


def test_a_blocked_shard_does_not_hold_up_other_shards() -> None:
    log: Log = []
    sched, stream, esm = make(log, shards=2, maximum_retry_attempts=3)
    blocked = stream.put_record("bad", "k1")["ShardId"]
    other = next(
        f"k{i}" for i in range(50) if stream.log.route(md5_hash_key(f"k{i}")).shard_id != blocked
    )
    sched.run(until=1.5)
    stream.put_record("probe", other)
    sched.run_until_idle()
    assert [t for t, got in log if got == ["probe"]] == [2.0]
    assert [t for t, got in log if got == ["bad"]] == [0.0, 1.0, 2.0, 3.0]
    assert esm.in_flight == 0


def test_retry_delay_is_configurable() -> None:
    log: Log = []
    sched, stream, _ = make(log, maximum_retry_attempts=2, retry_delay=30.0)
    stream.put_record("bad", "k")
    sched.run_until_idle()
    assert [t for t, _ in log] == [0.0, 30.0, 60.0]


def test_a_zero_retry_delay_is_refused() -> None:
    # With infinite retries a failing batch was retried at the same instant forever.
    from invokemodels.exceptions import InvalidParameterValueError

    with pytest.raises(InvalidParameterValueError, match=r"between 0\.001 and 86400") as info:
        setup(lambda e, c: None, retry_delay=0)
    assert info.value.parameter == "retry_delay"


def test_maximum_record_age_discards_with_record_age_exceeded() -> None:
    log: Log = []
    queue = QueueTarget()
    sched, stream, esm = make(log, maximum_record_age=60, retry_delay=10.0, on_failure=queue)
    stream.put_record("bad", "k")
    sched.run_until_idle()
    assert [t for t, _ in log] == [0.0, 10.0, 20.0, 30.0, 40.0, 50.0, 60.0]
    assert fates(esm) == {"bad": ("discarded", 70.0, "RecordAgeExceeded")}
    (record,) = queue.records
    assert record["requestContext"]["condition"] == "RecordAgeExceeded"
    assert record["requestContext"]["approximateInvokeCount"] == 7
    assert "responseContext" not in record
    assert list(record) == ["requestContext", "version", "timestamp", "KinesisBatchInfo"]


def test_records_too_old_when_first_read_are_discarded_without_an_invoke() -> None:
    log: Log = []
    queue = QueueTarget()
    sched, stream, esm = make(
        log, maximum_record_age=60, retry_delay=50.0, batch_size=1, on_failure=queue
    )
    stream.put_record("bad", "k")
    sched.run(until=5.0)
    stream.put_record("late", "k")
    sched.run_until_idle()
    # "bad" is tried at 0 and 50, too old at 100; by then "late" (put at 5) is 95 s old.
    assert log == [(0.0, ["bad"]), (50.0, ["bad"])]
    assert fates(esm) == {
        "bad": ("discarded", 100.0, "RecordAgeExceeded"),
        "late": ("discarded", 100.0, "RecordAgeExceeded"),
    }
    # "late" never reached the function: AWS records 1, not 0 (reference 4.1).
    assert [r["requestContext"]["approximateInvokeCount"] for r in queue.records] == [2, 1]
    late = queue.records[1]
    shard = stream.shard_ids[0]
    assert late == {
        "requestContext": {
            "requestId": late["requestContext"]["requestId"],
            "functionArn": esm.function.arn,
            "condition": "RecordAgeExceeded",
            "approximateInvokeCount": 1,
        },
        "version": "1.0",
        "timestamp": "2023-11-14T22:14:60.000Z".replace("14:60", "15:00"),
        "KinesisBatchInfo": {
            "shardId": shard,
            "startSequenceNumber": late["KinesisBatchInfo"]["startSequenceNumber"],
            "endSequenceNumber": late["KinesisBatchInfo"]["startSequenceNumber"],
            "approximateArrivalOfFirstRecord": "2023-11-14T22:13:25.000Z",
            "approximateArrivalOfLastRecord": "2023-11-14T22:13:25.000Z",
            "batchSize": 1,
            "streamArn": stream.arn,
        },
    }
    assert NAMES[late["KinesisBatchInfo"]["startSequenceNumber"]] == "late"


def test_retention_expiry_ends_a_block_without_an_on_failure_record() -> None:
    log: Log = []
    queue = QueueTarget()
    sched, stream, esm = make(log, retry_delay=3600.0, on_failure=queue)
    stream.put_record("bad", "k")
    sched.run(until=1.0)
    stream.put_record("next", "k")
    sched.run_until_idle()
    bad_attempts = [t for t, got in log if got[0] == "bad"]
    assert bad_attempts == [3600.0 * n for n in range(24)]
    # "next" arrived after the failing batch was read: it waits behind it.
    assert all(got == ["bad"] for _, got in log[:-1])
    assert fates(esm)["bad"] == ("expired", 86400.0, None)
    # The rest of the batch is read again from the trim horizon as a fresh batch.
    assert log[-1] == (86400.0, ["next"])
    assert fates(esm)["next"] == ("processed", 86400.0, None)
    assert queue.records == []
    assert [t.at for t in stream.log.trimmed] == [86400.0]


def test_throttles_do_not_consume_retry_attempts() -> None:
    log: Log = []
    sched, stream, esm = make(log, maximum_retry_attempts=0, function={"reserved_concurrency": 0})
    stream.put_record("a", "k")
    sched.schedule(5.5, esm.function.set_reserved_concurrency, None)
    sched.run_until_idle()
    assert log == [(6.0, ["a"])]
    assert esm.throttles == 6
    assert [t.outcome for t in esm.history] == [Outcome.THROTTLED] * 6 + [Outcome.SUCCESS]
    assert fates(esm) == {"a": ("processed", 6.0, None)}


def test_throttled_until_the_record_is_too_old() -> None:
    queue = QueueTarget()
    sched, stream, esm = setup(
        lambda e, c: None,
        maximum_record_age=60,
        retry_delay=10.0,
        on_failure=queue,
        function={"reserved_concurrency": 0},
    )
    stream.put_record("a", "k")
    sched.run_until_idle()
    assert esm.invocations == 0
    assert esm.throttles == 7
    (record,) = queue.records
    # Never invoked, like a record too old when first read: counted 1 (reference 4.1).
    assert record["requestContext"]["approximateInvokeCount"] == 1
    assert record["requestContext"]["condition"] == "RecordAgeExceeded"
    assert record["requestContext"]["requestId"] == esm.history[-1].request_id


# -- bisect ----------------------------------------------------------------------------------


def test_bisect_splits_first_half_first_without_using_retries() -> None:
    log: Log = []
    queue = QueueTarget()
    sched, stream, esm = make(
        log, maximum_retry_attempts=1, bisect_batch_on_function_error=True, on_failure=queue
    )
    for name in ("a", "bad", "c", "d"):
        stream.put_record(name, "k")
    sched.run_until_idle()
    assert log == [
        (0.0, ["a", "bad", "c", "d"]),
        (1.0, ["a", "bad"]),
        (2.0, ["a"]),
        (2.0, ["bad"]),
        (3.0, ["bad"]),
        (3.0, ["c", "d"]),
    ]
    (record,) = queue.records
    assert record["KinesisBatchInfo"]["batchSize"] == 1
    assert record["requestContext"]["approximateInvokeCount"] == 2
    assert fates(esm)["bad"] == ("discarded", 3.0, "RetryAttemptsExhausted")


def test_bisect_halves_are_ceil_and_floor() -> None:
    log: Log = []
    sched, stream, _ = make(log, maximum_retry_attempts=0, bisect_batch_on_function_error=True)
    for name in ("a", "b", "c", "d", "bad"):
        stream.put_record(name, "k")
    sched.run_until_idle()
    assert [got for _, got in log] == [
        ["a", "b", "c", "d", "bad"],
        ["a", "b", "c"],
        ["d", "bad"],
        ["d"],
        ["bad"],
    ]


def test_bisect_at_moves_the_split() -> None:
    log: Log = []
    sched, stream, _ = make(
        log,
        maximum_retry_attempts=0,
        bisect_batch_on_function_error=True,
        mapping={"bisect_at": lambda n: n - 1},
    )
    for name in ("a", "b", "c", "bad"):
        stream.put_record(name, "k")
    sched.run_until_idle()
    assert [got for _, got in log] == [["a", "b", "c", "bad"], ["a", "b", "c"], ["bad"]]


@pytest.mark.parametrize("bad", [0, 4, 1.5, True])
def test_bisect_at_must_leave_records_on_both_sides(bad: Any) -> None:
    log: Log = []
    sched, stream, _ = make(
        log, bisect_batch_on_function_error=True, mapping={"bisect_at": lambda n: bad}
    )
    for name in ("a", "b", "c", "bad"):
        stream.put_record(name, "k")
    with pytest.raises(ValueError, match=r"bisect_at\(4\) returned"):
        sched.run_until_idle()


# -- ReportBatchItemFailures -----------------------------------------------------------------

SUCCESS_RESPONSES = [
    None,
    "",
    [],
    {},
    {"batchItemFailures": []},
    {"batchItemFailures": None},
    {"state": 1},
]
FAILURE_RESPONSES = [
    {"batchItemFailures": [{"itemIdentifier": ""}]},
    {"batchItemFailures": [{"itemIdentifier": None}]},
    {"batchItemFailures": [{"foo": 123}]},
    {"batchItemFailures": [{"foo": None}]},
    {"batchItemFailures": [{"itemIdentifier": 123}]},
    {"batchItemFailures": [{"itemIdentifier": "999"}]},
    {"batchItemFailures": "oops"},
    {"batchItemFailures": ["not-an-object"]},
    "text",
    [{"itemIdentifier": "x"}],
    5,
]


@pytest.mark.parametrize("response", SUCCESS_RESPONSES, ids=repr)
def test_partial_batch_responses_that_mean_complete_success(response: Any) -> None:
    log: Log = []
    sched, stream, esm = make(
        log,
        function_response_types=["ReportBatchItemFailures"],
        maximum_retry_attempts=0,
        respond=lambda event, got: response,
    )
    for name in "abc":
        stream.put_record(name, "k")
    sched.run_until_idle()
    assert log == [(0.0, ["a", "b", "c"])]
    assert {fate for fate, _, _ in fates(esm).values()} == {"processed"}


@pytest.mark.parametrize("response", FAILURE_RESPONSES, ids=repr)
def test_partial_batch_responses_that_mean_complete_failure(response: Any) -> None:
    log: Log = []
    queue = QueueTarget()
    sched, stream, esm = make(
        log,
        function_response_types=["ReportBatchItemFailures"],
        maximum_retry_attempts=1,
        on_failure=queue,
        respond=lambda event, got: response,
    )
    for name in "abc":
        stream.put_record(name, "k")
    sched.run_until_idle()
    assert log == [(0.0, ["a", "b", "c"]), (1.0, ["a", "b", "c"])]
    assert fates(esm) == dict.fromkeys("abc", ("discarded", 1.0, "RetryAttemptsExhausted"))
    (record,) = queue.records
    # The function returned: functionError is null, and the key is there (reference 4.1).
    first, last = (o.sequence_number for o in esm.poller.outcomes[::2])
    assert record == {
        "requestContext": {
            "requestId": esm.history[-1].request_id,
            "functionArn": esm.function.arn,
            "condition": "RetryAttemptsExhausted",
            "approximateInvokeCount": 2,
        },
        "responseContext": {
            "statusCode": 200,
            "executedVersion": "$LATEST",
            "functionError": None,
        },
        "version": "1.0",
        "timestamp": "2023-11-14T22:13:21.000Z",
        "KinesisBatchInfo": {
            "shardId": stream.shard_ids[0],
            "startSequenceNumber": first,
            "endSequenceNumber": last,
            "approximateArrivalOfFirstRecord": "2023-11-14T22:13:20.000Z",
            "approximateArrivalOfLastRecord": "2023-11-14T22:13:20.000Z",
            "batchSize": 3,
            "streamArn": stream.arn,
        },
    }


def test_unhandled_exception_with_report_batch_item_failures_is_a_complete_failure() -> None:
    log: Log = []
    sched, stream, esm = make(
        log, function_response_types=["ReportBatchItemFailures"], maximum_retry_attempts=0
    )
    stream.put_record("a", "k")
    stream.put_record("bad", "k")
    sched.run_until_idle()
    assert log == [(0.0, ["a", "bad"])]
    assert fates(esm) == dict.fromkeys(("a", "bad"), ("discarded", 0.0, "RetryAttemptsExhausted"))


def reporting(failed: dict[str, int]) -> Any:
    """Report each named record as failed the first ``failed[name]`` times it is seen."""

    def respond(event: Any, got: list[str]) -> Any:
        out = []
        for record, name in zip(event["Records"], got, strict=True):
            if failed.get(name, 0) > 0:
                failed[name] -= 1
                out.append({"itemIdentifier": record["kinesis"]["sequenceNumber"]})
        return {"batchItemFailures": out}

    return respond


def test_checkpoint_before_the_lowest_reported_sequence_number() -> None:
    log: Log = []
    sched, stream, esm = make(
        log,
        function_response_types=["ReportBatchItemFailures"],
        respond=reporting({"d": 1, "b": 1}),
    )
    for name in "abcde":
        stream.put_record(name, "k")
    sched.run_until_idle()
    assert log == [(0.0, ["a", "b", "c", "d", "e"]), (1.0, ["b", "c", "d", "e"])]
    assert fates(esm) == {
        "a": ("processed", 0.0, None),
        **dict.fromkeys("bcde", ("processed", 1.0, None)),
    }


def test_report_batch_item_failures_is_ignored_unless_turned_on() -> None:
    log: Log = []
    sched, stream, _ = make(log, respond=reporting({"b": 1}))
    for name in "abc":
        stream.put_record(name, "k")
    sched.run_until_idle()
    assert log == [(0.0, ["a", "b", "c"])]


def test_partial_failure_retries_consume_the_quota_without_bisect() -> None:
    log: Log = []
    sched, stream, esm = make(
        log,
        function_response_types=["ReportBatchItemFailures"],
        maximum_retry_attempts=0,
        respond=reporting({"b": 5}),
    )
    for name in "abc":
        stream.put_record(name, "k")
    sched.run_until_idle()
    assert log == [(0.0, ["a", "b", "c"])]
    assert fates(esm) == {
        "a": ("processed", 0.0, None),
        "b": ("discarded", 0.0, "RetryAttemptsExhausted"),
        "c": ("discarded", 0.0, "RetryAttemptsExhausted"),
    }


def test_bisect_with_partial_failure_splits_at_the_reported_record() -> None:
    log: Log = []
    sched, stream, esm = make(
        log,
        function_response_types=["ReportBatchItemFailures"],
        bisect_batch_on_function_error=True,
        maximum_retry_attempts=0,
        respond=reporting({"b": 1}),
    )
    for name in "abc":
        stream.put_record(name, "k")
    sched.run_until_idle()
    assert log == [(0.0, ["a", "b", "c"]), (1.0, ["b", "c"])]
    assert {fate for fate, _, _ in fates(esm).values()} == {"processed"}


def test_bisect_with_the_first_record_reported_halves_the_batch() -> None:
    log: Log = []
    sched, stream, _ = make(
        log,
        function_response_types=["ReportBatchItemFailures"],
        bisect_batch_on_function_error=True,
        maximum_retry_attempts=0,
        respond=reporting({"a": 1}),
    )
    for name in "abcd":
        stream.put_record(name, "k")
    sched.run_until_idle()
    assert log == [(0.0, ["a", "b", "c", "d"]), (1.0, ["a", "b"]), (1.0, ["c", "d"])]


# -- on-failure destinations -----------------------------------------------------------------


def test_kinesis_on_failure_record_key_for_key() -> None:
    topic = Topic()
    sched, stream, esm = setup(
        lambda e, c: 1 / 0, maximum_retry_attempts=0, on_failure=topic, batch_size=10
    )
    sched.run(until=0.5)
    first = stream.put_record("a", "k")["SequenceNumber"]
    sched.run(until=0.75)
    last = stream.put_record("b", "k")["SequenceNumber"]
    sched.run_until_idle()
    (record,) = topic.records
    assert record == {
        "requestContext": {
            "requestId": esm.history[0].request_id,
            "functionArn": "arn:aws:lambda:us-east-1:123456789012:function:consumer",
            "condition": "RetryAttemptsExhausted",
            "approximateInvokeCount": 1,
        },
        "responseContext": {
            "statusCode": 200,
            "executedVersion": "$LATEST",
            "functionError": "Unhandled",
        },
        "version": "1.0",
        "timestamp": "2023-11-14T22:13:21.000Z",
        "KinesisBatchInfo": {
            "shardId": "shardId-000000000000",
            "startSequenceNumber": first,
            "endSequenceNumber": last,
            "approximateArrivalOfFirstRecord": "2023-11-14T22:13:20.500Z",
            "approximateArrivalOfLastRecord": "2023-11-14T22:13:20.750Z",
            "batchSize": 2,
            "streamArn": "arn:aws:kinesis:us-east-1:123456789012:stream/s",
        },
    }
    assert list(record) == [
        "requestContext", "responseContext", "version", "timestamp", "KinesisBatchInfo",
    ]  # fmt: skip
    assert esm.poller.failure_records == [record]


def test_s3_on_failure_record_carries_the_batch_as_payload() -> None:
    bucket = Bucket()
    seen: list[Any] = []

    def handler(event: Any, context: Any) -> None:
        seen.append(event)
        raise ValueError("no")

    sched, stream, esm = setup(handler, maximum_retry_attempts=1, on_failure=bucket)
    stream.put_record("a", "k")
    sched.run_until_idle()
    ((key, body),) = bucket.objects.items()
    record = json.loads(body)
    assert list(record) == [
        "requestContext", "responseContext", "version", "timestamp", "KinesisBatchInfo", "payload",
    ]  # fmt: skip
    assert record["payload"] == seen[-1]
    assert record["requestContext"]["approximateInvokeCount"] == 2
    assert key.startswith(f"aws/lambda/{esm.uuid}/shardId-000000000000/2023/11/14/")
    assert key.split("/")[-1].startswith("2023-11-14T22.13.21-")


def test_s3_payload_for_records_never_sent_is_their_batch_event() -> None:
    bucket = Bucket()
    sched, stream, _ = setup(
        lambda e, c: None,
        maximum_record_age=60,
        retry_delay=100.0,
        on_failure=bucket,
        function={"reserved_concurrency": 0},
    )
    stream.put_record("a", "k")
    sched.run_until_idle()
    (record,) = bucket.records
    assert datas(record["payload"]) == ["a"]


def test_s3_payload_of_records_too_old_mid_batch_holds_only_those_records() -> None:
    bucket = Bucket()
    seen: list[Any] = []

    def handler(event: Any, context: Any) -> None:
        seen.append(datas(event))
        raise ValueError("no")

    sched, stream, _ = setup(
        handler,
        maximum_record_age=60,
        batch_size=10,
        maximum_batching_window=40,
        retry_delay=10.0,
        on_failure=bucket,
    )
    stream.put_record("a", "k")
    sched.run_for(30.0)
    stream.put_record("b", "k")
    sched.run_until_idle()
    # "a" (put at 0) is too old at 70 s; "b" (put at 30) at 100 s.
    assert seen == [["a", "b"]] * 3 + [["b"]] * 3
    first, second = bucket.records
    for record, data in ((first, "a"), (second, "b")):
        assert record["requestContext"]["condition"] == "RecordAgeExceeded"
        assert record["KinesisBatchInfo"]["batchSize"] == 1
        assert datas(record["payload"]) == [data]
        (item,) = record["payload"]["Records"]
        assert (
            item["kinesis"]["sequenceNumber"] == record["KinesisBatchInfo"]["startSequenceNumber"]
        )


def test_without_a_destination_the_failure_record_is_still_kept() -> None:
    sched, stream, esm = setup(lambda e, c: 1 / 0, maximum_retry_attempts=0)
    stream.put_record("a", "k")
    sched.run_until_idle()
    (record,) = esm.poller.failure_records
    assert record["requestContext"]["condition"] == "RetryAttemptsExhausted"


# -- tumbling windows ------------------------------------------------------------------------


def counting(calls: list[dict[str, Any]], holder: list[Scheduler]) -> Any:
    """A window handler counting records in ``state``; ``holder[0]`` is the scheduler."""

    def handler(event: Any, context: Any) -> Any:
        calls.append(
            {
                "at": holder[0].now,
                "records": datas(event),
                "state": event["state"],
                "window": event["window"],
                "final": event["isFinalInvokeForWindow"],
                "early": event["isWindowTerminatedEarly"],
            }
        )
        count = event["state"].get("count", 0) + len(event["Records"])
        return {"state": {"count": count}, "batchItemFailures": []}

    return handler


def test_tumbling_window_carries_state_and_ends_with_a_final_invoke() -> None:
    calls: list[dict[str, Any]] = []
    holder: list[Scheduler] = []
    sched, stream, esm = setup(counting(calls, holder), tumbling_window=60)
    holder.append(sched)
    stream.put_record("a", "k")
    stream.put_record("b", "k")
    sched.run(until=10.0)
    stream.put_record("c", "k")
    sched.run(until=50.0)
    stream.put_record("d", "k")
    sched.run_until_idle()
    first = {"start": "2023-11-14T22:13:00Z", "end": "2023-11-14T22:14:00Z"}
    second = {"start": "2023-11-14T22:14:00Z", "end": "2023-11-14T22:15:00Z"}
    assert calls == [
        {"at": 0.0, "records": ["a", "b"], "state": {}, "window": first, "final": False,
         "early": False},
        {"at": 10.0, "records": ["c"], "state": {"count": 2}, "window": first, "final": False,
         "early": False},
        {"at": 40.0, "records": [], "state": {"count": 3}, "window": first, "final": True,
         "early": False},
        {"at": 50.0, "records": ["d"], "state": {}, "window": second, "final": False,
         "early": False},
        {"at": 100.0, "records": [], "state": {"count": 1}, "window": second, "final": True,
         "early": False},
    ]  # fmt: skip
    assert {fate for fate, _, _ in fates(esm).values()} == {"processed"}


def test_tumbling_window_event_shape() -> None:
    seen: list[Any] = []

    def handler(event: Any, context: Any) -> Any:
        seen.append(event)
        return {"state": {}}

    sched, stream, _ = setup(handler, tumbling_window=120)
    stream.put_record("a", "1")
    sched.run(until=1.0)
    assert list(seen[0]) == [
        "Records", "window", "state", "shardId", "eventSourceARN", "isFinalInvokeForWindow",
        "isWindowTerminatedEarly",
    ]  # fmt: skip
    assert seen[0]["shardId"] == "shardId-000000000000"
    assert seen[0]["eventSourceARN"] == stream.arn


def test_records_read_after_their_window_closed_go_in_its_final_invoke() -> None:
    calls: list[dict[str, Any]] = []
    holder: list[Scheduler] = []
    sched, stream, _ = setup(
        counting(calls, holder), tumbling_window=60, batch_size=1,
        duration=50.0, function={"timeout": 60},
    )  # fmt: skip
    holder.append(sched)
    stream.put_record("a", "k")
    stream.put_record("b", "k")
    sched.run_until_idle()
    assert [(c["at"], c["records"], c["final"], c["state"]) for c in calls] == [
        (0.0, ["a"], False, {}),
        (50.0, ["b"], True, {"count": 1}),
    ]


def test_a_throttled_batch_keeps_its_window_flags() -> None:
    calls: list[dict[str, Any]] = []
    holder: list[Scheduler] = []
    sched, stream, esm = setup(
        counting(calls, holder),
        tumbling_window=60,
        function={"reserved_concurrency": 0},
    )
    holder.append(sched)
    stream.put_record("a", "k")
    sched.schedule(44.5, esm.function.set_reserved_concurrency, None)
    sched.run_until_idle()
    assert [(c["at"], c["records"], c["final"]) for c in calls] == [
        (45.0, ["a"], False),
        (45.0, [], True),
    ]


def test_a_response_without_state_is_a_failure() -> None:
    log: Log = []
    sched, stream, esm = make(
        log, tumbling_window=60, maximum_retry_attempts=1, respond=lambda e, g: {"count": 1}
    )
    stream.put_record("a", "k")
    sched.run_until_idle()
    # The final invoke of the window fails the same way, and is retried once too.
    assert log == [(0.0, ["a"]), (1.0, ["a"]), (40.0, []), (41.0, [])]
    assert fates(esm)["a"] == ("discarded", 1.0, "RetryAttemptsExhausted")


def test_state_over_1_mb_terminates_the_window_early() -> None:
    calls: list[dict[str, Any]] = []
    holder: list[Scheduler] = []

    def handler(event: Any, context: Any) -> Any:
        calls.append(
            (
                holder[0].now,
                datas(event),
                event["isFinalInvokeForWindow"],
                event["isWindowTerminatedEarly"],
                len(json.dumps(event["state"])) > 1_048_576,
            )
        )
        if event["isFinalInvokeForWindow"]:
            return {"state": {}}
        return {"state": {"blob": "x" * 1_048_576}}

    sched, stream, _ = setup(handler, tumbling_window=60)
    holder.append(sched)
    stream.put_record("a", "k")
    sched.run(until=5.0)
    stream.put_record("b", "k")
    sched.run_until_idle()
    assert calls == [
        (0.0, ["a"], False, False, False),
        (0.0, [], True, True, True),
        (5.0, ["b"], False, False, False),
        (5.0, [], True, True, True),
    ]


# -- IteratorAge, filters, starting positions, enable/disable, parallelization --------------


def test_iterator_age_is_the_age_of_the_last_record_at_hand_over() -> None:
    log: Log = []
    sched, stream, esm = make(log, maximum_retry_attempts=2, batch_size=2)
    stream.put_record("bad", "k")
    sched.run(until=0.5)
    stream.put_record("x", "k")
    sched.run_until_idle()
    assert esm.poller.iterator_ages == [
        IteratorAgeSample(0.0, "shardId-000000000000", 0.0),
        IteratorAgeSample(1.0, "shardId-000000000000", 1000.0),
        IteratorAgeSample(2.0, "shardId-000000000000", 2000.0),
        IteratorAgeSample(2.0, "shardId-000000000000", 1500.0),
    ]


def test_filter_criteria_skip_records_and_drop_non_json_data() -> None:
    log: Log = []
    sched, stream, esm = make(
        log,
        filter_criteria={"Filters": [{"Pattern": '{"data": {"kind": ["order"]}}'}]},
    )
    stream.put_record(json.dumps({"kind": "order", "n": 1}), "k")
    stream.put_record(json.dumps({"kind": "refund"}), "k")
    stream.put_record("plain text", "k")
    stream.put_record(json.dumps({"kind": "order", "n": 2}), "k")
    sched.run_until_idle()
    assert [[json.loads(d)["n"] for d in got] for _, got in log] == [[1, 2]]
    assert [f for f, _, _ in fates(esm).values()] == [
        "filtered", "filtered", "processed", "processed",
    ]  # fmt: skip


def test_only_filtered_records_advance_the_iterator_without_an_invoke() -> None:
    log: Log = []
    sched, stream, esm = make(
        log, filter_criteria={"Filters": [{"Pattern": '{"partitionKey": ["keep"]}'}]}
    )
    stream.put_record("a", "drop")
    sched.run_until_idle()
    assert log == []
    assert esm.poller.pending == 0
    assert [o.fate for o in esm.poller.outcomes] == [RecordFate.FILTERED]


def test_latest_reads_only_records_put_after_the_mapping_starts() -> None:
    sched = Scheduler()
    stream = KinesisStream("s", scheduler=sched)
    stream.put_record("old", "k")
    seen: list[str] = []
    fn = Function("f", lambda e, c: seen.extend(datas(e)))
    stream.map_to(fn, StreamMappingConfig(starting_position="LATEST"))
    stream.put_record("new", "k")
    sched.run_until_idle()
    assert seen == ["new"]


def test_at_timestamp_reads_from_the_first_record_at_or_after_the_timestamp() -> None:
    sched = Scheduler(VirtualClock(epoch_origin=EPOCH))
    stream = KinesisStream("s", scheduler=sched)
    for n in range(4):
        sched.run(until=float(n))
        stream.put_record(str(n), "k")
    seen: list[str] = []
    fn = Function("f", lambda e, c: seen.extend(datas(e)))
    stream.map_to(
        fn,
        StreamMappingConfig(
            starting_position="AT_TIMESTAMP", starting_position_timestamp=EPOCH + 2
        ),
    )
    sched.run_until_idle()
    assert seen == ["2", "3"]


def test_disabled_mapping_resumes_from_its_checkpoint() -> None:
    log: Log = []
    sched, stream, esm = make(log, enabled=False)
    assert esm.state == "Disabled"
    stream.put_record("a", "k")
    sched.run(until=10.0)
    assert log == []
    esm.enable()
    sched.run(until=10.0)
    esm.disable()
    stream.put_record("b", "k")
    sched.run(until=20.0)
    esm.enable()
    sched.run_until_idle()
    assert log == [(10.0, ["a"]), (20.0, ["b"])]


def test_parallelization_factor_runs_batches_of_a_shard_concurrently_per_key() -> None:
    log: Log = []
    sched, stream, esm = make(log, parallelization_factor=2, duration=1.0, batch_size=10)
    keys: dict[int, str] = {}
    n = 0
    while len(keys) < 2:
        keys.setdefault(md5_hash_key(f"key{n}") % 2, f"key{n}")
        n += 1
    for i in range(3):
        stream.put_record(f"{keys[0]}-{i}", keys[0])
        stream.put_record(f"{keys[1]}-{i}", keys[1])
    sched.run_until_idle()
    assert sorted(log) == sorted(
        [
            (0.0, [f"{keys[0]}-{i}" for i in range(3)]),
            (0.0, [f"{keys[1]}-{i}" for i in range(3)]),
        ]
    )
    assert {t.lane for t in esm.history} == {
        ("shardId-000000000000", 0),
        ("shardId-000000000000", 1),
    }


def test_parallel_lanes_follow_the_partition_key_not_the_explicit_hash_key() -> None:
    log: Log = []
    failures = {"first": 2}

    def handler(event: Any, context: Any) -> None:
        got = datas(event)
        log.append((sched.now, got))
        if "first" in got and failures["first"] > 0:
            failures["first"] -= 1
            raise ValueError("not yet")

    sched, stream, _ = setup(handler, parallelization_factor=2)
    stream.put_record("first", "user-1", explicit_hash_key=10)
    stream.put_record("second", "user-1", explicit_hash_key=11)  # 10 and 11 differ mod 2
    sched.run_until_idle()
    # One partition key, one lane: "second" waits behind "first" although its hash key differs.
    assert log == [
        (0.0, ["first", "second"]),
        (1.0, ["first", "second"]),
        (2.0, ["first", "second"]),
    ]


def test_max_concurrency_caps_batches_in_flight() -> None:
    log: Log = []
    sched, stream, _ = make(log, shards=4, duration=1.0, mapping={"max_concurrency": 2})
    for i in range(40):
        stream.put_record(str(i), f"key{i}")
    sched.run_until_idle()
    times = [t for t, _ in log]
    assert times == [0.0, 0.0, 1.0, 1.0]


def test_max_concurrency_takes_the_shards_in_turn() -> None:
    shards: list[tuple[float, str]] = []
    holder: list[Scheduler] = []

    def handler(event: Any, context: Any) -> None:
        shards.append((holder[0].now, event["Records"][0]["eventID"].split(":")[0][-1]))

    sched, stream, _ = setup(
        handler, shards=3, duration=1.0, batch_size=2, mapping={"max_concurrency": 1}
    )
    holder.append(sched)
    for shard in range(3):
        for _ in range(4):
            stream.put_record("x", "k", explicit_hash_key=shard * (2**128 // 3))
    sched.run_until_idle()
    # Two batches per shard; one slot; each shard gets its turn instead of shard 0 draining first.
    assert shards == [(float(t), "012"[t % 3]) for t in range(6)]


def test_poller_repr_and_pending() -> None:
    _, stream, esm = setup(lambda e, c: None, enabled=False)
    stream.put_record("a", "k")
    assert esm.poller.pending == 1
    assert repr(esm.poller).startswith("<StreamPoller arn:aws:kinesis:")
    assert esm.poller.fate("nope") is None
    with pytest.raises(RuntimeError, match="already bound"):
        esm.poller.bind(esm.handle)


def test_records_of_a_failing_batch_that_expire_leave_the_rest_to_be_read_again() -> None:
    log: Log = []
    sched, stream, esm = make(log, enabled=False, retry_delay=7200.0)
    stream.put_record("bad", "k")
    sched.run(until=7200.0)
    stream.put_record("also-failing", "k")
    esm.enable()

    def fail_all(event: Any, context: Any) -> None:
        log.append((sched.now, datas(event)))
        raise ValueError("no")

    esm.function.handler = esm.function._resolved = fail_all
    sched.run_until_idle()
    assert log[0] == (7200.0, ["bad", "also-failing"])
    assert log[-2] == (79200.0, ["bad", "also-failing"])
    assert log[-1] == (86400.0, ["also-failing"])
    assert fates(esm) == {
        "bad": ("expired", 86400.0, None),
        "also-failing": ("expired", 93600.0, None),
    }


def test_record_age_is_checked_per_record_before_each_retry() -> None:
    log: Log = []
    queue = QueueTarget()
    sched, stream, esm = make(
        log, enabled=False, maximum_record_age=60, retry_delay=30.0, on_failure=queue
    )
    stream.put_record("bad", "k")
    sched.run(until=50.0)
    stream.put_record("bad-too", "k")
    esm.enable()

    def fail_all(event: Any, context: Any) -> None:
        log.append((sched.now, datas(event)))
        raise ValueError("no")

    esm.function.handler = esm.function._resolved = fail_all
    sched.run_until_idle()
    assert log == [
        (50.0, ["bad", "bad-too"]),
        (80.0, ["bad-too"]),
        (110.0, ["bad-too"]),
    ]
    assert fates(esm) == {
        "bad": ("discarded", 80.0, "RecordAgeExceeded"),
        "bad-too": ("discarded", 140.0, "RecordAgeExceeded"),
    }
    assert [r["requestContext"]["approximateInvokeCount"] for r in queue.records] == [1, 3]
    assert [r["KinesisBatchInfo"]["batchSize"] for r in queue.records] == [1, 1]


def test_fate_looks_a_record_up_by_sequence_number() -> None:
    sched, stream, esm = setup(lambda e, c: None)
    put = stream.put_record("a", "k")
    assert esm.poller.fate(put["SequenceNumber"]) is None
    sched.run_until_idle()
    found = esm.poller.fate(put["SequenceNumber"])
    assert found is not None
    assert found.fate is RecordFate.PROCESSED
    assert esm.poller.fate(put["SequenceNumber"], shard_id=put["ShardId"]) == found
    assert esm.poller.fate(put["SequenceNumber"], shard_id="shardId-000000000009") is None


def test_a_window_closing_between_polls_gets_its_final_invoke_at_the_next_poll() -> None:
    sched = Scheduler(VirtualClock(epoch_origin=EPOCH + 0.3))
    stream = KinesisStream("s", scheduler=sched)
    calls: list[tuple[float, int, bool]] = []

    def handler(event: Any, context: Any) -> Any:
        calls.append((sched.now, len(event["Records"]), event["isFinalInvokeForWindow"]))
        return {"state": {}}

    config = StreamMappingConfig(starting_position="TRIM_HORIZON", tumbling_window=60)
    stream.map_to(Function("f", handler), config, seed=1)
    stream.put_record("a", "k")
    sched.run(until=38.5)
    stream.put_record("b", "k")
    # The window closes at 39.7 s; the lane last polled at 39.0 s and polls again at 40.0 s.
    steps = sched.run_until_idle(max_steps=1000)
    assert calls == [(0.0, 1, False), (39.0, 1, False), (40.0, 0, True)]
    assert steps < 20


def test_filter_patterns_are_checked_against_the_stream_source_at_creation() -> None:
    from invokemodels.exceptions import InvalidParameterValueError

    stream = KinesisStream("s")
    bad = StreamMappingConfig(
        starting_position="LATEST", filter_criteria={"Filters": [{"Pattern": '{"data": ["x"]}'}]}
    )
    with pytest.raises(InvalidParameterValueError, match="stream data key 'data'"):
        stream.map_to(Function("f", lambda e, c: None), bad)
    good = StreamMappingConfig(
        starting_position="LATEST",
        filter_criteria={"Filters": [{"Pattern": '{"partitionKey": ["k"]}'}]},
    )
    esm = stream.map_to(Function("f", lambda e, c: None), good)
    assert esm.poller.config.filter_criteria.event_source == "aws:kinesis"
    assert esm.poller.config.filter_criteria.patterns == ('{"partitionKey": ["k"]}',)


def test_filtered_records_open_no_tumbling_window() -> None:
    log: Log = []
    sched, stream, esm = make(
        log,
        tumbling_window=60,
        filter_criteria={"Filters": [{"Pattern": '{"partitionKey": ["keep"]}'}]},
        respond=lambda event, got: {"state": {}},
    )
    stream.put_record("dropped", "other")
    sched.run(until=100.0)
    stream.put_record("kept", "keep")
    sched.run_until_idle()
    assert log == [(100.0, ["kept"]), (160.0, [])]
    assert fates(esm) == {"dropped": ("filtered", 0.0, None), "kept": ("processed", 100.0, None)}


def test_a_stream_mapping_runs_on_the_real_clock_too() -> None:
    from invokemodels import SystemClock

    sched = Scheduler(SystemClock())
    stream = KinesisStream("s", scheduler=sched)
    seen: list[int] = []
    fn = Function("f", lambda e, c: seen.append(len(e["Records"])))
    config = StreamMappingConfig(starting_position="TRIM_HORIZON")
    esm = stream.map_to(fn, config, polling_interval=0.02)
    stream.put_record(b"a", "k")
    stream.put_record(b"b", "k")
    sched.run_until_idle()
    assert seen == [2]
    assert [o.fate for o in esm.poller.outcomes] == [RecordFate.PROCESSED] * 2
    assert 0.0 < sched.now < 5.0
