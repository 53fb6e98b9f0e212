"""Static conformance of the boto3 adapters: read by mypy, never run (they need a server)."""

from __future__ import annotations

from invokemodels import Destination, Invoker
from invokemodels.adapters import (
    CheckpointStore,
    MemoryCheckpoints,
    ReceivedMessage,
    RemoteInvoker,
    SNSDestination,
    SQSConsumer,
    SQSDestination,
    SQSQueue,
    StreamConsumer,
)
from invokemodels.core import BindablePoller, DeadLetterQueue, DeadLetterTopic
from invokemodels.mapping import PolledMessage, PolledQueue


def invoker(remote: RemoteInvoker) -> Invoker:
    return remote


def queue(real: SQSQueue) -> PolledQueue:
    return real


def message(received: ReceivedMessage) -> PolledMessage:
    return received


def sqs_poller(consumer: SQSConsumer) -> BindablePoller:
    return consumer


def stream_poller(consumer: StreamConsumer) -> BindablePoller:
    return consumer


def queue_destination(target: SQSDestination) -> tuple[Destination, DeadLetterQueue]:
    return target, target


def topic_destination(target: SNSDestination) -> tuple[Destination, DeadLetterTopic]:
    return target, target


store: CheckpointStore = MemoryCheckpoints()
