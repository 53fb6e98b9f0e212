"""Shared helpers of the benchmark scripts: interleaved CPU timing and a table row.

Every figure is CPU time (`time.process_time`), because the machines these run on are
shared: wall-clock time includes waiting for a core, CPU time does not.  A subject and its
baseline are timed alternately (A B A B ...) in one process, so a burst of load from other
processes hits both alike, and the ratio is taken pair by pair; a figure is reported as the
minimum, median and maximum of the repeats.
"""

from __future__ import annotations

import gc
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))


@dataclass
class Spread:
    """Minimum, median and maximum of a figure's repeats."""

    values: list[float]

    @property
    def low(self) -> float:
        return min(self.values)

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    @property
    def high(self) -> float:
        return max(self.values)

    def show(self, scale: float = 1.0, unit: str = "", digits: int = 2) -> str:
        """``median (min-max)`` of the values times ``scale``."""
        m, lo, hi = self.median * scale, self.low * scale, self.high * scale
        return f"{m:.{digits}f}{unit} ({lo:.{digits}f}-{hi:.{digits}f})"


@dataclass
class Row:
    """One line of the table: what was measured, its figure, the target and whether it holds."""

    measure: str
    figure: str
    target: str
    met: bool | None
    detail: str = ""
    spread: Spread | None = field(default=None, repr=False)


def cpu(run: Callable[[], Any]) -> tuple[float, Any]:
    """CPU seconds of ``run()`` (after a collection, with the cyclic GC as the run leaves it)."""
    gc.collect()
    started = time.process_time()
    result = run()
    return time.process_time() - started, result


def interleaved(
    subject: Callable[[], Any], baseline: Callable[[], Any], repeats: int
) -> tuple[Spread, Spread, Spread]:
    """CPU seconds of ``subject`` and ``baseline`` run alternately, and their ratio pair by pair.

    The order alternates too (A B, then B A), so neither always runs on a warmer cache.
    """
    a: list[float] = []
    b: list[float] = []
    for i in range(repeats):
        if i % 2:
            tb, _ = cpu(baseline)
            ta, _ = cpu(subject)
        else:
            ta, _ = cpu(subject)
            tb, _ = cpu(baseline)
        a.append(ta)
        b.append(tb)
    return Spread(a), Spread(b), Spread([x / y for x, y in zip(a, b, strict=True)])


def machine() -> str:
    """One line naming the machine, the Python and the load."""
    try:
        load = "load average " + " ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:  # pragma: no cover - not on every platform
        load = "load unknown"
    return (
        f"{platform.python_implementation()} {platform.python_version()} on "
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, {load}"
    )


def peak_rss_growth(args: Sequence[str], timeout: float = 900.0) -> dict[str, float]:
    """Run ``benchmarks/memory.py *args`` in a fresh process; its printed figures as a dict.

    Call it before the calling process has grown: on Linux the child's ``getrusage`` peak
    starts at the resident size of the process that started it.
    """
    out = subprocess.run(
        [sys.executable, os.path.join(HERE, "memory.py"), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=True,
    ).stdout
    figures: dict[str, float] = {}
    for line in out.splitlines():
        key, _, value = line.partition("=")
        if value:
            figures[key.strip()] = float(value)
    return figures


def print_rows(rows: Sequence[Row]) -> None:
    """The rows as a Markdown table."""
    print("| measure | figure: median (min-max) | target | met |")
    print("| --- | --- | --- | --- |")
    for row in rows:
        met = "n/a" if row.met is None else ("yes" if row.met else "NO")
        print(f"| {row.measure} | {row.figure} | {row.target} | {met} |")
    for row in rows:
        if row.detail:
            print(f"- {row.measure}: {row.detail}")
