"""Assertions over the shared history: an item's tries and their times, its final outcome,
what a destination, queue or handler received, and `record` to see what a handler was given.

Each assertion takes ``where``: an `Environment` (its timeline has the fates of every model
it made), a `History` (tries only) or a `Timeline`.  A failing assertion's message says what
was expected and prints what happened: the item's story (`Timeline.explain`) or the
timeline's text.
"""

from __future__ import annotations

import copy
import functools
import json
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Protocol

import attrs

from invokemodels.core._history import History, Model, Outcome, Span
from invokemodels.exceptions import InvalidParameterValueError
from invokemodels.observe._marks import FATES, MarkKind
from invokemodels.observe._timeline import Timeline

__all__ = [
    "Call",
    "FinalOutcome",
    "Recording",
    "assert_attempts",
    "assert_outcome",
    "assert_received",
    "attempts",
    "final_outcome",
    "received",
    "record",
]

# Clock times are on a nanosecond grid; a time a test writes down is compared within this.
_TIME_TOLERANCE = 1e-6
# At most this many timeline lines in a failure message.
_TEXT_LIMIT = 200


class _HasTimeline(Protocol):
    def timeline(self) -> Timeline: ...


Where = _HasTimeline | History | Timeline
"""What the assertions read: an `Environment` (or anything with a ``timeline()`` method),
a `History` or a `Timeline`."""


def _timeline(where: object) -> Timeline:
    if isinstance(where, Timeline):
        return where
    if isinstance(where, History):
        return Timeline.from_history(where)
    method = getattr(where, "timeline", None)
    if callable(method):
        timeline = method()
        if isinstance(timeline, Timeline):
            return timeline
    raise InvalidParameterValueError(
        "where", where, "must be an Environment, a History or a Timeline"
    )


def _item_id(item: object) -> str:
    """The id the history knows ``item`` by."""
    if isinstance(item, str) and item:
        return item
    for attribute in ("request_id", "message_id"):
        value = getattr(item, attribute, None)
        if isinstance(value, str) and value:
            return value
    if isinstance(item, Mapping):
        for key in ("SequenceNumber", "MessageId", "messageId"):
            value = item.get(key)
            if isinstance(value, str) and value:
                return value
        for part, key in (("kinesis", "sequenceNumber"), ("dynamodb", "SequenceNumber")):
            inner = item.get(part)
            if isinstance(inner, Mapping) and isinstance(inner.get(key), str):
                return str(inner[key])
    raise InvalidParameterValueError(
        "item",
        item,
        "must be an id (a request id, message id or sequence number), an InvokeResponse, an "
        "EventOutcome, a SendResult, a PutRecord result or an event record",
    )


def _story(timeline: Timeline, item: str) -> str:
    return "What happened to it:\n" + timeline.explain(item, full_ids=True)


def _whole(timeline: Timeline) -> str:
    return "What happened:\n" + timeline.text(limit=_TEXT_LIMIT)


def _seconds(values: Sequence[float]) -> str:
    return "[" + ", ".join(f"{value:g}" for value in values) + "]"


# -- tries ------------------------------------------------------------------------------------


def attempts(where: Where, item: object, *, ran: bool | None = None) -> list[Span]:
    """The tries that carried ``item``, in time order: an event's tries (throttles
    included), the batches that carried a message or record, a synchronous call.

    Args:
        where: an `Environment`, a `History` or a `Timeline`.
        item: the item's id, or what a model returned for it (an `InvokeResponse`, an
            `EventOutcome`, a `SendResult`, a ``PutRecord`` result, an event record).
        ran: True keeps the executions, False the tries that did not run (throttles,
            refusals, service errors); None (default) keeps every try.
    """
    spans = _timeline(where).of(_item_id(item)).spans
    return [s for s in spans if ran is None or s.ran is ran]


