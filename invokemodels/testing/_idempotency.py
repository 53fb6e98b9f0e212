"""`check_idempotent`: a one-call property check of a handler under at-least-once delivery.

Lambda delivers at least once: an Event can arrive twice, a standard SQS queue can hand a
message out again, and a failed SQS or stream batch is delivered again whole, so a
handler that already wrote its side effects sees the same record a second time.  The check
runs the handler twice over each generated list of events, on the same seed:

1. the **reference run**: every event delivered once (no duplicates, no injected failures;
   a failure of the handler's own is retried as the model retries it);
2. the **at-least-once run**: the same events with the model's duplicates turned on and,
   after some invocations *whose handler returned*, the invocation failed anyway, as when
   the function crashes or times out after its writes, so the model retries what the
   handler already did (Event retries, SQS redeliveries after the visibility timeout,
   stream batch retries).

The user's view of the side effects after each run must be equal.  Needs Hypothesis (the
``testing`` extra).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Final, Literal

import attrs
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from invokemodels.aws._kinesis import KinesisStream
from invokemodels.aws._sqs import Queue, RedrivePolicy
from invokemodels.core._function import Function
from invokemodels.core._history import History, Span
from invokemodels.core._scheduler import Scheduler
from invokemodels.core._validate import check_range
from invokemodels.event._invoker import EventInvoker
from invokemodels.exceptions import InvalidParameterValueError
from invokemodels.mapping._sqs import SQSMappingConfig
from invokemodels.mapping._stream_config import StreamMappingConfig
from invokemodels.observe import Timeline
from invokemodels.testing._strategies import sqs_bodies

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

__all__ = ["IDEMPOTENCY_MODELS", "InjectedFailure", "NotIdempotentError", "check_idempotent"]

IDEMPOTENCY_MODELS: Final = ("sqs", "event", "kinesis")
"""The values of `check_idempotent`'s ``model``."""

_NAME: Final = "idempotency-check"
_REPORT: Final = ("ReportBatchItemFailures",)


class InjectedFailure(RuntimeError):
    """The error `check_idempotent` raises after a handler returned, to make the model
    retry an invocation whose side effects already happened."""


class NotIdempotentError(AssertionError):
    """`check_idempotent` found events whose at-least-once delivery changed the side effects.

    Attributes:
        model: ``"sqs"``, ``"event"`` or ``"kinesis"``.
        events: the generated events (bodies, payloads or record data) of the failing run.
        expected: the side-effect view of the reference run (each event processed once).
        actual: the view after the at-least-once run.
        repeated: the events the handler was given more than once, as
            ``(index in events, times processed)``.
    """

    def __init__(
        self,
        message: str | Callable[[], str],
        *,
        model: str,
        events: Sequence[Any],
        expected: Any,
        actual: Any,
        repeated: Sequence[tuple[int, int]],
    ) -> None:
        # The message (with its timeline) is written when first shown: Hypothesis raises
        # many of these while it shrinks, and shows one.
        super().__init__("check_idempotent: the side effects differ (see the message)")
        self._message = message
        self.model = model
        self.events = list(events)
        self.expected = expected
        self.actual = actual
        self.repeated = list(repeated)

    def __str__(self) -> str:
        message = self._message
        if callable(message):
            message = self._message = message()
        return message


@attrs.frozen
class _Run:
    """What one run of the handler left behind."""

    ids: tuple[str, ...]
    history: History
    source: Any


