"""The stream poller against real Kinesis and DynamoDB streams (moto's server), on the
real clock."""

from __future__ import annotations

import datetime
import json
import threading
import time
from typing import Any

import pytest

from invokemodels import Function, Scheduler
from invokemodels.adapters import (
    Backoff,
    MappingRunner,
    SNSDestination,
    SQSDestination,
    map_dynamodb_stream,
    map_kinesis_stream,
)
from invokemodels.exceptions import InvalidParameterValueError
from invokemodels.mapping import RecordFate, StreamMappingConfig
from tests.aws_server import client

FAST = 0.05
"""Seconds between shard reads (and retries) in these tests."""


def kinesis(endpoint: str, name: str, shards: int = 1) -> Any:
    api = client("kinesis", endpoint)
    api.create_stream(StreamName=name, ShardCount=shards)
    return api


def put(api: Any, name: str, items: list[tuple[str, str]]) -> list[str]:
    return [
        api.put_record(StreamName=name, Data=data.encode(), PartitionKey=key)["SequenceNumber"]
        for key, data in items
    ]


def done(mapping: Any, count: int) -> bool:
    consumer = mapping.poller
    return bool(consumer.read >= count and consumer.poller.pending == 0)


class FileLikeStore:
    """A user's checkpoint store (what a file or a table would hold)."""

    def __init__(self) -> None:
        self.saved: dict[str, str] = {}
        self.writes = 0

    def load(self, stream_arn: str, shard_id: str) -> str | None:
        return self.saved.get(f"{stream_arn}|{shard_id}")

    def save(self, stream_arn: str, shard_id: str, sequence_number: str) -> None:
        self.writes += 1
        self.saved[f"{stream_arn}|{shard_id}"] = sequence_number


