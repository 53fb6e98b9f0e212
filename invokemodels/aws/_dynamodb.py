"""An in-memory DynamoDB table with a stream, and mapping the stream to a function.

`Table` stores items as DynamoDB's typed attribute values (``{"S": "x"}``,
``{"N": "1"}``, ...).  Every write that changes an item appends a stream record
(reference 5.4): ``INSERT``, ``MODIFY`` or ``REMOVE``, with the images the
``StreamViewType`` selects.  The stream keeps records 24 hours.
`Table.map_to` connects the stream to a `Function` (polled 4 times a second)::

    from invokemodels import Function, Scheduler
    from invokemodels.aws import Table
    from invokemodels.mapping import StreamMappingConfig

    sched = Scheduler()
    table = Table("orders", key_schema="Id", scheduler=sched, seed=1)
    names = []
    fn = Function("audit", lambda ev, ctx: names.extend(r["eventName"] for r in ev["Records"]))
    table.map_to(fn, StreamMappingConfig(starting_position="TRIM_HORIZON"))
    table.put_item({"Id": {"N": "1"}, "Status": {"S": "new"}})
    table.update_item({"Id": {"N": "1"}}, set={"Status": {"S": "paid"}})
    table.delete_item({"Id": {"N": "1"}})
    sched.run_until_idle()
    assert names == ["INSERT", "MODIFY", "REMOVE"]
"""

from __future__ import annotations

import base64
import binascii
import decimal
import json
import math
import random
import re
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Final

import attrs

from invokemodels.core._clock import iso_timestamp, on_grid
from invokemodels.core._function import Function
from invokemodels.core._history import History
from invokemodels.core._records import dynamodb_change, dynamodb_record
from invokemodels.core._scheduler import Scheduler
from invokemodels.core._validate import (
    ACCOUNT_ID,
    REGION,
    check_range,
    clip_text,
    instance_of,
    one_of,
    seeded,
    text,
)
from invokemodels.exceptions import InvalidParameterValueError, ValidationError, render_value
from invokemodels.mapping._stream_config import StreamMappingConfig
from invokemodels.mapping._stream_log import (
    StreamLog,
    StreamRecord,
    json_size,
    md5_hash_key,
    split_hash_space,
)
from invokemodels.mapping._streams import StreamPoller, map_stream

if TYPE_CHECKING:
    from invokemodels.mapping._loop import EventSourceMapping

__all__ = [
    "DYNAMODB_POLLING_INTERVAL",
    "DYNAMODB_RETENTION",
    "STREAM_VIEW_TYPES",
    "Table",
    "from_attribute_value",
    "item_size",
    "stream_record_size",
    "to_attribute_value",
]

DYNAMODB_POLLING_INTERVAL: Final = 0.25
"""Lambda polls DynamoDB stream shards "at a base rate of 4 times per second"."""

DYNAMODB_RETENTION: Final = 86400.0
"""DynamoDB Streams keep records 24 hours."""

MAX_ITEM_SIZE: Final = 409_600
"""A DynamoDB item may be 400 KB (`item_size`); a larger write is refused."""

STREAM_VIEW_TYPES: Final = ("KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES")
"""``StreamViewType`` values."""

_TYPES: Final = frozenset({"S", "N", "B", "BOOL", "NULL", "SS", "NS", "BS", "L", "M"})
_FIRST_SEQUENCE: Final = 800000000003126276362
_SEQUENCE_STEP: Final = 100


# boto3's DYNAMODB_CONTEXT (boto3/dynamodb/types.py): 38 significant digits, exponents
# -128 to 126, and every rounding, overflow or underflow refused rather than applied.
_NUMBER_CONTEXT: Final = decimal.Context(
    Emin=-128,
    Emax=126,
    prec=38,
    traps=[decimal.Clamped, decimal.Overflow, decimal.Inexact, decimal.Rounded, decimal.Underflow],
)
_NUMBER_TEXT: Final = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?")
# Ints this long are past 10 ** 127 (and too long to convert safely): a certain overflow.
_NUMBER_BITS: Final = 430


