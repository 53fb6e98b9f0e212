"""The asynchronous model (``Event``): the invoker, its service queue, its retry policies and
configuration, and the real-clock worker.
"""

from __future__ import annotations

from invokemodels.event._invoker import (
    AttemptExecutor,
    AttemptHandle,
    EventInvoker,
    EventMetrics,
    EventOutcome,
    EventOutcomeKind,
    FunctionTarget,
    InlineExecutor,
    InMemoryServiceQueue,
    invocation_record,
)
from invokemodels.event._policy import (
    DEFAULT_MAXIMUM_EVENT_AGE,
    DEFAULT_MAXIMUM_RETRY_ATTEMPTS,
    EventInvokeConfig,
    EventRetryPolicy,
    FunctionErrorRetries,
    ThrottleBackoff,
)
from invokemodels.event._realtime import (
    BackgroundEventInvoker,
)

__all__ = [
    "DEFAULT_MAXIMUM_EVENT_AGE",
    "DEFAULT_MAXIMUM_RETRY_ATTEMPTS",
    "AttemptExecutor",
    "AttemptHandle",
    "BackgroundEventInvoker",
    "EventInvokeConfig",
    "EventInvoker",
    "EventMetrics",
    "EventOutcome",
    "EventOutcomeKind",
    "EventRetryPolicy",
    "FunctionErrorRetries",
    "FunctionTarget",
    "InMemoryServiceQueue",
    "InlineExecutor",
    "ThrottleBackoff",
    "invocation_record",
]