def _clip(value: Any, limit: int = 300) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _run(
    model: str,
    handler: Callable[[Any, Any], Any],
    items: Sequence[Any],
    seed: int,
    *,
    at_least_once: bool,
    duplicate_probability: float,
    failure_probability: float,
    batch_size: int,
    report_batch_item_failures: bool,
    timeout: float,
    handler_time: bool,
) -> _Run:
    scheduler = Scheduler(handler_time=handler_time)
    failures = random.Random(seed ^ 0x5EED)
    fail = failure_probability if at_least_once else 0.0

    def wrapped(event: Any, context: Any) -> Any:
        result = handler(event, context)
        if fail and failures.random() < fail:
            msg = "injected by check_idempotent after the handler returned"
            raise InjectedFailure(msg)
        return result

    function = Function(name="idempotency-check", handler=wrapped, timeout=timeout)
    history = History()
    source: Any
    if model == "sqs":
        dlq = Queue(f"{_NAME}-dlq", scheduler=scheduler, seed=seed)
        queue = Queue(
            _NAME,
            scheduler=scheduler,
            seed=seed,
            visibility_timeout=min(43_200, max(30, math.ceil(6 * timeout))),
            redrive_policy=RedrivePolicy(dead_letter_target=dlq, max_receive_count=5),
            duplicate_probability=duplicate_probability if at_least_once else 0.0,
            duplicate_delivery=("after_visibility_timeout", "concurrent")[seed % 2],
        )
        ids = tuple(queue.send_message(item).message_id for item in items)
        config = SQSMappingConfig(
            batch_size=batch_size,
            maximum_batching_window=0 if batch_size <= 10 else 1,
            function_response_types=_REPORT if report_batch_item_failures else (),
        )
        source = queue.map_to(function, config, history=history, seed=seed)
    elif model == "event":
        invoker = EventInvoker(
            function,
            scheduler=scheduler,
            seed=seed,
            history=history,
            duplicate_probability=duplicate_probability if at_least_once else 0.0,
        )
        ids = tuple(invoker.invoke(item).request_id for item in items)
        source = invoker
    else:
        stream = KinesisStream(_NAME, scheduler=scheduler)
        ids = tuple(
            stream.put_record(item, f"key-{index % 4}")["SequenceNumber"]
            for index, item in enumerate(items)
        )
        stream_config = StreamMappingConfig(
            starting_position="TRIM_HORIZON",
            batch_size=batch_size,
            maximum_retry_attempts=3,
            function_response_types=_REPORT if report_batch_item_failures else (),
        )
        source = stream.map_to(function, stream_config, history=history, seed=seed)
    scheduler.run_until_idle()
    return _Run(ids, history, source)


def _how(span: Span, item: str, first: bool, model: str) -> str:
    carried = span.carried.count(item)
    copies = span.duplicates.count(item)
    parts = []
    if carried > copies:
        if first:
            parts.append("first delivery")
        elif model == "sqs":
            parts.append("redelivered after its batch failed and the visibility timeout ended")
        elif model == "event":
            parts.append("retried after the previous try failed")
        else:
            parts.append("the batch retried after the previous try failed")
    if copies:
        parts.append(
            "a duplicate copy of the message (same messageId, new receipt handle)"
            if model == "sqs"
            else "a duplicate delivery of the event (same request id)"
        )
    why = ", and ".join(parts)
    if span.error_type == InjectedFailure.__name__:
        ended = "the handler returned, then the invocation failed on purpose (InjectedFailure)"
    else:
        ended = span.outcome.value + (f" {span.error_type}" if span.error_type else "")
    kind = "event" if model == "event" else "batch"
    what = f"{kind} {span.request_id[:8]} try {span.attempt}"
    if span.carried.count(item) > 1:
        what += f" (carried it {span.carried.count(item)} times)"
    return f"  {span.started_at:.3f}s {what}: {why}; {ended}"


def _repeated(run: _Run) -> list[tuple[int, int]]:
    """``(index, times processed)`` of each event the handler was given more than once."""
    counts: dict[str, int] = dict.fromkeys(run.ids, 0)
    for span in run.history:
        if span.ran:
            for item in span.carried:
                if item in counts:
                    counts[item] += 1
    return [(index, counts[item]) for index, item in enumerate(run.ids) if counts[item] > 1]


