"""An in-memory SNS topic: subscriptions with filter policies, ``Publish``, a destination.

`Topic.subscribe` subscribes a function; `Topic.publish` invokes every subscribed function
whose filter policy accepts the message, asynchronously (``Event``), with the SNS event
(reference 5.6, 3.11).  Filter policies are EventBridge-style patterns, matched by the
same compiled matcher as event filtering (`invokemodels.mapping.FilterCriteria`), against
the message attributes or the message body.  As a destination or dead-letter topic
(reference 3.5, 3.7) the topic publishes each record, which its subscribers receive too.
"""

from __future__ import annotations

import base64
import json
import random
import re
from collections.abc import Mapping
from typing import Any, Final

import attrs

from invokemodels.aws._notify import Invokers, Notification, Subscriber, invoke
from invokemodels.aws._targets import (
    Message,
    account_number,
    region_name,
    service_arn,
    target_name,
)
from invokemodels.core._function import SNS_MESSAGE_LIMIT, new_request_id
from invokemodels.core._history import History
from invokemodels.core._protocols import Delivery
from invokemodels.core._records import sns_event, sns_record
from invokemodels.core._scheduler import Scheduler
from invokemodels.core._validate import instance_of, is_random, seeded
from invokemodels.event._invoker import EventInvoker
from invokemodels.exceptions import InvalidParameterValueError
from invokemodels.mapping._filters import Matcher, compile_pattern, parse_data

__all__ = [
    "FILTER_POLICY_MAX_COMBINATIONS",
    "FILTER_POLICY_MAX_KEYS",
    "FILTER_POLICY_SCOPES",
    "Subscription",
    "Topic",
]

FILTER_POLICY_SCOPES: Final = ("MessageAttributes", "MessageBody")
"""``FilterPolicyScope``: what a filter policy is matched against (default the attributes)."""

FILTER_POLICY_MAX_KEYS: Final = 5
"""A filter policy names at most 5 attributes (SNS "filter policy constraints")."""

FILTER_POLICY_MAX_COMBINATIONS: Final = 150
"""The product of the sizes of a filter policy's value arrays is at most 150."""

_PAYLOAD_KEYS: Final = ("requestPayload", "responsePayload", "payload")
_SUBJECT_LIMIT: Final = 100
_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f]")
_DATA_TYPES: Final = ("String", "Number", "Binary", "String.Array")


def _policy_prefix(message: str) -> str:
    return f"Invalid parameter: FilterPolicy: {message}"


def _count_keys(pattern: Mapping[str, Any]) -> int:
    count = 0
    for key, value in pattern.items():
        if key == "$or" and isinstance(value, list):
            count += max((_count_keys(b) for b in value if isinstance(b, Mapping)), default=0)
        elif isinstance(value, Mapping):
            count += _count_keys(value)
        else:
            count += 1
    return count


def _combinations(pattern: Mapping[str, Any]) -> int:
    total = 1
    for key, value in pattern.items():
        if key == "$or" and isinstance(value, list):
            total *= sum(_combinations(b) for b in value if isinstance(b, Mapping))
        elif isinstance(value, Mapping):
            total *= _combinations(value)
        elif isinstance(value, list):
            total *= max(len(value), 1)
    return total


def _check_policy(policy: Any, scope: str) -> tuple[str, Matcher]:
    try:
        text, matcher = compile_pattern(policy, "FilterPolicy")
    except InvalidParameterValueError as exc:
        raise InvalidParameterValueError(
            "FilterPolicy", exc.value, _policy_prefix(exc.allowed)
        ) from None
    parsed = json.loads(text)
    if scope == "MessageAttributes":
        for key, value in parsed.items():
            if key != "$or" and not isinstance(value, list):
                raise InvalidParameterValueError(
                    "FilterPolicy",
                    text,
                    _policy_prefix(
                        f"{key!r}: a MessageAttributes filter policy cannot nest objects "
                        "(set filter_policy_scope='MessageBody' to filter the message body)"
                    ),
                )
    keys = _count_keys(parsed)
    if keys > FILTER_POLICY_MAX_KEYS:
        raise InvalidParameterValueError(
            "FilterPolicy",
            text,
            _policy_prefix(
                f"Filter policy can not have more than {FILTER_POLICY_MAX_KEYS} keys "
                f"(it has {keys})"
            ),
        )
    combinations = _combinations(parsed)
    if combinations > FILTER_POLICY_MAX_COMBINATIONS:
        raise InvalidParameterValueError(
            "FilterPolicy",
            text,
            _policy_prefix(
                f"Filter policy is too complex: {combinations} combinations of values, "
                f"at most {FILTER_POLICY_MAX_COMBINATIONS}"
            ),
        )
    return text, matcher


