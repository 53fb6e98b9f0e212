"""An in-memory EventBridge event bus: rules with event patterns, ``PutEvents``, a destination.

`EventBus.put_rule` adds a rule (an event pattern and Lambda targets); `EventBus.put_events`
puts events on the bus, and every enabled rule whose pattern matches an event invokes its
targets asynchronously (``Event``) with the event (reference 3.11).  Patterns are matched
by the same compiled matcher as event filtering (`invokemodels.mapping.FilterCriteria`).
As a destination (reference 3.5, 3.6) each record arrives as ``detail`` of an event on the
bus, which the rules see like any other.
"""

from __future__ import annotations

import datetime as _dt
import json
import random
import re
from collections.abc import Mapping, Sequence
from typing import Any, Final

import attrs

from invokemodels.aws._notify import Invokers, Notification, Subscriber, invoke
from invokemodels.aws._targets import account_number, region_name, service_arn, target_name
from invokemodels.core._function import SNS_MESSAGE_LIMIT, Function, new_request_id
from invokemodels.core._history import History
from invokemodels.core._protocols import Delivery
from invokemodels.core._records import eventbridge_envelope, eventbridge_event
from invokemodels.core._scheduler import Scheduler
from invokemodels.core._validate import instance_of, is_random, seeded, text
from invokemodels.event._invoker import EventInvoker
from invokemodels.exceptions import InvalidParameterValueError
from invokemodels.mapping._filters import Matcher, compile_pattern, parse_data

__all__ = [
    "PUT_EVENTS_MAX_ENTRIES",
    "RULE_MAX_TARGETS",
    "EventBus",
    "InputTransformer",
    "Rule",
    "RuleTarget",
]

PUT_EVENTS_MAX_ENTRIES: Final = 10
"""``PutEvents`` takes 1 to 10 entries."""

RULE_MAX_TARGETS: Final = 5
"""A rule has at most 5 targets."""

EVENT_SIZE_LIMIT: Final = SNS_MESSAGE_LIMIT
"""A ``PutEvents`` entry is at most 256 KB."""

_RULE_NAME: Final = re.compile(r"[\.\-_A-Za-z0-9]{1,64}")
_PATH: Final = re.compile(r"\$(\.[^.\s\[\]]+)*")
_STATES: Final = ("ENABLED", "DISABLED")


def _select(document: Any, path: str) -> Any:
    """The value at a ``$.a.b`` path (None when a step is missing)."""
    value = document
    for step in path.split(".")[1:]:
        if not isinstance(value, dict) or step not in value:
            return None
        value = value[step]
    return value


_PLACEHOLDER: Final = re.compile(r"<([A-Za-z0-9_.\-]+)>")
_PATHS_MAP_LIMIT: Final = 100
_TEMPLATE_LIMIT: Final = 8192
_RESERVED: Final = (
    "aws.events.rule-arn",
    "aws.events.rule-name",
    "aws.events.event.ingestion-time",
    "aws.events.event",
    "aws.events.event.json",
)


def _in_strings(template: str) -> list[bool]:
    """For each character of ``template``: is it inside a JSON string literal?"""
    inside = False
    escaped = False
    flags = []
    for char in template:
        flags.append(inside)
        if escaped:
            escaped = False
        elif char == "\\" and inside:
            escaped = True
        elif char == '"':
            inside = not inside
    return flags


def _fill(template: str, values: Mapping[str, Any]) -> str:
    """Replace each ``<name>`` of ``values``: inside a JSON string, a string's text (other
    values as their JSON text), escaped for the string; elsewhere, the value's JSON."""
    flags = _in_strings(template)

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            return match.group(0)
        value = values[name]
        if not flags[match.start()]:
            return json.dumps(value)
        text = value if isinstance(value, str) else json.dumps(value)
        return json.dumps(text)[1:-1]

    return _PLACEHOLDER.sub(replace, template)


