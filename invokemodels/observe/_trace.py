"""A `Timeline` as Chrome trace-event JSON (the "JSON Object Format" of Google's Trace Event
Format document), which Perfetto (ui.perfetto.dev) and ``chrome://tracing`` open.

- One process per function (and one for the SQS queues); within it one thread per track:
  ``invocations`` (synchronous calls and Event tries), ``event queue`` (an event's
  acceptance and terminal outcome), ``destinations``, and one per shard, message group or
  queue of its mappings.  Tries that overlap on one track (concurrency) get numbered
  sub-tracks (``invocations #2``), because a trace thread shows only nested slices.
- Each try is a complete event (``ph: "X"``, ``ts`` and ``dur`` in microseconds) with the
  span's fields in ``args``; each mark an instant-sized complete event (``dur: 0``).
- Flow events (``ph: "s"``, ``"t"``, ``"f"``, one ``id`` per item, ``bp: "e"`` so each binds
  to the slice enclosing it) draw an arrow from an event's acceptance to each of its tries and
  to its destination, from each batch that carried a stream record to its fate, and from a
  message's send through each batch that carried it to its deletion or move to the DLQ.
- Counter events (``ph: "C"``) give each function's concurrency and each queue's messages.
"""

from __future__ import annotations

import heapq
from collections.abc import Hashable
from typing import TYPE_CHECKING, Any, Final

from invokemodels.core._history import Model, Span
from invokemodels.observe._marks import Mark, MarkKind, lane_label, queue_levels, running_levels

if TYPE_CHECKING:
    from invokemodels.observe._timeline import Timeline

__all__ = ["trace_events"]

_QUEUES_PID: Final = 1
_INVOCATIONS: Final = "invocations"
_EVENT_QUEUE: Final = "event queue"
_DESTINATIONS: Final = "destinations"


def _us(seconds: float) -> float:
    """Seconds to trace microseconds, rounded to the nanosecond grid (stable text)."""
    return round(seconds * 1_000_000.0, 3)


class _Tracks:
    """Process and thread ids, given in order of first use (so one timeline, one numbering)."""

    def __init__(self, functions: list[str]) -> None:
        self.pids = {name: index + 2 for index, name in enumerate(functions)}
        self.tids: dict[tuple[int, str], int] = {}
        self.busy: dict[tuple[int, str], list[tuple[float, int]]] = {}
        self.meta: list[dict[str, Any]] = []
        for name, pid in self.pids.items():
            self.meta.append(_meta("process_name", pid, 0, {"name": f"function {name}"}))
            self.meta.append(_meta("process_sort_index", pid, 0, {"sort_index": pid}))

    def tid(self, pid: int, label: str) -> int:
        key = (pid, label)
        tid = self.tids.get(key)
        if tid is None:
            tid = len([k for k in self.tids if k[0] == pid]) + 1
            self.tids[key] = tid
            self.meta.append(_meta("thread_name", pid, tid, {"name": label}))
            self.meta.append(_meta("thread_sort_index", pid, tid, {"sort_index": tid}))
        return tid

    def slot(self, pid: int, label: str, start: float, end: float) -> int:
        """The thread for a try on ``label`` from ``start`` to ``end`` (tries come in order of
        ``start``): the sub-track that became free first, if it is free at ``start``, else a
        new one (greedy interval partitioning: as few sub-tracks as the peak overlap)."""
        free = self.busy.setdefault((pid, label), [])
        if free and free[0][0] <= start:
            index = heapq.heapreplace(free, (end, free[0][1]))[1]
        else:
            index = len(free)
            heapq.heappush(free, (end, index))
        return self.tid(pid, label if index == 0 else f"{label} #{index + 1}")


def _meta(name: str, pid: int, tid: int, args: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "ph": "M", "pid": pid, "tid": tid, "args": args}


def _lane_json(lane: Hashable) -> Any:
    if lane is None or isinstance(lane, (str, int, float)):
        return lane
    if isinstance(lane, tuple):
        return [_lane_json(part) for part in lane]
    return str(lane)


def _span_args(span: Span) -> dict[str, Any]:
    args: dict[str, Any] = {
        "model": span.model.value,
        "request_id": span.request_id,
        "attempt": span.attempt,
        "outcome": span.outcome.value,
        "enqueued_at": span.enqueued_at,
        "dwell_time": span.dwell_time,
    }
    optional = {
        "execution": span.execution,
        "error_type": span.error_type,
        "status_code": span.status_code,
        "in_flight": span.in_flight,
        "source": span.source,
    }
    args.update({key: value for key, value in optional.items() if value is not None})
    if span.lane is not None:
        args["lane"] = _lane_json(span.lane)
    if span.model is Model.EVENT_SOURCE_MAPPING:
        args["size"] = span.size
        args["carried"] = list(span.carried)
        args["failed"] = list(span.failed)
    return args