def _explain(
    model: str,
    items: Sequence[Any],
    seed: int,
    expected: Any,
    actual: Any,
    run: _Run,
) -> str:
    noun = {"sqs": "message", "event": "event", "kinesis": "record"}[model]
    key = {"sqs": "messageId", "event": "request id", "kinesis": "sequenceNumber"}[model]
    lines = [
        f"check_idempotent: under at-least-once delivery the side effects differ from each "
        f"{noun} processed once (model={model!r}, {len(items)} {noun}"
        f"{'' if len(items) == 1 else 's'}, seed={seed}).",
        f"each once:     {_clip(expected)}",
        f"at least once: {_clip(actual)}",
    ]
    repeated = _repeated(run)
    for index, times in repeated:
        item = run.ids[index]
        ran = [span for span in run.history.of(item) if span.ran]
        lines.append(
            f"{noun} {index} of {len(items)}, {_clip(items[index], 120)} ({key} {item}), "
            f"was processed {times} times:"
        )
        lines.extend(_how(span, item, n == 0, model) for n, span in enumerate(ran))
    if not repeated:
        lines.append(f"no {noun} was processed twice: the handler's failures differ between runs")
    try:
        timeline = Timeline.from_history(run.history, sources=[run.source])
        lines += ["timeline of the at-least-once run:", timeline.text(limit=60).rstrip()]
    except Exception as exc:  # the explanation must not hide the finding
        lines.append(f"(no timeline: {type(exc).__name__}: {exc})")
    return "\n".join(lines)


def _default_events(model: str) -> SearchStrategy[Any]:
    if model == "sqs":
        return sqs_bodies
    if model == "event":
        # One id, one payload: a redelivery of an older event cannot carry newer data.
        return st.integers(0, 10**6).map(lambda i: {"id": i, "value": f"v{i}"})
    return st.binary(min_size=1, max_size=64)


def _probability(parameter: str, value: Any) -> float:
    check_range(parameter, value, 0, 1)
    return float(value)


