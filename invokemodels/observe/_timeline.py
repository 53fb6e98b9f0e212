"""One timeline over every model: the spans of one or more `History` objects and the
terminal fates the models keep (`Mark`), with its text, trace, picture and metrics.
"""

from __future__ import annotations

import heapq
import json
import math
import os
from collections.abc import Iterable, Sequence
from typing import Any

import attrs

from invokemodels.aws._sqs import Queue
from invokemodels.core._history import History, Model, Outcome, Span
from invokemodels.event._invoker import EventInvoker, EventOutcomeKind
from invokemodels.exceptions import InvalidParameterValueError
from invokemodels.mapping._loop import EventSourceMapping
from invokemodels.mapping._sqs import SQSPoller
from invokemodels.mapping._streams import StreamPoller
from invokemodels.observe._marks import (
    FATES,
    QUEUE_KINDS,
    RANK_BEFORE,
    Mark,
    MarkKind,
    is_stream_batch,
    lane_label,
)
from invokemodels.observe._metrics import Metrics, compute_metrics
from invokemodels.observe._svg import render_svg
from invokemodels.observe._trace import trace_events

__all__ = ["Timeline", "chrome_trace", "metrics", "svg"]


def _histories(history: History | Iterable[History]) -> list[History]:
    if isinstance(history, History):
        return [history]
    try:
        histories = list(history)
    except TypeError:
        histories = None
    if not histories or not all(isinstance(h, History) for h in histories):
        raise InvalidParameterValueError(
            "history", history, "must be a History or a non-empty iterable of History objects"
        )
    return histories


def _event_marks(invoker: EventInvoker) -> list[Mark]:
    marks: list[Mark] = []
    name = invoker.function.name
    config = invoker.config
    on_success = config.on_success
    on_failure = config.on_failure
    dead_letter = invoker.dead_letter
    for outcome in invoker.outcomes:
        rid = outcome.request_id
        if not outcome.duplicate:
            # A duplicate copy was not accepted again (AsyncEventsReceived counts it once).
            marks.append(
                Mark(
                    at=outcome.enqueued_at,
                    kind=MarkKind.ACCEPTED,
                    item=rid,
                    function=name,
                    model=Model.EVENT,
                )
            )
        if outcome.kind is EventOutcomeKind.CANCELLED:
            marks.append(
                Mark(
                    at=outcome.ended_at,
                    kind=MarkKind.DROPPED,
                    item=rid,
                    function=name,
                    model=Model.EVENT,
                    detail="Cancelled",
                )
            )
            continue
        success = outcome.succeeded
        kind = MarkKind.SUCCEEDED if success else MarkKind.DROPPED
        marks.append(
            Mark(
                at=outcome.ended_at,
                kind=kind,
                item=rid,
                function=name,
                model=Model.EVENT,
                detail="" if success else outcome.condition,
            )
        )
        errors = outcome.delivery_errors
        target = on_success if success else on_failure
        if target is not None:
            failed = [e for e in errors if e.startswith("destination: ")]
            marks.append(
                Mark(
                    at=outcome.ended_at,
                    kind=MarkKind.DESTINATION_FAILED if failed else MarkKind.DESTINATION,
                    item=rid,
                    function=name,
                    model=Model.EVENT,
                    detail=failed[0] if failed else target.arn,
                )
            )
        if dead_letter is not None and not success:
            failed = [e for e in errors if e.startswith("dead-letter: ")]
            arn = str(getattr(dead_letter, "arn", "dead-letter"))
            marks.append(
                Mark(
                    at=outcome.ended_at,
                    kind=MarkKind.DEAD_LETTER_FAILED if failed else MarkKind.DEAD_LETTER,
                    item=rid,
                    function=name,
                    model=Model.EVENT,
                    detail=failed[0] if failed else arn,
                )
            )
    return marks


