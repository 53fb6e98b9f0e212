"""The scenario file: TOML or JSON, read into a validated `Scenario`.

The schema is written down in ``docs/reference/simulate.md``.  Every rule a value breaks
is reported as one `ScenarioError` naming the file, the key path
(``functions.orders.timeout``) and what is expected.  The shapes of the tables are checked
here; AWS's own ranges and rules (``Timeout`` 1-900, a batching window for a batch size
over 10, ...) are checked by the models themselves when `load_scenario` builds the
scenario once (see ``invokemodels.simulate._world``), and reported under the same key path.
"""

from __future__ import annotations

import importlib
import json
import math
import sys
from collections.abc import Mapping, Sequence
from os import PathLike
from pathlib import Path
from typing import Any, Final

from invokemodels.exceptions import ScenarioError, render_value
from invokemodels.simulate._spec import (
    Behaviour,
    FunctionSpec,
    Load,
    ProducerSpec,
    QueueSpec,
    Scenario,
    StreamSpec,
)
from invokemodels.simulate._world import check


def _toml() -> Any:
    """`tomllib` (Python >= 3.11), else the ``tomli`` backport, else None."""
    name = "tomllib" if sys.version_info >= (3, 11) else "tomli"
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError:  # pragma: no cover - Python 3.10 without the extra
        return None


__all__ = ["ARRIVALS", "load_scenario"]

ARRIVALS: Final = ("poisson", "uniform")
"""How a load's arrivals are spaced: ``poisson`` (exponential gaps, the default) or
``uniform`` (every ``1 / rate`` seconds)."""

_TOP: Final = ("name", "seed", "until", "functions", "producers", "streams", "queues")
_FUNCTION: Final = (
    "handler", "behaviour", "timeout", "memory_size", "reserved_concurrency", "event",
)  # fmt: skip
_BEHAVIOUR: Final = ("fail", "timeout", "duration", "poison")
_EVENT_CONFIG: Final = (
    "maximum_retry_attempts", "maximum_event_age", "on_success", "on_failure", "dead_letter",
)  # fmt: skip
_LOAD: Final = ("rate", "duration", "start", "arrivals", "bursts", "daily", "poison")
_BURST: Final = ("at", "count", "over")
_PRODUCER: Final = ("function", "load", "payload")
_STREAM: Final = ("shards", "retention_hours", "partition_keys", "function", "mapping", "load")
_STREAM_MAPPING: Final = (
    "starting_position", "batch_size", "maximum_batching_window", "maximum_retry_attempts",
    "maximum_record_age", "bisect_batch_on_function_error", "parallelization_factor",
    "report_batch_item_failures", "tumbling_window", "on_failure",
)  # fmt: skip
_QUEUE: Final = (
    "visibility_timeout", "message_retention_period", "delay_seconds",
    "content_based_deduplication", "redrive", "function", "mapping", "load", "message_groups",
)  # fmt: skip
_REDRIVE: Final = ("dead_letter", "max_receive_count")
_SQS_MAPPING: Final = (
    "batch_size", "maximum_batching_window", "report_batch_item_failures", "maximum_concurrency",
)  # fmt: skip
# A destination names a queue of the scenario, or a sink of its own kind by prefix.
DESTINATION_PREFIXES: Final = ("sns:", "s3:", "events:")


def _shown(value: Any) -> str:
    return render_value(value)


