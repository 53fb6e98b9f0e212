"""Hypothesis strategies for the events AWS sends to a handler, for failure schedules, and
for valid configurations of the models.

Each strategy draws the values that vary (bodies, attributes, ids, timestamps, sequence
numbers, sizes) and builds the event with the builders of `invokemodels.testing._events`,
so a generated event has exactly the keys AWS sends.  The interesting part is yours:
every strategy takes it as its first argument, as a strategy or a plain value
(``sqs_events(body=st.builds(Order).map(json.dumps))``); the rest is drawn with realistic
formats.  The records of one event are one batch: one queue, stream, shard or table,
distinct message ids, increasing sequence numbers, timestamps that do not go backwards.

`failure_schedules` draws `FailureSchedule` values; `event_invoke_configs`,
`sqs_mapping_configs` and `stream_mapping_configs` draw configurations within AWS's ranges
(each minimum and maximum is reachable, the defaults are among the values).

Hypothesis is needed only here: install ``invokemodels[testing]``.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import string
from collections.abc import Mapping, Sequence
from typing import Any

try:
    from hypothesis import strategies as st
except ImportError as exc:
    msg = "the invokemodels.testing strategies need Hypothesis: pip install 'invokemodels[testing]'"
    raise ImportError(msg) from exc

from invokemodels.aws._dynamodb import STREAM_VIEW_TYPES
from invokemodels.aws._eventbridge import EventBus
from invokemodels.aws._s3 import Bucket
from invokemodels.aws._sns import Topic
from invokemodels.aws._targets import QueueTarget
from invokemodels.core._clock import EPOCH_ORIGIN, iso_timestamp
from invokemodels.core._protocols import Destination
from invokemodels.event._policy import EventInvokeConfig
from invokemodels.exceptions import InvalidParameterValueError
from invokemodels.mapping._filters import FilterCriteria
from invokemodels.mapping._params import REPORT_BATCH_ITEM_FAILURES
from invokemodels.mapping._sqs import SQSMappingConfig
from invokemodels.mapping._stream_config import StreamMappingConfig
from invokemodels.testing import _events
from invokemodels.testing._events import DYNAMODB_EVENT_NAMES, S3_EVENT_NAMES
from invokemodels.testing._schedules import Behaviour, FailureSchedule

__all__ = [
    "dynamodb_events",
    "dynamodb_records",
    "dynamodb_values",
    "event_invoke_configs",
    "eventbridge_events",
    "failure_schedules",
    "function_url_events",
    "http_api_events",
    "kinesis_events",
    "kinesis_records",
    "rest_api_events",
    "s3_events",
    "s3_records",
    "sns_events",
    "sns_records",
    "sqs_bodies",
    "sqs_events",
    "sqs_mapping_configs",
    "sqs_records",
    "stream_mapping_configs",
]

_REGIONS = (
    "us-east-1", "us-east-2", "us-west-2", "eu-west-1", "eu-central-1", "ap-northeast-1",
    "ap-southeast-2", "sa-east-1",
)  # fmt: skip
_EPOCH_LOW = int(_dt.datetime(2015, 1, 1, tzinfo=_dt.timezone.utc).timestamp())
_EPOCH_HIGH = int(_dt.datetime(2035, 1, 1, tzinfo=_dt.timezone.utc).timestamp())
_NAME = string.ascii_letters + string.digits + "-_"
_seeds = st.integers(0, 2**32 - 1)


def _strategy(value: Any, default: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """``value`` as a strategy: a strategy as it is, None as ``default``, else ``just``."""
    if value is None:
        return default
    if isinstance(value, st.SearchStrategy):
        return value
    return st.just(value)


def _check_sizes(min_size: int, max_size: int, limit: int) -> None:
    for name, value in (("min_size", min_size), ("max_size", max_size)):
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= limit:
            raise InvalidParameterValueError(name, value, f"must be an integer in 1-{limit}")
    if min_size > max_size:
        raise InvalidParameterValueError("min_size", min_size, f"must be <= max_size={max_size}")


def _names(max_size: int) -> st.SearchStrategy[str]:
    return st.text(_NAME, min_size=1, max_size=max_size)


_accounts = st.from_regex(r"\A[0-9]{12}\Z")
_regions = st.sampled_from(_REGIONS)
_epochs = st.integers(_EPOCH_LOW * 1000, _EPOCH_HIGH * 1000).map(lambda ms: ms / 1000)


# -- SQS ----------------------------------------------------------------------------------

sqs_bodies = st.text(
    st.characters(min_codepoint=0x20, exclude_categories=["Cs"], exclude_characters="\ufffe\uffff")
    | st.sampled_from("\t\n\r"),
    min_size=1,
    max_size=200,
)
"""Message bodies SQS accepts: 1 or more characters of XML's allowed set (``#x9``,
``#xA``, ``#xD``, ``#x20``-``#xD7FF``, ``#xE000``-``#xFFFD``, ``#x10000``-``#x10FFFF``)."""

