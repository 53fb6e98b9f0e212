"""The event builders of `invokemodels.testing`: AWS's shapes key for key (reference
section 5, SAM CLI's and Powertools' sample events), realistic value formats, overrides,
and clear errors for bad input."""

# ruff: noqa: E501 (AWS's samples are kept verbatim, long ARNs and all)

from __future__ import annotations

import base64
import hashlib
import json
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from invokemodels.aws import KinesisStream, Queue, Table, from_attribute_value
from invokemodels.aws._sqs import md5_of_message_attributes
from invokemodels.core import Function, Scheduler, VirtualClock
from invokemodels.exceptions import InvalidParameterValueError
from invokemodels.mapping import StreamMappingConfig
from invokemodels.testing import (
    DEFAULT_EPOCH,
    dynamodb_event,
    dynamodb_record,
    eventbridge_event,
    function_url_event,
    http_api_event,
    kinesis_event,
    kinesis_record,
    rest_api_event,
    s3_event,
    s3_record,
    sns_event,
    sqs_event,
    sqs_message_attributes,
    sqs_record,
)

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


def skeleton(value: Any) -> Any:
    """A JSON value's shape: every key, kept in order, and the JSON type of every leaf."""
    if isinstance(value, dict):
        return [(key, skeleton(inner)) for key, inner in value.items()]
    if isinstance(value, list):
        return [skeleton(value[0])] if value else []
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    return "null" if value is None else "string"


