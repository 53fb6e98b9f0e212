"""A scenario built into models on one scheduler, its load, and its run.

`build` makes the functions, Event invokers, queues, streams and mappings of a `Scenario`
on one `Scheduler` and one `History`; the load generators put each item in at its time
(one scheduled arrival at a time, so memory follows the items in flight, not the load);
`World.run` runs the clock; `World.summary` reads what happened.
"""

from __future__ import annotations

import base64
import hashlib
import heapq
import json
import math
import random
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import attrs

from invokemodels.aws._eventbridge import EventBus
from invokemodels.aws._kinesis import KinesisStream
from invokemodels.aws._s3 import Bucket
from invokemodels.aws._sns import Topic
from invokemodels.aws._sqs import MessageState, Queue, RedrivePolicy
from invokemodels.core._context import LambdaContext
from invokemodels.core._function import Function, load_handler
from invokemodels.core._history import History, Model
from invokemodels.core._scheduler import Scheduler
from invokemodels.event._invoker import EventInvoker, EventOutcomeKind
from invokemodels.event._policy import EventInvokeConfig
from invokemodels.exceptions import (
    HandlerImportError,
    InvalidParameterValueError,
    InvocationError,
    ScenarioError,
    render_value,
)
from invokemodels.mapping._loop import EventSourceMapping
from invokemodels.mapping._sqs import SQSMappingConfig
from invokemodels.mapping._stream_config import StreamMappingConfig
from invokemodels.mapping._streams import StreamPoller
from invokemodels.observe._marks import is_stream_batch
from invokemodels.observe._timeline import Timeline
from invokemodels.simulate._spec import Behaviour, Load, Scenario
from invokemodels.simulate._summary import (
    FunctionSummary,
    Latency,
    SourceSummary,
    Summary,
)

__all__ = ["Progress", "World", "build", "check"]

Progress = Callable[[float, float], object]
"""Called as ``progress(now, end_of_load)`` while the load runs (clock seconds)."""

# AWS parameter names (as the models report them) -> the scenario's keys.
_FUNCTION_KEYS = {
    "Timeout": "timeout",
    "MemorySize": "memory_size",
    "ReservedConcurrentExecutions": "reserved_concurrency",
}
_EVENT_KEYS = {
    "MaximumRetryAttempts": "maximum_retry_attempts",
    "MaximumEventAgeInSeconds": "maximum_event_age",
    "DestinationConfig.OnSuccess": "on_success",
    "DestinationConfig.OnFailure": "on_failure",
    "DeadLetterConfig": "dead_letter",
}
_STREAM_KEYS = {"ShardCount": "shards", "RetentionPeriodHours": "retention_hours"}
_STREAM_MAPPING_KEYS = {
    "StartingPosition": "starting_position",
    "BatchSize": "batch_size",
    "MaximumBatchingWindowInSeconds": "maximum_batching_window",
    "MaximumRetryAttempts": "maximum_retry_attempts",
    "MaximumRecordAgeInSeconds": "maximum_record_age",
    "BisectBatchOnFunctionError": "bisect_batch_on_function_error",
    "ParallelizationFactor": "parallelization_factor",
    "TumblingWindowInSeconds": "tumbling_window",
    "FunctionResponseTypes": "report_batch_item_failures",
    "DestinationConfig.OnFailure": "on_failure",
}
_QUEUE_KEYS = {
    "VisibilityTimeout": "visibility_timeout",
    "MessageRetentionPeriod": "message_retention_period",
    "DelaySeconds": "delay_seconds",
    "ContentBasedDeduplication": "content_based_deduplication",
    "RedrivePolicy.maxReceiveCount": "redrive.max_receive_count",
    "RedrivePolicy": "redrive.dead_letter",
}
_SQS_MAPPING_KEYS = {
    "BatchSize": "batch_size",
    "MaximumBatchingWindowInSeconds": "maximum_batching_window",
    "FunctionResponseTypes": "report_batch_item_failures",
    "ScalingConfig.MaximumConcurrency": "maximum_concurrency",
}
_PARTIAL = ("ReportBatchItemFailures",)