@attrs.frozen(kw_only=True)
class InputTransformer:
    """``InputTransformer``: values picked from the event, filled into a template.

    Attributes:
        input_paths_map: ``InputPathsMap``: up to 100 names, each a JSONPath into the
            event (``$`` or dotted keys: ``$.detail.order.id``); a missing path is null.
        input_template: ``InputTemplate``: JSON text with ``<name>`` placeholders, up to
            8192 characters.  A placeholder inside a JSON string is replaced by a
            string's text (other values by their JSON text); elsewhere by the value's
            JSON.  The reserved ``<aws.events.event>`` (and ``.json``) is the whole event,
            ``<aws.events.rule-name>`` / ``<aws.events.rule-arn>`` the rule and
            ``<aws.events.event.ingestion-time>`` the event's ``time``.  A Lambda target
            receives JSON, so the filled template must parse as JSON (checked here with
            placeholder values).
    """

    input_paths_map: Mapping[str, str] = attrs.field(factory=dict, converter=dict)
    input_template: str = attrs.field()

    @input_paths_map.validator
    def _check_paths(self, _attribute: Any, value: dict[str, Any]) -> None:
        if len(value) > _PATHS_MAP_LIMIT:
            raise InvalidParameterValueError(
                "InputTransformer.InputPathsMap",
                value,
                f"at most {_PATHS_MAP_LIMIT} entries",
            )
        for name, path in value.items():
            if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_\-]+", name):
                raise InvalidParameterValueError(
                    "InputTransformer.InputPathsMap",
                    name,
                    "names are letters, digits, '_' or '-'",
                )
            if name.upper().startswith("AWS"):
                raise InvalidParameterValueError(
                    "InputTransformer.InputPathsMap", name, "names cannot start with 'AWS'"
                )
            if not isinstance(path, str) or not _PATH.fullmatch(path):
                raise InvalidParameterValueError(
                    f"InputTransformer.InputPathsMap.{name}",
                    path,
                    "must be a JSONPath like '$' or '$.detail.key'",
                )

    @input_template.validator
    def _check_template(self, _attribute: Any, value: Any) -> None:
        parameter = "InputTransformer.InputTemplate"
        if not isinstance(value, str) or not 0 < len(value) <= _TEMPLATE_LIMIT:
            raise InvalidParameterValueError(
                parameter, value, f"must be a string of 1 to {_TEMPLATE_LIMIT} characters"
            )
        names = dict.fromkeys([*self.input_paths_map, *_RESERVED], "x")
        try:
            json.loads(_fill(value, names))
        except ValueError as exc:
            raise InvalidParameterValueError(
                parameter,
                value,
                f"must be JSON once its placeholders are filled (a Lambda target gets JSON): {exc}",
            ) from None

    @classmethod
    def from_dict(cls, shape: Mapping[str, Any]) -> InputTransformer:
        """From the API shape ``{"InputPathsMap": {...}, "InputTemplate": "..."}``."""
        if not isinstance(shape, Mapping) or set(shape) - {"InputPathsMap", "InputTemplate"}:
            raise InvalidParameterValueError(
                "InputTransformer", shape, 'must be {"InputPathsMap": {...}, "InputTemplate": ...}'
            )
        paths = shape.get("InputPathsMap", {})
        if not isinstance(paths, Mapping):
            raise InvalidParameterValueError(
                "InputTransformer.InputPathsMap", paths, "must be a mapping of name -> JSONPath"
            )
        return cls(input_paths_map=paths, input_template=shape.get("InputTemplate", ""))

    def apply(self, event: dict[str, Any], rule_name: str, rule_arn: str) -> Any:
        """The transformed input for ``event``."""
        values: dict[str, Any] = {
            name: _select(event, path) for name, path in self.input_paths_map.items()
        }
        values["aws.events.rule-arn"] = rule_arn
        values["aws.events.rule-name"] = rule_name
        values["aws.events.event.ingestion-time"] = event.get("time")
        values["aws.events.event"] = event
        values["aws.events.event.json"] = event
        return json.loads(_fill(self.input_template, values))


