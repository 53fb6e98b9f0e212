"""The scenario's parts as plain data: what `load_scenario` reads a scenario file into and
what the world module builds (``invokemodels.simulate._world``).  Plain, frozen data, so a
`Scenario` can be sent to another process (`sweep`).
"""

from __future__ import annotations

from typing import Any

import attrs

__all__ = [
    "Behaviour",
    "FunctionSpec",
    "Load",
    "ProducerSpec",
    "QueueSpec",
    "Scenario",
    "StreamSpec",
]


@attrs.frozen(kw_only=True)
class Behaviour:
    """A built-in function behaviour: ``behaviour = {fail = 0.05, duration = [0.2, 0.8],
    timeout = 0.01}``.

    Attributes:
        fail: the chance that an invocation raises (a function error), 0-1 (default 0).
        timeout: the chance that an invocation runs past the function's timeout
            (``Sandbox.Timedout``), 0-1 (default 0); ``fail + timeout`` is at most 1.
        duration: the run time of an invocation in seconds, drawn uniformly from
            ``(low, high)`` (a single number: always that long; default 0).
        poison: whether an item marked poison by its load (``load.poison``) fails every
            invocation that carries it (default true): a batch with a poison record
            raises, or, when its mapping has ``report_batch_item_failures``, reports the
            poison items in ``batchItemFailures``.
    """

    fail: float = 0.0
    timeout: float = 0.0
    duration: tuple[float, float] = (0.0, 0.0)
    poison: bool = True


@attrs.frozen(kw_only=True)
class FunctionSpec:
    """``[functions.NAME]``: a function, its handler or behaviour and its configuration.

    ``config`` holds the `Function` keyword arguments (``timeout``, ``memory_size``,
    ``reserved_concurrency``); ``event`` the ``[functions.NAME.event]`` table
    (``EventInvokeConfig`` fields and ``dead_letter``), as given.
    """

    name: str
    handler: str | None
    behaviour: Behaviour | None
    config: dict[str, Any] = attrs.field(factory=dict)
    event: dict[str, Any] = attrs.field(factory=dict)


@attrs.frozen(kw_only=True)
class Load:
    """A ``load`` table: arrivals at ``rate`` per second for ``duration`` seconds from
    ``start``, spaced by ``arrivals``, shaped by a ``daily`` curve of 24 hourly factors,
    plus ``bursts`` (``count`` items at ``at``, spread over ``over`` seconds); ``poison``
    lists the 0-based numbers of the items that are poison."""

    rate: float = 0.0
    duration: float = 0.0
    start: float = 0.0
    arrivals: str = "poisson"
    bursts: tuple[tuple[float, int, float], ...] = ()
    daily: tuple[float, ...] | None = None
    poison: frozenset[int] = frozenset()

    @property
    def end(self) -> float:
        """When the last arrival can happen."""
        ends = [self.start + self.duration if self.rate > 0 else self.start]
        ends += [at + over for at, _, over in self.bursts]
        return max(ends)


@attrs.frozen(kw_only=True)
class ProducerSpec:
    """``[producers.NAME]``: a caller invoking ``function`` with ``InvocationType=Event``."""

    name: str
    function: str
    load: Load
    payload: dict[str, Any] = attrs.field(factory=dict)


@attrs.frozen(kw_only=True)
class StreamSpec:
    """``[streams.NAME]``: a Kinesis stream, its partition keys, its mapping and its load."""

    name: str
    shards: int = 1
    retention_hours: int = 24
    partition_keys: tuple[str, ...] = ("key-0",)
    function: str | None = None
    mapping: dict[str, Any] = attrs.field(factory=dict)
    load: Load | None = None


@attrs.frozen(kw_only=True)
class QueueSpec:
    """``[queues.NAME]``: an SQS queue (FIFO when the name ends in ``.fifo``), its redrive
    policy, its mapping and its load."""

    name: str
    config: dict[str, Any] = attrs.field(factory=dict)
    dead_letter: str | None = None
    max_receive_count: int | None = None
    function: str | None = None
    mapping: dict[str, Any] = attrs.field(factory=dict)
    load: Load | None = None
    message_groups: int = 1

    @property
    def fifo(self) -> bool:
        """True for a FIFO queue."""
        return self.name.endswith(".fifo")


@attrs.frozen(kw_only=True)
class Scenario:
    """A validated scenario: what `invokemodels.simulate.run` builds and runs.

    Load one with `load_scenario` (a file, or a mapping of the same shape).  It is plain
    data, so it can be sent to another process (`sweep`).

    Attributes:
        source: the file it was read from (or ``<dict>``), for error messages.
        name: ``name``, the title of the summary and the picture (default: the file's stem).
        seed: ``seed`` (default 0): the seed `run` uses when none is given.
        until: ``until``: stop the clock at this time (seconds); None (default) runs until
            nothing is left to do.
        functions, producers, streams, queues: the tables, in file order.
    """

    source: str
    name: str
    seed: int = 0
    until: float | None = None
    functions: tuple[FunctionSpec, ...] = ()
    producers: tuple[ProducerSpec, ...] = ()
    streams: tuple[StreamSpec, ...] = ()
    queues: tuple[QueueSpec, ...] = ()

    @property
    def end_of_load(self) -> float:
        """When the last load ends (0 with no load)."""
        loads: list[Load] = [p.load for p in self.producers]
        loads += [s.load for s in self.streams if s.load is not None]
        loads += [q.load for q in self.queues if q.load is not None]
        return max((load.end for load in loads), default=0.0)