_attribute_names = st.text(_NAME + ".", min_size=1, max_size=40).filter(
    lambda n: not n.lower().startswith(("aws.", "amazon.")) and ".." not in n and n[0] != "."
)
_attribute_values = st.one_of(
    st.text(string.printable.strip() + " ", min_size=1, max_size=30),
    st.integers(-(10**9), 10**9),
    st.binary(min_size=1, max_size=30),
)
_message_attributes = st.dictionaries(_attribute_names, _attribute_values, max_size=3)


def _queue_arns(fifo: bool) -> st.SearchStrategy[str]:
    suffix = ".fifo" if fifo else ""
    return st.builds(
        lambda region, account, name: f"arn:aws:sqs:{region}:{account}:{name}{suffix}",
        _regions,
        _accounts,
        _names(70),
    )


@st.composite
def _sqs_batch(
    draw: st.DrawFn,
    body: Any,
    queue_arn: Any,
    fifo: Any,
    message_attributes: Any,
    min_size: int,
    max_size: int,
) -> list[dict[str, Any]]:
    is_fifo = draw(_strategy(fifo, st.booleans()))
    arn = draw(_strategy(queue_arn, _queue_arns(is_fifo)))
    is_fifo = arn.endswith(".fifo")
    count = draw(st.integers(min_size, max_size))
    ids = _events._Ids(draw(_seeds))
    sent = draw(_epochs)
    sequence = draw(st.integers(10**19, 9 * 10**19))
    groups = draw(st.lists(_names(20), min_size=1, max_size=3, unique=True))
    records = []
    seen: set[str] = set()
    for _ in range(count):
        text = draw(_strategy(body, sqs_bodies))
        sent += draw(st.integers(0, 5000)) / 1000
        receive_count = draw(st.integers(1, 5))
        first = sent + draw(st.integers(0, 60_000 if receive_count > 1 else 2000)) / 1000
        options: dict[str, Any] = {}
        if is_fifo:
            sequence += draw(st.integers(1, 10**6))
            dedup = hashlib.sha256(text.encode()).hexdigest()
            options = {
                "message_group_id": draw(st.sampled_from(groups)),
                "message_deduplication_id": ids.hex(64) if dedup in seen else dedup,
                "sequence_number": str(sequence),
            }
            seen.add(dedup)
        records.append(
            _events.sqs_record(
                text,
                queue_arn=arn,
                message_id=ids.uuid(),
                receipt_handle=ids.receipt_handle(),
                message_attributes=draw(_strategy(message_attributes, _message_attributes)),
                receive_count=receive_count,
                sent_timestamp=sent,
                first_receive_timestamp=first,
                sender_id="AIDA" + ids.chars(_events._UPPER, 17),
                **options,
            )
        )
    return records


def sqs_records(
    body: str | st.SearchStrategy[str] | None = None,
    *,
    queue_arn: str | st.SearchStrategy[str] | None = None,
    fifo: bool | st.SearchStrategy[bool] | None = None,
    message_attributes: Mapping[str, Any] | st.SearchStrategy[Mapping[str, Any]] | None = None,
) -> st.SearchStrategy[dict[str, Any]]:
    """One SQS event record (reference 5.1, 5.2), as `sqs_events` draws them."""
    return _sqs_batch(body, queue_arn, fifo, message_attributes, 1, 1).map(lambda r: r[0])


def sqs_events(
    body: str | st.SearchStrategy[str] | None = None,
    *,
    queue_arn: str | st.SearchStrategy[str] | None = None,
    fifo: bool | st.SearchStrategy[bool] | None = None,
    message_attributes: Mapping[str, Any] | st.SearchStrategy[Mapping[str, Any]] | None = None,
    min_size: int = 1,
    max_size: int = 10,
) -> st.SearchStrategy[dict[str, Any]]:
    """SQS events: a batch of ``min_size``-``max_size`` records from one queue.

    ``body`` defaults to `sqs_bodies`; ``fifo`` (default: either) picks a standard or a
    FIFO queue (a ``queue_arn`` ending in ``.fifo`` is one).  Message ids are distinct
    UUIDs, ``md5OfBody`` and ``md5OfMessageAttributes`` are computed, receive counts run
    1-5, ``SentTimestamp`` does not go backwards and the first receive is not before it.
    On a FIFO queue the records come in sequence-number order, in up to three message
    groups, with content-based deduplication ids (distinct within the batch).
    ``message_attributes`` (default: up to three, String, Number and Binary) take the
    forms of `invokemodels.testing.sqs_message_attributes`.
    """
    _check_sizes(min_size, max_size, 10_000)
    return _sqs_batch(body, queue_arn, fifo, message_attributes, min_size, max_size).map(
        lambda records: {"Records": records}
    )


