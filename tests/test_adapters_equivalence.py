"""One scenario, two runs: the in-process models on the virtual clock, and the adapters
against moto's server on the real clock.  Every message and record ends the same way.

The scenarios are generated (a few examples each: every one runs in real time), and the
handler's behaviour depends only on what it is given (a message's receive count, how many
times a record was seen), so both runs must agree message for message.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from invokemodels import Function, Scheduler
from invokemodels.adapters import (
    MappingRunner,
    map_dynamodb_stream,
    map_kinesis_stream,
    map_queue,
)
from invokemodels.aws import KinesisStream, Queue, RedrivePolicy, Table
from invokemodels.mapping import SQSMappingConfig, StreamMappingConfig
from tests.aws_server import client

_names = itertools.count()
MAX_RECEIVES = 2
"""The queues' ``maxReceiveCount``."""


def sqs_handler(report: bool, processed: list[str]) -> Any:
    """Fails a message ``i:f`` while its receive count is at most ``f``."""

    def handler(event: dict[str, Any], context: Any) -> Any:
        failed = []
        for record in event["Records"]:
            fails = int(record["body"].split(":")[1])
            if int(record["attributes"]["ApproximateReceiveCount"]) <= fails:
                failed.append(record["messageId"])
        if not report and failed:
            raise RuntimeError("batch failed")
        processed.extend(r["body"] for r in event["Records"] if r["messageId"] not in failed)
        return {"batchItemFailures": [{"itemIdentifier": i} for i in failed]}

    return handler


def sqs_outcomes(bodies: list[str], processed: list[str], redriven: list[str]) -> dict[str, str]:
    assert len(processed) == len(set(processed))  # deleted once processed: never seen again
    out = dict.fromkeys(processed, "processed")
    out.update(dict.fromkeys(redriven, "redriven"))
    return {body: out.get(body, "pending") for body in bodies}


def sqs_in_process(bodies: list[str], config: SQSMappingConfig) -> dict[str, str]:
    sched = Scheduler()
    dlq = Queue("dlq", scheduler=sched)
    queue = Queue(
        "q", scheduler=sched, visibility_timeout=1,
        redrive_policy=RedrivePolicy(dead_letter_target=dlq, max_receive_count=MAX_RECEIVES),
    )  # fmt: skip
    for body in bodies:
        queue.send_message(body)
    processed: list[str] = []
    queue.map_to(Function("consumer", sqs_handler(config.report_batch_item_failures, processed)),
                 config, seed=1)  # fmt: skip
    sched.run(until=60)
    redriven = [message.body for message in dlq.peek()]
    return sqs_outcomes(bodies, processed, redriven)


def sqs_against_server(
    endpoint: str, bodies: list[str], config: SQSMappingConfig
) -> dict[str, str]:
    sqs = client("sqs", endpoint)
    name = f"eq-{next(_names)}"
    dlq = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    policy = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": MAX_RECEIVES})
    url = sqs.create_queue(
        QueueName=name, Attributes={"VisibilityTimeout": "1", "RedrivePolicy": policy}
    )["QueueUrl"]
    for body in bodies:
        sqs.send_message(QueueUrl=url, MessageBody=body)
    processed: list[str] = []
    mapping = map_queue(
        Function("consumer", sqs_handler(config.report_batch_item_failures, processed)),
        url, config, endpoint_url=endpoint, idle_poll_interval=0.05, seed=1,
    )  # fmt: skip

    def in_dlq() -> int:
        attributes = sqs.get_queue_attributes(
            QueueUrl=dlq, AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"])

    MappingRunner(mapping).run(
        timeout=8, until=lambda: len(processed) + in_dlq() >= len(bodies), max_wait=0.1
    )
    redriven: list[str] = []
    while True:
        got = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10).get("Messages", [])
        if not got:
            break
        redriven += [m["Body"] for m in got]
    return sqs_outcomes(bodies, processed, redriven)


