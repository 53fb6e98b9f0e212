"""DynamoDB Table: stream records INSERT / MODIFY / REMOVE with the StreamViewType images."""

from __future__ import annotations

import decimal
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from invokemodels import Function, QueueTarget, Scheduler, StreamMappingConfig, Table, VirtualClock
from invokemodels.aws import from_attribute_value, item_size, to_attribute_value
from invokemodels.core import SYNC_PAYLOAD_LIMIT
from invokemodels.exceptions import InvalidParameterValueError, ValidationError

ITEM = {"Id": {"N": "101"}, "Message": {"S": "New item!"}}
CHANGED = {"Id": {"N": "101"}, "Message": {"S": "This item has changed"}}
KEY = {"Id": {"N": "101"}}


def events(view: str) -> list[dict[str, Any]]:
    sched = Scheduler(VirtualClock(epoch_origin=1_700_000_000.75))
    table = Table("TestTable", key_schema="Id", stream_view_type=view, scheduler=sched, seed=3)
    seen: list[dict[str, Any]] = []
    fn = Function("f", lambda event, ctx: seen.extend(event["Records"]))
    table.map_to(fn, StreamMappingConfig(starting_position="TRIM_HORIZON"))
    table.put_item(ITEM)
    table.put_item(CHANGED)
    table.delete_item(KEY)
    sched.run_until_idle()
    return seen


