"""Reference event sources and their pollers: streams (Kinesis, DynamoDB) and queues (SQS).

Each source is usable on its own (put records, send messages) and as the
source of an `invokemodels.EventSourceMapping` through its poller.
"""

from __future__ import annotations

__all__: list[str] = []