@st.composite
def sqs_scenarios(draw: st.DrawFn) -> tuple[list[str], SQSMappingConfig]:
    fails = draw(st.lists(st.integers(0, MAX_RECEIVES), min_size=1, max_size=6))
    report = draw(st.booleans())
    # Without partial batch responses a batch fails as a whole, and which messages share
    # a batch on a real server depends on timing: one message per batch keeps it exact.
    size = draw(st.integers(1, 4)) if report else 1
    types = ["ReportBatchItemFailures"] if report else []
    bodies = [f"{i}:{f}" for i, f in enumerate(fails)]
    return bodies, SQSMappingConfig(batch_size=size, function_response_types=types)


@settings(max_examples=3, deadline=None)
@given(scenario=sqs_scenarios())
def test_sqs_messages_end_the_same_way_in_both_runs(
    aws_endpoint: str, scenario: tuple[list[str], SQSMappingConfig]
) -> None:
    bodies, config = scenario
    expected = sqs_in_process(bodies, config)
    assert sqs_against_server(aws_endpoint, bodies, config) == expected
    # And both follow the queue's rule: a message that fails maxReceiveCount times is
    # redriven, any other is processed.
    assert expected == {
        body: "redriven" if int(body.split(":")[1]) >= MAX_RECEIVES else "processed"
        for body in bodies
    }


def stream_handler(fails: dict[str, int], seen: dict[str, int], batches: list[list[str]]) -> Any:
    """Fails a batch while one of its records was seen at most its ``fails`` times."""

    def handler(event: dict[str, Any], context: Any) -> None:
        data = [r["kinesis"]["partitionKey"] for r in event["Records"]]
        batches.append(data)
        failing = False
        for key in data:
            seen[key] = seen.get(key, 0) + 1
            failing = failing or seen[key] <= fails[key]
        if failing:
            raise RuntimeError("batch failed")

    return handler


@st.composite
def stream_scenarios(draw: st.DrawFn) -> tuple[dict[str, int], StreamMappingConfig]:
    counts = draw(st.lists(st.sampled_from([0, 0, 1, 5]), min_size=1, max_size=6))
    config = StreamMappingConfig(
        starting_position="TRIM_HORIZON",
        batch_size=draw(st.integers(1, 4)),
        maximum_retry_attempts=draw(st.integers(0, 2)),
        bisect_batch_on_function_error=draw(st.booleans()),
    )
    return {f"r{i}": count for i, count in enumerate(counts)}, config


def fates(poller: Any, keys: dict[str, str]) -> dict[str, str]:
    return {keys[o.sequence_number]: o.fate.value for o in poller.outcomes}


@settings(max_examples=4, deadline=None)
@given(scenario=stream_scenarios())
def test_stream_records_end_the_same_way_in_both_runs(
    aws_endpoint: str, scenario: tuple[dict[str, int], StreamMappingConfig]
) -> None:
    fails, config = scenario
    sched = Scheduler()
    stream = KinesisStream("local", scheduler=sched)
    keys = {stream.put_record(key.encode(), key)["SequenceNumber"]: key for key in fails}
    local_batches: list[list[str]] = []
    local = stream.map_to(
        Function("consumer", stream_handler(fails, {}, local_batches)), config,
        retry_delay=0.05,
    )  # fmt: skip
    sched.run(until=60)

    api = client("kinesis", aws_endpoint)
    name = f"eq-stream-{next(_names)}"
    api.create_stream(StreamName=name, ShardCount=1)
    remote_keys = {
        api.put_record(StreamName=name, Data=key.encode(), PartitionKey=key)["SequenceNumber"]: key
        for key in fails
    }
    remote_batches: list[list[str]] = []
    mapping = map_kinesis_stream(
        Function("consumer", stream_handler(fails, {}, remote_batches)), name, config,
        endpoint_url=aws_endpoint, polling_interval=0.02, retry_delay=0.02,
    )  # fmt: skip
    consumer = mapping.poller
    MappingRunner(mapping).run(
        timeout=8, until=lambda: consumer.read == len(fails) and consumer.poller.pending == 0
    )
    assert remote_batches == local_batches
    assert fates(consumer.poller, remote_keys) == fates(local.poller, keys)
    assert len(fates(local.poller, keys)) == len(fails)