def test_new_and_old_images_reproduce_the_reference_records() -> None:
    insert, modify, remove = events("NEW_AND_OLD_IMAGES")
    assert insert["dynamodb"] == {
        "ApproximateCreationDateTime": 1700000000.0,
        "Keys": KEY,
        "NewImage": ITEM,
        "SequenceNumber": insert["dynamodb"]["SequenceNumber"],
        "SizeBytes": 26,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    assert modify["dynamodb"] == {
        "ApproximateCreationDateTime": 1700000000.0,
        "Keys": KEY,
        "NewImage": CHANGED,
        "OldImage": ITEM,
        "SequenceNumber": modify["dynamodb"]["SequenceNumber"],
        "SizeBytes": 59,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    assert remove["dynamodb"]["OldImage"] == CHANGED
    assert "NewImage" not in remove["dynamodb"]
    assert [e["eventName"] for e in (insert, modify, remove)] == ["INSERT", "MODIFY", "REMOVE"]


def test_record_envelope_key_for_key() -> None:
    insert = events("NEW_IMAGE")[0]
    arn = "arn:aws:dynamodb:us-east-1:123456789012:table/TestTable/stream/2023-11-14T22:13:20.750"
    assert list(insert) == [
        "eventID", "eventName", "eventVersion", "eventSource", "awsRegion", "dynamodb",
        "eventSourceARN",
    ]  # fmt: skip
    assert insert["eventVersion"] == "1.1"
    assert insert["eventSource"] == "aws:dynamodb"
    assert insert["awsRegion"] == "us-east-1"
    assert insert["eventSourceARN"] == arn
    assert len(insert["eventID"]) == 32
    assert int(insert["eventID"], 16) >= 0
    assert list(insert["dynamodb"]) == [
        "ApproximateCreationDateTime", "Keys", "NewImage", "SequenceNumber", "SizeBytes",
        "StreamViewType",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("view", "images"),
    [
        ("KEYS_ONLY", [set(), set(), set()]),
        ("NEW_IMAGE", [{"NewImage"}, {"NewImage"}, set()]),
        ("OLD_IMAGE", [set(), {"OldImage"}, {"OldImage"}]),
        ("NEW_AND_OLD_IMAGES", [{"NewImage"}, {"NewImage", "OldImage"}, {"OldImage"}]),
    ],
)
def test_stream_view_type_selects_images(view: str, images: list[set[str]]) -> None:
    got = events(view)
    assert [set(e["dynamodb"]) & {"NewImage", "OldImage"} for e in got] == images
    assert all(e["dynamodb"]["StreamViewType"] == view for e in got)
    assert all(e["dynamodb"]["Keys"] == KEY for e in got)
    sizes = [e["dynamodb"]["SizeBytes"] for e in got]
    expected = [
        item_size(KEY) + sum(item_size(e["dynamodb"][i]) for i in sorted(image))
        for e, image in zip(got, images, strict=True)
    ]
    assert sizes == expected


def test_observed_new_image_size_with_binary() -> None:
    keys = {"my_partition_key": {"S": "hello world"}}
    image = {"binary_key": {"B": "Zm9vYmFy"}, "my_partition_key": {"S": "hello world"}}
    assert item_size(keys) + item_size(image) == 70


def test_sequence_numbers_increase_and_unchanged_writes_write_nothing() -> None:
    sched = Scheduler()
    table = Table("tbl", key_schema=("pk", "sk"), scheduler=sched)
    item = {"pk": {"S": "a"}, "sk": {"N": "1"}, "v": {"BOOL": True}}
    table.put_item(item)
    table.put_item(item)
    table.update_item({"pk": {"S": "a"}, "sk": {"N": "1"}}, set={"v": {"BOOL": True}})
    table.delete_item({"pk": {"S": "zzz"}, "sk": {"N": "1"}})
    table.update_item({"pk": {"S": "a"}, "sk": {"N": "1"}}, set={"w": {"L": [{"N": "2"}]}})
    table.update_item({"pk": {"S": "a"}, "sk": {"N": "1"}}, remove=["v"])
    table.update_item({"pk": {"S": "b"}, "sk": {"N": "2"}}, set={"x": {"NULL": True}})
    records = table.stream.records()
    assert [r.event["eventName"] for r in records] == ["INSERT", "MODIFY", "MODIFY", "INSERT"]
    orders = [r.order for r in records]
    assert orders == sorted(orders)
    assert all(r.sequence_number.isdigit() for r in records)
    assert table.get_item({"pk": {"S": "a"}, "sk": {"N": "1"}}) == {
        "pk": {"S": "a"}, "sk": {"N": "1"}, "w": {"L": [{"N": "2"}]},
    }  # fmt: skip
    assert table.get_item({"pk": {"S": "c"}, "sk": {"N": "1"}}) is None
    assert len(table.items()) == 2


def test_stream_retention_is_24_hours() -> None:
    sched = Scheduler()
    table = Table("tbl", key_schema="Id", scheduler=sched)
    table.put_item(ITEM)
    sched.run(until=86399.9)
    assert len(table.stream.records()) == 1
    sched.run(until=86400.0)
    assert table.stream.records() == []
    assert [t.at for t in table.stream.trimmed] == [86400.0]


def test_on_failure_record_is_ddb_stream_batch_info_without_milliseconds() -> None:
    sched = Scheduler(VirtualClock(epoch_origin=1_573_690_399.5))
    table = Table("mytable", key_schema="Id", scheduler=sched, region="us-east-2")
    queue = QueueTarget()

    def handler(event: Any, context: Any) -> None:
        raise RuntimeError("boom")

    fn = Function("myfunction", handler, region="us-east-2")
    mapping = table.map_to(
        fn,
        StreamMappingConfig(
            starting_position="TRIM_HORIZON", maximum_retry_attempts=0, on_failure=queue
        ),
        seed=5,
    )
    table.put_item(ITEM)
    sched.run_until_idle()
    (record,) = queue.records
    (invocation,) = list(mapping.history)
    seq = table.stream.shards[0].records[0].sequence_number
    assert record == {
        "requestContext": {
            "requestId": invocation.request_id,
            "functionArn": "arn:aws:lambda:us-east-2:123456789012:function:myfunction",
            "condition": "RetryAttemptsExhausted",
            "approximateInvokeCount": 1,
        },
        "responseContext": {
            "statusCode": 200,
            "executedVersion": "$LATEST",
            "functionError": "Unhandled",
        },
        "version": "1.0",
        "timestamp": "2019-11-14T00:13:19.500Z",
        "DDBStreamBatchInfo": {
            "shardId": table.stream.shards[0].shard_id,
            "startSequenceNumber": seq,
            "endSequenceNumber": seq,
            "approximateArrivalOfFirstRecord": "2019-11-14T00:13:19Z",
            "approximateArrivalOfLastRecord": "2019-11-14T00:13:19Z",
            "batchSize": 1,
            "streamArn": table.stream_arn,
        },
    }
    assert table.stream.shards[0].shard_id.startswith("shardId-00000001573690399500-")
    assert table.stream_arn.endswith("table/mytable/stream/2019-11-14T00:13:19.500")


def test_polls_four_times_a_second() -> None:
    sched = Scheduler()
    table = Table("tbl", key_schema="Id", scheduler=sched)
    seen: list[float] = []
    fn = Function("f", lambda event, ctx: seen.append(sched.now))
    table.map_to(fn, StreamMappingConfig(starting_position="LATEST"))
    sched.run(until=0.1)
    table.put_item(ITEM)
    sched.run(until=0.6)
    table.put_item(CHANGED)
    sched.run_until_idle()
    assert seen == [0.25, 0.75]


@pytest.mark.parametrize(
    "value",
    [
        "text",
        True,
        7,
        decimal.Decimal("1.5"),
        b"\x00\x01",
        None,
        [1, "a"],
        {"k": {"n": 2}},
        {"a", "b"},
        {1, 2},
        {b"x"},
    ],
)
def test_attribute_values_round_trip(value: Any) -> None:
    typed = to_attribute_value(value)
    back = from_attribute_value(typed)
    if isinstance(value, (list, dict, set)) and value and not isinstance(value, dict):
        assert len(back) == len(value)
    elif isinstance(value, int) and not isinstance(value, bool):
        assert back == decimal.Decimal(value)
    else:
        assert back == value


def test_to_attribute_value_shapes() -> None:
    assert to_attribute_value({"n": 1, "s": "x", "b": b"foobar", "l": [None]}) == {
        "M": {
            "n": {"N": "1"},
            "s": {"S": "x"},
            "b": {"B": "Zm9vYmFy"},
            "l": {"L": [{"NULL": True}]},
        }
    }
    with pytest.raises(InvalidParameterValueError, match="AttributeValue"):
        to_attribute_value(object())


def test_item_size_rules() -> None:
    assert item_size({"n": {"N": "0"}}) == 1 + 2
    assert item_size({"n": {"N": "-12345.600"}}) == 1 + 4
    assert item_size({"b": {"BOOL": False}, "z": {"NULL": True}}) == 4
    assert item_size({"s": {"SS": ["ab", "c"]}}) == 1 + 3
    assert item_size({"s": {"NS": ["1", "22"]}}) == 1 + 2 + 2
    assert item_size({"s": {"BS": ["Zm9v"]}}) == 1 + 3
    assert item_size({"l": {"L": [{"S": "ab"}]}}) == 1 + 3 + 1 + 2
    assert item_size({"m": {"M": {"k": {"S": "ab"}}}}) == 1 + 3 + 1 + 1 + 2


@pytest.mark.parametrize(
    ("call", "parameter"),
    [
        (lambda t: t.put_item({"Message": {"S": "x"}}), "Item"),
        (lambda t: t.put_item({"Id": "101"}), "Item.Id"),
        (lambda t: t.put_item({"Id": {"X": "1"}}), "Item.Id"),
        (lambda t: t.put_item({"Id": {"N": "one"}}), "Item.Id"),
        (lambda t: t.put_item({"Id": {"N": "1"}, "l": {"L": ["raw"]}}), "Item.l"),
        (lambda t: t.put_item({"Id": {"N": "1"}, "m": {"M": {"k": 1}}}), "Item.m.k"),
        (lambda t: t.update_item(KEY, set={"Id": {"N": "2"}}), "UpdateExpression"),
        (lambda t: t.delete_item({"Other": {"S": "x"}}), "Key"),
    ],
)
def test_bad_writes_name_the_parameter(call: Any, parameter: str) -> None:
    table = Table("tbl", key_schema="Id")
    with pytest.raises(InvalidParameterValueError) as caught:
        call(table)
    assert caught.value.parameter == parameter
    assert table.stream.records() == []


def test_items_are_limited_to_400_kb() -> None:
    table = Table("tbl", key_schema="Id")
    # "Id" (2) + N "1" (2) + "v" (1) + the string: exactly 409600 bytes is allowed.
    table.put_item({"Id": {"N": "1"}, "v": {"S": "x" * (409_600 - 5)}})
    with pytest.raises(InvalidParameterValueError, match="maximum allowed size") as caught:
        table.put_item({"Id": {"N": "2"}, "v": {"S": "x" * (409_600 - 4)}})
    assert caught.value.parameter == "Item"
    with pytest.raises(InvalidParameterValueError, match="maximum allowed size"):
        table.update_item({"Id": {"N": "1"}}, set={"w": {"S": "y"}})
    assert [r.event["eventName"] for r in table.stream.records()] == ["INSERT"]
    assert table.get_item({"Id": {"N": "2"}}) is None


@pytest.mark.parametrize(
    ("kwargs", "parameter"),
    [
        ({"name": "ab"}, "TableName"),
        ({"key_schema": ()}, "KeySchema"),
        ({"key_schema": ("a", "b", "c")}, "KeySchema"),
        ({"stream_view_type": "ALL"}, "StreamViewType"),
        ({"shard_count": 0}, "shard_count"),
    ],
)
def test_invalid_table_parameters(kwargs: dict[str, Any], parameter: str) -> None:
    kwargs.setdefault("name", "tbl")
    kwargs.setdefault("key_schema", "Id")
    with pytest.raises(InvalidParameterValueError) as caught:
        Table(**kwargs)
    assert caught.value.parameter == parameter


def test_a_tumbling_window_batch_with_a_long_stream_arn_stays_under_6_mb() -> None:
    EPOCH = 1_700_000_000.0
    name = "t" * 255  # the longest table name: the window's eventSourceARN is ~330 characters

    def stream_of(sched: Scheduler) -> Table:
        return Table(name, key_schema="Id", scheduler=sched, stream_view_type="NEW_IMAGE")

    def record_size(length: int) -> int:
        scratch = stream_of(Scheduler(VirtualClock(epoch_origin=EPOCH)))
        scratch.put_item({"Id": {"N": "15"}, "v": {"S": "x" * length}})
        return scratch.stream.records()[0].size

    sched = Scheduler(VirtualClock(epoch_origin=EPOCH))
    table = stream_of(sched)
    sizes: list[int] = []

    def handler(event: Any, context: Any) -> Any:
        sizes.append(len(json.dumps(event)))
        return {"state": {}}

    config = StreamMappingConfig(
        starting_position="TRIM_HORIZON",
        tumbling_window=60,
        batch_size=1000,
        maximum_batching_window=1,
    )
    mapping = table.map_to(Function("f", handler), config)
    for i in range(15):
        table.put_item({"Id": {"N": str(i)}, "v": {"S": "x" * 409_000}})
    # A last record that fills the batch up to 6 MB less 512 bytes for the window's keys:
    # more than those keys take with this ARN.
    written = sum(r.size + 2 for r in table.stream.records())
    room = SYNC_PAYLOAD_LIMIT - len('{"Records": []}') - 512 - len("{}") - written
    length = room - (record_size(100_000) - 100_000)  # same number of digits in SizeBytes
    assert record_size(length) == room
    table.put_item({"Id": {"N": "15"}, "v": {"S": "x" * length}})
    sched.run_until_idle()
    assert max(sizes) <= SYNC_PAYLOAD_LIMIT
    assert [o.fate.value for o in mapping.poller.outcomes] == ["processed"] * 16


def test_items_of_one_key_stay_on_one_shard() -> None:
    table = Table("tbl", key_schema="Id", shard_count=4, seed=1)
    for n in range(20):
        table.put_item({"Id": {"N": str(n % 5)}, "v": {"N": str(n)}})
    by_key: dict[str, set[str]] = {}
    for record in table.stream.records():
        by_key.setdefault(record.partition_key, set()).add(record.shard_id)
    assert len(by_key) == 5
    assert all(len(shards) == 1 for shards in by_key.values())
    assert repr(table).startswith("<Table tbl items=5 stream_records=20")


def test_filters_see_the_dynamodb_record() -> None:
    sched = Scheduler()
    table = Table("tbl", key_schema="Id", scheduler=sched)
    seen: list[str] = []
    fn = Function("f", lambda event, ctx: seen.extend(r["eventName"] for r in event["Records"]))
    pattern = '{"eventName": ["MODIFY"], "dynamodb": {"NewImage": {"Message": {"S": ["paid"]}}}}'
    mapping = table.map_to(
        fn,
        StreamMappingConfig(
            starting_position="TRIM_HORIZON", filter_criteria={"Filters": [{"Pattern": pattern}]}
        ),
    )
    table.put_item({"Id": {"N": "1"}, "Message": {"S": "new"}})
    table.update_item({"Id": {"N": "1"}}, set={"Message": {"S": "paid"}})
    table.update_item({"Id": {"N": "1"}}, set={"Message": {"S": "shipped"}})
    sched.run_until_idle()
    assert seen == ["MODIFY"]
    assert [o.fate.value for o in mapping.poller.outcomes] == ["filtered", "processed", "filtered"]


# -- what DynamoDB refuses: ValidationException ------------------------------------------------

TOO_PRECISE = "1." + "1" * 38  # 39 significant digits


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (float("nan"), "cannot be converted to a numeric value: nan"),
        (float("inf"), "cannot be converted to a numeric value: inf"),
        (decimal.Decimal("NaN"), "cannot be converted to a numeric value: NaN"),
        (decimal.Decimal("-Infinity"), "cannot be converted to a numeric value: -Infinity"),
        pytest.param(10**5000, "Number overflow", id="5001 digits"),
        (decimal.Decimal("1E+127"), "Number overflow"),
        (decimal.Decimal("1E-170"), "Number underflow"),
        (decimal.Decimal(TOO_PRECISE), "more than 38 significant digits"),
        (set(), "a set may not be empty"),
        (frozenset(), "a set may not be empty"),
        ({1, "a"}, "a set must hold only strings (SS), only numbers (NS) or only bytes (BS)"),
        ({True}, "a set must hold only strings"),
        ({1.5, float("nan")}, "cannot be converted to a numeric value"),
        ({1: "a"}, "a map key must be a string"),
        ([object()], "has no DynamoDB type"),
    ],
)
def test_to_attribute_value_refuses_what_dynamodb_refuses(value: Any, problem: str) -> None:
    with pytest.raises(ValidationError) as caught:
        to_attribute_value(value)
    assert caught.value.code == "ValidationException"
    assert isinstance(caught.value, InvalidParameterValueError)
    assert problem in str(caught.value)
    assert str(caught.value).startswith("AttributeValue")
    assert len(str(caught.value)) < 1200


