"""``invokemodels generate-event SERVICE EVENT [--option value]``: a sample event as JSON.

Mirrors ``sam local generate-event``: the same service and event names and options where
SAM has them (``sqs receive-message``, ``kinesis get-records``, ``dynamodb update``,
``apigateway aws-proxy``, ...), and the events of `invokemodels.testing`'s builders, so the
JSON printed is the exact AWS shape with computed MD5s, ids and timestamps.  ``--seed``
picks the ids.  Bad input is one line on standard error and exit status 2.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import Any, TextIO

from invokemodels.exceptions import InvalidParameterValueError
from invokemodels.testing import _events

__all__ = ["EVENTS", "add_parser", "run"]

_Build = Callable[[dict[str, str], int], dict[str, Any]]


def _json(option: str, text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise InvalidParameterValueError(option, text, f"must be JSON: {exc}") from None


def _path(text: str) -> str:
    return text if text.startswith("/") else f"/{text}"


def _sqs(o: dict[str, str], seed: int) -> dict[str, Any]:
    arn = f"arn:{o['partition']}:sqs:{o['region']}:{o['account-id']}:{o['queue-name']}"
    return _events.sqs_event(o["body"], queue_arn=arn, seed=seed)


def _sns(o: dict[str, str], seed: int) -> dict[str, Any]:
    arn = f"arn:{o['partition']}:sns:{o['region']}:{o['account-id']}:{o['topic']}"
    return _events.sns_event(o["message"], subject=o["subject"], topic_arn=arn, seed=seed)


def _s3(event_name: str) -> _Build:
    def build(o: dict[str, str], seed: int) -> dict[str, Any]:
        return _events.s3_event(
            o["key"], event_name=event_name, bucket=o["bucket"], region=o["region"], seed=seed
        )

    return build


def _kinesis(o: dict[str, str], seed: int) -> dict[str, Any]:
    arn = f"arn:{o['partition']}:kinesis:{o['region']}:{o['account-id']}:stream/{o['stream']}"
    return _events.kinesis_event(
        o["data"], partition_key=o["partition-key"], sequence_number=o["sequence"], stream_arn=arn
    )


def _dynamodb(o: dict[str, str], seed: int) -> dict[str, Any]:
    arn = (
        f"arn:{o['partition']}:dynamodb:{o['region']}:{o['account-id']}:table/{o['table']}"
        "/stream/2023-11-14T22:13:20.000"
    )
    return _events.dynamodb_event("INSERT", "MODIFY", "REMOVE", stream_arn=arn, seed=seed)


def _rest(o: dict[str, str], seed: int) -> dict[str, Any]:
    query = _json("--querystringparameters", o["querystringparameters"])
    if not isinstance(query, dict):
        raise InvalidParameterValueError(
            "--querystringparameters", o["querystringparameters"], "must be a JSON object"
        )
    return _events.rest_api_event(
        o["method"],
        _path(o["path"]),
        body=o["body"],
        query={str(k): str(v) if not isinstance(v, list) else [str(x) for x in v]
               for k, v in query.items()},
        resource=_path(o["resource"]),
        stage=o["stage"],
        account_id=o["account-id"],
        region=o["region"],
        seed=seed,
    )  # fmt: skip


def _http(o: dict[str, str], seed: int) -> dict[str, Any]:
    return _events.http_api_event(
        o["method"],
        _path(o["path"]),
        body=o["body"],
        stage=o["stage"],
        account_id=o["account-id"],
        region=o["region"],
        seed=seed,
    )


def _function_url(o: dict[str, str], seed: int) -> dict[str, Any]:
    return _events.function_url_event(
        o["method"], _path(o["path"]), body=o["body"] or None, region=o["region"], seed=seed
    )


def _scheduled(o: dict[str, str], seed: int) -> dict[str, Any]:
    rule = f"arn:{o['partition']}:events:{o['region']}:{o['account-id']}:rule/{o['rule']}"
    return _events.eventbridge_event(
        account_id=o["account-id"], region=o["region"], resources=[rule], seed=seed
    )


def _custom(o: dict[str, str], seed: int) -> dict[str, Any]:
    return _events.eventbridge_event(
        _json("--detail", o["detail"]),
        source=o["source"],
        detail_type=o["detail-type"],
        account_id=o["account-id"],
        region=o["region"],
        seed=seed,
    )


_ACCOUNT = {"account-id": _events.DEFAULT_ACCOUNT_ID}
_WHERE = {"partition": "aws", "region": _events.DEFAULT_REGION}
_SCHEDULED = (
    "an EventBridge scheduled event",
    _scheduled,
    {**_WHERE, **_ACCOUNT, "rule": "MyRule"},
)

EVENTS: dict[str, dict[str, tuple[str, _Build, dict[str, str]]]] = {
    "apigateway": {
        "aws-proxy": (
            "a REST API proxy event (payload 1.0)",
            _rest,
            {
                "body": '{"test":"body"}', "stage": "prod", "method": "POST",
                "resource": "/{proxy+}", "path": "path/to/resource",
                "querystringparameters": '{"foo": "bar"}', "region": _events.DEFAULT_REGION,
                **_ACCOUNT,
            },
        ),
        "http-api-proxy": (
            "an HTTP API event (payload 2.0)",
            _http,
            {
                "body": '{"test":"body"}', "stage": "$default", "method": "POST",
                "path": "path/to/resource", "region": _events.DEFAULT_REGION, **_ACCOUNT,
            },
        ),
    },
    "cloudwatch": {"scheduled-event": _SCHEDULED},
    "dynamodb": {
        "update": (
            "an INSERT, a MODIFY and a REMOVE of one item",
            _dynamodb,
            {**_WHERE, **_ACCOUNT, "table": "ExampleTableWithStream"},
        ),
    },
    "eventbridge": {
        "event": (
            "a custom event put on a bus",
            _custom,
            {
                "source": "com.example.orders", "detail-type": "OrderPlaced",
                "detail": '{"orderId": "1"}', "region": _events.DEFAULT_REGION, **_ACCOUNT,
            },
        ),
        "scheduled-event": _SCHEDULED,
    },
    "kinesis": {
        "get-records": (
            "a Kinesis Data Streams event",
            _kinesis,
            {
                **_WHERE, **_ACCOUNT, "stream": "MyStream", "partition-key": "partitionKey-03",
                "data": "Hello, this is a test 123.",
                "sequence": "49545115243490985018280067714973144582180062593244200961",
            },
        ),
    },
    "lambda": {
        "function-url": (
            "a function URL request",
            _function_url,
            {"method": "GET", "path": "/", "body": "", "region": _events.DEFAULT_REGION},
        ),
    },
    "s3": {
        "delete": (
            "an ObjectRemoved:Delete notification",
            _s3("ObjectRemoved:Delete"),
            {"region": _events.DEFAULT_REGION, "bucket": "example-bucket", "key": "test/key"},
        ),
        "put": (
            "an ObjectCreated:Put notification",
            _s3("ObjectCreated:Put"),
            {"region": _events.DEFAULT_REGION, "bucket": "example-bucket", "key": "test/key"},
        ),
    },
    "sns": {
        "notification": (
            "an SNS notification",
            _sns,
            {
                **_WHERE, **_ACCOUNT, "topic": "ExampleTopic", "subject": "example subject",
                "message": "example message",
            },
        ),
    },
    "sqs": {
        "receive-message": (
            "an SQS event (a queue name ending in .fifo makes a FIFO queue's)",
            _sqs,
            {**_WHERE, **_ACCOUNT, "queue-name": "MyQueue", "body": "Hello from SQS!"},
        ),
    },
}  # fmt: skip
"""Service → event → (description, builder, option defaults), as ``generate-event`` offers."""


def add_parser(commands: Any) -> None:
    """Register ``generate-event`` and its SERVICE EVENT subcommands."""
    generate = commands.add_parser(
        "generate-event",
        help="print a sample event, like 'sam local generate-event'",
        description="Print the JSON of an event AWS sends to a handler.",
    )
    services = generate.add_subparsers(dest="service", metavar="SERVICE", required=True)
    for service, events in EVENTS.items():
        parser = services.add_parser(service, help=f"{service} events")
        kinds = parser.add_subparsers(dest="event", metavar="EVENT", required=True)
        for event, (description, _build, options) in events.items():
            sub = kinds.add_parser(event, help=description, description=description)
            for option, default in options.items():
                sub.add_argument(
                    f"--{option}",
                    dest=f"option_{option}",
                    default=default,
                    metavar="VALUE",
                    help=f"(default {default!r})".replace("%", "%%"),
                )
            sub.add_argument("--seed", type=int, default=0, help="seeds the ids (0)")


def run(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    """Build the event ``args`` names and print it as indented JSON."""
    _description, build, defaults = EVENTS[args.service][args.event]
    options = {option: getattr(args, f"option_{option}") for option in defaults}
    event = build(options, args.seed)
    stdout.write(json.dumps(event, indent=2) + "\n")
    return 0