def _stream_marks(mapping: EventSourceMapping[Any], poller: StreamPoller) -> list[Mark]:
    marks: list[Mark] = []
    name = mapping.function.name
    target = poller.config.on_failure
    for outcome in poller.outcomes:
        lane = (outcome.shard_id, 0)
        marks.append(
            Mark(
                at=outcome.at,
                kind=outcome.fate.value,
                item=outcome.sequence_number,
                function=name,
                model=Model.EVENT_SOURCE_MAPPING,
                lane=lane,
                detail=outcome.condition or "",
                partition_key=outcome.partition_key,
            )
        )
        if outcome.fate.value == "discarded" and target is not None:
            marks.append(
                Mark(
                    at=outcome.at,
                    kind=MarkKind.DESTINATION,
                    item=outcome.sequence_number,
                    function=name,
                    model=Model.EVENT_SOURCE_MAPPING,
                    lane=lane,
                    detail=target.arn,
                )
            )
    return marks


def _queue_marks(queue: Queue) -> list[Mark]:
    return [
        Mark(
            at=event.at,
            kind=event.kind,
            item=event.message_id,
            lane=queue.name,
            detail=event.detail,
        )
        for event in queue.events
    ]


def _source_marks(source: object, seen: set[int]) -> list[Mark]:
    if id(source) in seen:
        return []
    seen.add(id(source))
    if isinstance(source, EventInvoker):
        return _event_marks(source)
    if isinstance(source, Queue):
        return _queue_marks(source)
    if isinstance(source, EventSourceMapping):
        poller = source.poller
        if isinstance(poller, StreamPoller):
            return _stream_marks(source, poller)
        if isinstance(poller, SQSPoller) and isinstance(poller.queue, Queue):
            marks = _source_marks(poller.queue, seen)
            redrive = poller.queue.redrive_policy
            if redrive is not None:
                marks += _source_marks(redrive.dead_letter_target, seen)
            return marks
        return []
    if isinstance(source, Mark):
        return [source]
    raise InvalidParameterValueError(
        "sources",
        source,
        "each must be an EventInvoker, an EventSourceMapping, a Queue or a Mark",
    )


def _time_key(row: Span | Mark) -> tuple[float, int]:
    if isinstance(row, Span):
        return (row.started_at, 1)
    return (row.at, 0 if row.kind in RANK_BEFORE else 2)


def _short(item: str, full: bool) -> str:
    if full or len(item) <= 12:
        return item
    if item.isdigit():
        return "..." + item[-6:]
    return item[:8]


def _ids(ids: Sequence[str], full: bool, limit: int = 4) -> str:
    shown = [_short(i, full) for i in ids[:limit]]
    more = f" +{len(ids) - limit}" if len(ids) > limit else ""
    return "[" + " ".join(shown) + more + "]"


def _seconds(value: float) -> str:
    return f"{value:.3f}s"


def _span_tuple(spans: Iterable[Span]) -> tuple[Span, ...]:
    return tuple(spans)


def _mark_tuple(marks: Iterable[Mark]) -> tuple[Mark, ...]:
    return tuple(marks)


