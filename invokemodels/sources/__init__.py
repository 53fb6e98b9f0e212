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
from invokemodels.sources._stream import Shard, StreamLog, StreamRecord, TrimmedRecord
from invokemodels.sources._stream_config import STARTING_POSITIONS, StreamMappingConfig
from invokemodels.sources._stream_poller import (
    IteratorAgeSample,
    RecordFate,
    RecordOutcome,
    StreamPoller,
)
from invokemodels.sources.dynamodb import (
    DYNAMODB_POLLING_INTERVAL,
    STREAM_VIEW_TYPES,
    Table,
    ValidationError,
    from_attribute_value,
    item_size,
    to_attribute_value,
)
from invokemodels.sources.kinesis import KINESIS_POLLING_INTERVAL, KinesisStream
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
    "DYNAMODB_POLLING_INTERVAL",
    "KINESIS_POLLING_INTERVAL",
    "REPORT_BATCH_ITEM_FAILURES",
    "STARTING_POSITIONS",
    "STREAM_VIEW_TYPES",
    "IteratorAgeSample",
    "KinesisStream",
    "MessageNotInflightError",
    "MessageState",
    "Queue",
    "QueueEvent",
    "ReceiptHandleIsInvalidError",
    "ReceivedMessage",
    "RecordFate",
    "RecordOutcome",
    "RedrivePolicy",
    "SQSError",
    "SQSMappingConfig",
    "SQSPoller",
    "SQSScaling",
    "SendResult",
    "Shard",
    "StreamLog",
    "StreamMappingConfig",
    "StreamPoller",
    "StreamRecord",
    "Table",
    "TrimmedRecord",
    "ValidationError",
    "failed_message_ids",
    "from_attribute_value",
    "item_size",
    "sqs_event_record",
    "to_attribute_value",
]