@attrs.frozen(kw_only=True)
class RuleTarget:
    """A rule's Lambda target, with what it receives.

    Attributes:
        function: a `Function` or an `EventInvoker` on the bus's scheduler.
        id: the target ``Id`` (default: the function's name).
        input: ``Input``: this JSON text is the event instead of the matched event.
        input_path: ``InputPath``: the part of the event at this JSONPath (``$`` or
            ``$.detail.key``, dotted keys only) is the event.
        input_transformer: ``InputTransformer``: an `InputTransformer` (or its API shape,
            ``{"InputPathsMap": {...}, "InputTemplate": "..."}``).

    At most one of ``input``, ``input_path`` and ``input_transformer``.
    """

    function: Subscriber = attrs.field(
        validator=instance_of("function", (Function, EventInvoker), "a Function or an EventInvoker")
    )
    id: str | None = attrs.field(default=None, validator=text("Id", optional=True))
    input: str | None = attrs.field(default=None)
    input_path: str | None = attrs.field(default=None)
    input_transformer: InputTransformer | None = attrs.field(default=None)

    @input.validator
    def _check_input(self, _attribute: Any, value: Any) -> None:
        if value is None:
            return
        try:
            json.loads(value)
        except (TypeError, ValueError):
            raise InvalidParameterValueError("Input", value, "must be valid JSON text") from None

    @input_path.validator
    def _check_path(self, _attribute: Any, value: Any) -> None:
        if value is None:
            return
        if not isinstance(value, str) or not _PATH.fullmatch(value):
            raise InvalidParameterValueError(
                "InputPath", value, "must be a JSONPath like '$' or '$.detail.key'"
            )
        if self.input is not None:
            raise InvalidParameterValueError(
                "InputPath", value, "cannot be combined with Input (one of them per target)"
            )

    @input_transformer.validator
    def _check_transformer(self, _attribute: Any, value: Any) -> None:
        if value is None:
            return
        if not isinstance(value, InputTransformer):
            raise InvalidParameterValueError(
                "InputTransformer",
                value,
                "must be an InputTransformer (InputTransformer.from_dict takes the API shape)",
            )
        if self.input is not None or self.input_path is not None:
            raise InvalidParameterValueError(
                "InputTransformer",
                value,
                "cannot be combined with Input or InputPath (one of them per target)",
            )

    def payload(self, event: dict[str, Any], rule_name: str = "", rule_arn: str = "") -> Any:
        """What this target receives for ``event`` (matched by the rule named)."""
        if self.input is not None:
            return json.loads(self.input)
        if self.input_path is not None:
            return _select(event, self.input_path)
        if self.input_transformer is not None:
            return self.input_transformer.apply(event, rule_name, rule_arn)
        return event


@attrs.frozen(kw_only=True)
class Rule:
    """A rule of an event bus: an event pattern and the targets it invokes.

    Attributes:
        name: the rule name.
        arn: ``arn:aws:events:<region>:<account>:rule/[<bus>/]<name>``.
        event_pattern: the ``EventPattern`` JSON.
        targets: the `RuleTarget` values.
        invokers: the `EventInvoker` of each target, in order.
        state: ``"ENABLED"`` or ``"DISABLED"`` (a disabled rule matches nothing).
    """

    name: str
    arn: str
    event_pattern: str
    targets: tuple[RuleTarget, ...] = attrs.field(eq=False)
    invokers: tuple[EventInvoker, ...] = attrs.field(eq=False, repr=False)
    state: str = "ENABLED"
    _matcher: Matcher = attrs.field(eq=False, repr=False)

    def matches(self, event: Mapping[str, Any]) -> bool:
        """True when the rule is enabled and its pattern matches ``event``."""
        return self.state == "ENABLED" and self._matcher(event)