def derive_seed(seed: int, label: str) -> int:
    """A 64-bit seed for the part ``label`` of a run with ``seed`` (the same in every
    process: `hash` of a string is not)."""
    digest = hashlib.sha256(f"{seed}/{label}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


@contextmanager
def _guard(source: str, path: str, keys: Mapping[str, str]) -> Iterator[None]:
    """Report a model's refusal of a value as a `ScenarioError` at the scenario's key."""
    try:
        yield
    except InvalidParameterValueError as exc:
        parameter = str(exc.parameter)
        key = keys.get(parameter)
        if key is None:
            key = next((k for p, k in keys.items() if parameter.startswith(p)), None)
        where = f"{path}.{key}" if key else path
        raise ScenarioError(
            source, where, f"{exc.allowed} ({parameter}, got {render_value(exc.value)})"
        ) from None
    except (TypeError, ValueError) as exc:
        raise ScenarioError(source, path, str(exc)) from None


# -- the built-in behaviour -------------------------------------------------------------------


def _items(event: Any) -> list[tuple[str | None, Any]]:
    """``(item identifier, decoded body)`` of each record of a batch, or the event itself."""
    records = event.get("Records") if isinstance(event, dict) else None
    if not isinstance(records, list):
        return [(None, event)]
    items: list[tuple[str | None, Any]] = []
    for record in records:
        body: Any = None
        ident: str | None = None
        try:
            if "kinesis" in record:
                ident = record["kinesis"]["sequenceNumber"]
                body = json.loads(base64.b64decode(record["kinesis"]["data"]))
            else:
                ident = record.get("messageId")
                body = json.loads(record.get("body", "null"))
        except (ValueError, TypeError, KeyError):
            body = None
        items.append((ident, body))
    return items


class _Behaviour:
    """The handler of a function given as ``behaviour = {...}`` (see `Behaviour`)."""

    def __init__(self, spec: Behaviour, rng: random.Random, timeout: float, partial: bool) -> None:
        self.spec = spec
        self.rng = rng
        self.timeout = timeout
        self.partial = partial
        self.calls = 0

    def __call__(self, event: Any, context: LambdaContext) -> Any:
        self.calls += 1
        spec = self.spec
        low, high = spec.duration
        seconds = low if low == high else self.rng.uniform(low, high)
        roll = self.rng.random()
        if roll < spec.timeout:
            context.spend(self.timeout + 1.0)  # past the timeout: Sandbox.Timedout
            return None
        context.spend(seconds)
        if roll < spec.timeout + spec.fail:
            msg = "simulated failure"
            raise RuntimeError(msg)
        if spec.poison:
            items = _items(event)
            poisoned = [
                ident for ident, body in items if isinstance(body, dict) and body.get("poison")
            ]
            if poisoned:
                if self.partial and poisoned[0] is not None:
                    return {"batchItemFailures": [{"itemIdentifier": i} for i in poisoned]}
                msg = f"poison item {poisoned[0] or ''}".rstrip()
                raise ValueError(msg)
        return None


class _Counted:
    """A handler from ``module:attribute``, counting its calls."""

    def __init__(self, handler: Callable[[Any, Any], Any]) -> None:
        self.handler = handler
        self.calls = 0

    def __call__(self, event: Any, context: LambdaContext) -> Any:
        self.calls += 1
        return self.handler(event, context)


# -- the load ---------------------------------------------------------------------------------


def _steady(load: Load, rng: random.Random) -> Iterator[float]:
    rate, start = load.rate, load.start
    end = start + load.duration
    daily = load.daily
    if daily is None and load.arrivals == "uniform":
        count = math.ceil(load.duration * rate - 1e-9)
        for k in range(count):
            yield start + k / rate
        return
    poisson = load.arrivals == "poisson"
    now = start
    while now < end:
        if daily is None:
            factor, boundary = 1.0, end
        else:
            factor = daily[int(now % 86400 // 3600)]
            boundary = min(end, (now // 3600 + 1) * 3600)
        current = rate * factor
        if current <= 0:
            now = boundary
            continue
        gap = rng.expovariate(current) if poisson else 1.0 / current
        if now + gap >= boundary:
            now = boundary  # exponential gaps are memoryless: start again at the boundary
            continue
        now += gap
        yield now


def _burst(at: float, count: int, over: float) -> Iterator[float]:
    for k in range(count):
        yield at + over * k / count


def arrivals(load: Load, rng: random.Random) -> Iterator[float]:
    """The arrival times of ``load``, in order."""
    parts = [_steady(load, rng)] if load.rate > 0 else []
    parts += [_burst(at, count, over) for at, count, over in load.bursts]
    return heapq.merge(*parts)


class _Feeder:
    """Puts the items of one load in at their times, one scheduled arrival at a time."""

    def __init__(
        self,
        scheduler: Scheduler,
        load: Load,
        rng: random.Random,
        emit: Callable[[int, bool], None],
    ) -> None:
        self.scheduler = scheduler
        self.load = load
        self.times = arrivals(load, rng)
        self.emit = emit
        self.index = 0

    def start(self) -> None:
        self._next()

    def _next(self) -> None:
        when = next(self.times, None)
        if when is not None:
            self.scheduler.at(when, self._fire)

    def _fire(self) -> None:
        index = self.index
        self.index += 1
        self.emit(index, index in self.load.poison)
        self._next()


@attrs.define(eq=False)
class _Source:
    """One load's items: when each went in (by id), and what was refused."""

    name: str
    kind: str
    function: str | None
    produced: dict[str, float] = attrs.field(factory=dict)
    refused: int = 0


# -- the world --------------------------------------------------------------------------------


@attrs.define(eq=False, repr=False)
class World:
    """The models of one scenario on one scheduler (see `build`)."""

    scenario: Scenario
    seed: int
    scheduler: Scheduler
    history: History
    functions: dict[str, Function] = attrs.field(factory=dict)
    handlers: dict[str, _Behaviour | _Counted] = attrs.field(factory=dict)
    invokers: dict[str, EventInvoker] = attrs.field(factory=dict)
    queues: dict[str, Queue] = attrs.field(factory=dict)
    streams: dict[str, KinesisStream] = attrs.field(factory=dict)
    mappings: dict[str, EventSourceMapping[Any]] = attrs.field(factory=dict)
    targets: dict[str, Topic | Bucket | EventBus] = attrs.field(factory=dict)
    sources: list[_Source] = attrs.field(factory=list)
    feeders: list[_Feeder] = attrs.field(factory=list)
    stopped_early: bool = False

    def __repr__(self) -> str:
        return (
            f"<World {self.scenario.name} seed={self.seed} now={self.scheduler.now:g} "
            f"functions={len(self.functions)} sources={len(self.sources)}>"
        )

    def calls(self, function: str) -> int:
        """How many times the handler of ``function`` was called."""
        return self.handlers[function].calls

    def timeline(self) -> Timeline:
        """The run's timeline, with every invoker's, mapping's and queue's marks."""
        sources: list[object] = [*self.invokers.values(), *self.mappings.values()]
        sources += list(self.queues.values())
        return Timeline.from_history(self.history, sources=sources)

    def run(self, progress: Progress | None = None) -> None:
        """Start the load and run the clock: through the load (calling ``progress``), then
        until nothing is left to do, or until the scenario's ``until``."""
        for feeder in self.feeders:
            feeder.start()
        scheduler = self.scheduler
        end = self.scenario.end_of_load
        until = self.scenario.until
        stop = end if until is None else min(end, until)
        if progress is not None and stop > 0:
            step = stop / 100
            now = 0.0
            while now < stop:
                now = min(stop, now + step)
                scheduler.run(until=now)
                progress(now, stop)
        if until is None:
            scheduler.run_until_idle()
        else:
            scheduler.run(until=until)
            self.stopped_early = scheduler.next_due() is not None

    # -- the summary ----------------------------------------------------------------------------

    def summary(self, timeline: Timeline | None = None) -> Summary:
        """What happened, as a `Summary` (plain data)."""
        timeline = self.timeline() if timeline is None else timeline
        sources = tuple(self._source_summary(source) for source in self.sources)
        functions = tuple(self._function_summary(name, timeline) for name in sorted(self.functions))
        queues = tuple(
            (
                name,
                tuple(
                    (state.value, count)
                    for state, count in queue.counts().items()
                    if count and state in _LIVE
                ),
            )
            for name, queue in sorted(self.queues.items())
        )
        targets = tuple((ref, _delivered(target)) for ref, target in sorted(self.targets.items()))
        return Summary(
            scenario=self.scenario.name,
            seed=self.seed,
            end_of_load=self.scenario.end_of_load,
            clock=round(self.scheduler.now, 6),
            stopped_early=self.stopped_early,
            sources=sources,
            functions=functions,
            queues=queues,
            targets=targets,
        )

    def _source_summary(self, source: _Source) -> SourceSummary:
        ended: dict[str, int] = {}
        delivered: dict[str, int] = {}
        latencies: list[float] = []
        waiting = 0
        not_ended = 0
        if source.kind == "event":
            assert source.function is not None
            invoker = self.invokers[source.function]
            for rid, at in source.produced.items():
                try:
                    outcome = invoker.outcome(rid)
                except KeyError:  # no outcome: not ended
                    not_ended += 1
                    continue
                label = (
                    "succeeded"
                    if outcome.kind is EventOutcomeKind.SUCCEEDED
                    else f"dropped ({outcome.condition})"
                )
                ended[label] = ended.get(label, 0) + 1
                latencies.append(outcome.ended_at - at)
                config = invoker.config
                target = config.on_success if outcome.succeeded else config.on_failure
                failed = outcome.delivery_errors
                if target is not None:
                    label = (
                        "on-success destination" if outcome.succeeded else "on-failure destination"
                    )
                    if any(e.startswith("destination: ") for e in failed):
                        label += " (failed)"
                    delivered[label] = delivered.get(label, 0) + 1
                if invoker.dead_letter is not None and not outcome.succeeded:
                    label = "dead-letter queue"
                    if any(e.startswith("dead-letter: ") for e in failed):
                        label += " (failed)"
                    delivered[label] = delivered.get(label, 0) + 1
        elif source.kind == "kinesis":
            mapping = self.mappings.get(f"streams.{source.name}")
            fates: dict[str, Any] = {}
            target = None
            if mapping is not None:
                poller = mapping.poller
                assert isinstance(poller, StreamPoller)
                fates = {o.sequence_number: o for o in poller.outcomes}
                target = poller.config.on_failure
            for seq, at in source.produced.items():
                record = fates.get(seq)
                if record is None:
                    if mapping is None:
                        waiting += 1
                    else:
                        not_ended += 1
                    continue
                label = record.fate.value
                if record.condition:
                    label += f" ({record.condition})"
                ended[label] = ended.get(label, 0) + 1
                latencies.append(record.at - at)
                if record.fate.value == "discarded" and target is not None:
                    delivered["on-failure destination"] = (
                        delivered.get("on-failure destination", 0) + 1
                    )
        else:
            queue = self.queues[source.name]
            consumed = f"queues.{source.name}" in self.mappings
            for message_id, at in source.produced.items():
                fate = queue.fate(message_id)
                if fate is None:
                    if consumed:
                        not_ended += 1
                    else:
                        waiting += 1
                    continue
                label = fate.kind
                ended[label] = ended.get(label, 0) + 1
                latencies.append(fate.at - at)
        in_flight = not_ended if self.stopped_early else 0
        lost = 0 if self.stopped_early else not_ended
        return SourceSummary(
            name=source.name,
            kind=source.kind,
            function=source.function,
            produced=len(source.produced),
            refused=source.refused,
            ended=tuple(sorted(ended.items())),
            delivered=tuple(sorted(delivered.items())),
            waiting=waiting,
            in_flight=in_flight,
            lost=lost,
            latency=Latency.of(latencies),
        )

    def _function_summary(self, name: str, timeline: Timeline) -> FunctionSummary:
        tries: dict[str, int] = {}
        executions = retries = concurrency = 0
        event_age = iterator_age = message_age = 0.0
        for span in timeline.spans:
            if span.function != name:
                continue
            tries[span.outcome.value] = tries.get(span.outcome.value, 0) + 1
            if span.attempt > 1:
                retries += 1
            if not span.ran:
                continue
            executions += 1
            concurrency = max(concurrency, span.in_flight or 0)
            if span.model is Model.EVENT:
                event_age = max(event_age, span.dwell_time)
            elif is_stream_batch(span):
                iterator_age = max(iterator_age, span.dwell_time)
            elif span.model is Model.EVENT_SOURCE_MAPPING:
                message_age = max(message_age, span.dwell_time)
        return FunctionSummary(
            name=name,
            tries=tuple(sorted(tries.items())),
            executions=executions,
            handler_calls=self.calls(name),
            retries=retries,
            max_concurrency=concurrency,
            max_event_age=round(event_age, 6),
            max_iterator_age=round(iterator_age, 6),
            max_message_age=round(message_age, 6),
        )


_LIVE = frozenset({MessageState.DELAYED, MessageState.VISIBLE, MessageState.IN_FLIGHT})


def _delivered(target: Topic | Bucket | EventBus) -> int:
    if isinstance(target, Topic):
        return len(target.messages)
    if isinstance(target, Bucket):
        return len(target.objects)
    return len(target.events)


# -- building ---------------------------------------------------------------------------------


def check(scenario: Scenario) -> None:
    """Build ``scenario`` once without running it: the models check their own rules
    (reported as `ScenarioError` at the scenario's key)."""
    build(scenario, scenario.seed)


def build(scenario: Scenario, seed: int, *, keep: bool = True) -> World:
    """The models of ``scenario`` for ``seed`` on a new virtual scheduler, load ready."""
    source = scenario.source
    scheduler = Scheduler()
    world = World(scenario, seed, scheduler, History(keep=keep))
    partial = _partial_functions(scenario)

    for spec in scenario.functions:
        path = f"functions.{spec.name}"
        handler: _Behaviour | _Counted
        timeout = spec.config.get("timeout", 3)
        if spec.handler is not None:
            try:
                loaded = load_handler(spec.handler)
            except HandlerImportError as exc:
                raise ScenarioError(
                    source, f"{path}.handler", f"cannot be loaded: {exc.error_type}: {exc.message}"
                ) from None
            handler = _Counted(loaded)
        else:
            assert spec.behaviour is not None
            rng = random.Random(derive_seed(seed, f"behaviour/{spec.name}"))
            number = timeout if isinstance(timeout, (int, float)) else 3
            handler = _Behaviour(spec.behaviour, rng, float(number), spec.name in partial)
        with _guard(source, path, _FUNCTION_KEYS):
            world.functions[spec.name] = Function(spec.name, handler, **spec.config)
        world.handlers[spec.name] = handler

    _build_queues(world)

    for spec in scenario.functions:
        if not any(p.function == spec.name for p in scenario.producers):
            if spec.event:
                _event_config(world, spec.name, spec.event)  # checked even when unused
            continue
        config = _event_config(world, spec.name, spec.event)
        dead_letter = None
        ref = spec.event.get("dead_letter")
        if ref is not None:
            dead_letter = _target(world, ref)
        path = f"functions.{spec.name}.event"
        with _guard(source, path, _EVENT_KEYS):
            world.invokers[spec.name] = EventInvoker(
                world.functions[spec.name],
                config,
                dead_letter=dead_letter,
                scheduler=scheduler,
                seed=derive_seed(seed, f"event/{spec.name}"),
                history=world.history,
            )

    for stream_spec in scenario.streams:
        path = f"streams.{stream_spec.name}"
        with _guard(source, path, _STREAM_KEYS):
            stream = KinesisStream(
                stream_spec.name,
                shard_count=stream_spec.shards,
                retention_period_hours=stream_spec.retention_hours,
                scheduler=scheduler,
            )
        world.streams[stream_spec.name] = stream
        if stream_spec.function is not None:
            kwargs = dict(stream_spec.mapping)
            kwargs.setdefault("starting_position", "TRIM_HORIZON")
            if kwargs.pop("report_batch_item_failures", False):
                kwargs["function_response_types"] = _PARTIAL
            if "on_failure" in kwargs:
                kwargs["on_failure"] = _target(world, kwargs["on_failure"])
            with _guard(source, f"{path}.mapping", _STREAM_MAPPING_KEYS):
                stream_config = StreamMappingConfig(**kwargs)
                world.mappings[path] = stream.map_to(
                    world.functions[stream_spec.function],
                    stream_config,
                    seed=derive_seed(seed, f"mapping/{path}"),
                    history=world.history,
                )
        if stream_spec.load is not None:
            _feed_stream(world, stream_spec.name, stream_spec.partition_keys, stream_spec.load)

    for queue_spec in scenario.queues:
        path = f"queues.{queue_spec.name}"
        queue = world.queues[queue_spec.name]
        if queue_spec.function is not None:
            kwargs = dict(queue_spec.mapping)
            if kwargs.pop("report_batch_item_failures", False):
                kwargs["function_response_types"] = _PARTIAL
            with _guard(source, f"{path}.mapping", _SQS_MAPPING_KEYS):
                sqs_config = SQSMappingConfig(**kwargs)
                world.mappings[path] = queue.map_to(
                    world.functions[queue_spec.function],
                    sqs_config,
                    seed=derive_seed(seed, f"mapping/{path}"),
                    history=world.history,
                )
        if queue_spec.load is not None:
            _feed_queue(world, queue_spec.name, queue_spec.message_groups, queue_spec.load)

    for producer in scenario.producers:
        _feed_event(world, producer.name, producer.function, producer.payload, producer.load)
    return world


def _partial_functions(scenario: Scenario) -> set[str]:
    """The functions one of whose mappings reports batch item failures."""
    pairs = [(s.function, s.mapping) for s in scenario.streams]
    pairs += [(q.function, q.mapping) for q in scenario.queues]
    return {
        function
        for function, mapping in pairs
        if function is not None and mapping.get("report_batch_item_failures") is True
    }


def _build_queues(world: World) -> None:
    """Every queue, dead-letter queues first (a redrive policy names its queue object)."""
    specs = {q.name: q for q in world.scenario.queues}
    source = world.scenario.source
    building: set[str] = set()

    def make(name: str) -> Queue:
        if name in world.queues:
            return world.queues[name]
        spec = specs[name]
        path = f"queues.{name}"
        if name in building:
            raise ScenarioError(
                source, f"{path}.redrive.dead_letter", "makes a cycle of dead-letter queues"
            )
        building.add(name)
        redrive = None
        if spec.dead_letter is not None:
            target = make(spec.dead_letter)
            with _guard(source, path, _QUEUE_KEYS):
                redrive = RedrivePolicy(
                    dead_letter_target=target,
                    max_receive_count=10
                    if spec.max_receive_count is None
                    else spec.max_receive_count,
                )
        with _guard(source, path, _QUEUE_KEYS):
            queue = Queue(
                name,
                scheduler=world.scheduler,
                seed=derive_seed(world.seed, f"queue/{name}"),
                redrive_policy=redrive,
                **spec.config,
            )
        world.queues[name] = queue
        return queue

    for name in specs:
        make(name)


def _target(world: World, ref: str) -> Any:
    if ref in world.queues:
        return world.queues[ref]
    if ref not in world.targets:
        kind, _, name = ref.partition(":")
        cls = {"sns": Topic, "s3": Bucket, "events": EventBus}[kind]
        with _guard(world.scenario.source, f"destination {ref!r}", {}):
            world.targets[ref] = cls(name=name)
    return world.targets[ref]


def _event_config(world: World, name: str, table: Mapping[str, Any]) -> EventInvokeConfig:
    kwargs = {k: v for k, v in table.items() if k != "dead_letter"}
    for key in ("on_success", "on_failure"):
        if key in kwargs:
            kwargs[key] = _target(world, kwargs[key])
    with _guard(world.scenario.source, f"functions.{name}.event", _EVENT_KEYS):
        return EventInvokeConfig(**kwargs)


def _body(source: str, field: str, index: int, poison: bool, extra: Mapping[str, Any]) -> Any:
    body = {**extra, field: source, "n": index}
    if poison:
        body["poison"] = True
    return body


def _feed_event(
    world: World, name: str, function: str, payload: Mapping[str, Any], load: Load
) -> None:
    record = _Source(name, "event", function)
    world.sources.append(record)
    invoker = world.invokers[function]
    scheduler = world.scheduler

    def emit(index: int, poison: bool) -> None:
        try:
            response = invoker.invoke(_body(name, "producer", index, poison, payload))
        except InvocationError:
            record.refused += 1
            return
        record.produced[response.request_id] = scheduler.now

    rng = random.Random(derive_seed(world.seed, f"load/producers.{name}"))
    world.feeders.append(_Feeder(scheduler, load, rng, emit))


def _feed_stream(world: World, name: str, keys: tuple[str, ...], load: Load) -> None:
    function = next(s.function for s in world.scenario.streams if s.name == name)
    record = _Source(name, "kinesis", function)
    world.sources.append(record)
    stream = world.streams[name]
    scheduler = world.scheduler
    rng = random.Random(derive_seed(world.seed, f"load/streams.{name}"))
    keys_rng = random.Random(derive_seed(world.seed, f"keys/streams.{name}"))

    def emit(index: int, poison: bool) -> None:
        data = json.dumps(_body(name, "stream", index, poison, {}))
        key = keys[keys_rng.randrange(len(keys))]
        put = stream.put_record(data, partition_key=key)
        record.produced[put["SequenceNumber"]] = scheduler.now

    world.feeders.append(_Feeder(scheduler, load, rng, emit))


def _feed_queue(world: World, name: str, groups: int, load: Load) -> None:
    queue_spec = next(q for q in world.scenario.queues if q.name == name)
    record = _Source(name, "sqs-fifo" if queue_spec.fifo else "sqs", queue_spec.function)
    world.sources.append(record)
    queue = world.queues[name]
    scheduler = world.scheduler
    rng = random.Random(derive_seed(world.seed, f"load/queues.{name}"))

    def emit(index: int, poison: bool) -> None:
        body = json.dumps(_body(name, "queue", index, poison, {}))
        if queue.fifo:
            sent = queue.send_message(
                body,
                message_group_id=f"group-{index % groups}",
                message_deduplication_id=f"{name}-{index}",
            )
        else:
            sent = queue.send_message(body)
        record.produced[sent.message_id] = scheduler.now

    world.feeders.append(_Feeder(scheduler, load, rng, emit))
