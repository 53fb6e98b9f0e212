"""The core every model stands on: the protocols, clocks and scheduler, the function and its
runtime (context, JSON boundary, error documents), retry values and validation.
"""

from __future__ import annotations

from invokemodels.core._clock import (
    TICKS_PER_SECOND,
    Clock,
    ScaledClock,
    SystemClock,
    TickClock,
    VirtualClock,
    on_grid,
    tick_clock,
)
from invokemodels.core._combine import (
    CombinedPolicy,
    MaxAge,
)
from invokemodels.core._context import (
    Client,
    ClientContext,
    CognitoIdentity,
    LambdaContext,
)
from invokemodels.core._function import (
    EVENT_PAYLOAD_LIMIT,
    LEGACY_EVENT_PAYLOAD_LIMIT,
    RESPONSE_PAYLOAD_LIMIT,
    SNS_MESSAGE_LIMIT,
    SYNC_PAYLOAD_LIMIT,
    Account,
    AttemptResult,
    Function,
    Handler,
    ThrottleReason,
    encode_payload,
    new_request_id,
)
from invokemodels.core._history import (
    History,
    Model,
    Outcome,
    Span,
)
from invokemodels.core._lifecycle import AttemptLifecycle
from invokemodels.core._logs import (
    LOG_FORMATS,
    LOG_LEVELS,
    TAIL_LIMIT,
    AttemptLog,
    LoggingConfig,
    LogRecorder,
    billed_duration_ms,
)
from invokemodels.core._protocols import (
    Batch,
    BatchOutcome,
    BindablePoller,
    DeadLetterQueue,
    DeadLetterTopic,
    Delivery,
    Destination,
    FunctionIdentity,
    Invoker,
    InvokeResponse,
    Poller,
    PollerHandle,
    RetryPolicy,
    ServiceQueue,
)
from invokemodels.core._retry import (
    Decision,
    Failure,
    FailureKind,
)
from invokemodels.core._scheduler import (
    Scheduler,
    Timer,
)

__all__ = [
    "EVENT_PAYLOAD_LIMIT",
    "LEGACY_EVENT_PAYLOAD_LIMIT",
    "LOG_FORMATS",
    "LOG_LEVELS",
    "RESPONSE_PAYLOAD_LIMIT",
    "SNS_MESSAGE_LIMIT",
    "SYNC_PAYLOAD_LIMIT",
    "TAIL_LIMIT",
    "TICKS_PER_SECOND",
    "Account",
    "AttemptLifecycle",
    "AttemptLog",
    "AttemptResult",
    "Batch",
    "BatchOutcome",
    "BindablePoller",
    "Client",
    "ClientContext",
    "Clock",
    "CognitoIdentity",
    "CombinedPolicy",
    "DeadLetterQueue",
    "DeadLetterTopic",
    "Decision",
    "Delivery",
    "Destination",
    "Failure",
    "FailureKind",
    "Function",
    "FunctionIdentity",
    "Handler",
    "History",
    "InvokeResponse",
    "Invoker",
    "LambdaContext",
    "LogRecorder",
    "LoggingConfig",
    "MaxAge",
    "Model",
    "Outcome",
    "Poller",
    "PollerHandle",
    "RetryPolicy",
    "ScaledClock",
    "Scheduler",
    "ServiceQueue",
    "Span",
    "SystemClock",
    "ThrottleReason",
    "TickClock",
    "Timer",
    "VirtualClock",
    "billed_duration_ms",
    "encode_payload",
    "new_request_id",
    "on_grid",
    "tick_clock",
]