def test_kinesis_batches_in_order_retry_bisect_and_report_on_failure(aws_endpoint: str) -> None:
    api = kinesis(aws_endpoint, "orders")
    put(api, "orders", [("k", f"r{i}") for i in range(6)])
    sqs = client("sqs", aws_endpoint)
    url = sqs.create_queue(QueueName="orders-failures")["QueueUrl"]
    batches: list[list[str]] = []

    def handler(event: dict[str, Any], context: Any) -> None:
        batches.append([r["kinesis"]["sequenceNumber"] for r in event["Records"]])
        if any(r["kinesis"]["data"] == "cjM=" for r in event["Records"]):  # base64 of "r3"
            raise ValueError("r3")

    config = StreamMappingConfig(
        starting_position="TRIM_HORIZON", batch_size=4, maximum_retry_attempts=1,
        bisect_batch_on_function_error=True,
        on_failure=SQSDestination(url, endpoint_url=aws_endpoint),
    )  # fmt: skip
    mapping = map_kinesis_stream(
        Function("consumer", handler), "orders", config, endpoint_url=aws_endpoint,
        polling_interval=FAST,
    )  # fmt: skip
    MappingRunner(mapping).run(timeout=10, until=lambda: done(mapping, 6))
    poller = mapping.poller.poller
    # r3 is sequence number 4.  [1-4] fails and is split in [1,2] and [3,4]; [3,4] fails
    # and is split; [4] fails until its one retry is used up; then the shard moves on,
    # in order.
    assert batches == [
        ["1", "2", "3", "4"], ["1", "2"], ["3", "4"], ["3"], ["4"], ["4"], ["5", "6"],
    ]  # fmt: skip
    fates = {o.sequence_number: (o.fate, o.condition) for o in poller.outcomes}
    assert fates["4"] == (RecordFate.DISCARDED, "RetryAttemptsExhausted")
    assert {s for s, (fate, _) in fates.items() if fate is RecordFate.PROCESSED} == {
        "1", "2", "3", "5", "6",
    }  # fmt: skip
    sent = [json.loads(m["Body"]) for m in sqs.receive_message(QueueUrl=url)["Messages"]]
    assert [r["KinesisBatchInfo"]["startSequenceNumber"] for r in sent] == ["4"]
    assert sent[0]["requestContext"]["approximateInvokeCount"] == 2
    assert sent[0]["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert mapping.poller.checkpoint("shardId-000000000000") == "6"


def test_a_checkpoint_store_resumes_after_the_last_record_that_ended(aws_endpoint: str) -> None:
    api = kinesis(aws_endpoint, "resume", shards=2)
    put(api, "resume", [(f"p{i}", f"a{i}") for i in range(4)])
    store = FileLikeStore()
    seen: list[str] = []

    def handler(event: dict[str, Any], context: Any) -> None:
        seen.extend(r["kinesis"]["partitionKey"] for r in event["Records"])

    config = StreamMappingConfig(starting_position="TRIM_HORIZON", batch_size=10)
    first = map_kinesis_stream(
        Function("consumer", handler), "resume", config, endpoint_url=aws_endpoint,
        checkpoints=store, polling_interval=FAST,
    )  # fmt: skip
    MappingRunner(first).run(timeout=10, until=lambda: done(first, 4))
    assert sorted(seen) == ["p0", "p1", "p2", "p3"]
    assert len(store.saved) == 2
    put(api, "resume", [(f"p{i}", f"b{i}") for i in range(4, 6)])
    seen.clear()
    again = map_kinesis_stream(
        Function("consumer", handler), "resume", config, endpoint_url=aws_endpoint,
        checkpoints=store, polling_interval=FAST,
    )  # fmt: skip
    MappingRunner(again).run(timeout=10, until=lambda: done(again, 2))
    assert sorted(seen) == ["p4", "p5"]


def test_kinesis_partial_batch_response_checkpoints_before_the_reported_record(
    aws_endpoint: str,
) -> None:
    api = kinesis(aws_endpoint, "partial")
    put(api, "partial", [("k", f"r{i}") for i in range(5)])
    batches: list[list[str]] = []

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        numbers = [r["kinesis"]["sequenceNumber"] for r in event["Records"]]
        batches.append(numbers)
        failed = [n for n in numbers if n == "3" and len(batches) == 1]
        return {"batchItemFailures": [{"itemIdentifier": n} for n in failed]}

    config = StreamMappingConfig(
        starting_position="TRIM_HORIZON", batch_size=5,
        function_response_types=["ReportBatchItemFailures"],
    )  # fmt: skip
    mapping = map_kinesis_stream(
        Function("consumer", handler), "partial", config, endpoint_url=aws_endpoint,
        polling_interval=FAST,
    )  # fmt: skip
    MappingRunner(mapping).run(timeout=10, until=lambda: done(mapping, 5))
    assert batches == [["1", "2", "3", "4", "5"], ["3", "4", "5"]]


def test_dynamodb_stream_records_reach_the_function_in_lambda_shape(aws_endpoint: str) -> None:
    ddb = client("dynamodb", aws_endpoint)
    table = ddb.create_table(
        TableName="accounts",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    stream_arn = table["TableDescription"]["LatestStreamArn"]
    ddb.put_item(TableName="accounts", Item={"id": {"S": "a"}, "n": {"N": "1"}})
    ddb.put_item(TableName="accounts", Item={"id": {"S": "a"}, "n": {"N": "2"}})
    ddb.delete_item(TableName="accounts", Key={"id": {"S": "a"}})
    sns = client("sns", aws_endpoint)
    topic = sns.create_topic(Name="account-failures")["TopicArn"]
    sqs = client("sqs", aws_endpoint)
    inbox = sqs.create_queue(QueueName="account-failures-inbox")["QueueUrl"]
    inbox_arn = sqs.get_queue_attributes(QueueUrl=inbox, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=inbox_arn)
    seen: list[dict[str, Any]] = []

    def handler(event: dict[str, Any], context: Any) -> None:
        seen.extend(event["Records"])
        if any(r["eventName"] == "REMOVE" for r in event["Records"]):
            raise ValueError("no deletes")

    config = StreamMappingConfig(
        starting_position="TRIM_HORIZON", batch_size=1, maximum_retry_attempts=0,
        on_failure=SNSDestination(topic, endpoint_url=aws_endpoint),
    )  # fmt: skip
    mapping = map_dynamodb_stream(
        Function("consumer", handler), stream_arn, config, endpoint_url=aws_endpoint,
        polling_interval=FAST,
    )  # fmt: skip
    MappingRunner(mapping).run(timeout=10, until=lambda: done(mapping, 3))
    assert [r["eventName"] for r in seen] == ["INSERT", "MODIFY", "REMOVE"]
    first = seen[0]
    assert sorted(first) == [
        "awsRegion", "dynamodb", "eventID", "eventName", "eventSource", "eventSourceARN",
        "eventVersion",
    ]  # fmt: skip
    assert first["eventSourceARN"] == stream_arn
    assert isinstance(first["dynamodb"]["ApproximateCreationDateTime"], float)
    assert seen[1]["dynamodb"]["OldImage"] == {"id": {"S": "a"}, "n": {"N": "1"}}
    fates = [o.fate for o in mapping.poller.poller.outcomes]
    assert fates == [RecordFate.PROCESSED, RecordFate.PROCESSED, RecordFate.DISCARDED]
    envelope = json.loads(sqs.receive_message(QueueUrl=inbox)["Messages"][0]["Body"])
    record = json.loads(envelope["Message"])
    assert record["DDBStreamBatchInfo"]["batchSize"] == 1
    assert record["requestContext"]["condition"] == "RetryAttemptsExhausted"


def test_a_stream_that_fails_to_answer_is_backed_off(aws_endpoint: str) -> None:
    api = kinesis(aws_endpoint, "vanishing")
    mapping = map_kinesis_stream(
        Function("consumer", lambda event, ctx: None), "vanishing",
        StreamMappingConfig(starting_position="LATEST"), endpoint_url=aws_endpoint,
        polling_interval=FAST, backoff=Backoff(initial=0.1, maximum=0.2),
    )  # fmt: skip
    api.delete_stream(StreamName="vanishing")
    MappingRunner(mapping).run(timeout=1.0)
    errors = mapping.poller.errors
    # 0.1 s, then 0.2 s between tries: a handful in one second, never a busy loop.
    assert 2 <= errors.count <= 8
    assert "ResourceNotFoundException" in errors.recent[-1]


def test_stream_configuration_is_checked_by_name(aws_endpoint: str) -> None:
    kinesis(aws_endpoint, "checked")
    fn = Function("consumer", lambda event, ctx: None)
    config = StreamMappingConfig(starting_position="LATEST")
    with pytest.raises(InvalidParameterValueError, match="scheduler"):
        map_kinesis_stream(fn, "checked", config, scheduler=Scheduler(), endpoint_url=aws_endpoint)
    with pytest.raises(InvalidParameterValueError, match="limit"):
        map_kinesis_stream(fn, "checked", config, limit=0, endpoint_url=aws_endpoint)
    with pytest.raises(InvalidParameterValueError, match="config"):
        map_kinesis_stream(fn, "checked", {"StartingPosition": "LATEST"}, endpoint_url=aws_endpoint)  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterValueError, match="AT_TIMESTAMP"):
        map_dynamodb_stream(
            fn, "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/x",
            StreamMappingConfig(starting_position="AT_TIMESTAMP", starting_position_timestamp=1.0),
            endpoint_url=aws_endpoint,
        )  # fmt: skip


class OldRecords:
    """A Kinesis client whose one shard holds records written long ago (moto stamps every
    record with the time it was put, so a record's age cannot be set there)."""

    def __init__(self, ages: list[float], *, expire_once: bool = False) -> None:
        self.expire_once = expire_once
        self.iterators = 0
        now = datetime.datetime.now(datetime.timezone.utc)
        self.records = [
            {"SequenceNumber": str(i + 1), "PartitionKey": "k", "Data": b"old",
             "ApproximateArrivalTimestamp": now - datetime.timedelta(seconds=age)}
            for i, age in enumerate(ages)
        ]  # fmt: skip

    def describe_stream_summary(self, StreamName: str) -> dict[str, Any]:
        arn = f"arn:aws:kinesis:us-east-1:123456789012:stream/{StreamName}"
        summary = {"StreamARN": arn, "RetentionPeriodHours": 24}
        return {"StreamDescriptionSummary": summary}

    def list_shards(self, **kwargs: Any) -> dict[str, Any]:
        keys = {"StartingHashKey": "0", "EndingHashKey": str(2**128 - 1)}
        return {"Shards": [{"ShardId": "shardId-000000000000", "HashKeyRange": keys}]}

    def get_shard_iterator(self, **kwargs: Any) -> dict[str, Any]:
        self.iterators += 1
        after = kwargs.get("StartingSequenceNumber")
        return {"ShardIterator": "0" if after is None else after}

    def get_records(self, ShardIterator: str, Limit: int) -> dict[str, Any]:
        from botocore.exceptions import ClientError

        if self.expire_once and ShardIterator != "0":
            self.expire_once = False
            error = {"Error": {"Code": "ExpiredIteratorException", "Message": "expired"}}
            raise ClientError(error, "GetRecords")
        start = int(ShardIterator)
        batch = self.records[start : start + Limit]
        return {"Records": batch, "NextShardIterator": str(start + len(batch))}


def test_record_age_and_retention_are_judged_from_the_arrival_timestamp() -> None:
    # Ages in seconds: one past retention (24 h), one past MaximumRecordAgeInSeconds, one new.
    client_ = OldRecords([25 * 3600.0, 120.0, 1.0])
    seen: list[str] = []
    config = StreamMappingConfig(starting_position="TRIM_HORIZON", maximum_record_age=60)
    mapping = map_kinesis_stream(
        Function("consumer", lambda event, ctx: seen.extend(
            r["kinesis"]["sequenceNumber"] for r in event["Records"])),
        "old", config, client=client_, polling_interval=FAST,
    )  # fmt: skip
    MappingRunner(mapping).run(timeout=10, until=lambda: done(mapping, 3))
    fates = {o.sequence_number: (o.fate, o.condition) for o in mapping.poller.poller.outcomes}
    assert fates == {
        "1": (RecordFate.EXPIRED, None),
        "2": (RecordFate.DISCARDED, "RecordAgeExceeded"),
        "3": (RecordFate.PROCESSED, None),
    }
    assert seen == ["3"]
    assert mapping.poller.checkpoint("shardId-000000000000") == "3"


def test_an_expired_iterator_is_renewed_after_the_last_record_read() -> None:
    fake = OldRecords([1.0, 1.0, 1.0], expire_once=True)
    seen: list[str] = []
    mapping = map_kinesis_stream(
        Function("consumer", lambda event, ctx: seen.extend(
            r["kinesis"]["sequenceNumber"] for r in event["Records"])),
        "renewed", StreamMappingConfig(starting_position="TRIM_HORIZON"), client=fake,
        polling_interval=FAST, limit=1,
    )  # fmt: skip
    MappingRunner(mapping).run(timeout=10, until=lambda: done(mapping, 3))
    assert seen == ["1", "2", "3"]  # nothing lost, nothing read twice
    assert fake.iterators == 2
    assert mapping.poller.errors.count == 0


def test_at_timestamp_reads_from_that_moment(aws_endpoint: str) -> None:
    api = kinesis(aws_endpoint, "stamped")
    put(api, "stamped", [("k", "before")])
    threading.Event().wait(0.05)
    stamp = time.time()
    threading.Event().wait(0.05)
    put(api, "stamped", [("k", "after")])
    seen: list[str] = []
    config = StreamMappingConfig(
        starting_position="AT_TIMESTAMP", starting_position_timestamp=stamp
    )
    mapping = map_kinesis_stream(
        Function("consumer", lambda event, ctx: seen.extend(
            r["kinesis"]["data"] for r in event["Records"])),
        "stamped", config, endpoint_url=aws_endpoint, polling_interval=FAST,
    )  # fmt: skip
    MappingRunner(mapping).run(timeout=10, until=lambda: done(mapping, 1))
    assert seen == ["YWZ0ZXI="]  # base64 of "after"
