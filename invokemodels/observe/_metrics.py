"""Lambda's and SQS's CloudWatch metrics of a `Timeline`, as time series at a chosen period.

Each datapoint is what CloudWatch's ``GetMetricStatistics`` returns for one period: the
``SampleCount``, ``Sum``, ``Minimum`` and ``Maximum`` of the samples in it (``Average`` is
``Sum / SampleCount``), under the metric's AWS name, unit and dimensions.  A period with
no sample has no datapoint, as in CloudWatch.  Definitions: Lambda's
``monitoring-metrics-types`` page and reference 3.8; SQS's "Available CloudWatch metrics
for Amazon SQS".
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final

import attrs

from invokemodels.core._history import Model, Outcome, Span
from invokemodels.exceptions import InvalidParameterValueError
from invokemodels.observe._marks import MarkKind, is_stream_batch, queue_levels, running_levels

if TYPE_CHECKING:
    from invokemodels.observe._timeline import Timeline

__all__ = ["METRICS", "Datapoint", "Metrics", "compute_metrics"]

METRICS: Final[dict[str, tuple[str, str, str]]] = {
    # name: (namespace, unit, what one sample is)
    "Invocations": (
        "AWS/Lambda",
        "Count",
        "1 per execution of the function code, success or function error "
        "(throttles, refused calls and 5xx errors excluded)",
    ),
    "Errors": ("AWS/Lambda", "Count", "1 per execution that ended in a function error"),
    "Throttles": ("AWS/Lambda", "Count", "1 per try refused for lack of concurrency"),
    "Duration": ("AWS/Lambda", "Milliseconds", "each execution's run time"),
    "ConcurrentExecutions": (
        "AWS/Lambda",
        "Count",
        "the peak number of executions running at once in the period",
    ),
    "AsyncEventsReceived": ("AWS/Lambda", "Count", "1 per event accepted into the queue"),
    "AsyncEventAge": (
        "AWS/Lambda",
        "Milliseconds",
        "per Event execution, the time from acceptance to its start",
    ),
    "AsyncEventsDropped": (
        "AWS/Lambda",
        "Count",
        "1 per event that ended without a successful execution",
    ),
    "DeadLetterErrors": ("AWS/Lambda", "Count", "1 per dead-letter send that failed"),
    "DestinationDeliveryFailures": (
        "AWS/Lambda",
        "Count",
        "1 per Event destination delivery that failed",
    ),
    "IteratorAge": (
        "AWS/Lambda",
        "Milliseconds",
        "per stream batch invocation, the age of its last record",
    ),
    "ApproximateNumberOfMessagesVisible": (
        "AWS/SQS",
        "Count",
        "the peak number of visible messages in the period",
    ),
    "ApproximateNumberOfMessagesNotVisible": (
        "AWS/SQS",
        "Count",
        "the peak number of in-flight messages",
    ),
    "ApproximateAgeOfOldestMessage": (
        "AWS/SQS",
        "Seconds",
        "the peak age of the oldest message in the queue",
    ),
}
"""Every metric `metrics` computes: ``name -> (namespace, unit, what one sample is)``."""


@attrs.frozen
class Datapoint:
    """One period of one metric, as CloudWatch reports it.

    Attributes:
        metric: the AWS metric name (``Invocations``, ``IteratorAge``, ...).
        namespace: ``AWS/Lambda`` or ``AWS/SQS``.
        unit: the CloudWatch unit (``Count``, ``Milliseconds``, ``Seconds``).
        dimension: ``FunctionName`` or ``QueueName``.
        name: the dimension's value (the function's or the queue's name).
        timestamp: the period's start, clock seconds.
        sample_count, sum, minimum, maximum: the statistics of the period's samples.
    """

    metric: str
    namespace: str
    unit: str
    dimension: str
    name: str
    timestamp: float
    sample_count: int
    sum: float
    minimum: float
    maximum: float

    @property
    def average(self) -> float:
        """``Sum / SampleCount``."""
        return self.sum / self.sample_count

    def as_dict(self) -> dict[str, Any]:
        """The datapoint under CloudWatch's field names."""
        return {
            "MetricName": self.metric,
            "Namespace": self.namespace,
            "Unit": self.unit,
            "Dimensions": [{"Name": self.dimension, "Value": self.name}],
            "Timestamp": self.timestamp,
            "SampleCount": self.sample_count,
            "Sum": self.sum,
            "Minimum": self.minimum,
            "Maximum": self.maximum,
            "Average": self.average,
        }


_FIELDS: Final = (
    "metric",
    "namespace",
    "unit",
    "dimension",
    "name",
    "timestamp",
    "sample_count",
    "sum",
    "minimum",
    "maximum",
    "average",
)