def assert_attempts(
    where: Where,
    item: object,
    *,
    times: Sequence[float] | None = None,
    outcomes: Sequence[Outcome | str] | None = None,
    count: int | None = None,
    ran: bool | None = None,
) -> list[Span]:
    """Assert how ``item`` was tried; returns its tries (see `attempts`).

    Args:
        times: the clock times the tries started, in order (seconds on the scheduler's
            clock: an `Environment` starts at 0), compared within a microsecond.  An Event
            that fails three times at 0 s: ``times=[0, 60, 180]``.
        outcomes: each try's `Outcome` (or its value: ``"Success"``, ``"FunctionError"``,
            ``"Throttled"``, ...), in order.
        count: how many tries.
        ran: as for `attempts` (``ran=True`` leaves out throttles).

    With none of ``times``, ``outcomes`` and ``count``, asserts that there was a try.
    Raises ``AssertionError`` with the item's story when a check fails.
    """
    timeline = _timeline(where)
    item_id = _item_id(item)
    spans = [s for s in timeline.of(item_id).spans if ran is None or s.ran is ran]
    what = "executions" if ran else "tries"
    problems: list[str] = []
    if count is not None and len(spans) != count:
        problems.append(f"expected {count} {what}, got {len(spans)}")
    if times is not None:
        expected = [float(t) for t in times]
        actual = [s.started_at for s in spans]
        if len(expected) != len(actual) or not all(
            math.isclose(e, a, rel_tol=0.0, abs_tol=_TIME_TOLERANCE)
            for e, a in zip(expected, actual, strict=False)
        ):
            problems.append(
                f"expected {what} starting at {_seconds(expected)}, got {_seconds(actual)}"
            )
    if outcomes is not None:
        wanted = [o.value if isinstance(o, Outcome) else str(o) for o in outcomes]
        got = [s.outcome.value for s in spans]
        if wanted != got:
            problems.append(f"expected outcomes {wanted}, got {got}")
    if count is None and times is None and outcomes is None and not spans:
        problems.append(f"expected {what}, got none")
    if problems:
        head = f"{item_id}: " + "; ".join(problems)
        raise AssertionError(head + "\n" + _story(timeline, item_id))
    return spans


# -- final outcome ----------------------------------------------------------------------------


@attrs.frozen
class FinalOutcome:
    """How an item ended (see `final_outcome`).

    Attributes:
        item: the item's id.
        kind: the fate: an Event's ``succeeded`` / ``dropped``; a stream record's
            ``processed`` / ``filtered`` / ``discarded`` / ``expired``; an SQS message's
            ``deleted`` / ``moved_to_dlq`` / ``expired``; a synchronous call's `Outcome`
            value (``Success``, ``FunctionError``, ``Throttled``, ``Refused``, ...).
        condition: why: an Event's record ``condition`` (``Success``, ``RetriesExhausted``,
            ``EventAgeExceeded``, or a retry policy's reason); a discarded record's
            on-failure condition (``RetryAttemptsExhausted``, ``RecordAgeExceeded``); a
            deleted message's reason (``processed``, ``filtered``, ``DeleteMessage``); a
            failed synchronous call's error type; else ``""``.
        at: clock time it ended.
        function: the function it belongs to, or None (a queue's own fate).
        model: the `Model`, or None (a queue's own fate).
        tries: how many tries carried it.
    """

    item: str
    kind: str
    condition: str
    at: float
    function: str | None
    model: Model | None
    tries: int

    def matches(self, expected: str) -> bool:
        """True when ``expected`` is the `kind` or the `condition`."""
        return expected in (self.kind, self.condition) and expected != ""


def final_outcome(where: Where, item: object) -> FinalOutcome | None:
    """How ``item`` ended, or None while it has not (or when the model that keeps its fate
    is not in ``where``: a bare `History` holds tries, so only a synchronous call's
    outcome is known from it; an `Environment` knows every model it made).

    The last fate counts: an at-least-once duplicate's copy, or a message that reached a
    dead-letter queue and was deleted from there.
    """
    timeline = _timeline(where)
    item_id = _item_id(item)
    part = timeline.of(item_id)
    fates = [m for m in part.marks if m.kind in FATES]
    if fates:
        mark = fates[-1]
        condition = mark.detail
        if mark.kind == MarkKind.SUCCEEDED and not condition:
            condition = Outcome.SUCCESS.value
        return FinalOutcome(
            item_id, mark.kind, condition, mark.at, mark.function, mark.model, len(part.spans)
        )
    calls = [s for s in part.spans if s.model in (Model.REQUEST_RESPONSE, Model.DRY_RUN)]
    if calls:
        span = calls[-1]
        return FinalOutcome(
            item_id,
            span.outcome.value,
            span.error_type or "",
            span.ended_at,
            span.function,
            span.model,
            len(part.spans),
        )
    return None


def assert_outcome(where: Where, item: object, expected: str) -> FinalOutcome:
    """Assert how ``item`` ended: ``expected`` is its fate (`FinalOutcome.kind`, e.g.
    ``"dropped"``, ``"discarded"``, ``"moved_to_dlq"``) or its condition
    (`FinalOutcome.condition`, e.g. ``"RetriesExhausted"``); returns the `FinalOutcome`.

    Raises ``AssertionError`` with the item's story when it ended otherwise or has not
    ended.
    """
    if not isinstance(expected, str) or not expected:
        raise InvalidParameterValueError(
            "expected", expected, "must be a fate or a condition (a non-empty string)"
        )
    timeline = _timeline(where)
    item_id = _item_id(item)
    outcome = final_outcome(timeline, item_id)
    if outcome is not None and outcome.matches(expected):
        return outcome
    if outcome is None:
        got = "it has not ended (or its model is not in the timeline)"
    else:
        got = f"it ended {outcome.kind}" + (f" ({outcome.condition})" if outcome.condition else "")
    raise AssertionError(f"{item_id}: expected {expected!r}, {got}\n" + _story(timeline, item_id))


