"""The asynchronous model (``InvocationType=Event``): service queue, retries, age, destinations.

`EventInvoker.invoke` validates a payload, puts the event in a `ServiceQueue` and answers
202 at once; running the scheduler then dispatches events to `Function.run_attempt`,
counting concurrency with ``try_acquire``/``release``, and applies the `EventRetryPolicy`
(reference section 3).  Every accepted event ends in exactly one `EventOutcome`; invocation
records go to the configured destinations and the original event to the dead-letter queue.
"""

from __future__ import annotations

import enum
import heapq
import itertools
import json
import random
from collections.abc import Callable
from typing import Any, Final, Generic, Protocol, TypeGuard, TypeVar, cast

import attrs

from invokemodels.core._chain import RUNNING as CHAINS
from invokemodels.core._chain import done as chain_done
from invokemodels.core._chain import running as running_chain
from invokemodels.core._chain import stops
from invokemodels.core._clock import TICKS_PER_SECOND as _TICKS_PER_SECOND
from invokemodels.core._clock import on_grid
from invokemodels.core._combine import SuccessHook, retry_policy, success_hook
from invokemodels.core._fast import positional_maker
from invokemodels.core._function import (
    EVENT_PAYLOAD_LIMIT,
    LEGACY_EVENT_PAYLOAD_LIMIT,
    SNS_MESSAGE_LIMIT,
    AttemptResult,
    Function,
    encode_payload,
    new_request_id,
    payload_size,
)
from invokemodels.core._history import History, Model, Outcome, Span, new_history
from invokemodels.core._lifecycle import AttemptLifecycle
from invokemodels.core._protocols import (
    DeadLetterQueue,
    DeadLetterTopic,
    Delivery,
    InvokeResponse,
    RetryPolicy,
    ServiceQueue,
)
from invokemodels.core._records import dead_letter_attributes, invocation_record
from invokemodels.core._retry import (
    STALL_LIMIT,
    Decision,
    Failure,
    FailureKind,
    checked_decision,
    count_stall,
    stalled,
)
from invokemodels.core._scheduler import Scheduler, Timer
from invokemodels.core._validate import (
    boolean,
    callable_value,
    implements,
    in_range,
    instance_of,
    is_random,
    one_of,
    seeded,
)
from invokemodels.event._policy import (
    EVENT_AGE_EXCEEDED,
    RETRIES_EXHAUSTED,
    EventInvokeConfig,
    EventRetryPolicy,
    check_dead_letter,
    check_not_self,
)
from invokemodels.exceptions import RequestEntityTooLargeError, TooManyRequestsError, describe_error

__all__ = [
    "AttemptExecutor",
    "AttemptHandle",
    "EventInvoker",
    "EventMetrics",
    "EventOutcome",
    "EventOutcomeKind",
    "FunctionTarget",
    "InMemoryServiceQueue",
    "InlineExecutor",
    "invocation_record",
]

T = TypeVar("T")

_THROTTLE_MESSAGE: Final = "Rate Exceeded."
# Built straight into their slots: one of each per event (or per failed try).
_response = positional_maker(InvokeResponse)
_failure = positional_maker(Failure)
_FUNCTION_ERROR_KIND: Final = FailureKind.FUNCTION_ERROR


class EventOutcomeKind(enum.Enum):
    """How an event ended: exactly one of these per accepted event (and per duplicate copy)."""

    SUCCEEDED = "Success"
    """An attempt succeeded (record ``condition`` ``Success``)."""
    RETRIES_EXHAUSTED = "RetriesExhausted"
    """The retry policy stopped: function errors used up ``MaximumRetryAttempts``, or a
    policy stopped with a reason of its own (the outcome's ``condition`` carries it)."""
    EVENT_AGE_EXCEEDED = "EventAgeExceeded"
    """The next attempt would have started at or past ``MaximumEventAgeInSeconds``."""
    ZERO_CONCURRENCY = "ZeroConcurrency"
    """Reserved concurrency was 0: sent to the DLQ / on-failure destination, never invoked."""
    RECURSIVE_LOOP = "RecursiveLoop"
    """Recursive loop detection stopped it: the function had been invoked `RECURSION_LIMIT`
    (16) times in its chain of requests (reference 3.10).  It goes to the dead-letter queue
    or on-failure destination; the record's ``condition`` is
    `RECURSIVE_LOOP_CONDITION` [UNCONFIRMED]."""
    CANCELLED = "Cancelled"
    """Only when a `BackgroundEventInvoker` is closed without draining; not an AWS outcome."""


RECURSIVE_LOOP_CONDITION: Final = "RecursiveInvocationException"
"""The ``condition`` of an event stopped by recursive loop detection: the Invoke API's error
for a detected loop; what AWS writes in the record is [UNCONFIRMED]."""

_EVENT: Final = Model.EVENT
# The history is handed plain values (see History.defer): the outcomes' values.
_SUCCESS: Final = Outcome.SUCCESS.value
_FUNCTION_ERROR: Final = Outcome.FUNCTION_ERROR.value
_THROTTLED: Final = Outcome.THROTTLED.value
_SERVICE_ERROR: Final = Outcome.SERVICE_ERROR.value


def _event_span(
    function: str,
    request_id: str,
    attempt: int,
    execution: int | None,
    enqueued_at: float,
    started_at: float,
    ended_at: float,
    outcome: str,
    error_type: str | None,
    in_flight: int | None,
    duplicate: bool = False,
) -> Span:
    # Built when the history is read; the hot path hands over the values only.
    carried = (request_id,)
    return Span(
        _EVENT, function, request_id, attempt, execution, enqueued_at, started_at, ended_at,
        Outcome(outcome), error_type, None, None, 1, carried, (), in_flight, None,
        carried if duplicate else (),
    )  # fmt: skip