class _Reader:
    """Reads one table of the scenario, knowing its key path and its file."""

    def __init__(self, source: str, path: str, table: Mapping[str, Any]) -> None:
        self.source = source
        self.path = path
        self.table = table

    def key(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def fail(self, name: str | None, expected: str) -> ScenarioError:
        return ScenarioError(self.source, self.path if name is None else self.key(name), expected)

    def only(self, allowed: Sequence[str]) -> None:
        for name in self.table:
            if name not in allowed:
                raise self.fail(
                    str(name), f"unknown key; expected one of {', '.join(sorted(allowed))}"
                )

    def has(self, name: str) -> bool:
        return name in self.table

    def sub(self, name: str, *, required: bool = False) -> _Reader | None:
        if name not in self.table:
            if required:
                raise self.fail(name, "is required (a table)")
            return None
        value = self.table[name]
        if not isinstance(value, Mapping):
            raise self.fail(name, f"must be a table, got {_shown(value)}")
        return _Reader(self.source, self.key(name), value)

    def tables(self, name: str) -> list[tuple[str, _Reader]]:
        """The named tables under ``name`` (``[functions.orders]`` ...), in file order."""
        reader = self.sub(name)
        if reader is None:
            return []
        out = []
        for child, value in reader.table.items():
            if not isinstance(value, Mapping):
                raise reader.fail(str(child), f"must be a table, got {_shown(value)}")
            out.append((str(child), _Reader(self.source, reader.key(str(child)), value)))
        return out

    def number(
        self,
        name: str,
        default: float | None,
        *,
        low: float = 0.0,
        high: float = math.inf,
        above: bool = False,
        integer: bool = False,
    ) -> Any:
        if name not in self.table:
            return default
        value = self.table[name]
        kind = "an integer" if integer else "a number"
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        if ok and integer and isinstance(value, float):
            ok = value.is_integer()
        if ok:
            ok = math.isfinite(value) and (value > low if above else value >= low) and value <= high
        if not ok:
            bound = f"> {low:g}" if above else f">= {low:g}"
            if high != math.inf:
                bound += f" and <= {high:g}"
            raise self.fail(name, f"must be {kind} {bound}, got {_shown(value)}")
        return int(value) if integer else value

    def probability(self, name: str) -> float:
        return float(self.number(name, 0.0, high=1.0))

    def string(self, name: str, default: str | None = None) -> str | None:
        if name not in self.table:
            return default
        value = self.table[name]
        if not isinstance(value, str) or not value:
            raise self.fail(name, f"must be a non-empty string, got {_shown(value)}")
        return value

    def boolean(self, name: str, default: bool) -> bool:
        if name not in self.table:
            return default
        value = self.table[name]
        if not isinstance(value, bool):
            raise self.fail(name, f"must be true or false, got {_shown(value)}")
        return value

    def raw(self, name: str) -> Any:
        return self.table.get(name)


def load_scenario(
    path: str | PathLike[str] | Mapping[str, Any], *, source: str | None = None
) -> Scenario:
    """Read and validate a scenario: the file at ``path``, TOML (``.toml``) or JSON
    (``.json``), or a mapping of the same shape (the parsed document).

    TOML is read with the standard library's `tomllib` (Python >= 3.11) or the ``tomli``
    backport (3.10; the ``simulate`` extra installs it).  Raises `ScenarioError` naming the
    file (or ``source``, default ``<dict>`` for a mapping), the key path and what is
    expected; the models' own rules are checked too (the scenario is built once, without
    running).
    """
    if isinstance(path, Mapping):
        return _validated(path, "<dict>" if source is None else source)
    file = Path(path)
    source = str(path) if source is None else source
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise ScenarioError(source, "", f"cannot read the file: {exc.strerror or exc}") from None
    suffix = file.suffix.lower()
    if suffix == ".json":
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise ScenarioError(source, "", f"is not valid JSON: {exc}") from None
    elif suffix == ".toml":
        tomllib = _toml()
        if tomllib is None:  # pragma: no cover - Python 3.10 without the extra
            raise ScenarioError(
                source, "", "reading TOML on Python 3.10 needs tomli: pip install "
                "'invokemodels[simulate]' (or use a .json scenario)"
            )  # fmt: skip
        try:
            data = tomllib.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ScenarioError(source, "", f"is not valid TOML: {exc}") from None
    else:
        raise ScenarioError(
            source, "", f"must be a .toml or .json file, got the suffix {suffix or '(none)'!r}"
        )
    if not isinstance(data, dict):
        raise ScenarioError(source, "", f"must hold a table (an object), got {_shown(data)}")
    data.setdefault("name", file.stem)
    return _validated(data, source)


def _validated(data: Mapping[str, Any], source: str) -> Scenario:
    scenario = _parse(data, source)
    check(scenario)
    return scenario


# -- parsing ----------------------------------------------------------------------------------


def _parse(data: Mapping[str, Any], source: str) -> Scenario:
    if not isinstance(data, Mapping):
        raise ScenarioError(source, "", f"must be a table (a mapping), got {_shown(data)}")
    top = _Reader(source, "", data)
    top.only(_TOP)
    functions = tuple(_function(name, reader) for name, reader in top.tables("functions"))
    if not functions:
        raise top.fail("functions", "is required: at least one [functions.NAME] table")
    names = {f.name for f in functions}
    queues = tuple(_queue(name, reader, names) for name, reader in top.tables("queues"))
    queue_names = {q.name for q in queues}
    for queue in queues:
        if queue.dead_letter is not None and queue.dead_letter not in queue_names:
            raise ScenarioError(
                source,
                f"queues.{queue.name}.redrive.dead_letter",
                f"must name a queue of the scenario ({', '.join(sorted(queue_names))}), "
                f"got {queue.dead_letter!r}",
            )
        if queue.dead_letter is not None and queue.dead_letter.endswith(".fifo") != queue.fifo:
            kind = "a FIFO queue" if queue.fifo else "a standard queue"
            raise ScenarioError(
                source,
                f"queues.{queue.name}.redrive.dead_letter",
                f"the dead-letter queue of {kind} must be {kind}, got {queue.dead_letter!r}",
            )
    for _, reader in top.tables("functions"):
        event = reader.sub("event")
        if event is not None:
            for key in ("on_success", "on_failure"):
                _destination(event, key, queue_names)
            target = event.string("dead_letter")
            if target is not None and target not in queue_names and not target.startswith("sns:"):
                raise event.fail(
                    "dead_letter",
                    f"must name a standard queue of the scenario or 'sns:TOPIC', got {target!r}",
                )
    streams = tuple(
        _stream(name, reader, names, queue_names) for name, reader in top.tables("streams")
    )
    producers = tuple(_producer(name, reader, names) for name, reader in top.tables("producers"))
    seed = top.number("seed", 0, integer=True, high=2**63 - 1)
    until = top.number("until", None, above=True)
    name = top.string("name", "scenario")
    assert name is not None
    return Scenario(
        source=source,
        name=name,
        seed=seed,
        until=until,
        functions=functions,
        producers=producers,
        streams=streams,
        queues=queues,
    )


def _function(name: str, reader: _Reader) -> FunctionSpec:
    reader.only(_FUNCTION)
    handler = reader.string("handler")
    if handler is not None and ":" not in handler:
        raise reader.fail("handler", f"must be 'module:attribute', got {handler!r}")
    behaviour = None
    if reader.has("behaviour"):
        if handler is not None:
            raise reader.fail(None, "has both handler and behaviour; give one of them")
        behaviour = _behaviour(reader)
    elif handler is None:
        behaviour = Behaviour()
    config: dict[str, Any] = {}
    for key in ("timeout", "memory_size", "reserved_concurrency"):
        if reader.has(key):
            config[key] = reader.raw(key)
    event = reader.sub("event")
    event_config: dict[str, Any] = {}
    if event is not None:
        event.only(_EVENT_CONFIG)
        event_config = dict(event.table)
    return FunctionSpec(
        name=name, handler=handler, behaviour=behaviour, config=config, event=event_config
    )


def _behaviour(reader: _Reader) -> Behaviour:
    table = reader.sub("behaviour")
    assert table is not None
    table.only(_BEHAVIOUR)
    fail = table.probability("fail")
    timeout = table.probability("timeout")
    if fail + timeout > 1:
        raise table.fail(None, f"fail + timeout must be at most 1, got {fail} + {timeout}")
    duration: tuple[float, float] = (0.0, 0.0)
    raw = table.raw("duration")
    if isinstance(raw, list):
        ok = len(raw) == 2 and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
            for v in raw
        )
        if not ok or not 0 <= raw[0] <= raw[1]:
            raise table.fail(
                "duration", f"must be [low, high] seconds with 0 <= low <= high, got {_shown(raw)}"
            )
        duration = (float(raw[0]), float(raw[1]))
    elif raw is not None:
        seconds = float(table.number("duration", 0.0))
        duration = (seconds, seconds)
    return Behaviour(
        fail=fail, timeout=timeout, duration=duration, poison=table.boolean("poison", True)
    )