def _number(parameter: str, value: Any, shown: Any) -> str:
    """``value`` (int, float, Decimal or number text) as DynamoDB number text, or refuse it."""
    if isinstance(value, int) and value.bit_length() > _NUMBER_BITS:
        raise ValidationError(parameter, shown, _OVERFLOW)
    if isinstance(value, str):
        if not _NUMBER_TEXT.fullmatch(value):
            raise ValidationError(
                parameter, shown, f"The parameter cannot be converted to a numeric value: "
                f"{clip_text(value)} (N must be a number as a string)"
            )  # fmt: skip
        text = value
    elif isinstance(value, float):
        text = repr(value)  # the shortest text that reads back as this float
    else:
        text = str(value)
    if (isinstance(value, decimal.Decimal) and not value.is_finite()) or (
        isinstance(value, float) and not math.isfinite(value)
    ):
        raise ValidationError(
            parameter, shown, f"The parameter cannot be converted to a numeric value: {text}"
        )
    try:
        _NUMBER_CONTEXT.create_decimal(text)
    except decimal.Overflow:
        raise ValidationError(parameter, shown, _OVERFLOW) from None
    except decimal.Underflow:
        raise ValidationError(
            parameter, shown, "Number underflow. Attempting to store a number with magnitude "
            "smaller than supported range"
        ) from None  # fmt: skip
    except (decimal.Inexact, decimal.Rounded, decimal.Clamped):
        raise ValidationError(
            parameter, shown, "Attempting to store more than 38 significant digits in a Number"
        ) from None
    return text if isinstance(value, str) else str(value)


_OVERFLOW: Final = (
    "Number overflow. Attempting to store a number with magnitude larger than supported range"
)


def to_attribute_value(value: Any) -> dict[str, Any]:
    """A Python value as a DynamoDB typed attribute value.

    ``str`` → ``S``, ``bool`` → ``BOOL``, numbers → ``N`` (as a string), ``bytes`` →
    ``B`` (base64, as in stream records), None → ``NULL``, list → ``L``, dict → ``M``,
    a set of str / numbers / bytes → ``SS`` / ``NS`` / ``BS``.

    What DynamoDB (and boto3's ``TypeSerializer``) refuses raises `ValidationError`:
    NaN and infinities, numbers beyond 38 significant digits or outside DynamoDB's
    exponent range (boto3's ``DYNAMODB_CONTEXT``), empty sets, sets that mix types or
    hold booleans, map keys that are not strings, and other types.  Unlike boto3, a
    finite ``float`` is accepted (as its shortest decimal text, ``0.1`` → ``"0.1"``).
    """
    return _to_value("AttributeValue", value)


def _to_value(parameter: str, value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, (int, float, decimal.Decimal)):
        return {"N": _number(parameter, value, value)}
    if isinstance(value, (bytes, bytearray)):
        return {"B": base64.b64encode(bytes(value)).decode("ascii")}
    if value is None:
        return {"NULL": True}
    if isinstance(value, (set, frozenset)):
        return _to_set(parameter, value)
    if isinstance(value, (list, tuple)):
        return {"L": [_to_value(f"{parameter}[{i}]", v) for i, v in enumerate(value)]}
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValidationError(parameter, key, "a map key must be a string")
            out[key] = _to_value(f"{parameter}.{clip_text(key)}", item)
        return {"M": out}
    raise ValidationError(parameter, value, "has no DynamoDB type")


def _to_set(parameter: str, value: set[Any] | frozenset[Any]) -> dict[str, Any]:
    if not value:
        raise ValidationError(parameter, value, _EMPTY_SET)
    items = sorted(value, key=repr)
    if all(isinstance(v, str) for v in items):
        return {"SS": items}
    if all(isinstance(v, (bytes, bytearray)) for v in items):
        return {"BS": [base64.b64encode(bytes(v)).decode("ascii") for v in items]}
    if all(isinstance(v, (int, float, decimal.Decimal)) and not isinstance(v, bool) for v in items):
        return {"NS": [_number(parameter, v, value) for v in items]}
    raise ValidationError(
        parameter,
        value,
        "a set must hold only strings (SS), only numbers (NS) or only bytes (BS)",
    )


_EMPTY_SET: Final = "One or more parameter values were invalid: a set may not be empty"