@attrs.frozen(repr=False)
class Metrics:
    """The metrics of one timeline: `Datapoint` objects sorted by metric, name and time.

    Also holds the counts `summary` prints.
    """

    period: float
    datapoints: tuple[Datapoint, ...]
    outcomes: tuple[tuple[str, str, str, int], ...] = ()
    """``(function, model, outcome, count)`` of every try, for `summary`."""
    fates: tuple[tuple[str, str, int], ...] = ()
    """``(function, fate, count)`` of every mark that ends an item, for `summary`."""

    def __repr__(self) -> str:
        return f"<Metrics period={self.period:g} datapoints={len(self.datapoints)}>"

    def names(self) -> list[str]:
        """The metric names that have datapoints, sorted."""
        return sorted({d.metric for d in self.datapoints})

    def series(self, metric: str, name: str | None = None) -> list[Datapoint]:
        """The datapoints of ``metric`` (for the function or queue ``name``, or all), by time."""
        if metric not in METRICS:
            raise InvalidParameterValueError("metric", metric, f"must be one of {sorted(METRICS)}")
        return [
            d for d in self.datapoints if d.metric == metric and (name is None or d.name == name)
        ]

    def total(self, metric: str, name: str | None = None) -> float:
        """The ``Sum`` of ``metric`` over every period."""
        return sum(d.sum for d in self.series(metric, name))

    def peak(self, metric: str, name: str | None = None) -> float:
        """The ``Maximum`` of ``metric`` over every period (0 when none)."""
        return max((d.maximum for d in self.series(metric, name)), default=0.0)

    def to_csv(self) -> str:
        """One row per datapoint: metric, namespace, unit, dimension, name, timestamp, the
        statistics and the average."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(_FIELDS)
        for d in self.datapoints:
            writer.writerow(
                [
                    d.metric,
                    d.namespace,
                    d.unit,
                    d.dimension,
                    d.name,
                    _num(d.timestamp),
                    d.sample_count,
                    _num(d.sum),
                    _num(d.minimum),
                    _num(d.maximum),
                    _num(d.average),
                ]
            )
        return out.getvalue()

    def to_json(self) -> str:
        """``{"Period": ..., "Datapoints": [...]}`` with CloudWatch's field names."""
        return json.dumps(
            {"Period": self.period, "Datapoints": [d.as_dict() for d in self.datapoints]},
            indent=1,
            sort_keys=True,
        )

    def summary(self) -> str:
        """A table per outcome: tries by function, model and `Outcome`, then item fates."""
        rows = [("function", "model", "outcome", "count")]
        rows += [(f, m, o, str(n)) for f, m, o, n in self.outcomes]
        rows += [(f, "", fate, str(n)) for f, fate, n in self.fates]
        widths = [max(len(r[c]) for r in rows) for c in range(4)]
        lines = [
            "  ".join(
                [
                    r[0].ljust(widths[0]),
                    r[1].ljust(widths[1]),
                    r[2].ljust(widths[2]),
                    r[3].rjust(widths[3]),
                ]
            ).rstrip()
            for r in rows
        ]
        return "\n".join(lines) + "\n"


def _num(value: float) -> str:
    return repr(round(float(value), 6))


class _Bins:
    def __init__(self, period: float) -> None:
        self.period = period
        self.cells: dict[tuple[str, str, int], list[float]] = {}

    def add(self, metric: str, name: str, at: float, value: float) -> None:
        # A sample at a period's end belongs to the next period ([start, start + period)).
        index = math.floor(at / self.period + 1e-9)
        cell = self.cells.get((metric, name, index))
        if cell is None:
            self.cells[(metric, name, index)] = [1, value, value, value]
        else:
            cell[0] += 1
            cell[1] += value
            cell[2] = min(cell[2], value)
            cell[3] = max(cell[3], value)

    def peak(self, metric: str, name: str, start: float, end: float, value: float) -> None:
        """A gauge at ``value`` over ``[start, end)``: its peak in each period it touches."""
        first = math.floor(start / self.period + 1e-9)
        last = max(first, math.ceil(end / self.period - 1e-9) - 1)
        for index in range(first, last + 1):
            cell = self.cells.get((metric, name, index))
            if cell is None:
                self.cells[(metric, name, index)] = [1, value, value, value]
            elif value > cell[3]:
                self.cells[(metric, name, index)] = [1, value, min(cell[2], value), value]
            else:
                cell[2] = min(cell[2], value)

    def datapoints(self) -> tuple[Datapoint, ...]:
        points = []
        for (metric, name, index), (count, total, low, high) in sorted(self.cells.items()):
            namespace, unit, _ = METRICS[metric]
            dimension = "QueueName" if namespace == "AWS/SQS" else "FunctionName"
            points.append(
                Datapoint(
                    metric,
                    namespace,
                    unit,
                    dimension,
                    name,
                    round(index * self.period, 9),
                    int(count),
                    float(total),
                    float(low),
                    float(high),
                )
            )
        return tuple(points)