def trace_events(timeline: Timeline) -> dict[str, Any]:
    """The timeline as a Chrome trace-event JSON object (``{"traceEvents": [...], ...}``).

    ``ts`` and ``dur`` are microseconds of the clock the models ran on; the same timeline
    gives the same dict (and `Timeline.write_chrome_trace` the same bytes).
    """
    tracks = _Tracks(timeline.functions())
    events: list[dict[str, Any]] = []
    flows: dict[str, list[tuple[float, int, int]]] = {}

    for span in timeline.spans:
        pid = tracks.pids[span.function]
        tid = tracks.slot(pid, lane_label(span), span.started_at, span.ended_at)
        name = span.outcome.value
        if span.error_type is not None:
            name += f" {span.error_type}"
        if span.failed:
            name += f" ({len(span.failed)} of {span.size} items failed)"
        events.append(
            {
                "name": name,
                "cat": span.model.value,
                "ph": "X",
                "ts": _us(span.started_at),
                "dur": _us(span.ended_at) - _us(span.started_at),
                "pid": pid,
                "tid": tid,
                "args": _span_args(span),
            }
        )
        if span.model is Model.EVENT:
            flows.setdefault(span.request_id, []).append((span.started_at, pid, tid))
        elif span.model is Model.EVENT_SOURCE_MAPPING:
            for item in span.carried:
                flows.setdefault(item, []).append((span.started_at, pid, tid))

    queue_pids: dict[str, int] = {}
    starts: dict[str, tuple[float, int, int]] = {}
    ends: dict[str, tuple[float, int, int]] = {}
    for mark in timeline.marks:
        if mark.function is None:
            tid = _queue_mark(mark, queue_pids, tracks, events)
            # A message's arrows: from its send, through each batch, to its end.
            if mark.kind == "sent":
                starts.setdefault(mark.item, (mark.at, _QUEUES_PID, tid))
            elif mark.kind in ("deleted", "expired", "moved_to_dlq"):
                ends.setdefault(mark.item, (mark.at, _QUEUES_PID, tid))
            continue
        pid = tracks.pids[mark.function]
        if mark.kind in (
            MarkKind.DESTINATION,
            MarkKind.DESTINATION_FAILED,
            MarkKind.DEAD_LETTER,
            MarkKind.DEAD_LETTER_FAILED,
        ):
            tid = tracks.tid(pid, _DESTINATIONS)
            ends[mark.item] = (mark.at, pid, tid)
        elif mark.model is Model.EVENT:
            tid = tracks.tid(pid, _EVENT_QUEUE)
            if mark.kind == MarkKind.ACCEPTED:
                starts[mark.item] = (mark.at, pid, tid)
            else:
                ends.setdefault(mark.item, (mark.at, pid, tid))
        else:
            tid = tracks.tid(
                pid, f"{mark.lane[0]} fates" if isinstance(mark.lane, tuple) else "fates"
            )
            ends.setdefault(mark.item, (mark.at, pid, tid))
        args: dict[str, Any] = {"item": mark.item}
        if mark.detail:
            args["detail"] = mark.detail
        if mark.partition_key is not None:
            args["partition_key"] = mark.partition_key
        events.append(
            {
                "name": mark.kind,
                "cat": "mark",
                "ph": "X",
                "ts": _us(mark.at),
                "dur": 0.0,
                "pid": pid,
                "tid": tid,
                "args": args,
            }
        )

    for name, points in sorted(running_levels(timeline.spans).items()):
        for at, level in points:
            events.append(
                {
                    "name": "ConcurrentExecutions",
                    "ph": "C",
                    "ts": _us(at),
                    "pid": tracks.pids[name],
                    "tid": 0,
                    "args": {"value": level},
                }
            )
    events += [
        {
            "name": f"{queue} messages",
            "ph": "C",
            "ts": _us(level.at),
            "pid": _QUEUES_PID,
            "tid": 0,
            "args": {"visible": level.visible, "not_visible": level.not_visible},
        }
        for queue, levels in sorted(queue_levels(timeline.marks).items())
        for level in levels
    ]

    flow_id = 0
    for item, steps in flows.items():
        chain = ([starts[item]] if item in starts else []) + steps
        if item in ends:
            chain.append(ends[item])
        if len(chain) < 2:
            continue
        flow_id += 1
        for index, (at, pid, tid) in enumerate(chain):
            phase = "s" if index == 0 else ("f" if index == len(chain) - 1 else "t")
            events.append(
                {
                    "name": "item",
                    "cat": "flow",
                    "ph": phase,
                    "id": flow_id,
                    "ts": _us(at),
                    "pid": pid,
                    "tid": tid,
                    "bp": "e",
                    "args": {"item": item},
                }
            )

    return {
        "traceEvents": tracks.meta
        + [
            _meta("process_name", pid, 0, {"name": "SQS queues"})
            for pid in sorted(set(queue_pids.values()))
        ]
        + events,
        "displayTimeUnit": "ms",
        "otherData": {"generator": "invokemodels", "clock": "seconds since the clock's start"},
    }


def _queue_mark(
    mark: Mark, pids: dict[str, int], tracks: _Tracks, events: list[dict[str, Any]]
) -> int:
    name = str(mark.lane)
    pids.setdefault(name, _QUEUES_PID)
    tid = tracks.tid(_QUEUES_PID, f"queue {name}")
    args: dict[str, Any] = {"message_id": mark.item}
    if mark.detail:
        args["detail"] = mark.detail
    events.append(
        {
            "name": mark.kind,
            "cat": "sqs",
            "ph": "X",
            "ts": _us(mark.at),
            "dur": 0.0,
            "pid": _QUEUES_PID,
            "tid": tid,
            "args": args,
        }
    )
    return tid
