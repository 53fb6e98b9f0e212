"""An in-memory SQS queue: standard and FIFO, on the injected clock.

`Queue` keeps SQS's attributes, ranges and defaults (``CreateQueue``,
reference 4.2) and its message life cycle::

    send ──> DELAYED ──(DelaySeconds)──> VISIBLE ──receive──> IN_FLIGHT ──delete──> DELETED
                                            ^                     │
                                            └─(visibility ends)───┘
    any live state ──(MessageRetentionPeriod)──> EXPIRED
    VISIBLE ──(the receive that would exceed maxReceiveCount)──> MOVED_TO_DLQ

Every message ends in exactly one terminal state, with a `QueueEvent`
saying when and why (`Queue.fate`).  Time comes from the scheduler's clock;
message ids, receipt handles and sequence numbers from a seeded
``random.Random``, so one seed gives one timeline.

The same queue is an event source (`Queue.map_to` wires an SQS event source
mapping), an asynchronous or stream on-failure `Destination` (``arn`` and
``deliver``) and a dead-letter queue (``send_message(body, attributes)``).
"""

from __future__ import annotations

import base64
import binascii
import enum
import hashlib
import heapq
import itertools
import json
import random
import re
from collections import deque
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, Final

import attrs

from invokemodels.core._chain import Chain
from invokemodels.core._chain import current as current_chain
from invokemodels.core._clock import TICKS_PER_SECOND, TickClock, tick_clock, to_ticks
from invokemodels.core._function import new_request_id, payload_size
from invokemodels.core._history import History
from invokemodels.core._protocols import Delivery
from invokemodels.core._scheduler import Scheduler
from invokemodels.core._validate import (
    ACCOUNT_ID,
    REGION,
    boolean,
    check_range,
    in_range,
    instance_of,
    is_random,
    one_of,
    render_value,
    seconds,
    seeded,
    text,
)
from invokemodels.exceptions import (
    InvalidParameterValueError,
    MessageNotInflightError,
    ReceiptHandleIsInvalidError,
)
from invokemodels.mapping._loop import EventSourceMapping
from invokemodels.mapping._sqs import SQSMappingConfig, SQSPoller

if TYPE_CHECKING:
    from invokemodels.core._function import Function

__all__ = [
    "DEDUPLICATION_INTERVAL",
    "DeadLetter",
    "MessageState",
    "Queue",
    "QueueEvent",
    "ReceivedMessage",
    "RedrivePolicy",
    "SendResult",
]

DEDUPLICATION_INTERVAL: Final = 300.0
"""FIFO deduplication interval in seconds (5 minutes)."""

MAX_VISIBILITY: Final = 43_200
"""Longest visibility timeout; also the longest a message may stay hidden after a receive (12 h)."""

DEFAULT_SENDER_ID: Final = "AIDAIENQZJOLO23YVJ4VO"
"""``SenderId`` stamped on messages when none is given (the IAM user id of AWS's sample event)."""

_NAME = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
_SENDER_ID = re.compile(r"\S+")
_ATTRIBUTE_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,256}$")
_DATA_TYPE = re.compile(r"^(String|Number|Binary)(\.[A-Za-z0-9_.-]+)?$")
# A character SendMessage refuses in a body; the event builders apply the same rule.
BAD_BODY_CHARACTER: Final = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


class MessageState(enum.Enum):
    """Where a message is in its life cycle.  The last three are terminal."""

    # Members are singletons compared by identity: hash them by identity too (much faster
    # than Enum's name hash on the per-message hot path).
    __hash__ = object.__hash__

    DELAYED = "delayed"
    """Sent with a delay (``DelaySeconds``); not yet receivable."""
    VISIBLE = "visible"
    """Receivable."""
    IN_FLIGHT = "in_flight"
    """Received and hidden for the visibility timeout."""
    DELETED = "deleted"
    """Deleted with a receipt handle (by a consumer or an event source mapping)."""
    MOVED_TO_DLQ = "moved_to_dlq"
    """Moved to the dead-letter queue by the redrive policy."""
    EXPIRED = "expired"
    """Removed when its ``MessageRetentionPeriod`` ran out."""


_TERMINAL: Final = frozenset(
    {MessageState.DELETED, MessageState.MOVED_TO_DLQ, MessageState.EXPIRED}
)


@attrs.frozen
class QueueEvent:
    """One entry of a queue's `events` log.

    ``kind`` is one of ``"sent"``, ``"deduplicated"`` (a FIFO send inside the
    deduplication interval: accepted, not enqueued), ``"received"``,
    ``"visible"`` (its visibility timeout ended), ``"visibility_changed"``,
    ``"deleted"``, ``"expired"``, ``"moved_to_dlq"`` and ``"stale_delete"`` (a
    delete with an older receipt handle: accepted, nothing deleted).
    ``at`` is clock seconds; ``receive_count`` the message's
    ``ApproximateReceiveCount`` at that moment; ``detail`` says why (for
    ``deleted``: ``"DeleteMessage"``, ``"processed"`` or ``"filtered"``).

    With ``duplicate_probability`` > 0 a standard queue also logs its at-least-once
    duplicates: ``"duplicated"`` (a receive left a copy behind; ``detail`` says when the
    copy becomes receivable), ``"received"`` with ``detail="duplicate"`` (the copy was
    received), ``"duplicate_deleted"`` (the copy's receipt handle was deleted) and
    ``"duplicate_expired"`` (the copy outlived the message's retention period unreceived).
    A copy is never a message of its own: it has no fate, and `Queue.fates` still has one
    entry per message.
    """

    at: float
    kind: str
    message_id: str
    receive_count: int = 0
    detail: str = ""


@attrs.frozen
class SendResult:
    """What ``SendMessage`` returns.

    ``deduplicated`` is True when a FIFO queue accepted the send without
    enqueuing it (same deduplication id inside 5 minutes); the id and
    sequence number are then the original message's ([UNCONFIRMED]: AWS only
    documents that the send "is accepted successfully").
    """

    message_id: str
    md5_of_body: str
    md5_of_message_attributes: str | None = None
    sequence_number: str | None = None
    deduplicated: bool = False


@attrs.frozen
class ReceivedMessage:
    """A message as ``ReceiveMessage`` returns it.

    ``attributes`` are the system attributes with AWS's names and string
    values (``ApproximateReceiveCount``, ``SentTimestamp``, ``SenderId``,
    ``ApproximateFirstReceiveTimestamp``, and for FIFO ``SequenceNumber``,
    ``MessageGroupId``, ``MessageDeduplicationId``); ``message_attributes``
    keep the ``SendMessage`` shape (``DataType``, ``StringValue``/``BinaryValue``).
    """

    message_id: str
    receipt_handle: str
    body: str
    md5_of_body: str
    attributes: dict[str, str]
    message_attributes: dict[str, dict[str, Any]]
    md5_of_message_attributes: str | None = None
    duplicate: bool = False
    """True for an at-least-once duplicate copy (same ``MessageId``, its own receipt handle)."""
    chain: tuple[str, ...] = ()
    """The chain of requests it was sent in (the ARNs of the functions that led to it, for
    recursive loop detection; see `invokemodels.core._chain`); empty when sent from outside
    a handler."""

    @property
    def receive_count(self) -> int:
        """``ApproximateReceiveCount`` as an int."""
        return int(self.attributes["ApproximateReceiveCount"])

    @property
    def group_id(self) -> str | None:
        """``MessageGroupId`` (FIFO), else None."""
        return self.attributes.get("MessageGroupId")

    def json(self) -> Any:
        """The body parsed from JSON."""
        return json.loads(self.body)