def _load(reader: _Reader | None) -> Load | None:
    if reader is None:
        return None
    reader.only(_LOAD)
    rate = float(reader.number("rate", 0.0))
    duration = float(reader.number("duration", 0.0))
    if rate > 0 and duration <= 0:
        raise reader.fail("duration", "is required with a rate: seconds > 0")
    arrivals = reader.string("arrivals", "poisson")
    if arrivals not in ARRIVALS:
        raise reader.fail("arrivals", f"must be one of {', '.join(ARRIVALS)}, got {arrivals!r}")
    bursts = []
    raw = reader.raw("bursts")
    if raw is not None:
        if not isinstance(raw, list):
            raise reader.fail("bursts", f"must be an array of tables, got {_shown(raw)}")
        for index, entry in enumerate(raw):
            if not isinstance(entry, Mapping):
                raise reader.fail(f"bursts[{index}]", f"must be a table, got {_shown(entry)}")
            burst = _Reader(reader.source, reader.key(f"bursts[{index}]"), entry)
            burst.only(_BURST)
            if not burst.has("at") or not burst.has("count"):
                raise burst.fail(None, "needs at (seconds) and count (items)")
            bursts.append(
                (
                    float(burst.number("at", 0.0)),
                    int(burst.number("count", 1, low=1, integer=True, high=10_000_000)),
                    float(burst.number("over", 0.0)),
                )
            )
    daily = None
    raw = reader.raw("daily")
    if raw is not None:
        ok = (
            isinstance(raw, list)
            and len(raw) == 24
            and all(
                isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v < math.inf
                for v in raw
            )
        )
        if not ok:
            raise reader.fail(
                "daily",
                f"must be 24 numbers >= 0 (a factor per hour of the day), got {_shown(raw)}",
            )
        daily = tuple(float(v) for v in raw)
    poison: frozenset[int] = frozenset()
    raw = reader.raw("poison")
    if raw is not None:
        if not isinstance(raw, list) or not all(
            isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in raw
        ):
            raise reader.fail(
                "poison", f"must be an array of item numbers (integers >= 0), got {_shown(raw)}"
            )
        poison = frozenset(raw)
    if rate == 0 and not bursts:
        raise reader.fail(None, "produces nothing: give a rate (and duration) or bursts")
    return Load(
        rate=rate,
        duration=duration,
        start=float(reader.number("start", 0.0)),
        arrivals=arrivals,
        bursts=tuple(sorted(bursts)),
        daily=daily,
        poison=poison,
    )


