"""`QueueTarget`, a destination-only SQS stand-in, and what the in-memory services share.

`Destination` is a small protocol.  Every in-memory service is also a destination,
delivered to the way AWS delivers (reference 3.5):

- `QueueTarget` (SQS): the record is the message body; a plain list of messages, with no
  scheduler and no receive semantics (the full SQS queue, `Queue`, is a destination too).
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

from invokemodels.core._protocols import Delivery
from invokemodels.core._validate import ACCOUNT_ID, REGION, text

__all__ = ["Message", "QueueTarget"]

# A target's name is the last part of its ARN: no ':' (an ARN separator) and no spaces.
_TARGET_NAME: Final = re.compile(r"[^\s:]+")


def target_name() -> Any:
    """The validator of a service resource's name (the last part of its ARN)."""
    return text("name", _TARGET_NAME, "must be a non-empty string without ':' or whitespace")


def region_name() -> Any:
    """The validator of a Region name."""
    return text("region", REGION, "must look like 'us-east-1'")


def account_number() -> Any:
    """The validator of an account id."""
    return text("account_id", ACCOUNT_ID, "must be 12 digits")


def service_arn(service: str, region: str, account: str, resource: str) -> str:
    """``arn:aws:<service>:<region>:<account>:<resource>``."""
    return f"arn:aws:{service}:{region}:{account}:{resource}"


@attrs.frozen
class Message:
    """A message as an SQS queue or SNS topic holds it: body text and message attributes."""

    body: str
    attributes: dict[str, dict[str, Any]] = attrs.field(factory=dict)
    subject: str | None = None
    """An SNS message's ``Subject`` (None for none, and for SQS)."""

    def json(self) -> Any:
        """The body parsed from JSON."""
        return json.loads(self.body)


@attrs.define(repr=False)
class QueueTarget:
    """An in-memory SQS queue as a destination or dead-letter queue.

    ``records`` are the delivered invocation records (parsed); ``messages`` every
    message received, dead letters included.
    """

    name: str = attrs.field(default="destination-queue", validator=target_name())
    region: str = attrs.field(default="us-east-1", validator=region_name())
    account_id: str = attrs.field(default="123456789012", validator=account_number())
    messages: list[Message] = attrs.field(factory=list, init=False)

    def __repr__(self) -> str:
        return f"<QueueTarget {self.name} messages={len(self.messages)}>"

    @property
    def arn(self) -> str:
        """``arn:aws:sqs:<region>:<account>:<name>``."""
        return service_arn("sqs", self.region, self.account_id, self.name)

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
