"""invokemodels: AWS Lambda's three invocation models, in-process, on a virtual clock.

- Synchronous (``RequestResponse``, ``DryRun``): the caller waits and owns any retry.
- Asynchronous (``Event``): a service queue, two retries of function errors, throttle
  backoff bounded by the event's maximum age, destinations and dead-letter queues.
- Poll-based (event source mappings): streams and queues polled in batches.

The public names are re-exported here; the modules that define them are private.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from . import exceptions
from ._clock import Clock, SystemClock, VirtualClock
from ._context import Client, ClientContext, CognitoIdentity, LambdaContext
from ._destinations import (
    BucketTarget,
    Delivery,
    Destination,
    EventBusTarget,
    Message,
    QueueTarget,
    TopicTarget,
)
from ._event import (
    AttemptOutcome,
    DeadLetterQueue,
    DeadLetterTopic,
    EventAttempt,
    EventInvoker,
    EventMetrics,
    EventOutcome,
    EventOutcomeKind,
    FunctionTarget,
    InMemoryServiceQueue,
    invocation_record,
)
from ._event_policy import (
    EventInvokeConfig,
    EventRetryPolicy,
    FunctionErrorRetries,
    ThrottleBackoff,
)
from ._event_realtime import BackgroundEventInvoker, ScaledClock
from ._filters import FilterCriteria, filter_view, parse_data
from ._function import (
    EVENT_PAYLOAD_LIMIT,
    LEGACY_EVENT_PAYLOAD_LIMIT,
    RESPONSE_PAYLOAD_LIMIT,
    SYNC_PAYLOAD_LIMIT,
    Account,
    AttemptResult,
    Function,
    Handler,
    ThrottleReason,
    encode_payload,
    new_request_id,
)
from ._polling import Batch, BatchOutcome, EventSourceMapping, InvocationTrace, OutcomeKind, Poller
from ._protocols import Invoker, InvokeResponse, ServiceQueue
from ._request_response import Invocation, PendingInvoke, RequestResponseInvoker
from ._retry import Decision, Failure, FailureKind, RetryPolicy
from ._scheduler import Scheduler, Timer
from ._sdk_retry import (
    ClientAttempt,
    LambdaClient,
    LegacyRetry,
    NoRetry,
    RetryQuota,
    StandardRetry,
)
from .sources._sqs_poller import SQSMappingConfig, SQSPoller, SQSScaling
from .sources._stream_config import StreamMappingConfig
from .sources._stream_poller import IteratorAgeSample, RecordFate, RecordOutcome, StreamPoller
from .sources.dynamodb import Table
from .sources.kinesis import KinesisStream
from .sources.sqs import (
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

try:
    __version__ = version("invokemodels")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without metadata
    __version__ = "0.0.0"

__all__ = [
    "EVENT_PAYLOAD_LIMIT",
    "LEGACY_EVENT_PAYLOAD_LIMIT",
    "RESPONSE_PAYLOAD_LIMIT",
    "SYNC_PAYLOAD_LIMIT",
    "Account",
    "AttemptOutcome",
    "AttemptResult",
    "BackgroundEventInvoker",
    "Batch",
    "BatchOutcome",
    "BucketTarget",
    "Client",
    "ClientAttempt",
    "ClientContext",
    "Clock",
    "CognitoIdentity",
    "DeadLetterQueue",
    "DeadLetterTopic",
    "Decision",
    "Delivery",
    "Destination",
    "EventAttempt",
    "EventBusTarget",
    "EventInvokeConfig",
    "EventInvoker",
    "EventMetrics",
    "EventOutcome",
    "EventOutcomeKind",
    "EventRetryPolicy",
    "EventSourceMapping",
    "Failure",
    "FailureKind",
    "FilterCriteria",
    "Function",
    "FunctionErrorRetries",
    "FunctionTarget",
    "Handler",
    "InMemoryServiceQueue",
    "Invocation",
    "InvocationTrace",
    "InvokeResponse",
    "Invoker",
    "IteratorAgeSample",
    "KinesisStream",
    "LambdaClient",
    "LambdaContext",
    "LegacyRetry",
    "Message",
    "MessageNotInflightError",
    "MessageState",
    "NoRetry",
    "OutcomeKind",
    "PendingInvoke",
    "Poller",
    "Queue",
    "QueueEvent",
    "QueueTarget",
    "ReceiptHandleIsInvalidError",
    "ReceivedMessage",
    "RecordFate",
    "RecordOutcome",
    "RedrivePolicy",
    "RequestResponseInvoker",
    "RetryPolicy",
    "RetryQuota",
    "SQSError",
    "SQSMappingConfig",
    "SQSPoller",
    "SQSScaling",
    "ScaledClock",
    "Scheduler",
    "SendResult",
    "ServiceQueue",
    "StandardRetry",
    "StreamMappingConfig",
    "StreamPoller",
    "SystemClock",
    "Table",
    "ThrottleBackoff",
    "ThrottleReason",
    "Timer",
    "TopicTarget",
    "VirtualClock",
    "__version__",
    "encode_payload",
    "exceptions",
    "filter_view",
    "invocation_record",
    "new_request_id",
    "parse_data",
]