# -- Kinesis ------------------------------------------------------------------------------


@st.composite
def _kinesis_batch(
    draw: st.DrawFn,
    data: Any,
    partition_key: Any,
    stream_arn: Any,
    min_size: int,
    max_size: int,
) -> list[dict[str, Any]]:
    region = draw(_regions)
    account = draw(_accounts)
    default_arn = _names(60).map(lambda n: f"arn:aws:kinesis:{region}:{account}:stream/{n}")
    arn = draw(_strategy(stream_arn, default_arn))
    shard = f"shardId-{draw(st.integers(0, 99)):012d}"
    role = f"arn:aws:iam::{account}:role/{draw(_names(40))}"
    sequence = draw(st.integers(4 * 10**55, 5 * 10**55))
    arrival = draw(_epochs)
    records = []
    for _ in range(draw(st.integers(min_size, max_size))):
        sequence += draw(st.integers(1, 2**70))
        arrival += draw(st.integers(0, 2000)) / 1000
        records.append(
            _events.kinesis_record(
                draw(_strategy(data, st.binary(max_size=200))),
                partition_key=draw(_strategy(partition_key, st.text(min_size=1, max_size=256))),
                sequence_number=str(sequence),
                arrival_timestamp=arrival,
                shard_id=shard,
                stream_arn=arn,
                invoke_identity_arn=role,
            )
        )
    return records


def kinesis_records(
    data: bytes | str | st.SearchStrategy[bytes | str] | None = None,
    *,
    partition_key: str | st.SearchStrategy[str] | None = None,
    stream_arn: str | st.SearchStrategy[str] | None = None,
) -> st.SearchStrategy[dict[str, Any]]:
    """One Kinesis event record (reference 5.3), as `kinesis_events` draws them."""
    return _kinesis_batch(data, partition_key, stream_arn, 1, 1).map(lambda r: r[0])


def kinesis_events(
    data: bytes | str | st.SearchStrategy[bytes | str] | None = None,
    *,
    partition_key: str | st.SearchStrategy[str] | None = None,
    stream_arn: str | st.SearchStrategy[str] | None = None,
    min_size: int = 1,
    max_size: int = 10,
) -> st.SearchStrategy[dict[str, Any]]:
    """Kinesis events: a batch of records from one shard of one stream.

    ``data`` (bytes, or a string sent as its UTF-8; default: up to 200 bytes) is
    base64-encoded into each record; sequence numbers are 56-digit strings that increase
    through the batch, ``approximateArrivalTimestamp`` is Unix seconds to the millisecond
    and never goes backwards, ``eventID`` is ``<shard>:<sequence number>``.
    """
    _check_sizes(min_size, max_size, 10_000)
    return _kinesis_batch(data, partition_key, stream_arn, min_size, max_size).map(
        lambda records: {"Records": records}
    )


# -- DynamoDB Streams ---------------------------------------------------------------------

_dynamodb_scalars = st.one_of(
    st.text(max_size=20),
    st.integers(-(10**18), 10**18),
    st.decimals(
        min_value=-(10**6), max_value=10**6, places=3, allow_nan=False, allow_infinity=False
    ),
    st.booleans(),
    st.none(),
    st.binary(min_size=1, max_size=20),
)

dynamodb_values: st.SearchStrategy[Any] = st.one_of(
    st.recursive(
        _dynamodb_scalars,
        lambda children: (
            st.lists(children, max_size=3)
            | st.dictionaries(st.text(min_size=1, max_size=10), children, max_size=3)
        ),
        max_leaves=8,
    ),
    st.frozensets(st.text(min_size=1, max_size=10), min_size=1, max_size=3),
    st.frozensets(st.integers(-1000, 1000), min_size=1, max_size=3),
    st.frozensets(st.binary(min_size=1, max_size=5), min_size=1, max_size=3),
)
"""Python values a DynamoDB item attribute can hold (as `invokemodels.aws.to_attribute_value`
converts them): strings, numbers, booleans, None, bytes, lists, maps and non-empty sets."""

_key_values = st.one_of(
    st.text(min_size=1, max_size=20),
    st.integers(-(10**9), 10**9),
    st.binary(min_size=1, max_size=8),
)
_item_names = st.text(min_size=1, max_size=12)


def _with_keys(item: Mapping[str, Any], keys: dict[str, Any]) -> dict[str, Any]:
    return {**item, **keys}


