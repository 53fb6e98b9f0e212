"""Run a day of traffic through a configuration in seconds: a scenario file (TOML or JSON)
names functions, their configurations, their sources and the load; `run` plays it on a
virtual clock and says what happened; `sweep` plays it for many seeds.

Example::

    from invokemodels.simulate import load_scenario, run, sweep

    scenario = load_scenario("examples/stream-poison.toml")
    result = run(scenario, seed=1)
    print(result.summary.text())
    result.write_trace("trace.json")  # open in ui.perfetto.dev
    print(sweep(scenario, range(1, 21), workers=4).text())

The schema, the command line (``invokemodels simulate``) and how to hand a sweep to Dask
are in ``docs/reference/simulate.md``.
"""

from __future__ import annotations

from invokemodels.simulate._run import Result, run, run_summary, sweep
from invokemodels.simulate._schema import ARRIVALS, load_scenario
from invokemodels.simulate._spec import (
    Behaviour,
    FunctionSpec,
    Load,
    ProducerSpec,
    QueueSpec,
    Scenario,
    StreamSpec,
)
from invokemodels.simulate._summary import (
    FunctionSummary,
    Latency,
    SourceSummary,
    Summary,
    SweepSummary,
)
from invokemodels.simulate._world import World

__all__ = [
    "ARRIVALS",
    "Behaviour",
    "FunctionSpec",
    "FunctionSummary",
    "Latency",
    "Load",
    "ProducerSpec",
    "QueueSpec",
    "Result",
    "Scenario",
    "SourceSummary",
    "StreamSpec",
    "Summary",
    "SweepSummary",
    "World",
    "load_scenario",
    "run",
    "run_summary",
    "sweep",
]
