"""Static checks of `invokemodels.testing`'s schedules, strategies and kits: read by mypy,
never run by pytest."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from hypothesis.strategies import SearchStrategy

from invokemodels import (
    EventInvokeConfig,
    EventRetryPolicy,
    FailureKind,
    Function,
    Poller,
    RetryPolicy,
    Scheduler,
)
from invokemodels.aws import Queue
from invokemodels.core._function import Handler
from invokemodels.mapping import SQSMappingConfig, SQSPoller, StreamMappingConfig
from invokemodels.testing import (
    Behaviour,
    FailureSchedule,
    ScheduledAttempt,
    check_poller,
    check_retry_policy,
    event_invoke_configs,
    failure_schedules,
    sqs_mapping_configs,
    stream_mapping_configs,
)

schedule = FailureSchedule.of("error", Behaviour.TIMEOUT, then="ok")
handler: Handler = schedule.handler(lambda event, context: event)
scheduled = schedule.function("typing", lambda event, context: event)
function: Function = scheduled
attempts: list[ScheduledAttempt] = scheduled.attempts

schedules: SearchStrategy[FailureSchedule] = failure_schedules(behaviours=["ok", "error"])
event_configs: SearchStrategy[EventInvokeConfig] = event_invoke_configs()
sqs_configs: SearchStrategy[SQSMappingConfig] = sqs_mapping_configs(fifo=True)
stream_configs: SearchStrategy[StreamMappingConfig] = stream_mapping_configs("dynamodb")


def queue_poller(scheduler: Scheduler, items: Sequence[str]) -> Poller:
    queue = Queue("typing", scheduler=scheduler)
    for item in items:
        queue.send_message(item)
    return SQSPoller(queue, SQSMappingConfig())


poller_factory: Callable[[Scheduler, Sequence[str]], Poller] = queue_poller
check_poller(poller_factory, items_of=lambda batch: batch.ids, ordered=False)
policy_factory: Callable[[], RetryPolicy] = EventRetryPolicy
check_retry_policy(policy_factory, max_age=60)
check_retry_policy(EventRetryPolicy(), kinds=[FailureKind.THROTTLE])