@st.composite
def _dynamodb_batch(
    draw: st.DrawFn,
    items: Any,
    keys: Sequence[str] | None,
    event_name: Any,
    stream_view_type: Any,
    ttl: bool,
    min_size: int,
    max_size: int,
) -> list[dict[str, Any]]:
    region = draw(_regions)
    account = draw(_accounts)
    table = draw(st.text(_NAME + ".", min_size=3, max_size=40))
    label = iso_timestamp(draw(_epochs))[:-1]
    arn = f"arn:aws:dynamodb:{region}:{account}:table/{table}/stream/{label}"
    names = tuple(keys) if keys is not None else draw(st.sampled_from([("Id",), ("pk", "sk")]))
    view = draw(_strategy(stream_view_type, st.sampled_from(STREAM_VIEW_TYPES)))
    item_strategy = _strategy(items, st.dictionaries(_item_names, dynamodb_values, max_size=4))
    ids = _events._Ids(draw(_seeds))
    sequence = draw(st.integers(10**20, 10**27))
    created = draw(_epochs)
    records = []
    for _ in range(draw(st.integers(min_size, max_size))):
        name = draw(_strategy(event_name, st.sampled_from(DYNAMODB_EVENT_NAMES)))
        key = {n: draw(_key_values) for n in names}
        sequence += draw(st.integers(1, 10**6))
        created += draw(st.integers(0, 3))
        new = _with_keys(draw(item_strategy), key) if name != "REMOVE" else None
        old = _with_keys(draw(item_strategy), key) if name != "INSERT" else None
        records.append(
            _events.dynamodb_record(
                name,
                keys=key,
                new_image=new,
                old_image=old,
                stream_view_type=view,
                sequence_number=str(sequence),
                created=created,
                event_id=ids.hex(32),
                stream_arn=arn,
                ttl=ttl and name == "REMOVE" and draw(st.booleans()),
            )
        )
    return records


def dynamodb_records(
    items: Mapping[str, Any] | st.SearchStrategy[Mapping[str, Any]] | None = None,
    *,
    keys: Sequence[str] | None = None,
    event_name: str | st.SearchStrategy[str] | None = None,
    stream_view_type: str | st.SearchStrategy[str] | None = None,
    ttl: bool = False,
) -> st.SearchStrategy[dict[str, Any]]:
    """One DynamoDB Streams record (reference 5.4), as `dynamodb_events` draws them."""
    return _dynamodb_batch(items, keys, event_name, stream_view_type, ttl, 1, 1).map(lambda r: r[0])


def dynamodb_events(
    items: Mapping[str, Any] | st.SearchStrategy[Mapping[str, Any]] | None = None,
    *,
    keys: Sequence[str] | None = None,
    event_name: str | st.SearchStrategy[str] | None = None,
    stream_view_type: str | st.SearchStrategy[str] | None = None,
    ttl: bool = False,
    min_size: int = 1,
    max_size: int = 10,
) -> st.SearchStrategy[dict[str, Any]]:
    """DynamoDB Streams events: a batch of records from one shard of one table's stream.

    ``items`` draws an item as plain Python values (default: up to four attributes of
    `dynamodb_values`); the key attributes ``keys`` (default: ``Id``, or ``pk`` and ``sk``)
    are set on it, with string, number or binary values.  ``event_name`` defaults to any of
    ``INSERT``, ``MODIFY``, ``REMOVE`` and ``stream_view_type`` (one per batch: it is the
    stream's) to any of the four; the images follow both.  Sequence numbers increase
    through the batch; ``SizeBytes`` is computed.  ``ttl=True`` marks some ``REMOVE``
    records as Time to Live deletions (``userIdentity``, [UNCONFIRMED]).
    """
    _check_sizes(min_size, max_size, 10_000)
    return _dynamodb_batch(items, keys, event_name, stream_view_type, ttl, min_size, max_size).map(
        lambda records: {"Records": records}
    )


# -- EventBridge --------------------------------------------------------------------------

_json_values: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**6), 10**6) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3)
    ),
    max_leaves=8,
)
_sources = st.one_of(
    st.just("aws.events"),
    st.from_regex(r"\A(com|org)\.[a-z]{1,10}\.[a-z]{1,10}\Z"),
)


