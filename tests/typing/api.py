"""Static conformance checks: read by mypy (``mypy --strict tests/typing``), never run by pytest.

Each reference implementation is assigned to the protocol it implements; if it
drifts from the protocol, mypy fails.
"""

from __future__ import annotations

from invokemodels import (
    Clock,
    Destination,
    Function,
    Invoker,
    LegacyRetry,
    NoRetry,
    Poller,
    Queue,
    RequestResponseInvoker,
    RetryPolicy,
    SQSMappingConfig,
    SQSPoller,
    StandardRetry,
    SystemClock,
    VirtualClock,
)

clock: Clock = VirtualClock()
real_clock: Clock = SystemClock()

sync_invoker: Invoker = RequestResponseInvoker(Function(name="f", handler=lambda e, c: e))
legacy_retry: RetryPolicy = LegacyRetry()
standard_retry: RetryPolicy = StandardRetry()
no_retry: RetryPolicy = NoRetry()

sqs_queue = Queue("typing-queue")
dest: Destination = Queue("typing-destination")
poller: Poller = SQSPoller(
    sqs_queue, SQSMappingConfig(), Function(name="f", handler=lambda e, c: e)
)
sqs_mapping = sqs_queue.map_to(Function(name="g", handler=lambda e, c: e), start=False)
sqs_concurrency: int = sqs_mapping.poller.concurrency