def test_to_attribute_value_keeps_numbers_dynamodb_accepts() -> None:
    assert to_attribute_value(0.1) == {"N": "0.1"}
    assert to_attribute_value(decimal.Decimal("9.9999999999999999999999999999999999999E+125")) == {
        "N": "9.9999999999999999999999999999999999999E+125"
    }
    assert to_attribute_value(decimal.Decimal("1E-130")) == {"N": "1E-130"}
    assert to_attribute_value(10**37) == {"N": str(10**37)}
    assert to_attribute_value({3, 1, 2}) == {"NS": ["1", "2", "3"]}


@given(st.decimals(allow_nan=True, allow_infinity=True))
def test_a_number_is_stored_exactly_or_refused(number: decimal.Decimal) -> None:
    # boto3's DYNAMODB_CONTEXT: 38 digits, exponents -128..126, no rounding of any kind.
    context = decimal.Context(
        Emin=-128, Emax=126, prec=38,
        traps=[decimal.Clamped, decimal.Overflow, decimal.Inexact, decimal.Rounded,
               decimal.Underflow, decimal.InvalidOperation],
    )  # fmt: skip
    try:
        exact = context.create_decimal(number)
        fits = exact.is_finite()
    except decimal.DecimalException:
        fits = False
    if fits:
        assert from_attribute_value(to_attribute_value(number)) == number
    else:
        with pytest.raises(ValidationError):
            to_attribute_value(number)


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ({"N": "Infinity"}, "cannot be converted to a numeric value: Infinity"),
        ({"N": "NaN"}, "cannot be converted to a numeric value: NaN"),
        ({"N": " 1"}, "cannot be converted to a numeric value"),
        ({"N": "1_000"}, "cannot be converted to a numeric value"),
        ({"N": 1}, "cannot be converted to a numeric value"),
        ({"N": "1E+200"}, "Number overflow"),
        ({"N": TOO_PRECISE}, "more than 38 significant digits"),
        ({"SS": []}, "a set may not be empty"),
        ({"NS": []}, "a set may not be empty"),
        ({"BS": []}, "a set may not be empty"),
        ({"SS": ["a", "a"]}, "Input collection contains duplicates"),
        ({"NS": ["1", "1.0"]}, "Input collection contains duplicates"),
        ({"SS": "a"}, "SS must be a list"),
        ({"SS": [1]}, "SS must hold strings"),
        ({"NS": ["one"]}, "cannot be converted to a numeric value"),
        ({"BS": ["!!"]}, "BS must hold base64 text"),
        ({"B": "!!"}, "B must be base64 text"),
        ({"B": b"raw"}, "B must be base64 text"),
        ({"S": 1}, "S must be a string"),
        ({"BOOL": "true"}, "BOOL must be true or false"),
        ({"NULL": False}, "Null attribute value types must have the value of true"),
        ({"L": "x"}, "L must be a list"),
        ({"M": [1]}, "M must map attribute names"),
        ({"M": {1: {"S": "x"}}}, "M must map attribute names"),
    ],
)
def test_put_item_refuses_what_dynamodb_refuses(value: Any, problem: str) -> None:
    table = Table("tbl", key_schema="Id")
    with pytest.raises(ValidationError) as caught:
        table.put_item({"Id": {"S": "k"}, "a": value})
    assert caught.value.parameter == "Item.a"
    assert problem in str(caught.value)
    assert table.items() == []
    assert len(table.stream) == 0


@pytest.mark.parametrize(
    ("call", "parameter", "problem"),
    [
        (lambda t: t.put_item(1), "Item", "must map attribute names"),
        (lambda t: t.put_item({"": {"S": "x"}}), "Item", "must map attribute names"),
        (lambda t: t.put_item({"Id": {"BOOL": True}}), "Item.Id", "of type S, N or B"),
        (lambda t: t.get_item(None), "Key", "must map attribute names"),
        (lambda t: t.update_item(KEY, set=1), "set", "must map attribute names"),
        (lambda t: t.update_item(KEY, remove="Message"), "remove", "a list of attribute names"),
        (lambda t: t.update_item(KEY, remove=[1]), "remove", "a list of attribute names"),
        (lambda t: t.delete_item({"Id": {"N": "NaN"}}), "Item.Id", "numeric value: NaN"),
    ],
)
def test_bad_keys_and_updates_are_refused_by_name(call: Any, parameter: str, problem: str) -> None:
    table = Table("tbl", key_schema="Id")
    with pytest.raises(ValidationError) as caught:
        call(table)
    assert caught.value.parameter == parameter
    assert problem in str(caught.value)