@st.composite
def _eventbridge(
    draw: st.DrawFn, detail: Any, source: Any, detail_type: Any, resources: Any
) -> dict[str, Any]:
    region = draw(_regions)
    account = draw(_accounts)
    source_value = draw(_strategy(source, _sources))
    if source_value == "aws.events":
        default_type: st.SearchStrategy[str] = st.just("Scheduled Event")
        rule = _names(40).map(lambda n: [f"arn:aws:events:{region}:{account}:rule/{n}"])
        default_resources: st.SearchStrategy[list[str]] = rule
        default_detail: st.SearchStrategy[Any] = st.just({})
    else:
        default_type = st.text(string.ascii_letters + " ", min_size=1, max_size=40)
        default_resources = st.just([])
        default_detail = st.dictionaries(st.text(max_size=10), _json_values, max_size=4)
    return _events.eventbridge_event(
        draw(_strategy(detail, default_detail)),
        detail_type=draw(_strategy(detail_type, default_type)),
        source=source_value,
        account_id=account,
        region=region,
        time=float(int(draw(_epochs))),
        resources=draw(_strategy(resources, default_resources)),
        seed=draw(_seeds),
    )


def eventbridge_events(
    detail: Any = None,
    *,
    source: str | st.SearchStrategy[str] | None = None,
    detail_type: str | st.SearchStrategy[str] | None = None,
    resources: Sequence[str] | st.SearchStrategy[Sequence[str]] | None = None,
) -> st.SearchStrategy[dict[str, Any]]:
    """EventBridge events as a rule's Lambda target receives them.

    ``detail`` is the interesting part (a value or a strategy; default: a JSON object for
    a custom event, ``{}`` for a scheduled one); ``source`` defaults to ``aws.events``
    (a scheduled event naming its rule in ``resources``) or a reverse-domain custom
    source.  ``time`` is to the second, ``id`` a UUID.
    """
    return _eventbridge(detail, source, detail_type, resources)


# -- S3 -----------------------------------------------------------------------------------

_s3_keys = st.text(
    st.characters(min_codepoint=0x20, exclude_categories=["Cs"], exclude_characters="\x7f"),
    min_size=1,
    max_size=60,
)
_buckets = st.from_regex(r"\A[a-z0-9][a-z0-9-]{1,40}[a-z0-9]\Z")
_version_ids = st.text(string.ascii_letters + string.digits + "._", min_size=32, max_size=32)


@st.composite
def _s3_record(
    draw: st.DrawFn, key: Any, event_name: Any, bucket: Any, size: Any
) -> dict[str, Any]:
    name = draw(_strategy(event_name, st.sampled_from(S3_EVENT_NAMES)))
    marker = name == "ObjectRemoved:DeleteMarkerCreated"
    version = draw(_version_ids) if marker else draw(st.none() | _version_ids)
    return _events.s3_record(
        draw(_strategy(key, _s3_keys)),
        event_name=name,
        bucket=draw(_strategy(bucket, _buckets)),
        size=draw(_strategy(size, st.integers(0, 5 * 2**40))),
        version_id=version,
        region=draw(_regions),
        time=draw(_epochs),
        principal_id="AWS:AIDA" + draw(st.text(_events._UPPER, min_size=17, max_size=17)),
        source_ip=draw(st.ip_addresses(v=4).map(str)),
        configuration_id=draw(_names(40)),
        seed=draw(_seeds),
    )


def s3_records(
    key: str | st.SearchStrategy[str] | None = None,
    *,
    event_name: str | st.SearchStrategy[str] | None = None,
    bucket: str | st.SearchStrategy[str] | None = None,
    size: int | st.SearchStrategy[int] | None = None,
) -> st.SearchStrategy[dict[str, Any]]:
    """One S3 event notification record (reference 5.5), as `s3_events` draws them."""
    return _s3_record(key, event_name, bucket, size)


def s3_events(
    key: str | st.SearchStrategy[str] | None = None,
    *,
    event_name: str | st.SearchStrategy[str] | None = None,
    bucket: str | st.SearchStrategy[str] | None = None,
    size: int | st.SearchStrategy[int] | None = None,
) -> st.SearchStrategy[dict[str, Any]]:
    """S3 events (one record each, as S3 sends them): ``key`` (the object key as stored;
    the record carries it URL-encoded), any of `invokemodels.testing.S3_EVENT_NAMES`, a
    created object's ``size`` (up to 5 TiB) and ``eTag``, a version id on a versioned
    bucket (always on a delete marker), an 18-digit hex ``sequencer``."""
    return _s3_record(key, event_name, bucket, size).map(lambda r: {"Records": [r]})


# -- SNS ----------------------------------------------------------------------------------

_subjects = st.none() | st.text(
    string.ascii_letters + string.digits + " .,:!?-", min_size=1, max_size=100
).map(str.strip).filter(bool)


