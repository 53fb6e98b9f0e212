"""``invokemodels generate-event SERVICE EVENT``: SAM CLI's names and defaults, JSON on
standard output that Powertools' parser models accept, one-line errors with exit 2."""

from __future__ import annotations

import base64
import json
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
)
from pydantic import BaseModel

from invokemodels._cli import main
from invokemodels._cli._generate import EVENTS

MODELS: dict[tuple[str, str], type[BaseModel]] = {
    ("apigateway", "aws-proxy"): APIGatewayProxyEventModel,
    ("apigateway", "http-api-proxy"): APIGatewayProxyEventV2Model,
    ("cloudwatch", "scheduled-event"): EventBridgeModel,
    ("dynamodb", "update"): DynamoDBStreamModel,
    ("eventbridge", "event"): EventBridgeModel,
    ("eventbridge", "scheduled-event"): EventBridgeModel,
    ("kinesis", "get-records"): KinesisDataStreamModel,
    ("lambda", "function-url"): LambdaFunctionUrlModel,
    ("s3", "delete"): S3Model,
    ("s3", "put"): S3Model,
    ("sns", "notification"): SnsModel,
    ("sqs", "receive-message"): SqsModel,
}


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["generate-event", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def generate(capsys: pytest.CaptureFixture[str], *argv: str) -> Any:
    code, out, err = run(capsys, *argv)
    assert (code, err) == (0, "")
    return json.loads(out)


def test_every_event_has_a_model() -> None:
    assert {(s, e) for s, events in EVENTS.items() for e in events} == set(MODELS)


@pytest.mark.parametrize(("service", "event"), sorted(MODELS))
def test_every_event_parses_with_its_powertools_model(
    capsys: pytest.CaptureFixture[str], service: str, event: str
) -> None:
    parse(event=generate(capsys, service, event), model=MODELS[service, event])


def test_sqs_receive_message_has_sams_defaults_and_takes_its_options(
    capsys: pytest.CaptureFixture[str],
) -> None:
    (record,) = generate(capsys, "sqs", "receive-message")["Records"]
    assert record["body"] == "Hello from SQS!"
    assert record["eventSourceARN"] == "arn:aws:sqs:us-east-1:123456789012:MyQueue"
    (fifo,) = generate(
        capsys, "sqs", "receive-message", "--queue-name", "orders.fifo", "--body", "hi",
        "--region", "eu-west-1", "--account-id", "210987654321",
    )["Records"]  # fmt: skip
    assert fifo["eventSourceARN"] == "arn:aws:sqs:eu-west-1:210987654321:orders.fifo"
    assert fifo["awsRegion"] == "eu-west-1"
    assert fifo["body"] == "hi"
    assert fifo["attributes"]["MessageGroupId"] == "1"


def test_the_seed_picks_the_ids(capsys: pytest.CaptureFixture[str]) -> None:
    one = generate(capsys, "sqs", "receive-message", "--seed", "1")
    again = generate(capsys, "sqs", "receive-message", "--seed", "1")
    other = generate(capsys, "sqs", "receive-message", "--seed", "2")
    assert one == again
    assert one["Records"][0]["messageId"] != other["Records"][0]["messageId"]


def test_dynamodb_update_is_an_items_whole_life(capsys: pytest.CaptureFixture[str]) -> None:
    event = generate(capsys, "dynamodb", "update", "--table", "Orders")
    assert [r["eventName"] for r in event["Records"]] == ["INSERT", "MODIFY", "REMOVE"]
    assert all(":table/Orders/stream/" in r["eventSourceARN"] for r in event["Records"])


def test_kinesis_get_records_encodes_the_data(capsys: pytest.CaptureFixture[str]) -> None:
    (record,) = generate(capsys, "kinesis", "get-records", "--data", "héllo")["Records"]
    assert base64.b64decode(record["kinesis"]["data"]) == "héllo".encode()
    assert record["kinesis"]["sequenceNumber"] == (
        "49545115243490985018280067714973144582180062593244200961"
    )


def test_apigateway_aws_proxy_fills_path_parameters_and_the_query(
    capsys: pytest.CaptureFixture[str],
) -> None:
    event = generate(
        capsys, "apigateway", "aws-proxy", "--method", "GET", "--path", "orders/7",
        "--resource", "/orders/{id}", "--querystringparameters", '{"tag": ["a", "b"]}',
    )  # fmt: skip
    assert event["path"] == "/orders/7"
    assert event["pathParameters"] == {"id": "7"}
    assert event["multiValueQueryStringParameters"] == {"tag": ["a", "b"]}
    default = generate(capsys, "apigateway", "aws-proxy")
    assert default["pathParameters"] == {"proxy": "path/to/resource"}
    assert default["queryStringParameters"] == {"foo": "bar"}


def test_s3_put_and_delete(capsys: pytest.CaptureFixture[str]) -> None:
    (put,) = generate(capsys, "s3", "put", "--key", "a b.txt", "--bucket", "photos")["Records"]
    (gone,) = generate(capsys, "s3", "delete")["Records"]
    assert (put["eventName"], put["s3"]["object"]["key"]) == ("ObjectCreated:Put", "a+b.txt")
    assert put["s3"]["bucket"]["name"] == "photos"
    assert gone["eventName"] == "ObjectRemoved:Delete"
    assert "size" not in gone["s3"]["object"]


def test_eventbridge_event_takes_a_json_detail(capsys: pytest.CaptureFixture[str]) -> None:
    event = generate(capsys, "eventbridge", "event", "--detail", '{"id": 3}', "--source", "shop")
    assert (event["detail"], event["source"]) == ({"id": 3}, "shop")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["sqs", "send"], "argument EVENT: invalid choice: 'send'"),
        (["nosuch"], "argument SERVICE: invalid choice: 'nosuch'"),
        ([], "the following arguments are required: SERVICE"),
        (["sqs", "receive-message", "--colour", "red"], "unrecognized arguments: --colour red"),
        (["eventbridge", "event", "--detail", "{"], "--detail='{' is invalid: must be JSON"),
        (
            ["apigateway", "aws-proxy", "--querystringparameters", "[1]"],
            "--querystringparameters='[1]' is invalid: must be a JSON object",
        ),
        (["kinesis", "get-records", "--sequence", "12x"], "sequence_number='12x' is invalid"),
        (["sqs", "receive-message", "--region", "nowhere!"], "queue_arn="),
        (["apigateway", "http-api-proxy", "--method", "get"], "method='get' is invalid"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, out, err = run(capsys, *argv)
    assert (code, out) == (2, "")
    assert err.startswith("invokemodels: error: ")
    assert message in err
    assert err.count("\n") == 1