@attrs.define(repr=False, eq=False)
class EventBus:
    """An in-memory EventBridge bus: rules, ``PutEvents``, a destination.

    As a source of events (reference 3.11): `put_rule` adds a rule; `put_events` puts
    events and each enabled rule whose pattern matches invokes its targets asynchronously
    (``Event``) with the event as a rule's target receives it (``version`` "0", ``time``
    to the second).  EventBridge's own retries of a refused invoke are not modelled: with
    no acceptance throttle for AWS services, an ``Event`` invoke is not refused.

    As a destination (reference 3.5, 3.6): each record arrives as ``detail`` of an
    envelope with ``detail-type`` "Lambda Function Invocation Result - Success" or
    "... - Failure", ``source`` ``"lambda"`` (observed 2025-11; the current docs say
    ``aws.lambda``, so it is configurable) and ``resources`` [bus ARN, function ARN];
    the rules see it like any other event.

    Args:
        name: the bus name (default ``default``).
        region, account_id: the bus ARN's parts (and the events' ``region``/``account``).
        source: the ``source`` of destination records (default ``lambda``).
        scheduler: the scheduler (and clock) shared with the invoked functions.
        seed: seeds event ids (or pass ``rng``).
    """

    name: str = attrs.field(default="default", validator=target_name())
    region: str = attrs.field(default="us-east-1", validator=region_name())
    account_id: str = attrs.field(default="123456789012", validator=account_number())
    source: str = attrs.field(
        default="lambda",
        validator=text("source", re.compile(r"[^\s:]+"), "must be a non-empty string"),
    )
    scheduler: Scheduler = attrs.field(
        factory=Scheduler,
        validator=instance_of("scheduler", Scheduler, "a Scheduler"),
        kw_only=True,
    )
    seed: int | None = attrs.field(default=None, kw_only=True)
    rng: random.Random = attrs.field(
        default=attrs.Factory(lambda self: seeded(self.seed), takes_self=True),
        validator=is_random,
        kw_only=True,
    )
    events: list[dict[str, Any]] = attrs.field(factory=list, init=False)
    """Every event put on the bus (destination records included), in order."""
    notifications: list[Notification] = attrs.field(factory=list, init=False)
    """Every asynchronous invoke the bus's rules made, in order."""
    _rules: dict[str, Rule] = attrs.field(factory=dict, init=False)
    _invokers: Invokers = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        self._invokers = Invokers(self.scheduler, random.Random(self.rng.getrandbits(64)))

    def __repr__(self) -> str:
        return f"<EventBus {self.name} events={len(self.events)} rules={len(self._rules)}>"

    @property
    def arn(self) -> str:
        """``arn:aws:events:<region>:<account>:event-bus/<name>``."""
        return service_arn("events", self.region, self.account_id, f"event-bus/{self.name}")

    @property
    def rules(self) -> list[Rule]:
        """The rules, in the order first put."""
        return list(self._rules.values())

    def put_rule(
        self,
        name: str,
        *,
        event_pattern: str | Mapping[str, Any],
        targets: Sequence[Subscriber | RuleTarget] = (),
        state: str = "ENABLED",
        history: History | None = None,
    ) -> Rule:
        """``PutRule`` and ``PutTargets``: a rule ``name`` with its pattern and targets.

        Args:
            name: 1 to 64 letters, digits, ``.``, ``-`` or ``_``.  Putting an existing
                rule replaces it (pattern, targets and state).
            event_pattern: the ``EventPattern`` (JSON text or a dict), EventBridge's
                rules, matched against the whole event (``source``, ``detail-type``,
                ``detail``, ...).  Schedule expressions are not modelled.
            targets: up to 5: a `Function`, an `EventInvoker` on the bus's scheduler, or
                a `RuleTarget` (``Input`` / ``InputPath``).
            state: ``"ENABLED"`` (default) or ``"DISABLED"``.
            history: the `History` of an invoker the bus makes (default: its own).
        """
        if not isinstance(name, str) or not _RULE_NAME.fullmatch(name):
            raise InvalidParameterValueError(
                "Name", name, "must be 1 to 64 letters, digits, '.', '-' or '_'"
            )
        if state not in _STATES:
            raise InvalidParameterValueError("State", state, f"must be one of {', '.join(_STATES)}")
        try:
            pattern, matcher = compile_pattern(event_pattern, "EventPattern")
        except InvalidParameterValueError as exc:
            # InvalidEventPatternException's wording.
            raise InvalidParameterValueError(
                "EventPattern", exc.value, f"Event pattern is not valid. Reason: {exc.allowed}"
            ) from None
        if isinstance(targets, (str, Function, EventInvoker, RuleTarget)) or not isinstance(
            targets, Sequence
        ):
            raise InvalidParameterValueError("Targets", targets, "must be a list of targets")
        if len(targets) > RULE_MAX_TARGETS:
            raise InvalidParameterValueError(
                "Targets", list(targets), f"a rule has at most {RULE_MAX_TARGETS} targets"
            )
        resolved = tuple(
            t if isinstance(t, RuleTarget) else RuleTarget(function=t) for t in targets
        )
        invokers = tuple(
            self._invokers.resolve(t.function, f"Targets[{i}]", history)
            for i, t in enumerate(resolved)
        )
        rule_path = name if self.name == "default" else f"{self.name}/{name}"
        rule = Rule(
            name=name,
            arn=service_arn("events", self.region, self.account_id, f"rule/{rule_path}"),
            event_pattern=pattern,
            targets=resolved,
            invokers=invokers,
            state=state,
            matcher=matcher,
        )
        self._rules[name] = rule
        return rule

    def delete_rule(self, name: str) -> None:
        """``DeleteRule`` (``KeyError`` if there is no such rule)."""
        try:
            del self._rules[name]
        except KeyError:
            msg = f"{name}: no such rule on {self.name}"
            raise KeyError(msg) from None

    def put_events(self, entries: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        """``PutEvents``: put 1 to 10 entries on the bus; returns the API's response.

        Each entry is ``{"Source": ..., "DetailType": ..., "Detail": "<JSON object>"}``,
        optionally with ``Resources`` (a list of ARNs) and ``Time`` (Unix time or an
        aware ``datetime``; default now).  An entry that is missing a field, whose
        ``Detail`` is not a JSON object or that is over 256 KB fails on its own:
        ``{"ErrorCode": "InvalidArgument", "ErrorMessage": ...}`` in ``Entries``, counted
        in ``FailedEntryCount`` (the messages' wording is this model's).  The others get
        an ``EventId`` and are matched against the rules.
        """
        if isinstance(entries, (str, Mapping)) or not isinstance(entries, Sequence):
            raise InvalidParameterValueError("Entries", entries, "must be a list of entries")
        if not 1 <= len(entries) <= PUT_EVENTS_MAX_ENTRIES:
            raise InvalidParameterValueError(
                "Entries",
                f"{len(entries)} entries",
                f"must hold 1 to {PUT_EVENTS_MAX_ENTRIES} entries",
            )
        results: list[dict[str, str]] = []
        failed = 0
        for entry in entries:
            try:
                event = self._event(entry)
            except ValueError as exc:
                failed += 1
                results.append({"ErrorCode": "InvalidArgument", "ErrorMessage": str(exc)})
                continue
            results.append({"EventId": event["id"]})
            self._put(event)
        return {"FailedEntryCount": failed, "Entries": results}

    def _event(self, entry: Any) -> dict[str, Any]:
        if not isinstance(entry, Mapping):
            msg = "an entry must be a mapping with Source, DetailType and Detail"
            raise ValueError(msg)
        for field in ("Source", "DetailType", "Detail"):
            if not isinstance(entry.get(field), str) or not entry[field]:
                msg = f"Parameter {field} is not valid. Reason: {field} is a required argument."
                raise ValueError(msg)
        size = sum(len(str(v).encode("utf-8")) for v in entry.values())
        if size > EVENT_SIZE_LIMIT:
            msg = f"Entry is {size} bytes; an entry is at most {EVENT_SIZE_LIMIT} bytes"
            raise ValueError(msg)
        detail = parse_data(entry["Detail"])
        if not isinstance(detail, dict):
            msg = "Detail is malformed: it must be a JSON object."
            raise ValueError(msg)
        resources = entry.get("Resources", [])
        if not isinstance(resources, (list, tuple)) or not all(
            isinstance(r, str) for r in resources
        ):
            msg = "Parameter Resources is not valid: it must be a list of ARNs."
            raise ValueError(msg)
        when = entry.get("Time")
        if when is None:
            epoch = self.scheduler.clock.epoch()
        elif isinstance(when, _dt.datetime) and when.tzinfo is not None:
            epoch = when.timestamp()
        elif isinstance(when, (int, float)) and not isinstance(when, bool):
            epoch = float(when)
        else:
            msg = f"Parameter Time is not valid: {when!r} (Unix time or an aware datetime)."
            raise ValueError(msg)
        return eventbridge_envelope(
            event_id=new_request_id(self.rng),
            detail_type=entry["DetailType"],
            source=entry["Source"],
            account_id=self.account_id,
            epoch=epoch,
            region=self.region,
            resources=list(resources),
            detail=detail,
        )

    def _put(self, event: dict[str, Any]) -> None:
        self.events.append(event)
        for rule in list(self._rules.values()):
            if not rule.matches(event):
                continue
            for target, invoker in zip(rule.targets, rule.invokers, strict=True):
                self.notifications.append(
                    invoke(
                        invoker,
                        rule.arn,
                        target.payload(event, rule.name, rule.arn),
                        chained=False,
                    )
                )

    def deliver(self, record: dict[str, Any], delivery: Delivery) -> None:
        """Wrap the record in EventBridge's envelope (recorded shape, reference 3.6)."""
        self._put(
            eventbridge_event(
                event_id=new_request_id(delivery.rng),
                success=delivery.success,
                source=self.source,
                account_id=delivery.account_id,
                epoch=delivery.epoch,
                region=delivery.region,
                bus_arn=self.arn,
                function_arn=delivery.function_arn,
                detail=record,
            )
        )

    @property
    def records(self) -> list[Any]:
        """The ``detail`` of every event, in order."""
        return [event["detail"] for event in self.events]
