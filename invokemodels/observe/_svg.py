"""A `Timeline` as an SVG picture: concurrency, queue depth, dwell time / iterator age and
outcomes over time, four panels on one time axis.

Hand-written SVG text, no plotting library: the picture needs lines, dots and bars on a
shared axis, which is a few dozen lines of SVG; a plotting library would be a dependency
(or an extra) for that, and its output changes between its versions, while this text is
byte-identical for the same timeline, so a picture in the docs can be checked by a test.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape
from typing import TYPE_CHECKING, Final

from invokemodels.core._history import Model, Outcome
from invokemodels.exceptions import InvalidParameterValueError
from invokemodels.observe._marks import MarkKind, queue_levels, running_levels

if TYPE_CHECKING:
    from invokemodels.observe._timeline import Timeline

__all__ = ["render_svg"]

_PALETTE: Final = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#17becf",
    "#bcbd22",
)
_OUTCOME_COLOURS: Final = {
    Outcome.SUCCESS: "#2ca02c",
    Outcome.FUNCTION_ERROR: "#d62728",
    Outcome.THROTTLED: "#ff7f0e",
    Outcome.SERVICE_ERROR: "#9467bd",
    Outcome.REFUSED: "#7f7f7f",
    Outcome.DRY_RUN: "#c7c7c7",
}
_LEFT: Final = 70.0
_RIGHT: Final = 190.0
_PANEL: Final = 120.0
_GAP: Final = 46.0
_TOP: Final = 52.0

Series = list[tuple[float, float]]


def _f(value: float) -> str:
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _nice_step(span: float, target: int = 6) -> float:
    if span <= 0:
        return 1.0
    raw = span / target
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1.0, 2.0, 2.5, 5.0, 10.0):
        if factor * power >= raw:
            return float(factor * power)
    return float(10 * power)


def _ticks(high: float, target: int = 4) -> list[float]:
    step = _nice_step(high, target)
    count = math.floor(high / step + 1e-9)
    return [index * step for index in range(count + 1)]


def _label(value: float) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 100 or value == int(value):
        return f"{value:.0f}"
    return f"{value:.3g}"


class _Canvas:
    def __init__(self, width: float, start: float, end: float) -> None:
        self.width = width
        self.start = start
        self.end = end if end > start else start + 1.0
        self.parts: list[str] = []

    def x(self, at: float) -> float:
        inner = self.width - _LEFT - _RIGHT
        return _LEFT + (at - self.start) / (self.end - self.start) * inner

    def panel(self, index: int, title: str, high: float, unit: str) -> tuple[float, float]:
        """Draw the frame of panel ``index``; returns its top and a y-scale factor."""
        top = _TOP + index * (_PANEL + _GAP)
        right = self.width - _RIGHT
        high = high if high > 0 else 1.0
        ticks = _ticks(high)
        high = max(high, ticks[-1])
        add = self.parts.append
        add(f'<text x="{_f(_LEFT)}" y="{_f(top - 8)}" class="title">{escape(title)}</text>')
        add(
            f'<rect x="{_f(_LEFT)}" y="{_f(top)}" width="{_f(right - _LEFT)}" '
            f'height="{_f(_PANEL)}" class="frame"/>'
        )
        for tick in ticks:
            y = top + _PANEL - tick / high * _PANEL
            add(
                f'<line x1="{_f(_LEFT - 4)}" y1="{_f(y)}" x2="{_f(right)}" y2="{_f(y)}" '
                f'class="grid"/>'
            )
            add(
                f'<text x="{_f(_LEFT - 7)}" y="{_f(y + 4)}" class="tick" '
                f'text-anchor="end">{_label(tick)}{escape(unit)}</text>'
            )
        self.time_axis(top + _PANEL)
        return top, _PANEL / high

    def time_axis(self, y: float) -> None:
        step = _nice_step(self.end - self.start)
        first = math.ceil(self.start / step - 1e-9)
        index = first
        while index * step <= self.end + 1e-9:
            at = index * step
            x = self.x(at)
            self.parts.append(
                f'<line x1="{_f(x)}" y1="{_f(y)}" x2="{_f(x)}" y2="{_f(y + 4)}" class="axis"/>'
            )
            self.parts.append(
                f'<text x="{_f(x)}" y="{_f(y + 15)}" class="tick" '
                f'text-anchor="middle">{_label(at)}s</text>'
            )
            index += 1

    def step_line(self, top: float, scale: float, points: Series, colour: str) -> None:
        """A step line through ``points``; the changes that fall in one pixel column are
        drawn as that column's lowest, highest and last value (a long run stays small)."""
        if not points:
            return
        bottom = top + _PANEL
        pen = points[0][1]
        path = [f"M{_f(self.x(points[0][0]))},{_f(bottom - pen * scale)}"]
        columns: list[tuple[str, float, float, float]] = []  # x, lowest, highest, last
        for at, value in points[1:]:
            x = _f(round(self.x(at) * 2) / 2)
            if columns and columns[-1][0] == x:
                _, low, high, _ = columns[-1]
                columns[-1] = (x, min(low, value), max(high, value), value)
            else:
                columns.append((x, value, value, value))
        for x, low, high, last in columns:
            path.append(f"H{x}")
            for value in (low, high, last):
                if value != pen:
                    path.append(f"V{_f(bottom - value * scale)}")
                    pen = value
        path.append(f"H{_f(self.x(self.end))}")
        self.parts.append(f'<path d="{"".join(path)}" stroke="{colour}" class="line"/>')

    def legend(self, top: float, entries: Sequence[tuple[str, str]]) -> None:
        x = self.width - _RIGHT + 12
        for row, (label, colour) in enumerate(entries[:8]):
            y = top + 10 + row * 14
            self.parts.append(
                f'<rect x="{_f(x)}" y="{_f(y - 8)}" width="10" height="10" fill="{colour}"/>'
            )
            self.parts.append(
                f'<text x="{_f(x + 14)}" y="{_f(y + 1)}" class="legend">{escape(label)}</text>'
            )
        if len(entries) > 8:
            y = top + 10 + 8 * 14
            self.parts.append(
                f'<text x="{_f(x)}" y="{_f(y + 1)}" class="legend">+{len(entries) - 8} more</text>'
            )