def _function_ref(reader: _Reader, functions: set[str], *, required: bool) -> str | None:
    name = reader.string("function")
    if name is None:
        if required:
            raise reader.fail("function", "is required: the name of a [functions.NAME] table")
        return None
    if name not in functions:
        raise reader.fail(
            "function",
            f"must name a function of the scenario ({', '.join(sorted(functions))}), got {name!r}",
        )
    return name


def _destination(reader: _Reader, key: str, queues: set[str]) -> None:
    value = reader.string(key)
    if value is None or value in queues or value.startswith(DESTINATION_PREFIXES):
        return
    raise reader.fail(
        key,
        "must name a queue of the scenario or a target 'sns:NAME', 's3:NAME' or "
        f"'events:NAME', got {value!r}",
    )


def _producer(name: str, reader: _Reader, functions: set[str]) -> ProducerSpec:
    reader.only(_PRODUCER)
    function = _function_ref(reader, functions, required=True)
    assert function is not None
    load = _load(reader.sub("load", required=True))
    assert load is not None
    payload = reader.sub("payload")
    return ProducerSpec(
        name=name,
        function=function,
        load=load,
        payload={} if payload is None else dict(payload.table),
    )


def _mapping(
    reader: _Reader, allowed: Sequence[str], queues: set[str] | None, function: str | None
) -> dict[str, Any]:
    table = reader.sub("mapping")
    if table is None:
        return {}
    if function is None:
        raise table.fail(None, "needs a function to map to (function = NAME)")
    table.only(allowed)
    table.boolean("report_batch_item_failures", False)
    if queues is not None:
        _destination(table, "on_failure", queues)
    return dict(table.table)


def _stream(name: str, reader: _Reader, functions: set[str], queues: set[str]) -> StreamSpec:
    reader.only(_STREAM)
    function = _function_ref(reader, functions, required=False)
    keys: tuple[str, ...] = ("key-0",)
    raw = reader.raw("partition_keys")
    if isinstance(raw, list):
        if not raw or not all(isinstance(k, str) and 1 <= len(k) <= 256 for k in raw):
            raise reader.fail(
                "partition_keys",
                f"must be a non-empty array of strings of 1-256 characters, got {_shown(raw)}",
            )
        keys = tuple(raw)
    elif raw is not None:
        count = int(reader.number("partition_keys", 1, low=1, integer=True, high=100_000))
        keys = tuple(f"key-{i}" for i in range(count))
    return StreamSpec(
        name=name,
        shards=reader.raw("shards") if reader.has("shards") else 1,
        retention_hours=reader.raw("retention_hours") if reader.has("retention_hours") else 24,
        partition_keys=keys,
        function=function,
        mapping=_mapping(reader, _STREAM_MAPPING, queues, function),
        load=_load(reader.sub("load")),
    )


def _queue(name: str, reader: _Reader, functions: set[str]) -> QueueSpec:
    reader.only(_QUEUE)
    function = _function_ref(reader, functions, required=False)
    config = {
        key: reader.raw(key)
        for key in (
            "visibility_timeout",
            "message_retention_period",
            "delay_seconds",
            "content_based_deduplication",
        )
        if reader.has(key)
    }
    dead_letter = max_receive = None
    redrive = reader.sub("redrive")
    if redrive is not None:
        redrive.only(_REDRIVE)
        dead_letter = redrive.string("dead_letter")
        if dead_letter is None:
            raise redrive.fail("dead_letter", "is required: the name of the dead-letter queue")
        if dead_letter == name:
            raise redrive.fail("dead_letter", "must be another queue, not the queue itself")
        max_receive = redrive.raw("max_receive_count") if redrive.has("max_receive_count") else 10
    groups = int(reader.number("message_groups", 1, low=1, integer=True, high=100_000))
    if reader.has("message_groups") and not name.endswith(".fifo"):
        raise reader.fail("message_groups", "applies to FIFO queues only (a name ending in .fifo)")
    return QueueSpec(
        name=name,
        config=config,
        dead_letter=dead_letter,
        max_receive_count=max_receive,
        function=function,
        mapping=_mapping(reader, _SQS_MAPPING, None, function),
        load=_load(reader.sub("load")),
        message_groups=groups,
    )