# -- what was received ------------------------------------------------------------------------


@attrs.frozen
class Call:
    """One call of a recorded handler (see `record`).

    Attributes:
        event: what the handler was given (a deep copy taken before it ran).
        context: the context object it was given.
        result: what it returned (None when it raised).
        error: what it raised, else None.
        at: the clock time of the call, when the `Recording` has a clock; else None.
    """

    event: Any
    context: Any
    result: Any = None
    error: BaseException | None = None
    at: float | None = None

    @property
    def ok(self) -> bool:
        """True when the handler returned."""
        return self.error is None

    @property
    def request_id(self) -> str | None:
        """The context's ``aws_request_id``, when it has one."""
        value = getattr(self.context, "aws_request_id", None)
        return value if isinstance(value, str) else None


class Recording:
    """A handler wrapped by `record`: call it as the handler; each call is a `Call`.

    What the handler returns or raises passes through unchanged, so the function's
    outcome is the handler's own.
    """

    def __init__(self, handler: Callable[[Any, Any], Any], *, clock: Any = None) -> None:
        if not callable(handler):
            raise InvalidParameterValueError(
                "handler", handler, "must be a callable handler(event, context)"
            )
        if clock is not None and not callable(getattr(clock, "now", None)):
            raise InvalidParameterValueError("clock", clock, "must be None or a Clock")
        # First: update_wrapper copies the handler's __dict__, which must not replace ours
        # (a recorded Recording has calls of its own).
        functools.update_wrapper(self, handler, updated=())
        self.handler = handler
        """The wrapped handler."""
        self.calls: list[Call] = []
        """Every call so far, in the order the calls were made."""
        self._clock = clock

    def __repr__(self) -> str:
        name = getattr(self.handler, "__name__", "handler")
        return f"<Recording {name} calls={len(self.calls)}>"

    def __call__(self, event: Any, context: Any) -> Any:
        given = copy.deepcopy(event)
        at = None if self._clock is None else float(self._clock.now())
        try:
            result = self.handler(event, context)
        except BaseException as exc:  # recorded, then raised on: it is the function's outcome
            self.calls.append(Call(given, context, None, exc, at))
            raise
        self.calls.append(Call(given, context, result, None, at))
        return result

    def __len__(self) -> int:
        return len(self.calls)

    def __iter__(self) -> Iterator[Call]:
        return iter(list(self.calls))

    @property
    def events(self) -> list[Any]:
        """The event of each call."""
        return [call.event for call in self.calls]

    @property
    def records(self) -> list[Any]:
        """The ``Records`` of every call's event, in order (a batch handler's records)."""
        out: list[Any] = []
        for call in self.calls:
            if isinstance(call.event, Mapping) and isinstance(call.event.get("Records"), list):
                out.extend(call.event["Records"])
        return out

    @property
    def errors(self) -> list[BaseException]:
        """What the calls that raised raised."""
        return [call.error for call in self.calls if call.error is not None]

    def clear(self) -> None:
        """Forget the calls so far."""
        self.calls.clear()


def record(handler: Callable[[Any, Any], Any], *, clock: Any = None) -> Recording:
    """Wrap ``handler`` so each call is kept: ``recorded = record(handler)``, run a model
    with ``recorded`` as the handler, then read ``recorded.calls`` (or
    ``assert_received(recorded, [...])``).  With a ``clock`` each `Call` has its time
    (`Environment.record` passes the environment's)."""
    return Recording(handler, clock=clock)


_NO_TEXT = object()


def _pairs(target: object) -> list[tuple[Any, Any]]:
    """``(value, text)`` per item received: the parsed value, and the raw body text of a
    message (else `_NO_TEXT`)."""
    if isinstance(target, Recording):
        return [(event, _NO_TEXT) for event in target.events]
    bodies: list[str] | None = None
    raw = getattr(target, "bodies", None)
    if isinstance(raw, list):
        bodies = raw
    else:
        messages = getattr(target, "messages", None)
        if isinstance(messages, list) and all(hasattr(m, "body") for m in messages):
            bodies = [m.body for m in messages]
    if bodies is not None:
        pairs = []
        for body in bodies:
            try:
                value = json.loads(body)
            except ValueError:
                value = body
            pairs.append((value, body))
        return pairs
    records = getattr(target, "records", None)
    if isinstance(records, list):
        return [(value, _NO_TEXT) for value in records]
    raise InvalidParameterValueError(
        "target",
        target,
        "must be a destination or queue (a QueueTarget, Topic, Bucket, "
        "EventBus, FunctionTarget or Queue) or a Recording",
    )


