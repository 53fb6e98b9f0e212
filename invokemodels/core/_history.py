"""One history for every model: a `Span` per try (an attempt, a throttle, a refused call, a
batch), an `Outcome` naming how it ended, and the `History` that keeps them.

Every model (`RequestResponseInvoker`, `EventInvoker`, `EventSourceMapping`) takes
``history=`` and records one span per try into it; models that share one `History` (on one
scheduler) give one time-ordered timeline.  A timeline export and a test's assertions read
the same spans, without per-model code.

``History(keep=False)`` keeps nothing and costs nothing: a model asks `History.keep` before
it builds anything.  A kept history is cheap on the hot path: a model hands `History.defer`
the values of a span and the span is built when the history is first read.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Hashable, Iterator
from typing import Any

import attrs

from invokemodels.exceptions import InvalidParameterValueError

__all__ = ["History", "Model", "Outcome", "Span"]


class Model(enum.Enum):
    """Which invocation model made a try: AWS's invocation type strings."""

    REQUEST_RESPONSE = "RequestResponse"
    """A synchronous invoke (`RequestResponseInvoker`)."""
    DRY_RUN = "DryRun"
    """A ``DryRun`` invoke: validated, never run."""
    EVENT = "Event"
    """A try of an asynchronous event (`EventInvoker`)."""
    EVENT_SOURCE_MAPPING = "EventSourceMapping"
    """A batch invocation of a poll-based mapping (`EventSourceMapping`)."""


class Outcome(enum.Enum):
    """How one try ended: the one set of outcome names of every model."""

    SUCCESS = "Success"
    """The function ran and returned (a batch response may still report partial failures)."""
    FUNCTION_ERROR = "FunctionError"
    """The function ran and failed: raised, timed out, or its response could not be sent."""
    THROTTLED = "Throttled"
    """429: no concurrency (or rate) was free; the function did not run."""
    SERVICE_ERROR = "ServiceError"
    """A 5xx system error (injected); the function did not run."""
    REFUSED = "Refused"
    """A synchronous call refused before it ran (400, 404, 413, ...): ``error_type`` is the
    wire code, ``status_code`` its HTTP status."""
    DRY_RUN = "DryRun"
    """A ``DryRun`` call: validated and answered 204, the handler did not run."""


@attrs.frozen(slots=True)
class Span:
    """One try of one model: an execution, a throttle, a refused call or a batch invocation.

    Attributes:
        model: the `Model` that made it.
        function: the function's name.
        request_id: the try's request id (an event's is the same for every try; a
            batch invocation has its own).
        attempt: 1-based number of this try among the tries of the same item (an
            event: throttles included; a synchronous call: always 1; a batch: what its
            poller reports, 1 for a first delivery).
        execution: 1-based count of executions of the item after this try (an event's
            ``approximateInvokeCount``), or None when the function did not run.
        enqueued_at: clock time the item was accepted (an event's enqueue time; a
            synchronous call's arrival; a batch's ``Batch.enqueued_at`` when its poller
            gives one: a stream batch's last record's arrival, an SQS batch's oldest
            message's send; else the batch's start).
        started_at: clock time the try started.
        ended_at: clock time it ended (equal to ``started_at`` when nothing ran).
        outcome: an `Outcome`.
        error_type: the runtime ``errorType`` of a function error, the ``Reason`` of a
            throttle, the wire code of a refused call or service error; else None.
        status_code: the HTTP status of a synchronous call (200, 204, 429, ...), else None.
        lane: the shard, message group or queue of a batch, else None.
        size: how many items the try carried (a batch's records; 1 for an event or a call).
        carried: the ids the try carried: an event's request id; a batch's sequence
            numbers or message ids (what its poller reports); a synchronous call's request id.
        failed: the item identifiers a partial batch response reported as failed.
        in_flight: the function's concurrency right after the try took its slot, or
            None when it did not run.
        source: the ARN of a batch's event source (stream or queue) when its poller
            names it, else None.
        duplicates: the ids among ``carried`` that this try carried as an at-least-once
            duplicate delivery (an SQS queue's duplicate copy of a message; an Event
            duplicate copy's request id); empty for a first-class delivery.
    """

    model: Model
    function: str
    request_id: str
    attempt: int
    execution: int | None
    enqueued_at: float
    started_at: float
    ended_at: float
    outcome: Outcome
    error_type: str | None = None
    status_code: int | None = None
    lane: Hashable = None
    size: int = 1
    carried: tuple[str, ...] = ()
    failed: tuple[str, ...] = ()
    in_flight: int | None = None
    source: str | None = None
    duplicates: tuple[str, ...] = ()

    @property
    def ran(self) -> bool:
        """True when the function ran (``execution`` is not None)."""
        return self.execution is not None

    @property
    def dwell_time(self) -> float:
        """Seconds from acceptance to this try's start (an event's ``AsyncEventAge``; a
        stream batch's ``IteratorAge``; an SQS batch's age of its oldest message)."""
        return self.started_at - self.enqueued_at

    @property
    def duration(self) -> float:
        """Seconds from the try's start to its end."""
        return self.ended_at - self.started_at

    def overlaps(self, other: Span) -> bool:
        """True when both tries ran and their ``[started_at, ended_at)`` intervals intersect."""
        return (
            self.ran
            and other.ran
            and self.started_at < other.ended_at
            and other.started_at < self.ended_at
        )