@attrs.frozen(eq=False)
class EventOutcome:
    """The terminal outcome of one event (one per accepted event, one per duplicate copy).

    Attributes:
        request_id: the event's request id.
        kind: an `EventOutcomeKind`.
        condition: the record's ``requestContext.condition``: ``Success``,
            ``RetriesExhausted``, ``EventAgeExceeded`` (see `EventInvoker` for zero
            concurrency), or the reason of a retry policy's ``Decision.stop(reason)`` as it
            is (then ``kind`` is ``RETRIES_EXHAUSTED``, or ``EVENT_AGE_EXCEEDED`` for the
            reason ``"EventAgeExceeded"``).
        approximate_invoke_count: executions of the function (1 + retries taken).
        enqueued_at: clock time of acceptance.
        ended_at: clock time the outcome was decided.
        epoch: Unix time of the outcome (the record's ``timestamp``).
        duplicate: True for the extra copy of an at-least-once duplicate delivery.
        delivery_errors: ``"<kind>: <error>"`` for each destination or DLQ that raised.
        function_arn: the qualified ARN the record names (``...:function:<name>:$LATEST``).
        request: the event as JSON text (the record's ``requestPayload``).
        last: the last execution's `AttemptResult` (the record's ``responseContext`` and
            ``responsePayload``), or None when the function never ran.
    """

    request_id: str
    kind: EventOutcomeKind
    condition: str
    approximate_invoke_count: int
    enqueued_at: float
    ended_at: float
    epoch: float
    function_arn: str
    request: str = attrs.field(repr=False)
    last: AttemptResult | None = attrs.field(repr=False)
    duplicate: bool = False
    delivery_errors: tuple[str, ...] = ()

    @property
    def succeeded(self) -> bool:
        """True when an attempt succeeded."""
        return self.kind is EventOutcomeKind.SUCCEEDED

    @property
    def age(self) -> float:
        """Seconds from acceptance to the outcome."""
        return self.ended_at - self.enqueued_at

    def record(self) -> dict[str, Any]:
        """The invocation record destinations receive (a fresh dict each call)."""
        return invocation_record(
            request_id=self.request_id,
            function_arn=self.function_arn,
            condition=self.condition,
            approximate_invoke_count=self.approximate_invoke_count,
            request=self.request,
            last=self.last,
            epoch=self.epoch,
        )


@attrs.define(repr=False, on_setattr=attrs.setters.NO_OP)
class EventMetrics:
    """The CloudWatch metrics of asynchronous invocation (reference 3.8), as counters.

    Memory stays constant: ``AsyncEventAge`` is kept as count, sum and maximum.
    """

    async_events_received: int = 0
    """``AsyncEventsReceived``: events accepted into the queue."""
    async_events_dropped: int = 0
    """``AsyncEventsDropped``: events that ended without a successful execution."""
    async_event_age_sum: float = 0.0
    """``AsyncEventAge`` summed over executions, in seconds."""
    async_event_age_max: float = 0.0
    """``AsyncEventAge`` at its largest, in seconds (``as_dict`` reports this one)."""
    invocations: int = 0
    """``Invocations``: executions of the function (throttles excluded)."""
    errors: int = 0
    """``Errors``: executions that ended in a function error."""
    throttles: int = 0
    """``Throttles``: tries refused for lack of concurrency (at dispatch or acceptance)."""
    service_errors: int = 0
    """Tries failed by an injected 5xx system error (``service_error_probability``)."""
    dead_letter_errors: int = 0
    """``DeadLetterErrors``: dead-letter sends that failed."""
    destination_delivery_failures: int = 0
    """``DestinationDeliveryFailures``: destination deliveries that failed."""
    duplicates: int = 0
    """Extra copies delivered by the at-least-once duplicate model."""
    recursive_invocations_dropped: int = 0
    """``RecursiveInvocationsDropped``: events stopped by recursive loop detection."""

    def __repr__(self) -> str:
        return (
            f"<EventMetrics received={self.async_events_received} "
            f"dropped={self.async_events_dropped} invocations={self.invocations}>"
        )

    @property
    def async_event_age_count(self) -> int:
        """``AsyncEventAge`` samples: one per execution (the same as `invocations`)."""
        return self.invocations

    @property
    def async_event_age_average(self) -> float:
        """Mean ``AsyncEventAge`` over executions (0 when none ran)."""
        count = self.invocations
        return self.async_event_age_sum / count if count else 0.0

    def as_dict(self) -> dict[str, float]:
        """The metrics under their CloudWatch names."""
        return {
            "AsyncEventsReceived": self.async_events_received,
            "AsyncEventsDropped": self.async_events_dropped,
            "AsyncEventAge": self.async_event_age_max,
            "Invocations": self.invocations,
            "Errors": self.errors,
            "Throttles": self.throttles,
            "DeadLetterErrors": self.dead_letter_errors,
            "DestinationDeliveryFailures": self.destination_delivery_failures,
            "RecursiveInvocationsDropped": self.recursive_invocations_dropped,
        }


@attrs.define(repr=False)
class InMemoryServiceQueue(Generic[T]):
    """The reference `ServiceQueue`: a heap of ``(ready_at, seq, item)``.

    `take` returns the item with the earliest ``ready_at`` that is due at ``now`` (ties in
    insertion order), or None.  Memory holds only the items queued.
    """

    _heap: list[tuple[float, int, T]] = attrs.field(factory=list, init=False)
    _seq: itertools.count[int] = attrs.field(factory=itertools.count, init=False)

    def __repr__(self) -> str:
        return f"<InMemoryServiceQueue pending={len(self._heap)}>"

    def __len__(self) -> int:
        return len(self._heap)

    def put(self, item: T, ready_at: float) -> None:
        """Queue ``item`` until clock time ``ready_at``."""
        heapq.heappush(self._heap, (ready_at, next(self._seq), item))

    def take(self, now: float) -> T | None:
        """The earliest item ready at ``now``, removed from the queue; None if none is ready."""
        heap = self._heap
        if heap and heap[0][0] <= now:
            return heapq.heappop(heap)[2]
        return None

    def next_ready_at(self) -> float | None:
        """When the earliest item becomes ready, or None when empty."""
        heap = self._heap
        return heap[0][0] if heap else None