def from_attribute_value(value: Mapping[str, Any]) -> Any:
    """The Python value of a typed attribute value (``N`` becomes `decimal.Decimal`)."""
    ((kind, inner),) = value.items()
    if kind in ("S", "BOOL"):
        return inner
    if kind == "N":
        return decimal.Decimal(inner)
    if kind == "B":
        return base64.b64decode(inner)
    if kind == "NULL":
        return None
    if kind == "SS":
        return set(inner)
    if kind == "NS":
        return {decimal.Decimal(v) for v in inner}
    if kind == "BS":
        return {base64.b64decode(v) for v in inner}
    if kind == "L":
        return [from_attribute_value(v) for v in inner]
    return {k: from_attribute_value(v) for k, v in inner.items()}


def _is_base64(text: Any) -> bool:
    if not isinstance(text, str):
        return False
    try:
        base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


def _check_value(name: str, value: Any) -> None:
    """Refuse a typed attribute value DynamoDB would refuse (`ValidationError`)."""
    parameter = f"Item.{clip_text(name)}"
    if not isinstance(value, Mapping) or len(value) != 1 or next(iter(value)) not in _TYPES:
        raise ValidationError(
            parameter,
            value,
            "must be a typed attribute value such as {'S': 'text'} or {'N': '1'} "
            "(see to_attribute_value)",
        )
    ((kind, inner),) = value.items()
    problem = None
    if kind == "N":
        if not isinstance(inner, str):
            problem = "The parameter cannot be converted to a numeric value (N must be a number "
            problem += "as a string)"
        else:
            _number(parameter, inner, value)
    elif kind == "S" and not isinstance(inner, str):
        problem = "S must be a string"
    elif kind == "B" and not _is_base64(inner):
        problem = "B must be base64 text"
    elif kind == "BOOL" and not isinstance(inner, bool):
        problem = "BOOL must be true or false"
    elif kind == "NULL" and inner is not True:
        problem = (
            "One or more parameter values were invalid: Null attribute value types must "
            "have the value of true"
        )
    elif kind in ("SS", "NS", "BS"):
        problem = _set_problem(parameter, kind, inner, value)
    elif kind == "L":
        if not isinstance(inner, list):
            problem = "L must be a list of attribute values"
        else:
            for element in inner:
                _check_value(name, element)
    elif kind == "M":
        if not isinstance(inner, Mapping) or not all(isinstance(k, str) for k in inner):
            problem = "M must map attribute names (strings) to attribute values"
        else:
            for key, element in inner.items():
                _check_value(f"{name}.{key}", element)
    if problem is not None:
        raise ValidationError(parameter, value, problem)


def _set_problem(parameter: str, kind: str, inner: Any, value: Any) -> str | None:
    if not isinstance(inner, list):
        return f"{kind} must be a list"
    if not inner:
        return _EMPTY_SET
    if kind == "SS":
        if not all(isinstance(v, str) for v in inner):
            return "SS must hold strings"
        members: list[Any] = list(inner)
    elif kind == "BS":
        if not all(_is_base64(v) for v in inner):
            return "BS must hold base64 text"
        members = [base64.b64decode(v) for v in inner]
    else:
        if not all(isinstance(v, str) for v in inner):
            return "NS must hold numbers as strings"
        members = [decimal.Decimal(_number(parameter, v, value)) for v in inner]
    if len(set(members)) != len(members):
        return "One or more parameter values were invalid: Input collection contains duplicates"
    return None


def _check_item(parameter: str, item: Any) -> Mapping[str, Any]:
    if not isinstance(item, Mapping) or not all(isinstance(n, str) and n for n in item):
        raise ValidationError(
            parameter, item, "must map attribute names (non-empty strings) to attribute values"
        )
    for name, value in item.items():
        _check_value(name, value)
    return item


def _iterable(value: Any) -> Iterable[Any]:
    try:
        return list(value)
    except TypeError:
        return [None]


def _number_size(text: str) -> int:
    digits = decimal.Decimal(text).normalize().as_tuple().digits
    return math.ceil(len(digits) / 2) + 1


def _value_size(value: Mapping[str, Any]) -> int:
    ((kind, inner),) = value.items()
    if kind == "S":
        return len(inner.encode("utf-8"))
    if kind == "N":
        return _number_size(inner)
    if kind == "B":
        return len(base64.b64decode(inner))
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(v.encode("utf-8")) for v in inner)
    if kind == "NS":
        return sum(_number_size(v) for v in inner)
    if kind == "BS":
        return sum(len(base64.b64decode(v)) for v in inner)
    if kind == "L":
        return 3 + sum(1 + _value_size(v) for v in inner)
    return 3 + sum(1 + len(k.encode("utf-8")) + _value_size(v) for k, v in inner.items())