@attrs.frozen(repr=False)
class Timeline:
    """Every try of every model (`Span`) and every other moment of an item's life
    (`Mark`), in time order: what `text`, `chrome_trace`, `svg` and `metrics` read.

    Build one with `Timeline.from_history`: its ``spans`` are in order of ``started_at``
    (ties as recorded), its ``marks`` in order of ``at`` (the constructor keeps both as
    given).
    """

    spans: tuple[Span, ...] = attrs.field(converter=_span_tuple)
    marks: tuple[Mark, ...] = attrs.field(default=(), converter=_mark_tuple)

    @classmethod
    def from_history(
        cls,
        history: History | Iterable[History],
        *,
        sources: Iterable[object] = (),
    ) -> Timeline:
        """The timeline of one `History` or of several (merged in time order).

        Args:
            history: a `History`, or several (each model's own, or one shared by models on
                one scheduler: a shared history gives one timeline over every model).
            sources: the models whose terminal fates to add as `Mark` objects (the history
                holds tries only; an item's fate stays with the model that owns it):
                `EventInvoker` (acceptance, outcome, destination and dead-letter sends),
                `EventSourceMapping` (a stream mapping's record fates; an SQS mapping's
                queue and its dead-letter queue), `Queue` (its `Queue.events`), or
                `Mark` objects of your own.
        """
        histories = _histories(history)
        if len(histories) == 1:
            spans = tuple(histories[0].spans())
        else:
            spans = tuple(heapq.merge(*(h.spans() for h in histories), key=_started))
        seen: set[int] = set()
        marks: list[Mark] = []
        for source in sources:
            marks += _source_marks(source, seen)
        # Acceptances at one instant in the order of their events' first tries (an
        # invoker keeps its outcomes in the order they ended).
        first: dict[str, int] = {}
        for index, span in enumerate(spans):
            first.setdefault(span.request_id, index)
        marks.sort(
            key=lambda m: (
                *_time_key(m),
                first.get(m.item, len(spans)) if m.kind == MarkKind.ACCEPTED else 0,
            )
        )
        return cls(spans, tuple(marks))

    def __repr__(self) -> str:
        return f"<Timeline spans={len(self.spans)} marks={len(self.marks)}>"

    # -- queries ------------------------------------------------------------------------------

    @property
    def start(self) -> float:
        """The earliest time in the timeline: the first acceptance, try or mark (0.0 when
        empty)."""
        first = min((s.enqueued_at for s in self.spans), default=None)
        times = [first] if first is not None else []
        times += [m.at for m in self.marks[:1]]
        return min(times, default=0.0)

    @property
    def end(self) -> float:
        """The latest time in the timeline (0.0 when empty)."""
        ends = [s.ended_at for s in self.spans] + [m.at for m in self.marks[-1:]]
        return max(ends, default=self.start)

    def functions(self) -> list[str]:
        """The functions that appear, sorted."""
        names = {s.function for s in self.spans}
        names.update(m.function for m in self.marks if m.function is not None)
        return sorted(names)

    def queues(self) -> list[str]:
        """The SQS queues whose events appear, sorted."""
        return sorted(
            {str(m.lane) for m in self.marks if m.function is None and m.kind in QUEUE_KINDS}
        )

    def of(self, item: str) -> Timeline:
        """The part of the timeline about ``item``: the spans that carried it or have it as
        request id, and its marks."""
        return Timeline(
            tuple(s for s in self.spans if s.request_id == item or item in s.carried),
            tuple(m for m in self.marks if m.item == item),
        )

    def where(
        self,
        *,
        function: str | None = None,
        model: Model | None = None,
        outcome: Outcome | None = None,
    ) -> Timeline:
        """The spans and marks matching every given filter (None: any); a mark has no
        outcome, so an ``outcome`` filter keeps spans only."""
        return Timeline(
            tuple(
                s
                for s in self.spans
                if (function is None or s.function == function)
                and (model is None or s.model is model)
                and (outcome is None or s.outcome is outcome)
            ),
            tuple(
                m
                for m in self.marks
                if (function is None or m.function == function)
                and (model is None or m.model is model)
                and outcome is None
            ),
        )

    def rows(self) -> list[Span | Mark]:
        """Spans and marks merged in time order (at a tie: acceptance, tries, fates)."""
        return sorted([*self.marks, *self.spans], key=_time_key)

    # -- text -----------------------------------------------------------------------------------

    def text(
        self, *, full_ids: bool = False, queue_events: bool = False, limit: int | None = None
    ) -> str:
        """The timeline as text, one line per try or mark, for terminals and test failures.

        Args:
            full_ids: print ids whole (default: a request id's first 8 characters, a
                sequence number's last 6 digits).
            queue_events: include each SQS queue's own events (sent, received, ...);
                default False (the batch spans show the messages).
            limit: at most this many lines of rows (the rest counted on a last line).
        """
        if limit is not None and (not isinstance(limit, int) or limit < 0):
            raise InvalidParameterValueError("limit", limit, "must be None or an int >= 0")
        rows = [
            r for r in self.rows() if queue_events or isinstance(r, Span) or r.function is not None
        ]
        shown = rows if limit is None else rows[:limit]
        table = [("time", "function", "track", "what", "detail")]
        table += [
            _span_row(row, full_ids) if isinstance(row, Span) else _mark_row(row, full_ids)
            for row in shown
        ]
        widths = [max(len(line[col]) for line in table) for col in range(4)]
        lines = []
        for line in table:
            cells = [line[0].rjust(widths[0])] + [
                line[col].ljust(widths[col]) for col in range(1, 4)
            ]
            lines.append(("  ".join(cells) + "  " + line[4]).rstrip())
        if len(shown) < len(rows):
            lines.append(f"... {len(rows) - len(shown)} more")
        return "\n".join(lines) + "\n"

    def explain(self, item: str, *, full_ids: bool = False) -> str:
        """Why ``item`` ended as it did: every try that carried it, and its marks, as text.

        The first line names the item (in full), how many tries carried it, its fate and,
        for a record given up with its batch, what each batch invocation ended with and
        whether a partial batch response named the record (when none did, the record
        was given up as part of the batch, not for its own failure).
        """
        part = self.of(item)
        if not part.spans and not part.marks:
            return f"{item}: not in this timeline\n"
        head = f"{item}: carried by {len(part.spans)} tries"
        fates = [m for m in part.marks if m.kind in FATES]
        if fates:
            last = fates[-1]
            head += f"; {last.kind}" + (f" ({last.detail})" if last.detail else "")
        batches = [s for s in part.spans if s.size > 1 and s.outcome is not Outcome.SUCCESS]
        if batches:
            errors = sorted({f"{s.outcome.value} {s.error_type or ''}".rstrip() for s in batches})
            head += (
                f"; {len(batches)} of them batches of up to {max(s.size for s in batches)} "
                f"records that ended {', '.join(errors)}"
            )
        named = [s for s in part.spans if item in s.failed]
        if named:
            head += f"; a partial batch response named it {len(named)} times"
        elif batches:
            head += "; no partial batch response named it: it went with its batch"
        return head + "\n" + part.text(full_ids=full_ids, queue_events=True)

    # -- exports ------------------------------------------------------------------------------

    def chrome_trace(self) -> dict[str, Any]:
        """The timeline in Chrome trace-event JSON format (see `chrome_trace`)."""
        return trace_events(self)

    def write_chrome_trace(self, path: str | os.PathLike[str]) -> None:
        """Write `chrome_trace` to ``path`` as JSON (open it in Perfetto or chrome://tracing);
        the same timeline writes the same bytes."""
        text = json.dumps(self.chrome_trace(), separators=(",", ":"), sort_keys=True)
        with open(path, "w", encoding="utf-8") as file:
            file.write(text)

    def svg(self, *, width: int = 960, bins: int = 60, title: str | None = None) -> str:
        """The timeline as an SVG picture (see `svg`)."""
        return render_svg(self, width=width, bins=bins, title=title)

    def write_svg(
        self,
        path: str | os.PathLike[str],
        *,
        width: int = 960,
        bins: int = 60,
        title: str | None = None,
    ) -> None:
        """Write `svg` to ``path``."""
        with open(path, "w", encoding="utf-8") as file:
            file.write(self.svg(width=width, bins=bins, title=title))

    def metrics(self, period: float = 60) -> Metrics:
        """Lambda's and SQS's CloudWatch metrics of this timeline (see `metrics`)."""
        return metrics(self, period)