def received(target: object) -> list[Any]:
    """What ``target`` received, in order.

    A `Queue`, `QueueTarget` or `Topic`: each message's body, parsed from JSON when
    it is JSON, else the text (an Event's dead-letter message is the event; a destination's
    message is the invocation record).  A `Bucket`, `EventBus` or
    `FunctionTarget`: the invocation records.  A `Recording`: the event of each call.
    """
    return [value for value, _text in _pairs(target)]


def _mismatch(expected: Any, actual: Any, text: Any, path: str) -> str | None:
    """Why ``actual`` does not match ``expected`` (None when it does)."""
    if callable(expected) and not isinstance(expected, type):
        try:
            ok = bool(expected(actual))
        except Exception as exc:
            return f"{path or 'item'}: the predicate raised {type(exc).__name__}: {exc}"
        return None if ok else f"{path or 'item'}: {actual!r} does not satisfy the predicate"
    if isinstance(expected, str) and text is not _NO_TEXT:
        if expected in (text, actual):
            return None
        return f"{path or 'item'}: expected {expected!r}, got {text!r}"
    if isinstance(expected, Mapping):
        if not isinstance(actual, Mapping):
            return f"{path or 'item'}: expected a mapping, got {actual!r}"
        for key, value in expected.items():
            where = f"{path}[{key!r}]"
            if key not in actual:
                return f"{where}: missing (keys: {sorted(map(str, actual))})"
            problem = _mismatch(value, actual[key], _NO_TEXT, where)
            if problem is not None:
                return problem
        return None
    if isinstance(expected, list) and isinstance(actual, list):
        if len(expected) != len(actual):
            return f"{path or 'item'}: expected {len(expected)} items, got {len(actual)}"
        for index, (want, got) in enumerate(zip(expected, actual, strict=True)):
            problem = _mismatch(want, got, _NO_TEXT, f"{path}[{index}]")
            if problem is not None:
                return problem
        return None
    if expected == actual:
        return None
    return f"{path or 'item'}: expected {expected!r}, got {actual!r}"


def _unordered(expected: Sequence[Any], pairs: list[tuple[Any, Any]]) -> bool:
    """True when each expected item matches a distinct received one (backtracking)."""
    used = [False] * len(pairs)

    def place(index: int) -> bool:
        if index == len(expected):
            return True
        for slot, (value, text) in enumerate(pairs):
            if not used[slot] and _mismatch(expected[index], value, text, "") is None:
                used[slot] = True
                if place(index + 1):
                    return True
                used[slot] = False
        return False

    return place(0)


def _show(value: Any) -> str:
    try:
        text = json.dumps(value, sort_keys=True, default=repr)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 600 else text[:600] + f"... ({len(text)} characters)"


def assert_received(
    target: object,
    expected: Sequence[Any],
    *,
    ordered: bool = True,
    where: Where | None = None,
) -> list[Any]:
    """Assert what a destination, dead-letter queue, queue or recorded handler received
    (see `received`); returns what it received.

    Each expected item is matched against one received item: a mapping matches when each
    of its keys is there with a matching value (other keys are ignored, so
    ``{"requestContext": {"condition": "RetriesExhausted"}}`` matches an invocation record
    whatever its timestamps); a list matches item by item; a callable is a predicate; a
    string matches a message's body text (or its parsed value); anything else must be
    equal.  As many items must have been received as are expected.

    Args:
        ordered: True (default) matches in order; False in any order.
        where: an `Environment`, `History` or `Timeline` whose text the failure message
            adds.
    """
    if isinstance(expected, (str, bytes, Mapping)) or not isinstance(expected, Sequence):
        raise InvalidParameterValueError(
            "expected", expected, "must be a list of the items expected, in order"
        )
    pairs = _pairs(target)
    values = [value for value, _text in pairs]
    problem: str | None = None
    if len(pairs) != len(expected):
        problem = f"received {len(pairs)} items, expected {len(expected)}"
    elif ordered:
        for index, (want, (value, text)) in enumerate(zip(expected, pairs, strict=True)):
            problem = _mismatch(want, value, text, f"[{index}]")
            if problem is not None:
                break
    elif not _unordered(expected, pairs):
        problem = "no pairing of the expected items with the received ones matches"
    if problem is None:
        return values
    lines = [f"{target!r}: {problem}", "Received:"]
    lines += [f"  [{index}] {_show(value)}" for index, value in enumerate(values)] or ["  nothing"]
    message = "\n".join(lines)
    if where is not None:
        message += "\n" + _whole(_timeline(where))
    raise AssertionError(message)