def _given(span: Span) -> Span:
    return span


def _started_at(span: Span) -> float:
    return span.started_at


class History:
    """The spans of one or more models, in time order (by ``started_at``; ties as recorded).

    Args:
        keep: False keeps nothing (`record` and `defer` are no-ops and models build no
            span at all); default True.

    A model records a span when the try ends (a throttle or refusal at once, an execution
    at its end; a synchronous call when it is answered); reading gives every span in order
    of ``started_at``, ties in the order recorded (a model's own tries keep their order), so
    a history shared by models on one scheduler is one timeline.  Queries: iteration, ``len`` and
    indexing, `spans`, `of`, `where`, `counts`; `clear` forgets.

    Example::

        history = History()
        fn = Function(name="greeter", handler=lambda event, context: event)
        RequestResponseInvoker(fn, seed=1, history=history).invoke("hi")
        [span] = history
        assert span.outcome is Outcome.SUCCESS and span.model is Model.REQUEST_RESPONSE
    """

    __slots__ = ("_args", "_makes", "_spans", "keep")

    def __init__(self, keep: bool = True) -> None:
        if not isinstance(keep, bool):
            raise InvalidParameterValueError("keep", keep, "must be True or False")
        self.keep: bool = keep
        """True when spans are kept (read it before building one)."""
        # Two parallel lists, not a list of pairs: no container per span for the cyclic
        # garbage collector to scan (a tuple of plain values is untracked once it survives
        # a collection), which keeps a long kept history cheap.
        self._makes: list[Callable[..., Span]] = []
        self._args: list[tuple[Any, ...]] = []
        self._spans: list[Span] = []

    def __repr__(self) -> str:
        return f"<History spans={len(self._makes)} keep={self.keep}>"

    # -- recording --------------------------------------------------------------------------

    def record(self, span: Span) -> None:
        """Add ``span`` (nothing when not kept)."""
        if self.keep:
            self._makes.append(_given)
            self._args.append((span,))

    def defer(self, make: Callable[..., Span], *args: Any) -> None:
        """Add the span ``make(*args)`` returns, built when the history is first read.

        The hot path of a model: ``args`` must not change afterwards, and are cheapest
        kept as plain values (strings, numbers, None, tuples of them: an enum member's
        ``value`` rather than the member).  Nothing when not kept (a model that checks
        `keep` first does not even build ``args``).
        """
        if self.keep:
            self._makes.append(make)
            self._args.append(args)

    def clear(self) -> None:
        """Forget every span."""
        self._makes.clear()
        self._args.clear()
        self._spans.clear()

    # -- reading ----------------------------------------------------------------------------

    def spans(self) -> list[Span]:
        """Every span, in time order (a new list)."""
        return list(self._built())

    def _built(self) -> list[Span]:
        spans, makes = self._spans, self._makes
        start = len(spans)
        if start < len(makes):
            args = self._args
            for index in range(start, len(makes)):
                spans.append(makes[index](*args[index]))
                args[index] = ()  # built: the span holds the values now
            # Time order: a try is mostly recorded when it ends, so one that started
            # earlier may come later; sort (stable, so ties keep the recorded order) only
            # when a new span started before one already there.
            for index in range(max(start, 1), len(spans)):
                if spans[index].started_at < spans[index - 1].started_at:
                    spans.sort(key=_started_at)
                    break
        return spans

    def __iter__(self) -> Iterator[Span]:
        return iter(list(self._built()))

    def __len__(self) -> int:
        return len(self._makes)

    def __getitem__(self, index: int) -> Span:
        return self._built()[index]

    def of(self, item_id: str) -> list[Span]:
        """The spans that carried ``item_id`` or have it as request id, in time order.

        An event's request id gives every try of the event; a message id or a sequence
        number every batch that carried it; a batch invocation's request id that batch.
        """
        return [s for s in self._built() if s.request_id == item_id or item_id in s.carried]

    def where(
        self,
        *,
        item: str | None = None,
        model: Model | None = None,
        function: str | None = None,
        outcome: Outcome | None = None,
        lane: Hashable = None,
        ran: bool | None = None,
    ) -> list[Span]:
        """The spans matching every given filter (None: any), in time order.

        ``item`` keeps the spans `of` that id; ``ran=True`` keeps the executions,
        ``ran=False`` the tries that did not run (throttles, refusals, service errors).
        """
        return [
            s
            for s in self._built()
            if (item is None or s.request_id == item or item in s.carried)
            and (model is None or s.model is model)
            and (function is None or s.function == function)
            and (outcome is None or s.outcome is outcome)
            and (lane is None or s.lane == lane)
            and (ran is None or (s.execution is not None) is ran)
        ]

    def counts(self) -> dict[Outcome, int]:
        """How many spans of each `Outcome` (every outcome present, 0 when none)."""
        counts = dict.fromkeys(Outcome, 0)
        for span in self._built():
            counts[span.outcome] += 1
        return counts


def new_history(history: History | None) -> History:
    """The models' ``history`` converter: a new kept `History` for None; else as given
    (the models' validator then checks that it is a `History`)."""
    return History() if history is None else history