def _check_queue(_instance: Any, _attribute: Any, value: Any) -> None:
    if not isinstance(value, Queue):
        raise InvalidParameterValueError(
            "RedrivePolicy.deadLetterTargetArn", value, "must be a Queue (the dead-letter queue)"
        )


@attrs.frozen(kw_only=True)
class RedrivePolicy:
    """``RedrivePolicy``: where messages go after too many receives.

    Args:
        dead_letter_target: the dead-letter `Queue` (``deadLetterTargetArn``);
            a FIFO queue needs a FIFO dead-letter queue, a standard one a standard queue.
        max_receive_count: ``maxReceiveCount``, 1-1000 (default 10).  The
            receive that would exceed it moves the message instead.
    """

    dead_letter_target: Queue = attrs.field(validator=_check_queue)
    max_receive_count: int = attrs.field(
        default=10, validator=in_range("RedrivePolicy.maxReceiveCount", 1, 1000, integer=True)
    )

    def to_dict(self) -> dict[str, Any]:
        """The attribute as ``GetQueueAttributes`` shows it (decoded from its JSON string)."""
        return {
            "deadLetterTargetArn": self.dead_letter_target.arn,
            "maxReceiveCount": self.max_receive_count,
        }


@attrs.frozen(kw_only=True)
class DeadLetter:
    """A message a source queue's redrive policy hands to its dead-letter queue.

    What SQS keeps when it moves a message (`Queue.accept_dead_letter` receives it):
    its id, body, message attributes and their MD5s, ``SenderId``, ``SentTimestamp``
    (``sent_ms``, Unix milliseconds as text; ``sent_ticks``, the clock time in ticks
    that standard-queue retention counts from) and, on FIFO queues, its group,
    deduplication id and sequence number.
    """

    message_id: str
    body: str
    attributes: dict[str, dict[str, Any]]
    md5_of_body: str
    md5_of_message_attributes: str | None
    sender_id: str
    sent_ms: str
    sent_ticks: int
    group: str | None = None
    deduplication_id: str | None = None
    sequence_number: str | None = None
    chain: tuple[str, ...] = ()
    """The chain of requests the message was sent in (recursive loop detection)."""


class _Message:
    """A live or finished message (internal, mutable)."""

    __slots__ = (
        "attributes",
        "body",
        "chain",
        "dedup_id",
        "dlq_source",
        "first_receive_ms",
        "group",
        "handle",
        "md5",
        "md5_attributes",
        "message_id",
        "order",
        "receive_count",
        "received_ticks",
        "sender_id",
        "sent_ms",
        "sent_ticks",
        "sequence",
        "state",
        "version",
    )

    def __init__(self, message_id: str, body: str, order: int) -> None:
        self.message_id = message_id
        self.body = body
        self.order = order
        self.chain: Chain = ()
        self.attributes: dict[str, dict[str, Any]] = {}
        self.md5 = ""
        self.md5_attributes: str | None = None
        self.group: str | None = None
        self.dedup_id: str | None = None
        self.sequence: str | None = None
        self.sender_id = DEFAULT_SENDER_ID
        self.sent_ms = ""
        self.sent_ticks = 0
        self.receive_count = 0
        self.first_receive_ms: str | None = None
        self.received_ticks = 0
        self.handle: str | None = None
        self.state = MessageState.VISIBLE
        self.version = 0
        self.dlq_source: str | None = None


class _Copy:
    """An at-least-once duplicate of a message (internal): the copy a server kept when a
    receive or a delete missed it.  Delivered to one later receive."""

    __slots__ = ("due", "expires", "handle", "message", "receive_count", "until")

    def __init__(self, message: _Message, due: int, expires: int, receive_count: int) -> None:
        self.message = message
        self.due = due
        self.expires = expires
        self.receive_count = receive_count
        self.handle = ""
        self.until = 0


DUPLICATE_DELIVERIES: Final = ("after_visibility_timeout", "concurrent")
"""The values of `Queue` ``duplicate_delivery``."""


def _md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def md5_of_message_attributes(attributes: Mapping[str, Mapping[str, Any]]) -> str | None:
    """SQS's ``MD5OfMessageAttributes``: MD5 over the sorted, length-prefixed attributes."""
    if not attributes:
        return None
    out = bytearray()
    for name in sorted(attributes):
        spec = attributes[name]
        data_type = str(spec["DataType"])
        for part in (name.encode(), data_type.encode()):
            out += len(part).to_bytes(4, "big") + part
        if "BinaryValue" in spec:
            value = bytes(spec["BinaryValue"])
            out += b"\x02"
        else:
            value = str(spec["StringValue"]).encode()
            out += b"\x01"
        out += len(value).to_bytes(4, "big") + value
    return _md5(bytes(out))


def _attribute_size(name: str, spec: Mapping[str, Any]) -> int:
    value = spec.get("BinaryValue")
    size = len(value) if value is not None else len(str(spec.get("StringValue", "")).encode())
    return len(name.encode()) + len(str(spec["DataType"]).encode()) + size


def _normalize_attributes(
    attributes: Mapping[str, Mapping[str, Any]] | None,
) -> dict[str, dict[str, Any]]:
    """Validate ``MessageAttributes`` (SQS's rules) and copy them."""
    if not attributes:
        return {}
    if len(attributes) > 10:
        raise InvalidParameterValueError(
            "MessageAttributes", len(attributes), "a message can have at most 10 message attributes"
        )
    out: dict[str, dict[str, Any]] = {}
    for name, spec in attributes.items():
        lowered = name.lower() if isinstance(name, str) else ""
        if (
            not isinstance(name, str)
            or not _ATTRIBUTE_NAME.match(name)
            or lowered.startswith(("aws.", "amazon."))
            or name.startswith(".")
            or name.endswith(".")
            or ".." in name
        ):
            raise InvalidParameterValueError(
                "MessageAttributes.Name",
                name,
                "must be 1-256 of A-Z, a-z, 0-9, '_', '-', '.', without a leading, trailing or "
                "doubled '.', and not start with 'AWS.' or 'Amazon.'",
            )
        if not isinstance(spec, Mapping):
            raise InvalidParameterValueError(
                f"MessageAttributes.{name}", spec, "must be a dict with DataType and a value"
            )
        data_type = spec.get("DataType")
        if not isinstance(data_type, str) or not _DATA_TYPE.match(data_type):
            raise InvalidParameterValueError(
                f"MessageAttributes.{name}.DataType",
                data_type,
                "must be String, Number or Binary, optionally followed by '.<custom type>'",
            )
        if data_type.startswith("Binary"):
            value = spec.get("BinaryValue")
            if not isinstance(value, (bytes, bytearray)) or not value:
                raise InvalidParameterValueError(
                    f"MessageAttributes.{name}.BinaryValue",
                    value,
                    "a Binary attribute needs a non-empty bytes BinaryValue",
                )
            out[name] = {"DataType": data_type, "BinaryValue": bytes(value)}
        else:
            value = spec.get("StringValue")
            if not isinstance(value, str) or not value:
                raise InvalidParameterValueError(
                    f"MessageAttributes.{name}.StringValue",
                    value,
                    f"a {data_type} attribute needs a non-empty string StringValue",
                )
            if data_type.startswith("Number"):
                try:
                    float(value)
                except ValueError:
                    raise InvalidParameterValueError(
                        f"MessageAttributes.{name}.StringValue", value, "must be a number"
                    ) from None
            out[name] = {"DataType": data_type, "StringValue": value}
    return out