@st.composite
def _sns_record(
    draw: st.DrawFn, message: Any, subject: Any, message_attributes: Any, topic_arn: Any
) -> dict[str, Any]:
    default_arn = st.builds(
        lambda region, account, name: f"arn:aws:sns:{region}:{account}:{name}",
        _regions,
        _accounts,
        _names(60),
    )
    return _events.sns_record(
        draw(_strategy(message, st.text(min_size=1, max_size=200))),
        subject=draw(_strategy(subject, _subjects)),
        topic_arn=draw(_strategy(topic_arn, default_arn)),
        message_attributes=draw(_strategy(message_attributes, _message_attributes)),
        time=draw(_epochs),
        seed=draw(_seeds),
    )


def sns_records(
    message: str | st.SearchStrategy[str] | None = None,
    *,
    subject: str | st.SearchStrategy[str | None] | None = None,
    message_attributes: Mapping[str, Any] | st.SearchStrategy[Mapping[str, Any]] | None = None,
    topic_arn: str | st.SearchStrategy[str] | None = None,
) -> st.SearchStrategy[dict[str, Any]]:
    """One SNS notification record (reference 5.6), as `sns_events` draws them."""
    return _sns_record(message, subject, message_attributes, topic_arn)


def sns_events(
    message: str | st.SearchStrategy[str] | None = None,
    *,
    subject: str | st.SearchStrategy[str | None] | None = None,
    message_attributes: Mapping[str, Any] | st.SearchStrategy[Mapping[str, Any]] | None = None,
    topic_arn: str | st.SearchStrategy[str] | None = None,
) -> st.SearchStrategy[dict[str, Any]]:
    """SNS events (one notification each, as SNS sends them): ``message`` (default: any
    text), a subject or null, message attributes (``Type`` / ``Value``, a binary value
    base64-encoded), a UUID ``MessageId``, the subscription ARN of the topic."""
    return _sns_record(message, subject, message_attributes, topic_arn).map(
        lambda r: {"Records": [r]}
    )


# -- API Gateway and function URLs --------------------------------------------------------

_methods = st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"])
_segments = st.text(string.ascii_letters + string.digits + "-._~", min_size=1, max_size=12)
_paths = st.lists(_segments, max_size=4).map(lambda parts: "/" + "/".join(parts))
_query_names = st.text(string.ascii_letters + string.digits + "_", min_size=1, max_size=10)
_query_values = st.text(string.ascii_letters + string.digits + "-_ ", max_size=10)
_queries = st.dictionaries(
    _query_names, st.lists(_query_values, min_size=1, max_size=3), max_size=3
)
_bodies = st.none() | st.text(max_size=200) | st.binary(max_size=200)


@st.composite
def _http(draw: st.DrawFn, build: Any, body: Any, method: Any, path: Any, query: Any) -> Any:
    return build(
        draw(_strategy(method, _methods)),
        draw(_strategy(path, _paths)),
        body=draw(_strategy(body, _bodies)),
        query=draw(_strategy(query, _queries)),
        source_ip=draw(st.ip_addresses(v=4).map(str)),
        time=draw(_epochs),
        seed=draw(_seeds),
    )


HttpBody = str | bytes | None


def rest_api_events(
    body: HttpBody | st.SearchStrategy[HttpBody] = None,
    *,
    method: str | st.SearchStrategy[str] | None = None,
    path: str | st.SearchStrategy[str] | None = None,
    query: Mapping[str, Any] | st.SearchStrategy[Mapping[str, Any]] | None = None,
) -> st.SearchStrategy[dict[str, Any]]:
    """API Gateway REST API proxy events (payload 1.0), as
    `invokemodels.testing.rest_api_event` builds them: ``body`` (default: none, text or
    binary, the last sent base64-encoded), any method, a path, a query string with
    repeated names."""
    return _http(_events.rest_api_event, body, method, path, query)


def http_api_events(
    body: HttpBody | st.SearchStrategy[HttpBody] = None,
    *,
    method: str | st.SearchStrategy[str] | None = None,
    path: str | st.SearchStrategy[str] | None = None,
    query: Mapping[str, Any] | st.SearchStrategy[Mapping[str, Any]] | None = None,
) -> st.SearchStrategy[dict[str, Any]]:
    """API Gateway HTTP API events (payload 2.0), as `invokemodels.testing.http_api_event`
    builds them; the arguments as `rest_api_events`."""
    return _http(_events.http_api_event, body, method, path, query)


def function_url_events(
    body: HttpBody | st.SearchStrategy[HttpBody] = None,
    *,
    method: str | st.SearchStrategy[str] | None = None,
    path: str | st.SearchStrategy[str] | None = None,
    query: Mapping[str, Any] | st.SearchStrategy[Mapping[str, Any]] | None = None,
) -> st.SearchStrategy[dict[str, Any]]:
    """Lambda function URL events, as `invokemodels.testing.function_url_event` builds
    them; the arguments as `rest_api_events`."""
    return _http(_events.function_url_event, body, method, path, query)


