"""An SQS queue over boto3 as the `PolledQueue` the SQS poller reads, and its mapping.

`SQSQueue` speaks SQS's API (``ReceiveMessage``, ``DeleteMessage``,
``ChangeMessageVisibility``) and offers what `invokemodels.mapping.SQSPoller` needs of a
queue, so the *same* poller (batch size, batching window, partial batch responses, the
scaling model, throttle holds) runs against a real queue.  The queue applies its own rules:
a message whose batch failed is not deleted and reappears when its visibility timeout ends,
with a higher ``ApproximateReceiveCount``, and the queue's redrive policy moves it to its
dead-letter queue after ``maxReceiveCount`` receives.

`map_queue` builds the mapping: an `EventSourceMapping` whose poller is an `SQSConsumer`,
which wraps the `SQSPoller` and knows which received messages were handed to the function,
so that a shutdown returns the others at once (``ChangeMessageVisibility`` 0) and deletes
nothing that was not processed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from invokemodels.adapters._boto import Backoff, ErrorLog, aws_error_code, aws_errors, make_client
from invokemodels.core._clock import Clock, SystemClock
from invokemodels.core._function import Function
from invokemodels.core._history import History, Outcome
from invokemodels.core._protocols import Batch, BatchOutcome, PollerHandle
from invokemodels.core._scheduler import Scheduler
from invokemodels.core._validate import in_range
from invokemodels.exceptions import InvalidParameterValueError
from invokemodels.mapping._loop import EventSourceMapping
from invokemodels.mapping._sqs import SQSMappingConfig, SQSPoller

__all__ = ["ReceivedMessage", "SQSConsumer", "SQSQueue", "map_queue"]

_MAX_VISIBILITY = 43_200
"""SQS's largest visibility timeout (12 hours)."""


@attrs.frozen(kw_only=True)
class ReceivedMessage:
    """A message as ``ReceiveMessage`` returned it (a `PolledMessage`).

    ``attributes`` are the system attributes (``ApproximateReceiveCount``,
    ``SentTimestamp``, ``MessageGroupId`` ...); ``message_attributes`` keep SQS's shape
    (``DataType``, ``StringValue`` / ``BinaryValue``).
    """

    message_id: str
    receipt_handle: str
    body: str
    md5_of_body: str
    attributes: Mapping[str, str]
    message_attributes: Mapping[str, Mapping[str, Any]]
    md5_of_message_attributes: str | None

    @classmethod
    def from_response(cls, message: Mapping[str, Any]) -> ReceivedMessage:
        """From one entry of ``ReceiveMessage``'s ``Messages``."""
        return cls(
            message_id=message["MessageId"],
            receipt_handle=message["ReceiptHandle"],
            body=message.get("Body", ""),
            md5_of_body=message.get("MD5OfBody", ""),
            attributes=dict(message.get("Attributes", {})),
            message_attributes={
                name: dict(spec) for name, spec in message.get("MessageAttributes", {}).items()
            },
            md5_of_message_attributes=message.get("MD5OfMessageAttributes"),
        )