def attribute_view(attributes: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """What a ``MessageAttributes`` filter policy sees: each attribute's value by name.

    ``String`` as the text, ``Number`` as the number (exact JSON text kept),
    ``String.Array`` as the parsed array; ``Binary`` attributes are ignored, as SNS does.
    """
    view: dict[str, Any] = {}
    for name, spec in attributes.items():
        data_type = spec["DataType"]
        if data_type.startswith("Binary"):
            continue
        value = spec["StringValue"]
        if data_type.startswith("Number"):
            view[name] = parse_data(f"[{value}]")[0]
        elif data_type == "String.Array":
            view[name] = parse_data(value)
        else:
            view[name] = value
    return view


def _check_attributes(attributes: Any) -> dict[str, dict[str, Any]]:
    if attributes is None:
        return {}
    if not isinstance(attributes, Mapping):
        raise InvalidParameterValueError(
            "MessageAttributes", attributes, "must be a mapping of name -> {DataType, ...}"
        )
    out: dict[str, dict[str, Any]] = {}
    for name, spec in attributes.items():
        where = f"MessageAttributes.{name}"
        if not isinstance(name, str) or not name or not isinstance(spec, Mapping):
            raise InvalidParameterValueError(
                where, spec, 'must be {"DataType": ..., "StringValue": ...} under a name'
            )
        data_type = spec.get("DataType")
        if not isinstance(data_type, str) or not data_type.startswith(_DATA_TYPES[:3]):
            raise InvalidParameterValueError(
                f"{where}.DataType", data_type, f"must be one of {', '.join(_DATA_TYPES)}"
            )
        if data_type.startswith("Binary"):
            if not isinstance(spec.get("BinaryValue"), (bytes, bytearray)):
                raise InvalidParameterValueError(
                    f"{where}.BinaryValue", spec.get("BinaryValue"), "must be bytes"
                )
        else:
            value = spec.get("StringValue")
            if not isinstance(value, str):
                raise InvalidParameterValueError(f"{where}.StringValue", value, "must be a string")
            if data_type.startswith("Number"):
                parsed = parse_data(f"[{value}]")
                if not (
                    isinstance(parsed, list)
                    and len(parsed) == 1
                    and isinstance(parsed[0], (int, float))
                    and not isinstance(parsed[0], bool)
                ):
                    raise InvalidParameterValueError(
                        f"{where}.StringValue", value, "must be a number for a Number attribute"
                    )
            elif data_type == "String.Array" and not isinstance(parse_data(value), list):
                raise InvalidParameterValueError(
                    f"{where}.StringValue", value, "must be a JSON array for String.Array"
                )
        out[name] = dict(spec)
    return out


def _size(message: str, attributes: Mapping[str, Mapping[str, Any]]) -> int:
    size = len(message.encode("utf-8"))
    for name, spec in attributes.items():
        value = spec.get("BinaryValue")
        raw = bytes(value) if value is not None else spec["StringValue"].encode("utf-8")
        size += len(name.encode("utf-8")) + len(spec["DataType"].encode("utf-8")) + len(raw)
    return size


@attrs.frozen(kw_only=True)
class Subscription:
    """A Lambda subscription of a topic.

    Attributes:
        arn: the subscription ARN (the topic's ARN and a UUID).
        invoker: the `EventInvoker` the function is invoked through.
        filter_policy: the ``FilterPolicy`` JSON, or None (every message).
        filter_policy_scope: ``"MessageAttributes"`` or ``"MessageBody"``.
    """

    arn: str
    invoker: EventInvoker = attrs.field(eq=False, repr=False)
    filter_policy: str | None = None
    filter_policy_scope: str = "MessageAttributes"
    _matcher: Matcher | None = attrs.field(default=None, eq=False, repr=False)

    def accepts(self, message: str, attributes: Mapping[str, Mapping[str, Any]]) -> bool:
        """True when the filter policy accepts the message (always without a policy).

        A ``MessageBody`` policy never accepts a body that is not a JSON object.
        """
        matcher = self._matcher
        if matcher is None:
            return True
        if self.filter_policy_scope == "MessageBody":
            body = parse_data(message)
            return isinstance(body, dict) and matcher(body)
        return matcher(attribute_view(attributes))


@attrs.define(repr=False, eq=False)
class Topic:
    """An in-memory SNS topic (standard): Lambda subscriptions, ``Publish``, a destination.

    As a source of events (reference 3.11, 5.6): `subscribe` adds a Lambda subscription;
    `publish` invokes each subscribed function whose filter policy accepts the message,
    asynchronously (``Event``) with ``{"Records": [record]}`` (one message per invoke).
    SNS's own retries of a delivery Lambda refuses are not modelled: with no acceptance
    throttle for AWS services, an ``Event`` invoke is not refused.

    As a destination or dead-letter topic (reference 3.5, 3.7): a record over SNS's
    256 KB limit loses its payload (``requestPayload``, ``responsePayload``), as Lambda
    does for SNS on-failure destinations.  AWS documents this for on-failure records
    only; what happens to an oversized on-success record is [UNCONFIRMED], and this topic
    treats it the same way.  Delivered records are published: subscribers receive them.

    Args:
        name: the topic name (default ``destination-topic``).
        region, account_id: the topic ARN's parts.
        scheduler: the scheduler (and clock) shared with the invoked functions.
        seed: seeds message ids, subscription ids and signatures (or pass ``rng``).
    """

    name: str = attrs.field(default="destination-topic", validator=target_name())
    region: str = attrs.field(default="us-east-1", validator=region_name())
    account_id: str = attrs.field(default="123456789012", validator=account_number())
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
    messages: list[Message] = attrs.field(factory=list, init=False)
    """Every message published, in order."""
    notifications: list[Notification] = attrs.field(factory=list, init=False)
    """Every asynchronous invoke the topic made, in order."""
    _subscriptions: list[Subscription] = attrs.field(factory=list, init=False)
    _invokers: Invokers = attrs.field(init=False)
    _certificate: str = attrs.field(default="", init=False)

    def __attrs_post_init__(self) -> None:
        self._invokers = Invokers(self.scheduler, random.Random(self.rng.getrandbits(64)))
        self._certificate = f"{self.rng.getrandbits(128):032x}"

    def __repr__(self) -> str:
        return (
            f"<Topic {self.name} messages={len(self.messages)} "
            f"subscriptions={len(self._subscriptions)}>"
        )

    @property
    def arn(self) -> str:
        """``arn:aws:sns:<region>:<account>:<name>``."""
        return service_arn("sns", self.region, self.account_id, self.name)

    @property
    def subscriptions(self) -> list[Subscription]:
        """The subscriptions, in the order made."""
        return list(self._subscriptions)

    def subscribe(
        self,
        function: Subscriber,
        *,
        filter_policy: str | Mapping[str, Any] | None = None,
        filter_policy_scope: str = "MessageAttributes",
        history: History | None = None,
    ) -> Subscription:
        """``Subscribe`` with protocol ``lambda``: invoke ``function`` for each message.

        Args:
            function: a `Function` (invoked through an `EventInvoker` the topic makes on
                its scheduler, one per function) or an `EventInvoker` on the topic's
                scheduler (its config, destinations and dead-letter queue apply).
            filter_policy: the ``FilterPolicy`` (JSON text or a dict), or None for every
                message.  EventBridge pattern rules (every operator, ``$or`` included).
            filter_policy_scope: ``"MessageAttributes"`` (default): the policy's keys are
                attribute names (``String``, ``Number`` and ``String.Array`` attributes;
                ``Binary`` ones are ignored); ``"MessageBody"``: the policy matches the
                message parsed as a JSON object, nested keys included.
            history: the `History` of an invoker the topic makes (default: its own).

        A policy is validated as SNS validates it: a valid pattern, at most 5 keys, at
        most 150 combinations of values (the product of its arrays' sizes), and no
        nested objects under the attribute scope; otherwise `InvalidParameterValueError`
        names ``FilterPolicy`` and gives SNS's reason.
        """
        if filter_policy_scope not in FILTER_POLICY_SCOPES:
            raise InvalidParameterValueError(
                "FilterPolicyScope",
                filter_policy_scope,
                f"must be one of {', '.join(FILTER_POLICY_SCOPES)}",
            )
        text: str | None = None
        matcher: Matcher | None = None
        if filter_policy is not None:
            text, matcher = _check_policy(filter_policy, filter_policy_scope)
        invoker = self._invokers.resolve(function, "function", history)
        subscription = Subscription(
            arn=f"{self.arn}:{new_request_id(self.rng)}",
            invoker=invoker,
            filter_policy=text,
            filter_policy_scope=filter_policy_scope,
            matcher=matcher,
        )
        self._subscriptions.append(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        """``Unsubscribe``: no more messages for ``subscription``."""
        try:
            self._subscriptions.remove(subscription)
        except ValueError:
            msg = f"{subscription.arn}: not a subscription of {self.arn}"
            raise KeyError(msg) from None

    def publish(
        self,
        message: str,
        message_attributes: Mapping[str, Mapping[str, Any]] | None = None,
        *,
        subject: str | None = None,
    ) -> str:
        """``Publish`` a message; returns its ``MessageId``.

        ``message_attributes`` take ``Publish``'s shape: ``{"name": {"DataType":
        "String", "StringValue": "..."}}`` (``Number``, ``String.Array``, or ``Binary``
        with ``BinaryValue`` bytes).  The message and its attributes together must fit
        SNS's 256 KB; ``subject`` is at most 100 characters without line breaks or
        control characters.  Each subscription whose filter policy accepts the message
        gets one ``Event`` invoke.
        """
        if not isinstance(message, str) or not message:
            raise InvalidParameterValueError("Message", message, "must be a non-empty string")
        attributes = _check_attributes(message_attributes)
        if subject is not None and (
            not isinstance(subject, str)
            or not subject
            or len(subject) > _SUBJECT_LIMIT
            or _CONTROL.search(subject)
        ):
            raise InvalidParameterValueError(
                "Subject",
                subject,
                f"must be 1 to {_SUBJECT_LIMIT} characters without line breaks or control "
                "characters",
            )
        size = _size(message, attributes)
        if size > SNS_MESSAGE_LIMIT:
            raise InvalidParameterValueError(
                "Message",
                message,
                f"Message too long: {size} bytes with its attributes, at most {SNS_MESSAGE_LIMIT}",
            )
        self.messages.append(Message(message, attributes, subject))
        message_id = new_request_id(self.rng)
        matching = [s for s in self._subscriptions if s.accepts(message, attributes)]
        if not matching:
            return message_id
        epoch = self.scheduler.clock.epoch()
        signature = base64.b64encode(self.rng.getrandbits(2048).to_bytes(256, "big")).decode()
        host = f"https://sns.{self.region}.amazonaws.com"
        for subscription in matching:
            record = sns_record(
                subscription_arn=subscription.arn,
                topic_arn=self.arn,
                message_id=message_id,
                message=message,
                subject=subject,
                message_attributes=attributes,
                epoch=epoch,
                signature=signature,
                signing_cert_url=f"{host}/SimpleNotificationService-{self._certificate}.pem",
                unsubscribe_url=(f"{host}/?Action=Unsubscribe&SubscriptionArn={subscription.arn}"),
            )
            self.notifications.append(
                invoke(subscription.invoker, subscription.arn, sns_event([record]))
            )
        return message_id

    def deliver(self, record: dict[str, Any], delivery: Delivery) -> None:
        """The record becomes the message; its payload is dropped past 256 KB."""
        del delivery
        body = json.dumps(record)
        if len(body.encode("utf-8")) > SNS_MESSAGE_LIMIT:
            trimmed = {k: v for k, v in record.items() if k not in _PAYLOAD_KEYS}
            body = json.dumps(trimmed)
        self.publish(body)

    @property
    def records(self) -> list[Any]:
        """Every message, parsed from JSON."""
        return [message.json() for message in self.messages]
