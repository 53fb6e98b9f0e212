"""invokemodels: AWS Lambda's three invocation models, in-process, on a virtual clock.

- Synchronous (``RequestResponse``, ``DryRun``): the caller waits and owns any retry.
- Asynchronous (``Event``): a service queue, two retries of function errors, throttle
  backoff bounded by the event's maximum age, destinations and dead-letter queues.
- Poll-based (event source mappings): streams and queues polled in batches.

Here are the names a user needs to run the three models: the function, the clocks and
scheduler, the protocols, each model's invoker and configuration, and the in-memory AWS
services.  Everything else lives in the room that owns it: `invokemodels.core`,
`invokemodels.sync`, `invokemodels.event`, `invokemodels.mapping`, `invokemodels.aws`,
`invokemodels.observe` (what happened), `invokemodels.simulate` (scenario files), and the
error tree in `invokemodels.exceptions`.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from invokemodels import exceptions
from invokemodels.aws import (
    Bucket,
    EventBus,
    FunctionUrl,
    HttpApi,
    KinesisStream,
    Queue,
    QueueTarget,
    RedrivePolicy,
    RestApi,
    Table,
    Topic,
)
from invokemodels.core import (
    Account,
    Batch,
    BatchOutcome,
    Clock,
    Decision,
    Destination,
    Failure,
    FailureKind,
    Function,
    History,
    Invoker,
    InvokeResponse,
    LambdaContext,
    Outcome,
    Poller,
    RetryPolicy,
    ScaledClock,
    Scheduler,
    ServiceQueue,
    Span,
    SystemClock,
    VirtualClock,
)
from invokemodels.event import (
    BackgroundEventInvoker,
    EventInvokeConfig,
    EventInvoker,
    EventOutcomeKind,
    EventRetryPolicy,
    FunctionErrorRetries,
    ThrottleBackoff,
)
from invokemodels.mapping import (
    EventSourceMapping,
    FilterCriteria,
    SQSMappingConfig,
    StreamMappingConfig,
)
from invokemodels.sync import (
    LambdaClient,
    LegacyRetry,
    NoRetry,
    RequestResponseInvoker,
    StandardRetry,
)

try:
    __version__ = version("invokemodels")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without metadata
    __version__ = "0.0.0"

__all__ = [
    "Account",
    "BackgroundEventInvoker",
    "Batch",
    "BatchOutcome",
    "Bucket",
    "Clock",
    "Decision",
    "Destination",
    "EventBus",
    "EventInvokeConfig",
    "EventInvoker",
    "EventOutcomeKind",
    "EventRetryPolicy",
    "EventSourceMapping",
    "Failure",
    "FailureKind",
    "FilterCriteria",
    "Function",
    "FunctionErrorRetries",
    "FunctionUrl",
    "History",
    "HttpApi",
    "InvokeResponse",
    "Invoker",
    "KinesisStream",
    "LambdaClient",
    "LambdaContext",
    "LegacyRetry",
    "NoRetry",
    "Outcome",
    "Poller",
    "Queue",
    "QueueTarget",
    "RedrivePolicy",
    "RequestResponseInvoker",
    "RestApi",
    "RetryPolicy",
    "SQSMappingConfig",
    "ScaledClock",
    "Scheduler",
    "ServiceQueue",
    "Span",
    "StandardRetry",
    "StreamMappingConfig",
    "SystemClock",
    "Table",
    "ThrottleBackoff",
    "Topic",
    "VirtualClock",
    "__version__",
    "exceptions",
]