@attrs.define(repr=False, eq=False)
class SQSQueue:
    """A real SQS queue, read and written through boto3 (a `PolledQueue`).

    Args:
        url: the ``QueueUrl``.
        client: a boto3 SQS client (default: a new one from boto3's usual chain of
            credentials and Region, with ``endpoint_url`` / ``region_name`` if given).
        endpoint_url: the endpoint of a local server (moto, LocalStack), for a new client.
        region_name: the Region, for a new client.
        clock: the clock of the mapping that reads the queue (default: a new
            `SystemClock`; `map_queue` passes its scheduler's).
        idle_poll_interval: seconds between receives while the queue is empty,
            0.001-300 (default 1.0).  Receives are short polls (``WaitTimeSeconds`` 0)
            unless ``wait_time_seconds`` is set, so a shutdown is never held up by a
            long poll.
        wait_time_seconds: ``WaitTimeSeconds`` of each receive, 0-20 (default 0).
        backoff: the `Backoff` after failed receives (default 0.5 s doubling to 20 s).

    The queue's ARN, FIFO-ness and visibility timeout are read once
    (``GetQueueAttributes``), when it is made.  Counters: ``received``, ``deleted``,
    ``returned`` (made visible again at shutdown); ``errors`` is the `ErrorLog` of failed
    calls.  A failed ``DeleteMessage`` (after botocore's own retries) leaves the message
    to reappear, so it is processed again: at-least-once, as with Lambda.
    """

    url: str
    client: Any = None
    endpoint_url: str | None = None
    region_name: str | None = None
    clock: Clock = attrs.field(factory=SystemClock)
    idle_poll_interval: float = attrs.field(
        default=1.0, validator=in_range("idle_poll_interval", 0.001, 300)
    )
    wait_time_seconds: int = attrs.field(
        default=0, validator=in_range("wait_time_seconds", 0, 20, integer=True)
    )
    backoff: Backoff = attrs.field(factory=Backoff)
    arn: str = attrs.field(init=False)
    fifo: bool = attrs.field(init=False)
    visibility_timeout: float = attrs.field(init=False)
    received: int = attrs.field(default=0, init=False)
    deleted: int = attrs.field(default=0, init=False)
    returned: int = attrs.field(default=0, init=False)
    errors: ErrorLog = attrs.field(init=False)
    _held: dict[str, float] = attrs.field(factory=dict, init=False)
    _last_receive: float = attrs.field(default=float("-inf"), init=False)
    _last_count: int = attrs.field(default=0, init=False)

    def __attrs_post_init__(self) -> None:
        self.client = make_client(
            "sqs", self.client, endpoint_url=self.endpoint_url, region_name=self.region_name
        )
        self.errors = ErrorLog(backoff=self.backoff)
        attributes = self.client.get_queue_attributes(
            QueueUrl=self.url, AttributeNames=["QueueArn", "VisibilityTimeout", "FifoQueue"]
        )["Attributes"]
        self.arn = attributes["QueueArn"]
        self.fifo = attributes.get("FifoQueue", "false").lower() == "true"
        self.visibility_timeout = float(attributes.get("VisibilityTimeout", 30))

    def __repr__(self) -> str:
        return f"<SQSQueue {self.name} held={len(self._held)} deleted={self.deleted}>"

    @property
    def name(self) -> str:
        """The queue's name (the last part of its ARN)."""
        return self.arn.rsplit(":", 1)[-1]

    @property
    def region(self) -> str:
        """The queue's Region (from its ARN)."""
        return self.arn.split(":")[3]

    @property
    def held(self) -> int:
        """Messages received by this process and neither deleted nor let go."""
        return len(self._held)

    # -- PolledQueue ---------------------------------------------------------------------------

    def poll_messages(
        self, limit: int, visibility_timeout: float | None, *, one_group: bool
    ) -> Sequence[ReceivedMessage]:
        """``ReceiveMessage`` for up to ``limit`` (at most 10) messages; [] while backing off.

        ``visibility_timeout`` (seconds, rounded up to SQS's whole seconds) overrides the
        queue's.  With ``one_group`` (FIFO), messages of groups other than the first are
        made visible again at once.
        """
        now = self.clock.now()
        if now < self.errors.retry_at:
            return []
        kwargs: dict[str, Any] = {
            "QueueUrl": self.url,
            "MaxNumberOfMessages": max(1, min(10, limit)),
            "WaitTimeSeconds": self.wait_time_seconds,
            "MessageSystemAttributeNames": ["All"],
            "MessageAttributeNames": ["All"],
        }
        if visibility_timeout is not None:
            kwargs["VisibilityTimeout"] = min(_MAX_VISIBILITY, math.ceil(visibility_timeout))
        try:
            response = self.client.receive_message(**kwargs)
        except aws_errors() as exc:
            self.errors.failed(exc, now)
            return []
        self.errors.succeeded()
        now = self.clock.now()
        visibility = self.visibility_timeout if visibility_timeout is None else visibility_timeout
        messages = [ReceivedMessage.from_response(m) for m in response.get("Messages", [])]
        if one_group and messages:
            group = messages[0].attributes.get("MessageGroupId")
            others = [m for m in messages if m.attributes.get("MessageGroupId") != group]
            messages = [m for m in messages if m.attributes.get("MessageGroupId") == group]
            for message in others:
                self._make_visible(message.receipt_handle)
        self._last_receive = now
        self._last_count = len(messages)
        # Messages whose visibility timeout has ended are the queue's again (a batch let
        # go after a throttle, one that outlived its timeout): stop tracking them.
        for receipt in [r for r, deadline in self._held.items() if deadline <= now]:
            del self._held[receipt]
        for message in messages:
            self._held[message.receipt_handle] = now + visibility
        self.received += len(messages)
        return messages

    def delete_message(self, receipt_handle: str, *, reason: str = "deleted") -> bool:
        """``DeleteMessage``; False when the handle is no longer valid or the call failed.

        ``reason`` (``processed``, ``filtered``) is what the poller says; SQS does not
        keep it.
        """
        self._held.pop(receipt_handle, None)
        try:
            self.client.delete_message(QueueUrl=self.url, ReceiptHandle=receipt_handle)
        except aws_errors() as exc:
            if aws_error_code(exc) not in ("ReceiptHandleIsInvalid", "InvalidParameterValue"):
                self.errors.failed(exc, self.clock.now())
            return False
        self.deleted += 1
        return True

    def is_in_flight(self, receipt_handle: str) -> bool:
        """True while a message this process received is still invisible to others.

        Judged by this process's clock from the receive's visibility timeout (SQS has
        no call that says so).
        """
        deadline = self._held.get(receipt_handle)
        return deadline is not None and self.clock.now() < deadline

    def has_visible(self) -> bool:
        """Whether the last receive found messages (SQS's counts are approximate anyway)."""
        return self._last_count > 0

    def next_change_at(self) -> float | None:
        """When to receive again: after the idle interval, or when a backoff ends."""
        return max(self._last_receive + self.idle_poll_interval, self.errors.retry_at)

    # -- lifecycle -----------------------------------------------------------------------------

    def let_go(self, receipt_handle: str) -> None:
        """Stop tracking a message without touching it (its batch failed: SQS's visibility
        timeout decides when it reappears)."""
        self._held.pop(receipt_handle, None)

    def return_held(self) -> int:
        """Make every message still held visible again at once (``ChangeMessageVisibility``
        0); returns how many the queue took back.  Used at shutdown."""
        now = self.clock.now()
        count = 0
        for receipt, deadline in list(self._held.items()):
            del self._held[receipt]
            if now < deadline and self._make_visible(receipt):
                count += 1
        self.returned += count
        return count

    def _make_visible(self, receipt_handle: str) -> bool:
        try:
            self.client.change_message_visibility(
                QueueUrl=self.url, ReceiptHandle=receipt_handle, VisibilityTimeout=0
            )
        except aws_errors() as exc:
            self.errors.failed(exc, self.clock.now())
            return False
        return True