class _Event:
    """An event in the service between acceptance and its outcome.

    It is also the `AttemptHandle` of its next try: an `AttemptExecutor` sees only that.
    """

    __slots__ = (
        "admitted_at",
        "chain",
        "deadline",
        "duplicate",
        "enqueued_at",
        "error_code",
        "error_message",
        "executions",
        "function_errors",
        "in_flight",
        "invoker",
        "last",
        "request",
        "request_id",
        "stall",
        "system_errors",
        "trying",
    )

    def __init__(
        self,
        invoker: EventInvoker,
        request_id: str,
        request: str,
        enqueued_at: float,
        deadline: float,
        duplicate: bool = False,
    ) -> None:
        self.invoker = invoker
        self.request_id = request_id
        self.request = request
        self.enqueued_at = enqueued_at
        self.deadline = deadline
        self.duplicate = duplicate
        self.admitted_at = enqueued_at
        self.executions = 0
        self.function_errors = 0
        self.system_errors = 0
        self.last: AttemptResult | None = None
        self.error_code = 0
        self.error_message = ""
        self.in_flight = 0
        # (instant, count) of the retries asked at once, with no time passing (STALL_LIMIT).
        self.stall: tuple[float, int] | None = None
        self.trying = False  # between `start` and the try's end (`_ended`) or `_abandon`
        # The chain of requests it was sent in (reference 3.10): `current_chain()`, inlined.
        running = CHAINS.value
        self.chain = () if running is None else (*running[0], running[1].arn)

    # -- the AttemptHandle side ---------------------------------------------------------------

    def start(self, now: float) -> bool:
        # The checks before a try; False when the event ended or was requeued instead.
        invoker = self.invoker
        if now >= self.deadline:
            invoker._end(self, EventOutcomeKind.EVENT_AGE_EXCEEDED, EVENT_AGE_EXCEEDED, now)
            return False
        function = invoker.function
        if self.chain and stops(self.chain, function):
            invoker.metrics.recursive_invocations_dropped += 1
            invoker._end(self, EventOutcomeKind.RECURSIVE_LOOP, RECURSIVE_LOOP_CONDITION, now)
            return False
        if function.reserved_concurrency == 0:
            self.error_code = 429
            self.error_message = _THROTTLE_MESSAGE
            invoker._end(
                self, EventOutcomeKind.ZERO_CONCURRENCY, invoker.zero_concurrency_condition, now
            )
            return False
        if (
            invoker.service_error_probability
            and invoker.rng.random() < invoker.service_error_probability
        ):
            invoker.metrics.service_errors += 1
            self.system_errors += 1
            self.error_code = 500
            self.error_message = "ServiceException"
            history = invoker.history
            if history.keep:
                history.defer(_event_span, function.name, self.request_id,
                              self.executions + self.system_errors, None, self.enqueued_at,
                              now, now, _SERVICE_ERROR, "ServiceException",
                              None, self.duplicate)  # fmt: skip
            invoker._retry(self, FailureKind.SERVICE_ERROR, "ServiceException", 500, now)
            return False
        lifecycle = invoker._lifecycle
        reason = lifecycle.acquire()  # `AttemptLifecycle.admit`, without its call
        if reason is not None:
            lifecycle.throttled(self, self.request_id, reason, now)
            return False
        self.executions += 1
        self.admitted_at = now
        self.trying = True
        self.in_flight = function._in_flight
        invoker._in_flight += 1
        metrics = invoker.metrics
        metrics.invocations += 1
        age = now - self.enqueued_at
        metrics.async_event_age_sum += age
        if age > metrics.async_event_age_max:  # noqa: PLR1730 - the hot path avoids a call
            metrics.async_event_age_max = age
        return True

    def run(self) -> AttemptResult:
        invoker = self.invoker
        token = running_chain((self.chain, invoker.function))
        try:
            return invoker._lifecycle.run(self.request, self.request_id)
        finally:
            chain_done(token)

    def finish(self, result: AttemptResult) -> None:
        invoker = self.invoker
        invoker._lifecycle.end(self, result, invoker._dispatch_now)

    def abandon(self, *, requeue: bool = True) -> None:
        self.invoker._abandon(self, requeue=requeue)

    def cancel(self) -> None:
        invoker = self.invoker
        invoker._end(self, EventOutcomeKind.CANCELLED, "Cancelled", invoker.scheduler.now)


class _EventLifecycle(AttemptLifecycle[_Event]):
    """The Event model's hooks: a throttle is retried; an ended try goes to `_ended`."""

    __slots__ = ("invoker",)

    def __init__(self, invoker: EventInvoker) -> None:
        super().__init__(invoker.function, invoker.scheduler, invoker.history)
        self.invoker = invoker
        self._ended = invoker._ended  # what `ended` calls, without the hop through it

    def throttled(self, job: _Event, request_id: str, reason: str, now: float) -> None:
        invoker = self.invoker
        invoker.metrics.throttles += 1
        job.system_errors += 1
        job.error_code = 429
        job.error_message = _THROTTLE_MESSAGE
        history = self.history
        if history.keep:
            history.defer(_event_span, self.function.name, request_id,
                          job.executions + job.system_errors, None, job.enqueued_at,
                          now, now, _THROTTLED, reason, None, job.duplicate)  # fmt: skip
        invoker._retry(job, FailureKind.THROTTLE, "TooManyRequestsException", 429, now)

    def ended(self, job: _Event, result: AttemptResult, scheduled: bool) -> None:
        self.invoker._ended(job, result, scheduled)