def table_handler(fails: dict[str, int], seen: dict[str, int], batches: list[list[str]]) -> Any:
    """Fails a batch while one of its changes was seen at most its ``fails`` times."""

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        names = [
            f"{r['eventName']}:{r['dynamodb']['Keys']['id']['S']}:"
            f"{r['dynamodb'].get('NewImage', {}).get('n', {}).get('N', '-')}"
            for r in event["Records"]
        ]
        batches.append(names)
        failed = []
        for record, name in zip(event["Records"], names, strict=True):
            seen[name] = seen.get(name, 0) + 1
            if seen[name] <= fails.get(name, 0):
                failed.append(record["dynamodb"]["SequenceNumber"])
        return {"batchItemFailures": [{"itemIdentifier": n} for n in failed[:1]]}

    return handler


Write = tuple[str, int | None]
"""A write: an item id and its new ``n`` (None deletes the item)."""


@st.composite
def table_scenarios(draw: st.DrawFn) -> tuple[list[Write], dict[str, int], StreamMappingConfig]:
    drawn = draw(
        st.lists(st.tuples(st.sampled_from("ab"), st.none() | st.integers(0, 2)), max_size=6)
    )
    # Only writes that change the item: moto's stream records a put that changes nothing
    # (as MODIFY), where DynamoDB writes no record (a documented gap of the local server).
    writes: list[Write] = []
    items: dict[str, int | None] = {}
    for key, value in drawn:
        if items.get(key) != value:
            items[key] = value
            writes.append((key, value))
    config = StreamMappingConfig(
        starting_position="TRIM_HORIZON",
        batch_size=draw(st.integers(1, 3)),
        maximum_retry_attempts=draw(st.integers(0, 1)),
        function_response_types=["ReportBatchItemFailures"],
    )
    fails = draw(st.dictionaries(st.sampled_from(["INSERT:a:0", "MODIFY:b:1", "INSERT:b:2"]),
                                 st.integers(1, 3)))  # fmt: skip
    return writes, fails, config


def apply_writes(put: Any, delete: Any, writes: list[Write]) -> None:
    for key, value in writes:
        if value is None:
            delete(key)
        else:
            put(key, value)


@settings(max_examples=3, deadline=None)
@given(scenario=table_scenarios())
def test_dynamodb_changes_end_the_same_way_in_both_runs(
    aws_endpoint: str, scenario: tuple[list[Write], dict[str, int], StreamMappingConfig]
) -> None:
    writes, fails, config = scenario
    sched = Scheduler()
    table = Table("local", key_schema="id", scheduler=sched, seed=1)
    apply_writes(
        lambda key, n: table.put_item({"id": {"S": key}, "n": {"N": str(n)}}),
        lambda key: table.delete_item({"id": {"S": key}}),
        writes,
    )
    local_batches: list[list[str]] = []
    local = table.map_to(
        Function("consumer", table_handler(fails, {}, local_batches)), config, retry_delay=0.05
    )
    sched.run(until=60)

    ddb = client("dynamodb", aws_endpoint)
    name = f"eq-table-{next(_names)}"
    created = ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    apply_writes(
        lambda key, n: ddb.put_item(TableName=name, Item={"id": {"S": key}, "n": {"N": str(n)}}),
        lambda key: ddb.delete_item(TableName=name, Key={"id": {"S": key}}),
        writes,
    )
    remote_batches: list[list[str]] = []
    mapping = map_dynamodb_stream(
        Function("consumer", table_handler(fails, {}, remote_batches)),
        created["TableDescription"]["LatestStreamArn"], config, endpoint_url=aws_endpoint,
        polling_interval=0.02, retry_delay=0.02,
    )  # fmt: skip
    consumer = mapping.poller
    expected = len(local.poller.outcomes)
    MappingRunner(mapping).run(
        timeout=8, until=lambda: consumer.read >= expected and consumer.poller.pending == 0
    )
    assert remote_batches == local_batches
    local_fates = [(o.fate, o.condition) for o in local.poller.outcomes]
    assert [(o.fate, o.condition) for o in consumer.poller.outcomes] == local_fates