def item_size(item: Mapping[str, Mapping[str, Any]]) -> int:
    """DynamoDB's size of an item in bytes: attribute names plus values.

    Strings count their UTF-8 bytes, numbers one byte per two significant
    digits plus one, binary its bytes, booleans and nulls one byte, lists and
    maps three bytes plus one per element.  A stream record's ``SizeBytes`` is
    the size of its ``Keys`` and images (this reproduces the reference samples).
    """
    return sum(len(name.encode("utf-8")) + _value_size(value) for name, value in item.items())


def stream_record_size(change: Mapping[str, Any]) -> int:
    """A stream record's ``SizeBytes``: the size of its ``Keys`` plus its images."""
    return sum(
        item_size(change[part]) for part in ("Keys", "NewImage", "OldImage") if part in change
    )


def _key_schema(value: Any) -> tuple[str, ...]:
    names: Any = (value,) if isinstance(value, str) else value
    if isinstance(names, list):
        names = tuple(names)
    if (
        not isinstance(names, tuple)
        or not 1 <= len(names) <= 2
        or not all(isinstance(v, str) and 1 <= len(v) <= 255 for v in names)
    ):
        raise InvalidParameterValueError(
            "KeySchema",
            value,
            "must be a partition key name, or (partition key, sort key): names of 1-255 characters",
        )
    return names


@attrs.frozen(eq=False, weakref_slot=False)
class _TableRecords:
    """Builds the event record of a DynamoDB Streams `StreamRecord` from its ``payload``.

    The payload is ``(event id as an int, eventName, Keys, NewImage, OldImage,
    StreamViewType, SizeBytes)``, an image being None when the view type leaves it out;
    the images are the item dicts the table wrote (which it never changes in place).
    """

    region: str
    arn: str

    def build(self, record: StreamRecord) -> dict[str, Any]:
        """The ``Records`` entry of ``record``."""
        event_id, name, keys, new, old, view, size_bytes = record.payload
        change = dynamodb_change(
            created_epoch=record.arrival_epoch,
            keys=keys,
            new_image=new,
            old_image=old,
            sequence_number=record.sequence_number,
            size_bytes=size_bytes,
            stream_view_type=view,
        )
        return dynamodb_record(f"{event_id:032x}", name, change, self.region, self.arn)