def chrome_trace(timeline: Timeline) -> dict[str, Any]:
    """The timeline as a Chrome trace-event JSON object (``{"traceEvents": [...], ...}``).

    One process per function (and one for the SQS queues), one thread per track
    (``invocations``, ``event queue``, ``destinations``, each shard, message group or
    queue); each try a complete event (``ph: "X"``) with ``ts`` and ``dur`` in microseconds
    of the models' clock; flow events (``s``/``t``/``f``, bound to their enclosing slice)
    from an event's acceptance to each try and its destination, and from each batch that
    carried a record to the record's fate, and from an SQS message's send through its batches
    to its end; counters (``ph: "C"``) of each function's
    concurrency and each queue's messages.  Opens in Perfetto and ``chrome://tracing``.
    """
    return trace_events(timeline)


def svg(timeline: Timeline, *, width: int = 960, bins: int = 60, title: str | None = None) -> str:
    """The timeline as an SVG document: concurrency, queue depth, dwell time / iterator
    age and outcomes over one time axis (see ``docs/reference/observe.md``).

    Args:
        width: pixels, 400-4000 (default 960).
        bins: about how many time bins the outcome panel has, 1-1000 (default 60; a bin's
            width is rounded to 1, 2, 2.5 or 5 times a power of ten seconds).
        title: the heading (default: the functions' names).
    """
    return render_svg(timeline, width=width, bins=bins, title=title)