class AttemptHandle(Protocol):
    """**Protocol**: an event's next try, as `EventInvoker` hands it to an `AttemptExecutor`.

    The executor calls, in this order:

    - ``start(now)``: the checks before a try at clock time ``now``: the event's age,
      zero concurrency, an injected system error, a free concurrency slot (throttle).
      False when the event ended or went back to the queue instead: nothing more to do.
      True: the try holds a slot and counts as in flight until it is finished.
    - ``run()``: runs the handler (`Function.run_attempt` on the invoker's clock) and
      returns its `AttemptResult`; any thread may call it.  A function error is a
      result; an exception is the model's own failure (a bad ``duration``, say).
    - ``finish(result)``: hands the result back; the model applies it (success, retry,
      outcome, destinations) when the clock reaches ``result.ended_at``: at once when
      called inside ``submit`` and that time has come, otherwise through the scheduler.
      Call it from the thread that runs the scheduler, or holding the lock it runs under.
    - ``abandon(requeue=True)`` instead of ``finish`` when ``run`` raised (``run`` has
      already given the slot back, see `AttemptLifecycle`): the try is undone; with
      ``requeue`` the event goes back to the queue untried (a run resumed after fixing the
      cause finds nothing half-done), without it the event is left as it is (an executor
      that stops for good).
    - ``cancel()`` instead of ``start``: end the event now with `EventOutcomeKind.CANCELLED`
      (an executor shutting down).

    ``request_id`` names the event.
    """

    @property
    def request_id(self) -> str: ...

    def start(self, now: float) -> bool: ...

    def run(self) -> AttemptResult: ...

    def finish(self, result: AttemptResult) -> None: ...

    def abandon(self, *, requeue: bool = True) -> None: ...

    def cancel(self) -> None: ...


class AttemptExecutor(Protocol):
    """**Protocol**: how `EventInvoker` runs an event's tries: its seam for where attempts run.

    ``submit(attempt, now)`` is called by the dispatcher, on the scheduler's thread, for
    every event due at clock time ``now`` (while ``max_in_flight`` allows), with the
    try's `AttemptHandle`.  `InlineExecutor` (the default) runs the try at once, on a
    virtual clock; `BackgroundEventInvoker` runs it on a worker pool on the real clock.
    """

    def submit(self, attempt: AttemptHandle, now: float) -> None: ...


@attrs.frozen
class InlineExecutor:
    """The default `AttemptExecutor`: each try runs at once, on the thread that dispatches.

    On a virtual clock the handler runs inline and its modelled duration holds the slot
    until ``ended_at``; a model failure in ``run`` puts the event back and propagates.
    """

    def submit(self, attempt: AttemptHandle, now: float) -> None:
        """``start``, ``run`` and ``finish`` the try (``abandon`` it if ``run`` raised)."""
        if not attempt.start(now):
            return
        try:
            result = attempt.run()
        except BaseException:
            attempt.abandon()
            raise
        attempt.finish(result)
        # A failed attempt's traceback keeps this frame alive; holding the result here too
        # would make a reference cycle per error, left for the cyclic GC to find.
        del result


def _error_message(result: AttemptResult) -> str:
    try:
        document = json.loads(result.payload)
    except ValueError:  # pragma: no cover - run_attempt always produces JSON
        return result.payload
    message = document.get("errorMessage") if isinstance(document, dict) else None
    return message if isinstance(message, str) else result.payload


def _is_topic(target: DeadLetterQueue | DeadLetterTopic) -> TypeGuard[DeadLetterTopic]:
    return target.arn.split(":")[2:3] == ["sns"]


def _probability(parameter: str) -> Callable[[Any, Any, Any], None]:
    return in_range(parameter, 0, 1)


def _scheduler_default() -> Scheduler:
    return Scheduler()


def _default_policy(invoker: EventInvoker) -> RetryPolicy | None:
    # Defaults are computed before validators run: a bad config is reported by its validator.
    if not isinstance(invoker.config, EventInvokeConfig):
        return None
    return EventRetryPolicy.from_config(invoker.config)


_SERVICE_QUEUE_METHODS: Final = ("put", "take", "next_ready_at")