def _levels(deltas: list[tuple[float, int]]) -> Series:
    deltas.sort(key=lambda d: (d[0], -d[1]))  # at a tie, arrivals first
    level = 0
    points: Series = []
    for at, delta in deltas:
        level += delta
        if points and points[-1][0] == at:
            points[-1] = (at, level)
        else:
            points.append((at, level))
    return points


def render_svg(timeline: Timeline, *, width: int, bins: int, title: str | None) -> str:
    """The timeline as an SVG document (a string), four panels over one time axis.

    1. Concurrency: executions running at once, a line per function.
    2. Queue depth: events waiting in each function's Event queue (accepted, not yet ended:
       needs the `EventInvoker` as a source) and each SQS queue's visible and in-flight
       messages (needs the queue or its mapping as a source).
    3. Dwell time / iterator age: per execution, seconds from acceptance to its start (an
       event's ``AsyncEventAge``, a stream batch's ``IteratorAge``, an SQS batch's oldest
       message), a dot per execution.
    4. Outcomes: tries per time bin, stacked by `Outcome`.

    Args:
        width: pixels (400-4000; default 960).
        bins: about how many time bins the outcome panel has (1-1000; default 60: the
            width of a bin is rounded to 1, 2, 2.5 or 5 times a power of ten seconds).
        title: a line on top (default: the functions' names).
    """
    if isinstance(width, bool) or not isinstance(width, int) or not 400 <= width <= 4000:
        raise InvalidParameterValueError("width", width, "must be an int from 400 to 4000")
    if isinstance(bins, bool) or not isinstance(bins, int) or not 1 <= bins <= 1000:
        raise InvalidParameterValueError("bins", bins, "must be an int from 1 to 1000")
    functions = timeline.functions()
    colours = {name: _PALETTE[i % len(_PALETTE)] for i, name in enumerate(functions)}
    start, end = timeline.start, timeline.end
    canvas = _Canvas(float(width), start, end)
    spans = timeline.spans
    height = _TOP + 4 * (_PANEL + _GAP)

    # 1. concurrency
    concurrency = running_levels(spans)
    high = max((v for points in concurrency.values() for _, v in points), default=1)
    top, scale = canvas.panel(0, "Concurrent executions", high, "")
    for name in functions:
        points = [(at, float(level)) for at, level in concurrency.get(name, [])]
        canvas.step_line(top, scale, [(start, 0.0), *points], colours[name])
    canvas.legend(top, [(name, colours[name]) for name in functions])

    # 2. queue depth
    depth: dict[str, Series] = {}
    waiting: dict[str, list[tuple[float, int]]] = {}
    for mark in timeline.marks:
        if mark.model is Model.EVENT and mark.function is not None:
            if mark.kind == MarkKind.ACCEPTED:
                waiting.setdefault(mark.function, []).append((mark.at, 1))
            elif mark.kind in (MarkKind.SUCCEEDED, MarkKind.DROPPED):
                waiting.setdefault(mark.function, []).append((mark.at, -1))
    for name, deltas in sorted(waiting.items()):
        depth[f"{name} event queue"] = [(at, float(v)) for at, v in _levels(deltas)]
    for queue, levels in sorted(queue_levels(timeline.marks).items()):
        depth[f"{queue} visible"] = [(level.at, float(level.visible)) for level in levels]
        depth[f"{queue} in flight"] = [(level.at, float(level.not_visible)) for level in levels]
    depth_high = max((v for points in depth.values() for _, v in points), default=1.0)
    top, scale = canvas.panel(1, "Queue depth (items waiting or in flight)", depth_high, "")
    entries = []
    for index, (label, points) in enumerate(depth.items()):
        # Offset from the functions' colours, so a queue is not read as a function.
        colour = _PALETTE[(index + 3) % len(_PALETTE)]
        canvas.step_line(top, scale, [(start, 0.0), *points], colour)
        entries.append((label, colour))
    if not depth:
        canvas.parts.append(
            f'<text x="{_f(canvas.x((start + end) / 2))}" '
            f'y="{_f(top + _PANEL / 2)}" class="legend" text-anchor="middle">'
            "no queue in the timeline's sources</text>"
        )
    canvas.legend(top, entries)

    # 3. dwell time / iterator age
    ran = [s for s in spans if s.ran]
    dwell_high = max((s.dwell_time for s in ran), default=1.0)
    top, scale = canvas.panel(2, "Dwell time / iterator age at start", dwell_high, "s")
    # One dot per function, pixel column and extreme: the highest and lowest dwell time
    # started in that column (every execution when there are few).
    dots: dict[tuple[str, str], tuple[float, float]] = {}
    for span in ran:
        key = (span.function, _f(round(canvas.x(span.started_at) * 2) / 2))
        least, most = dots.get(key, (span.dwell_time, span.dwell_time))
        dots[key] = (min(least, span.dwell_time), max(most, span.dwell_time))
    for (name, x), (least, most) in dots.items():
        for value in (most,) if least == most else (least, most):
            y = top + _PANEL - value * scale
            canvas.parts.append(f'<circle cx="{x}" cy="{_f(y)}" r="2.5" fill="{colours[name]}"/>')
    canvas.legend(top, [(name, colours[name]) for name in functions])

    # 4. outcomes per bin
    # A round bin width (1, 2, 2.5 or 5 times a power of ten) giving about ``bins`` bins.
    bin_width = _nice_step(canvas.end - canvas.start, bins)
    bins = max(1, math.ceil((canvas.end - canvas.start) / bin_width - 1e-9))
    counts: dict[int, dict[Outcome, int]] = {}
    for span in spans:
        index = min(bins - 1, int((span.started_at - canvas.start) / bin_width))
        cell = counts.setdefault(index, {})
        cell[span.outcome] = cell.get(span.outcome, 0) + 1
    high = max((sum(cell.values()) for cell in counts.values()), default=1)
    top, scale = canvas.panel(3, f"Tries per {_label(bin_width)}s, by outcome", high, "")
    present = [o for o in Outcome if any(o in cell for cell in counts.values())]
    pixel = (width - _LEFT - _RIGHT) * bin_width / (canvas.end - canvas.start)
    for index, cell in sorted(counts.items()):
        base = top + _PANEL
        for outcome in Outcome:
            count = cell.get(outcome, 0)
            if not count:
                continue
            h = count * scale
            base -= h
            canvas.parts.append(
                f'<rect x="{_f(_LEFT + index * pixel + 0.5)}" y="{_f(base)}" '
                f'width="{_f(max(pixel - 1, 0.5))}" height="{_f(h)}" '
                f'fill="{_OUTCOME_COLOURS[outcome]}"/>'
            )
    canvas.legend(top, [(o.value, _OUTCOME_COLOURS[o]) for o in present])

    heading = title if title is not None else "invokemodels timeline: " + ", ".join(functions)
    head = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{_f(height)}" '
        f'viewBox="0 0 {width} {_f(height)}" font-family="sans-serif">',
        "<style>.title{font-size:13px;font-weight:bold}.tick{font-size:10px;fill:#444}"
        ".legend{font-size:11px}.frame{fill:none;stroke:#999}.grid{stroke:#e5e5e5}"
        ".axis{stroke:#999}.line{fill:none;stroke-width:1.5}</style>",
        f'<rect width="{width}" height="{_f(height)}" fill="white"/>',
        f'<text x="{_f(_LEFT)}" y="16" class="title">{escape(heading)}</text>',
    ]
    return "\n".join([*head, *canvas.parts, "</svg>"]) + "\n"
