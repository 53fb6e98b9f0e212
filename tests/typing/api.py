"""Static conformance checks: read by mypy (``mypy --strict tests/typing``), never run by pytest.

Each reference implementation is assigned to the protocol it implements; if it
drifts from the protocol, mypy fails.
"""

from __future__ import annotations

from invokemodels import (
    BackgroundEventInvoker,
    Bucket,
    Clock,
    Destination,
    EventBus,
    EventInvoker,
    EventRetryPolicy,
    EventSourceMapping,
    Function,
    FunctionErrorRetries,
    Invoker,
    KinesisStream,
    LegacyRetry,
    NoRetry,
    Poller,
    Queue,
    QueueTarget,
    RequestResponseInvoker,
    RetryPolicy,
    ScaledClock,
    ServiceQueue,
    SQSMappingConfig,
    StandardRetry,
    StreamMappingConfig,
    SystemClock,
    Table,
    ThrottleBackoff,
    Topic,
    VirtualClock,
)
from invokemodels.core import (
    BindablePoller,
    CombinedPolicy,
    DeadLetterQueue,
    DeadLetterTopic,
    MaxAge,
    PollerHandle,
    TickClock,
)
from invokemodels.event import AttemptExecutor, FunctionTarget, InlineExecutor, InMemoryServiceQueue
from invokemodels.mapping import SQSPoller, StreamPoller

clock: Clock = VirtualClock()
tick_clock: TickClock = VirtualClock()
real_clock: Clock = SystemClock()

sync_invoker: Invoker = RequestResponseInvoker(Function(name="f", handler=lambda e, c: e))
legacy_retry: RetryPolicy = LegacyRetry()
standard_retry: RetryPolicy = StandardRetry()
no_retry: RetryPolicy = NoRetry()

sqs_queue = Queue("typing-queue")
dest: Destination = Queue("typing-destination")
poller: BindablePoller = SQSPoller(sqs_queue, SQSMappingConfig())
sqs_mapping = sqs_queue.map_to(Function(name="g", handler=lambda e, c: e), start=False)
sqs_concurrency: int = sqs_mapping.poller.concurrency

event_fn = Function(name="event", handler=lambda e, c: e)
event_invoker: Invoker = EventInvoker(event_fn)
background_invoker: Invoker = BackgroundEventInvoker(event_fn)
scaled_clock: Clock = ScaledClock(0.01)
event_queue: ServiceQueue[str] = InMemoryServiceQueue[str]()
inline_executor: AttemptExecutor = InlineExecutor()
event_policy: RetryPolicy = EventRetryPolicy()
function_error_policy: RetryPolicy = FunctionErrorRetries()
throttle_policy: RetryPolicy = ThrottleBackoff()
max_age: RetryPolicy = MaxAge(seconds=60)
combined_policy: RetryPolicy = FunctionErrorRetries() | MaxAge(seconds=60)
combined_sync: CombinedPolicy = MaxAge(seconds=1) | StandardRetry()
event_dest: Destination = FunctionTarget(
    EventInvoker(Function(name="target", handler=lambda e, c: e))
)

stream_fn = Function(name="streams", handler=lambda e, c: e)
kinesis = KinesisStream("typing-stream")
stream_poller: BindablePoller = StreamPoller(
    kinesis.log, StreamMappingConfig(starting_position="TRIM_HORIZON")
)
handle: PollerHandle = EventSourceMapping(
    stream_fn, StreamPoller(kinesis.log, StreamMappingConfig(starting_position="LATEST"))
).handle
kinesis_mapping = kinesis.map_to(stream_fn, StreamMappingConfig(starting_position="LATEST"))
kinesis_pending: int = kinesis_mapping.poller.pending
table_mapping = Table("typing-table", key_schema="Id").map_to(
    stream_fn, StreamMappingConfig(starting_position="TRIM_HORIZON")
)
table_poller: Poller = table_mapping.poller
dlq_target: DeadLetterQueue = QueueTarget()
dlq_sqs_queue: DeadLetterQueue = Queue("typing-dlq")
dlq_topic: DeadLetterTopic = Topic()
bucket_dest: Destination = Bucket()
topic_dest: Destination = Topic()
bus_dest: Destination = EventBus()
bucket_invoker: EventInvoker = Bucket().notify(event_fn)
topic_invoker: EventInvoker = Topic().subscribe(event_fn).invoker
rule_invokers: tuple[EventInvoker, ...] = (
    EventBus().put_rule("typing", event_pattern={"source": ["s"]}, targets=[event_fn]).invokers
)