@attrs.define(repr=False, eq=False, on_setattr=attrs.setters.NO_OP)
class EventInvoker:
    """Invokes a `Function` asynchronously (``InvocationType=Event``), as Lambda does.

    `invoke` validates the payload (JSON, the 1 MB asynchronous limit), applies the
    acceptance throttle, queues the event and returns ``InvokeResponse(202)`` at once;
    nothing runs until the scheduler runs.  Then, per event (reference 3.3):

    - each try takes a concurrency slot with ``Function.try_acquire`` and runs through
      ``Function.run_attempt``, holding the slot for the attempt's modelled duration;
    - a function error is retried ``MaximumRetryAttempts`` times, 60 s then 120 s after
      the failed attempt ends; a throttle (no free concurrency) or an injected system error
      is retried after 1, 2, 4, ... up to 300 s, without consuming the retry budget;
    - when the next try would start at or past ``enqueue time + MaximumEventAgeInSeconds``
      the event ends now with ``EventAgeExceeded``, whatever the policy says;
    - reserved concurrency 0 sends the event straight to the dead-letter queue and the
      on-failure destination, without invoking the function.

    The request id is the same for every try; ``approximateInvokeCount`` counts executions.
    An `EventInvoker` belongs to the thread that runs its scheduler; to invoke from other
    threads on the real clock, use `BackgroundEventInvoker`.

    Args:
        function: the function to invoke.
        config: the `EventInvokeConfig` (default: AWS's defaults, no destinations).
        dead_letter: a `DeadLetterQueue` (`QueueTarget`, an SQS ``Queue``) or a
            `DeadLetterTopic` (`Topic`) receiving the original event of every failed
            event, with ``RequestID`` / ``ErrorCode`` / ``ErrorMessage`` attributes.
        scheduler: the scheduler (and clock) to run on (default: a new virtual one).
        seed: seeds request ids, jitter and duplicate delivery (or pass ``rng``).
        retry_policy: replaces ``EventRetryPolicy.from_config(config)``.
        queue: the `ServiceQueue` to use (default `InMemoryServiceQueue`).
        executor: the `AttemptExecutor` that runs each try (default `InlineExecutor`:
            at once, on the thread that runs the scheduler; `BackgroundEventInvoker`
            brings a worker pool).
        payload_limit: `EVENT_PAYLOAD_LIMIT` (1 MB, default) or `LEGACY_EVENT_PAYLOAD_LIMIT`
            (256 KB, the limit from 2018 to 2025).
        history: the `History` that gets a `Span` per try, throttles and service errors
            included (default: a new kept one; share one across models for one timeline;
            ``History(keep=False)`` keeps nothing and builds nothing).  The tries of an
            event are ``history.of(request_id)``.
        keep_records: keep every terminal `EventOutcome` (one per event, the per-item
            fate with its destinations), queryable with `outcome`, `outcomes` and `counts`
            (default True, convenient in tests).  The tries are the history's, not these
            records'.  With False (and ``History(keep=False)``) memory grows with the
            events in flight only; pass ``on_outcome`` to stream the outcomes.
        on_outcome: called with each `EventOutcome` as it is decided.
        max_in_flight: at most this many executions at once, above the function's own
            concurrency; ready events wait in the queue (without throttling) meanwhile.
            None (default) means no extra limit.
        duplicate_probability: the chance that an accepted event is delivered twice
            (at-least-once, reference 3.2); default 0.  The copy has the same request id and
            its own outcome, flagged ``duplicate``.
        service_error_probability: the chance that a try fails with a 5xx system error
            before reaching the function (retried like a throttle); default 0.
        invoke_rate_factor: the acceptance throttle.  At most ``factor x concurrency``
            invokes are accepted per clock second (reference 1.3: 10 x the concurrency
            quota for asynchronous invokes from non-AWS sources), where concurrency is the
            reserved concurrency or else the account limit; beyond it `invoke` raises
            `TooManyRequestsError` (429).  Default 10; None disables it (AWS-service
            sources are not rate-limited).  Concurrency itself never refuses an ``Event``
            invoke: a busy function throttles the queued event, which is retried.
        zero_concurrency_condition: the record ``condition`` for events dropped for reserved
            concurrency 0; which value AWS writes is [UNCONFIRMED], default
            ``"RetriesExhausted"``.
    """

    function: Function = attrs.field(validator=instance_of("function", Function, "a Function"))
    config: EventInvokeConfig = attrs.field(
        factory=EventInvokeConfig,
        validator=instance_of("config", EventInvokeConfig, "an EventInvokeConfig"),
    )
    dead_letter: DeadLetterQueue | DeadLetterTopic | None = attrs.field(default=None)
    scheduler: Scheduler = attrs.field(
        factory=_scheduler_default, validator=instance_of("scheduler", Scheduler, "a Scheduler")
    )
    seed: int | None = None
    rng: random.Random = attrs.field(
        default=attrs.Factory(lambda self: seeded(self.seed), takes_self=True), validator=is_random
    )
    retry_policy: RetryPolicy = attrs.field(
        default=attrs.Factory(_default_policy, takes_self=True),
        validator=retry_policy("retry_policy"),
    )
    queue: ServiceQueue[Any] = attrs.field(
        factory=InMemoryServiceQueue,
        validator=implements("queue", "ServiceQueue", _SERVICE_QUEUE_METHODS),
    )
    executor: AttemptExecutor = attrs.field(
        factory=InlineExecutor, validator=implements("executor", "AttemptExecutor", ("submit",))
    )
    payload_limit: int = attrs.field(
        default=EVENT_PAYLOAD_LIMIT,
        validator=one_of("payload_limit", (EVENT_PAYLOAD_LIMIT, LEGACY_EVENT_PAYLOAD_LIMIT)),
    )
    history: History = attrs.field(
        default=None,
        converter=new_history,
        validator=instance_of("history", History, "a History"),
    )
    keep_records: bool = attrs.field(default=True, validator=boolean("keep_records"))
    on_outcome: Callable[[EventOutcome], object] | None = attrs.field(
        default=None,
        validator=callable_value("on_outcome", "a callable on_outcome(outcome)", optional=True),
    )
    max_in_flight: int | None = attrs.field(
        default=None, validator=in_range("max_in_flight", 1, 1 << 31, integer=True, optional=True)
    )
    duplicate_probability: float = attrs.field(
        default=0.0, validator=_probability("duplicate_probability")
    )
    service_error_probability: float = attrs.field(
        default=0.0, validator=_probability("service_error_probability")
    )
    invoke_rate_factor: float | None = attrs.field(
        default=10.0, validator=in_range("invoke_rate_factor", 0, 1e9, optional=True)
    )
    zero_concurrency_condition: str = attrs.field(
        default=RETRIES_EXHAUSTED,
        validator=one_of("zero_concurrency_condition", (RETRIES_EXHAUSTED, EVENT_AGE_EXCEEDED)),
    )
    metrics: EventMetrics = attrs.field(factory=EventMetrics, init=False)
    _outcomes: list[EventOutcome] = attrs.field(factory=list, init=False)
    _by_id: dict[str, EventOutcome] = attrs.field(factory=dict, init=False)
    _live: dict[str, _Event] = attrs.field(factory=dict, init=False)
    _pending: int = attrs.field(default=0, init=False)
    _in_flight: int = attrs.field(default=0, init=False)
    _timer: Timer | None = attrs.field(default=None, init=False)
    _again: bool = attrs.field(default=False, init=False)
    _window: int = attrs.field(default=-1, init=False)
    _window_count: int = attrs.field(default=0, init=False)
    _arn: str = attrs.field(default="", init=False)
    _s3_prefix: str = attrs.field(default="", init=False)
    _dispatch_now: float | None = attrs.field(default=None, init=False)
    _succeeded: SuccessHook | None = attrs.field(default=None, init=False)
    _hooked: RetryPolicy | None = attrs.field(default=None, init=False)
    _lifecycle: _EventLifecycle = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        self._lifecycle = _EventLifecycle(self)
        self._hooked = self.retry_policy
        self._succeeded = success_hook(self.retry_policy)
        check_not_self(self.function.arn, self.config)
        if self.dead_letter is not None:
            check_dead_letter(self.dead_letter)
        self._arn = self.function.qualified_arn()
        self._s3_prefix = f"aws/lambda/async/{self.function.name}/"

    def __repr__(self) -> str:
        return (
            f"<EventInvoker {self.function.name} pending={self._pending} "
            f"in_flight={self._in_flight} received={self.metrics.async_events_received}>"
        )

    # -- acceptance ---------------------------------------------------------------------------

    def invoke(self, payload: Any) -> InvokeResponse:
        """``Invoke`` with ``InvocationType=Event``: queue the event, return 202 at once.

        Raises `InvalidRequestContentError` (400) for a payload that is not JSON,
        `RequestEntityTooLargeError` (413) over the asynchronous payload limit and
        `TooManyRequestsError` (429) over the invoke rate; a refused event is not queued.
        """
        request = encode_payload(payload, limit=None)
        size = payload_size(request)
        limit = self.payload_limit
        if size > limit:
            msg = (
                f"{size} byte payload is too large for the Event invocation type "
                f"(limit {limit} bytes)"
            )
            raise RequestEntityTooLargeError(msg)
        now = self.scheduler.clock.now()
        if self.invoke_rate_factor is not None:
            self._check_rate(now)
        request_id = new_request_id(self.rng)
        self._accept(request_id, request, now, duplicate=False)
        self.metrics.async_events_received += 1
        if self.duplicate_probability and self.rng.random() < self.duplicate_probability:
            self.metrics.duplicates += 1
            self._accept(request_id, request, now, duplicate=True)
        return _response(202, b"", None, None, request_id, None)

    def _check_rate(self, now: float) -> None:
        window = int(now)
        if window != self._window:
            self._window = window
            self._window_count = 0
        function = self.function
        reserved = function.reserved_concurrency
        if reserved == 0:
            return  # zero concurrency: accepted, then dropped to the DLQ (reference 3.3)
        assert self.invoke_rate_factor is not None
        concurrency = function.account.concurrency_limit if reserved is None else reserved
        if self._window_count >= self.invoke_rate_factor * concurrency:
            self.metrics.throttles += 1
            reason = (
                "FunctionInvocationRateLimitExceeded"
                if reserved is None
                else "ReservedFunctionInvocationRateLimitExceeded"
            )
            raise TooManyRequestsError(reason)
        self._window_count += 1

    def _accept(self, request_id: str, request: str, now: float, *, duplicate: bool) -> None:
        keep = self.keep_records
        event = _Event(
            self,
            request_id,
            request,
            now,
            on_grid(now + self.config.maximum_event_age),
            duplicate,
        )
        if keep and not duplicate:
            self._live[request_id] = event
        self._pending += 1
        self.queue.put(event, now)
        timer = self._timer
        # `_wake_at(now)`, without its call when a wake-up is already due by now.
        if timer is None or timer.callback is None or timer.ticks / _TICKS_PER_SECOND > now:
            self._wake_at(now)

    # -- dispatch -----------------------------------------------------------------------------

    def _wake_at(self, when: float) -> None:
        # The first tick at or after ``when``: a service queue may report any float, and a
        # wake-up a hair before its ready time would find nothing due and spin.
        # A later wake-up is cancelled and booked again at the earlier time, rather than left
        # in place: a stale wake-up would run before timers booked after it at the same
        # instant (a slot released then), and change which event gets the slot.
        timer = self._timer
        if timer is not None and timer.callback is not None:
            booked = timer.ticks / _TICKS_PER_SECOND  # `timer.when`, without the property
            if booked <= when:  # the common case, before rounding ``when`` up
                return
            when = on_grid(when, up=True)
            if booked <= when:
                return
            timer.cancel()
        else:
            when = on_grid(when, up=True)
        self._timer = self.scheduler.at(when, self._dispatch)

    def _dispatch(self) -> None:
        self._timer = None
        now = self.scheduler.clock.now()
        queue = self.queue
        take = queue.take
        cap = self.max_in_flight
        executor = self.executor
        outer, self._dispatch_now = self._dispatch_now, now
        function = self.function
        chains = CHAINS
        try:
            if type(executor) is InlineExecutor and type(queue) is InMemoryServiceQueue:
                # `InlineExecutor.submit` unrolled: the same start, run and finish (or
                # abandon) of each try, without three calls through the handle per try;
                # and `InMemoryServiceQueue.take` read off its heap, without its call.
                run_and_end = self._lifecycle.run_and_end
                heap = queue._heap
                pop = heapq.heappop
                while cap is None or self._in_flight < cap:
                    if not heap or heap[0][0] > now:
                        break
                    event = pop(heap)[2]
                    if event.start(now):
                        outer_chain = chains.value
                        chains.value = (event.chain, function)
                        try:
                            run_and_end(event, event.request, event.request_id, now)
                        except BaseException:
                            event.abandon()
                            raise
                        finally:
                            chains.value = outer_chain
                    if self._again:
                        break
            elif type(executor) is InlineExecutor:
                run_and_end = self._lifecycle.run_and_end
                while cap is None or self._in_flight < cap:
                    event = take(now)
                    if event is None:
                        break
                    if event.start(now):
                        outer_chain = chains.value
                        chains.value = (event.chain, function)
                        try:
                            run_and_end(event, event.request, event.request_id, now)
                        except BaseException:
                            event.abandon()
                            raise
                        finally:
                            chains.value = outer_chain
                    if self._again:
                        break
            else:
                submit = executor.submit
                while cap is None or self._in_flight < cap:
                    event = take(now)
                    if event is None:
                        break
                    submit(event, now)
                    if self._again:
                        break
        finally:
            self._dispatch_now = outer
        self._again = False
        if type(queue) is InMemoryServiceQueue:
            heap = queue._heap  # `next_ready_at`, without its call
            upcoming = heap[0][0] if heap else None
        else:
            upcoming = queue.next_ready_at()
        if upcoming is not None and (cap is None or self._in_flight < cap or upcoming > now):
            self._wake_at(upcoming if upcoming > now else now)

    def _abandon(self, event: _Event, *, requeue: bool) -> None:
        """Undo `start` after ``run_attempt`` raised (a model error, e.g. a bad ``duration``).

        Whatever a handler does is a result, so this is the model's own failure: the
        lifecycle gave the slot back as ``run`` raised and, with ``requeue``, the event
        goes back to the queue untried, so a run resumed after fixing the cause finds
        nothing half-done.
        """
        if not event.trying:
            # The try had ended: what raised came after it (the retry policy, in `_retry`,
            # which put the event back in the queue), so there is nothing to undo.
            return
        event.trying = False
        self._in_flight -= 1
        now = event.admitted_at
        event.executions -= 1
        metrics = self.metrics
        metrics.invocations -= 1
        metrics.async_event_age_sum -= now - event.enqueued_at
        if requeue:
            self.queue.put(event, now)
            self._wake_at(now)

    def _ended(self, event: _Event, result: AttemptResult, scheduled: bool) -> None:
        # The lifecycle's `ended` hook: the slot is free again (released at the attempt's end).
        event.trying = False
        self._in_flight -= 1
        wants = self._wants_last()
        if wants:
            # Build the error document now: it releases the exception and its frames.
            _ = result.payload
            event.last = result
        now = self.scheduler.clock.now()
        history = self.history
        if result.function_error is None:
            if history.keep:
                history.defer(_event_span, self.function.name, event.request_id,
                              event.executions + event.system_errors, event.executions,
                              event.enqueued_at, result.started_at, result.ended_at, _SUCCESS,
                              None, event.in_flight, event.duplicate)  # fmt: skip
            policy = self.retry_policy
            if policy is not self._hooked:  # a policy assigned later: look it up once
                self._hooked, self._succeeded = policy, success_hook(policy)
            succeeded = self._succeeded
            if succeeded is not None:
                succeeded(event.executions + event.system_errors)
                self._end(event, EventOutcomeKind.SUCCEEDED, "Success", now)
            elif wants:
                self._end(event, EventOutcomeKind.SUCCEEDED, "Success", now)
            else:
                # `_end` of a success nobody reads (nothing ran since `_wants_last` was
                # asked): only the pending count moves.
                self._pending -= 1
        else:
            self.metrics.errors += 1
            event.function_errors += 1
            event.error_code = 200
            event.error_message = ""
            if history.keep:
                history.defer(_event_span, self.function.name, event.request_id,
                              event.executions + event.system_errors, event.executions,
                              event.enqueued_at, result.started_at, result.ended_at,
                              _FUNCTION_ERROR, result.error_type, event.in_flight,
                              event.duplicate)  # fmt: skip
            self._retry(event, FailureKind.FUNCTION_ERROR, result.error_type or "", 200, now)
        if scheduled:
            now = self.scheduler.now
            upcoming = self.queue.next_ready_at()
            if upcoming is not None and upcoming <= now:
                self._wake_at(now)

    def _wants_last(self) -> bool:
        """True when anything will read the last attempt (records, DLQ, callbacks)."""
        config = self.config
        return (
            self.keep_records
            or self.on_outcome is not None
            or self.dead_letter is not None
            or config.on_failure is not None
            or config.on_success is not None
        )

    def _retry(self, event: _Event, kind: FailureKind, code: str, status: int, now: float) -> None:
        count = event.function_errors if kind is _FUNCTION_ERROR_KIND else event.system_errors
        failure = _failure(
            event.executions + event.system_errors, kind, count, code, status, event.enqueued_at,
            now,
        )  # fmt: skip
        policy = self.retry_policy
        try:
            decision = policy.decide(failure, self.rng)
            if type(decision) is not Decision:
                decision = checked_decision("retry_policy", policy, decision)
        except BaseException:
            # The policy's own failure stops the run; the event is not lost: it waits in
            # the queue, due at once, and counts as pending.
            self.queue.put(event, now)
            self._wake_at(now)
            raise
        delay = decision.delay
        if delay is None:
            # The policy's reason is the record's condition; the kind classifies it.
            reason = decision.reason or RETRIES_EXHAUSTED
            if reason == EVENT_AGE_EXCEEDED:
                self._end(event, EventOutcomeKind.EVENT_AGE_EXCEEDED, reason, now)
            else:
                self._end(event, EventOutcomeKind.RETRIES_EXHAUSTED, reason, now)
            return
        # On the clock's grid: a float ready time a hair past the tick the wake-up lands on
        # would never be "due" at that tick, and dispatch would spin.
        ready = on_grid(now + delay)
        if ready >= event.deadline:
            # The look-ahead age rule holds whatever policy is plugged in (reference 3.3);
            # a delay too large for the clock is "never", past every deadline.
            self._end(event, EventOutcomeKind.EVENT_AGE_EXCEEDED, EVENT_AGE_EXCEEDED, now)
            return
        if ready <= now:
            stall = event.stall = count_stall(event.stall, now)
            if stall[1] >= STALL_LIMIT:
                # Left queued, due at once (pending, not lost); the run stops, naming the policy.
                self.queue.put(event, ready)
                self._wake_at(ready)
                raise stalled("retry_policy", policy, f"event {event.request_id}", now)
            self._again = True
        self.queue.put(event, ready)
        self._wake_at(ready)

    # -- outcomes -----------------------------------------------------------------------------

    def _end(self, event: _Event, kind: EventOutcomeKind, condition: str, now: float) -> None:
        self._pending -= 1
        if kind is not EventOutcomeKind.SUCCEEDED and kind is not EventOutcomeKind.CANCELLED:
            self.metrics.async_events_dropped += 1
        if not self._wants_last():
            return
        config = self.config
        dead_letter = self.dead_letter
        success = kind is EventOutcomeKind.SUCCEEDED
        target = config.on_success if success else config.on_failure
        if kind is EventOutcomeKind.CANCELLED:
            target = dead_letter = None
        keep = self.keep_records
        outcome = EventOutcome(
            event.request_id, kind, condition, event.executions, event.enqueued_at, now,
            self.scheduler.clock.epoch(), self._arn, event.request, event.last,
            event.duplicate,
        )  # fmt: skip
        errors: list[str] = []
        # An interrupt (KeyboardInterrupt, SystemExit) raised by a destination is recorded
        # as its delivery failure like any error, and raised once the outcome is recorded.
        interrupt: BaseException | None = None
        if target is not None:
            delivery = Delivery(
                function_arn=self._arn,
                success=success,
                epoch=outcome.epoch,
                region=self.function.region,
                account_id=self.function.account.account_id,
                s3_prefix=self._s3_prefix,
                rng=self.rng,
            )
            try:
                target.deliver(outcome.record(), delivery)
            except BaseException as exc:
                self.metrics.destination_delivery_failures += 1
                errors.append(f"destination: {describe_error(exc)}")
                if not isinstance(exc, Exception):
                    interrupt = exc
        if dead_letter is not None and not success:
            try:
                self._dead_letter(dead_letter, event)
            except BaseException as exc:
                self.metrics.dead_letter_errors += 1
                errors.append(f"dead-letter: {describe_error(exc)}")
                if interrupt is None and not isinstance(exc, Exception):
                    interrupt = exc
        if errors:
            outcome = attrs.evolve(outcome, delivery_errors=tuple(errors))
        if keep:
            self._outcomes.append(outcome)
            if not event.duplicate:
                self._by_id[event.request_id] = outcome
                self._live.pop(event.request_id, None)
        if interrupt is not None:
            raise interrupt
        if self.on_outcome is not None:
            self.on_outcome(outcome)

    def _dead_letter(self, target: DeadLetterQueue | DeadLetterTopic, event: _Event) -> None:
        """The original event with ``RequestID``/``ErrorCode``/``ErrorMessage`` (reference 3.7)."""
        message = event.error_message
        if not message and event.last is not None:
            message = _error_message(event.last)
        attributes = dead_letter_attributes(event.request_id, event.error_code, message)
        if _is_topic(target):
            if payload_size(event.request) > SNS_MESSAGE_LIMIT:
                msg = f"message of {payload_size(event.request)} bytes is over SNS's 256 KB limit"
                raise ValueError(msg)
            target.publish(event.request, attributes)
        else:
            cast("DeadLetterQueue", target).send_message(event.request, attributes)

    def cancel_pending(self) -> list[str]:
        """End every event still queued with `EventOutcomeKind.CANCELLED`; returns their ids.

        Used when a real-clock worker shuts down without draining.  Events whose attempt
        is running are not touched (their completion still decides their outcome).
        """
        cancelled: list[str] = []
        queue = self.queue
        while (upcoming := queue.next_ready_at()) is not None:
            event = queue.take(upcoming)
            if event is None:  # pragma: no cover - a queue must hand out what it reports
                break
            cancelled.append(event.request_id)
            self._end(event, EventOutcomeKind.CANCELLED, "Cancelled", self.scheduler.now)
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        return cancelled

    # -- queries ------------------------------------------------------------------------------

    @property
    def pending(self) -> int:
        """Events (and duplicate copies) accepted but without an outcome yet."""
        return self._pending

    @property
    def in_flight(self) -> int:
        """Executions running now (attempts with a modelled duration)."""
        return self._in_flight

    @property
    def outcomes(self) -> list[EventOutcome]:
        """Every outcome so far, in the order decided (duplicates included; keep_records)."""
        return list(self._outcomes)

    def outcome(self, request_id: str) -> EventOutcome:
        """The terminal outcome of the event ``request_id`` (``KeyError`` if none yet)."""
        try:
            return self._by_id[request_id]
        except KeyError:
            if not self.keep_records:
                msg = f"{request_id}: outcomes are not kept (keep_records=False)"
            elif request_id in self._live:
                msg = f"{request_id}: the event has no outcome yet (run the scheduler)"
            else:
                msg = f"{request_id}: no such event"
            raise KeyError(msg) from None

    def counts(self) -> dict[EventOutcomeKind, int]:
        """How many outcomes of each kind (keep_records)."""
        counts = dict.fromkeys(EventOutcomeKind, 0)
        for outcome in self._outcomes:
            counts[outcome.kind] += 1
        return counts


@attrs.define(repr=False, eq=False)
class FunctionTarget:
    """A Lambda function as a destination: the record is the input of an ``Event`` invoke.

    The target function is invoked through its own `EventInvoker` (share the scheduler so
    both run on one clock).  ``records`` lists what was delivered.  A refused invoke
    (e.g. a record over the 1 MB limit) raises, which the source counts as a
    ``DestinationDeliveryFailures``.
    """

    invoker: EventInvoker = attrs.field(
        validator=instance_of("invoker", EventInvoker, "an EventInvoker")
    )
    records: list[dict[str, Any]] = attrs.field(factory=list, init=False)

    def __repr__(self) -> str:
        return f"<FunctionTarget {self.invoker.function.name} records={len(self.records)}>"

    @property
    def arn(self) -> str:
        """The target function's unqualified ARN."""
        return self.invoker.function.arn

    def deliver(self, record: dict[str, Any], delivery: Delivery) -> None:
        """Invoke the target function asynchronously with the record as its event."""
        del delivery
        self.invoker.invoke(record)
        self.records.append(record)
