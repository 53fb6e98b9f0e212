"""`Environment`: one scheduler on a virtual clock, one shared history and a seeded rng, with
factories for functions, the in-memory AWS services, invokers and mappings.

The ``im_env`` fixture of the pytest plugin is an `Environment`; outside pytest, make one
yourself.  Everything it makes runs on its scheduler and records into its history, so
``env.timeline().text()`` is one timeline of the whole test.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import attrs

from invokemodels.aws._dynamodb import Table
from invokemodels.aws._kinesis import KinesisStream
from invokemodels.aws._sqs import Queue
from invokemodels.core._clock import EPOCH_ORIGIN, VirtualClock
from invokemodels.core._function import Account, Function, Handler
from invokemodels.core._history import History
from invokemodels.core._scheduler import Scheduler
from invokemodels.event._invoker import EventInvoker
from invokemodels.event._policy import EventInvokeConfig
from invokemodels.exceptions import InvalidParameterValueError
from invokemodels.mapping._loop import EventSourceMapping
from invokemodels.mapping._sqs import SQSMappingConfig, SQSPoller
from invokemodels.mapping._stream_config import StreamMappingConfig
from invokemodels.mapping._streams import StreamPoller
from invokemodels.observe._marks import Mark
from invokemodels.observe._timeline import Timeline
from invokemodels.sync._invoker import RequestResponseInvoker
from invokemodels.testing._assert import Recording

__all__ = ["Environment"]

_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_C = TypeVar("_C")


def _check_seed(_instance: Any, _attribute: Any, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**64:
        raise InvalidParameterValueError("seed", value, "must be an int from 0 to 2**64 - 1")


def _split(
    options: dict[str, Any], config_class: type[_C], config: _C | None, what: str
) -> tuple[_C | None, dict[str, Any]]:
    """Split ``options`` into the fields of ``config_class`` (a config is built from them)
    and the rest (the model's own parameters)."""
    fields = attrs.fields_dict(config_class)  # type: ignore[arg-type]
    given = {key: options.pop(key) for key in list(options) if key in fields}
    if not given:
        return config, options
    if config is not None:
        raise InvalidParameterValueError(
            "config",
            config,
            f"give either config= or {what} keywords ({', '.join(sorted(given))}), not both",
        )
    return config_class(**given), options


@attrs.define(repr=False)
class Environment:
    """A seeded test environment: one `Scheduler` on a `VirtualClock`, one shared `History`,
    a seeded ``random.Random``, and factories for what a test needs.

    Args:
        seed: the environment's seed (default 0), an int from 0 to 2**64 - 1.  Every model
            made here gets its own seed drawn from it in the order the models are made, so
            the same test with the same seed gives the same timeline (request ids, message
            ids, jitter).  ``rng`` is a separate ``random.Random`` seeded with ``seed`` for
            the test's own draws: drawing from it does not change the models' seeds.
        epoch_origin: the Unix time virtual time 0 stands for (the `VirtualClock`'s
            default, 2023-11-14T22:13:20Z).
        handler_time: virtual time inside handler code (default False; the pytest
            plugin's ``im_env`` turns it on): ``Scheduler(handler_time=True)``, so
            ``time.time()``, ``datetime.now()``, ``time.monotonic()`` and ``time.sleep()``
            in a handler follow the attempt's virtual time.  Needs time-machine (the
            ``handler-time`` or ``testing`` extra).

    Factories (each on this scheduler, recording into this history, and watched for the
    `timeline`): `function`, `queue`, `fifo_queue`, `kinesis`, `table`, `sync_invoker`,
    `event_invoker`, `sqs_mapping`, `stream_mapping`, `record`.  Run with `run` and `drain`.

    Example::

        env = Environment(seed=7)
        fn = env.function(lambda event, context: event["n"] * 2, name="double")
        response = env.sync_invoker(fn).invoke({"n": 21})
        assert response.json() == 42
        print(env.timeline().text())
    """

    seed: int = attrs.field(default=0, validator=_check_seed)
    epoch_origin: float = attrs.field(default=EPOCH_ORIGIN, kw_only=True)
    handler_time: bool = attrs.field(default=False, kw_only=True)
    scheduler: Scheduler = attrs.field(init=False)
    """The one scheduler every model of the environment runs on (virtual clock)."""
    history: History = attrs.field(init=False)
    """The one `History` every model of the environment records into."""
    rng: random.Random = attrs.field(init=False)
    """A ``random.Random`` seeded with ``seed``, for the test's own draws."""
    account: Account = attrs.field(init=False)
    """The `Account` (concurrency quota) the environment's functions share."""
    _seeds: random.Random = attrs.field(init=False)
    _sources: list[object] = attrs.field(factory=list, init=False)
    _names: dict[str, int] = attrs.field(factory=dict, init=False)
    _function_names: dict[str, int] = attrs.field(factory=dict, init=False)

    def __attrs_post_init__(self) -> None:
        self.scheduler = self._new_scheduler()
        self.history = History()
        self.rng = random.Random(self.seed)
        self._seeds = random.Random(f"invokemodels-environment-{self.seed}")
        self.account = Account()

    def _new_scheduler(self) -> Scheduler:
        # The one place an environment (and so the pytest plugin's im_env) makes its
        # scheduler (the Scheduler checks handler_time, time-machine included).
        return Scheduler(
            clock=VirtualClock(epoch_origin=self.epoch_origin), handler_time=self.handler_time
        )

    def __repr__(self) -> str:
        return f"<Environment seed={self.seed} now={self.now!r} spans={len(self.history)}>"

    # -- time ---------------------------------------------------------------------------------

    @property
    def now(self) -> float:
        """The virtual clock's time in seconds (0 when the environment is made)."""
        return self.scheduler.now

    def run(self, until: float | None = None) -> None:
        """Run the scheduler: every callback due at or before ``until`` (the clock is left
        at ``until``), or, without it, until nothing is pending (`drain`)."""
        if until is None:
            self.drain()
        else:
            self.scheduler.run(until=until)

    def run_for(self, seconds: float) -> None:
        """Run for ``seconds`` of virtual time from now."""
        self.scheduler.run_for(seconds)

    def drain(self, *, max_steps: int | None = None) -> int:
        """Run until nothing is pending; returns the number of callbacks run.

        ``max_steps`` guards a test against a model that never goes idle (``RuntimeError``
        when reached); default None, no limit.
        """
        return self.scheduler.run_until_idle(max_steps=max_steps)

    # -- what happened ------------------------------------------------------------------------

    def add_sources(self, *models: object) -> None:
        """Watch models made by hand (on this scheduler, with ``history=env.history``) for
        the `timeline`'s fates: an `EventInvoker`, an `EventSourceMapping`, a `Queue`, or a
        `Mark`.  Models made by the factories are watched already."""
        for model in models:
            if not isinstance(model, (EventInvoker, EventSourceMapping, Queue, Mark)):
                raise InvalidParameterValueError(
                    "models",
                    model,
                    "each must be an EventInvoker, an EventSourceMapping, a Queue or a Mark",
                )
            self._sources.append(model)

    @property
    def sources(self) -> list[object]:
        """The watched models, in the order they were made or added."""
        return list(self._sources)

    def timeline(self) -> Timeline:
        """The `Timeline` of everything so far: the history's tries and the watched
        models' fates (acceptances, outcomes, destinations, record fates, queue events)."""
        return Timeline.from_history(self.history, sources=self._sources)

    def text(self, *, full_ids: bool = False, queue_events: bool = False) -> str:
        """`timeline` as text (see `Timeline.text`)."""
        return self.timeline().text(full_ids=full_ids, queue_events=queue_events)

    # -- factories ----------------------------------------------------------------------------

    def _seed(self) -> int:
        return self._seeds.getrandbits(32)

    def _name(self, kind: str, given: str | None) -> str:
        if given is not None:
            return given
        count = self._names.get(kind, 0) + 1
        self._names[kind] = count
        return f"{kind}-{count}"

    def _watch(self, model: _C) -> _C:
        self._sources.append(model)
        return model

    def function(
        self, handler: Handler | str, *, name: str | None = None, **config: Any
    ) -> Function:
        """A `Function` running ``handler`` (a callable or a ``"module:function"`` string).

        ``name`` defaults to the handler's ``__name__`` when it is a valid ``FunctionName``
        (``<name>-2``, ``<name>-3``, ... for the next functions of the same handler), else
        ``function-<n>``.  ``config`` is `Function`'s keywords: ``timeout``,
        ``memory_size``, ``reserved_concurrency``, ``duration``, ... The functions of an
        environment share its `account` unless ``account=`` is given.
        """
        if name is None:
            own = getattr(handler, "__name__", None)
            base = own if isinstance(own, str) and _NAME.match(own[:58]) else "function"
            base = base[:58]
            count = self._function_names.get(base, 0) + 1
            self._function_names[base] = count
            name = base if count == 1 and base != "function" else f"{base}-{count}"
        config.setdefault("account", self.account)
        return Function(name, handler, **config)

    def _as_function(self, function: Function | Handler) -> Function:
        if isinstance(function, Function):
            return function
        if callable(function):
            return self.function(function)
        raise InvalidParameterValueError(
            "function", function, "must be a Function or a handler(event, context)"
        )

    def record(self, handler: Handler) -> Recording:
        """``record(handler)`` with this environment's clock: each `Call` has its time."""
        return Recording(handler, clock=self.scheduler.clock)

    def queue(self, name: str | None = None, **config: Any) -> Queue:
        """A standard SQS `Queue` (default name ``queue-<n>``); ``config`` is `Queue`'s
        keywords (``visibility_timeout``, ``redrive_policy``, ``delay_seconds``, ...)."""
        queue = Queue(
            self._name("queue", name), scheduler=self.scheduler, seed=self._seed(), **config
        )
        return self._watch(queue)

    def fifo_queue(self, name: str | None = None, **config: Any) -> Queue:
        """A FIFO SQS `Queue`: ``.fifo`` is added to ``name`` when missing (default
        ``fifo-queue-<n>.fifo``).  ``ContentBasedDeduplication`` is off unless
        ``content_based_deduplication=True`` (AWS's default): without it, each send needs a
        ``message_deduplication_id``."""
        base = self._name("fifo-queue", name)
        if not base.endswith(".fifo"):
            base += ".fifo"
        return self.queue(base, **config)

    def kinesis(self, name: str | None = None, **config: Any) -> KinesisStream:
        """A `KinesisStream` (default name ``stream-<n>``); ``config`` is its keywords
        (``shard_count``, ``retention_period_hours``, ...)."""
        return KinesisStream(self._name("stream", name), scheduler=self.scheduler, **config)

    def table(
        self, name: str | None = None, key_schema: str | Iterable[str] = "id", **config: Any
    ) -> Table:
        """A DynamoDB `Table` with its stream on (default name ``table-<n>``, partition key
        ``"id"``); ``config`` is its keywords (``stream_view_type``, ``shard_count``, ...)."""
        return Table(
            self._name("table", name),
            key_schema,
            scheduler=self.scheduler,
            seed=self._seed(),
            **config,
        )

    def sync_invoker(self, function: Function | Handler, **options: Any) -> RequestResponseInvoker:
        """A `RequestResponseInvoker` for ``function`` (a `Function`, or a handler made
        into one with `function`); ``options`` are its keywords (``invocation_type``,
        ``log_type``, ``fault``, ...)."""
        return RequestResponseInvoker(
            self._as_function(function),
            scheduler=self.scheduler,
            seed=self._seed(),
            history=self.history,
            **options,
        )

    def event_invoker(
        self,
        function: Function | Handler,
        config: EventInvokeConfig | None = None,
        **options: Any,
    ) -> EventInvoker:
        """An `EventInvoker` for ``function`` (a `Function`, or a handler).

        ``config`` is an `EventInvokeConfig`, or give its fields as keywords
        (``maximum_retry_attempts``, ``maximum_event_age``, ``on_success``,
        ``on_failure``); the other ``options`` are `EventInvoker`'s own (``dead_letter``,
        ``duplicate_probability``, ``retry_policy``, ...).
        """
        config, rest = _split(dict(options), EventInvokeConfig, config, "EventInvokeConfig")
        invoker = EventInvoker(
            self._as_function(function),
            config if config is not None else EventInvokeConfig(),
            scheduler=self.scheduler,
            seed=self._seed(),
            history=self.history,
            **rest,
        )
        return self._watch(invoker)

    def sqs_mapping(
        self,
        queue: Queue,
        function: Function | Handler,
        config: SQSMappingConfig | None = None,
        **options: Any,
    ) -> EventSourceMapping[SQSPoller]:
        """An SQS event source mapping from ``queue`` to ``function``, started.

        ``config`` is an `SQSMappingConfig`, or give its fields as keywords (``batch_size``,
        ``function_response_types``, ``maximum_batching_window``, ...); the other
        ``options`` are `Queue.map_to`'s (``start``).
        """
        if not isinstance(queue, Queue):
            raise InvalidParameterValueError("queue", queue, "must be a Queue")
        config, rest = _split(dict(options), SQSMappingConfig, config, "SQSMappingConfig")
        mapping = queue.map_to(
            self._as_function(function),
            config,
            seed=self._seed(),
            history=self.history,
            **rest,
        )
        return self._watch(mapping)

    def stream_mapping(
        self,
        source: KinesisStream | Table,
        function: Function | Handler,
        config: StreamMappingConfig | None = None,
        **options: Any,
    ) -> EventSourceMapping[StreamPoller]:
        """A stream event source mapping from ``source`` (a `KinesisStream` or the stream
        of a `Table`) to ``function``, started.

        ``config`` is a `StreamMappingConfig`, or give its fields as keywords
        (``batch_size``, ``maximum_retry_attempts``, ``bisect_batch_on_function_error``,
        ``function_response_types``, ...), with ``starting_position`` defaulting to
        ``"TRIM_HORIZON"`` here (records put before the mapping was made are read; AWS
        requires the parameter).  The other ``options`` are ``map_to``'s
        (``polling_interval``, ``retry_delay``, ``max_concurrency``, ``bisect_at``, ...).
        """
        if not isinstance(source, (KinesisStream, Table)):
            raise InvalidParameterValueError("source", source, "must be a KinesisStream or a Table")
        rest = dict(options)
        if config is None:
            rest.setdefault("starting_position", "TRIM_HORIZON")
        built, rest = _split(rest, StreamMappingConfig, config, "StreamMappingConfig")
        assert built is not None  # starting_position is always among the keywords
        map_to: Callable[..., EventSourceMapping[StreamPoller]] = source.map_to
        mapping = map_to(
            self._as_function(function),
            built,
            seed=self._seed(),
            history=self.history,
            **rest,
        )
        return self._watch(mapping)
