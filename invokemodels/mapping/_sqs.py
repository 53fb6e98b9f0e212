"""The SQS event source mapping: configuration, scaling model and poller (reference 4.2).

`SQSPoller` implements `invokemodels.Poller` on top of a `Queue`; the generic
`invokemodels.EventSourceMapping` loop invokes the function with its batches.

Rules reproduced:

- A batch is flushed at ``BatchSize`` records, at the 6 MB synchronous payload
  limit (record metadata counts), or when ``MaximumBatchingWindowInSeconds``
  has passed since its first record (standard queues only).
- Success: the batch's messages are deleted.  Function error: nothing is
  deleted; the messages reappear when their visibility timeout ends, and the
  queue's redrive policy moves them to its dead-letter queue.
- Throttled: the poller keeps the batch and retries it, backing off, until the
  messages' visibility timeout would end; then it lets go and they reappear.
- ``ReportBatchItemFailures``: only the reported ``messageId`` s stay; the
  reference's table decides when a response means complete success or failure.
- Messages that do not match ``FilterCriteria`` are deleted (fate ``filtered``).

Scaling model (virtual clock; see `SQSScaling`): a mapping starts with 5
concurrent batches and, while every slot is busy and messages wait, adds
``ramp_per_minute`` slots per minute up to 1000 (or
``ScalingConfig.MaximumConcurrency``).  Each failed or throttled batch takes
one slot away (not below 2) and stops the ramp until a batch succeeds; with
``ReportBatchItemFailures`` function errors do not scale it down.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from typing import Any, Final, Protocol

import attrs

from invokemodels.core._clock import on_grid
from invokemodels.core._function import SYNC_PAYLOAD_LIMIT, encode_payload
from invokemodels.core._history import Outcome
from invokemodels.core._protocols import Batch, BatchOutcome, PollerHandle
from invokemodels.core._records import sqs_record
from invokemodels.core._retry import STALL_LIMIT
from invokemodels.core._validate import boolean, check_range, implements, in_range, instance_of
from invokemodels.exceptions import InvalidParameterValueError
from invokemodels.mapping._filters import FilterCriteria, filter_view
from invokemodels.mapping._params import (
    REPORT_BATCH_ITEM_FAILURES,
    batch_size,
    batching_window,
    check_batching_window,
    check_response_types,
    filter_criteria,
    no_destination,
    response_types,
)
from invokemodels.mapping._partial import batch_item_failures

__all__ = [
    "PolledMessage",
    "PolledQueue",
    "SQSMappingConfig",
    "SQSPoller",
    "SQSScaling",
    "sqs_event_record",
]

_EVENT_OVERHEAD: Final = len('{"Records": [') + len("]}")


class PolledMessage(Protocol):
    """**Protocol**: a received message, as `SQSPoller` reads it (``aws.PolledMessage``)."""

    @property
    def message_id(self) -> str: ...
    @property
    def receipt_handle(self) -> str: ...
    @property
    def body(self) -> str: ...
    @property
    def md5_of_body(self) -> str: ...
    @property
    def attributes(self) -> Mapping[str, str]: ...
    @property
    def message_attributes(self) -> Mapping[str, Mapping[str, Any]]: ...
    @property
    def md5_of_message_attributes(self) -> str | None: ...


class PolledQueue(Protocol):
    """**Protocol**: what `SQSPoller` needs of a queue (the in-memory ``aws.Queue`` has it).

    ``poll_messages`` receives as Lambda's poller does (any count, no long polling, one
    message group per batch when asked); the rest is SQS's ``DeleteMessage`` and the
    queue's state.
    """

    @property
    def name(self) -> str: ...
    @property
    def arn(self) -> str: ...
    @property
    def region(self) -> str: ...
    @property
    def fifo(self) -> bool: ...
    @property
    def visibility_timeout(self) -> float: ...

    def poll_messages(
        self, limit: int, visibility_timeout: float | None, *, one_group: bool
    ) -> Sequence[PolledMessage]: ...

    def delete_message(self, receipt_handle: str, *, reason: str = ...) -> bool: ...

    def is_in_flight(self, receipt_handle: str) -> bool: ...

    def has_visible(self) -> bool: ...

    def next_change_at(self) -> float | None: ...


@attrs.frozen(kw_only=True)
class SQSScaling:
    """The scaling model of an SQS mapping (standard and FIFO queues).

    Attributes:
        initial_concurrency: concurrent batches at the start (AWS: "starts
            processing five batches at a time"); default 5.
        ramp_per_minute: slots added per minute while all slots are busy and
            messages wait: 300 (current docs; default) or 60 (2022 docs).
        maximum_concurrent_batches: the ceiling, 1000 (current English docs;
            default) or 1250 (zh-CN docs) [conflict in the reference].
        minimum_concurrency: the floor when backing off ("as few as 2"); default 2.
        error_backoff: slots taken away per failed or throttled batch; default 1
            ([UNCONFIRMED]: AWS says only that it "gradually backs off").
        throttle_retry_delay: first delay before a throttled batch is retried,
            doubling per throttle; default 1 s ([UNCONFIRMED]).
        throttle_retry_max_delay: the largest such delay; default 20 s ([UNCONFIRMED]).
    """

    initial_concurrency: int = attrs.field(
        default=5, validator=in_range("initial_concurrency", 1, 10_000, integer=True)
    )
    ramp_per_minute: float = attrs.field(
        default=300, validator=in_range("ramp_per_minute", 0, 1_000_000)
    )
    maximum_concurrent_batches: int = attrs.field(
        default=1000, validator=in_range("maximum_concurrent_batches", 1, 100_000, integer=True)
    )
    minimum_concurrency: int = attrs.field(
        default=2, validator=in_range("minimum_concurrency", 1, 100_000, integer=True)
    )
    error_backoff: float = attrs.field(default=1, validator=in_range("error_backoff", 0, 100_000))
    throttle_retry_delay: float = attrs.field(
        default=1.0, validator=in_range("throttle_retry_delay", 0.001, 43_200)
    )
    throttle_retry_max_delay: float = attrs.field(
        default=20.0, validator=in_range("throttle_retry_max_delay", 0.001, 43_200)
    )


def _filter_criteria(value: Any) -> FilterCriteria | None:
    # Checked against SQS's data-key rules, as Lambda does when the mapping is created.
    return filter_criteria(value, "aws:sqs")


@attrs.frozen(kw_only=True)
class SQSMappingConfig:
    """``CreateEventSourceMapping`` parameters for an SQS queue.

    Attributes:
        batch_size: ``BatchSize``, 1-10000 (default 10; at most 10 for FIFO queues).
        maximum_batching_window: ``MaximumBatchingWindowInSeconds``, 0-300 (default 0);
            standard queues only; at least 1 when ``batch_size`` > 10.
        function_response_types: ``FunctionResponseTypes``: ``()`` (default) or
            ``("ReportBatchItemFailures",)`` (a list, or the bare string, is accepted).
        filter_criteria: ``FilterCriteria``: a `FilterCriteria` or its dict form
            (default None: every message matches).
        maximum_concurrency: ``ScalingConfig.MaximumConcurrency``, 2-1000 (default None: unset).
        destination_config: ``DestinationConfig``: always rejected, as AWS does for SQS
            ("Unsupported DestinationConfig parameter for given event source mapping type.").
        enabled: ``Enabled`` (default True).
        scaling: the `SQSScaling` model (default: the current documentation's numbers).
        one_group_per_batch: FIFO only: put a single message group in each batch,
            as the 2022 documentation described (default False: the current
            behaviour, where a batch may mix groups and each keeps its order).
    """

    batch_size: int = attrs.field(default=10, validator=batch_size())
    maximum_batching_window: float = attrs.field(default=0, validator=batching_window())
    function_response_types: tuple[str, ...] = attrs.field(
        default=(), converter=response_types, validator=check_response_types
    )
    filter_criteria: FilterCriteria | None = attrs.field(default=None, converter=_filter_criteria)
    maximum_concurrency: int | None = attrs.field(
        default=None,
        validator=in_range(
            "ScalingConfig.MaximumConcurrency", 2, 1000, integer=True, optional=True
        ),
    )
    destination_config: Any = attrs.field(default=None, validator=no_destination)
    enabled: bool = attrs.field(default=True, validator=boolean("Enabled"))
    scaling: SQSScaling = attrs.field(
        factory=SQSScaling, validator=instance_of("scaling", SQSScaling, "an SQSScaling")
    )
    one_group_per_batch: bool = attrs.field(default=False, validator=boolean("one_group_per_batch"))

    def __attrs_post_init__(self) -> None:
        check_batching_window(self.batch_size, self.maximum_batching_window)

    @property
    def report_batch_item_failures(self) -> bool:
        """True when ``FunctionResponseTypes`` holds ``ReportBatchItemFailures``."""
        return REPORT_BATCH_ITEM_FAILURES in self.function_response_types

    @classmethod
    def from_dict(cls, parameters: Mapping[str, Any]) -> SQSMappingConfig:
        """Build from ``CreateEventSourceMapping`` parameters, as boto3 takes them.

        Reads ``BatchSize``, ``MaximumBatchingWindowInSeconds``,
        ``FunctionResponseTypes``, ``FilterCriteria``, ``ScalingConfig``
        (``MaximumConcurrency``), ``Enabled`` and ``DestinationConfig`` (rejected);
        ``EventSourceArn`` and ``FunctionName`` are accepted and ignored (the queue and
        the function are given to `Queue.map_to`).  A parameter that does not apply to
        SQS (``StartingPosition``, ``BisectBatchOnFunctionError``, ...) raises
        `InvalidParameterValueError`; so does ``ProvisionedPollerConfig``, which this
        model does not implement.
        """
        unknown = sorted(set(parameters) - _API_KEYS - {"EventSourceArn", "FunctionName"})
        if unknown:
            raise InvalidParameterValueError(
                unknown[0],
                parameters[unknown[0]],
                "is not a parameter of an SQS event source mapping in this model "
                f"(supported: {', '.join(sorted(_API_KEYS))})",
            )
        kwargs: dict[str, Any] = {}
        for key, name in _API_FIELDS.items():
            if key in parameters:
                kwargs[name] = parameters[key]
        scaling = parameters.get("ScalingConfig")
        if scaling is not None:
            if not isinstance(scaling, Mapping) or set(scaling) - {"MaximumConcurrency"}:
                raise InvalidParameterValueError(
                    "ScalingConfig", scaling, 'must be {"MaximumConcurrency": 2-1000}'
                )
            kwargs["maximum_concurrency"] = scaling.get("MaximumConcurrency")
        return cls(**kwargs)

    def to_dict(self) -> dict[str, Any]:
        """The SQS-relevant fields as ``GetEventSourceMapping`` shows them."""
        out: dict[str, Any] = {
            "BatchSize": self.batch_size,
            "MaximumBatchingWindowInSeconds": self.maximum_batching_window,
            "FunctionResponseTypes": list(self.function_response_types),
        }
        if self.filter_criteria is not None and self.filter_criteria.patterns:
            out["FilterCriteria"] = self.filter_criteria.to_dict()
        if self.maximum_concurrency is not None:
            out["ScalingConfig"] = {"MaximumConcurrency": self.maximum_concurrency}
        return out

    def check_queue(self, queue: PolledQueue) -> None:
        """Raise `InvalidParameterValueError` if this configuration does not fit ``queue``."""
        if queue.fifo:
            check_range("BatchSize", self.batch_size, 1, 10, integer=True)
            if self.maximum_batching_window:
                raise InvalidParameterValueError(
                    "MaximumBatchingWindowInSeconds",
                    self.maximum_batching_window,
                    "must be 0 for FIFO queues (the batching window applies to standard "
                    "queues only)",
                )
        elif self.one_group_per_batch:
            raise InvalidParameterValueError(
                "one_group_per_batch", True, "applies to FIFO queues only"
            )


_API_FIELDS: Final = {
    "BatchSize": "batch_size",
    "MaximumBatchingWindowInSeconds": "maximum_batching_window",
    "FunctionResponseTypes": "function_response_types",
    "FilterCriteria": "filter_criteria",
    "DestinationConfig": "destination_config",
    "Enabled": "enabled",
}
_API_KEYS: Final = frozenset({*_API_FIELDS, "ScalingConfig"})


def sqs_event_record(message: PolledMessage, event_source_arn: str, region: str) -> dict[str, Any]:
    """One record of an SQS event, key for key as Lambda sends it (reference 5.1, 5.2).

    ``md5OfMessageAttributes`` is the ``MD5OfMessageAttributes`` that ``SendMessage``
    returned, and null for a message without message attributes (recorded shape).
    """
    return sqs_record(
        message.message_id,
        message.receipt_handle,
        message.body,
        message.attributes,
        message.message_attributes,
        message.md5_of_message_attributes,
        message.md5_of_body,
        event_source_arn,
        region,
    )


_Entry = tuple[PolledMessage, dict[str, Any], int]
"""A received message, its event record and its JSON size (or an upper bound of it)."""


class _Held:
    """A batch handed out or held after a throttle (internal)."""

    __slots__ = ("attempts", "batch", "deadline", "retry_at")

    def __init__(self, batch: Batch, deadline: float) -> None:
        self.batch = batch
        self.deadline = deadline
        self.attempts = 0
        self.retry_at = 0.0


@attrs.define(repr=False, eq=False)
class SQSPoller:
    """The SQS side of an event source mapping (a `Poller`).

    Usually made by `Queue.map_to`.  The `EventSourceMapping` that drives it binds it
    (`bind`): the clock and the function's timeout come through its `PollerHandle`.
    Counters: ``processed`` / ``filtered``
    messages deleted, ``failed_batches`` (function errors and complete
    failures of partial responses), ``partial_batches`` (partial responses that
    kept some messages), ``throttled_batches``, ``released_after_throttle``
    (throttled batches let go at their visibility deadline).
    """

    queue: PolledQueue = attrs.field(
        validator=implements(
            "queue",
            "PolledQueue",
            ("poll_messages", "delete_message", "is_in_flight", "has_visible", "next_change_at"),
            ("name", "arn", "region", "fifo", "visibility_timeout"),
        )
    )
    config: SQSMappingConfig = attrs.field(
        validator=instance_of("config", SQSMappingConfig, "an SQSMappingConfig")
    )
    processed: int = attrs.field(default=0, init=False)
    filtered: int = attrs.field(default=0, init=False)
    failed_batches: int = attrs.field(default=0, init=False)
    partial_batches: int = attrs.field(default=0, init=False)
    throttled_batches: int = attrs.field(default=0, init=False)
    released_after_throttle: int = attrs.field(default=0, init=False)
    _active: dict[int, _Held] = attrs.field(factory=dict, init=False)
    _held: list[_Held] = attrs.field(factory=list, init=False)
    _buffer: list[_Entry] = attrs.field(factory=list, init=False)
    _buffer_opened: float | None = attrs.field(default=None, init=False)
    _buffer_size: int = attrs.field(default=0, init=False)
    _buffer_exact: bool = attrs.field(default=False, init=False)
    _carry: list[_Entry] = attrs.field(factory=list, init=False)
    _carry_received: float = attrs.field(default=0.0, init=False)
    _buffer_received: float | None = attrs.field(default=None, init=False)
    _flushed_received: float | None = attrs.field(default=None, init=False)
    _level: float = attrs.field(default=0.0, init=False)
    _level_at: float = attrs.field(default=0.0, init=False)
    _growing: bool = attrs.field(default=False, init=False)
    _healthy: bool = attrs.field(default=True, init=False)
    _visibility: float | None = attrs.field(default=None, init=False)
    _handle: PollerHandle | None = attrs.field(default=None, init=False)
    # Receives of each message at one instant, while the visibility timeout is 0 (STALL_LIMIT).
    _stall_at: float | None = attrs.field(default=None, init=False)
    _stalls: dict[str, int] = attrs.field(factory=dict, init=False)

    def __attrs_post_init__(self) -> None:
        self.config.check_queue(self.queue)
        scaling = self.config.scaling
        self._level = float(min(scaling.initial_concurrency, self._ceiling()))

    def bind(self, handle: PollerHandle) -> None:
        """Attach to a mapping through its ``handle`` (the `EventSourceMapping` calls this
        when it is created): the scaling model starts now, and the receives' visibility
        timeout follows from the function's timeout."""
        if self._handle is not None:
            msg = "this SQSPoller is already bound to a mapping"
            raise RuntimeError(msg)
        self._handle = handle
        self._level_at = handle.now()
        window = self.config.maximum_batching_window
        timeout = handle.function.timeout
        # Reference 4.2: with a batch window, when window + function timeout exceeds the
        # queue's visibility timeout, the effective timeout is window + timeout + 30 s.
        if window > 0 and window + timeout > self.queue.visibility_timeout:
            self._visibility = window + timeout + 30
        else:
            self._visibility = None

    def __repr__(self) -> str:
        return (
            f"<SQSPoller {self.queue.name} concurrency={self.concurrency} "
            f"active={self.active} processed={self.processed}>"
        )

    @property
    def effective_visibility_timeout(self) -> float:
        """The visibility timeout the mapping's receives use (reference 4.2)."""
        if self._visibility is None:
            return self.queue.visibility_timeout
        return self._visibility

    @property
    def concurrency(self) -> int:
        """Concurrent batches allowed now by the scaling model."""
        return max(1, min(int(self._level + 1e-9), self._ceiling()))

    @property
    def active(self) -> int:
        """Batches being processed or held after a throttle (plus one being gathered)."""
        return len(self._active) + len(self._held) + (1 if self._buffer else 0)

    def _ceiling(self) -> int:
        ceiling = self.config.scaling.maximum_concurrent_batches
        if self.config.maximum_concurrency is not None:
            ceiling = min(ceiling, self.config.maximum_concurrency)
        return ceiling

    # -- scaling -------------------------------------------------------------------------------

    def _grow(self, now: float) -> None:
        if self._growing:
            scaling = self.config.scaling
            grown = self._level + scaling.ramp_per_minute * (now - self._level_at) / 60.0
            self._level = min(grown, float(self._ceiling()))
        self._level_at = now

    def _back_off(self, now: float) -> None:
        self._grow(now)
        self._growing = self._healthy = False
        scaling = self.config.scaling
        floor = min(scaling.minimum_concurrency, self._ceiling())
        self._level = max(float(floor), self._level - scaling.error_backoff)

    # -- Poller --------------------------------------------------------------------------------

    def poll(self, now: float, capacity: int) -> Sequence[Batch]:
        """Hand out batches: throttled batches due for a retry, then new ones, within the
        scaling model's concurrency."""
        self._grow(now)
        out: list[Batch] = []
        if self._held:
            keep: list[_Held] = []
            for held in self._held:
                if held.retry_at > now or len(out) >= capacity:
                    keep.append(held)
                elif now >= held.deadline:
                    self.released_after_throttle += 1
                else:
                    self._active[id(held.batch)] = held
                    out.append(held.batch)
            self._held = keep
        limit = self.concurrency
        while len(out) < capacity and self.active - (1 if self._buffer else 0) < limit:
            batch = self._gather(now)
            if batch is None:
                break
            received = now if self._flushed_received is None else self._flushed_received
            # The batch's messages reappear one visibility timeout after their receive.
            self._active[id(batch)] = _Held(
                batch, on_grid(received + self.effective_visibility_timeout)
            )
            out.append(batch)
        self._growing = (
            self._healthy
            and self.active >= limit
            and self._level < self._ceiling()
            and self.queue.has_visible()
        )
        return out

    def next_poll_at(self, now: float) -> float | None:
        """The next moment polling can make progress without a completion."""
        due: list[float] = [held.retry_at for held in self._held]
        if self._buffer_opened is not None:
            due.append(on_grid(self._buffer_opened + self.config.maximum_batching_window))
        if self.active < self.concurrency or self._buffer:
            change = self.queue.next_change_at()
            if change is not None:
                due.append(change)
        if self._growing:
            rate = self.config.scaling.ramp_per_minute
            if rate > 0:
                step = math.floor(self._level + 1e-9) + 1 - self._level
                due.append(on_grid(now + step * 60.0 / rate))
        upcoming = [when for when in due if when > now]
        return min(upcoming) if upcoming else None

    def complete(self, batch: Batch, outcome: BatchOutcome) -> None:
        """Apply SQS's rules to a finished (or throttled) batch."""
        held = self._active.pop(id(batch))
        now = outcome.ended_at
        report = self.config.report_batch_item_failures
        messages: tuple[PolledMessage, ...] = batch.records
        if outcome.kind is Outcome.THROTTLED:
            self.throttled_batches += 1
            self._back_off(now)
            scaling = self.config.scaling
            delay = min(
                scaling.throttle_retry_max_delay,
                scaling.throttle_retry_delay * 2.0**held.attempts,
            )
            held.attempts += 1
            # On the clock's grid: a retry time a hair past the tick the mapping wakes at
            # would never be due there, and the mapping would poll at that tick forever.
            held.retry_at = on_grid(now + delay)
            if held.retry_at < held.deadline:
                self._held.append(held)
            else:
                # Past the visibility timeout the messages reappear; let go of the batch.
                self.released_after_throttle += 1
            return
        if outcome.kind is Outcome.FUNCTION_ERROR:
            self.failed_batches += 1
            if not report:
                self._back_off(now)
            return
        keep: set[str] = set()
        if report:
            ids = {message.message_id for message in messages}
            failed = batch_item_failures(outcome.response(), ids)
            if failed is None:
                self.failed_batches += 1
                return
            keep = failed
            if keep:
                self.partial_batches += 1
        if not self._healthy:
            self._grow(now)
            self._healthy = True
        delete = self.queue.delete_message
        for message in messages:
            if message.message_id not in keep and delete(
                message.receipt_handle, reason="processed"
            ):
                self.processed += 1

    # -- batching ------------------------------------------------------------------------------

    def _gather(self, now: float) -> Batch | None:
        """Receive into the open batch; return it when it is due, else None."""
        config = self.config
        queue = self.queue
        window = config.maximum_batching_window
        if self._buffer or self._carry:
            self._drop_reappeared(now)
        buffer = self._buffer
        full = False
        if self._carry and not buffer:
            carry = self._carry
            while carry and len(buffer) < config.batch_size and self._fits(carry[0]):
                self._add(carry.pop(0))
                self._buffer_received = self._carry_received
            full = bool(carry)
        full = full or len(buffer) >= config.batch_size
        one_group = config.one_group_per_batch
        # Hidden for 0 s, a received message is visible again at once: with attempts of no
        # modelled time the mapping could receive it at this instant for ever.
        # A second receive would hand out the same messages again, so a batch holds one
        # receive's messages (up to 10), each once: a message already gathered keeps its
        # place with its latest receive (whose receipt handle is the one that deletes it).
        watch = self.effective_visibility_timeout == 0
        gathered = {entry[0].message_id: at for at, entry in enumerate(buffer)} if watch else None
        while not full:
            want = min(10, config.batch_size - len(buffer))
            received = queue.poll_messages(want, self._visibility, one_group=one_group)
            if not received:
                break
            again = gathered is not None
            for message in received:
                if gathered is not None:
                    self._count_receive(message.message_id, now)
                entry = self._entry(message)
                if entry is None:
                    continue
                if gathered is not None:
                    at = gathered.get(message.message_id)
                    if at is not None:
                        self._replace(at, entry)
                        continue
                    gathered[message.message_id] = len(buffer)
                if full or not self._fits(entry):
                    if not self._carry:
                        self._carry_received = now
                    self._carry.append(entry)
                    full = True
                    continue
                if self._buffer_received is None:
                    self._buffer_received = now
                self._add(entry)
                full = len(buffer) >= config.batch_size
            if queue.fifo or again:
                break
        if not buffer:
            return None
        if self._buffer_opened is None:
            self._buffer_opened = now
        if not full and window > 0 and now < on_grid(self._buffer_opened + window):
            return None
        return self._flush()

    def _count_receive(self, message_id: str, now: float) -> None:
        """Count a receive at ``now``; `STALL_LIMIT` receives of one message at one instant raise.

        The message stays in the queue (visible) and the mapping is woken for ``now``: the
        run stops with the error, and a run resumed after a fix polls again at once.
        """
        if self._stall_at != now:
            self._stall_at = now
            self._stalls.clear()
        count = self._stalls[message_id] = self._stalls.get(message_id, 0) + 1
        if count >= STALL_LIMIT:
            self._stalls.clear()
            if self._handle is not None:
                self._handle.wake()  # a run resumed after a fix polls again at once
            raise InvalidParameterValueError(
                "VisibilityTimeout",
                self.effective_visibility_timeout,
                f"with attempts of no modelled time, message {message_id} of "
                f"{self.queue.name} was received {count} times in a row at t={now!r} s with "
                "no time passing (the queue hides a received message for 0 s), and the "
                "mapping would receive it at this instant for ever; give the function a duration "
                "(Function(duration=...)), the queue a VisibilityTimeout > 0, or a redrive "
                "policy (maxReceiveCount)",
            )

    def _drop_reappeared(self, now: float) -> None:
        """Forget gathered messages whose visibility timeout ended before their batch was
        sent (the mapping was disabled meanwhile, or no slot was free): they are visible
        again, and a receive hands them out anew with a new receipt handle."""
        visibility = self.effective_visibility_timeout
        in_flight = self.queue.is_in_flight
        received = self._buffer_received
        if self._buffer and received is not None and now >= on_grid(received + visibility):
            kept = [entry for entry in self._buffer if in_flight(entry[0].receipt_handle)]
            if len(kept) < len(self._buffer):
                self._buffer = kept
                self._buffer_size = sum(entry[2] for entry in kept)
                if not kept:
                    self._buffer_opened = self._buffer_received = None
                    self._buffer_exact = False
        if self._carry and now >= on_grid(self._carry_received + visibility):
            self._carry = [entry for entry in self._carry if in_flight(entry[0].receipt_handle)]

    def _entry(self, message: PolledMessage) -> _Entry | None:
        queue = self.queue
        record = sqs_event_record(message, queue.arn, queue.region)
        criteria = self.config.filter_criteria
        if criteria is not None and criteria.patterns and not self._matches(criteria, record):
            if queue.delete_message(message.receipt_handle, reason="filtered"):
                self.filtered += 1
            return None
        return (message, record, self._bound(message))

    @staticmethod
    def _matches(criteria: FilterCriteria, record: dict[str, Any]) -> bool:
        return criteria.matches(filter_view(record))

    @staticmethod
    def _bound(message: PolledMessage) -> int:
        """An upper bound of the record's JSON size (every character escaped, worst case)."""
        chars = len(message.body) + len(message.receipt_handle)
        for name, spec in message.message_attributes.items():
            value = spec.get("BinaryValue")
            chars += len(name) + len(spec["DataType"]) + 80
            chars += len(value) * 2 if value is not None else len(spec["StringValue"])
        return 12 * chars + 1024

    def _exact(self, entry: _Entry) -> int:
        return len(encode_payload(entry[1], limit=None))

    def _fits(self, entry: _Entry) -> bool:
        count = len(self._buffer)
        if count == 0:
            return True
        total = _EVENT_OVERHEAD + self._buffer_size + 2 * count
        if total + entry[2] <= SYNC_PAYLOAD_LIMIT:
            return True
        if not self._buffer_exact:
            self._buffer[:] = [(m, r, self._exact((m, r, b))) for m, r, b in self._buffer]
            self._buffer_size = sum(item[2] for item in self._buffer)
            self._buffer_exact = True
        total = _EVENT_OVERHEAD + self._buffer_size + 2 * count
        return total + self._exact(entry) <= SYNC_PAYLOAD_LIMIT

    def _replace(self, at: int, entry: _Entry) -> None:
        """Put the latest receive of a gathered message in its place in the buffer."""
        if self._buffer_exact:
            entry = (entry[0], entry[1], self._exact(entry))
        self._buffer_size += entry[2] - self._buffer[at][2]
        self._buffer[at] = entry

    def _add(self, entry: _Entry) -> None:
        if self._buffer_exact:
            entry = (entry[0], entry[1], self._exact(entry))
        self._buffer.append(entry)
        self._buffer_size += entry[2]

    def _flush(self) -> Batch:
        buffer = self._buffer
        self._buffer = []
        self._buffer_size = 0
        self._buffer_exact = False
        self._buffer_opened = None
        self._flushed_received = self._buffer_received
        self._buffer_received = None
        messages = tuple(entry[0] for entry in buffer)
        lane: Hashable = None
        if self.queue.fifo:
            groups = tuple(
                dict.fromkeys(message.attributes["MessageGroupId"] for message in messages)
            )
            lane = groups[0] if len(groups) == 1 else groups
        ids = tuple([message.message_id for message in messages])
        duplicates = tuple(
            [message.message_id for message in messages if getattr(message, "duplicate", False)]
        )
        received = max(
            [int(message.attributes.get("ApproximateReceiveCount", 1)) for message in messages],
            default=1,
        )
        enqueued_at: float | None = None
        handle = self._handle
        if handle is not None and messages and handle.recording:
            # SentTimestamp is epoch milliseconds: back to clock time through the handle.
            sent = min(int(message.attributes.get("SentTimestamp", 0)) for message in messages)
            now = handle.now()
            enqueued_at = min(now, now - (handle.epoch() - sent / 1000.0))
        return Batch(
            {"Records": [entry[1] for entry in buffer]}, messages, lane, ids, received,
            enqueued_at=enqueued_at, source=self.queue.arn,
            report_batch_item_failures=self.config.report_batch_item_failures,
            duplicates=duplicates,
            chain=max([getattr(message, "chain", ()) for message in messages], key=len, default=()),
        )  # fmt: skip