@attrs.define(repr=False, eq=False)
class Table:
    """An in-memory DynamoDB table whose stream is enabled.

    Args:
        name: ``TableName``.
        key_schema: the partition key attribute name, or ``(partition, sort)``.
        stream_view_type: ``StreamViewType``: ``KEYS_ONLY``, ``NEW_IMAGE``,
            ``OLD_IMAGE`` or ``NEW_AND_OLD_IMAGES`` (default).
        scheduler: the scheduler whose clock stamps records (default: a new one).
        shard_count: stream shards (default 1); an item's records always go to the
            shard its partition key hashes to, so they stay in order.
        seed: seeds ``eventID`` values and the shard id suffix.
        region, account_id: used in the stream ARN.

    A write that leaves an item unchanged writes no stream record; a write that
    would make an item larger than 400 KB (`MAX_ITEM_SIZE`) is refused.
    """

    name: str = attrs.field()
    key_schema: tuple[str, ...] = attrs.field(converter=_key_schema)
    stream_view_type: str = attrs.field(
        default="NEW_AND_OLD_IMAGES", validator=one_of("StreamViewType", STREAM_VIEW_TYPES)
    )
    scheduler: Scheduler = attrs.field(
        factory=Scheduler, validator=instance_of("scheduler", Scheduler, "a Scheduler")
    )
    shard_count: int = attrs.field(default=1)
    seed: int | None = None
    region: str = attrs.field(
        default="us-east-1", validator=text("region", REGION, "must look like 'us-east-1'")
    )
    account_id: str = attrs.field(
        default="123456789012", validator=text("account_id", ACCOUNT_ID, "must be 12 digits")
    )
    stream: StreamLog = attrs.field(init=False)
    stream_label: str = attrs.field(init=False)
    _items: dict[str, dict[str, Any]] = attrs.field(factory=dict, init=False)
    _rng: random.Random = attrs.field(init=False)
    _counter: int = attrs.field(default=0, init=False)
    _source: _TableRecords = attrs.field(init=False)
    _stamps: tuple[float, float, float, float] = attrs.field(
        default=(-1.0, -1.0, -1.0, -1.0), init=False
    )

    @name.validator
    def _check_name(self, _attribute: Any, value: Any) -> None:
        if not isinstance(value, str) or not 3 <= len(value) <= 255:
            raise InvalidParameterValueError("TableName", value, "must be 3-255 characters")

    def __attrs_post_init__(self) -> None:
        check_range("shard_count", self.shard_count, 1, 100, integer=True)
        self._rng = seeded(self.seed)
        epoch = self.scheduler.clock.epoch()
        self.stream_label = iso_timestamp(epoch)[:-1]
        millis = int(epoch * 1000)
        ids = [
            f"shardId-{millis:020d}-{self._rng.getrandbits(32):08x}"
            for _ in range(self.shard_count)
        ]
        self.stream = StreamLog(
            "dynamodb", self.stream_arn, split_hash_space(ids), DYNAMODB_RETENTION, self.scheduler
        )
        self._source = _TableRecords(self.region, self.stream_arn)

    def __repr__(self) -> str:
        return f"<Table {self.name} items={len(self._items)} stream_records={len(self.stream)}>"

    @property
    def arn(self) -> str:
        """``arn:aws:dynamodb:<region>:<account>:table/<name>``."""
        return f"arn:aws:dynamodb:{self.region}:{self.account_id}:table/{self.name}"

    @property
    def stream_arn(self) -> str:
        """``<table ARN>/stream/<label>``, the label being the stream's creation time."""
        return f"{self.arn}/stream/{self.stream_label}"

    # -- items ------------------------------------------------------------------------------

    def _key_of(self, item: Mapping[str, Any], what: str) -> dict[str, Any]:
        if not isinstance(item, Mapping):
            raise ValidationError(what, item, "must map attribute names to attribute values")
        key = {}
        for name in self.key_schema:
            if name not in item:
                raise ValidationError(
                    what, dict(item), f"is missing the key attribute {render_value(name)}"
                )
            value = item[name]
            _check_value(name, value)
            if next(iter(value)) not in ("S", "N", "B"):
                raise ValidationError(
                    f"{what}.{name}", value, "a key attribute must be of type S, N or B"
                )
            key[name] = value
        return key

    @staticmethod
    def _id(key: Mapping[str, Any]) -> str:
        return json.dumps(key, sort_keys=True)

    def get_item(self, key: Mapping[str, Any]) -> dict[str, Any] | None:
        """``GetItem``: the item with ``key``, or None."""
        found = self._items.get(self._id(self._key_of(key, "Key")))
        return None if found is None else json.loads(json.dumps(found))

    def items(self) -> list[dict[str, Any]]:
        """Every item (a ``Scan``), in insertion order."""
        return [json.loads(json.dumps(item)) for item in self._items.values()]

    def put_item(self, item: Mapping[str, Any]) -> None:
        """``PutItem``: create or replace ``item`` (``INSERT`` or ``MODIFY``).

        A value DynamoDB refuses raises `ValidationError` (see `to_attribute_value`).
        """
        _check_item("Item", item)
        new = json.loads(json.dumps(dict(item)))
        key = self._key_of(new, "Item")
        self._write(key, new)

    def update_item(
        self,
        key: Mapping[str, Any],
        *,
        set: Mapping[str, Any] | None = None,
        remove: Iterable[str] = (),
    ) -> None:
        """``UpdateItem`` with ``SET`` and ``REMOVE`` actions (an upsert, as in DynamoDB)."""
        key = self._key_of(key, "Key")
        changes = dict(_check_item("set", set or {}))
        if isinstance(remove, str) or not all(isinstance(n, str) for n in _iterable(remove)):
            raise ValidationError("remove", remove, "must be a list of attribute names")
        removed = list(remove)
        for name in (*changes, *removed):
            if name in self.key_schema:
                raise InvalidParameterValueError(
                    "UpdateExpression", name, "cannot update a key attribute"
                )
        old = self._items.get(self._id(key))
        new = dict(old) if old is not None else dict(key)
        new.update(json.loads(json.dumps(changes)))
        for name in removed:
            new.pop(name, None)
        self._write(key, new)

    def delete_item(self, key: Mapping[str, Any]) -> None:
        """``DeleteItem``: remove the item (``REMOVE``); nothing happens if there is none."""
        key = self._key_of(key, "Key")
        self._write(key, None)

    def _write(self, key: dict[str, Any], new: dict[str, Any] | None) -> None:
        if new is not None and item_size(new) > MAX_ITEM_SIZE:
            raise InvalidParameterValueError(
                "Item",
                f"<{item_size(new)} bytes>",
                f"Item size has exceeded the maximum allowed size ({MAX_ITEM_SIZE} bytes)",
            )
        ident = self._id(key)
        old = self._items.get(ident)
        if old == new:
            return
        if new is None:
            del self._items[ident]
            name = "REMOVE"
        else:
            self._items[ident] = new
            name = "INSERT" if old is None else "MODIFY"
        self._record(name, key, old, new)

    def _record(
        self, name: str, key: dict[str, Any], old: dict[str, Any] | None, new: dict[str, Any] | None
    ) -> None:
        log = self.stream
        partition = json.dumps(key[self.key_schema[0]], sort_keys=True)
        hash_key = md5_hash_key(partition)
        shard = log.route(hash_key)
        now = self.scheduler.now
        created = float(math.floor(self.scheduler.clock.epoch()))
        stamps = self._stamps
        if stamps[0] == now and stamps[1] == created and stamps[3] == log.retention:
            # Records written at one instant share their time stamps (kept for 24 hours).
            now, created, expires = stamps[0], stamps[1], stamps[2]
        else:
            expires = on_grid(now + log.retention)
            self._stamps = (now, created, expires, log.retention)
        sequence = _FIRST_SEQUENCE + self._counter * _SEQUENCE_STEP
        self._counter += 1
        view = self.stream_view_type
        text = str(sequence)
        dynamodb = dynamodb_change(
            created_epoch=created,
            keys=key,
            new_image=new,
            old_image=old,
            sequence_number=text,
            size_bytes=0,
            stream_view_type=view,
        )
        size_bytes = stream_record_size(dynamodb)
        dynamodb["SizeBytes"] = size_bytes
        event_id = self._rng.getrandbits(128)
        source = self._source
        arn = self.stream_arn
        if source.region != self.region or source.arn != arn:
            source = self._source = _TableRecords(self.region, arn)
        event = dynamodb_record(f"{event_id:032x}", name, dynamodb, self.region, arn)
        keeps_new = view in ("NEW_IMAGE", "NEW_AND_OLD_IMAGES")
        keeps_old = view in ("OLD_IMAGE", "NEW_AND_OLD_IMAGES")
        payload = (
            event_id, name, key, new if keeps_new else None, old if keeps_old else None, view,
            size_bytes,
        )  # fmt: skip
        record = StreamRecord(
            shard.shard_id, text, partition, now, created, expires,
            json_size(event), None, payload, source,
        )  # fmt: skip
        log.append(shard, record)

    def map_to(
        self,
        function: Function,
        config: StreamMappingConfig,
        *,
        scheduler: Scheduler | None = None,
        seed: int | None = None,
        max_concurrency: int | None = None,
        history: History | None = None,
        polling_interval: float = DYNAMODB_POLLING_INTERVAL,
        retry_delay: float | None = None,
        bisect_at: Callable[[int], int] | None = None,
    ) -> EventSourceMapping[StreamPoller]:
        """Create an event source mapping from the table's stream to ``function``.

        ``AT_TIMESTAMP`` is rejected (not supported for DynamoDB Streams).  The
        mapping polls 4 times a second (``polling_interval``); see `StreamPoller` for
        ``retry_delay`` and ``bisect_at``.
        """
        return map_stream(
            self.stream, function, config, scheduler=scheduler, seed=seed,
            max_concurrency=max_concurrency, history=history,
            polling_interval=polling_interval, retry_delay=retry_delay, bisect_at=bisect_at,
        )  # fmt: skip
