"""Event builders: the events AWS sends to a handler, for example tests.

Each builder returns the event as the handler receives it (a ``dict`` that is the parsed
JSON), key for key as AWS sends it (reference section 5, SAM CLI's and Powertools' sample
events), with sensible defaults and a keyword for every value that varies.  The shapes
themselves live in `invokemodels.core._records` (the in-memory services build the same
records from them); this module fills in realistic values: ARNs, UUID message ids, MD5s
computed from the body and the message attributes, increasing sequence numbers,
timestamps in each service's own format.

Ids that are not given are drawn from a ``random.Random`` seeded with ``seed``, so the same
call gives the same event; records built by one ``*_event`` call get distinct ids.
"""

from __future__ import annotations

import base64
import hashlib
import random
import re
import urllib.parse
from collections.abc import Mapping, Sequence
from typing import Any, Final

from invokemodels.aws import _http
from invokemodels.aws._dynamodb import STREAM_VIEW_TYPES, stream_record_size, to_attribute_value
from invokemodels.aws._sqs import BAD_BODY_CHARACTER, md5_of_message_attributes
from invokemodels.core import _records
from invokemodels.core._function import new_request_id
from invokemodels.exceptions import InvalidParameterValueError

__all__ = [
    "DEFAULT_ACCOUNT_ID",
    "DEFAULT_EPOCH",
    "DEFAULT_REGION",
    "DYNAMODB_EVENT_NAMES",
    "S3_EVENT_NAMES",
    "dynamodb_event",
    "dynamodb_record",
    "eventbridge_event",
    "function_url_event",
    "http_api_event",
    "kinesis_event",
    "kinesis_record",
    "rest_api_event",
    "s3_event",
    "s3_record",
    "sns_event",
    "sns_record",
    "sqs_event",
    "sqs_message_attributes",
    "sqs_record",
]

DEFAULT_REGION: Final = "us-east-1"
"""The region of every default ARN (SAM CLI's default)."""

DEFAULT_ACCOUNT_ID: Final = "123456789012"
"""The account of every default ARN (AWS's documentation account)."""

DEFAULT_EPOCH: Final = 1_700_000_000.0
"""When a default event happened: 2023-11-14T22:13:20Z, as Unix time."""

DYNAMODB_EVENT_NAMES: Final = ("INSERT", "MODIFY", "REMOVE")
"""A DynamoDB Streams record's ``eventName`` values."""

S3_EVENT_NAMES: Final = (
    "ObjectCreated:Put",
    "ObjectCreated:Post",
    "ObjectCreated:Copy",
    "ObjectCreated:CompleteMultipartUpload",
    "ObjectRemoved:Delete",
    "ObjectRemoved:DeleteMarkerCreated",
)
"""The S3 event names these builders make: a created object carries ``size`` and
``eTag``, a removed one neither."""

_SENDER_ID: Final = "AIDAIENQZJOLO23YVJ4VO"
_ARN: Final = re.compile(
    r"arn:(?P<partition>aws[a-z-]*):(?P<service>[a-z0-9-]+):(?P<region>[a-z0-9-]*):"
    r"(?P<account>[0-9]{12}|):(?P<resource>.+)"
)
_UPPER: Final = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_LOWER_ALNUM: Final = "abcdefghijklmnopqrstuvwxyz0123456789"
_HEX_UPPER: Final = "0123456789ABCDEF"
_KINESIS_FIRST_SEQUENCE: Final = 49590338271490256608559692538361571095921575989136588898
_DYNAMODB_FIRST_SEQUENCE: Final = 4421584500000000017450439091
_MD5_OF_EMPTY: Final = "d41d8cd98f00b204e9800998ecf8427e"


# -- values -------------------------------------------------------------------------------


class _Ids:
    """Realistic ids drawn from one seeded ``random.Random``."""

    def __init__(self, seed: int | str) -> None:
        self.rng = random.Random(seed)

    def uuid(self) -> str:
        return new_request_id(self.rng)

    def chars(self, alphabet: str, count: int) -> str:
        return "".join(self.rng.choice(alphabet) for _ in range(count))

    def base64(self, count: int) -> str:
        return base64.b64encode(self.rng.getrandbits(8 * count).to_bytes(count, "big")).decode()

    def receipt_handle(self) -> str:
        return "AQEB" + self.base64(66)

    def hex(self, count: int) -> str:
        return f"{self.rng.getrandbits(4 * count):0{count}x}"