# -- failure schedules --------------------------------------------------------------------


def failure_schedules(
    *,
    behaviours: Sequence[Behaviour | str] | None = None,
    min_steps: int = 0,
    max_steps: int = 10,
    then: Behaviour | str | st.SearchStrategy[Behaviour] = Behaviour.OK,
) -> st.SearchStrategy[FailureSchedule]:
    """`FailureSchedule` values: ``min_steps``-``max_steps`` steps drawn from ``behaviours``.

    ``behaviours`` defaults to every `Behaviour`; leave out ``"throttle"`` for a schedule
    that wraps a handler (``schedule.handler(inner)``): only a `ScheduledFunction` can
    throttle.  ``then`` is the behaviour after the steps (default ``OK``, so every drawn
    schedule ends in success; a strategy draws it).  Shrinks towards fewer steps and
    towards ``OK``.
    """
    if not isinstance(min_steps, int) or isinstance(min_steps, bool) or not 0 <= min_steps <= 1000:
        raise InvalidParameterValueError("min_steps", min_steps, "must be an integer in 0-1000")
    if not isinstance(max_steps, int) or isinstance(max_steps, bool) or not 0 <= max_steps <= 1000:
        raise InvalidParameterValueError("max_steps", max_steps, "must be an integer in 0-1000")
    if min_steps > max_steps:
        raise InvalidParameterValueError(
            "min_steps", min_steps, f"must be <= max_steps={max_steps}"
        )
    if behaviours is None:
        allowed = list(Behaviour)
    else:
        allowed = list(dict.fromkeys(FailureSchedule(behaviours).steps))
        if not allowed:
            raise InvalidParameterValueError("behaviours", behaviours, "must name a Behaviour")
    # OK first, so that Hypothesis shrinks a step towards success.
    allowed.sort(key=lambda b: b is not Behaviour.OK)
    last = then if isinstance(then, st.SearchStrategy) else st.just(FailureSchedule(then=then).then)
    return st.builds(
        FailureSchedule,
        st.lists(st.sampled_from(allowed), min_size=min_steps, max_size=max_steps).map(tuple),
        last,
    )


# -- configurations -----------------------------------------------------------------------


def _targets(*kinds: type[Any]) -> st.SearchStrategy[Destination | None]:
    return st.none() | st.sampled_from(kinds).map(lambda kind: kind())


def event_invoke_configs(
    *,
    on_success: Destination | st.SearchStrategy[Destination | None] | None = None,
    on_failure: Destination | st.SearchStrategy[Destination | None] | None = None,
    destinations: bool = True,
) -> st.SearchStrategy[EventInvokeConfig]:
    """Valid `EventInvokeConfig` values (``PutFunctionEventInvokeConfig``, reference 3.4).

    ``MaximumRetryAttempts`` 0-2 and ``MaximumEventAgeInSeconds`` 60-21600 (whole
    seconds).  With ``destinations`` (default True) the destinations not given are drawn:
    none, or a fresh `QueueTarget`, `Topic` or `EventBus` (and on failure a
    `Bucket`); with False they are None.  A given destination (or strategy) is used
    as it is.
    """
    success = _targets(QueueTarget, Topic, EventBus) if destinations else st.none()
    failure = _targets(QueueTarget, Topic, EventBus, Bucket) if destinations else st.none()
    return st.builds(
        EventInvokeConfig,
        maximum_retry_attempts=st.integers(0, 2),
        maximum_event_age=st.integers(60, 21600).map(float),
        on_success=_strategy(on_success, success),
        on_failure=_strategy(on_failure, failure),
    )


_response_types = st.sampled_from([(), (REPORT_BATCH_ITEM_FAILURES,)])


@st.composite
def _batching(draw: st.DrawFn, most: int, *, optional: bool) -> tuple[int, int | None]:
    """``BatchSize`` and a window that fits it: over 10 needs at least 1 s when set."""
    size = draw(st.integers(1, most))
    least = 1 if size > 10 else 0
    window = st.integers(least, 300)
    # Unset (None) is valid at any size: AWS's default window of 0 s.
    chosen: int | None = draw(st.none() | window) if optional else draw(window)
    return size, chosen


