"""Real AWS Lambda Powertools handlers, unchanged, under the invocation models: the batch
processors with ``process_partial_response`` for SQS (standard and FIFO) and Kinesis, event
data classes, parser models and ``Logger.inject_lambda_context``.  What each handler does
with the events is Powertools' own code; the timelines are the mappings'."""

from __future__ import annotations

import io
import json
from collections import Counter
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    SqsFifoPartialProcessor,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes import (
    APIGatewayProxyEventV2,
    DynamoDBStreamEvent,
    EventBridgeEvent,
    S3Event,
    SNSEvent,
    event_source,
)
from aws_lambda_powertools.utilities.data_classes.kinesis_stream_event import (
    KinesisStreamRecord,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.parser.models import SqsModel, SqsRecordModel
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, Json

from invokemodels import (
    EventInvoker,
    Function,
    KinesisStream,
    Queue,
    Scheduler,
    SQSMappingConfig,
    Table,
)
from invokemodels.aws import MessageState
from invokemodels.mapping import StreamMappingConfig
from invokemodels.sync import RequestResponseInvoker
from invokemodels.testing import (
    eventbridge_event,
    http_api_event,
    s3_event,
    sns_event,
    sqs_events,
    sqs_record,
)

REPORT = ["ReportBatchItemFailures"]


def test_batch_processor_retries_only_the_failed_sqs_message() -> None:
    scheduler = Scheduler()
    queue = Queue("orders", scheduler=scheduler, visibility_timeout=30, seed=1)
    processor = BatchProcessor(event_type=EventType.SQS)
    seen: list[tuple[float, str]] = []

    def record_handler(record: SQSRecord) -> None:
        seen.append((scheduler.now, record.body))
        if record.body == "bad" and sum(body == "bad" for _, body in seen) < 3:
            raise ValueError("not yet")

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )

    queue.map_to(Function("orders", handler), SQSMappingConfig(function_response_types=REPORT))
    for body in ("a", "bad", "c"):
        queue.send_message(body)
    scheduler.run_until_idle()
    assert seen == [(0.0, "a"), (0.0, "bad"), (0.0, "c"), (30.0, "bad"), (60.0, "bad")]
    assert queue.count(MessageState.DELETED) == 3


def test_sqs_fifo_partial_processor_keeps_the_group_in_order() -> None:
    scheduler = Scheduler()
    queue = Queue("orders.fifo", scheduler=scheduler, visibility_timeout=20, seed=1)
    processor = SqsFifoPartialProcessor()
    seen: list[tuple[float, str]] = []

    def record_handler(record: SQSRecord) -> None:
        seen.append((scheduler.now, record.body))
        if record.body == "2" and scheduler.now == 0.0:
            raise ValueError("first time")

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )

    config = SQSMappingConfig(batch_size=10, function_response_types=REPORT)
    queue.map_to(Function("orders", handler), config)
    for index in range(1, 5):
        queue.send_message(str(index), message_group_id="g", message_deduplication_id=str(index))
    scheduler.run_until_idle()
    # The processor stops at the first failure and reports the rest: 2, 3 and 4 come back
    # together, in order, after the visibility timeout.
    assert seen == [(0.0, "1"), (0.0, "2"), (20.0, "2"), (20.0, "3"), (20.0, "4")]
    assert queue.count(MessageState.DELETED) == 4


def test_batch_processor_checkpoints_a_kinesis_shard_at_the_failed_record() -> None:
    scheduler = Scheduler()
    stream = KinesisStream("clicks", scheduler=scheduler)
    processor = BatchProcessor(event_type=EventType.KinesisDataStreams)
    seen: list[tuple[float, str]] = []
    failures = Counter({"b": 1})

    def record_handler(record: KinesisStreamRecord) -> None:
        data = record.kinesis.data_as_text()
        seen.append((scheduler.now, data))
        if failures[data]:
            failures[data] -= 1
            raise ValueError(data)

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )

    config = StreamMappingConfig(starting_position="TRIM_HORIZON", function_response_types=REPORT)
    stream.map_to(Function("clicks", handler), config)
    for data in "abc":
        stream.put_record(data, "one-key")
    scheduler.run_until_idle()
    # Powertools reports b's sequence number; the mapping resumes from b.
    assert [data for _, data in seen] == ["a", "b", "c", "b", "c"]
    assert seen[3][0] > seen[2][0]


def test_dynamodb_stream_event_data_class_reads_the_tables_changes() -> None:
    scheduler = Scheduler()
    table = Table("Orders", key_schema="Id", scheduler=scheduler, seed=2)
    changes: list[tuple[str, Any, Any]] = []

    @event_source(data_class=DynamoDBStreamEvent)
    def handler(event: DynamoDBStreamEvent, context: Any) -> None:
        for record in event.records:
            change = record.dynamodb
            assert change is not None
            changes.append((record.event_name.name, change.new_image, change.old_image))

    table.map_to(Function("orders", handler), StreamMappingConfig(starting_position="LATEST"))
    table.put_item({"Id": {"N": "1"}, "status": {"S": "new"}})
    table.put_item({"Id": {"N": "1"}, "status": {"S": "paid"}})
    table.delete_item({"Id": {"N": "1"}})
    scheduler.run_until_idle()
    assert changes == [
        ("INSERT", {"Id": 1, "status": "new"}, {}),
        ("MODIFY", {"Id": 1, "status": "paid"}, {"Id": 1, "status": "new"}),
        ("REMOVE", {}, {"Id": 1, "status": "paid"}),
    ]


