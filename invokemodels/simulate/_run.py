"""`run` one seed of a scenario; `sweep` many seeds through a `concurrent.futures.Executor`."""

from __future__ import annotations

import multiprocessing
import multiprocessing.context
import os
from collections.abc import Callable, Iterable
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

import attrs

from invokemodels.exceptions import InvalidParameterValueError
from invokemodels.observe._metrics import Metrics
from invokemodels.observe._timeline import Timeline
from invokemodels.simulate._spec import Scenario
from invokemodels.simulate._summary import Summary, SweepSummary
from invokemodels.simulate._world import Progress, World, build

__all__ = ["Result", "run", "run_summary", "sweep"]


def _check_seed(seed: Any) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**63:
        raise InvalidParameterValueError("seed", seed, "must be an integer 0 <= seed < 2**63")
    return seed


@attrs.frozen(repr=False)
class Result:
    """One run of a scenario: its `Summary`, its `Timeline` and the models it ran.

    Attributes:
        summary: the `Summary` (what the CLI prints).
        timeline: the `Timeline` of every try and fate (see `invokemodels.observe`).
        world: the models on their scheduler, for questions the summary does not answer
            (``world.functions``, ``world.invokers``, ``world.queues``, ``world.streams``,
            ``world.mappings`` keyed ``"streams.NAME"`` / ``"queues.NAME"``).
    """

    summary: Summary
    timeline: Timeline
    world: World

    def __repr__(self) -> str:
        return f"<Result {self.summary.scenario} seed={self.summary.seed} {self.timeline!r}>"

    def metrics(self, period: float = 60) -> Metrics:
        """Lambda's and SQS's CloudWatch metrics of the run per ``period`` seconds."""
        return self.timeline.metrics(period)

    def write_trace(self, path: str | os.PathLike[str]) -> None:
        """Write the Chrome trace (open it in Perfetto); the same seed writes the same bytes."""
        self.timeline.write_chrome_trace(path)

    def write_metrics(self, path: str | os.PathLike[str], *, period: float = 60) -> None:
        """Write the metrics as CSV (a ``.csv`` path) or JSON (``.json``)."""
        suffix = Path(path).suffix.lower()
        if suffix not in (".csv", ".json"):
            raise InvalidParameterValueError(
                "path", str(path), "must end in .csv or .json (the metrics' format)"
            )
        metrics = self.metrics(period)
        text = metrics.to_csv() if suffix == ".csv" else metrics.to_json() + "\n"
        Path(path).write_text(text, encoding="utf-8")

    def write_svg(self, path: str | os.PathLike[str], *, title: str | None = None) -> None:
        """Write the SVG picture: concurrency, queue depth, dwell time / iterator age and
        outcomes over time (title: the scenario's name)."""
        self.timeline.write_svg(path, title=title or self.summary.scenario)


def run(scenario: Scenario, *, seed: int | None = None, progress: Progress | None = None) -> Result:
    """Run ``scenario`` on a virtual clock and return its `Result`.

    Args:
        scenario: from `load_scenario` (a file or a mapping).
        seed: the seed of this run (default: the scenario's ``seed``); the same seed gives
            the same summary, timeline and trace, byte for byte.
        progress: called as ``progress(now, end_of_load)`` a hundred times while the load
            runs (the CLI draws its progress bar with it).
    """
    if not isinstance(scenario, Scenario):
        raise InvalidParameterValueError("scenario", scenario, "must be a Scenario")
    chosen = scenario.seed if seed is None else _check_seed(seed)
    world = build(scenario, chosen)
    world.run(progress)
    timeline = world.timeline()
    return Result(world.summary(timeline), timeline, world)


def run_summary(scenario: Scenario, seed: int) -> Summary:
    """``run(scenario, seed=seed).summary``: the function a `sweep` sends to its executor
    (a module-level function, so a process or a cluster can import it)."""
    world = build(scenario, _check_seed(seed))
    world.run()
    return world.summary()


def sweep(
    scenario: Scenario,
    seeds: Iterable[int],
    *,
    executor: Executor | None = None,
    workers: int | None = None,
    on_done: Callable[[Summary], object] | None = None,
) -> SweepSummary:
    """Run ``scenario`` once per seed and gather the distribution (`SweepSummary`).

    Each run is ``executor.submit(run_summary, scenario, seed)``; the `Summary` objects come
    back in the order of ``seeds``, whichever run ends first.

    Args:
        seeds: the seeds (``range(1, 101)``).
        executor: any `concurrent.futures.Executor`: a `ProcessPoolExecutor`, a
            `ThreadPoolExecutor`, Dask's ``Client.get_executor()``, ... (default: a new
            `ProcessPoolExecutor` of ``workers`` processes, started with ``forkserver``
            where there is one, else ``spawn``, and shut down at the end).  A
            given executor is left running.
        workers: processes of the default executor (default: ``os.cpu_count()``); not
            allowed with ``executor``.
        on_done: called with each `Summary` as its run ends (the CLI counts them).
    """
    if not isinstance(scenario, Scenario):
        raise InvalidParameterValueError("scenario", scenario, "must be a Scenario")
    chosen = [_check_seed(seed) for seed in seeds]
    if not chosen:
        raise InvalidParameterValueError("seeds", chosen, "must hold at least one seed")
    if workers is not None:
        if executor is not None:
            raise InvalidParameterValueError(
                "workers", workers, "is for the default executor; not allowed with executor"
            )
        if isinstance(workers, bool) or not isinstance(workers, int) or not 1 <= workers <= 1024:
            raise InvalidParameterValueError("workers", workers, "must be an integer 1-1024")
    if executor is not None:
        if not callable(getattr(executor, "submit", None)):
            raise InvalidParameterValueError(
                "executor", executor, "must be a concurrent.futures.Executor (with submit)"
            )
        return _gather(executor, scenario, chosen, on_done)
    with ProcessPoolExecutor(max_workers=workers, mp_context=_process_context()) as pool:
        return _gather(pool, scenario, chosen, on_done)


def _process_context() -> multiprocessing.context.BaseContext:
    # Not fork: forking a process that runs threads can deadlock the child (Python 3.12
    # warns about it); forkserver where there is one, as Python 3.14 does by default.
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


def _gather(
    executor: Executor,
    scenario: Scenario,
    seeds: list[int],
    on_done: Callable[[Summary], object] | None,
) -> SweepSummary:
    futures = [executor.submit(run_summary, scenario, seed) for seed in seeds]
    if on_done is not None:
        for future in as_completed(futures):
            on_done(future.result())
    return SweepSummary(tuple(future.result() for future in futures))
