"""Reference event sources and their pollers: streams (Kinesis, DynamoDB) and queues (SQS).

Each source is usable on its own (put records, send messages) and as the
source of an `invokemodels.EventSourceMapping` through its poller.
"""

from __future__ import annotations

from invokemodels.sources._sqs_poller import (
    REPORT_BATCH_ITEM_FAILURES,
    SQSMappingConfig,
    SQSPoller,
    SQSScaling,
    failed_message_ids,
    sqs_event_record,
)
from invokemodels.sources.sqs import (
    MessageNotInflightError,
    MessageState,
    Queue,
    QueueEvent,
    ReceiptHandleIsInvalidError,
    ReceivedMessage,
    RedrivePolicy,
    SendResult,
    SQSError,
)

__all__: list[str] = [
    "REPORT_BATCH_ITEM_FAILURES",
    "MessageNotInflightError",
    "MessageState",
    "Queue",
    "QueueEvent",
    "ReceiptHandleIsInvalidError",
    "ReceivedMessage",
    "RedrivePolicy",
    "SQSError",
    "SQSMappingConfig",
    "SQSPoller",
    "SQSScaling",
    "SendResult",
    "failed_message_ids",
    "sqs_event_record",
]