def sqs_mapping_configs(
    *,
    fifo: bool = False,
    enabled: bool | st.SearchStrategy[bool] = True,
    filter_criteria: FilterCriteria | st.SearchStrategy[FilterCriteria | None] | None = None,
) -> st.SearchStrategy[SQSMappingConfig]:
    """Valid `SQSMappingConfig` values for a standard queue, or a FIFO queue with ``fifo``.

    ``BatchSize`` 1-10000 (1-10 for FIFO), ``MaximumBatchingWindowInSeconds`` 0-300 (at
    least 1 when the batch size is over 10; always 0 for FIFO), ``FunctionResponseTypes``
    ``[]`` or ``["ReportBatchItemFailures"]``, ``ScalingConfig.MaximumConcurrency`` unset or
    2-1000, and on FIFO queues either batch grouping (``one_group_per_batch``).  Every
    drawn config is accepted by `Queue.map_to` for a queue of that kind.  ``enabled``
    (default True: the mapping polls) and ``filter_criteria`` (default None) are used as
    given, or drawn from a strategy.
    """
    if not isinstance(fifo, bool):
        raise InvalidParameterValueError("fifo", fifo, "must be True or False")

    @st.composite
    def build(draw: st.DrawFn) -> SQSMappingConfig:
        if fifo:
            size, window = draw(st.integers(1, 10)), 0
        else:
            size, drawn = draw(_batching(10_000, optional=False))
            window = drawn if drawn is not None else 0
        return SQSMappingConfig(
            batch_size=size,
            maximum_batching_window=window,
            function_response_types=draw(_response_types),
            filter_criteria=draw(_strategy(filter_criteria, st.none())),
            maximum_concurrency=draw(st.none() | st.integers(2, 1000)),
            enabled=draw(_strategy(enabled, st.just(True))),
            one_group_per_batch=draw(st.booleans()) if fifo else False,
        )

    return build()


_STREAM_SOURCES = ("kinesis", "dynamodb")
_WEEK = 7 * 86400


def stream_mapping_configs(
    source: str = "kinesis",
    *,
    starting_position: str | st.SearchStrategy[str] | None = None,
    enabled: bool | st.SearchStrategy[bool] = True,
    on_failure: Destination | st.SearchStrategy[Destination | None] | None = None,
    filter_criteria: FilterCriteria | st.SearchStrategy[FilterCriteria | None] | None = None,
) -> st.SearchStrategy[StreamMappingConfig]:
    """Valid `StreamMappingConfig` values for a ``"kinesis"`` or ``"dynamodb"`` stream.

    ``StartingPosition`` ``TRIM_HORIZON``, ``LATEST`` or (Kinesis only) ``AT_TIMESTAMP``,
    whose timestamp is within the week before the virtual clock's default epoch (so not in
    the future for a mapping made at time 0 of a default clock); ``BatchSize`` 1-10000;
    ``MaximumBatchingWindowInSeconds`` unset or 0-300 (at least 1 over 10 records);
    ``MaximumRetryAttempts`` -1 or 0-10000; ``MaximumRecordAgeInSeconds`` -1 or
    60-604800; ``BisectBatchOnFunctionError``; ``ParallelizationFactor`` 1-10;
    ``TumblingWindowInSeconds`` 0-900; ``FunctionResponseTypes``; and an on-failure
    destination: none or a fresh `QueueTarget`, `Topic` or `Bucket` (unless
    ``on_failure`` is given).  ``starting_position``, ``enabled`` (default True) and
    ``filter_criteria`` (default None) are used as given, or drawn from a strategy.
    Every drawn config is accepted by the stream's ``map_to``.
    """
    if source not in _STREAM_SOURCES:
        raise InvalidParameterValueError("source", source, "must be 'kinesis' or 'dynamodb'")
    positions = ["TRIM_HORIZON", "LATEST"] + (["AT_TIMESTAMP"] if source == "kinesis" else [])

    @st.composite
    def build(draw: st.DrawFn) -> StreamMappingConfig:
        position = draw(_strategy(starting_position, st.sampled_from(positions)))
        stamp = None
        if position == "AT_TIMESTAMP":
            stamp = float(draw(st.integers(int(EPOCH_ORIGIN) - _WEEK, int(EPOCH_ORIGIN))))
        size, window = draw(_batching(10_000, optional=True))
        return StreamMappingConfig(
            starting_position=position,
            starting_position_timestamp=stamp,
            batch_size=size,
            maximum_batching_window=window,
            enabled=draw(_strategy(enabled, st.just(True))),
            function_response_types=draw(_response_types),
            filter_criteria=draw(_strategy(filter_criteria, st.none())),
            on_failure=draw(_strategy(on_failure, _targets(QueueTarget, Topic, Bucket))),
            maximum_retry_attempts=draw(st.just(-1) | st.integers(0, 10_000)),
            maximum_record_age=draw(st.just(-1) | st.integers(60, 604_800)),
            bisect_batch_on_function_error=draw(st.booleans()),
            parallelization_factor=draw(st.integers(1, 10)),
            tumbling_window=draw(st.integers(0, 900)),
        )

    return build()
