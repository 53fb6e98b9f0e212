"""The in-memory AWS services: an SQS queue, a Kinesis stream, a DynamoDB table, and the
destination targets (queue, topic, bucket, event bus).  They serve as event sources and
as destinations.
"""

from __future__ import annotations

from invokemodels.aws._dynamodb import (
    DYNAMODB_POLLING_INTERVAL,
    DYNAMODB_RETENTION,
    STREAM_VIEW_TYPES,
    Table,
    from_attribute_value,
    item_size,
    to_attribute_value,
)
from invokemodels.aws._kinesis import (
    KINESIS_POLLING_INTERVAL,
    KinesisStream,
)
from invokemodels.aws._sqs import (
    DEDUPLICATION_INTERVAL,
    DeadLetter,
    MessageState,
    Queue,
    QueueEvent,
    ReceivedMessage,
    RedrivePolicy,
    SendResult,
)
from invokemodels.aws._targets import (
    Bucket,
    EventBus,
    Message,
    QueueTarget,
    Topic,
)

__all__ = [
    "DEDUPLICATION_INTERVAL",
    "DYNAMODB_POLLING_INTERVAL",
    "DYNAMODB_RETENTION",
    "KINESIS_POLLING_INTERVAL",
    "STREAM_VIEW_TYPES",
    "Bucket",
    "DeadLetter",
    "EventBus",
    "KinesisStream",
    "Message",
    "MessageState",
    "Queue",
    "QueueEvent",
    "QueueTarget",
    "ReceivedMessage",
    "RedrivePolicy",
    "SendResult",
    "Table",
    "Topic",
    "from_attribute_value",
    "item_size",
    "to_attribute_value",
]
