"""The same mapping loop and invoker code against real AWS services, through boto3.

The optional extra ``invokemodels[aws]`` (boto3).  Importing this package does not import
boto3; making a client does, and names the extra if it is missing.

- `SQSQueue` (a `PolledQueue` over a real queue) and `map_queue`: the SQS poller of
  `invokemodels.mapping` reading a real queue, feeding a local `Function`.
- `MappingRunner`: run mappings as a long-running process on the real clock, with a
  graceful shutdown on SIGINT / SIGTERM.
"""

from __future__ import annotations

from invokemodels.adapters._boto import Backoff, ErrorLog
from invokemodels.adapters._runner import MappingRunner
from invokemodels.adapters._sqs import ReceivedMessage, SQSConsumer, SQSQueue, map_queue

__all__ = [
    "Backoff",
    "ErrorLog",
    "MappingRunner",
    "ReceivedMessage",
    "SQSConsumer",
    "SQSQueue",
    "map_queue",
]
