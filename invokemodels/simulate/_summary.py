"""What a run did, as plain data: `Summary` (one seed) and `SweepSummary` (many seeds).

Both are frozen attrs classes of numbers, strings and tuples, so they pickle (a sweep's
runs come back from other processes) and print the same text for the same run.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from typing import Any

import attrs

__all__ = ["FunctionSummary", "Latency", "SourceSummary", "Summary", "SweepSummary"]


def _s(value: float) -> str:
    return f"{value:.3f} s"


def percentile(values: Sequence[float], p: float) -> float:
    """The nearest-rank ``p``-th percentile of ``values`` (sorted or not; not empty)."""
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


@attrs.frozen
class Latency:
    """End-to-end latency of a source's items that ended: from going in (the 202, the
    ``PutRecord``, the ``SendMessage``) to their fate (success, drop, discard, delete,
    move to the dead-letter queue, expiry), in seconds."""

    p50: float
    p99: float
    max: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Latency | None:
        """The latency of ``values`` (None when there are none)."""
        if not values:
            return None
        return cls(
            round(percentile(values, 50), 6),
            round(percentile(values, 99), 6),
            round(max(values), 6),
        )


@attrs.frozen(kw_only=True)
class SourceSummary:
    """One load's items.

    Attributes:
        name: the producer, stream or queue.
        kind: ``event``, ``kinesis``, ``sqs`` or ``sqs-fifo``.
        function: the function it feeds (None for a queue or stream no function reads).
        produced: items that went in (an Event invoke that got its 202, a record put, a
            message sent).
        refused: Event invokes refused (429 over the invoke rate): not produced.
        ended: ``(fate, count)``: ``succeeded`` / ``dropped (<condition>)`` (Event),
            ``processed`` / ``discarded (<condition>)`` / ``expired`` (Kinesis),
            ``deleted`` / ``moved_to_dlq`` / ``expired`` (SQS).
        delivered: ``(where, count)``: destinations and dead-letter queues the items'
            records went to.
        waiting: items still in a stream or queue that no function reads.
        in_flight: items not ended when the clock stopped at ``until``.
        lost: items that neither ended nor wait nor are in flight: always 0 (a
            non-zero count is a defect of the models).
        latency: the `Latency` of the items that ended.
    """

    name: str
    kind: str
    function: str | None
    produced: int
    refused: int = 0
    ended: tuple[tuple[str, int], ...] = ()
    delivered: tuple[tuple[str, int], ...] = ()
    waiting: int = 0
    in_flight: int = 0
    lost: int = 0
    latency: Latency | None = None

    def count(self, fate: str) -> int:
        """How many items ended with ``fate`` (a label of `ended` or `delivered`, or
        its start: ``"dropped"`` counts every ``dropped (...)``)."""
        rows = (*self.ended, *self.delivered)
        exact = [n for label, n in rows if label == fate]
        if exact:
            return sum(exact)
        return sum(n for label, n in rows if label.startswith(fate + " ("))


@attrs.frozen(kw_only=True)
class FunctionSummary:
    """One function's tries.

    Attributes:
        tries: ``(Outcome value, count)`` of every try (throttles included).
        executions: tries that ran the function (CloudWatch's ``Invocations``).
        handler_calls: how many times the handler was called (equal to ``executions``).
        retries: tries after an item's first (Event retries, throttle retries, batches
            tried again).
        max_concurrency: the most executions of the function running at once.
        max_event_age: the longest an Event waited in the service queue before a try.
        max_iterator_age: the largest ``IteratorAge`` of a stream batch.
        max_message_age: the oldest message an SQS batch carried (age at the batch's start).
    """

    name: str
    tries: tuple[tuple[str, int], ...] = ()
    executions: int = 0
    handler_calls: int = 0
    retries: int = 0
    max_concurrency: int = 0
    max_event_age: float = 0.0
    max_iterator_age: float = 0.0
    max_message_age: float = 0.0


@attrs.frozen(kw_only=True)
class Summary:
    """What one run did (`invokemodels.simulate.run`); `text` is what the CLI prints.

    Attributes:
        scenario, seed: what ran.
        end_of_load: when the last load ended (clock seconds).
        clock: the clock when the run ended.
        stopped_early: True when ``until`` stopped the clock with work left.
        sources, functions: a `SourceSummary` per load, a `FunctionSummary` per function.
        queues: ``(queue, ((state, count), ...))``: the messages left in each queue.
        targets: ``(target, records)`` for each SNS, S3 or EventBridge destination.
    """

    scenario: str
    seed: int
    end_of_load: float
    clock: float
    stopped_early: bool = False
    sources: tuple[SourceSummary, ...] = ()
    functions: tuple[FunctionSummary, ...] = ()
    queues: tuple[tuple[str, tuple[tuple[str, int], ...]], ...] = ()
    targets: tuple[tuple[str, int], ...] = ()

    @property
    def lost(self) -> int:
        """Items lost over every source: must be 0."""
        return sum(s.lost for s in self.sources)

    def source(self, name: str) -> SourceSummary:
        """The `SourceSummary` of the producer, stream or queue ``name``."""
        for source in self.sources:
            if source.name == name:
                return source
        msg = f"{name}: no such source (sources: {', '.join(s.name for s in self.sources)})"
        raise KeyError(msg)

    def function(self, name: str) -> FunctionSummary:
        """The `FunctionSummary` of ``name``."""
        for function in self.functions:
            if function.name == name:
                return function
        msg = f"{name}: no such function"
        raise KeyError(msg)

    def to_dict(self) -> dict[str, Any]:
        """The summary as JSON-ready data."""
        return attrs.asdict(self, recurse=True)

    def text(self) -> str:
        """The summary as the CLI prints it."""
        lines = [
            f"scenario {self.scenario}, seed {self.seed}: load until {_s(self.end_of_load)}, "
            f"clock stopped at {_s(self.clock)}"
            + (" (until: work left)" if self.stopped_early else "")
        ]
        lines.append("")
        lines.append("sources")
        for s in self.sources:
            target = f" -> {s.function}" if s.function else ""
            head = f"  {s.name} ({s.kind}{target}): {s.produced} produced"
            if s.refused:
                head += f", {s.refused} refused (429)"
            lines.append(head)
            rows = [*s.ended, *((f"-> {label}", n) for label, n in s.delivered)]
            if s.waiting:
                rows.append(("waiting (no function reads it)", s.waiting))
            if s.in_flight:
                rows.append(("in flight when the clock stopped", s.in_flight))
            width = max((len(label) for label, _ in rows), default=0)
            lines += [f"    {label.ljust(width)}  {n:>7}" for label, n in rows]
            if s.latency is not None:
                lines.append(
                    f"    end-to-end latency p50 {_s(s.latency.p50)}, p99 {_s(s.latency.p99)}, "
                    f"max {_s(s.latency.max)}"
                )
        lines.append("")
        lines.append("functions")
        for f in self.functions:
            lines.append(
                f"  {f.name}: {f.executions} executions, {f.retries} retries, "
                f"max concurrency {f.max_concurrency}"
            )
            if f.tries:
                lines.append("    tries: " + ", ".join(f"{o} {n}" for o, n in f.tries))
            ages = [
                (label, value)
                for label, value in (
                    ("max event age", f.max_event_age),
                    ("max iterator age", f.max_iterator_age),
                    ("max message age", f.max_message_age),
                )
                if value > 0
            ]
            if ages:
                lines.append("    " + ", ".join(f"{label} {_s(v)}" for label, v in ages))
        left = [(name, states) for name, states in self.queues if states]
        if left or self.targets:
            lines.append("")
            lines.append("left in queues and targets")
            for name, states in left:
                lines.append(f"  {name}: " + ", ".join(f"{state} {n}" for state, n in states))
            for name, count in self.targets:
                lines.append(f"  {name}: {count} records")
        lines.append("")
        lines.append(f"events lost: {self.lost}")
        return "\n".join(lines) + "\n"


def _stat(values: Sequence[float]) -> tuple[float, float, float]:
    return (min(values), statistics.median(values), max(values))


def _num(value: float) -> str:
    return f"{value:g}" if float(value).is_integer() else f"{value:.3f}"


@attrs.frozen
class SweepSummary:
    """The runs of one scenario over many seeds (`invokemodels.simulate.sweep`).

    ``summaries`` are the runs' `Summary` objects in the order of their seeds.
    """

    summaries: tuple[Summary, ...]

    @property
    def seeds(self) -> list[int]:
        """The seeds, in order."""
        return [s.seed for s in self.summaries]

    @property
    def lost(self) -> int:
        """Items lost over every run: must be 0."""
        return sum(s.lost for s in self.summaries)

    def counts(self, source: str, fate: str) -> list[int]:
        """How many items of ``source`` ended with ``fate`` in each run (see
        `SourceSummary.count`)."""
        return [s.source(source).count(fate) for s in self.summaries]

    def fraction(self, source: str, fate: str) -> float:
        """The share of runs in which at least one item of ``source`` ended with ``fate``
        (``fraction("orders", "moved_to_dlq")``: how often a poison message reached the
        dead-letter queue)."""
        counts = self.counts(source, fate)
        return sum(1 for n in counts if n) / len(counts)

    def text(self) -> str:
        """The distribution over the runs, as the CLI prints it: per source and fate, in
        how many runs it happened and its min / median / max count; the latencies'
        min / median / max over the runs."""
        runs = len(self.summaries)
        first, last = self.summaries[0], self.summaries[-1]
        lines = [
            f"scenario {first.scenario}: {runs} runs, seeds {first.seed}..{last.seed}",
            "",
        ]
        rows: list[tuple[str, ...]] = [("", "runs", "min", "median", "max")]
        names = [s.name for s in first.sources]
        for name in names:
            per_run = [s.source(name) for s in self.summaries]
            labels: list[str] = []
            for summary in per_run:
                for label, _ in (*summary.ended, *summary.delivered):
                    if label not in labels:
                        labels.append(label)
            rows.append((f"{name}: produced", "", *map(_num, _stat([s.produced for s in per_run]))))
            for label in sorted(labels):
                counts = [s.count(label) for s in per_run]
                happened = sum(1 for n in counts if n)
                rows.append((f"{name}: {label}", f"{happened}/{runs}", *map(_num, _stat(counts))))
            latencies = [s.latency for s in per_run if s.latency is not None]
            for which in ("p50", "p99", "max"):
                values = [getattr(lat, which) for lat in latencies]
                if values:
                    rows.append(
                        (
                            f"{name}: latency {which} (s)",
                            f"{len(values)}/{runs}",
                            *(f"{v:.3f}" for v in _stat(values)),
                        )
                    )
        widths = [max(len(r[c]) for r in rows) for c in range(5)]
        for row in rows:
            cells = [row[0].ljust(widths[0])] + [row[c].rjust(widths[c]) for c in range(1, 5)]
            lines.append("  ".join(cells).rstrip())
        lines.append("")
        lines.append(f"events lost: {self.lost} over {runs} runs")
        return "\n".join(lines) + "\n"
