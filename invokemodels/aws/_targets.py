"""Destinations: where Lambda delivers invocation records (asynchronous and stream on-failure).

`Destination` is a small protocol.  The in-memory reference targets record what
they receive, delivered the way AWS delivers it (reference 3.5):

- `QueueTarget` (SQS): the record is the message body.
- `Topic` (SNS): the record is the message; over 256 KB the payload is dropped.
- `Bucket` (S3, on failure only): a JSON object under AWS's key format.
- `EventBus` (EventBridge): the record is ``detail`` of an event envelope.

A `Function` destination (the record is the function's input, invoked
asynchronously) comes with the asynchronous model.
"""

from __future__ import annotations

import json
import re
from typing import Any, Final

import attrs

from invokemodels.core._clock import iso_timestamp
from invokemodels.core._function import SNS_MESSAGE_LIMIT, new_request_id
from invokemodels.core._protocols import Delivery
from invokemodels.core._records import eventbridge_event
from invokemodels.core._validate import ACCOUNT_ID, REGION, text

__all__ = [
    "Bucket",
    "EventBus",
    "Message",
    "QueueTarget",
    "Topic",
]

_PAYLOAD_KEYS: Final = ("requestPayload", "responsePayload", "payload")

# A target's name is the last part of its ARN: no ':' (an ARN separator) and no spaces.
_TARGET_NAME: Final = re.compile(r"[^\s:]+")


def _name() -> Any:
    return text("name", _TARGET_NAME, "must be a non-empty string without ':' or whitespace")


def _region() -> Any:
    return text("region", REGION, "must look like 'us-east-1'")


def _account_id() -> Any:
    return text("account_id", ACCOUNT_ID, "must be 12 digits")


@attrs.frozen
class Message:
    """A message as an SQS queue or SNS topic holds it: body text and message attributes."""

    body: str
    attributes: dict[str, dict[str, str]] = attrs.field(factory=dict)

    def json(self) -> Any:
        """The body parsed from JSON."""
        return json.loads(self.body)


def _arn(service: str, region: str, account_id: str, resource: str) -> str:
    return f"arn:aws:{service}:{region}:{account_id}:{resource}"


@attrs.define(repr=False)
class QueueTarget:
    """An in-memory SQS queue as a destination or dead-letter queue.

    ``records`` are the delivered invocation records (parsed); ``messages`` every
    message received, dead letters included.
    """

    name: str = attrs.field(default="destination-queue", validator=_name())
    region: str = attrs.field(default="us-east-1", validator=_region())
    account_id: str = attrs.field(default="123456789012", validator=_account_id())
    messages: list[Message] = attrs.field(factory=list, init=False)

    def __repr__(self) -> str:
        return f"<QueueTarget {self.name} messages={len(self.messages)}>"

    @property
    def arn(self) -> str:
        """``arn:aws:sqs:<region>:<account>:<name>``."""
        return _arn("sqs", self.region, self.account_id, self.name)

    def deliver(self, record: dict[str, Any], delivery: Delivery) -> None:
        """The invocation record becomes the message body."""
        del delivery
        self.send_message(json.dumps(record))

    def send_message(self, body: str, attributes: dict[str, dict[str, str]] | None = None) -> None:
        """``SendMessage`` with a body and message attributes."""
        self.messages.append(Message(body, dict(attributes or {})))

    @property
    def records(self) -> list[Any]:
        """Every message body, parsed from JSON."""
        return [message.json() for message in self.messages]