def check_idempotent(
    handler: Callable[[Any, Any], Any],
    *,
    side_effects: Callable[[], Any],
    reset: Callable[[], object],
    events: SearchStrategy[Any] | None = None,
    model: Literal["sqs", "event", "kinesis"] = "sqs",
    expected: Callable[[list[Any]], Any] | None = None,
    duplicate_probability: float = 0.5,
    failure_probability: float = 0.25,
    max_events: int = 8,
    batch_size: int = 10,
    report_batch_item_failures: bool = False,
    timeout: float = 3,
    handler_time: bool = False,
    max_examples: int = 50,
    settings: hypothesis_settings | None = None,
) -> None:
    """Check that ``handler`` has the same side effects under at-least-once delivery as
    with each event processed once; raise `NotIdempotentError` (an `AssertionError`) if not.

    A Hypothesis property: for each generated list of events (1 to ``max_events``, drawn
    from ``events``) and seed, ``reset()`` then a reference run (each event delivered
    once), ``side_effects()``; ``reset()`` then an at-least-once run of the same events
    (the model's duplicates and retries, see below), ``side_effects()``.  The two views must
    be equal (``==``).  Hypothesis shrinks a failure to a small list of events; the error
    names each event the handler was given more than once, how (a duplicate copy, a
    redelivery, a retry) and how each try ended, followed by the text timeline
    (`invokemodels.observe`).

    Call it from a plain test function (it runs its own Hypothesis test: not from inside
    an ``@given`` test).  Each run has its own virtual-clock `Scheduler`, `Function` named
    ``idempotency-check`` and source, so nothing is shared between runs but your handler's
    own state, which ``reset`` clears.

    Args:
        handler: the handler under test, ``handler(event, context)``, unchanged.
        side_effects: returns your view of what the handler did (rows written, emails
            sent, a counter, ...), compared with ``==``.  Make it independent of delivery
            order (a set, a sorted list, a dict) and of AWS ids (``messageId``, request
            ids), which may differ between the runs; use the ids in your own data.
        reset: clears the side effects before each run (``db.clear``).
        events: a Hypothesis strategy for one event's content: an SQS message body
            (``str``; default `sqs_bodies`), an Event payload (any JSON value; default
            ``{"id": n, "value": "v<n>"}``) or a Kinesis record's data (``bytes`` or
            ``str``; default 1-64 random bytes).  Two events in one example may be equal;
            a strategy whose events share a key but differ in content asks whether the
            handler survives reordering too (a redelivered older event arriving after a
            newer one), which at-least-once delivery also does.
        model: ``"sqs"`` (a standard queue: duplicate copies, redeliveries after a failed
            batch; a redrive policy with ``maxReceiveCount`` 5), ``"event"`` (Event
            duplicates and the two retries of ``MaximumRetryAttempts`` 2) or
            ``"kinesis"`` (one shard's batches retried whole, ``MaximumRetryAttempts`` 3).
        expected: instead of the reference run, the view each event processed once gives,
            computed from the list of events.
        duplicate_probability: the model's duplicate chance in the at-least-once run
            (per receive for SQS, per event for Event; Kinesis has none), 0-1, default 0.5.
            An SQS example's seed also picks the queue's ``duplicate_delivery``.
        failure_probability: the chance that an invocation whose handler returned is
            failed anyway (`InjectedFailure`), 0-1, default 0.25.
        max_events: at most this many events per example, 1-100 (default 8).
        batch_size: ``BatchSize`` of the SQS or Kinesis mapping, 1-100 (default 10).
        report_batch_item_failures: turn on ``ReportBatchItemFailures`` for SQS and
            Kinesis, for handlers that return a partial batch response.
        timeout: the function's timeout in seconds (default 3).
        handler_time: run on ``Scheduler(handler_time=True)`` (``time.time()`` and
            ``time.sleep()`` in the handler follow the virtual clock).
        max_examples: Hypothesis examples (default 50); ignored when ``settings`` is given.
        settings: a ``hypothesis.settings`` to use instead (its profile, database, ...).

    Example::

        done: dict[str, str] = {}


        def handler(event, context):
            for record in event["Records"]:
                done[record["body"]] = "sent"  # keyed by the order: a duplicate rewrites it


        check_idempotent(handler, side_effects=lambda: dict(done), reset=done.clear)
    """
    if not callable(handler):
        raise InvalidParameterValueError("handler", handler, "must be a callable handler")
    for name, value in (("side_effects", side_effects), ("reset", reset)):
        if not callable(value):
            raise InvalidParameterValueError(name, value, "must be a callable taking nothing")
    if expected is not None and not callable(expected):
        raise InvalidParameterValueError("expected", expected, "must be None or a callable")
    if model not in IDEMPOTENCY_MODELS:
        raise InvalidParameterValueError("model", model, "must be 'sqs', 'event' or 'kinesis'")
    if events is None:
        events = _default_events(model)
    elif not isinstance(events, st.SearchStrategy):
        raise InvalidParameterValueError(
            "events", events, "must be a Hypothesis strategy (e.g. st.text(min_size=1))"
        )
    duplicate_probability = _probability("duplicate_probability", duplicate_probability)
    failure_probability = _probability("failure_probability", failure_probability)
    check_range("max_events", max_events, 1, 100, integer=True)
    check_range("batch_size", batch_size, 1, 100, integer=True)
    check_range("max_examples", max_examples, 1, 100_000, integer=True)
    if settings is not None and not isinstance(settings, hypothesis_settings):
        raise InvalidParameterValueError(
            "settings", settings, "must be None or a hypothesis.settings"
        )
    # Validated up front, so a bad value is reported once, not as a failing example.
    Function(name="idempotency-check", handler=handler, timeout=timeout)
    Scheduler(handler_time=handler_time)

    options: dict[str, Any] = {
        "duplicate_probability": duplicate_probability,
        "failure_probability": failure_probability,
        "batch_size": batch_size,
        "report_batch_item_failures": bool(report_batch_item_failures),
        "timeout": timeout,
        "handler_time": handler_time,
    }

    def once(items: list[Any], seed: int) -> None:
        if expected is None:
            reset()
            _run(model, handler, items, seed, at_least_once=False, **options)
            want = side_effects()
        else:
            want = expected(list(items))
        reset()
        run = _run(model, handler, items, seed, at_least_once=True, **options)
        got = side_effects()
        if got != want:
            raise NotIdempotentError(
                lambda: _explain(model, items, seed, want, got, run),
                model=model,
                events=items,
                expected=want,
                actual=got,
                repeated=_repeated(run),
            )

    prop = given(
        items=st.lists(events, min_size=1, max_size=max_events),
        seed=st.integers(0, 2**32 - 1),
    )(once)
    if settings is None:
        settings = hypothesis_settings(
            max_examples=max_examples,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        )
    settings(prop)()