@attrs.define(repr=False, eq=False)
class Queue:
    """An in-memory SQS queue (standard, or FIFO when the name ends with ``.fifo``).

    Args:
        name: ``QueueName``: 1-80 of ``A-Za-z0-9-_``, plus ``.fifo`` for a FIFO queue.
        scheduler: whose clock the queue reads (default: a new virtual `Scheduler`).
        seed: seeds message ids and receipt handles (or pass ``rng``).
        region, account_id: used in the ARN and in event records.
        visibility_timeout: ``VisibilityTimeout``, 0-43200 s (default 30).
        message_retention_period: ``MessageRetentionPeriod``, 60-1209600 s (default 345600, 4 days).
        delay_seconds: ``DelaySeconds``, 0-900 s (default 0).
        maximum_message_size: ``MaximumMessageSize``, 1024-1048576 bytes (default 1 MiB;
            256 KiB before 2025-08).  Body plus message attributes count.
        receive_message_wait_time_seconds: ``ReceiveMessageWaitTimeSeconds``, 0-20 (default 0).
            Stored and reported; a receive never blocks (run the scheduler instead).
        redrive_policy: ``RedrivePolicy`` (default None: no dead-letter queue).
        content_based_deduplication: ``ContentBasedDeduplication`` (FIFO only): the
            deduplication id is the SHA-256 hex of the body when none is given.
        deduplication_scope: ``DeduplicationScope`` (FIFO only), ``"queue"`` (default) or
            ``"messageGroup"``.
        sender_id: the default ``SenderId`` of sent messages.
        duplicate_probability: the chance, per receive, that a standard queue keeps a
            copy of the received message and delivers it again (SQS's at-least-once
            delivery: "you might get that message copy again when you receive messages");
            0-1, default 0 (off).  Drawn from the queue's seeded ``rng``, so one seed gives
            one set of duplicates.  FIFO queues deliver exactly once: a non-zero value on
            a FIFO queue raises `InvalidParameterValueError`.
        duplicate_delivery: when the copy can be received ([UNCONFIRMED]: SQS documents
            only that a server "might be unavailable when you receive or delete a
            message"): ``"after_visibility_timeout"`` (default: the delete missed a
            server, whose copy reappears when the receive's visibility timeout ends, even
            if the message was deleted) or ``"concurrent"`` (the receive missed a server,
            whose copy is receivable at once, by the next receive, while the original is in
            flight).  A copy has the message's ``MessageId``, body and attributes, a new
            receipt handle and ``ApproximateReceiveCount`` one more than the receive it
            copies ([UNCONFIRMED]); it is delivered once (when its visibility timeout ends
            undeleted it is gone), is never itself copied, does not count towards the
            redrive policy's ``maxReceiveCount`` and expires with the message's retention
            period.  Deleting its receipt handle deletes the copy, never the message: the
            message's fate is its own.
        keep_events: keep every `QueueEvent` in `events` (default True).
        keep_fates: keep each finished message's fate and every message ever enqueued
            (`fate`, `fates`, `state_of` of a finished message, `message_ids`, `records`);
            default: the same as ``keep_events``.  With both False the queue keeps only the
            messages still live (and the counts per state), so a long simulation's memory
            follows the messages in flight, not the messages sent.

    Standard queues hand out visible messages oldest first (AWS promises only
    best-effort order) and deliver duplicates only with ``duplicate_probability``.  FIFO queues
    serve message groups in the order the groups appeared, each strictly in
    order, and skip a group while one of its messages is in flight.
    """

    name: str = attrs.field(on_setattr=attrs.setters.frozen)
    scheduler: Scheduler = attrs.field(
        factory=Scheduler,
        on_setattr=attrs.setters.frozen,
        validator=instance_of("scheduler", Scheduler, "a Scheduler"),
    )
    seed: int | None = None
    rng: random.Random = attrs.field(
        default=attrs.Factory(lambda self: seeded(self.seed), takes_self=True),
        validator=is_random,
    )
    region: str = attrs.field(
        default="us-east-1",
        on_setattr=attrs.setters.frozen,
        validator=text("region", REGION, "must look like 'us-east-1'"),
    )
    account_id: str = attrs.field(
        default="123456789012",
        on_setattr=attrs.setters.frozen,
        validator=text("account_id", ACCOUNT_ID, "must be 12 digits"),
    )
    visibility_timeout: float = attrs.field(
        default=30,
        converter=seconds,
        validator=in_range("VisibilityTimeout", 0, MAX_VISIBILITY, integer=True),
        on_setattr=attrs.setters.frozen,
    )
    message_retention_period: float = attrs.field(
        default=345_600,
        converter=seconds,
        validator=in_range("MessageRetentionPeriod", 60, 1_209_600, integer=True),
        on_setattr=attrs.setters.frozen,
    )
    delay_seconds: float = attrs.field(
        default=0,
        converter=seconds,
        validator=in_range("DelaySeconds", 0, 900, integer=True),
        on_setattr=attrs.setters.frozen,
    )
    maximum_message_size: int = attrs.field(
        default=1_048_576,
        validator=in_range("MaximumMessageSize", 1024, 1_048_576, integer=True),
        on_setattr=attrs.setters.frozen,
    )
    receive_message_wait_time_seconds: float = attrs.field(
        default=0,
        converter=seconds,
        validator=in_range("ReceiveMessageWaitTimeSeconds", 0, 20, integer=True),
        on_setattr=attrs.setters.frozen,
    )
    redrive_policy: RedrivePolicy | None = attrs.field(
        default=None,
        on_setattr=attrs.setters.frozen,
        validator=instance_of("RedrivePolicy", RedrivePolicy, "a RedrivePolicy", optional=True),
    )
    content_based_deduplication: bool = attrs.field(
        default=False,
        on_setattr=attrs.setters.frozen,
        validator=boolean("ContentBasedDeduplication"),
    )
    deduplication_scope: str = attrs.field(
        default="queue",
        validator=one_of("DeduplicationScope", ("queue", "messageGroup")),
        on_setattr=attrs.setters.frozen,
    )
    sender_id: str = attrs.field(
        default=DEFAULT_SENDER_ID,
        validator=text("sender_id", _SENDER_ID, "must be a non-empty string"),
    )
    duplicate_probability: float = attrs.field(
        default=0.0,
        validator=in_range("duplicate_probability", 0, 1),
        on_setattr=attrs.setters.frozen,
    )
    duplicate_delivery: str = attrs.field(
        default="after_visibility_timeout",
        validator=one_of("duplicate_delivery", DUPLICATE_DELIVERIES),
        on_setattr=attrs.setters.frozen,
    )
    keep_events: bool = attrs.field(default=True, validator=boolean("keep_events"))
    keep_fates: bool = attrs.field(
        default=attrs.Factory(lambda self: self.keep_events, takes_self=True),
        validator=boolean("keep_fates"),
    )
    events: list[QueueEvent] = attrs.field(factory=list, init=False)
    _messages: dict[str, _Message] = attrs.field(factory=dict, init=False)
    _fates: dict[str, QueueEvent] = attrs.field(factory=dict, init=False)
    _handle_key: bytes = attrs.field(default=b"", init=False)
    _sent: list[_Message] = attrs.field(factory=list, init=False)
    _pending: list[tuple[int, int, int, _Message]] = attrs.field(factory=list, init=False)
    _visible: list[tuple[int, int, _Message]] = attrs.field(factory=list, init=False)
    _expiry: list[tuple[int, int, _Message]] = attrs.field(factory=list, init=False)
    _groups: dict[str, deque[_Message]] = attrs.field(factory=dict, init=False)
    _group_in_flight: dict[str, int] = attrs.field(factory=dict, init=False)
    _dedup: dict[Any, tuple[int, _Message]] = attrs.field(factory=dict, init=False)
    _dedup_order: deque[tuple[int, Any]] = attrs.field(factory=deque, init=False)
    _counts: dict[MessageState, int] = attrs.field(init=False)
    _orders: itertools.count[int] = attrs.field(factory=itertools.count, init=False)
    _sequence: int = attrs.field(default=0, init=False)
    _listeners: list[Any] = attrs.field(factory=list, init=False)
    _virtual: TickClock | None = attrs.field(default=None, init=False)
    _copies: list[tuple[int, int, _Copy]] = attrs.field(factory=list, init=False)
    _copies_out: dict[str, _Copy] = attrs.field(factory=dict, init=False)
    _copy_seq: itertools.count[int] = attrs.field(factory=itertools.count, init=False)
    duplicates: int = attrs.field(default=0, init=False)
    """How many duplicate copies receives have left behind so far."""

    @_counts.default
    def _zero_counts(self) -> dict[MessageState, int]:
        return dict.fromkeys(MessageState, 0)

    @name.validator
    def _check_name(self, _attribute: Any, value: Any) -> None:
        stem = value[:-5] if isinstance(value, str) and value.endswith(".fifo") else value
        if not isinstance(value, str) or len(value) > 80 or not _NAME.fullmatch(stem):
            raise InvalidParameterValueError(
                "QueueName",
                value,
                "must be 1-80 characters of A-Z, a-z, 0-9, '-' and '_' "
                "(a FIFO queue's name ends with '.fifo', counted in the 80)",
            )

    def __attrs_post_init__(self) -> None:
        fifo = self.fifo
        if not fifo and self.content_based_deduplication:
            raise InvalidParameterValueError(
                "ContentBasedDeduplication", True, "is only valid for FIFO queues"
            )
        if fifo and self.duplicate_probability:
            raise InvalidParameterValueError(
                "duplicate_probability",
                self.duplicate_probability,
                "must be 0 on a FIFO queue (FIFO queues deliver each message exactly once; "
                "duplicates are for standard queues)",
            )
        policy = self.redrive_policy
        if policy is not None:
            target = policy.dead_letter_target
            if target is self or target.arn == self.arn:
                raise InvalidParameterValueError(
                    "RedrivePolicy.deadLetterTargetArn", target.arn, "must be another queue"
                )
            if target.fifo != fifo:
                kind = "a FIFO" if fifo else "a standard"
                raise InvalidParameterValueError(
                    "RedrivePolicy.deadLetterTargetArn",
                    target.arn,
                    f"the dead-letter queue of {kind} queue must also be {kind} queue",
                )
            if (target.region, target.account_id) != (self.region, self.account_id):
                raise InvalidParameterValueError(
                    "RedrivePolicy.deadLetterTargetArn",
                    target.arn,
                    "must be in the same account and Region as the source queue",
                )
        self._sequence = self.rng.randrange(10**19, 18 * 10**18 + 10**19)
        self._virtual = tick_clock(self.scheduler.clock)
        # Receipt handles carry their message id and a keyed check instead of being stored:
        # a handle of a long-gone message is still recognised as this queue's (a stale
        # delete), and the queue keeps nothing per handle issued.
        self._handle_key = hashlib.blake2b(self.arn.encode(), digest_size=32).digest()

    def __repr__(self) -> str:
        self._refresh()
        counts = self._counts
        return (
            f"<Queue {self.name} visible={counts[MessageState.VISIBLE]} "
            f"in_flight={counts[MessageState.IN_FLIGHT]} delayed={counts[MessageState.DELAYED]}>"
        )

    # -- attributes ----------------------------------------------------------------------------

    @property
    def fifo(self) -> bool:
        """``FifoQueue``: True when the name ends with ``.fifo``."""
        return self.name.endswith(".fifo")

    @property
    def arn(self) -> str:
        """``QueueArn``: ``arn:aws:sqs:<region>:<account>:<name>``."""
        return f"arn:aws:sqs:{self.region}:{self.account_id}:{self.name}"

    @property
    def url(self) -> str:
        """``QueueUrl``: ``https://sqs.<region>.amazonaws.com/<account>/<name>``."""
        return f"https://sqs.{self.region}.amazonaws.com/{self.account_id}/{self.name}"

    def attributes(self) -> dict[str, str]:
        """``GetQueueAttributes`` with ``All``: every value a string, as SQS returns them."""
        self._refresh()
        counts = self._counts
        out = {
            "QueueArn": self.arn,
            "ApproximateNumberOfMessages": str(counts[MessageState.VISIBLE]),
            "ApproximateNumberOfMessagesNotVisible": str(counts[MessageState.IN_FLIGHT]),
            "ApproximateNumberOfMessagesDelayed": str(counts[MessageState.DELAYED]),
            "VisibilityTimeout": str(int(self.visibility_timeout)),
            "MessageRetentionPeriod": str(int(self.message_retention_period)),
            "DelaySeconds": str(int(self.delay_seconds)),
            "MaximumMessageSize": str(self.maximum_message_size),
            "ReceiveMessageWaitTimeSeconds": str(int(self.receive_message_wait_time_seconds)),
        }
        if self.redrive_policy is not None:
            out["RedrivePolicy"] = json.dumps(self.redrive_policy.to_dict())
        if self.fifo:
            out["FifoQueue"] = "true"
            out["ContentBasedDeduplication"] = str(self.content_based_deduplication).lower()
            out["DeduplicationScope"] = self.deduplication_scope
        return out

    # -- time ----------------------------------------------------------------------------------

    def _now(self) -> int:
        virtual = self._virtual
        if virtual is not None:
            return virtual.ticks
        return to_ticks(self.scheduler.clock.now())

    def _epoch_ms(self, ticks: int) -> str:
        virtual = self._virtual
        if virtual is not None:
            return str(round((virtual.epoch_origin + ticks / TICKS_PER_SECOND) * 1000))
        clock = self.scheduler.clock
        offset = (ticks - self._now()) / TICKS_PER_SECOND
        return str(round((clock.epoch() + offset) * 1000))

    def _log(self, ticks: int, kind: str, message: _Message, detail: str = "") -> None:
        if self.keep_events:
            self.events.append(
                QueueEvent(
                    ticks / TICKS_PER_SECOND,
                    kind,
                    message.message_id,
                    message.receive_count,
                    detail,
                )
            )

    def _compact(self) -> None:
        """Drop the heap entries of finished or since-moved messages once they outnumber the
        live ones, so the heaps stay proportional to the messages in flight (a message's
        expiry entry would otherwise outlive it by the whole retention period).  In place:
        the loops that pop these heaps hold them."""
        live = 2 * len(self._messages) + 256
        expiry = self._expiry
        if len(expiry) > live:
            expiry[:] = [e for e in expiry if e[2].state not in _TERMINAL]
            heapq.heapify(expiry)
        pending = self._pending
        if len(pending) > live:
            pending[:] = [
                e for e in pending if e[3].version == e[2] and e[3].state not in _TERMINAL
            ]
            heapq.heapify(pending)
        visible = self._visible
        if len(visible) > live:
            visible[:] = [
                e for e in visible if e[2].version == e[1] and e[2].state is MessageState.VISIBLE
            ]
            heapq.heapify(visible)

    def _set_state(self, message: _Message, state: MessageState) -> None:
        old = message.state
        counts = self._counts
        counts[old] -= 1
        counts[state] += 1
        if message.group is not None:
            in_flight = self._group_in_flight
            if old is MessageState.IN_FLIGHT:
                in_flight[message.group] -= 1
            if state is MessageState.IN_FLIGHT:
                in_flight[message.group] = in_flight.get(message.group, 0) + 1
        message.state = state
        message.version += 1

    def _make_visible(self, message: _Message) -> None:
        self._set_state(message, MessageState.VISIBLE)
        if message.group is None:
            heapq.heappush(self._visible, (message.order, message.version, message))
            self._compact()

    def _hide_until(self, message: _Message, state: MessageState, ticks: int) -> None:
        self._set_state(message, state)
        heapq.heappush(self._pending, (ticks, message.order, message.version, message))
        self._compact()

    def _finish(self, message: _Message, state: MessageState, ticks: int, detail: str) -> None:
        self._set_state(message, state)
        kind = {
            MessageState.DELETED: "deleted",
            MessageState.EXPIRED: "expired",
            MessageState.MOVED_TO_DLQ: "moved_to_dlq",
        }[state]
        del self._messages[message.message_id]
        message.handle = None
        self._compact()
        event = QueueEvent(
            ticks / TICKS_PER_SECOND, kind, message.message_id, message.receive_count, detail
        )
        if self.keep_fates:
            self._fates[message.message_id] = event
        if self.keep_events:
            self.events.append(event)

    def _refresh(self, now: int | None = None) -> int:
        """Apply every visibility change and expiry due by ``now``, in time order."""
        if now is None:
            now = self._now()
        pending = self._pending
        expiry = self._expiry
        while True:
            due_p = pending[0][0] if pending else None
            due_e = expiry[0][0] if expiry else None
            if due_e is not None and due_e <= now and (due_p is None or due_e <= due_p):
                ticks, _order, message = heapq.heappop(expiry)
                if message.state not in _TERMINAL:
                    self._finish(message, MessageState.EXPIRED, ticks, "MessageRetentionPeriod")
            elif due_p is not None and due_p <= now:
                ticks, _order, version, message = heapq.heappop(pending)
                if message.version == version and message.state not in _TERMINAL:
                    was_in_flight = message.state is MessageState.IN_FLIGHT
                    self._make_visible(message)
                    if was_in_flight:
                        self._log(ticks, "visible", message)
            else:
                return now

    def next_change_at(self) -> float | None:
        """Clock time of the next scheduled visibility change (a delay or visibility timeout
        ending, a duplicate copy becoming receivable) or expiry, or None.  A poller sleeps
        until then."""
        now = self._refresh()
        pending = self._pending
        while pending and (
            pending[0][3].version != pending[0][2] or pending[0][3].state in _TERMINAL
        ):
            heapq.heappop(pending)
        expiry = self._expiry
        while expiry and expiry[0][2].state in _TERMINAL:
            heapq.heappop(expiry)
        due = [heap[0][0] for heap in (pending, expiry, self._copies) if heap]
        if not due:
            return None
        return max(min(due), now + 1) / TICKS_PER_SECOND

    # -- queries -------------------------------------------------------------------------------

    def has_visible(self) -> bool:
        """True when a message (or a duplicate copy) can be received now."""
        if self.count(MessageState.VISIBLE) > 0:
            return True
        copies = self._copies
        return bool(copies) and copies[0][0] <= self._now()

    def count(self, state: MessageState) -> int:
        """How many messages are in ``state`` now (terminal states count every message so far)."""
        self._refresh()
        return self._counts[state]

    def counts(self) -> dict[MessageState, int]:
        """`count` for every state."""
        self._refresh()
        return dict(self._counts)

    def state_of(self, message_id: str) -> MessageState:
        """The state of a message sent to (or moved into) this queue (``KeyError`` if none;
        a finished message's state needs ``keep_fates``)."""
        self._refresh()
        live = self._messages.get(message_id)
        if live is not None:
            return live.state
        fate = self._fates.get(message_id)
        if fate is None:
            if not self.keep_fates:
                raise KeyError(f"{message_id}: fates are not kept (keep_fates=False)")
            raise KeyError(message_id)
        return _KIND_TO_STATE[fate.kind]

    def fate(self, message_id: str) -> QueueEvent | None:
        """The terminal event of a message (deleted, expired, moved to DLQ); None while live
        (and always None with ``keep_fates=False``)."""
        self._refresh()
        return self._fates.get(message_id)

    @property
    def fates(self) -> list[QueueEvent]:
        """Every terminal event so far, in the order they happened (``keep_fates``)."""
        self._refresh()
        return sorted(self._fates.values(), key=lambda event: event.at)

    @property
    def message_ids(self) -> list[str]:
        """Ids of every message enqueued here (sent or moved in), in order (``keep_fates``)."""
        return [message.message_id for message in self._sent]

    @property
    def records(self) -> list[Any]:
        """The body of every message enqueued here, parsed from JSON (as `QueueTarget.records`;
        ``keep_fates``)."""
        return [json.loads(message.body) for message in self._sent]

    @property
    def bodies(self) -> list[str]:
        """The body of every message enqueued here (sent or moved in), in order, as text
        (``keep_fates``)."""
        return [message.body for message in self._sent]

    def is_in_flight(self, receipt_handle: str) -> bool:
        """True while the receive that issued ``receipt_handle`` still holds its message:
        the visibility timeout has not ended, and nothing deleted or received it since."""
        message_id = self._handle_message_id(receipt_handle)
        if message_id is None:
            return False
        now = self._refresh()
        if self._copies_out:
            copy = self._copies_out.get(receipt_handle)
            if copy is not None:
                return copy.until > now
        message = self._messages.get(message_id)
        return (
            message is not None
            and message.state is MessageState.IN_FLIGHT
            and message.handle == receipt_handle
        )

    def peek(self) -> list[ReceivedMessage]:
        """The live messages in order, without receiving them (no counts change; no handles)."""
        self._refresh()
        live = sorted(self._messages.values(), key=lambda message: message.order)
        return [self._view(message, "") for message in live]

    # -- SendMessage ---------------------------------------------------------------------------

    def send_message(
        self,
        body: str,
        attributes: Mapping[str, Mapping[str, Any]] | None = None,
        *,
        delay_seconds: float | None = None,
        message_group_id: str | None = None,
        message_deduplication_id: str | None = None,
        sender_id: str | None = None,
    ) -> SendResult:
        """``SendMessage``: enqueue ``body`` with message attributes.

        ``attributes`` use SQS's shape, ``{"name": {"DataType": "String",
        "StringValue": "..."}}`` (``BinaryValue`` bytes for ``Binary``), so the
        queue is a drop-in dead-letter target.  ``delay_seconds`` (0-900)
        overrides the queue's ``DelaySeconds`` (standard queues only).  FIFO
        queues need ``message_group_id`` and a ``message_deduplication_id``
        unless content-based deduplication is on.
        """
        now = self._refresh()
        if not isinstance(body, str) or not body:
            raise InvalidParameterValueError("MessageBody", body, "must be a non-empty string")
        bad = BAD_BODY_CHARACTER.search(body)
        if bad is not None:
            raise InvalidParameterValueError(
                "MessageBody",
                body if len(body) <= 40 else body[:40] + "...",
                f"contains {bad.group()!r}, outside the characters SQS allows "
                "(#x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF)",
            )
        message_attributes = _normalize_attributes(attributes)
        size = payload_size(body)
        if message_attributes:
            size += sum(_attribute_size(name, spec) for name, spec in message_attributes.items())
        if size > self.maximum_message_size:
            raise InvalidParameterValueError(
                "MessageBody",
                f"<{size} bytes>",
                f"the message (body and attributes) must be at most MaximumMessageSize="
                f"{self.maximum_message_size} bytes",
            )
        delay = self.delay_seconds
        if self.fifo:
            if delay_seconds is not None:
                raise InvalidParameterValueError(
                    "DelaySeconds",
                    delay_seconds,
                    "per-message delays are not valid for FIFO queues (use the queue's "
                    "DelaySeconds)",
                )
            if not isinstance(message_group_id, str) or not 1 <= len(message_group_id) <= 128:
                raise InvalidParameterValueError(
                    "MessageGroupId", message_group_id, "is required for FIFO queues (1-128 chars)"
                )
            if message_deduplication_id is None:
                if not self.content_based_deduplication:
                    raise InvalidParameterValueError(
                        "MessageDeduplicationId",
                        None,
                        "is required for FIFO queues without ContentBasedDeduplication",
                    )
                message_deduplication_id = hashlib.sha256(body.encode("utf-8")).hexdigest()
            elif (
                not isinstance(message_deduplication_id, str)
                or not 1 <= len(message_deduplication_id) <= 128
            ):
                raise InvalidParameterValueError(
                    "MessageDeduplicationId", message_deduplication_id, "must be 1-128 characters"
                )
        else:
            if message_group_id is not None or message_deduplication_id is not None:
                name = (
                    "MessageGroupId" if message_group_id is not None else "MessageDeduplicationId"
                )
                raise InvalidParameterValueError(
                    name,
                    message_group_id if message_group_id is not None else message_deduplication_id,
                    "is only valid for FIFO queues",
                )
            if delay_seconds is not None:
                delay = seconds(delay_seconds)
                check_range("DelaySeconds", delay, 0, 900, integer=True)
        if message_deduplication_id is not None:
            assert message_group_id is not None
            duplicate = self._deduplicate(now, message_group_id, message_deduplication_id)
            if duplicate is not None:
                self._log(now, "deduplicated", duplicate, message_deduplication_id)
                return SendResult(
                    duplicate.message_id,
                    duplicate.md5,
                    duplicate.md5_attributes,
                    duplicate.sequence,
                    deduplicated=True,
                )
        message = _Message(new_request_id(self.rng), body, next(self._orders))
        message.chain = current_chain()  # sent by a handler: its chain of requests
        message.attributes = message_attributes
        message.md5 = _md5(body.encode("utf-8"))
        message.md5_attributes = md5_of_message_attributes(message_attributes)
        message.sender_id = self.sender_id if sender_id is None else sender_id
        message.sent_ticks = now
        message.sent_ms = self._epoch_ms(now)
        if message_group_id is not None:
            message.group = message_group_id
            message.dedup_id = message_deduplication_id
            self._sequence += 1
            message.sequence = str(self._sequence)
            key = (
                message_deduplication_id
                if self.deduplication_scope == "queue"
                else (message_group_id, message_deduplication_id)
            )
            until = now + to_ticks(DEDUPLICATION_INTERVAL)
            self._dedup[key] = (until, message)
            self._dedup_order.append((until, key))
        self._enqueue(message, now, to_ticks(delay), now)
        self._log(now, "sent", message)
        return SendResult(message.message_id, message.md5, message.md5_attributes, message.sequence)

    def _deduplicate(self, now: int, group: str, dedup_id: str) -> _Message | None:
        order = self._dedup_order
        table = self._dedup
        while order and order[0][0] <= now:
            until, key = order.popleft()
            if key in table and table[key][0] == until:
                del table[key]
        wanted: Any = dedup_id if self.deduplication_scope == "queue" else (group, dedup_id)
        entry = table.get(wanted)
        return entry[1] if entry is not None else None

    def _enqueue(self, message: _Message, now: int, delay: int, enqueued: int) -> None:
        self._messages[message.message_id] = message
        if self.keep_fates:
            self._sent.append(message)
        self._counts[MessageState.VISIBLE] += 1
        if message.group is not None:
            self._groups.setdefault(message.group, deque()).append(message)
        if delay > 0:
            self._hide_until(message, MessageState.DELAYED, now + delay)
        else:
            message.version += 1
            if message.group is None:
                heapq.heappush(self._visible, (message.order, message.version, message))
        expires = max(enqueued + to_ticks(self.message_retention_period), now)
        heapq.heappush(self._expiry, (expires, message.order, message))
        self._compact()
        for listener in self._listeners:
            listener()

    # -- ReceiveMessage ------------------------------------------------------------------------

    def receive_messages(
        self,
        max_number_of_messages: int = 1,
        *,
        visibility_timeout: float | None = None,
        wait_time_seconds: float | None = None,
    ) -> list[ReceivedMessage]:
        """``ReceiveMessage``: up to ``max_number_of_messages`` (1-10) visible messages.

        Each returned message becomes invisible for ``visibility_timeout``
        (0-43200; default the queue's), its ``ApproximateReceiveCount`` grows
        by one, its ``ApproximateFirstReceiveTimestamp`` is set on the first
        receive, and it gets a new receipt handle.  A message whose receive
        would exceed the redrive policy's ``maxReceiveCount`` is moved to the
        dead-letter queue instead.  ``wait_time_seconds`` (0-20) is validated
        but a receive never blocks: on a virtual clock, run the scheduler.
        """
        check_range("MaxNumberOfMessages", max_number_of_messages, 1, 10, integer=True)
        if visibility_timeout is not None:
            visibility_timeout = seconds(visibility_timeout)
            check_range("VisibilityTimeout", visibility_timeout, 0, MAX_VISIBILITY, integer=True)
        if wait_time_seconds is not None:
            check_range("WaitTimeSeconds", wait_time_seconds, 0, 20, integer=True)
        return self.poll_messages(int(max_number_of_messages), visibility_timeout, one_group=False)

    def poll_messages(
        self, limit: int, visibility_timeout: float | None, *, one_group: bool
    ) -> list[ReceivedMessage]:
        """Receive as an event source mapping's poller does: up to ``limit`` messages (any
        number), hidden for ``visibility_timeout`` (None: the queue's), never waiting; with
        ``one_group``, a FIFO batch holds one message group only.  Unvalidated: the poller
        passes what it computed."""
        timeout = self.visibility_timeout if visibility_timeout is None else visibility_timeout
        hide = to_ticks(timeout)
        now = self._refresh()
        out: list[ReceivedMessage] = []
        if self.fifo:
            for message in self._fifo_candidates(limit, one_group=one_group):
                if self._take(message, now, hide, out) and len(out) >= limit:
                    break
            return out
        if self._copies:
            self._take_copies(limit, now, hide, out)
        visible = self._visible
        while visible and len(out) < limit:
            _order, version, message = heapq.heappop(visible)
            if message.version != version or message.state is not MessageState.VISIBLE:
                continue
            self._take(message, now, hide, out)
        return out

    def _take_copies(self, limit: int, now: int, hide: int, out: list[ReceivedMessage]) -> None:
        """Hand out the duplicate copies due by ``now`` (oldest first), before new messages."""
        copies = self._copies
        while copies and copies[0][0] <= now and len(out) < limit:
            _due, _seq, copy = heapq.heappop(copies)
            message = copy.message
            if copy.expires <= now:
                self._log_copy(copy.expires, "duplicate_expired", copy)
                continue
            handle = self._new_handle(message.message_id, copy.receive_count)
            copy.handle = handle
            copy.until = now + hide
            self._copies_out[handle] = copy
            self._log_copy(now, "received", copy, "duplicate")
            out.append(self._view(message, handle, copy.receive_count, duplicate=True))

    def _log_copy(self, ticks: int, kind: str, copy: _Copy, detail: str = "") -> None:
        if self.keep_events:
            self.events.append(
                QueueEvent(
                    ticks / TICKS_PER_SECOND,
                    kind,
                    copy.message.message_id,
                    copy.receive_count,
                    detail,
                )
            )

    def _duplicate(self, message: _Message, now: int, hide: int) -> None:
        """Keep a copy of the receive just made, receivable later (``duplicate_delivery``)."""
        if self.duplicate_delivery == "concurrent":
            due = now + 1  # a later receive, never the one that copied it
        else:
            due = now + max(hide, 1)
        expires = message.sent_ticks + to_ticks(self.message_retention_period)
        copy = _Copy(message, due, expires, message.receive_count + 1)
        heapq.heappush(self._copies, (due, next(self._copy_seq), copy))
        self.duplicates += 1
        self._log(now, "duplicated", message, self.duplicate_delivery)
        self._prune_copies(now)

    def _prune_copies(self, now: int) -> None:
        """Forget the receipt handles of copies whose visibility timeout has ended."""
        out = self._copies_out
        if len(out) > 64:
            for handle in [h for h, copy in out.items() if copy.until <= now]:
                del out[handle]

    def _fifo_candidates(self, limit: int, *, one_group: bool) -> Iterator[_Message]:
        """Visible messages that may be received, group by group, each group in order."""
        taken = 0
        for group, messages in list(self._groups.items()):
            while messages and messages[0].state in _TERMINAL:
                messages.popleft()
            if not messages:
                del self._groups[group]
                continue
            if self._group_in_flight.get(group, 0):
                continue
            served = False
            for message in list(messages):
                if message.state in _TERMINAL:
                    continue
                if message.state is not MessageState.VISIBLE:
                    break
                if taken >= limit:
                    return
                served = True
                taken += 1
                yield message
                if message.state in _TERMINAL:  # redriven instead of received
                    taken -= 1
            if served and one_group and taken:
                return

    def _take(self, message: _Message, now: int, hide: int, out: list[ReceivedMessage]) -> bool:
        policy = self.redrive_policy
        if policy is not None and message.receive_count >= policy.max_receive_count:
            self._redrive(message, policy, now)
            return False
        message.receive_count += 1
        if message.first_receive_ms is None:
            message.first_receive_ms = self._epoch_ms(now)
        handle = self._new_handle(message.message_id, message.receive_count)
        message.handle = handle
        message.received_ticks = now
        self._hide_until(message, MessageState.IN_FLIGHT, now + hide)
        self._log(now, "received", message)
        out.append(self._view(message, handle))
        probability = self.duplicate_probability
        if probability and self.rng.random() < probability:
            self._duplicate(message, now, hide)
        return True

    def _new_handle(self, message_id: str, receive_count: int) -> str:
        # 66 bytes as before (the same draw from the seeded rng, so timelines keep their
        # ids): the message id, the receive count, 18 random bytes and an 8-byte keyed check.
        raw = self.rng.getrandbits(8 * 66).to_bytes(66, "big")
        body = message_id.encode("ascii") + receive_count.to_bytes(4, "big") + raw[:18]
        check = hashlib.blake2b(body, digest_size=8, key=self._handle_key).digest()
        return "AQEB" + base64.b64encode(body + check).decode("ascii")

    def _handle_message_id(self, receipt_handle: object) -> str | None:
        """The message id a receipt handle of this queue names, or None when this queue never
        issued it."""
        if not isinstance(receipt_handle, str) or not receipt_handle.startswith("AQEB"):
            return None
        try:
            raw = base64.b64decode(receipt_handle[4:], validate=True)
        except (binascii.Error, ValueError):
            return None
        if len(raw) != 66:
            return None
        check = hashlib.blake2b(raw[:58], digest_size=8, key=self._handle_key).digest()
        if raw[58:] != check:
            return None
        return raw[:36].decode("ascii")

    def _view(
        self,
        message: _Message,
        handle: str,
        receive_count: int | None = None,
        *,
        duplicate: bool = False,
    ) -> ReceivedMessage:
        count = message.receive_count if receive_count is None else receive_count
        attributes = {
            "ApproximateReceiveCount": str(count),
            "SentTimestamp": message.sent_ms,
        }
        if message.group is not None:
            assert message.sequence is not None
            assert message.dedup_id is not None
            attributes["SequenceNumber"] = message.sequence
            attributes["MessageGroupId"] = message.group
            attributes["SenderId"] = message.sender_id
            attributes["MessageDeduplicationId"] = message.dedup_id
        else:
            attributes["SenderId"] = message.sender_id
        if message.first_receive_ms is not None:
            attributes["ApproximateFirstReceiveTimestamp"] = message.first_receive_ms
        if message.dlq_source is not None:
            attributes["DeadLetterQueueSourceArn"] = message.dlq_source
        return ReceivedMessage(
            message.message_id,
            handle,
            message.body,
            message.md5,
            attributes,
            message.attributes,
            message.md5_attributes,
            duplicate,
            message.chain,
        )

    def _redrive(self, message: _Message, policy: RedrivePolicy, now: int) -> None:
        target = policy.dead_letter_target
        detail = (
            f"ApproximateReceiveCount={message.receive_count} reached "
            f"maxReceiveCount={policy.max_receive_count}; moved to {target.arn}"
        )
        self._finish(message, MessageState.MOVED_TO_DLQ, now, detail)
        target.accept_dead_letter(
            DeadLetter(
                message_id=message.message_id,
                body=message.body,
                attributes=message.attributes,
                md5_of_body=message.md5,
                md5_of_message_attributes=message.md5_attributes,
                sender_id=message.sender_id,
                sent_ms=message.sent_ms,
                sent_ticks=message.sent_ticks,
                group=message.group,
                deduplication_id=message.dedup_id,
                sequence_number=message.sequence,
                chain=message.chain,
            ),
            self.arn,
        )

    def accept_dead_letter(self, source: DeadLetter, source_arn: str) -> None:
        """Take a message redriven from the source queue ``source_arn`` (its redrive policy
        calls this).

        It keeps its id, body, attributes, ``SentTimestamp`` and (FIFO) group,
        deduplication id and sequence number; its receive count starts again at
        0 and it gains ``DeadLetterQueueSourceArn``.  Retention counts from the
        original enqueue time on standard queues and from the move on FIFO
        queues (SQS's documented rule).
        """
        now = self._refresh()
        message = _Message(source.message_id, source.body, next(self._orders))
        message.chain = source.chain
        message.attributes = source.attributes
        message.md5 = source.md5_of_body
        message.md5_attributes = source.md5_of_message_attributes
        message.sender_id = source.sender_id
        message.sent_ms = source.sent_ms
        message.sent_ticks = source.sent_ticks
        message.group = source.group
        message.dedup_id = source.deduplication_id
        message.sequence = source.sequence_number
        message.dlq_source = source_arn
        enqueued = now if self.fifo else source.sent_ticks
        self._enqueue(message, now, 0, enqueued)
        self._log(now, "sent", message, f"redriven from {source_arn}")
        self._refresh(now)

    # -- DeleteMessage / ChangeMessageVisibility ----------------------------------------------

    def _lookup(self, receipt_handle: str) -> tuple[str, _Message | None]:
        """The message id a handle names and the live message (None once it has ended)."""
        message_id = self._handle_message_id(receipt_handle)
        if message_id is None:
            shown = render_value(receipt_handle)
            msg = f"The input receipt handle {shown} is not a valid receipt handle."
            raise ReceiptHandleIsInvalidError(msg)
        return message_id, self._messages.get(message_id)

    def _receive_count_of_gone(self, message_id: str, receipt_handle: str) -> int:
        fate = self._fates.get(message_id)
        if fate is not None:
            return fate.receive_count
        raw = base64.b64decode(receipt_handle[4:])
        return int.from_bytes(raw[36:40], "big")

    def delete_message(self, receipt_handle: str, *, reason: str = "DeleteMessage") -> bool:
        """``DeleteMessage`` by receipt handle; True when this call deleted the message.

        The handle of the message's most recent receive deletes it, even after
        its visibility timeout ended, as long as it was not received again (SQS:
        "you must provide the most recently received ReceiptHandle").  A handle
        from an older receive is accepted but deletes nothing (SQS: "the request
        succeeds, but the message might not be deleted"; this model never
        deletes), and is logged as ``stale_delete``.  So is a handle of a message
        already gone.  A handle this queue never issued raises
        `ReceiptHandleIsInvalidError`.  The handle of a duplicate copy deletes the copy
        (logged as ``duplicate_deleted``) and returns False: the message is untouched.
        ``reason`` is recorded in the fate (event source mappings pass
        ``"processed"`` or ``"filtered"``).
        """
        message_id, message = self._lookup(receipt_handle)
        now = self._refresh()
        if self._copies_out:
            copy = self._copies_out.pop(receipt_handle, None)
            if copy is not None:
                self._log_copy(now, "duplicate_deleted", copy, reason)
                return False
        if message is None or message.state in _TERMINAL or message.handle != receipt_handle:
            if self.keep_events:
                count = (
                    self._receive_count_of_gone(message_id, receipt_handle)
                    if message is None
                    else message.receive_count
                )
                self.events.append(
                    QueueEvent(now / TICKS_PER_SECOND, "stale_delete", message_id, count, reason)
                )
            return False
        self._finish(message, MessageState.DELETED, now, reason)
        return True

    def change_message_visibility(self, receipt_handle: str, visibility_timeout: float) -> None:
        """``ChangeMessageVisibility``: the message becomes visible ``visibility_timeout``
        seconds from now (0-43200; 0 makes it visible at once).

        The message must be in flight under this handle (`MessageNotInflightError`),
        and may not stay invisible past 12 hours after its receive.  On a duplicate copy's
        handle it changes the copy's timeout (0 ends the copy: a copy is delivered once).
        """
        visibility_timeout = seconds(visibility_timeout)
        check_range("VisibilityTimeout", visibility_timeout, 0, MAX_VISIBILITY, integer=True)
        message_id, message = self._lookup(receipt_handle)
        now = self._refresh()
        copy = self._copies_out.get(receipt_handle) if self._copies_out else None
        if copy is not None and copy.until > now:
            until = now + to_ticks(visibility_timeout)
            self._log_copy(now, "visibility_changed", copy, f"{visibility_timeout:g}")
            copy.until = until
            if visibility_timeout == 0:
                del self._copies_out[receipt_handle]  # a copy is delivered once
            return
        if (
            message is None
            or message.state is not MessageState.IN_FLIGHT
            or message.handle != receipt_handle
        ):
            msg = f"Message {message_id} is not in flight under this receipt handle."
            raise MessageNotInflightError(msg)
        until = now + to_ticks(visibility_timeout)
        if until > message.received_ticks + to_ticks(MAX_VISIBILITY):
            raise InvalidParameterValueError(
                "VisibilityTimeout",
                visibility_timeout,
                "a message may stay invisible at most 43200 seconds (12 hours) after it was "
                "received",
            )
        self._log(now, "visibility_changed", message, f"{visibility_timeout:g}")
        if visibility_timeout == 0:
            self._make_visible(message)
        else:
            self._hide_until(message, MessageState.IN_FLIGHT, until)

    # -- Destination and dead-letter target ---------------------------------------------------

    def deliver(self, record: dict[str, Any], delivery: Delivery) -> None:
        """`Destination` side: the invocation record becomes the message body (standard queues;
        Lambda destinations do not accept FIFO queues, so a FIFO queue raises)."""
        del delivery
        if self.fifo:
            raise InvalidParameterValueError(
                "DestinationConfig", self.arn, "a FIFO queue cannot be a Lambda destination"
            )
        self.send_message(json.dumps(record))

    # -- event source mapping ------------------------------------------------------------------

    def subscribe(self, listener: Any) -> None:
        """Call ``listener()`` whenever a message is enqueued (mappings use it to wake up)."""
        self._listeners.append(listener)

    def map_to(
        self,
        function: Function,
        config: SQSMappingConfig | None = None,
        *,
        scheduler: Scheduler | None = None,
        seed: int | None = None,
        history: History | None = None,
        start: bool = True,
    ) -> EventSourceMapping[SQSPoller]:
        """Create an SQS event source mapping from this queue to ``function`` and start it.

        ``config`` is an `SQSMappingConfig` (default: AWS's defaults).  The
        mapping runs on this queue's scheduler; its ``poller`` is an `SQSPoller`.
        """
        if scheduler is not None and scheduler is not self.scheduler:
            raise InvalidParameterValueError(
                "scheduler", scheduler, "must be the queue's own scheduler (one clock per model)"
            )
        config = SQSMappingConfig() if config is None else config
        poller = SQSPoller(self, config)
        mapping = EventSourceMapping(function, poller, self.scheduler, seed=seed, history=history)
        self.subscribe(mapping.wake)
        if start and config.enabled:
            mapping.start()
        return mapping


_KIND_TO_STATE: Final = {
    "deleted": MessageState.DELETED,
    "expired": MessageState.EXPIRED,
    "moved_to_dlq": MessageState.MOVED_TO_DLQ,
}
