"""Real SQS queues and SNS topics as destinations and dead-letter targets, through boto3.

`SQSDestination` and `SNSDestination` are `Destination` s (a stream mapping's
``DestinationConfig.OnFailure``, an Event invoker's destinations) and dead-letter targets
(`DeadLetterQueue`, `DeadLetterTopic`): the record becomes the message body as JSON,
exactly as the in-memory ``QueueTarget`` / ``Topic`` deliver it.  A failed call
raises botocore's error, which the mapping counts as a ``DestinationDeliveryFailures``.
"""

from __future__ import annotations

import json
from typing import Any

import attrs

from invokemodels.adapters._boto import make_client
from invokemodels.core._function import SNS_MESSAGE_LIMIT
from invokemodels.core._protocols import Delivery

__all__ = ["SNSDestination", "SQSDestination"]

# The fields Lambda drops from a record that does not fit in an SNS message.
_PAYLOAD_KEYS = ("requestPayload", "responsePayload", "payload")


@attrs.define(repr=False, eq=False)
class SQSDestination:
    """A real SQS queue as a destination or dead-letter queue.

    Args:
        url: the ``QueueUrl``.
        client: a boto3 SQS client (default: a new one, with ``endpoint_url`` /
            ``region_name`` if given).
    """

    url: str
    client: Any = None
    endpoint_url: str | None = None
    region_name: str | None = None
    arn: str = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        self.client = make_client(
            "sqs", self.client, endpoint_url=self.endpoint_url, region_name=self.region_name
        )
        self.arn = self.client.get_queue_attributes(QueueUrl=self.url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]

    def __repr__(self) -> str:
        return f"<SQSDestination {self.arn}>"

    def deliver(self, record: dict[str, Any], delivery: Delivery) -> None:
        """``SendMessage`` with the record as the JSON body."""
        del delivery
        self.send_message(json.dumps(record))

    def send_message(self, body: str, attributes: dict[str, dict[str, str]] | None = None) -> None:
        """``SendMessage`` with ``body`` and SQS message ``attributes``."""
        kwargs: dict[str, Any] = {"QueueUrl": self.url, "MessageBody": body}
        if attributes:
            kwargs["MessageAttributes"] = attributes
        self.client.send_message(**kwargs)


@attrs.define(repr=False, eq=False)
class SNSDestination:
    """A real SNS topic as a destination or dead-letter topic.

    Args:
        arn: the ``TopicArn``.
        client: a boto3 SNS client (default: a new one, with ``endpoint_url`` /
            ``region_name`` if given).

    As Lambda does, a record over SNS's 256 KB message limit is sent without its
    payload fields.
    """

    arn: str
    client: Any = None
    endpoint_url: str | None = None
    region_name: str | None = None

    def __attrs_post_init__(self) -> None:
        self.client = make_client(
            "sns", self.client, endpoint_url=self.endpoint_url, region_name=self.region_name
        )

    def __repr__(self) -> str:
        return f"<SNSDestination {self.arn}>"

    def deliver(self, record: dict[str, Any], delivery: Delivery) -> None:
        """``Publish`` the record as JSON (its payload dropped past 256 KB)."""
        del delivery
        body = json.dumps(record)
        if len(body.encode("utf-8")) > SNS_MESSAGE_LIMIT:
            body = json.dumps({k: v for k, v in record.items() if k not in _PAYLOAD_KEYS})
        self.publish(body)

    def publish(self, message: str, attributes: dict[str, dict[str, str]] | None = None) -> None:
        """``Publish`` ``message`` with SNS message ``attributes``."""
        kwargs: dict[str, Any] = {"TopicArn": self.arn, "Message": message}
        if attributes:
            kwargs["MessageAttributes"] = attributes
        self.client.publish(**kwargs)