def metrics(timeline_or_history: Timeline | History, period: float = 60) -> Metrics:
    """Lambda's CloudWatch metrics (and SQS's queue metrics) of a timeline, per ``period``.

    Args:
        timeline_or_history: a `Timeline` (with its sources' marks: the Event metrics
            ``AsyncEventsDropped``, ``DeadLetterErrors``, ``DestinationDeliveryFailures``
            and the SQS metrics need them; ``AsyncEventsReceived`` is read from the tries
            when the `EventInvoker` is not a source), or a `History` (its spans alone).
        period: seconds per datapoint (default 60, CloudWatch's standard resolution).

    Samples (see `METRICS`): ``Invocations``, ``Errors``, ``Duration`` per execution;
    ``Throttles`` per throttled try; ``AsyncEventAge`` per Event execution (its dwell time:
    it "increases when events are retried", reference 3.8); ``IteratorAge`` per stream batch
    (the age of its last record when invoked); ``ConcurrentExecutions`` and the SQS gauges
    as their peak in each period (a modelling choice: CloudWatch samples them at an
    interval it does not document, and ``Maximum`` is the statistic AWS suggests for them).
    """
    if isinstance(timeline_or_history, History):
        timeline = Timeline.from_history(timeline_or_history)
    elif isinstance(timeline_or_history, Timeline):
        timeline = timeline_or_history
    else:
        raise InvalidParameterValueError(
            "timeline_or_history", timeline_or_history, "must be a Timeline or a History"
        )
    if (
        isinstance(period, bool)
        or not isinstance(period, (int, float))
        or not math.isfinite(period)
        or period <= 0
    ):
        raise InvalidParameterValueError("period", period, "must be a positive number of seconds")
    return compute_metrics(timeline, float(period))


def _started(span: Span) -> float:
    return span.started_at


def _span_row(span: Span, full: bool) -> tuple[str, str, str, str, str]:
    batch = span.model is Model.EVENT_SOURCE_MAPPING
    kind = "batch" if batch else span.model.value
    what = f"{kind} {_short(span.request_id, full)} try {span.attempt}"
    outcome = span.outcome.value
    if span.error_type:
        outcome += f" {span.error_type}"
    details = [outcome, f"took {_seconds(span.duration)}"]
    if span.status_code is not None:
        details.insert(1, f"StatusCode {span.status_code}")
    if span.model is Model.EVENT:
        details.append(f"age {_seconds(span.dwell_time)}")
    elif batch:
        noun = "record" if span.size == 1 else "records"
        details.append(f"{span.size} {noun} {_ids(span.carried, full)}")
        if span.failed:
            details.append(
                f"{len(span.failed)} of {span.size} reported failed {_ids(span.failed, full)}"
            )
        if span.dwell_time > 0:
            age = "IteratorAge" if is_stream_batch(span) else "oldest message age"
            details.append(f"{age} {_seconds(span.dwell_time)}")
    if span.duplicates:
        if batch:
            details.append(f"{len(span.duplicates)} duplicate {_ids(span.duplicates, full)}")
        else:
            details.append("duplicate")
    return (
        _seconds(span.started_at),
        span.function,
        lane_label(span),
        what,
        "; ".join(details),
    )


def _mark_row(mark: Mark, full: bool) -> tuple[str, str, str, str, str]:
    if mark.function is None:
        track = f"queue {mark.lane}"
    elif mark.model is Model.EVENT:
        track = "event queue"
    elif isinstance(mark.lane, tuple) and len(mark.lane) == 2:
        track = str(mark.lane[0])
    else:
        track = "" if mark.lane is None else str(mark.lane)
    details = [mark.detail] if mark.detail else []
    if mark.partition_key is not None:
        details.append(f"partition key {mark.partition_key}")
    return (
        _seconds(mark.at),
        mark.function or "-",
        track,
        f"{mark.kind} {_short(mark.item, full)}",
        "; ".join(details),
    )