def keys(value: Any) -> Any:
    """Like `skeleton`, with keys as sets (for samples whose key order differs)."""
    if isinstance(value, dict):
        return {key: keys(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [keys(value[0])] if value else []
    return skeleton(value)


# Reference 5.1, with the recorded "md5OfMessageAttributes": null.
SQS_STANDARD = json.loads("""
{"Records": [{
  "messageId": "059f36b4-87a3-44ab-83d2-661975830a7d",
  "receiptHandle": "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a...",
  "body": "Test message.",
  "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1545082649183",
                 "SenderId": "AIDAIENQZJOLO23YVJ4VO", "ApproximateFirstReceiveTimestamp": "1545082649185"},
  "messageAttributes": {},
  "md5OfMessageAttributes": null,
  "md5OfBody": "e4e68fb7bd0e697a0ae8f1bb342846b3",
  "eventSource": "aws:sqs",
  "eventSourceARN": "arn:aws:sqs:us-east-2:123456789012:my-queue",
  "awsRegion": "us-east-2"}]}
""")

# Reference 5.2, likewise.
SQS_FIFO = json.loads("""
{"Records": [{
  "messageId": "11d6ee51-4cc7-4302-9e22-7cd8afdaadf5",
  "receiptHandle": "AQEBBX8nesZEXmkhsmZeyIE8iQAMig7qw...",
  "body": "Test message.",
  "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1573251510774",
                 "SequenceNumber": "18849496460467696128", "MessageGroupId": "1",
                 "SenderId": "AIDAIO23YVJENQZJOL4VO", "MessageDeduplicationId": "1",
                 "ApproximateFirstReceiveTimestamp": "1573251510774"},
  "messageAttributes": {},
  "md5OfMessageAttributes": null,
  "md5OfBody": "e4e68fb7bd0e697a0ae8f1bb342846b3",
  "eventSource": "aws:sqs",
  "eventSourceARN": "arn:aws:sqs:us-east-2:123456789012:fifo.fifo",
  "awsRegion": "us-east-2"}]}
""")

# Reference 5.3.
KINESIS = json.loads("""
{"Records": [{
  "kinesis": {"kinesisSchemaVersion": "1.0", "partitionKey": "1",
              "sequenceNumber": "49590338271490256608559692538361571095921575989136588898",
              "data": "SGVsbG8sIHRoaXMgaXMgYSB0ZXN0Lg==", "approximateArrivalTimestamp": 1545084650.987},
  "eventSource": "aws:kinesis",
  "eventVersion": "1.0",
  "eventID": "shardId-000000000006:49590338271490256608559692538361571095921575989136588898",
  "eventName": "aws:kinesis:record",
  "invokeIdentityArn": "arn:aws:iam::123456789012:role/lambda-role",
  "awsRegion": "us-east-2",
  "eventSourceARN": "arn:aws:kinesis:us-east-2:123456789012:stream/lambda-stream"}]}
""")

# SAM CLI's DynamoDBUpdate.json (eventVersion 1.1 and ApproximateCreationDateTime, as recorded).
DYNAMODB = json.loads("""
{"Records": [
 {"eventID": "c4ca4238a0b923820dcc509a6f75849b", "eventName": "INSERT", "eventVersion": "1.1",
  "eventSource": "aws:dynamodb", "awsRegion": "us-east-1",
  "dynamodb": {"Keys": {"Id": {"N": "101"}}, "NewImage": {"Message": {"S": "New item!"}, "Id": {"N": "101"}},
               "ApproximateCreationDateTime": 1428537600, "SequenceNumber": "4421584500000000017450439091",
               "SizeBytes": 26, "StreamViewType": "NEW_AND_OLD_IMAGES"},
  "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/ExampleTableWithStream/stream/2015-06-27T00:48:05.899"},
 {"eventID": "c81e728d9d4c2f636f067f89cc14862c", "eventName": "MODIFY", "eventVersion": "1.1",
  "eventSource": "aws:dynamodb", "awsRegion": "us-east-1",
  "dynamodb": {"Keys": {"Id": {"N": "101"}}, "NewImage": {"Message": {"S": "This item has changed"}, "Id": {"N": "101"}},
               "OldImage": {"Message": {"S": "New item!"}, "Id": {"N": "101"}},
               "ApproximateCreationDateTime": 1428537600, "SequenceNumber": "4421584500000000017450439092",
               "SizeBytes": 59, "StreamViewType": "NEW_AND_OLD_IMAGES"},
  "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/ExampleTableWithStream/stream/2015-06-27T00:48:05.899"},
 {"eventID": "eccbc87e4b5ce2fe28308fd9f2a7baf3", "eventName": "REMOVE", "eventVersion": "1.1",
  "eventSource": "aws:dynamodb", "awsRegion": "us-east-1",
  "dynamodb": {"Keys": {"Id": {"N": "101"}}, "OldImage": {"Message": {"S": "This item has changed"}, "Id": {"N": "101"}},
               "ApproximateCreationDateTime": 1428537600, "SequenceNumber": "4421584500000000017450439093",
               "SizeBytes": 38, "StreamViewType": "NEW_AND_OLD_IMAGES"},
  "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/ExampleTableWithStream/stream/2015-06-27T00:48:05.899"}
]}
""")

# Powertools' eventBridgeEvent.json without its replay's "replay-name".
EVENTBRIDGE = json.loads("""
{"version": "0", "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
 "detail-type": "EC2 Instance State-change Notification", "source": "aws.ec2",
 "account": "111122223333", "time": "2017-12-22T18:43:48Z", "region": "us-west-1",
 "resources": ["arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0"],
 "detail": {"instance_id": "i-1234567890abcdef0", "state": "terminated"}}
""")


def test_an_sqs_event_is_the_standard_queue_sample_key_for_key() -> None:
    assert skeleton(sqs_event()) == skeleton(SQS_STANDARD)


def test_a_fifo_sqs_event_is_the_fifo_sample_key_for_key() -> None:
    event = sqs_event(queue_arn="arn:aws:sqs:us-east-2:123456789012:fifo.fifo")
    assert skeleton(event) == skeleton(SQS_FIFO)


def test_an_sqs_record_reproduces_the_samples_values() -> None:
    record = sqs_record(
        "Test message.",
        queue_arn="arn:aws:sqs:us-east-2:123456789012:my-queue",
        message_id="059f36b4-87a3-44ab-83d2-661975830a7d",
        receipt_handle="AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a...",
        sent_timestamp=1545082649.183,
        first_receive_timestamp=1545082649.185,
    )
    assert record == SQS_STANDARD["Records"][0]


def test_a_fifo_record_reproduces_the_samples_values() -> None:
    record = sqs_record(
        "Test message.",
        queue_arn="arn:aws:sqs:us-east-2:123456789012:fifo.fifo",
        message_id="11d6ee51-4cc7-4302-9e22-7cd8afdaadf5",
        receipt_handle="AQEBBX8nesZEXmkhsmZeyIE8iQAMig7qw...",
        sent_timestamp=1573251510.774,
        first_receive_timestamp=1573251510.774,
        sender_id="AIDAIO23YVJENQZJOL4VO",
        message_group_id="1",
        message_deduplication_id="1",
        sequence_number="18849496460467696128",
    )
    assert record == SQS_FIFO["Records"][0]


@pytest.mark.parametrize("name", ["orders", "orders.fifo"])
def test_an_sqs_record_is_what_the_in_memory_mapping_delivers(name: str) -> None:
    attributes = {"tenant": "acme", "size": 3, "blob": b"\x00\x01"}
    scheduler = Scheduler()
    queue = Queue(name, scheduler=scheduler, seed=1)
    if queue.fifo:
        queue.send_message("hello", sqs_message_attributes(attributes), message_group_id="g",
                           message_deduplication_id="d")  # fmt: skip
    else:
        queue.send_message("hello", sqs_message_attributes(attributes))
    seen: list[dict[str, Any]] = []
    queue.map_to(Function("capture", lambda event, context: seen.extend(event["Records"])))
    scheduler.run_until_idle()
    (delivered,) = seen
    system = delivered["attributes"]
    fifo = {
        "message_group_id": "g",
        "message_deduplication_id": "d",
        "sequence_number": system.get("SequenceNumber"),
    }
    built = sqs_record(
        "hello",
        queue_arn=queue.arn,
        message_attributes=attributes,
        message_id=delivered["messageId"],
        receipt_handle=delivered["receiptHandle"],
        sender_id=system["SenderId"],
        sent_timestamp=int(system["SentTimestamp"]) / 1000,
        first_receive_timestamp=int(system["ApproximateFirstReceiveTimestamp"]) / 1000,
        **(fifo if queue.fifo else {}),
    )
    assert json.dumps(built) == json.dumps(delivered)


def test_sqs_values_are_computed_from_the_message() -> None:
    record = sqs_record('{"id": 1}', message_attributes={"n": 1.5})
    assert record["md5OfBody"] == hashlib.md5(b'{"id": 1}').hexdigest()
    assert record["md5OfMessageAttributes"] == md5_of_message_attributes(
        {"n": {"DataType": "Number", "StringValue": "1.5"}}
    )
    assert UUID.fullmatch(record["messageId"])
    assert record["receiptHandle"].startswith("AQEB")
    assert record["attributes"]["SentTimestamp"] == str(int(DEFAULT_EPOCH * 1000))


def test_records_of_one_event_get_distinct_ids_and_fifo_sequence_numbers_increase() -> None:
    event = sqs_event("a", "b", "c", queue_arn="arn:aws:sqs:us-east-1:123456789012:q.fifo")
    records = event["Records"]
    assert len({r["messageId"] for r in records}) == 3
    assert len({r["receiptHandle"] for r in records}) == 3
    numbers = [int(r["attributes"]["SequenceNumber"]) for r in records]
    assert numbers == sorted(numbers)
    assert len(set(numbers)) == 3
    assert [r["attributes"]["MessageDeduplicationId"] for r in records] == [
        hashlib.sha256(body.encode()).hexdigest() for body in "abc"
    ]


def test_the_same_seed_gives_the_same_event_and_another_seed_other_ids() -> None:
    assert sqs_event("x", seed=3) == sqs_event("x", seed=3)
    assert (
        sqs_event("x", seed=3)["Records"][0]["messageId"]
        != sqs_event("x", seed=4)["Records"][0]["messageId"]
    )


def test_a_built_record_can_join_an_event() -> None:
    special = sqs_record("special", receive_count=4)
    event = sqs_event("plain", special)
    assert [r["body"] for r in event["Records"]] == ["plain", "special"]
    assert event["Records"][1]["attributes"]["ApproximateReceiveCount"] == "4"


@pytest.mark.parametrize(
    ("call", "parameter"),
    [
        (lambda: sqs_record(42), "body"),  # type: ignore[arg-type]
        (lambda: sqs_record("x", queue_arn="my-queue"), "queue_arn"),
        (lambda: sqs_record(""), "body"),
        (lambda: sqs_record("a\x08"), "body"),
        (lambda: sqs_record("x", receive_count=0), "receive_count"),
        (lambda: sqs_record("x", message_group_id="g"), "message_group_id"),
        (lambda: sqs_record("x", first_receive_timestamp=1.0), "first_receive_timestamp"),
        (lambda: sqs_record("x", message_attributes={"a": object()}), "message_attributes['a']"),
        (lambda: sqs_event("x", 3), "body"),  # type: ignore[arg-type]
        (lambda: kinesis_record(3.5), "data"),  # type: ignore[arg-type]
        (lambda: kinesis_event(sequence_number="12a"), "sequence_number"),
        (lambda: dynamodb_record("UPDATE"), "event_name"),
        (lambda: dynamodb_record(stream_view_type="ALL"), "stream_view_type"),
        (lambda: dynamodb_record("INSERT", old_image={"a": 1}), "old_image"),
        (lambda: dynamodb_record("REMOVE", new_image={"a": 1}), "new_image"),
        (lambda: dynamodb_record("INSERT", ttl=True), "ttl"),
        (lambda: s3_record(event_name="ObjectCreated:*"), "event_name"),
        (lambda: s3_record(size=-1), "size"),
        (lambda: rest_api_event("get"), "method"),
        (lambda: rest_api_event("GET", "orders"), "path"),
        (lambda: rest_api_event("GET", "/a/b", resource="/x/{id}"), "path"),
        (lambda: http_api_event(headers={"a": 1}), "headers['a']"),  # type: ignore[dict-item]
    ],
)
def test_bad_input_names_the_parameter(call: Any, parameter: str) -> None:
    with pytest.raises(InvalidParameterValueError) as caught:
        call()
    assert caught.value.parameter == parameter


def test_a_kinesis_event_is_the_sample_key_for_key_and_value_for_value() -> None:
    assert skeleton(kinesis_event()) == skeleton(KINESIS)
    record = kinesis_record(
        "Hello, this is a test.",
        partition_key="1",
        sequence_number="49590338271490256608559692538361571095921575989136588898",
        arrival_timestamp=1545084650.987,
        shard_id="shardId-000000000006",
        stream_arn="arn:aws:kinesis:us-east-2:123456789012:stream/lambda-stream",
    )
    assert record == KINESIS["Records"][0]


def test_kinesis_and_dynamodb_records_are_what_the_in_memory_mappings_deliver() -> None:
    scheduler = Scheduler(VirtualClock(epoch_origin=DEFAULT_EPOCH))
    stream = KinesisStream("MyStream", scheduler=scheduler)
    table = Table("Orders", key_schema="Id", scheduler=scheduler, seed=3)
    seen: list[dict[str, Any]] = []
    capture = Function("capture", lambda event, context: seen.extend(event["Records"]))
    config = StreamMappingConfig(starting_position="TRIM_HORIZON")
    stream.map_to(capture, config)
    table.map_to(capture, config)
    stream.put_record(b"payload", "key-1")
    table.put_item({"Id": {"N": "101"}, "Message": {"S": "New item!"}})
    table.put_item({"Id": {"N": "101"}, "Message": {"S": "changed"}})
    table.delete_item({"Id": {"N": "101"}})
    scheduler.run_until_idle()
    kinesis, *changes = seen
    shard, sequence = kinesis["eventID"].split(":")
    assert kinesis == kinesis_record(
        b"payload", partition_key="key-1", sequence_number=sequence, shard_id=shard,
        stream_arn=stream.arn, arrival_timestamp=DEFAULT_EPOCH,
    )  # fmt: skip
    images = [({"Message": "New item!"}, None), ({"Message": "changed"}, {"Message": "New item!"}),
              (None, {"Message": "changed"})]  # fmt: skip
    for delivered, (new, old) in zip(changes, images, strict=True):
        built = dynamodb_record(
            delivered["eventName"],
            keys={"Id": 101},
            new_image=new,
            old_image=old,
            sequence_number=delivered["dynamodb"]["SequenceNumber"],
            event_id=delivered["eventID"],
            stream_arn=table.stream_arn,
        )
        assert built == delivered


def test_kinesis_records_of_one_event_share_a_shard_with_increasing_sequence_numbers() -> None:
    event = kinesis_event(b"\x00", b"\xff", "text")
    records = event["Records"]
    numbers = [int(r["kinesis"]["sequenceNumber"]) for r in records]
    assert numbers == sorted(set(numbers))
    assert {r["eventID"].split(":")[0] for r in records} == {"shardId-000000000000"}
    assert [base64.b64decode(r["kinesis"]["data"]) for r in records] == [b"\x00", b"\xff", b"text"]
    assert all(r["eventID"].endswith(r["kinesis"]["sequenceNumber"]) for r in records)


def test_dynamodb_update_is_sams_sample_key_for_key_and_size_for_size() -> None:
    event = dynamodb_event(
        "INSERT",
        dynamodb_record("MODIFY", new_image={"Message": "This item has changed"},
                        old_image={"Message": "New item!"}),
        dynamodb_record("REMOVE", old_image={"Message": "This item has changed"}),
    )  # fmt: skip
    assert keys(event) == keys(DYNAMODB)
    assert [r["dynamodb"]["SizeBytes"] for r in event["Records"]] == [26, 59, 38]
    assert [from_attribute_value({"M": r["dynamodb"]["Keys"]}) for r in event["Records"]] == [
        {"Id": 101}
    ] * 3


@pytest.mark.parametrize(
    ("view", "name", "images"),
    [
        ("KEYS_ONLY", "MODIFY", set()),
        ("NEW_IMAGE", "MODIFY", {"NewImage"}),
        ("OLD_IMAGE", "MODIFY", {"OldImage"}),
        ("NEW_AND_OLD_IMAGES", "MODIFY", {"NewImage", "OldImage"}),
        ("NEW_AND_OLD_IMAGES", "INSERT", {"NewImage"}),
        ("NEW_AND_OLD_IMAGES", "REMOVE", {"OldImage"}),
        ("OLD_IMAGE", "INSERT", set()),
        ("NEW_IMAGE", "REMOVE", set()),
    ],
)
def test_a_dynamodb_record_keeps_the_images_its_view_type_and_event_name_give(
    view: str, name: str, images: set[str]
) -> None:
    change = dynamodb_record(name, stream_view_type=view)["dynamodb"]
    assert set(change) - {"ApproximateCreationDateTime", "Keys", "SequenceNumber",
                          "SizeBytes", "StreamViewType"} == images  # fmt: skip
    assert change["StreamViewType"] == view


def test_a_ttl_removal_carries_the_service_identity() -> None:
    record = dynamodb_record("REMOVE", ttl=True)
    assert record["userIdentity"] == {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
    assert "userIdentity" not in dynamodb_record("REMOVE")


def test_the_key_attributes_are_in_the_images() -> None:
    record = dynamodb_record("INSERT", keys={"pk": "a", "sk": 2}, new_image={"n": {1, 2}})
    assert record["dynamodb"]["NewImage"] == {
        "n": {"NS": ["1", "2"]},
        "pk": {"S": "a"},
        "sk": {"N": "2"},
    }


def test_an_eventbridge_event_is_the_sample_key_for_key() -> None:
    event = eventbridge_event(
        {"instance_id": "i-1234567890abcdef0", "state": "terminated"},
        source="aws.ec2",
        detail_type="EC2 Instance State-change Notification",
        resources=["arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0"],
    )
    assert skeleton(event) == skeleton(EVENTBRIDGE)
    assert UUID.fullmatch(event["id"])
    assert event["time"] == "2023-11-14T22:13:20Z"


def test_a_scheduled_event_names_its_rule() -> None:
    event = eventbridge_event()
    assert (event["source"], event["detail-type"], event["detail"]) == (
        "aws.events",
        "Scheduled Event",
        {},
    )
    assert event["resources"] == ["arn:aws:events:us-east-1:123456789012:rule/MyRule"]
    assert eventbridge_event({"a": 1}, source="com.example")["resources"] == []


def test_s3_put_and_delete_are_the_samples_key_for_key() -> None:
    put = s3_record()
    deleted = s3_record(event_name="ObjectRemoved:Delete")
    assert set(put["s3"]["object"]) == {"key", "size", "eTag", "sequencer"}
    assert set(deleted["s3"]["object"]) == {"key", "sequencer"}
    assert set(put) == {
        "eventVersion", "eventSource", "awsRegion", "eventTime", "eventName", "userIdentity",
        "requestParameters", "responseElements", "s3",
    }  # fmt: skip
    assert re.fullmatch("[0-9A-F]{18}", put["s3"]["object"]["sequencer"])
    assert re.fullmatch("[0-9a-f]{32}", put["s3"]["object"]["eTag"])
    assert re.fullmatch("[0-9A-F]{16}", put["responseElements"]["x-amz-request-id"])
    assert s3_record(size=0)["s3"]["object"]["eTag"] == hashlib.md5(b"").hexdigest()
    assert s3_event("a b.txt")["Records"][0]["s3"]["object"]["key"] == "a+b.txt"


def test_an_sns_event_has_one_record_with_the_topics_urls() -> None:
    event = sns_event("hi", message_attributes={"kind": "order", "raw": b"\x01"})
    (record,) = event["Records"]
    sns = record["Sns"]
    topic = "arn:aws:sns:us-east-1:123456789012:ExampleTopic"
    assert sns["TopicArn"] == topic
    assert re.fullmatch(re.escape(topic) + ":" + UUID.pattern, record["EventSubscriptionArn"])
    assert sns["UnsubscribeUrl"] == (
        "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn="
        + record["EventSubscriptionArn"]
    )
    assert re.fullmatch(
        r"https://sns\.us-east-1\.amazonaws\.com/SimpleNotificationService-[0-9a-f]{32}\.pem",
        sns["SigningCertUrl"],
    )
    assert len(base64.b64decode(sns["Signature"])) == 256
    assert sns["MessageAttributes"] == {
        "kind": {"Type": "String", "Value": "order"},
        "raw": {"Type": "Binary", "Value": "AQ=="},
    }
    assert sns_event("x", subject=None)["Records"][0]["Sns"]["Subject"] is None


REST_KEYS = [
    "resource", "path", "httpMethod", "headers", "multiValueHeaders", "queryStringParameters",
    "multiValueQueryStringParameters", "pathParameters", "stageVariables", "requestContext",
    "body", "isBase64Encoded",
]  # fmt: skip


def test_a_rest_api_event_maps_repeated_names_path_parameters_and_binary_bodies() -> None:
    event = rest_api_event(
        "GET",
        "/orders/42/items/a/b",
        body=b"\x00\x01",
        headers={"X-Many": ["1", "2"]},
        query={"tag": ["a", "b"], "q": "x"},
        resource="/orders/{id}/items/{rest+}",
    )
    assert list(event) == REST_KEYS
    assert event["headers"] == {"X-Many": "2"}
    assert event["multiValueHeaders"] == {"X-Many": ["1", "2"]}
    assert event["queryStringParameters"] == {"tag": "b", "q": "x"}
    assert event["multiValueQueryStringParameters"] == {"tag": ["a", "b"], "q": ["x"]}
    assert event["pathParameters"] == {"id": "42", "rest": "a/b"}
    assert (event["body"], event["isBase64Encoded"]) == ("AAE=", True)
    context = event["requestContext"]
    assert context["path"] == "/prod/orders/42/items/a/b"
    assert context["resourcePath"] == "/orders/{id}/items/{rest+}"
    assert context["requestTimeEpoch"] == int(DEFAULT_EPOCH * 1000)
    assert UUID.fullmatch(context["requestId"])


def test_a_rest_api_event_without_query_has_null_maps() -> None:
    event = rest_api_event("GET", "/", body=None)
    assert event["queryStringParameters"] is None
    assert event["multiValueQueryStringParameters"] is None
    assert event["pathParameters"] is None
    assert event["body"] is None
    assert event["headers"]["Host"] == "1234567890.execute-api.us-east-1.amazonaws.com"


def test_an_http_api_event_joins_repeats_with_commas_and_keeps_the_raw_query() -> None:
    event = http_api_event(
        "POST",
        "/orders/7",
        headers={"Header2": ["value1", "value2"]},
        query={"parameter1": ["value1", "value2"], "parameter2": "value"},
        cookies=["cookie1", "cookie2"],
        route="/orders/{id}",
    )
    assert event["rawQueryString"] == "parameter1=value1&parameter1=value2&parameter2=value"
    assert event["queryStringParameters"] == {"parameter1": "value1,value2", "parameter2": "value"}
    assert event["headers"] == {"header2": "value1,value2"}
    assert event["cookies"] == ["cookie1", "cookie2"]
    assert event["routeKey"] == event["requestContext"]["routeKey"] == "POST /orders/{id}"
    assert event["pathParameters"] == {"id": "7"}
    assert list(event) == [
        "version", "routeKey", "rawPath", "rawQueryString", "cookies", "headers",
        "queryStringParameters", "requestContext", "body", "pathParameters", "isBase64Encoded",
    ]  # fmt: skip


def test_a_function_url_event_has_lambdas_placeholders() -> None:
    event = function_url_event()
    context = event["requestContext"]
    assert (event["routeKey"], context["stage"], context["accountId"]) == (
        "$default",
        "$default",
        "anonymous",
    )
    assert context["domainName"] == "a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p6.lambda-url.us-east-1.on.aws"
    assert "body" not in event
    assert "pathParameters" not in event


@settings(max_examples=60)
@given(st.text(max_size=5))
def test_a_body_is_built_exactly_when_sqs_would_accept_it(body: str) -> None:
    queue = Queue("q", scheduler=Scheduler(), seed=1)
    try:
        queue.send_message(body)
    except InvalidParameterValueError:
        with pytest.raises(InvalidParameterValueError, match=r"^body="):
            sqs_record(body)
    else:
        assert sqs_record(body)["body"] == body
