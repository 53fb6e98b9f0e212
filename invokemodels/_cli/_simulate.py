"""``invokemodels simulate SCENARIO``: run a scenario file on a virtual clock.

One seed (``--seed N``, default the scenario's) prints the run's summary and writes the
trace (``--trace``), the metrics (``--metrics F.csv`` or ``F.json``) and the picture
(``--plot F.svg``) on request; ``--seeds A..B`` runs every seed from A to B in worker
processes (``--workers N``) and prints the distribution.  A progress bar goes to standard
error when it is a terminal (tqdm's when the ``simulate`` extra is installed, else a
plain line).  A bad scenario is one line naming the file, the key and what is expected,
exit status 2.  A run that lost an item (a defect of the models) is exit status 1.
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import re
from typing import Any, TextIO

from invokemodels.exceptions import InvalidParameterValueError
from invokemodels.simulate import Summary, load_scenario, run, sweep

__all__ = ["add_parser", "parse_seeds", "run_command"]

_SEEDS = re.compile(r"^(\d+)\.\.(\d+)$")
_MAX_SEEDS = 1_000_000


def add_parser(commands: Any) -> None:
    """Register ``simulate`` with the CLI's subcommands."""
    simulate = commands.add_parser(
        "simulate",
        help="run a scenario file (functions, sources, load) on a virtual clock",
        description=(
            "Run a scenario file (TOML or JSON: functions, their configurations, their "
            "sources and the load) on a virtual clock and print what happened."
        ),
    )
    simulate.add_argument("scenario", metavar="SCENARIO", help="a .toml or .json scenario file")
    seeds = simulate.add_mutually_exclusive_group()
    seeds.add_argument("--seed", type=int, metavar="N", help="the seed (the scenario's seed)")
    seeds.add_argument(
        "--seeds", metavar="A..B", help="run every seed from A to B and print the distribution"
    )
    simulate.add_argument(
        "--workers", type=int, metavar="N", help="--seeds: worker processes (the CPU count)"
    )
    simulate.add_argument("--trace", metavar="F", help="write the Chrome trace JSON to F")
    simulate.add_argument(
        "--metrics", metavar="F", help="write the CloudWatch metrics to F (.csv or .json)"
    )
    simulate.add_argument(
        "--period",
        type=float,
        default=60.0,
        metavar="S",
        help="--metrics: seconds per datapoint (60)",
    )
    simulate.add_argument("--plot", metavar="F", help="write the SVG picture to F")
    simulate.add_argument(
        "--json", action="store_true", help="print the summary as JSON instead of text"
    )
    simulate.add_argument(
        "--no-progress", action="store_true", help="no progress bar on standard error"
    )


def parse_seeds(text: str) -> range:
    """``"A..B"`` as ``range(A, B + 1)``."""
    match = _SEEDS.match(text)
    if match is None:
        raise InvalidParameterValueError("--seeds", text, "must be A..B, two integers, A <= B")
    low, high = int(match.group(1)), int(match.group(2))
    if low > high or high - low + 1 > _MAX_SEEDS or high >= 2**63:
        raise InvalidParameterValueError(
            "--seeds", text, f"must be A..B with A <= B, at most {_MAX_SEEDS} seeds below 2**63"
        )
    return range(low, high + 1)


class _Bar:
    """A progress bar on a terminal: tqdm's when installed, else one rewritten line."""

    def __init__(self, stream: TextIO, total: float, unit: str, label: str) -> None:
        self.stream = stream
        self.total = total
        self.unit = unit
        self.label = label
        self.done = 0.0
        self.tqdm: Any = None
        try:
            tqdm = importlib.import_module("tqdm").tqdm
        except ImportError:
            tqdm = None
        if tqdm is not None:
            self.tqdm = tqdm(
                total=math.ceil(total), unit=unit, desc=label, file=stream, leave=False
            )

    def to(self, done: float) -> None:
        if self.tqdm is not None:
            self.tqdm.update(math.ceil(done) - math.ceil(self.done))
        else:
            share = 100 * done / self.total if self.total else 100
            self.stream.write(
                f"\r{self.label}: {done:.0f}/{self.total:.0f} {self.unit} ({share:.0f}%)"
            )
            self.stream.flush()
        self.done = done

    def close(self) -> None:
        if self.tqdm is not None:
            self.tqdm.close()
        else:
            self.stream.write("\r\x1b[K")
            self.stream.flush()


def _bar(args: argparse.Namespace, stderr: TextIO, total: float, unit: str, label: str) -> Any:
    if args.no_progress or total <= 0:
        return None
    try:
        terminal = stderr.isatty()
    except (AttributeError, ValueError):
        terminal = False
    return _Bar(stderr, total, unit, label) if terminal else None


def _check_outputs(args: argparse.Namespace) -> None:
    if args.metrics is not None and not args.metrics.lower().endswith((".csv", ".json")):
        raise InvalidParameterValueError(
            "--metrics", args.metrics, "must end in .csv or .json (the metrics' format)"
        )
    if not args.period > 0 or args.period == float("inf"):
        raise InvalidParameterValueError("--period", args.period, "must be seconds > 0")
    if args.seeds is not None:
        for option in ("trace", "metrics", "plot"):
            if getattr(args, option) is not None:
                raise InvalidParameterValueError(
                    f"--{option}", getattr(args, option), "needs a single seed, not --seeds"
                )
    elif args.workers is not None:
        raise InvalidParameterValueError("--workers", args.workers, "is for --seeds only")
    if args.workers is not None and not 1 <= args.workers <= 1024:
        raise InvalidParameterValueError("--workers", args.workers, "must be 1-1024")


def _write(option: str, path: str, write: Any) -> None:
    try:
        write(path)
    except OSError as exc:
        raise InvalidParameterValueError(
            option, path, f"cannot be written: {exc.strerror or exc}"
        ) from None


def run_command(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    """Run ``invokemodels simulate``; returns the exit status."""
    _check_outputs(args)
    seeds = parse_seeds(args.seeds) if args.seeds is not None else None
    scenario = load_scenario(args.scenario)
    if seeds is not None:
        bar = _bar(args, stderr, len(seeds), "runs", scenario.name)
        finished = 0

        def done(summary: Summary) -> None:
            nonlocal finished
            finished += 1
            if bar is not None:
                bar.to(finished)

        try:
            result = sweep(scenario, seeds, workers=args.workers, on_done=done)
        finally:
            if bar is not None:
                bar.close()
        if args.json:
            stdout.write(
                json.dumps([s.to_dict() for s in result.summaries], indent=1, sort_keys=True) + "\n"
            )
        else:
            stdout.write(result.text())
        lost = result.lost
    else:
        bar = _bar(args, stderr, scenario.end_of_load, "s", scenario.name)
        try:
            outcome = run(
                scenario,
                seed=args.seed,
                progress=None if bar is None else (lambda now, _end: bar.to(now)),
            )
        finally:
            if bar is not None:
                bar.close()
        if args.trace is not None:
            _write("--trace", args.trace, outcome.write_trace)
        if args.metrics is not None:
            _write(
                "--metrics", args.metrics, lambda p: outcome.write_metrics(p, period=args.period)
            )
        if args.plot is not None:
            _write("--plot", args.plot, outcome.write_svg)
        summary = outcome.summary
        if args.json:
            stdout.write(json.dumps(summary.to_dict(), indent=1, sort_keys=True) + "\n")
        else:
            stdout.write(summary.text())
        lost = summary.lost
    if lost:
        stderr.write(f"invokemodels: error: {lost} items lost (a defect of the models)\n")
        return 1
    return 0
