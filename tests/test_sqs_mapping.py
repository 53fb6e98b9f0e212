"""The SQS event source mapping: validation, records, failures, partial batches, FIFO, scaling."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from invokemodels import (
    EventSourceMapping,
    FilterCriteria,
    Function,
    Outcome,
    Queue,
    RedrivePolicy,
    Scheduler,
    SQSMappingConfig,
)
from invokemodels.aws import MessageState
from invokemodels.core import SYNC_PAYLOAD_LIMIT, encode_payload
from invokemodels.exceptions import InvalidParameterValueError
from invokemodels.mapping import SQSPoller, SQSScaling, batch_item_failures, sqs_event_record

EPOCH_MS = 1_700_000_000_000


def queue(name: str = "q", sched: Scheduler | None = None, **kwargs: Any) -> Queue:
    return Queue(name, scheduler=Scheduler() if sched is None else sched, seed=11, **kwargs)


def with_dlq(name: str, sched: Scheduler, max_receive_count: int, **kwargs: Any) -> Queue:
    suffix = ".fifo" if name.endswith(".fifo") else ""
    dlq = Queue("dlq" + suffix, scheduler=sched, seed=12)
    policy = RedrivePolicy(dead_letter_target=dlq, max_receive_count=max_receive_count)
    return Queue(name, scheduler=sched, seed=11, redrive_policy=policy, **kwargs)


# -- configuration ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "parameter", "text"),
    [
        ({"batch_size": 0}, "BatchSize", "between 1 and 10000"),
        ({"batch_size": 10_001}, "BatchSize", "between 1 and 10000"),
        ({"maximum_batching_window": 301}, "MaximumBatchingWindowInSeconds", "between 0 and 300"),
        ({"batch_size": 11}, "MaximumBatchingWindowInSeconds", "at least 1 when BatchSize (11)"),
        ({"maximum_concurrency": 1}, "ScalingConfig.MaximumConcurrency", "between 2 and 1000"),
        ({"maximum_concurrency": 1001}, "ScalingConfig.MaximumConcurrency", "between 2 and 1000"),
        ({"function_response_types": ["Bisect"]}, "FunctionResponseTypes", "ReportBatchItem"),
        (
            {"destination_config": {"OnFailure": {"Destination": "arn:aws:sqs:x"}}},
            "DestinationConfig",
            "Unsupported DestinationConfig parameter for given event source mapping type.",
        ),
        (
            {"filter_criteria": {"Filters": [{"Pattern": "not json"}]}},
            "FilterCriteria.Filters[0].Pattern",
            "",
        ),
        ({"filter_criteria": "body"}, "FilterCriteria", "Filters"),
    ],
)
def test_config_validation(kwargs: Any, parameter: str, text: str) -> None:
    with pytest.raises(InvalidParameterValueError) as caught:
        SQSMappingConfig(**kwargs)
    assert caught.value.parameter == parameter
    assert text in str(caught.value)


def test_config_defaults_and_accepted_values() -> None:
    config = SQSMappingConfig()
    assert (config.batch_size, config.maximum_batching_window) == (10, 0)
    assert config.function_response_types == ()
    assert config.maximum_concurrency is None
    assert config.scaling == SQSScaling()
    assert (SQSScaling().initial_concurrency, SQSScaling().ramp_per_minute) == (5, 300)
    assert SQSScaling().maximum_concurrent_batches == 1000
    assert SQSMappingConfig(batch_size=10_000, maximum_batching_window=1).batch_size == 10_000
    rbif = SQSMappingConfig(function_response_types="ReportBatchItemFailures")
    assert rbif.report_batch_item_failures
    criteria = SQSMappingConfig(filter_criteria={"Filters": [{"Pattern": '{"body": {"a": [1]}}'}]})
    assert isinstance(criteria.filter_criteria, FilterCriteria)


def test_config_from_and_to_the_api_shape() -> None:
    parameters = {
        "EventSourceArn": "arn:aws:sqs:us-east-1:123456789012:q",
        "FunctionName": "f",
        "BatchSize": 50,
        "MaximumBatchingWindowInSeconds": 2,
        "FunctionResponseTypes": ["ReportBatchItemFailures"],
        "FilterCriteria": {"Filters": [{"Pattern": '{"body": {"a": [1]}}'}]},
        "ScalingConfig": {"MaximumConcurrency": 7},
        "Enabled": False,
    }
    config = SQSMappingConfig.from_dict(parameters)
    assert (config.batch_size, config.maximum_batching_window) == (50, 2)
    assert config.report_batch_item_failures
    assert (config.maximum_concurrency, config.enabled) == (7, False)
    assert config.to_dict() == {
        "BatchSize": 50,
        "MaximumBatchingWindowInSeconds": 2,
        "FunctionResponseTypes": ["ReportBatchItemFailures"],
        "FilterCriteria": {"Filters": [{"Pattern": '{"body": {"a": [1]}}'}]},
        "ScalingConfig": {"MaximumConcurrency": 7},
    }
    assert SQSMappingConfig.from_dict({}).to_dict() == {
        "BatchSize": 10,
        "MaximumBatchingWindowInSeconds": 0,
        "FunctionResponseTypes": [],
    }


@pytest.mark.parametrize(
    ("parameters", "parameter", "text"),
    [
        ({"StartingPosition": "LATEST"}, "StartingPosition", "not a parameter of an SQS"),
        ({"BisectBatchOnFunctionError": True}, "BisectBatchOnFunctionError", "supported: "),
        ({"ScalingConfig": {"MaximumConcurrency": 1}}, "ScalingConfig.MaximumConcurrency", "2"),
        ({"ScalingConfig": {"Max": 5}}, "ScalingConfig", "MaximumConcurrency"),
        ({"DestinationConfig": {"OnFailure": {}}}, "DestinationConfig", "Unsupported"),
    ],
)
def test_config_from_dict_rejects(parameters: Any, parameter: str, text: str) -> None:
    with pytest.raises(InvalidParameterValueError) as caught:
        SQSMappingConfig.from_dict(parameters)
    assert caught.value.parameter == parameter
    assert text in str(caught.value)


@pytest.mark.parametrize(
    ("name", "kwargs", "parameter", "text"),
    [
        ("f.fifo", {"batch_size": 11, "maximum_batching_window": 1}, "BatchSize", "1 and 10"),
        ("f.fifo", {"maximum_batching_window": 1}, "MaximumBatchingWindowInSeconds", "FIFO"),
        ("std", {"one_group_per_batch": True}, "one_group_per_batch", "FIFO queues only"),
    ],
)
def test_queue_specific_validation(name: str, kwargs: Any, parameter: str, text: str) -> None:
    q = queue(name)
    fn = Function("f", lambda event, context: None)
    with pytest.raises(InvalidParameterValueError) as caught:
        q.map_to(fn, SQSMappingConfig(**kwargs))
    assert caught.value.parameter == parameter
    assert text in str(caught.value)


def test_the_mapping_runs_on_the_queues_scheduler() -> None:
    q = queue()
    with pytest.raises(InvalidParameterValueError, match="scheduler"):
        q.map_to(Function("f", lambda e, c: None), scheduler=Scheduler())
    mapping = q.map_to(Function("f", lambda e, c: None), scheduler=q.scheduler, start=False)
    assert isinstance(mapping, EventSourceMapping)
    assert not mapping.enabled
    assert repr(mapping.poller).startswith("<SQSPoller q concurrency=5 active=0")


# -- event records ---------------------------------------------------------------------------


def capture(q: Queue, config: SQSMappingConfig | None = None, **fn: Any) -> list[Any]:
    events: list[Any] = []

    def handler(event: Any, context: Any) -> None:
        events.append(event)

    q.map_to(Function("capture", handler, **fn), config, seed=1)
    return events


def test_standard_record_shape_key_by_key() -> None:
    sched = Scheduler()
    q = queue("my-queue", sched, region="us-east-2")
    events = capture(q)
    sched.run_for(1.5)
    sent = q.send_message(
        "Test message.",
        {
            "s": {"DataType": "String", "StringValue": "v"},
            "b": {"DataType": "Binary", "BinaryValue": b"\x01\x02"},
        },
    )
    sched.run_until_idle()
    [event] = events
    assert list(event) == ["Records"]
    [record] = event["Records"]
    assert list(record) == [
        "messageId", "receiptHandle", "body", "attributes", "messageAttributes",
        "md5OfMessageAttributes", "md5OfBody", "eventSource", "eventSourceARN", "awsRegion",
    ]  # fmt: skip
    assert record["messageId"] == sent.message_id
    assert record["receiptHandle"].startswith("AQEB")
    assert record["body"] == "Test message."
    assert record["attributes"] == {
        "ApproximateReceiveCount": "1",
        "SentTimestamp": str(EPOCH_MS + 1500),
        "SenderId": "AIDAIENQZJOLO23YVJ4VO",
        "ApproximateFirstReceiveTimestamp": str(EPOCH_MS + 1500),
    }
    assert record["messageAttributes"] == {
        "s": {
            "stringValue": "v", "stringListValues": [], "binaryListValues": [],
            "dataType": "String",
        },
        "b": {
            "binaryValue": "AQI=", "stringListValues": [], "binaryListValues": [],
            "dataType": "Binary",
        },
    }  # fmt: skip
    # What SendMessage returned (reference 5.1, recorded shape).
    assert sent.md5_of_message_attributes is not None
    assert record["md5OfMessageAttributes"] == sent.md5_of_message_attributes
    assert record["md5OfBody"] == "e4e68fb7bd0e697a0ae8f1bb342846b3"
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == "arn:aws:sqs:us-east-2:123456789012:my-queue"
    assert record["awsRegion"] == "us-east-2"
    assert q.state_of(sent.message_id) is MessageState.DELETED


def test_record_of_a_message_without_attributes_key_by_key() -> None:
    sched = Scheduler()
    q = queue("my-queue", sched, region="us-east-2")
    events = capture(q)
    sent = q.send_message("Test message.")
    sched.run_until_idle()
    [record] = events[0]["Records"]
    assert record == {
        "messageId": sent.message_id,
        "receiptHandle": record["receiptHandle"],
        "body": "Test message.",
        "attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": str(EPOCH_MS),
            "SenderId": "AIDAIENQZJOLO23YVJ4VO",
            "ApproximateFirstReceiveTimestamp": str(EPOCH_MS),
        },
        "messageAttributes": {},
        "md5OfMessageAttributes": None,
        "md5OfBody": "e4e68fb7bd0e697a0ae8f1bb342846b3",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-2:123456789012:my-queue",
        "awsRegion": "us-east-2",
    }
    assert record["receiptHandle"].startswith("AQEB")


def test_fifo_record_shape_key_by_key() -> None:
    sched = Scheduler()
    q = queue("fifo.fifo", sched)
    events = capture(q)
    sent = q.send_message("Test message.", message_group_id="1", message_deduplication_id="1")
    sched.run_until_idle()
    [record] = events[0]["Records"]
    assert record["attributes"] == {
        "ApproximateReceiveCount": "1",
        "SentTimestamp": str(EPOCH_MS),
        "SequenceNumber": sent.sequence_number,
        "MessageGroupId": "1",
        "SenderId": "AIDAIENQZJOLO23YVJ4VO",
        "MessageDeduplicationId": "1",
        "ApproximateFirstReceiveTimestamp": str(EPOCH_MS),
    }
    assert all(isinstance(value, str) for value in record["attributes"].values())
    assert record["messageAttributes"] == {}
    assert record["eventSourceARN"] == "arn:aws:sqs:us-east-1:123456789012:fifo.fifo"


# -- success, function error, redrive ---------------------------------------------------------


def test_failing_message_reappears_after_visibility_timeout_then_goes_to_dlq() -> None:
    sched = Scheduler()
    q = with_dlq("orders", sched, max_receive_count=3, visibility_timeout=30)
    log: list[tuple[float, str, str]] = []

    def handler(event: Any, context: Any) -> None:
        for record in event["Records"]:
            log.append((sched.now, record["body"], record["attributes"]["ApproximateReceiveCount"]))
            if record["body"] == "bad":
                raise ValueError("cannot process")

    mapping = q.map_to(Function("worker", handler, duration=2.0), SQSMappingConfig(batch_size=1))
    good = q.send_message("good")
    bad = q.send_message("bad")
    sched.run_until_idle()
    assert log == [
        (0.0, "good", "1"),
        (0.0, "bad", "1"),
        (30.0, "bad", "2"),
        (60.0, "bad", "3"),
    ]
    assert [(e.at, e.kind, e.message_id) for e in q.fates] == [
        (2.0, "deleted", good.message_id),
        (90.0, "moved_to_dlq", bad.message_id),
    ]
    dlq = q.redrive_policy.dead_letter_target if q.redrive_policy else None
    assert dlq is not None
    assert dlq.message_ids == [bad.message_id]
    assert [(t.started_at, t.outcome) for t in mapping.history] == [
        (0.0, Outcome.SUCCESS),
        (0.0, Outcome.FUNCTION_ERROR),
        (30.0, Outcome.FUNCTION_ERROR),
        (60.0, Outcome.FUNCTION_ERROR),
    ]
    poller = mapping.poller
    assert (poller.processed, poller.failed_batches) == (1, 3)


@settings(max_examples=25)
@given(max_receive_count=st.integers(1, 6), visibility=st.integers(1, 120))
def test_redrive_after_exactly_max_receive_count_receives(
    max_receive_count: int, visibility: int
) -> None:
    sched = Scheduler()
    q = with_dlq("src", sched, max_receive_count, visibility_timeout=visibility)
    seen: list[tuple[float, int]] = []

    def handler(event: Any, context: Any) -> None:
        seen.extend(
            (sched.now, int(record["attributes"]["ApproximateReceiveCount"]))
            for record in event["Records"]
        )
        raise RuntimeError("always")

    q.map_to(Function("f", handler), SQSMappingConfig(batch_size=1))
    sent = q.send_message("x")
    sched.run_until_idle()
    assert seen == [(float(visibility * i), i + 1) for i in range(max_receive_count)]
    fate = q.fate(sent.message_id)
    assert fate is not None
    assert (fate.kind, fate.at) == ("moved_to_dlq", float(visibility * max_receive_count))


def test_effective_visibility_with_a_batching_window() -> None:
    sched = Scheduler()
    q = queue("slow", sched, visibility_timeout=30)
    times: list[float] = []

    def handler(event: Any, context: Any) -> None:
        times.append(sched.now)
        if len(times) == 1:
            raise RuntimeError("first attempt fails")

    config = SQSMappingConfig(batch_size=10, maximum_batching_window=5)
    mapping = q.map_to(Function("f", handler, timeout=30), config)
    assert mapping.poller.effective_visibility_timeout == 65.0  # 5 + 30 + 30 (reference 4.2)
    q.send_message("m")
    sched.run_until_idle()
    # received at 0, invoked when the 5 s window closes, visible again at 0 + 65,
    # then a new window: invoked at 70.
    assert times == [5.0, 70.0]
    no_window = q.map_to(Function("g", handler, timeout=10), SQSMappingConfig(), start=False)
    assert no_window.poller.effective_visibility_timeout == 30


def test_batching_window_and_batch_size_flush() -> None:
    sched = Scheduler()
    q = queue("w", sched)
    sizes: list[tuple[float, int]] = []

    def handler(event: Any, context: Any) -> None:
        sizes.append((sched.now, len(event["Records"])))

    q.map_to(Function("f", handler), SQSMappingConfig(batch_size=20, maximum_batching_window=10))
    for t in (0, 1, 2):
        sched.run(until=float(t))
        q.send_message(f"m{t}")
    sched.run(until=30.0)
    for _ in range(25):
        q.send_message("burst")
    sched.run_until_idle()
    assert sizes == [(10.0, 3), (30.0, 20), (40.0, 5)]


def test_six_megabyte_batch_cap_counts_metadata() -> None:
    sched = Scheduler()
    q = queue("big", sched)
    batches: list[int] = []
    sizes: list[int] = []

    def handler(event: Any, context: Any) -> None:
        batches.append(len(event["Records"]))
        sizes.append(len(encode_payload(event, limit=None)))

    q.map_to(Function("f", handler), SQSMappingConfig(batch_size=100, maximum_batching_window=1))
    for _ in range(10):
        q.send_message("x" * 1_000_000)
    for _ in range(10):
        q.send_message("é" * 200_000)  # 400 KB of UTF-8, 1.2 MB once JSON-escaped
    sched.run_until_idle()
    assert batches == [6, 4 + 1, 5, 4]
    assert all(size <= SYNC_PAYLOAD_LIMIT for size in sizes)
    assert sum(batches) == 20
    assert q.count(MessageState.DELETED) == 20


# -- partial batch responses -----------------------------------------------------------------

ROWS: list[tuple[str, Any, set[int] | None]] = [
    ("null response", None, set()),
    ("empty EventResponse", {}, set()),
    ("null list", {"batchItemFailures": None}, set()),
    ("empty list", {"batchItemFailures": []}, set()),
    ("other keys only", {"status": "ok"}, set()),
    ("valid ids", {"batchItemFailures": [{"itemIdentifier": "ID1"}]}, {1}),
    ("two ids", {"batchItemFailures": [{"itemIdentifier": "ID0"}, {"itemIdentifier": "ID2"}]},
     {0, 2}),
    ("duplicate id", {"batchItemFailures": [{"itemIdentifier": "ID1"}] * 2}, {1}),
    ("empty string id", {"batchItemFailures": [{"itemIdentifier": ""}]}, None),
    ("null id", {"batchItemFailures": [{"itemIdentifier": None}]}, None),
    ("bad key name", {"batchItemFailures": [{"itemIdentifer": "ID1"}]}, None),
    ("unknown id", {"batchItemFailures": [{"itemIdentifier": "not-in-batch"}]}, None),
    ("valid and unknown", {"batchItemFailures": [{"itemIdentifier": "ID0"},
                                                 {"itemIdentifier": "nope"}]}, None),
    ("numeric id", {"batchItemFailures": [{"itemIdentifier": 1}]}, None),
    ("item not an object", {"batchItemFailures": ["ID1"]}, None),
    ("list not a list", {"batchItemFailures": "ID1"}, None),
    ("empty string response", "", set()),
    ("empty array response", [], set()),
    ("not an object (invalid JSON response)", "not json", None),
    ("a non-empty array", [{"itemIdentifier": "ID1"}], None),
    ("a JSON number", 42, None),
]  # fmt: skip


@pytest.mark.parametrize(("case", "response", "kept"), ROWS, ids=[row[0] for row in ROWS])
def test_partial_batch_response_table(case: str, response: Any, kept: set[int] | None) -> None:
    sched = Scheduler()
    q = queue("p", sched, visibility_timeout=30)
    calls: list[list[str]] = []

    def handler(event: Any, context: Any) -> Any:
        bodies = [record["body"] for record in event["Records"]]
        calls.append(bodies)
        if len(calls) > 1:
            return None
        ids = {f"ID{i}": record["messageId"] for i, record in enumerate(event["Records"])}
        text = json.dumps(response)
        for alias, real in ids.items():
            text = text.replace(f'"{alias}"', json.dumps(real))
        return json.loads(text)

    config = SQSMappingConfig(function_response_types=["ReportBatchItemFailures"])
    mapping = q.map_to(Function("f", handler), config)
    for i in range(3):
        q.send_message(f"m{i}")
    sched.run_until_idle()
    expected_again = (
        [f"m{i}" for i in range(3)] if kept is None else [f"m{i}" for i in sorted(kept)]
    )
    assert calls[0] == ["m0", "m1", "m2"]
    assert calls[1:] == ([expected_again] if expected_again else [])
    if expected_again:
        assert {t.started_at for t in mapping.history[1:]} == {30.0}
    assert q.count(MessageState.DELETED) == 3
    assert mapping.poller.partial_batches == (1 if kept else 0)
    assert mapping.poller.failed_batches == (1 if kept is None else 0)


@settings(max_examples=40)
@given(reported=st.lists(st.booleans(), min_size=1, max_size=10), fifo=st.booleans())
def test_only_reported_messages_come_back(reported: list[bool], fifo: bool) -> None:
    sched = Scheduler()
    q = queue("pr.fifo" if fifo else "pr", sched, visibility_timeout=25)
    batches: list[tuple[float, list[str]]] = []

    def handler(event: Any, context: Any) -> Any:
        records = event["Records"]
        batches.append((sched.now, [r["body"] for r in records]))
        if len(batches) > 1:
            return {"batchItemFailures": []}
        failures = [r["messageId"] for r, bad in zip(records, reported, strict=True) if bad]
        return {"batchItemFailures": [{"itemIdentifier": i} for i in failures]}

    config = SQSMappingConfig(function_response_types=["ReportBatchItemFailures"])
    q.map_to(Function("f", handler), config)
    for i in range(len(reported)):
        q.send_message(f"m{i}", message_group_id="g" if fifo else None,
                       message_deduplication_id=str(i) if fifo else None)  # fmt: skip
    sched.run_until_idle()
    again = [f"m{i}" for i, bad in enumerate(reported) if bad]
    assert batches == [(0.0, [f"m{i}" for i in range(len(reported))])] + (
        [(25.0, again)] if again else []
    )
    assert q.count(MessageState.DELETED) == len(reported)


def test_batch_item_failures_without_a_mapping() -> None:
    assert batch_item_failures({"batchItemFailures": [{"itemIdentifier": "a"}]}, ["a", "b"]) == {
        "a"
    }
    assert batch_item_failures({"batchItemFailures": [{"itemIdentifier": "c"}]}, ["a"]) is None


def test_function_error_with_report_batch_item_failures_is_a_complete_failure() -> None:
    sched = Scheduler()
    q = queue("p", sched, visibility_timeout=10)
    calls: list[int] = []

    def handler(event: Any, context: Any) -> Any:
        calls.append(len(event["Records"]))
        if len(calls) == 1:
            raise RuntimeError("whole batch")
        return {"batchItemFailures": []}

    config = SQSMappingConfig(function_response_types=["ReportBatchItemFailures"])
    mapping = q.map_to(Function("f", handler), config)
    q.send_message("a")
    q.send_message("b")
    sched.run_until_idle()
    assert calls == [2, 2]
    assert mapping.poller.concurrency == 5  # no back-off with ReportBatchItemFailures


# -- FIFO ------------------------------------------------------------------------------------


def test_fifo_failing_message_blocks_its_group_only() -> None:
    sched = Scheduler()
    q = with_dlq("orders.fifo", sched, max_receive_count=2, visibility_timeout=20)
    log: list[tuple[float, str]] = []

    def handler(event: Any, context: Any) -> None:
        for record in event["Records"]:
            log.append((sched.now, record["body"]))
            if record["body"] == "a1":
                raise RuntimeError("a1 always fails")

    q.map_to(Function("f", handler), SQSMappingConfig(batch_size=1))
    for i, body in enumerate(["a1", "b1", "a2", "b2", "b3"]):
        q.send_message(body, message_group_id=body[0], message_deduplication_id=str(i))
    sched.run_until_idle()
    assert log == [
        (0.0, "a1"),
        (0.0, "b1"), (0.0, "b2"), (0.0, "b3"),  # group b keeps flowing
        (20.0, "a1"),                           # a2 waits behind a1
        (40.0, "a2"),                           # a1 left through redrive; a2 follows
    ]  # fmt: skip
    dlq = q.redrive_policy.dead_letter_target if q.redrive_policy else None
    assert dlq is not None
    assert [m.body for m in dlq.peek()] == ["a1"]


def test_fifo_partial_failure_reports_the_rest_of_the_group() -> None:
    sched = Scheduler()
    q = queue("p.fifo", sched, visibility_timeout=20)
    log: list[tuple[float, str]] = []

    def handler(event: Any, context: Any) -> Any:
        failed: list[dict[str, str]] = []
        for record in event["Records"]:
            log.append((sched.now, record["body"]))
            if (record["body"] == "a1" and sched.now == 0.0) or failed:
                failed.append({"itemIdentifier": record["messageId"]})
        return {"batchItemFailures": failed}

    config = SQSMappingConfig(batch_size=3, function_response_types=["ReportBatchItemFailures"])
    q.map_to(Function("f", handler), config)
    for i, body in enumerate(["a0", "a1", "a2", "b0"]):
        q.send_message(body, message_group_id=body[0], message_deduplication_id=str(i))
    sched.run_until_idle()
    assert log == [
        (0.0, "a0"), (0.0, "a1"), (0.0, "a2"),  # a1 fails: a1 and a2 are reported
        (0.0, "b0"),
        (20.0, "a1"), (20.0, "a2"),
    ]  # fmt: skip
    assert q.count(MessageState.DELETED) == 4


@settings(max_examples=30)
@given(
    bodies=st.lists(st.tuples(st.sampled_from("abc"), st.booleans()), min_size=1, max_size=12),
    batch_size=st.integers(1, 10),
    one_group=st.booleans(),
)
def test_fifo_order_within_each_group(
    bodies: list[tuple[str, bool]], batch_size: int, one_group: bool
) -> None:
    sched = Scheduler()
    q = queue("p.fifo", sched, visibility_timeout=15)
    done: dict[str, list[int]] = defaultdict(list)
    # Checked after the run: an assert inside the handler would only be a function error.
    violations: list[Any] = []

    def handler(event: Any, context: Any) -> None:
        records = event["Records"]
        if one_group and len({r["attributes"]["MessageGroupId"] for r in records}) != 1:
            violations.append(("mixed groups", [r["body"] for r in records]))
        for position, record in enumerate(records):
            group, index, poison = record["body"].split(":")
            ahead = {int(r["body"].split(":")[1]) for r in records[:position]}
            # Every earlier message of the group is processed, or ahead in this batch.
            earlier = {i for i, (g, _) in enumerate(bodies) if g == group and i < int(index)}
            if not earlier <= set(done[group]) | ahead:
                violations.append(("out of order", record["body"], sorted(done[group])))
            if poison == "True" and record["attributes"]["ApproximateReceiveCount"] == "1":
                raise RuntimeError("poison on first receive")
        for record in records:
            group, index, _ = record["body"].split(":")
            done[group].append(int(index))

    config = SQSMappingConfig(batch_size=batch_size, one_group_per_batch=one_group)
    q.map_to(Function("f", handler), config)
    for i, (group, poison) in enumerate(bodies):
        q.send_message(
            f"{group}:{i}:{poison}", message_group_id=group, message_deduplication_id=str(i)
        )
    sched.run_until_idle()
    assert violations == []
    for group in "abc":
        assert done[group] == [i for i, (g, _) in enumerate(bodies) if g == group]
    assert q.count(MessageState.DELETED) == len(bodies)


# -- throttling ------------------------------------------------------------------------------


def test_throttled_batch_is_retried_until_its_visibility_timeout_then_reappears() -> None:
    sched = Scheduler()
    q = queue("t", sched, visibility_timeout=30)
    fn = Function("f", lambda e, c: None, reserved_concurrency=0)
    mapping = q.map_to(fn, SQSMappingConfig(batch_size=1))
    sent = q.send_message("m")
    sched.run(until=45.0)
    throttles = [t.started_at for t in mapping.history if t.outcome is Outcome.THROTTLED]
    # Retries back off 1, 2, 4, 8 s; the next (16 s) would pass the 30 s deadline: let go.
    # At 30 s the message is visible again and a new receive starts the same sequence.
    assert throttles == [0.0, 1.0, 3.0, 7.0, 15.0, 30.0, 31.0, 33.0, 37.0, 45.0]
    assert mapping.poller.released_after_throttle == 2  # at 15 s and at 45 s
    assert q.peek()[0].receive_count == 2
    assert q.state_of(sent.message_id) is MessageState.IN_FLIGHT


def test_throttle_deadline_counts_from_the_receive_not_the_flush() -> None:
    sched = Scheduler()
    q = queue("tw", sched, visibility_timeout=17)
    fn = Function("f", lambda e, c: None, reserved_concurrency=0, timeout=3)
    config = SQSMappingConfig(batch_size=20, maximum_batching_window=5)
    mapping = q.map_to(fn, config)
    q.send_message("m")
    sched.run(until=30.0)
    throttles = [t.started_at for t in mapping.history if t.outcome is Outcome.THROTTLED]
    # Received at 0, flushed at 5 when the window closes; the retry due at 20 would pass the
    # message's deadline (0 + 17), so the poller lets go after the throttle at 12.
    assert throttles == [5.0, 6.0, 8.0, 12.0, 22.0, 23.0, 25.0, 29.0]


def test_a_throttle_at_an_off_grid_time_retries_on_the_grid_and_goes_idle() -> None:
    # The retry time was `now + delay` a hair past the tick the mapping woke at, so the
    # mapping polled at 9.559826087 forever.
    sched = Scheduler()
    q = queue("og", sched, message_retention_period=60)
    fn = Function("f", lambda e, c: None, reserved_concurrency=0)
    mapping = q.map_to(fn)
    sched.at(2.559826087, q.send_message, "x")
    sched.run_until_idle(max_steps=10_000)
    throttles = [t.started_at for t in mapping.history if t.outcome is Outcome.THROTTLED]
    assert throttles[:5] == [2.559826087, 3.559826087, 5.559826087, 9.559826087, 17.559826087]
    assert [(e.kind, e.detail) for e in q.fates] == [("expired", "MessageRetentionPeriod")]


def test_a_batching_window_opened_off_the_grid_closes_on_it() -> None:
    sched = Scheduler()
    q = queue("ow", sched)
    fn = Function("f", lambda e, c: None)
    mapping = q.map_to(fn, SQSMappingConfig(batch_size=6, maximum_batching_window=4))
    sched.at(31.31903458274959, q.send_message, "x")
    sched.run_until_idle(max_steps=1_000)
    assert [t.started_at for t in mapping.history] == [35.319034583]
    assert [(e.kind, e.detail) for e in q.fates] == [("deleted", "processed")]


# -- scaling ---------------------------------------------------------------------------------


def busy_mapping(
    config: SQSMappingConfig, messages: int, duration: float = 10.0, fail: bool = False
) -> tuple[Scheduler, Queue, EventSourceMapping[SQSPoller], list[tuple[float, int]]]:
    sched = Scheduler()
    q = queue("s", sched, visibility_timeout=900)
    in_flight: list[tuple[float, int]] = []

    def handler(event: Any, context: Any) -> None:
        if fail:
            raise RuntimeError("fail")

    fn = Function("f", handler, duration=duration, timeout=60)
    mapping = q.map_to(fn, config)
    for i in range(messages):
        q.send_message(str(i))

    def sample() -> None:
        in_flight.append((sched.now, mapping.in_flight))

    for t in range(0, 121, 5):
        sched.at(float(t) + 0.5, sample)
    return sched, q, mapping, in_flight


def test_scaling_starts_at_five_and_ramps_while_messages_wait() -> None:
    sched, _q, _mapping, in_flight = busy_mapping(
        SQSMappingConfig(batch_size=1, scaling=SQSScaling(ramp_per_minute=60)), 5000
    )
    sched.run(until=121.0)
    samples = dict(in_flight)
    assert samples[0.5] == 5
    assert samples[30.5] == 35  # 5 + 60 per minute
    assert samples[60.5] == 65
    assert samples[120.5] == 125


def test_scaling_is_capped_by_maximum_concurrency() -> None:
    sched, _q, _mapping, in_flight = busy_mapping(
        SQSMappingConfig(batch_size=1, maximum_concurrency=3), 500
    )
    sched.run(until=121.0)
    assert max(n for _, n in in_flight) == 3
    assert {n for t, n in in_flight} == {3}


def test_function_errors_back_off_concurrency_and_stop_the_ramp() -> None:
    sched, _q, mapping, in_flight = busy_mapping(
        SQSMappingConfig(batch_size=1, scaling=SQSScaling(ramp_per_minute=60)),
        500,
        duration=1.0,
        fail=True,
    )
    sched.run(until=121.0)
    assert in_flight[0] == (0.5, 5)
    assert mapping.poller.concurrency == 2  # backed off to the floor
    assert {n for t, n in in_flight if t > 10} == {2}


def test_a_success_resumes_the_ramp() -> None:
    sched = Scheduler()
    q = queue("r", sched, visibility_timeout=900)
    calls: list[float] = []

    def handler(event: Any, context: Any) -> None:
        calls.append(sched.now)
        if len(calls) <= 5:
            raise RuntimeError("the first five batches fail")

    mapping = q.map_to(
        Function("f", handler, duration=10.0, timeout=60),
        SQSMappingConfig(batch_size=1, scaling=SQSScaling(ramp_per_minute=60)),
    )
    for i in range(1000):
        q.send_message(str(i))
    sched.run(until=10.0)
    # Ramped from 5 to 15 in 10 s (60 per minute), then the five failures at 10 s took 5 away.
    assert mapping.poller.concurrency == 10
    sched.run(until=10.9)
    assert mapping.poller.concurrency == 10  # no ramp while failing
    sched.run(until=29.5)
    # The first success (at 11 s) resumed the ramp: 10 + 18.5.
    assert mapping.in_flight == 28


# -- filtering -------------------------------------------------------------------------------


def test_non_matching_messages_are_deleted_with_a_record() -> None:
    sched = Scheduler()
    q = queue("f", sched)
    events = capture(
        q,
        SQSMappingConfig(
            filter_criteria={"Filters": [{"Pattern": '{"body": {"kind": ["order"]}}'}]}
        ),
    )
    keep = q.send_message('{"kind": "order", "n": 1}')
    drop = q.send_message('{"kind": "refund"}')
    text = q.send_message("plain text")
    sched.run_until_idle()
    assert [[r["messageId"] for r in e["Records"]] for e in events] == [[keep.message_id]]
    fates = {e.message_id: (e.kind, e.detail) for e in q.fates}
    assert fates == {
        keep.message_id: ("deleted", "processed"),
        drop.message_id: ("deleted", "filtered"),
        text.message_id: ("deleted", "filtered"),
    }


# -- conservation and determinism ------------------------------------------------------------


@settings(max_examples=30)
@given(
    count=st.integers(1, 30),
    fail_every=st.integers(1, 5),
    batch_size=st.sampled_from([1, 3, 10]),
    report=st.booleans(),
    redrive=st.one_of(st.none(), st.integers(1, 4)),
    filtered=st.booleans(),
    fifo=st.booleans(),
)
def test_conservation_every_message_ends_exactly_once(
    count: int,
    fail_every: int,
    batch_size: int,
    report: bool,
    redrive: int | None,
    filtered: bool,
    fifo: bool,
) -> None:
    sched = Scheduler()
    name = "c.fifo" if fifo else "c"
    kwargs: dict[str, Any] = {"visibility_timeout": 20, "message_retention_period": 300}
    q = with_dlq(name, sched, redrive, **kwargs) if redrive else queue(name, sched, **kwargs)
    succeeded: set[str] = set()

    def handler(event: Any, context: Any) -> Any:
        failures = []
        for record in event["Records"]:
            n = int(json.loads(record["body"])["n"])
            if n % fail_every == 0 and n % 2 == 0:
                if not report:
                    raise RuntimeError(f"message {n}")
                failures.append({"itemIdentifier": record["messageId"]})
        if report:
            failed = {item["itemIdentifier"] for item in failures}
            succeeded.update(
                r["messageId"] for r in event["Records"] if r["messageId"] not in failed
            )
        else:
            succeeded.update(r["messageId"] for r in event["Records"])
        return {"batchItemFailures": failures}

    criteria = {"Filters": [{"Pattern": '{"body": {"n": [{"numeric": ["<", 25]}]}}'}]}
    config = SQSMappingConfig(
        batch_size=batch_size,
        function_response_types=["ReportBatchItemFailures"] if report else [],
        filter_criteria=criteria if filtered else None,
    )
    q.map_to(Function("f", handler), config, seed=3)
    sent = []
    for n in range(count):
        group, dedup = (str(n % 3), str(n)) if fifo else (None, None)
        result = q.send_message(
            json.dumps({"n": n}), message_group_id=group, message_deduplication_id=dedup
        )
        sent.append(result.message_id)
    sched.run_until_idle()
    fates = q.fates
    # Exactly once: the history (not only the fates table) holds one terminal event each.
    terminal = [e.message_id for e in q.events if e.kind in {"deleted", "moved_to_dlq", "expired"}]
    assert sorted(terminal) == sorted(sent)
    assert sorted(e.message_id for e in fates) == sorted(sent)
    assert q.counts()[MessageState.VISIBLE] == q.counts()[MessageState.IN_FLIGHT] == 0
    number = {message_id: n for n, message_id in enumerate(sent)}

    def always_fails(n: int) -> bool:
        return n % fail_every == 0 and n % 2 == 0

    def blocked_behind(n: int) -> bool:
        # A FIFO message (group n % 3) with an always-failing message ahead in its group.
        return fifo and any(always_fails(m) for m in range(n % 3, n, 3))

    for event in fates:
        assert (event.kind, event.detail) in {
            ("deleted", "processed"), ("deleted", "filtered"), ("moved_to_dlq", event.detail),
            ("expired", "MessageRetentionPeriod"),
        }  # fmt: skip
        n = number[event.message_id]
        if event.detail == "filtered":
            assert filtered
            assert n >= 25
        elif filtered and n >= 25:
            # Only a FIFO group blocked by always-failing messages keeps a message from
            # reaching the filter before retention ends (with a redrive policy too: each
            # blocker holds the group for maxReceiveCount visibility timeouts).
            assert event.kind == "expired"
            assert blocked_behind(n)
        if always_fails(n):  # never processed
            assert event.detail != "processed"
        if event.detail == "processed":
            assert event.message_id in succeeded
        if event.kind == "moved_to_dlq":
            assert redrive is not None
            assert event.receive_count == redrive
        if event.kind == "expired":
            # Standard queues redrive long before retention (4 receives x 20 s < 300 s); in a
            # FIFO group, messages queued behind failing ones can still outlive retention.
            assert redrive is None or blocked_behind(n)
    if redrive is not None and q.redrive_policy is not None:
        moved = [e.message_id for e in fates if e.kind == "moved_to_dlq"]
        assert q.redrive_policy.dead_letter_target.message_ids == moved


def test_same_seed_same_timeline() -> None:
    def run(seed: int) -> tuple[list[Any], list[Any]]:
        sched = Scheduler()
        q = Queue("d", scheduler=sched, seed=seed, visibility_timeout=5)

        def handler(event: Any, context: Any) -> None:
            if any(r["body"].endswith("3") for r in event["Records"]):
                raise RuntimeError("3")

        mapping = q.map_to(Function("f", handler, duration=0.5), SQSMappingConfig(batch_size=2),
                           seed=seed)  # fmt: skip
        for i in range(10):
            q.send_message(f"m{i}")
        sched.run(until=60.0)
        return list(q.events), [
            (t.request_id, t.started_at, t.outcome, t.size) for t in mapping.history
        ]

    assert run(4) == run(4)
    assert run(4) != run(5)


def test_disable_and_enable() -> None:
    sched = Scheduler()
    q = queue("e", sched)
    bodies: list[str] = []
    mapping = q.map_to(Function("f", lambda e, c: bodies.extend(r["body"] for r in e["Records"])))
    assert mapping.state == "Enabled"
    mapping.disable()
    q.send_message("one")
    sched.run_until_idle()
    assert bodies == []
    assert q.count(MessageState.VISIBLE) == 1
    mapping.enable()
    sched.run_until_idle()
    assert bodies == ["one"]


def test_disable_during_a_batching_window_does_not_send_a_message_twice() -> None:
    sched = Scheduler()
    q = queue("w", sched, visibility_timeout=30)
    seen: list[tuple[float, list[tuple[str, str]]]] = []

    def handler(event: Any, context: Any) -> None:
        records = [
            (r["body"], r["attributes"]["ApproximateReceiveCount"]) for r in event["Records"]
        ]
        seen.append((sched.now, records))

    config = SQSMappingConfig(batch_size=10, maximum_batching_window=10)
    mapping = q.map_to(Function("f", handler, timeout=3), config)
    q.send_message("a")
    sched.run(until=5.0)  # received at 0 into a window that closes at 10
    mapping.disable()
    sched.run(until=100.0)  # visible again at 30
    mapping.enable()
    sched.run_until_idle()
    # The gathered copy was let go at its visibility deadline: one record, received anew.
    assert seen == [(110.0, [("a", "2")])]
    assert [(e.at, e.kind) for e in q.fates] == [(110.0, "deleted")]


def test_carried_messages_past_their_visibility_timeout_are_received_anew() -> None:
    sched = Scheduler()
    q = queue("c", sched, visibility_timeout=30)
    seen: list[tuple[float, list[str], list[str]]] = []

    def handler(event: Any, context: Any) -> None:
        records = event["Records"]
        ids = [r["messageId"] for r in records]
        counts = [r["attributes"]["ApproximateReceiveCount"] for r in records]
        seen.append((sched.now, ids, counts))

    config = SQSMappingConfig(batch_size=100, maximum_batching_window=1, maximum_concurrency=2)
    mapping = q.map_to(Function("f", handler, duration=1.0, timeout=3), config)
    for _ in range(13):
        q.send_message("x" * 1_000_000)
    sched.run(until=0.5)  # two 6 MB batches fill both slots; the 13th message is carried
    mapping.disable()
    sched.run(until=100.0)  # the carried message is visible again from 30
    mapping.enable()
    sched.run_until_idle()
    assert [(at, len(ids)) for at, ids, _ in seen] == [(0.0, 6), (0.0, 6), (101.0, 1)]
    assert seen[-1][2] == ["2"]  # received anew, and only once
    assert q.count(MessageState.DELETED) == 13


def test_sqs_event_record_is_public() -> None:
    q = queue("r")
    q.send_message("x")
    [m] = q.receive_messages()
    record = sqs_event_record(m, q.arn, q.region)
    assert record["eventSource"] == "aws:sqs"
    assert record["attributes"] is not m.attributes


def test_filter_criteria_object_gets_sqs_data_key_rules() -> None:
    from invokemodels import FilterCriteria

    config = SQSMappingConfig(filter_criteria=FilterCriteria(patterns=('{"body": {"a": ["x"]}}',)))
    assert config.filter_criteria is not None
    assert config.filter_criteria.event_source == "aws:sqs"
