"""The event strategies of `invokemodels.testing`: every generated event parses with AWS
Lambda Powertools' parser model of its service, has exactly AWS's keys, and has realistic,
self-consistent values (MD5s of the body, increasing sequence numbers, one queue / shard
/ table per batch)."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import urllib.parse
from typing import Any

import pytest
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.models import (
    APIGatewayProxyEventModel,
    APIGatewayProxyEventV2Model,
    DynamoDBStreamModel,
    EventBridgeModel,
    KinesisDataStreamModel,
    LambdaFunctionUrlModel,
    S3Model,
    SnsModel,
    SqsModel,
    SqsRecordModel,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, Json

from invokemodels import testing
from invokemodels.aws._dynamodb import stream_record_size
from invokemodels.aws._sqs import md5_of_message_attributes
from invokemodels.exceptions import InvalidParameterValueError

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")

SQS_KEYS = [
    "messageId", "receiptHandle", "body", "attributes", "messageAttributes",
    "md5OfMessageAttributes", "md5OfBody", "eventSource", "eventSourceARN", "awsRegion",
]  # fmt: skip
SQS_STANDARD_ATTRIBUTES = [
    "ApproximateReceiveCount", "SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp",
]  # fmt: skip
SQS_FIFO_ATTRIBUTES = [
    "ApproximateReceiveCount", "SentTimestamp", "SequenceNumber", "MessageGroupId", "SenderId",
    "MessageDeduplicationId", "ApproximateFirstReceiveTimestamp",
]  # fmt: skip


@pytest.mark.parametrize(
    ("strategy", "model", "spec"),
    [
        (testing.sqs_events(), SqsModel, "sqs"),
        (testing.kinesis_events(), KinesisDataStreamModel, "kinesis"),
        (testing.dynamodb_events(ttl=True), DynamoDBStreamModel, "dynamodb"),
        (testing.eventbridge_events(), EventBridgeModel, "eventbridge"),
        (testing.s3_events(), S3Model, "s3"),
        (testing.sns_events(), SnsModel, "sns"),
        (testing.rest_api_events(), APIGatewayProxyEventModel, "rest"),
        (testing.http_api_events(), APIGatewayProxyEventV2Model, "http"),
        (testing.function_url_events(), LambdaFunctionUrlModel, "url"),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_every_generated_event_has_aws_keys_and_parses_with_the_powertools_model(
    strategy: st.SearchStrategy[dict[str, Any]], model: type[BaseModel], spec: str
) -> None:
    @given(strategy)
    def check(event: dict[str, Any]) -> None:
        json.dumps(event, allow_nan=False)  # what a handler receives is JSON
        check_keys(event, SPECS[spec])
        parse(event=event, model=model)

    check()


class Order(BaseModel):
    order_id: int
    item: str


class OrderRecord(SqsRecordModel):
    body: Json[Order]  # type: ignore[assignment]


class OrderEvent(SqsModel):
    Records: list[OrderRecord]  # type: ignore[assignment]


orders = st.builds(Order, order_id=st.integers(1, 10**6), item=st.text(min_size=1))


@settings(max_examples=40)
@given(testing.sqs_events(body=orders.map(lambda o: o.model_dump_json())))
def test_the_interesting_part_is_the_users(event: dict[str, Any]) -> None:
    parsed = parse(event=event, model=OrderEvent)
    assert [r.body for r in parsed.Records] == [
        Order.model_validate_json(r["body"]) for r in event["Records"]
    ]


@settings(max_examples=40)
@given(testing.sqs_events())
def test_sqs_records_are_one_queues_batch_with_computed_md5s(event: dict[str, Any]) -> None:
    records = event["Records"]
    assert 1 <= len(records) <= 10
    (arn,) = {r["eventSourceARN"] for r in records}
    fifo = arn.endswith(".fifo")
    assert len({r["messageId"] for r in records}) == len(records)
    sent = [int(r["attributes"]["SentTimestamp"]) for r in records]
    assert sent == sorted(sent)
    for record in records:
        assert list(record) == SQS_KEYS
        assert list(record["attributes"]) == (
            SQS_FIFO_ATTRIBUTES if fifo else SQS_STANDARD_ATTRIBUTES
        )
        assert all(isinstance(v, str) for v in record["attributes"].values())
        assert UUID.fullmatch(record["messageId"])
        assert record["awsRegion"] == arn.split(":")[3]
        assert record["md5OfBody"] == hashlib.md5(record["body"].encode()).hexdigest()
        sqs_shape = {
            name: {"DataType": spec["dataType"]}
            | (
                {"BinaryValue": base64.b64decode(spec["binaryValue"])}
                if "binaryValue" in spec
                else {"StringValue": spec["stringValue"]}
            )
            for name, spec in record["messageAttributes"].items()
        }
        assert record["md5OfMessageAttributes"] == md5_of_message_attributes(sqs_shape)
        first = int(record["attributes"]["ApproximateFirstReceiveTimestamp"])
        assert first >= int(record["attributes"]["SentTimestamp"])
        assert int(record["attributes"]["ApproximateReceiveCount"]) >= 1
    if fifo:
        numbers = [int(r["attributes"]["SequenceNumber"]) for r in records]
        assert numbers == sorted(set(numbers))
        dedup = [r["attributes"]["MessageDeduplicationId"] for r in records]
        assert len(set(dedup)) == len(dedup)


@settings(max_examples=40)
@given(testing.sqs_events(fifo=True, min_size=3, max_size=3))
def test_fifo_batches_are_fifo_and_of_the_asked_size(event: dict[str, Any]) -> None:
    assert len(event["Records"]) == 3
    assert all(r["eventSourceARN"].endswith(".fifo") for r in event["Records"])


@settings(max_examples=40)
@given(testing.kinesis_events(data=st.binary(min_size=1)))
def test_kinesis_records_are_one_shards_batch(event: dict[str, Any]) -> None:
    records = event["Records"]
    assert len({r["eventSourceARN"] for r in records}) == 1
    shards = {r["eventID"].split(":")[0] for r in records}
    assert len(shards) == 1
    assert re.fullmatch(r"shardId-[0-9]{12}", shards.pop())
    numbers = [int(r["kinesis"]["sequenceNumber"]) for r in records]
    assert numbers == sorted(set(numbers))
    arrivals = [r["kinesis"]["approximateArrivalTimestamp"] for r in records]
    assert arrivals == sorted(arrivals)
    for record in records:
        assert len(record["kinesis"]["sequenceNumber"]) == 56
        assert (
            record["eventID"]
            == f"{record['eventID'].split(':')[0]}:" + (record["kinesis"]["sequenceNumber"])
        )
        assert base64.b64decode(record["kinesis"]["data"])
        assert (
            round(record["kinesis"]["approximateArrivalTimestamp"], 3)
            == (record["kinesis"]["approximateArrivalTimestamp"])
        )


@settings(max_examples=40)
@given(testing.dynamodb_events())
def test_dynamodb_records_follow_their_view_type_and_event_name(event: dict[str, Any]) -> None:
    records = event["Records"]
    (view,) = {r["dynamodb"]["StreamViewType"] for r in records}
    assert len({r["eventSourceARN"] for r in records}) == 1
    numbers = [int(r["dynamodb"]["SequenceNumber"]) for r in records]
    assert numbers == sorted(set(numbers))
    for record in records:
        change = record["dynamodb"]
        name = record["eventName"]
        has_new = name != "REMOVE" and view in ("NEW_IMAGE", "NEW_AND_OLD_IMAGES")
        has_old = name != "INSERT" and view in ("OLD_IMAGE", "NEW_AND_OLD_IMAGES")
        assert ("NewImage" in change, "OldImage" in change) == (has_new, has_old)
        assert change["SizeBytes"] == stream_record_size(change)
        assert change["ApproximateCreationDateTime"] == int(change["ApproximateCreationDateTime"])
        for image in ("NewImage", "OldImage"):
            if image in change:
                assert change[image].items() >= change["Keys"].items()
        assert re.fullmatch("[0-9a-f]{32}", record["eventID"])
        assert "userIdentity" not in record


@settings(max_examples=40)
@given(
    testing.dynamodb_events(
        items=st.fixed_dictionaries({"status": st.sampled_from(["new", "paid"])}),
        keys=["orderId"],
        event_name="MODIFY",
        stream_view_type="NEW_AND_OLD_IMAGES",
    )
)
def test_dynamodb_items_keys_and_names_are_the_users(event: dict[str, Any]) -> None:
    for record in event["Records"]:
        assert record["eventName"] == "MODIFY"
        assert set(record["dynamodb"]["Keys"]) == {"orderId"}
        assert set(record["dynamodb"]["NewImage"]) == {"orderId", "status"}


@settings(max_examples=40)
@given(testing.eventbridge_events(detail=st.fixed_dictionaries({"n": st.integers()})))
def test_eventbridge_events_carry_the_users_detail(event: dict[str, Any]) -> None:
    assert list(event) == [
        "version", "id", "detail-type", "source", "account", "time", "region", "resources",
        "detail",
    ]  # fmt: skip
    assert set(event["detail"]) == {"n"}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", event["time"])
    assert UUID.fullmatch(event["id"])


@settings(max_examples=40)
@given(testing.s3_events())
def test_s3_records_carry_size_and_etag_only_for_created_objects(event: dict[str, Any]) -> None:
    (record,) = event["Records"]
    obj = record["s3"]["object"]
    created = record["eventName"].startswith("ObjectCreated:")
    assert ("size" in obj, "eTag" in obj) == (created, created)
    if record["eventName"] == "ObjectRemoved:DeleteMarkerCreated":
        assert "versionId" in obj
    assert re.fullmatch("[0-9A-F]{18}", obj["sequencer"])
    assert record["s3"]["bucket"]["arn"] == f"arn:aws:s3:::{record['s3']['bucket']['name']}"


@settings(max_examples=40)
@given(testing.s3_events(key=st.text(min_size=1)))
def test_s3_keys_arrive_url_encoded(event: dict[str, Any]) -> None:
    key = event["Records"][0]["s3"]["object"]["key"]
    assert " " not in key
    assert urllib.parse.quote_plus(urllib.parse.unquote_plus(key), safe="/") == key


@settings(max_examples=40)
@given(testing.sns_events(message=st.text(min_size=1)))
def test_sns_events_are_one_notification(event: dict[str, Any]) -> None:
    (record,) = event["Records"]
    assert list(record) == ["EventVersion", "EventSubscriptionArn", "EventSource", "Sns"]
    sns = record["Sns"]
    assert record["EventSubscriptionArn"].startswith(sns["TopicArn"] + ":")
    assert UUID.fullmatch(sns["MessageId"])
    for attribute in sns["MessageAttributes"].values():
        assert attribute["Type"] in ("String", "Number", "Binary")


@settings(max_examples=40)
@given(testing.http_api_events())
def test_http_api_bodies_and_queries_are_encoded_as_aws_does(event: dict[str, Any]) -> None:
    pairs = urllib.parse.parse_qsl(event["rawQueryString"], keep_blank_values=True)
    joined: dict[str, str] = {}
    for name, value in pairs:
        joined[name] = f"{joined[name]},{value}" if name in joined else value
    assert event.get("queryStringParameters") == (joined or None)
    if event["isBase64Encoded"]:
        base64.b64decode(event["body"], validate=True)
    assert all(name == name.lower() for name in event["headers"])


@settings(max_examples=40)
@given(testing.rest_api_events(body=st.binary(min_size=1), method="PUT", path="/x"))
def test_rest_api_binary_bodies_are_base64(event: dict[str, Any]) -> None:
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"])
    assert (event["httpMethod"], event["path"]) == ("PUT", "/x")


@pytest.mark.parametrize(
    ("call", "parameter"),
    [
        (lambda: testing.sqs_events(min_size=0), "min_size"),
        (lambda: testing.kinesis_events(max_size=10_001), "max_size"),
        (lambda: testing.dynamodb_events(min_size=5, max_size=2), "min_size"),
    ],
)
def test_bad_batch_sizes_name_the_parameter(call: Any, parameter: str) -> None:
    with pytest.raises(InvalidParameterValueError) as caught:
        call()
    assert caught.value.parameter == parameter


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'sqs_eventz'"):
        _ = testing.sqs_eventz  # type: ignore[attr-defined]


def test_without_hypothesis_the_strategies_name_the_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "hypothesis", None)
    monkeypatch.delitem(sys.modules, "invokemodels.testing._strategies")
    with pytest.raises(ImportError, match=r"pip install 'invokemodels\[testing\]'"):
        _ = testing.sqs_events


# -- exact key sets -------------------------------------------------------------------------
# A spec maps each key to the spec of its value (None: a leaf, or a map whose keys are the
# user's: attributes, images, headers, detail); a key ending in "?" may be absent.  A list
# spec is the spec of every element.

SQS_ATTRIBUTE = {"stringValue?": None, "binaryValue?": None, "stringListValues": None,
                 "binaryListValues": None, "dataType": None}  # fmt: skip
SPECS: dict[str, Any] = {
    "sqs": {"Records": [{
        "messageId": None, "receiptHandle": None, "body": None,
        "attributes": {"ApproximateReceiveCount": None, "SentTimestamp": None,
                       "SequenceNumber?": None, "MessageGroupId?": None, "SenderId": None,
                       "MessageDeduplicationId?": None, "ApproximateFirstReceiveTimestamp": None},
        "messageAttributes": {"*": SQS_ATTRIBUTE}, "md5OfMessageAttributes": None,
        "md5OfBody": None, "eventSource": None, "eventSourceARN": None, "awsRegion": None}]},
    "kinesis": {"Records": [{
        "kinesis": {"kinesisSchemaVersion": None, "partitionKey": None, "sequenceNumber": None,
                    "data": None, "approximateArrivalTimestamp": None},
        "eventSource": None, "eventVersion": None, "eventID": None, "eventName": None,
        "invokeIdentityArn": None, "awsRegion": None, "eventSourceARN": None}]},
    "dynamodb": {"Records": [{
        "eventID": None, "eventName": None, "eventVersion": None, "eventSource": None,
        "awsRegion": None, "userIdentity?": {"type": None, "principalId": None},
        "dynamodb": {"ApproximateCreationDateTime": None, "Keys": None, "NewImage?": None,
                     "OldImage?": None, "SequenceNumber": None, "SizeBytes": None,
                     "StreamViewType": None},
        "eventSourceARN": None}]},
    "eventbridge": {"version": None, "id": None, "detail-type": None, "source": None,
                    "account": None, "time": None, "region": None, "resources": None,
                    "detail": None},
    "s3": {"Records": [{
        "eventVersion": None, "eventSource": None, "awsRegion": None, "eventTime": None,
        "eventName": None, "userIdentity": {"principalId": None},
        "requestParameters": {"sourceIPAddress": None},
        "responseElements": {"x-amz-request-id": None, "x-amz-id-2": None},
        "s3": {"s3SchemaVersion": None, "configurationId": None,
               "bucket": {"name": None, "ownerIdentity": {"principalId": None}, "arn": None},
               "object": {"key": None, "size?": None, "eTag?": None, "versionId?": None,
                          "sequencer": None}}}]},
    "sns": {"Records": [{
        "EventVersion": None, "EventSubscriptionArn": None, "EventSource": None,
        "Sns": {"SignatureVersion": None, "Timestamp": None, "Signature": None,
                "SigningCertUrl": None, "MessageId": None, "Message": None,
                "MessageAttributes": {"*": {"Type": None, "Value": None}}, "Type": None,
                "UnsubscribeUrl": None, "TopicArn": None, "Subject": None}}]},
    "rest": {"resource": None, "path": None, "httpMethod": None, "headers": None,
             "multiValueHeaders": None, "queryStringParameters": None,
             "multiValueQueryStringParameters": None, "pathParameters": None,
             "stageVariables": None,
             "requestContext": {
                 "accountId": None, "apiId": None, "domainName": None, "domainPrefix": None,
                 "extendedRequestId": None, "httpMethod": None,
                 "identity": {"accessKey": None, "accountId": None, "caller": None,
                              "cognitoAuthenticationProvider": None,
                              "cognitoAuthenticationType": None, "cognitoIdentityId": None,
                              "cognitoIdentityPoolId": None, "principalOrgId": None,
                              "sourceIp": None, "user": None, "userAgent": None,
                              "userArn": None},
                 "path": None, "protocol": None, "requestId": None, "requestTime": None,
                 "requestTimeEpoch": None, "resourceId": None, "resourcePath": None,
                 "stage": None},
             "body": None, "isBase64Encoded": None},
}  # fmt: skip
V2_CONTEXT = {
    "accountId": None, "apiId": None, "domainName": None, "domainPrefix": None,
    "http": {"method": None, "path": None, "protocol": None, "sourceIp": None, "userAgent": None},
    "requestId": None, "routeKey": None, "stage": None, "time": None, "timeEpoch": None,
}  # fmt: skip
SPECS["http"] = {
    "version": None, "routeKey": None, "rawPath": None, "rawQueryString": None, "cookies?": None,
    "headers": None, "queryStringParameters?": None, "requestContext": V2_CONTEXT,
    "body?": None, "pathParameters?": None, "isBase64Encoded": None, "stageVariables?": None,
}  # fmt: skip
SPECS["url"] = SPECS["http"]


def check_keys(value: Any, spec: Any, where: str = "event") -> None:
    """Assert ``value`` has exactly the keys ``spec`` allows, recursively."""
    if spec is None:
        return
    if isinstance(spec, list):
        assert isinstance(value, list), where
        for index, item in enumerate(value):
            check_keys(item, spec[0], f"{where}[{index}]")
        return
    assert isinstance(value, dict), where
    if set(spec) == {"*"}:
        for key, item in value.items():
            check_keys(item, spec["*"], f"{where}.{key}")
        return
    required = {k for k in spec if not k.endswith("?")}
    allowed = {k.rstrip("?") for k in spec}
    assert required <= set(value) <= allowed, (where, sorted(value))
    for key, sub in spec.items():
        if key.rstrip("?") in value:
            check_keys(value[key.rstrip("?")], sub, f"{where}.{key.rstrip('?')}")


@pytest.mark.parametrize("view", ["KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES"])
@pytest.mark.parametrize("name", ["INSERT", "MODIFY", "REMOVE"])
def test_each_view_type_and_event_name_parses_with_the_powertools_model(
    view: str, name: str
) -> None:
    @settings(max_examples=10)
    @given(testing.dynamodb_events(event_name=name, stream_view_type=view, ttl=True, max_size=3))
    def check(event: dict[str, Any]) -> None:
        parsed = parse(event=event, model=DynamoDBStreamModel)
        for record in parsed.Records:
            assert (record.eventName, record.dynamodb.StreamViewType) == (name, view)
            assert (record.dynamodb.NewImage is not None) == (
                name != "REMOVE" and view in ("NEW_IMAGE", "NEW_AND_OLD_IMAGES")
            )
            assert (record.dynamodb.OldImage is not None) == (
                name != "INSERT" and view in ("OLD_IMAGE", "NEW_AND_OLD_IMAGES")
            )

    check()


def test_the_builders_and_the_cli_do_not_import_hypothesis() -> None:
    import subprocess
    import sys

    code = (
        "import sys, invokemodels.testing, invokemodels._cli._main\n"
        "invokemodels.testing.sqs_event()\n"
        "assert 'hypothesis' not in sys.modules\n"
    )
    done = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True)
    assert (done.returncode, done.stderr) == (0, "")


@pytest.mark.parametrize(
    ("event", "spec"),
    [
        (testing.sqs_event(), "sqs"),
        (testing.sqs_event("a", queue_arn="arn:aws:sqs:us-east-1:123456789012:q.fifo"), "sqs"),
        (testing.sqs_event(message_attributes={"a": "x", "b": b"y", "c": 1}), "sqs"),
        (testing.kinesis_event(b"a", "b"), "kinesis"),
        (testing.dynamodb_event("INSERT", "MODIFY", "REMOVE"), "dynamodb"),
        (testing.dynamodb_event(testing.dynamodb_record("REMOVE", ttl=True)), "dynamodb"),
        (testing.eventbridge_event(), "eventbridge"),
        (testing.eventbridge_event({"a": 1}, source="com.example", detail_type="X"), "eventbridge"),
        (testing.s3_event(), "s3"),
        (testing.s3_event(event_name="ObjectRemoved:DeleteMarkerCreated", version_id="v1"), "s3"),
        (testing.sns_event(message_attributes={"a": "x"}), "sns"),
        (testing.sns_event(subject=None), "sns"),
        (testing.rest_api_event(), "rest"),
        (testing.rest_api_event("GET", "/", body=None, headers={}, query={"a": "1"}), "rest"),
        (testing.http_api_event(), "http"),
        (
            testing.http_api_event(cookies=["a=1"], route="/{p+}", stage_variables={"s": "1"}),
            "http",
        ),
        (testing.function_url_event(), "url"),
        (testing.function_url_event("POST", "/x", body="b", query={"q": "1"}), "url"),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_every_built_event_has_exactly_aws_keys(event: dict[str, Any], spec: str) -> None:
    check_keys(event, SPECS[spec])


def test_the_key_check_refuses_an_extra_or_a_missing_key() -> None:
    event = testing.sqs_event()
    event["Records"][0]["attributes"]["Extra"] = "1"
    with pytest.raises(AssertionError):
        check_keys(event, SPECS["sqs"])
    event = testing.sns_event()
    del event["Records"][0]["Sns"]["Subject"]
    with pytest.raises(AssertionError):
        check_keys(event, SPECS["sns"])