class Order(BaseModel):
    order_id: int


class OrderRecord(SqsRecordModel):
    body: Json[Order]  # type: ignore[assignment]


class OrderEvent(SqsModel):
    Records: list[OrderRecord]  # type: ignore[assignment]


def test_an_event_parser_handler_gets_the_models_it_declares() -> None:
    scheduler = Scheduler()
    queue = Queue("orders", scheduler=scheduler, seed=1)
    totals: list[int] = []

    @event_parser(model=OrderEvent)
    def handler(event: OrderEvent, context: Any) -> None:
        totals.extend(record.body.order_id for record in event.Records)

    queue.map_to(Function("orders", handler))
    for order_id in (7, 8):
        queue.send_message(json.dumps({"order_id": order_id}))
    scheduler.run_until_idle()
    assert sorted(totals) == [7, 8]


def test_logger_inject_lambda_context_logs_the_contexts_fields() -> None:
    buffer = io.StringIO()
    logger = Logger(service="orders", stream=buffer)

    @logger.inject_lambda_context
    def handler(event: dict[str, Any], context: Any) -> str:
        logger.info("handled", extra={"records": len(event["Records"])})
        return "ok"

    function = Function("orders", handler, memory_size=512)
    invoker = RequestResponseInvoker(function, scheduler=Scheduler(), seed=3)
    event = json.dumps({"Records": [sqs_record("x")]}).encode()
    invoker.invoke(event)
    invoker.invoke(event)
    first, second = (json.loads(line) for line in buffer.getvalue().splitlines())
    attempts = list(invoker.history)
    assert first["function_name"] == "orders"
    assert first["function_memory_size"] == "512"  # a string, as awslambdaric gives it
    assert first["function_arn"] == function.arn
    assert [first["function_request_id"], second["function_request_id"]] == [
        span.request_id for span in attempts
    ]
    assert (first["cold_start"], second["cold_start"]) == (True, False)
    assert first["records"] == 1


@settings(max_examples=30)
@given(sqs_events(body=st.sampled_from(["ok", "fail"])))
def test_the_batch_processor_reports_exactly_the_failing_generated_records(
    event: dict[str, Any],
) -> None:
    processor = BatchProcessor(event_type=EventType.SQS)

    def record_handler(record: SQSRecord) -> None:
        if record.body == "fail":
            raise ValueError("fail")

    bodies = [r["body"] for r in event["Records"]]
    if set(bodies) == {"fail"}:
        return  # Powertools raises when every record fails: the whole batch failed
    response = process_partial_response(
        event=event, record_handler=record_handler, processor=processor
    )
    assert [f["itemIdentifier"] for f in response["batchItemFailures"]] == [
        r["messageId"] for r in event["Records"] if r["body"] == "fail"
    ]


def test_event_data_classes_read_the_built_events_through_the_event_model() -> None:
    scheduler = Scheduler()
    read: list[tuple[str, str]] = []

    @event_source(data_class=S3Event)
    def on_upload(event: S3Event, context: Any) -> None:
        read.append(("s3", f"{event.bucket_name}/{event.object_key}"))

    @event_source(data_class=SNSEvent)
    def on_notification(event: SNSEvent, context: Any) -> None:
        read.append(("sns", event.sns_message))

    @event_source(data_class=EventBridgeEvent)
    def on_schedule(event: EventBridgeEvent, context: Any) -> None:
        read.append(("eventbridge", f"{event.source} {event.detail_type}"))

    for name, handler, event in (
        ("uploads", on_upload, s3_event("photos/red flower.jpg", bucket="media")),
        ("alerts", on_notification, sns_event("disk full")),
        ("nightly", on_schedule, eventbridge_event()),
    ):
        EventInvoker(Function(name, handler), scheduler=scheduler, seed=1).invoke(event)
    scheduler.run_until_idle()
    assert read == [
        ("s3", "media/photos/red flower.jpg"),  # the data class decodes the key
        ("sns", "disk full"),
        ("eventbridge", "aws.events Scheduled Event"),
    ]


def test_an_http_api_data_class_reads_the_built_request() -> None:
    @event_source(data_class=APIGatewayProxyEventV2)
    def handler(event: APIGatewayProxyEventV2, context: Any) -> dict[str, Any]:
        return {
            "statusCode": 200,
            "body": json.dumps(
                {
                    "method": event.request_context.http.method,
                    "id": event.path_parameters["id"],
                    "tags": event.query_string_parameters["tag"],
                    "body": event.decoded_body,
                }
            ),
        }

    invoker = RequestResponseInvoker(Function("api", handler), scheduler=Scheduler(), seed=1)
    request = http_api_event(
        "PUT", "/orders/9", route="/orders/{id}", query={"tag": ["a", "b"]}, body=b"raw"
    )
    response = invoker.invoke(request)
    assert json.loads(response.json()["body"]) == {
        "method": "PUT",
        "id": "9",
        "tags": "a,b",
        "body": "raw",
    }