@attrs.define(repr=False, eq=False)
class SQSConsumer:
    """The poller of a mapping from a real queue: an `SQSPoller` over an `SQSQueue`.

    Every rule is the `SQSPoller`'s (it is ``consumer.poller``, with its counters); this
    wrapper only notes which messages reached the function, so that `shutdown` returns
    the others to the queue at once and a failed batch's messages are left to their
    visibility timeout.  A `BindablePoller`.
    """

    queue: SQSQueue
    poller: SQSPoller

    def __repr__(self) -> str:
        return f"<SQSConsumer {self.queue.name} processed={self.poller.processed}>"

    def bind(self, handle: PollerHandle) -> None:
        """Bind the wrapped `SQSPoller` to the mapping."""
        self.poller.bind(handle)

    def poll(self, now: float, capacity: int) -> Sequence[Batch]:
        """The wrapped poller's batches."""
        return self.poller.poll(now, capacity)

    def complete(self, batch: Batch, outcome: BatchOutcome) -> None:
        """Apply SQS's rules (the wrapped poller); a batch that ran is settled."""
        self.poller.complete(batch, outcome)
        if outcome.kind is not Outcome.THROTTLED:
            for message in batch.records:
                self.queue.let_go(message.receipt_handle)

    def next_poll_at(self, now: float) -> float | None:
        """The wrapped poller's next poll."""
        return self.poller.next_poll_at(now)

    def shutdown(self) -> None:
        """Return every held message that never reached the function (``MappingRunner``
        calls this when it stops)."""
        self.queue.return_held()


def map_queue(
    function: Function,
    queue: SQSQueue | str,
    config: SQSMappingConfig | None = None,
    *,
    scheduler: Scheduler | None = None,
    client: Any = None,
    endpoint_url: str | None = None,
    region_name: str | None = None,
    seed: int | None = None,
    history: History | None = None,
    idle_poll_interval: float = 1.0,
) -> EventSourceMapping[SQSConsumer]:
    """An event source mapping from a real SQS queue to a local ``function``, started.

    ``queue`` is an `SQSQueue` or a queue URL (then ``client`` / ``endpoint_url`` /
    ``region_name`` / ``idle_poll_interval`` make the `SQSQueue`).  The scheduler must
    run on a real clock (default: a new `Scheduler` on a `SystemClock`); run it with
    `MappingRunner`.  ``config`` is the `SQSMappingConfig` (default: AWS's defaults).
    Batches run one at a time (``max_concurrency=1``): on a real clock the handler runs
    in the loop's thread; run more processes to consume in parallel.
    """
    if scheduler is None:
        scheduler = Scheduler(clock=queue.clock if isinstance(queue, SQSQueue) else SystemClock())
    if scheduler.is_virtual:
        raise InvalidParameterValueError(
            "scheduler", scheduler, "must run on a real clock (SystemClock) to read a real queue"
        )
    if isinstance(queue, str):
        queue = SQSQueue(
            queue,
            client,
            endpoint_url=endpoint_url,
            region_name=region_name,
            clock=scheduler.clock,
            idle_poll_interval=idle_poll_interval,
        )
    elif not isinstance(queue, SQSQueue):
        raise InvalidParameterValueError("queue", queue, "must be an SQSQueue or a queue URL")
    elif queue.clock is not scheduler.clock:
        raise InvalidParameterValueError(
            "queue", queue, "must read the scheduler's clock (SQSQueue(..., clock=scheduler.clock))"
        )
    config = SQSMappingConfig() if config is None else config
    consumer = SQSConsumer(queue, SQSPoller(queue, config))
    # On a real clock a batch runs in the loop's thread (the attempt waits for its handler),
    # so batches run one at a time: receiving more before the first has run would only let
    # their visibility timeouts run down.
    mapping = EventSourceMapping(
        function, consumer, scheduler, seed=seed, history=history, max_concurrency=1
    )
    if config.enabled:
        mapping.start()
    return mapping
