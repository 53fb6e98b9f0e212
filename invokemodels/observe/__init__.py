"""See what happened: one timeline over every model, its text, a Chrome trace, an SVG
picture and Lambda's CloudWatch metrics, all read from the shared `History`.

Example::

    history = History()
    ... run models with history=history ...
    timeline = Timeline.from_history(history, sources=[invoker, mapping])
    print(timeline.text())
    timeline.write_chrome_trace("trace.json")   # open in ui.perfetto.dev
    print(metrics(timeline, period=60).summary())
"""

from __future__ import annotations

from invokemodels.observe._marks import (
    Mark,
    MarkKind,
    QueueLevel,
    lane_label,
    queue_levels,
)
from invokemodels.observe._metrics import (
    METRICS,
    Datapoint,
    Metrics,
)
from invokemodels.observe._timeline import (
    Timeline,
    chrome_trace,
    metrics,
    svg,
)

__all__ = [
    "METRICS",
    "Datapoint",
    "Mark",
    "MarkKind",
    "Metrics",
    "QueueLevel",
    "Timeline",
    "chrome_trace",
    "lane_label",
    "metrics",
    "queue_levels",
    "svg",
]