def _concurrency(bins: _Bins, spans: Sequence[Span]) -> None:
    for name, points in running_levels(spans).items():
        for (at, level), following in zip(points, [*points[1:], None], strict=True):
            if level > 0:
                bins.peak(
                    "ConcurrentExecutions",
                    name,
                    at,
                    at if following is None else following[0],
                    level,
                )
    for span in spans:
        if span.ran and span.in_flight is not None:
            # The function's concurrency right after the try took its slot.
            bins.peak(
                "ConcurrentExecutions",
                span.function,
                span.started_at,
                span.started_at,
                span.in_flight,
            )


def compute_metrics(timeline: Timeline, period: float) -> Metrics:
    """The metrics of ``timeline`` per ``period`` seconds (see `invokemodels.observe.metrics`)."""
    bins = _Bins(float(period))
    outcomes: dict[tuple[str, str, str], int] = {}
    for span in timeline.spans:
        key = (span.function, span.model.value, span.outcome.value)
        outcomes[key] = outcomes.get(key, 0) + 1
        name, at = span.function, span.started_at
        if span.ran:
            bins.add("Invocations", name, at, 1)
            bins.add("Errors", name, at, 1 if span.outcome is Outcome.FUNCTION_ERROR else 0)
            bins.add("Duration", name, at, span.duration * 1000.0)
            if span.model is Model.EVENT:
                bins.add("AsyncEventAge", name, at, span.dwell_time * 1000.0)
        if span.outcome is Outcome.THROTTLED:
            bins.add("Throttles", name, at, 1)
        if span.ran and is_stream_batch(span):
            bins.add("IteratorAge", name, at, span.dwell_time * 1000.0)
    _concurrency(bins, timeline.spans)

    # Without its EventInvoker as a source, a function's received events are read from its
    # tries: each event's first try carries its acceptance time (``enqueued_at``).
    accepted = {m.function for m in timeline.marks if m.kind == MarkKind.ACCEPTED}
    first_tries: dict[tuple[str, str], float] = {}
    for span in timeline.spans:
        if span.model is Model.EVENT and span.function not in accepted:
            first_tries.setdefault((span.function, span.request_id), span.enqueued_at)
    for (name, _), at in first_tries.items():
        bins.add("AsyncEventsReceived", name, at, 1)

    fates: dict[tuple[str, str], int] = {}
    for mark in timeline.marks:
        name_or_none = mark.function
        if name_or_none is None:
            continue
        name, at, kind = name_or_none, mark.at, mark.kind
        if kind == MarkKind.ACCEPTED:
            bins.add("AsyncEventsReceived", name, at, 1)
            continue
        if kind == MarkKind.DROPPED:
            bins.add("AsyncEventsDropped", name, at, 1)
        elif kind == MarkKind.DEAD_LETTER_FAILED:
            bins.add("DeadLetterErrors", name, at, 1)
        elif kind == MarkKind.DESTINATION_FAILED:
            bins.add("DestinationDeliveryFailures", name, at, 1)
        label = (
            kind
            if not mark.detail or kind.startswith(("destination", "dead_letter"))
            else (f"{kind} ({mark.detail})")
        )
        fates[(name, label)] = fates.get((name, label), 0) + 1

    for queue, levels in queue_levels(timeline.marks).items():
        for level, following in zip(levels, [*levels[1:], None], strict=True):
            until = level.at if following is None else following.at
            bins.peak("ApproximateNumberOfMessagesVisible", queue, level.at, until, level.visible)
            bins.peak(
                "ApproximateNumberOfMessagesNotVisible", queue, level.at, until, level.not_visible
            )
            # The age grows until the next event: its peak is at the period's end or the
            # next event, whichever comes first.
            _age_peaks(bins, queue, level.at, until, level.oldest_sent_at)

    return Metrics(
        float(period),
        bins.datapoints(),
        tuple((f, m, o, n) for (f, m, o), n in sorted(outcomes.items())),
        tuple((f, k, n) for (f, k), n in sorted(fates.items())),
    )


def _age_peaks(bins: _Bins, queue: str, start: float, end: float, oldest: float | None) -> None:
    metric = "ApproximateAgeOfOldestMessage"
    if oldest is None:
        bins.peak(metric, queue, start, end, 0.0)
        return
    period = bins.period
    first = math.floor(start / period + 1e-9)
    last = max(first, math.ceil(end / period - 1e-9) - 1)
    for index in range(first, last + 1):
        upto = min(end, (index + 1) * period)
        at = max(start, index * period)
        bins.peak(metric, queue, at, at, max(0.0, upto - oldest))