@attrs.define(repr=False)
class Topic:
    """An in-memory SNS topic as a destination or dead-letter target.

    A record over SNS's 256 KB limit loses its payload (``requestPayload``,
    ``responsePayload``), as Lambda does for SNS on-failure destinations.  AWS documents
    this for on-failure records only; what happens to an oversized on-success record is
    [UNCONFIRMED], and this target treats it the same way.
    """

    name: str = attrs.field(default="destination-topic", validator=_name())
    region: str = attrs.field(default="us-east-1", validator=_region())
    account_id: str = attrs.field(default="123456789012", validator=_account_id())
    messages: list[Message] = attrs.field(factory=list, init=False)

    def __repr__(self) -> str:
        return f"<Topic {self.name} messages={len(self.messages)}>"

    @property
    def arn(self) -> str:
        """``arn:aws:sns:<region>:<account>:<name>``."""
        return _arn("sns", self.region, self.account_id, self.name)

    def deliver(self, record: dict[str, Any], delivery: Delivery) -> None:
        """The record becomes the message; its payload is dropped past 256 KB."""
        del delivery
        body = json.dumps(record)
        if len(body.encode("utf-8")) > SNS_MESSAGE_LIMIT:
            trimmed = {k: v for k, v in record.items() if k not in _PAYLOAD_KEYS}
            body = json.dumps(trimmed)
        self.publish(body)

    def publish(self, message: str, attributes: dict[str, dict[str, str]] | None = None) -> None:
        """``Publish`` a message with message attributes."""
        self.messages.append(Message(message, dict(attributes or {})))

    @property
    def records(self) -> list[Any]:
        """Every message, parsed from JSON."""
        return [message.json() for message in self.messages]


@attrs.define(repr=False)
class Bucket:
    """An in-memory S3 bucket as an on-failure destination.

    Objects are stored under AWS's key format,
    ``<prefix>YYYY/MM/DD/YYYY-MM-DDTHH.MM.SS-<random UUID>`` where the prefix
    is ``aws/lambda/async/<function-name>/`` for asynchronous invocations and
    ``aws/lambda/<ESM-UUID>/<shardID>/`` for event source mappings
    (the key format is [secondary] in the reference).
    """

    name: str = attrs.field(default="destination-bucket", validator=_name())
    objects: dict[str, str] = attrs.field(factory=dict, init=False)

    def __repr__(self) -> str:
        return f"<Bucket {self.name} objects={len(self.objects)}>"

    @property
    def arn(self) -> str:
        """``arn:aws:s3:::<name>``."""
        return f"arn:aws:s3:::{self.name}"

    def deliver(self, record: dict[str, Any], delivery: Delivery) -> None:
        """Store the record as a JSON object under AWS's key format."""
        stamp = iso_timestamp(delivery.epoch, milliseconds=False)[:-1]  # YYYY-MM-DDTHH:MM:SS
        day = stamp[:10].replace("-", "/")
        key = f"{delivery.s3_prefix}{day}/{stamp.replace(':', '.')}-{new_request_id(delivery.rng)}"
        self.objects[key] = json.dumps(record)

    @property
    def records(self) -> list[Any]:
        """Every stored object, parsed from JSON, in delivery order."""
        return [json.loads(body) for body in self.objects.values()]


@attrs.define(repr=False)
class EventBus:
    """An in-memory EventBridge bus as a destination.

    Each record arrives as ``detail`` of an envelope with ``detail-type``
    "Lambda Function Invocation Result - Success" or "... - Failure", ``source``
    ``"lambda"`` (observed 2025-11; the current docs say ``aws.lambda``, so it is
    configurable) and ``resources`` [bus ARN, function ARN].
    """

    name: str = attrs.field(default="default", validator=_name())
    region: str = attrs.field(default="us-east-1", validator=_region())
    account_id: str = attrs.field(default="123456789012", validator=_account_id())
    source: str = attrs.field(
        default="lambda", validator=text("source", _TARGET_NAME, "must be a non-empty string")
    )
    events: list[dict[str, Any]] = attrs.field(factory=list, init=False)

    def __repr__(self) -> str:
        return f"<EventBus {self.name} events={len(self.events)}>"

    @property
    def arn(self) -> str:
        """``arn:aws:events:<region>:<account>:event-bus/<name>``."""
        return _arn("events", self.region, self.account_id, f"event-bus/{self.name}")

    def deliver(self, record: dict[str, Any], delivery: Delivery) -> None:
        """Wrap the record in EventBridge's envelope (recorded shape, reference 3.6)."""
        self.events.append(
            eventbridge_event(
                event_id=new_request_id(delivery.rng),
                success=delivery.success,
                source=self.source,
                account_id=delivery.account_id,
                epoch=delivery.epoch,
                region=delivery.region,
                bus_arn=self.arn,
                function_arn=delivery.function_arn,
                detail=record,
            )
        )

    @property
    def records(self) -> list[Any]:
        """The ``detail`` of every event, in delivery order."""
        return [event["detail"] for event in self.events]
