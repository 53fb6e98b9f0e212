"""The same mapping loop and invoker code against real AWS services, through boto3.

The optional extra ``invokemodels[aws]`` (boto3).  Importing this package does not import
boto3; making a client does, and names the extra if it is missing.

- `SQSQueue` (a `PolledQueue` over a real queue) and `map_queue`: the SQS poller of
  `invokemodels.mapping` reading a real queue, feeding a local `Function`.
- `map_kinesis_stream`, `map_dynamodb_stream`: the stream poller reading real shards
  (`StreamConsumer`), with checkpoints in a `CheckpointStore`.
- `SQSDestination`, `SNSDestination`: real queues and topics as on-failure destinations
  and dead-letter targets.
- `RemoteInvoker`: the `Invoker` protocol over the real Invoke API, with the same
  `InvokeResponse`, the same exception tree and the library's SDK retry policies.
- `MappingRunner`: run mappings as a long-running process on the real clock, with a
  graceful shutdown on SIGINT / SIGTERM.
"""

from __future__ import annotations

from invokemodels.adapters._boto import Backoff, ErrorLog
from invokemodels.adapters._invoke import RemoteAttempt, RemoteInvoker, invocation_error
from invokemodels.adapters._runner import MappingRunner
from invokemodels.adapters._sqs import ReceivedMessage, SQSConsumer, SQSQueue, map_queue
from invokemodels.adapters._streams import (
    CheckpointStore,
    MemoryCheckpoints,
    StreamConsumer,
    map_dynamodb_stream,
    map_kinesis_stream,
)
from invokemodels.adapters._targets import SNSDestination, SQSDestination

__all__ = [
    "Backoff",
    "CheckpointStore",
    "ErrorLog",
    "MappingRunner",
    "MemoryCheckpoints",
    "ReceivedMessage",
    "RemoteAttempt",
    "RemoteInvoker",
    "SNSDestination",
    "SQSConsumer",
    "SQSDestination",
    "SQSQueue",
    "StreamConsumer",
    "invocation_error",
    "map_dynamodb_stream",
    "map_kinesis_stream",
    "map_queue",
]