def _md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def _ms(epoch: float) -> int:
    return round(epoch * 1000)


def _parse_arn(parameter: str, arn: str, service: str) -> re.Match[str]:
    match = _ARN.fullmatch(arn) if isinstance(arn, str) else None
    if match is None or match["service"] != service:
        raise InvalidParameterValueError(
            parameter, arn, f"must be an ARN of the form arn:aws:{service}:<region>:<account>:..."
        )
    return match


def _check_text(parameter: str, value: Any) -> str:
    if not isinstance(value, str):
        raise InvalidParameterValueError(parameter, value, "must be a string")
    return value


def _check_count(parameter: str, value: Any, low: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < low:
        raise InvalidParameterValueError(parameter, value, f"must be an integer >= {low}")
    return value


def _as_bytes(parameter: str, value: Any) -> bytes:
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    raise InvalidParameterValueError(parameter, value, "must be bytes or a string (UTF-8)")


def _first_sequence(options: dict[str, Any], default: int) -> int:
    """The ``sequence_number`` option of an ``*_event`` call: the first record's."""
    value = options.pop("sequence_number", None)
    if value is None:
        return default
    if not isinstance(value, str) or not value.isdigit():
        raise InvalidParameterValueError("sequence_number", value, "must be a digit string")
    return int(value)


def _records_of(parameter: str, items: Sequence[Any]) -> list[dict[str, Any]]:
    for item in items:
        if not isinstance(item, dict):
            raise InvalidParameterValueError(parameter, item, "must be a record (a dict)")
    return list(items)


# -- SQS ----------------------------------------------------------------------------------


def sqs_message_attributes(attributes: Mapping[str, Any] | None) -> dict[str, dict[str, Any]]:
    """Message attributes in ``SendMessage``'s shape (``DataType`` and ``StringValue`` or
    ``BinaryValue``), from that shape or from plain values: a ``str`` is a ``String``, an
    ``int`` or ``float`` a ``Number``, ``bytes`` a ``Binary``."""
    out: dict[str, dict[str, Any]] = {}
    for name, value in (attributes or {}).items():
        if isinstance(value, Mapping) and "DataType" in value:
            out[name] = dict(value)
        elif isinstance(value, str):
            out[name] = {"DataType": "String", "StringValue": value}
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            out[name] = {"DataType": "Number", "StringValue": str(value)}
        elif isinstance(value, (bytes, bytearray)):
            out[name] = {"DataType": "Binary", "BinaryValue": bytes(value)}
        else:
            raise InvalidParameterValueError(
                f"message_attributes[{name!r}]",
                value,
                "must be a str, int, float, bytes or {'DataType': ..., 'StringValue': ...}",
            )
    return out


def sqs_record(
    body: str = "Hello from SQS!",
    *,
    queue_arn: str = f"arn:aws:sqs:{DEFAULT_REGION}:{DEFAULT_ACCOUNT_ID}:MyQueue",
    message_id: str | None = None,
    receipt_handle: str | None = None,
    message_attributes: Mapping[str, Any] | None = None,
    receive_count: int = 1,
    sent_timestamp: float = DEFAULT_EPOCH,
    first_receive_timestamp: float | None = None,
    sender_id: str = _SENDER_ID,
    message_group_id: str | None = None,
    message_deduplication_id: str | None = None,
    sequence_number: str | None = None,
    seed: int | str = 0,
) -> dict[str, Any]:
    """One record of an SQS event (reference 5.1, 5.2).

    A queue whose ARN ends in ``.fifo`` is a FIFO queue: its records carry
    ``SequenceNumber``, ``MessageGroupId`` (default ``"1"``) and
    ``MessageDeduplicationId`` (default: the SHA-256 of the body, as content-based
    deduplication makes it).  ``md5OfBody`` and ``md5OfMessageAttributes`` are computed
    (the latter null without attributes; see `sqs_message_attributes` for the attribute
    forms).  Timestamps are Unix seconds; ``first_receive_timestamp`` defaults to
    ``sent_timestamp`` plus 2 ms.
    """
    body = _check_text("body", body)
    # SendMessage's rule (the in-memory queue's): a body SQS refuses never reaches a handler.
    bad = BAD_BODY_CHARACTER.search(body)
    if not body or bad is not None:
        raise InvalidParameterValueError(
            "body",
            body if len(body) <= 40 else body[:40] + "...",
            "must be 1 or more of the characters SQS allows (#x9 | #xA | #xD | #x20 to #xD7FF"
            " | #xE000 to #xFFFD | #x10000 to #x10FFFF)",
        )
    match = _parse_arn("queue_arn", queue_arn, "sqs")
    _check_count("receive_count", receive_count, 1)
    fifo = queue_arn.endswith(".fifo")
    if not fifo:
        for name, value in (
            ("message_group_id", message_group_id),
            ("message_deduplication_id", message_deduplication_id),
            ("sequence_number", sequence_number),
        ):
            if value is not None:
                raise InvalidParameterValueError(
                    name, value, "is for FIFO queues only (a queue ARN ending in .fifo)"
                )
    ids = _Ids(seed)
    attributes = sqs_message_attributes(message_attributes)
    first = sent_timestamp + 0.002 if first_receive_timestamp is None else first_receive_timestamp
    if first < sent_timestamp:
        raise InvalidParameterValueError(
            "first_receive_timestamp", first, f"must not be before sent_timestamp={sent_timestamp}"
        )
    group: str | None = None
    dedup: str | None = None
    sequence: str | None = None
    if fifo:
        group = "1" if message_group_id is None else message_group_id
        dedup = message_deduplication_id or hashlib.sha256(body.encode()).hexdigest()
        sequence = sequence_number or str(18_000_000_000_000_000_000 + ids.rng.getrandbits(59))
    return _records.sqs_record(
        message_id or ids.uuid(),
        receipt_handle or ids.receipt_handle(),
        body,
        _records.sqs_attributes(
            receive_count=receive_count,
            sent_ms=_ms(sent_timestamp),
            sender_id=sender_id,
            first_receive_ms=_ms(first),
            sequence_number=sequence,
            group_id=group,
            deduplication_id=dedup,
        ),
        attributes,
        md5_of_message_attributes(attributes),
        _md5(body.encode("utf-8")),
        queue_arn,
        match["region"],
    )


def sqs_event(*records: str | dict[str, Any], seed: int = 0, **options: Any) -> dict[str, Any]:
    """An SQS event: ``{"Records": [...]}``, one record per argument (default: one).

    A string is a body, made into a record by `sqs_record` with ``options`` (the same
    keywords); a dict is a record already built.  Records made here get distinct ids
    and, on a FIFO queue, increasing sequence numbers.
    """
    items: Sequence[str | dict[str, Any]] = records or ("Hello from SQS!",)
    out = []
    base = 18_000_000_000_000_000_000 + random.Random(seed).getrandbits(58)
    fifo = str(options.get("queue_arn", "")).endswith(".fifo")
    for index, item in enumerate(items):
        if isinstance(item, dict):
            out.append(item)
            continue
        extra = dict(options)
        if fifo and "sequence_number" not in extra:
            extra["sequence_number"] = str(base + index * 1_000_000)
        out.append(sqs_record(item, seed=f"{seed}:{index}", **extra))
    return {"Records": _records_of("records", out)}


# -- Kinesis ------------------------------------------------------------------------------


def kinesis_record(
    data: bytes | str = b"Hello, this is a test 123.",
    *,
    partition_key: str = "partitionKey-03",
    sequence_number: str | None = None,
    arrival_timestamp: float = DEFAULT_EPOCH,
    shard_id: str = "shardId-000000000000",
    stream_arn: str = f"arn:aws:kinesis:{DEFAULT_REGION}:{DEFAULT_ACCOUNT_ID}:stream/MyStream",
    invoke_identity_arn: str | None = None,
) -> dict[str, Any]:
    """One record of a Kinesis event (reference 5.3): ``data`` base64-encoded (a string is
    its UTF-8), ``eventID`` ``<shard>:<sequence number>``, ``approximateArrivalTimestamp``
    Unix seconds to the millisecond.  ``invoke_identity_arn`` (the mapping's execution
    role) defaults to ``arn:aws:iam::<account>:role/lambda-role``.
    """
    payload = _as_bytes("data", data)
    _check_text("partition_key", partition_key)
    match = _parse_arn("stream_arn", stream_arn, "kinesis")
    sequence = sequence_number or str(_KINESIS_FIRST_SEQUENCE)
    if not sequence.isdigit():
        raise InvalidParameterValueError("sequence_number", sequence, "must be a digit string")
    record = _records.kinesis_record(
        partition_key,
        sequence,
        payload,
        round(arrival_timestamp, 3),
        shard_id,
        match["region"],
        stream_arn,
    )
    record["invokeIdentityArn"] = (
        invoke_identity_arn or f"arn:{match['partition']}:iam::{match['account']}:role/lambda-role"
    )
    return record


def kinesis_event(*records: bytes | str | dict[str, Any], **options: Any) -> dict[str, Any]:
    """A Kinesis event: one record per argument (default: one), all from one shard.

    ``bytes`` or a string is a record's data, made into a record by `kinesis_record` with
    ``options``; records made here get increasing sequence numbers (and the same arrival
    time unless given); a dict is a record already built.
    """
    items: Sequence[bytes | str | dict[str, Any]] = records or (b"Hello, this is a test 123.",)
    first = _first_sequence(options, _KINESIS_FIRST_SEQUENCE)
    out = []
    for index, item in enumerate(items):
        if isinstance(item, dict):
            out.append(item)
        else:
            out.append(kinesis_record(item, sequence_number=str(first + (index << 64)), **options))
    return {"Records": _records_of("records", out)}


# -- DynamoDB Streams ---------------------------------------------------------------------


def _typed(parameter: str, item: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(item, Mapping):
        raise InvalidParameterValueError(parameter, item, "must map attribute names to values")
    return {str(name): to_attribute_value(value) for name, value in item.items()}


def dynamodb_record(
    event_name: str = "INSERT",
    *,
    keys: Mapping[str, Any] | None = None,
    new_image: Mapping[str, Any] | None = None,
    old_image: Mapping[str, Any] | None = None,
    stream_view_type: str = "NEW_AND_OLD_IMAGES",
    sequence_number: str | None = None,
    created: float = DEFAULT_EPOCH,
    event_id: str | None = None,
    stream_arn: str = (
        f"arn:aws:dynamodb:{DEFAULT_REGION}:{DEFAULT_ACCOUNT_ID}:table/ExampleTableWithStream"
        "/stream/2023-11-14T22:13:20.000"
    ),
    ttl: bool = False,
    seed: int | str = 0,
) -> dict[str, Any]:
    """One record of a DynamoDB Streams event (reference 5.4).

    ``keys`` and the images are plain Python values (converted as
    `invokemodels.aws.to_attribute_value` does: ``{"Id": 101}`` becomes
    ``{"Id": {"N": "101"}}``).  ``keys`` defaults to ``{"Id": 101}``; an ``INSERT`` has a
    new image (default: the keys and ``Message``), a ``REMOVE`` an old one, a ``MODIFY``
    both; ``stream_view_type`` keeps what it says (``KEYS_ONLY`` neither).  ``SizeBytes``
    is computed; ``ApproximateCreationDateTime`` is ``created`` rounded down to the
    second.  ``ttl=True`` marks a ``REMOVE`` as made by Time to Live
    (``userIdentity`` ``{"type": "Service", "principalId": "dynamodb.amazonaws.com"}``,
    [UNCONFIRMED]: from AWS's TTL guide and Powertools' model, not a recording).
    """
    if event_name not in DYNAMODB_EVENT_NAMES:
        raise InvalidParameterValueError(
            "event_name", event_name, f"must be one of {', '.join(DYNAMODB_EVENT_NAMES)}"
        )
    if stream_view_type not in STREAM_VIEW_TYPES:
        raise InvalidParameterValueError(
            "stream_view_type", stream_view_type, f"must be one of {', '.join(STREAM_VIEW_TYPES)}"
        )
    match = _parse_arn("stream_arn", stream_arn, "dynamodb")
    if ttl and event_name != "REMOVE":
        raise InvalidParameterValueError("ttl", ttl, "only a REMOVE is made by Time to Live")
    key = dict(keys) if keys is not None else {"Id": 101}
    if event_name == "INSERT" and old_image is not None:
        raise InvalidParameterValueError("old_image", old_image, "an INSERT has no old image")
    if event_name == "REMOVE" and new_image is not None:
        raise InvalidParameterValueError("new_image", new_image, "a REMOVE has no new image")
    new = old = None
    if event_name != "REMOVE":
        new = {**key, "Message": "New item!"} if new_image is None else {**new_image, **key}
    if event_name != "INSERT":
        old = {**key, "Message": "Old item!"} if old_image is None else {**old_image, **key}
    ids = _Ids(seed)
    change = _records.dynamodb_change(
        created_epoch=created,
        keys=_typed("keys", key),
        new_image=None if new is None else _typed("new_image", new),
        old_image=None if old is None else _typed("old_image", old),
        sequence_number=sequence_number or str(_DYNAMODB_FIRST_SEQUENCE),
        size_bytes=0,
        stream_view_type=stream_view_type,
    )
    change["SizeBytes"] = stream_record_size(change)
    record = _records.dynamodb_record(
        event_id or ids.hex(32), event_name, change, match["region"], stream_arn
    )
    if ttl:
        record["userIdentity"] = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
    return record


def dynamodb_event(*records: str | dict[str, Any], seed: int = 0, **options: Any) -> dict[str, Any]:
    """A DynamoDB Streams event: one record per argument (default: one ``INSERT``).

    A string is an event name (``"INSERT"``, ``"MODIFY"``, ``"REMOVE"``), made into a
    record by `dynamodb_record` with ``options``; records made here get increasing
    sequence numbers and distinct event ids; a dict is a record already built.
    ``dynamodb_event("INSERT", "MODIFY", "REMOVE")`` is one item's whole life.
    """
    items: Sequence[str | dict[str, Any]] = records or ("INSERT",)
    first = _first_sequence(options, _DYNAMODB_FIRST_SEQUENCE)
    out = []
    for index, item in enumerate(items):
        if isinstance(item, dict):
            out.append(item)
        else:
            out.append(
                dynamodb_record(
                    item, sequence_number=str(first + index), seed=f"{seed}:{index}", **options
                )
            )
    return {"Records": _records_of("records", out)}


# -- EventBridge --------------------------------------------------------------------------


def eventbridge_event(
    detail: Any = None,
    *,
    detail_type: str = "Scheduled Event",
    source: str = "aws.events",
    account_id: str = DEFAULT_ACCOUNT_ID,
    region: str = DEFAULT_REGION,
    time: float = DEFAULT_EPOCH,
    resources: Sequence[str] | None = None,
    event_id: str | None = None,
    seed: int | str = 0,
) -> dict[str, Any]:
    """An EventBridge event as a rule's Lambda target receives it (``version`` "0",
    ``time`` to the second).  The default is a scheduled event (SAM's ``cloudwatch
    scheduled-event``): ``detail`` ``{}``, the rule ``MyRule`` as the one resource; a
    custom event names its ``source``, ``detail_type`` and ``detail``, and has no
    resources unless given."""
    if resources is None:
        default = source == "aws.events"
        rule = f"arn:aws:events:{region}:{account_id}:rule/MyRule"
        resources = [rule] if default else []
    return _records.eventbridge_envelope(
        event_id=event_id or _Ids(seed).uuid(),
        detail_type=_check_text("detail_type", detail_type),
        source=_check_text("source", source),
        account_id=account_id,
        epoch=time,
        region=region,
        resources=list(resources),
        detail={} if detail is None else detail,
    )


# -- S3 -----------------------------------------------------------------------------------


def s3_record(
    key: str = "test/key",
    *,
    event_name: str = "ObjectCreated:Put",
    bucket: str = "example-bucket",
    size: int = 1024,
    etag: str | None = None,
    version_id: str | None = None,
    sequencer: str | None = None,
    region: str = DEFAULT_REGION,
    time: float = DEFAULT_EPOCH,
    principal_id: str = "AWS:AIDAINPONIXQXHT3IKHL2",
    source_ip: str = "205.255.255.255",
    configuration_id: str = "testConfigRule",
    seed: int | str = 0,
) -> dict[str, Any]:
    """One record of an S3 event notification (reference 5.5): ``key`` as stored (the
    record carries it URL-encoded, ``"red flower.jpg"`` as ``"red+flower.jpg"``).

    A created object carries ``size`` and ``eTag`` (default: an MD5-like hex digest); a
    removed one neither.  ``sequencer`` is 18 upper-case hex digits.
    """
    if event_name not in S3_EVENT_NAMES:
        raise InvalidParameterValueError(
            "event_name", event_name, f"must be one of {', '.join(S3_EVENT_NAMES)}"
        )
    _check_text("key", key)
    _check_count("size", size, 0)
    ids = _Ids(seed)
    created = event_name.startswith("ObjectCreated:")
    return _records.s3_record(
        event_version="2.1",
        region=region,
        epoch=time,
        event_name=event_name,
        principal_id=principal_id,
        source_ip=source_ip,
        request_id=ids.chars(_HEX_UPPER, 16),
        host_id=ids.base64(57),
        configuration_id=configuration_id,
        bucket=_check_text("bucket", bucket),
        owner_id="A3I5XTEXAMAI3E",
        key=key,
        size=size if created else None,
        etag=(etag or (_MD5_OF_EMPTY if size == 0 else ids.hex(32))) if created else None,
        version_id=version_id,
        sequencer=sequencer or ids.chars(_HEX_UPPER, 18),
    )


def s3_event(*records: str | dict[str, Any], seed: int = 0, **options: Any) -> dict[str, Any]:
    """An S3 event: one record per argument (default: one ``ObjectCreated:Put`` of
    ``test/key``); a string is an object key made into a record by `s3_record` with
    ``options``, a dict a record already built.  (S3 itself sends one record per event.)"""
    items: Sequence[str | dict[str, Any]] = records or ("test/key",)
    out = [
        item if isinstance(item, dict) else s3_record(item, seed=f"{seed}:{index}", **options)
        for index, item in enumerate(items)
    ]
    return _records.s3_event(_records_of("records", out))


# -- SNS ----------------------------------------------------------------------------------


def sns_record(
    message: str = "example message",
    *,
    subject: str | None = "example subject",
    topic_arn: str = f"arn:aws:sns:{DEFAULT_REGION}:{DEFAULT_ACCOUNT_ID}:ExampleTopic",
    message_attributes: Mapping[str, Any] | None = None,
    message_id: str | None = None,
    time: float = DEFAULT_EPOCH,
    subscription_id: str | None = None,
    seed: int | str = 0,
) -> dict[str, Any]:
    """The record of an SNS notification (reference 5.6): the subscription ARN is the
    topic's plus a UUID, ``Signature`` 256 base64-encoded bytes, the certificate and
    unsubscribe URLs the topic region's.  ``message_attributes`` take the forms of
    `sqs_message_attributes`; ``subject`` None is ``"Subject": null``."""
    match = _parse_arn("topic_arn", topic_arn, "sns")
    ids = _Ids(seed)
    subscription = f"{topic_arn}:{subscription_id or ids.uuid()}"
    host = f"https://sns.{match['region']}.amazonaws.com"
    return _records.sns_record(
        subscription_arn=subscription,
        topic_arn=topic_arn,
        message_id=message_id or ids.uuid(),
        message=_check_text("message", message),
        subject=subject,
        message_attributes=sqs_message_attributes(message_attributes),
        epoch=time,
        signature=ids.base64(256),
        signing_cert_url=f"{host}/SimpleNotificationService-{ids.hex(32)}.pem",
        unsubscribe_url=f"{host}/?Action=Unsubscribe&SubscriptionArn={subscription}",
    )


def sns_event(message: str | dict[str, Any] = "example message", **options: Any) -> dict[str, Any]:
    """An SNS event: one notification (SNS sends one per invocation); ``message`` is the
    message text, made into a record by `sns_record` with ``options``, or a record
    already built."""
    record = message if isinstance(message, dict) else sns_record(message, **options)
    return _records.sns_event([record])


# -- API Gateway and function URLs --------------------------------------------------------


def _pairs(parameter: str, values: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """``{"a": "1", "b": ["2", "3"]}`` as ``[("a", "1"), ("b", "2"), ("b", "3")]``."""
    pairs: list[tuple[str, str]] = []
    for name, value in (values or {}).items():
        many = isinstance(value, (list, tuple))
        for one in value if many else [value]:
            if not isinstance(one, str):
                raise InvalidParameterValueError(
                    f"{parameter}[{name!r}]", value, "must be a string or a list of strings"
                )
            pairs.append((str(name), one))
    return pairs


def _body(body: str | bytes | None) -> tuple[str | None, bool]:
    if body is None or isinstance(body, str):
        return body, False
    return base64.b64encode(_as_bytes("body", body)).decode("ascii"), True


def _default_headers(host: str, body: str | None, source_ip: str) -> dict[str, str]:
    """A client's usual headers, named as a REST API passes them on (as sent)."""
    headers = {
        "Accept": "*/*",
        "Host": host,
        "User-Agent": "curl/8.4.0",
        "X-Forwarded-For": source_ip,
        "X-Forwarded-Port": "443",
        "X-Forwarded-Proto": "https",
    }
    if body is not None:
        headers["Content-Type"] = "application/json"
    return headers


def _check_method(method: str) -> str:
    if not isinstance(method, str) or not re.fullmatch("[A-Z]+", method):
        raise InvalidParameterValueError("method", method, "must be an upper-case HTTP method")
    return method


def _check_path(path: str) -> str:
    if not isinstance(path, str) or not path.startswith("/"):
        raise InvalidParameterValueError("path", path, "must be a string starting with /")
    return path


def rest_api_event(
    method: str = "POST",
    path: str = "/path/to/resource",
    *,
    body: str | bytes | None = '{"test":"body"}',
    headers: Mapping[str, str | Sequence[str]] | None = None,
    query: Mapping[str, str | Sequence[str]] | None = None,
    resource: str | None = None,
    stage: str = "prod",
    stage_variables: Mapping[str, str] | None = None,
    account_id: str = DEFAULT_ACCOUNT_ID,
    region: str = DEFAULT_REGION,
    api_id: str = "1234567890",
    source_ip: str = "192.0.2.1",
    time: float = DEFAULT_EPOCH,
    authorizer: dict[str, Any] | None = None,
    seed: int | str = 0,
) -> dict[str, Any]:
    """An API Gateway REST API proxy event, payload 1.0 (SAM's ``apigateway aws-proxy``).

    ``resource`` is the route template (default: ``path`` itself), whose ``{name}`` and
    ``{name+}`` fill ``pathParameters``; ``headers`` and ``query`` map a name to a value
    or a list of values (``headers`` / ``queryStringParameters`` keep the last,
    ``multiValue...`` all); every empty map is null.  A ``bytes`` body is sent base64
    encoded (``isBase64Encoded``).  ``headers`` None gives a client's usual headers.
    """
    _check_method(method)
    _check_path(path)
    text, encoded = _body(body)
    ids = _Ids(seed)
    domain = f"{api_id}.execute-api.{region}.amazonaws.com"
    header_pairs = _pairs(
        "headers", _default_headers(domain, text, source_ip) if headers is None else headers
    )
    extended_request_id = ids.base64(11)
    request_id = ids.uuid()
    return _http.rest_api_event_of(
        method=method,
        path=path,
        resource=path if resource is None else resource,
        header_pairs=header_pairs,
        query_pairs=_pairs("query", query),
        body=text,
        is_base64_encoded=encoded,
        stage=stage,
        stage_variables=stage_variables,
        account_id=account_id,
        api_id=api_id,
        domain_name=domain,
        source_ip=source_ip,
        epoch=time,
        authorizer=authorizer,
        request_id=request_id,
        extended_request_id=extended_request_id,
        resource_id=ids.chars(_LOWER_ALNUM, 6),
    )


def _v2_parts(
    host: str,
    text: str | None,
    source_ip: str,
    headers: Mapping[str, str | Sequence[str]] | None,
    query: Mapping[str, str | Sequence[str]] | None,
) -> tuple[list[tuple[str, str]], str, list[tuple[str, str]]]:
    """Payload 2.0's header pairs (a client's usual ones for None), raw query string and
    query pairs."""
    header_pairs = _pairs(
        "headers", _default_headers(host, text, source_ip) if headers is None else headers
    )
    query_pairs = _pairs("query", query)
    return header_pairs, urllib.parse.urlencode(query_pairs), query_pairs


def http_api_event(
    method: str = "POST",
    path: str = "/path/to/resource",
    *,
    body: str | bytes | None = '{"test":"body"}',
    headers: Mapping[str, str | Sequence[str]] | None = None,
    query: Mapping[str, str | Sequence[str]] | None = None,
    cookies: Sequence[str] | None = None,
    route: str | None = None,
    stage: str = "$default",
    stage_variables: Mapping[str, str] | None = None,
    account_id: str = DEFAULT_ACCOUNT_ID,
    region: str = DEFAULT_REGION,
    api_id: str = "1234567890",
    source_ip: str = "192.0.2.1",
    time: float = DEFAULT_EPOCH,
    authorizer: dict[str, Any] | None = None,
    seed: int | str = 0,
) -> dict[str, Any]:
    """An API Gateway HTTP API event, payload 2.0 (SAM's ``apigateway http-api-proxy``).

    ``route`` is the route's path template: the route key is ``"<METHOD> <route>"`` and
    its ``{name}`` / ``{name+}`` fill ``pathParameters``; without it the route key is
    ``$default``.  Header names are lower-case and repeated headers and query parameters
    are joined with commas (``rawQueryString`` keeps them apart); ``cookies`` is the
    list of ``name=value`` cookies.
    """
    _check_method(method)
    _check_path(path)
    text, encoded = _body(body)
    ids = _Ids(seed)
    domain = f"{api_id}.execute-api.{region}.amazonaws.com"
    header_pairs, raw_query, query_pairs = _v2_parts(domain, text, source_ip, headers, query)
    return _http.http_api_event_of(
        method=method,
        path=path,
        route=route,
        header_pairs=header_pairs,
        raw_query_string=raw_query,
        query_pairs=query_pairs,
        cookies=cookies,
        body=text,
        is_base64_encoded=encoded,
        stage=stage,
        stage_variables=stage_variables,
        account_id=account_id,
        api_id=api_id,
        domain_name=domain,
        source_ip=source_ip,
        epoch=time,
        authorizer=authorizer,
        request_id=ids.base64(11),
    )


def function_url_event(
    method: str = "GET",
    path: str = "/",
    *,
    body: str | bytes | None = None,
    headers: Mapping[str, str | Sequence[str]] | None = None,
    query: Mapping[str, str | Sequence[str]] | None = None,
    cookies: Sequence[str] | None = None,
    url_id: str = "a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p6",
    region: str = DEFAULT_REGION,
    account_id: str = "anonymous",
    source_ip: str = "192.0.2.1",
    time: float = DEFAULT_EPOCH,
    authorizer: dict[str, Any] | None = None,
    seed: int | str = 0,
) -> dict[str, Any]:
    """A Lambda function URL event (payload 2.0 with ``$default`` route and stage, the
    domain ``<url-id>.lambda-url.<region>.on.aws``); ``account_id`` is ``"anonymous"``
    as for a URL with auth type ``NONE``.  Headers, query and cookies as
    `http_api_event`."""
    _check_method(method)
    _check_path(path)
    text, encoded = _body(body)
    domain = f"{url_id}.lambda-url.{region}.on.aws"
    header_pairs, raw_query, query_pairs = _v2_parts(domain, text, source_ip, headers, query)
    return _http.function_url_event_of(
        method=method,
        path=path,
        header_pairs=header_pairs,
        raw_query_string=raw_query,
        query_pairs=query_pairs,
        cookies=cookies,
        body=text,
        is_base64_encoded=encoded,
        url_id=url_id,
        region=region,
        account_id=account_id,
        source_ip=source_ip,
        epoch=time,
        authorizer=authorizer,
        request_id=_Ids(seed).uuid(),
    )
