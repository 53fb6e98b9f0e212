"""Poll-based invocation: the event source mapping loop, filters, and the reference pollers
for streams (Kinesis, DynamoDB) and queues (SQS).
"""

from __future__ import annotations

from invokemodels.mapping._filters import (
    DEFAULT_MAX_FILTERS,
    MAX_FILTERS_QUOTA,
    PATTERN_MAX_LENGTH,
    FilterCriteria,
    JsonFloat,
    filter_view,
    parse_data,
)
from invokemodels.mapping._loop import (
    EventSourceMapping,
    MappingHandle,
)
from invokemodels.mapping._params import REPORT_BATCH_ITEM_FAILURES
from invokemodels.mapping._partial import batch_item_failures
from invokemodels.mapping._sqs import (
    PolledMessage,
    PolledQueue,
    SQSMappingConfig,
    SQSPoller,
    SQSScaling,
    sqs_event_record,
)
from invokemodels.mapping._stream_config import (
    STARTING_POSITIONS,
    StreamMappingConfig,
)
from invokemodels.mapping._stream_log import (
    HASH_KEY_SPACE,
    Shard,
    StreamLog,
    StreamRecord,
    TrimmedRecord,
    md5_hash_key,
)
from invokemodels.mapping._streams import (
    IteratorAgeSample,
    RecordFate,
    RecordOutcome,
    StreamPoller,
)

__all__ = [
    "DEFAULT_MAX_FILTERS",
    "HASH_KEY_SPACE",
    "MAX_FILTERS_QUOTA",
    "PATTERN_MAX_LENGTH",
    "REPORT_BATCH_ITEM_FAILURES",
    "STARTING_POSITIONS",
    "EventSourceMapping",
    "FilterCriteria",
    "IteratorAgeSample",
    "JsonFloat",
    "MappingHandle",
    "PolledMessage",
    "PolledQueue",
    "RecordFate",
    "RecordOutcome",
    "SQSMappingConfig",
    "SQSPoller",
    "SQSScaling",
    "Shard",
    "StreamLog",
    "StreamMappingConfig",
    "StreamPoller",
    "StreamRecord",
    "TrimmedRecord",
    "batch_item_failures",
    "filter_view",
    "md5_hash_key",
    "parse_data",
    "sqs_event_record",
]
