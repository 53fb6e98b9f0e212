"""The pieces every view of a timeline shares: `Mark` (a moment of an item's life that is not
a try), the track of a span, queue levels replayed from a queue's events, and the running
executions of each function.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from typing import Final

import attrs

from invokemodels.core._history import Model, Span

__all__ = [
    "FATES",
    "QUEUE_KINDS",
    "RANK_BEFORE",
    "Mark",
    "MarkKind",
    "QueueLevel",
    "lane_label",
    "queue_levels",
    "running_levels",
]


class MarkKind:
    """The ``kind`` strings of a `Mark` (plain strings, so a user's source can add its own).

    Event model (from `EventInvoker.outcomes`): ``ACCEPTED`` (the 202: the event entered the
    service queue), ``SUCCEEDED`` and ``DROPPED`` (its one terminal outcome; ``detail`` is the
    record's ``condition``), ``DESTINATION`` (its record went to a destination; ``detail``
    the target ARN), ``DEAD_LETTER`` (the event went to the dead-letter queue or topic),
    ``DESTINATION_FAILED`` and ``DEAD_LETTER_FAILED`` (that send raised: the
    ``DestinationDeliveryFailures`` and ``DeadLetterErrors`` metrics).

    Stream mappings (from `StreamPoller.outcomes`): a record's `RecordFate` value
    (``processed``, ``filtered``, ``discarded``, ``expired``), with the shard as lane,
    the on-failure condition as ``detail`` and the record's partition key; ``DESTINATION``
    when a discarded record's on-failure record went to the mapping's destination.

    SQS queues (from `Queue.events`): the `QueueEvent` kinds (``sent``, ``received``,
    ``visible``, ``deleted``, ``expired``, ``moved_to_dlq``, ...) with the queue's name as lane.
    """

    ACCEPTED: Final = "accepted"
    SUCCEEDED: Final = "succeeded"
    DROPPED: Final = "dropped"
    DESTINATION: Final = "destination"
    DESTINATION_FAILED: Final = "destination_failed"
    DEAD_LETTER: Final = "dead_letter"
    DEAD_LETTER_FAILED: Final = "dead_letter_failed"


QUEUE_KINDS: Final = frozenset(
    {
        "sent",
        "deduplicated",
        "received",
        "visible",
        "visibility_changed",
        "deleted",
        "expired",
        "moved_to_dlq",
        "stale_delete",
    }
)
# At one instant these come before the tries (a message is received, then its batch runs).
RANK_BEFORE: Final = frozenset({MarkKind.ACCEPTED, "sent", "deduplicated", "received", "visible"})
# The kinds that end an item (the rest are acceptance, deliveries and queue moves).
FATES: Final = frozenset(
    {
        MarkKind.SUCCEEDED,
        MarkKind.DROPPED,
        "processed",
        "filtered",
        "discarded",
        "expired",
        "deleted",
        "moved_to_dlq",
    }
)


@attrs.frozen(kw_only=True)
class Mark:
    """A moment in an item's life that is not a try: acceptance, a terminal fate, a delivery.

    Attributes:
        at: clock time.
        kind: what happened (see `MarkKind`).
        item: the item's id (an event's request id, a record's sequence number, a message id).
        function: the function it belongs to, or None (a queue's own events).
        model: the `Model` it belongs to, or None (a queue's own events).
        lane: the shard, message group or queue, as in `Span.lane` (a queue's events: the
            queue's name).
        detail: the condition, the target ARN or the error, else ``""``.
        partition_key: a stream record's partition key, else None.
    """

    at: float
    kind: str
    item: str
    function: str | None = None
    model: Model | None = None
    lane: Hashable = None
    detail: str = ""
    partition_key: str | None = None


def lane_label(span: Span) -> str:
    """The track a span belongs to within its function.

    ``"invocations"`` for synchronous calls and Event tries; for a batch, the shard's id
    (with ``#<n>`` for a ParallelizationFactor lane other than the first), ``"group <id>"``
    for a FIFO message group, or ``"queue <name>"`` for a standard queue (from
    `Span.source`).
    """
    lane = span.lane
    if span.model is not Model.EVENT_SOURCE_MAPPING:
        return "invocations"
    if isinstance(lane, tuple) and len(lane) == 2 and isinstance(lane[1], int):
        shard, index = lane
        return str(shard) if index == 0 else f"{shard} #{index}"
    if isinstance(lane, str):
        return f"group {lane}"
    if isinstance(lane, tuple):
        return "groups " + ",".join(str(part) for part in lane)
    if span.source is not None:
        return "queue " + span.source.rsplit(":", 1)[-1]
    return "batches" if lane is None else str(lane)


@attrs.frozen
class QueueLevel:
    """An SQS queue's state right after one of its events (what the queue metrics sample).

    Attributes:
        at: clock time of the event.
        visible: ``ApproximateNumberOfMessagesVisible`` (delayed messages count as visible
            from their send: the event log does not say when a delay ends).
        not_visible: ``ApproximateNumberOfMessagesNotVisible`` (in flight).
        oldest_sent_at: when the oldest message still in the queue (visible or in flight)
            was sent to it, or None when the queue is empty: ``ApproximateAgeOfOldestMessage``
            is ``at - oldest_sent_at``.
    """

    at: float
    visible: int
    not_visible: int
    oldest_sent_at: float | None

    @property
    def age_of_oldest(self) -> float:
        """Seconds since the oldest message was sent (0 when empty)."""
        return 0.0 if self.oldest_sent_at is None else self.at - self.oldest_sent_at


def queue_levels(marks: Iterable[Mark]) -> dict[str, list[QueueLevel]]:
    """Each queue's `QueueLevel` after each of its events (sent, received, visible again,
    deleted, expired, moved to the DLQ), replayed from queue marks (a `Timeline`'s ``marks``)."""
    levels: dict[str, list[QueueLevel]] = {}
    states: dict[tuple[str, str], bool] = {}  # True: visible, False: in flight
    sent: dict[str, dict[str, float]] = {}
    counts: dict[str, list[int]] = {}
    for mark in marks:
        if mark.function is not None or mark.kind not in QUEUE_KINDS:
            continue
        name = str(mark.lane)
        key = (name, mark.item)
        count = counts.setdefault(name, [0, 0])
        inside = sent.setdefault(name, {})
        before = states.get(key)
        kind = mark.kind
        if kind == "sent" and before is None:
            states[key] = True
            inside[mark.item] = mark.at
            count[0] += 1
        elif kind == "received" and before is not None:
            states[key] = False
            if before:
                count[0] -= 1
                count[1] += 1
        elif kind == "visible" and before is False:
            states[key] = True
            count[0] += 1
            count[1] -= 1
        elif kind in ("deleted", "expired", "moved_to_dlq") and before is not None:
            del states[key]
            del inside[mark.item]
            count[0 if before else 1] -= 1
        else:
            continue
        # Messages are sent in time order, so the first one left is the oldest.
        oldest = next(iter(inside.values()), None)
        levels.setdefault(name, []).append(QueueLevel(mark.at, count[0], count[1], oldest))
    return levels


def running_levels(spans: Iterable[Span]) -> dict[str, list[tuple[float, int]]]:
    """Per function, ``(time, executions running)`` after each change, from the executions
    that last a while (a zero-length one covers no time; its ``in_flight`` counts instead).
    At one instant ends come before starts: a slot given back is free to be taken."""
    changes: dict[str, list[tuple[float, int]]] = {}
    for span in spans:
        if span.ran and span.ended_at > span.started_at:
            changes.setdefault(span.function, []).extend(
                [(span.started_at, 1), (span.ended_at, -1)]
            )
    levels: dict[str, list[tuple[float, int]]] = {}
    for name, deltas in changes.items():
        deltas.sort()
        level = 0
        points: list[tuple[float, int]] = []
        for at, delta in deltas:
            level += delta
            if points and points[-1][0] == at:
                points[-1] = (at, level)
            else:
                points.append((at, level))
        levels[name] = points
    return levels


def is_stream_batch(span: Span) -> bool:
    """True for a batch read from a Kinesis or DynamoDB stream (by its `Span.source`)."""
    source = span.source or ""
    return span.model is Model.EVENT_SOURCE_MAPPING and (
        ":kinesis:" in source or ":dynamodb:" in source
    )
