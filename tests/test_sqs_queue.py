"""The in-memory SQS queue: attributes, life cycle, redrive, FIFO rules, a stateful model check."""

from __future__ import annotations

import hashlib
import json
import random
import re
from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from invokemodels import Queue, QueueTarget, RedrivePolicy, Scheduler, SystemClock
from invokemodels.aws import MessageState
from invokemodels.core import Delivery
from invokemodels.exceptions import (
    InvalidParameterValueError,
    MessageNotInflightError,
    ReceiptHandleIsInvalidError,
)

EPOCH_MS = 1_700_000_000_000
STRING: dict[str, Any] = {"DataType": "String", "StringValue": "v"}


def make(name: str = "q", **kwargs: Any) -> Queue:
    kwargs.setdefault("scheduler", Scheduler())
    kwargs.setdefault("seed", 7)
    return Queue(name, **kwargs)


# -- attributes and validation ---------------------------------------------------------------


def test_defaults_as_get_queue_attributes_reports_them() -> None:
    q = make("orders")
    assert q.attributes() == {
        "QueueArn": "arn:aws:sqs:us-east-1:123456789012:orders",
        "ApproximateNumberOfMessages": "0",
        "ApproximateNumberOfMessagesNotVisible": "0",
        "ApproximateNumberOfMessagesDelayed": "0",
        "VisibilityTimeout": "30",
        "MessageRetentionPeriod": "345600",
        "DelaySeconds": "0",
        "MaximumMessageSize": "1048576",
        "ReceiveMessageWaitTimeSeconds": "0",
    }
    assert q.url == "https://sqs.us-east-1.amazonaws.com/123456789012/orders"
    assert not q.fifo
    assert repr(q) == "<Queue orders visible=0 in_flight=0 delayed=0>"


def test_fifo_attributes_and_redrive_policy_attribute() -> None:
    sched = Scheduler()
    dlq = make("dead.fifo", scheduler=sched)
    q = make(
        "jobs.fifo",
        scheduler=sched,
        content_based_deduplication=True,
        redrive_policy=RedrivePolicy(dead_letter_target=dlq, max_receive_count=4),
    )
    attributes = q.attributes()
    assert attributes["FifoQueue"] == "true"
    assert attributes["ContentBasedDeduplication"] == "true"
    assert attributes["DeduplicationScope"] == "queue"
    assert json.loads(attributes["RedrivePolicy"]) == {
        "deadLetterTargetArn": "arn:aws:sqs:us-east-1:123456789012:dead.fifo",
        "maxReceiveCount": 4,
    }
    assert RedrivePolicy(dead_letter_target=dlq).max_receive_count == 10


@pytest.mark.parametrize(
    ("kwargs", "parameter", "allowed"),
    [
        ({"visibility_timeout": 43_201}, "VisibilityTimeout", "between 0 and 43200"),
        ({"visibility_timeout": -1}, "VisibilityTimeout", "between 0 and 43200"),
        ({"message_retention_period": 59}, "MessageRetentionPeriod", "between 60 and 1209600"),
        ({"message_retention_period": 1_209_601}, "MessageRetentionPeriod", "60 and 1209600"),
        ({"delay_seconds": 901}, "DelaySeconds", "between 0 and 900"),
        ({"maximum_message_size": 1023}, "MaximumMessageSize", "between 1024 and 1048576"),
        ({"maximum_message_size": 1_048_577}, "MaximumMessageSize", "1024 and 1048576"),
        ({"receive_message_wait_time_seconds": 21}, "ReceiveMessageWaitTimeSeconds", "0 and 20"),
        ({"content_based_deduplication": True}, "ContentBasedDeduplication", "FIFO queues"),
        ({"deduplication_scope": "group"}, "DeduplicationScope", "queue | messageGroup"),
    ],
)
def test_attribute_ranges_are_aws_ranges(kwargs: Any, parameter: str, allowed: str) -> None:
    with pytest.raises(InvalidParameterValueError) as caught:
        make("q", **kwargs)
    assert caught.value.parameter == parameter
    assert allowed in str(caught.value)


@pytest.mark.parametrize("name", ["", "a" * 81, "has space", "a" * 76 + ".fifo", "x.fifo.fifo"])
def test_queue_names(name: str) -> None:
    with pytest.raises(InvalidParameterValueError, match="QueueName"):
        make(name)


def test_longest_names_are_accepted() -> None:
    assert make("a" * 80).name == "a" * 80
    assert make("a" * 75 + ".fifo").fifo


def test_redrive_policy_validation() -> None:
    sched = Scheduler()
    standard = make("dlq", scheduler=sched)
    fifo = make("dlq.fifo", scheduler=sched)
    with pytest.raises(InvalidParameterValueError, match="also be a FIFO queue"):
        make("src.fifo", scheduler=sched, redrive_policy=RedrivePolicy(dead_letter_target=standard))
    with pytest.raises(InvalidParameterValueError, match="also be a standard queue"):
        make("src", scheduler=sched, redrive_policy=RedrivePolicy(dead_letter_target=fifo))
    with pytest.raises(InvalidParameterValueError, match="maxReceiveCount"):
        RedrivePolicy(dead_letter_target=standard, max_receive_count=0)
    with pytest.raises(InvalidParameterValueError, match="maxReceiveCount"):
        RedrivePolicy(dead_letter_target=standard, max_receive_count=1001)
    with pytest.raises(InvalidParameterValueError, match="must be a Queue"):
        RedrivePolicy(dead_letter_target=QueueTarget())  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterValueError, match="same account and Region"):
        make("src", scheduler=sched, region="eu-west-1",
             redrive_policy=RedrivePolicy(dead_letter_target=standard))  # fmt: skip


def test_a_queue_cannot_be_its_own_dead_letter_queue() -> None:
    q = make("loop")
    with pytest.raises(InvalidParameterValueError, match="another queue"):
        Queue("loop", scheduler=q.scheduler, redrive_policy=RedrivePolicy(dead_letter_target=q))


# -- send ------------------------------------------------------------------------------------


def test_send_validation() -> None:
    q = make()
    with pytest.raises(InvalidParameterValueError, match="MessageBody"):
        q.send_message("")
    with pytest.raises(InvalidParameterValueError, match="outside the characters SQS allows"):
        q.send_message("bad \x00 byte")
    with pytest.raises(InvalidParameterValueError, match="only valid for FIFO"):
        q.send_message("x", message_group_id="g")
    with pytest.raises(InvalidParameterValueError, match="only valid for FIFO"):
        q.send_message("x", message_deduplication_id="d")
    with pytest.raises(InvalidParameterValueError, match="DelaySeconds"):
        q.send_message("x", delay_seconds=901)
    small = make("small", maximum_message_size=1024)
    small.send_message("x" * 1024)
    with pytest.raises(InvalidParameterValueError, match="MaximumMessageSize=1024"):
        small.send_message("x" * 1020, {"k": {"DataType": "String", "StringValue": "v"}})


@pytest.mark.parametrize(
    ("attributes", "parameter"),
    [
        (
            {f"a{i}": {"DataType": "String", "StringValue": "v"} for i in range(11)},
            "MessageAttributes",
        ),
        ({"AWS.x": {"DataType": "String", "StringValue": "v"}}, "MessageAttributes.Name"),
        ({"a..b": {"DataType": "String", "StringValue": "v"}}, "MessageAttributes.Name"),
        ({".a": {"DataType": "String", "StringValue": "v"}}, "MessageAttributes.Name"),
        ({"a": "v"}, "MessageAttributes.a"),
        ({"a": {"DataType": "Text", "StringValue": "v"}}, "MessageAttributes.a.DataType"),
        ({"a": {"DataType": "String", "StringValue": ""}}, "MessageAttributes.a.StringValue"),
        ({"a": {"DataType": "Number", "StringValue": "ten"}}, "MessageAttributes.a.StringValue"),
        ({"a": {"DataType": "Binary", "StringValue": "x"}}, "MessageAttributes.a.BinaryValue"),
    ],
)
def test_message_attribute_validation(attributes: Any, parameter: str) -> None:
    with pytest.raises(InvalidParameterValueError) as caught:
        make().send_message("body", attributes)
    assert caught.value.parameter == parameter


def test_send_result_and_received_message() -> None:
    sched = Scheduler()
    q = make(scheduler=sched)
    sched.run_for(2.5)
    attrs_in: dict[str, dict[str, Any]] = {
        "kind": {"DataType": "String", "StringValue": "order"},
        "n": {"DataType": "Number.int", "StringValue": "3"},
        "raw": {"DataType": "Binary", "BinaryValue": b"\x00\x01"},
    }
    sent = q.send_message("Test message.", attrs_in)
    assert sent.md5_of_body == "e4e68fb7bd0e697a0ae8f1bb342846b3"  # AWS's sample event
    assert sent.md5_of_message_attributes is not None
    assert re.fullmatch(r"[0-9a-f]{32}", sent.md5_of_message_attributes)
    assert sent.sequence_number is None
    assert make("other").send_message("x").md5_of_message_attributes is None
    sched.run_for(1.0)
    [got] = q.receive_messages(10)
    assert got.message_id == sent.message_id
    assert got.body == "Test message."
    assert got.receipt_handle.startswith("AQEB")
    assert got.attributes == {
        "ApproximateReceiveCount": "1",
        "SentTimestamp": str(EPOCH_MS + 2500),
        "SenderId": "AIDAIENQZJOLO23YVJ4VO",
        "ApproximateFirstReceiveTimestamp": str(EPOCH_MS + 3500),
    }
    assert got.message_attributes == {
        "kind": {"DataType": "String", "StringValue": "order"},
        "n": {"DataType": "Number.int", "StringValue": "3"},
        "raw": {"DataType": "Binary", "BinaryValue": b"\x00\x01"},
    }
    assert got.receive_count == 1
    assert got.group_id is None


# -- life cycle timelines --------------------------------------------------------------------


def test_visibility_timeout_timeline() -> None:
    sched = Scheduler()
    q = make(scheduler=sched, visibility_timeout=30)
    sent = q.send_message('{"n": 1}')
    seen = []
    handles = set()
    for _ in range(3):
        [m] = q.receive_messages()
        assert q.receive_messages() == []
        seen.append((sched.now, m.receive_count, m.attributes["ApproximateFirstReceiveTimestamp"]))
        handles.add(m.receipt_handle)
        assert m.json() == {"n": 1}
        sched.run_for(29.999)
        assert q.receive_messages() == []
        sched.run_for(0.001)
    assert seen == [
        (0.0, 1, str(EPOCH_MS)),
        (30.0, 2, str(EPOCH_MS)),
        (60.0, 3, str(EPOCH_MS)),
    ]
    assert len(handles) == 3
    assert q.state_of(sent.message_id) is MessageState.VISIBLE
    kinds = [(e.at, e.kind, e.receive_count) for e in q.events]
    assert kinds == [
        (0.0, "sent", 0),
        (0.0, "received", 1),
        (30.0, "visible", 1),
        (30.0, "received", 2),
        (60.0, "visible", 2),
        (60.0, "received", 3),
        (90.0, "visible", 3),
    ]


def test_delete_and_stale_handles() -> None:
    sched = Scheduler()
    q = make(scheduler=sched, visibility_timeout=10)
    sent = q.send_message("a")
    [first] = q.receive_messages()
    sched.run_for(10)
    [second] = q.receive_messages()
    assert q.delete_message(first.receipt_handle) is False  # stale: a newer receive exists
    assert q.state_of(sent.message_id) is MessageState.IN_FLIGHT
    assert q.delete_message(second.receipt_handle) is True
    assert q.delete_message(second.receipt_handle) is False  # already gone
    fate = q.fate(sent.message_id)
    assert fate is not None
    assert (fate.at, fate.kind, fate.receive_count, fate.detail) == (
        10.0,
        "deleted",
        2,
        "DeleteMessage",
    )
    assert [e.kind for e in q.events].count("stale_delete") == 2
    with pytest.raises(ReceiptHandleIsInvalidError, match="not a valid receipt handle"):
        q.delete_message("AQEBnope")
    with pytest.raises(KeyError):
        q.state_of("no-such-id")
    assert q.fate("no-such-id") is None


def test_the_latest_handle_deletes_after_the_visibility_timeout_until_the_next_receive() -> None:
    sched = Scheduler()
    q = make(scheduler=sched, visibility_timeout=10)
    late = q.send_message("late")
    again = q.send_message("again")
    received = {m.body: m for m in q.receive_messages(10)}
    assert q.is_in_flight(received["late"].receipt_handle)
    sched.run_for(15)  # both are visible again; neither was received since
    assert q.state_of(late.message_id) is MessageState.VISIBLE
    assert not q.is_in_flight(received["late"].receipt_handle)
    assert not q.is_in_flight("AQEBnope")
    # SQS: the most recently received receipt handle deletes the message.
    assert q.delete_message(received["late"].receipt_handle) is True
    assert q.state_of(late.message_id) is MessageState.DELETED
    [newer] = q.receive_messages(10)
    assert newer.body == "again"
    assert q.delete_message(received["again"].receipt_handle) is False  # received again since
    assert q.state_of(again.message_id) is MessageState.IN_FLIGHT
    [m] = [newer]
    q.change_message_visibility(m.receipt_handle, 0)
    with pytest.raises(MessageNotInflightError):
        q.change_message_visibility(m.receipt_handle, 5)  # visible: not in flight
    assert q.delete_message(m.receipt_handle) is True
    assert [(e.at, e.kind) for e in q.fates] == [(15.0, "deleted"), (15.0, "deleted")]


def test_change_message_visibility() -> None:
    sched = Scheduler()
    q = make(scheduler=sched, visibility_timeout=30)
    q.send_message("a")
    [m] = q.receive_messages()
    q.change_message_visibility(m.receipt_handle, 100)
    sched.run_for(99)
    assert q.receive_messages() == []
    sched.run_for(1)
    [m2] = q.receive_messages()
    assert m2.receive_count == 2
    with pytest.raises(MessageNotInflightError):
        q.change_message_visibility(m.receipt_handle, 5)
    q.change_message_visibility(m2.receipt_handle, 0)
    [m3] = q.receive_messages()
    assert sched.now == 100.0
    assert m3.receive_count == 3
    with pytest.raises(InvalidParameterValueError, match="43200"):
        q.change_message_visibility(m3.receipt_handle, 43_201)
    q.change_message_visibility(m3.receipt_handle, 43_000)
    sched.run_for(42_000)
    q.change_message_visibility(m3.receipt_handle, 1_200)  # until 43300 = receive + 12 h
    with pytest.raises(InvalidParameterValueError, match="12 hours"):
        q.change_message_visibility(m3.receipt_handle, 1_201)
    with pytest.raises(ReceiptHandleIsInvalidError):
        q.change_message_visibility("nope", 1)


def test_receive_parameters() -> None:
    sched = Scheduler()
    q = make(scheduler=sched)
    for i in range(12):
        q.send_message(f"m{i}")
    with pytest.raises(InvalidParameterValueError, match="MaxNumberOfMessages"):
        q.receive_messages(11)
    with pytest.raises(InvalidParameterValueError, match="MaxNumberOfMessages"):
        q.receive_messages(0)
    with pytest.raises(InvalidParameterValueError, match="WaitTimeSeconds"):
        q.receive_messages(1, wait_time_seconds=21)
    with pytest.raises(InvalidParameterValueError, match="VisibilityTimeout"):
        q.receive_messages(1, visibility_timeout=43_201)
    got = q.receive_messages(10, visibility_timeout=5, wait_time_seconds=20)
    assert [m.body for m in got] == [f"m{i}" for i in range(10)]
    assert q.counts()[MessageState.IN_FLIGHT] == 10
    sched.run_for(5)
    assert [m.body for m in q.receive_messages(10)] == [f"m{i}" for i in range(10)]


def test_delays() -> None:
    sched = Scheduler()
    q = make(scheduler=sched, delay_seconds=10)
    a = q.send_message("queue delay")
    b = q.send_message("own delay", delay_seconds=2)
    c = q.send_message("no delay", delay_seconds=0)
    assert q.count(MessageState.DELAYED) == 2
    assert q.attributes()["ApproximateNumberOfMessagesDelayed"] == "2"
    assert [m.body for m in q.receive_messages(10)] == ["no delay"]
    assert q.next_change_at() == 2.0
    sched.run(until=2.0)
    assert [m.message_id for m in q.receive_messages(10)] == [b.message_id]
    sched.run(until=10.0)
    assert [m.message_id for m in q.receive_messages(10)] == [a.message_id]
    assert c.message_id != a.message_id


def test_retention_expiry_is_recorded_even_in_flight() -> None:
    sched = Scheduler()
    q = make(scheduler=sched, message_retention_period=60, visibility_timeout=100)
    kept = q.send_message("received")
    sched.run_for(10)
    idle = q.send_message("never received")
    [m] = q.receive_messages()
    assert m.message_id == kept.message_id
    sched.run_for(1000)
    assert [(e.at, e.kind, e.message_id, e.detail) for e in q.fates] == [
        (60.0, "expired", kept.message_id, "MessageRetentionPeriod"),
        (70.0, "expired", idle.message_id, "MessageRetentionPeriod"),
    ]
    assert q.state_of(kept.message_id) is MessageState.EXPIRED
    assert q.delete_message(m.receipt_handle) is False
    assert q.next_change_at() is None
    assert q.peek() == []


def test_redrive_on_the_receive_that_would_exceed_max_receive_count() -> None:
    sched = Scheduler()
    dlq = make("dlq", scheduler=sched, seed=1)
    q = make(
        "src",
        scheduler=sched,
        visibility_timeout=5,
        redrive_policy=RedrivePolicy(dead_letter_target=dlq, max_receive_count=2),
    )
    sent = q.send_message("poison", {"k": {"DataType": "String", "StringValue": "v"}})
    sched.run_for(1)
    counts = []
    for _ in range(3):
        counts.append([m.receive_count for m in q.receive_messages()])
        sched.run_for(5)
    assert counts == [[1], [2], []]
    fate = q.fate(sent.message_id)
    assert fate is not None
    assert (fate.at, fate.kind, fate.receive_count) == (11.0, "moved_to_dlq", 2)
    assert "maxReceiveCount=2" in fate.detail
    assert dlq.message_ids == [sent.message_id]
    [dead] = dlq.receive_messages()
    assert dead.body == "poison"
    assert dead.message_attributes == {"k": {"DataType": "String", "StringValue": "v"}}
    assert dead.attributes["SentTimestamp"] == str(EPOCH_MS)
    assert dead.attributes["ApproximateReceiveCount"] == "1"
    assert dead.attributes["DeadLetterQueueSourceArn"] == q.arn
    assert [(e.at, e.kind) for e in dlq.events] == [(11.0, "sent"), (16.0, "received")]


def test_standard_dead_letter_retention_counts_from_the_original_send() -> None:
    sched = Scheduler()
    dlq = make("dlq", scheduler=sched, message_retention_period=100)
    q = make(
        "src",
        scheduler=sched,
        visibility_timeout=60,
        redrive_policy=RedrivePolicy(dead_letter_target=dlq, max_receive_count=1),
    )
    early = q.send_message("early")
    sched.run_for(50)
    late = q.send_message("late")
    q.receive_messages(10)
    sched.run_for(60)
    assert q.receive_messages(10) == []
    assert dlq.message_ids == [early.message_id, late.message_id]
    assert dlq.state_of(early.message_id) is MessageState.EXPIRED  # sent at 0, retention 100
    fate = dlq.fate(early.message_id)
    assert fate is not None
    assert fate.at == 110.0
    sched.run(until=150.0)
    assert dlq.state_of(late.message_id) is MessageState.EXPIRED


# -- FIFO ------------------------------------------------------------------------------------


def test_fifo_send_rules() -> None:
    q = make("f.fifo")
    with pytest.raises(InvalidParameterValueError, match="MessageGroupId"):
        q.send_message("x", message_deduplication_id="1")
    with pytest.raises(InvalidParameterValueError, match="MessageDeduplicationId"):
        q.send_message("x", message_group_id="g")
    with pytest.raises(InvalidParameterValueError, match="per-message delays"):
        q.send_message("x", message_group_id="g", message_deduplication_id="1", delay_seconds=1)
    with pytest.raises(InvalidParameterValueError, match="1-128"):
        q.send_message("x", message_group_id="g", message_deduplication_id="d" * 129)


def test_fifo_deduplication_window() -> None:
    sched = Scheduler()
    q = make("f.fifo", scheduler=sched)
    first = q.send_message("a", message_group_id="g", message_deduplication_id="1")
    sched.run_for(299.999)
    again = q.send_message("b", message_group_id="g", message_deduplication_id="1")
    assert again.deduplicated
    assert (again.message_id, again.sequence_number) == (first.message_id, first.sequence_number)
    sched.run_for(0.001)
    fresh = q.send_message("c", message_group_id="g", message_deduplication_id="1")
    assert not fresh.deduplicated
    assert [m.body for m in q.peek()] == ["a", "c"]
    assert [e.kind for e in q.events] == ["sent", "deduplicated", "sent"]


def test_fifo_content_based_deduplication_and_scope() -> None:
    q = make("cb.fifo", content_based_deduplication=True)
    a = q.send_message("same", message_group_id="g1")
    b = q.send_message("same", message_group_id="g2")
    assert b.deduplicated
    [m] = q.receive_messages()
    assert m.attributes["MessageDeduplicationId"] == hashlib.sha256(b"same").hexdigest()
    assert m.message_id == a.message_id
    per_group = make(
        "pg.fifo", content_based_deduplication=True, deduplication_scope="messageGroup"
    )
    per_group.send_message("same", message_group_id="g1")
    assert not per_group.send_message("same", message_group_id="g2").deduplicated
    assert per_group.send_message("same", message_group_id="g2").deduplicated


def test_fifo_sequence_numbers_and_attributes() -> None:
    q = make("f.fifo")
    results = [
        q.send_message(f"m{i}", message_group_id="g", message_deduplication_id=str(i))
        for i in range(5)
    ]
    numbers = [result.sequence_number for result in results]
    assert all(n is not None and re.fullmatch(r"\d{20}", n) for n in numbers)
    assert [int(n or 0) for n in numbers] == sorted(int(n or 0) for n in numbers)
    assert len(set(numbers)) == 5
    [m, *_] = q.receive_messages(10)
    assert list(m.attributes) == [
        "ApproximateReceiveCount",
        "SentTimestamp",
        "SequenceNumber",
        "MessageGroupId",
        "SenderId",
        "MessageDeduplicationId",
        "ApproximateFirstReceiveTimestamp",
    ]
    assert m.group_id == "g"
    assert m.attributes["SequenceNumber"] == numbers[0]


def test_fifo_group_in_flight_is_not_served_other_groups_flow() -> None:
    sched = Scheduler()
    q = make("f.fifo", scheduler=sched, visibility_timeout=30)
    for i, group in enumerate("aabba"):
        q.send_message(f"{group}{i}", message_group_id=group, message_deduplication_id=str(i))
    first = q.receive_messages(1)
    assert [m.body for m in first] == ["a0"]
    second = q.receive_messages(10)
    assert [m.body for m in second] == ["b2", "b3"]  # group a is blocked while a0 is in flight
    assert q.receive_messages(10) == []
    q.delete_message(first[0].receipt_handle)
    assert [m.body for m in q.receive_messages(10)] == ["a1", "a4"]
    sched.run_for(30)  # nothing was deleted but a0: the rest comes back, each group in order
    assert [m.body for m in q.receive_messages(10)] == ["a1", "a4", "b2", "b3"]


def test_fifo_group_stays_blocked_while_a_later_message_is_in_flight() -> None:
    sched = Scheduler()
    q = make("f.fifo", scheduler=sched, visibility_timeout=30)
    for i in range(3):
        q.send_message(f"a{i}", message_group_id="a", message_deduplication_id=str(i))
    q.send_message("b0", message_group_id="b", message_deduplication_id="b0")
    a0, a1 = q.receive_messages(2)
    assert (a0.body, a1.body) == ("a0", "a1")
    q.change_message_visibility(a0.receipt_handle, 0)  # a0 is visible, a1 still in flight
    assert [m.body for m in q.receive_messages(10)] == ["b0"]  # group a waits for a1
    q.delete_message(a1.receipt_handle)
    assert [m.body for m in q.receive_messages(10)] == ["a0", "a2"]


# -- Destination and dead-letter target ------------------------------------------------------


def test_queue_as_destination_and_dead_letter_target() -> None:
    q = make("dest")
    delivery = Delivery(
        function_arn="arn:aws:lambda:us-east-1:123456789012:function:f",
        success=False,
        epoch=0.0,
        region="us-east-1",
        account_id="123456789012",
        s3_prefix="",
        rng=random.Random(0),
    )
    q.deliver({"requestContext": {"condition": "RetriesExhausted"}}, delivery)
    q.send_message("{}", {"ErrorCode": {"DataType": "Number", "StringValue": "200"}})
    assert q.records == [{"requestContext": {"condition": "RetriesExhausted"}}, {}]
    fifo = make("dest.fifo")
    with pytest.raises(
        InvalidParameterValueError, match="FIFO queue cannot be a Lambda destination"
    ):
        fifo.deliver({}, delivery)


def test_queue_as_event_destination_and_dead_letter_queue() -> None:
    from invokemodels import EventInvokeConfig, EventInvoker, Function

    sched = Scheduler()
    dlq = make("async-dlq", scheduler=sched)
    on_failure = make("on-failure", scheduler=sched, seed=8)

    def boom(event: Any, context: Any) -> None:
        raise ValueError("nope")

    invoker = EventInvoker(
        Function("f", boom),
        EventInvokeConfig(on_failure=on_failure),
        dead_letter=dlq,
        scheduler=sched,
        seed=1,
    )
    response = invoker.invoke({"order": 1})
    sched.run_until_idle()
    [record] = on_failure.records
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["requestId"] == response.request_id
    [dead] = dlq.receive_messages()
    assert json.loads(dead.body) == {"order": 1}
    assert dead.message_attributes["RequestID"]["StringValue"] == response.request_id
    assert dead.message_attributes["ErrorCode"] == {"DataType": "Number", "StringValue": "200"}
    assert dead.message_attributes["ErrorMessage"]["StringValue"] == "nope"


def test_same_seed_same_ids() -> None:
    def run(seed: int) -> list[str]:
        q = make(seed=seed)
        ids = [q.send_message(str(i)).message_id for i in range(3)]
        return ids + [m.receipt_handle for m in q.receive_messages(3)]

    assert run(1) == run(1)
    assert run(1) != run(2)


def test_the_queue_runs_on_the_real_clock() -> None:
    import time

    sched = Scheduler(clock=SystemClock())
    q = Queue("real", scheduler=sched, seed=1, visibility_timeout=0)
    before = time.time() * 1000
    q.send_message("now")
    [m] = q.receive_messages()
    after = time.time() * 1000
    assert before - 5 <= int(m.attributes["SentTimestamp"]) <= after + 5
    assert int(m.attributes["ApproximateFirstReceiveTimestamp"]) >= int(
        m.attributes["SentTimestamp"]
    )
    [again] = q.receive_messages()  # visibility timeout 0: visible again at once
    assert again.receive_count == 2


# -- stateful model check --------------------------------------------------------------------

RETENTION = 60
TERMINAL = {MessageState.DELETED, MessageState.EXPIRED, MessageState.MOVED_TO_DLQ}


class QueueMachine(RuleBasedStateMachine):
    """Drives a queue with send/receive/delete/change-visibility/advance against a plain model."""

    fifo = False

    @initialize(
        redrive=st.booleans(), delay=st.sampled_from([0, 0, 5]), max_receives=st.integers(1, 3)
    )
    def setup(self, redrive: bool, delay: int, max_receives: int = 2) -> None:
        self.max_receives = max_receives
        self.sched = Scheduler()
        suffix = ".fifo" if self.fifo else ""
        self.dlq = Queue("dlq" + suffix, scheduler=self.sched, seed=2)
        policy = RedrivePolicy(dead_letter_target=self.dlq, max_receive_count=max_receives)
        self.queue = Queue(
            "src" + suffix,
            scheduler=self.sched,
            seed=1,
            visibility_timeout=10,
            message_retention_period=RETENTION,
            delay_seconds=delay,
            redrive_policy=policy if redrive else None,
        )
        self.redrive = redrive
        self.delay = delay
        self.model: dict[str, dict[str, Any]] = {}
        self.order: list[str] = []
        self.handles: list[str] = []
        self.dedup: dict[str, tuple[float, str]] = {}
        self.counter = 0
        self.last_counts: dict[str, int] = {}

    # -- model time
    def refresh(self) -> float:
        now = self.sched.now
        for m in self.model.values():
            if m["state"] in TERMINAL:
                continue
            if now >= m["sent"] + RETENTION:
                m["state"] = MessageState.EXPIRED
            elif m["state"] in (MessageState.DELAYED, MessageState.IN_FLIGHT) and now >= m["until"]:
                # The last receipt handle stays valid for a delete until the next receive.
                m["state"] = MessageState.VISIBLE
        return now

    @rule(delay=st.one_of(st.none(), st.integers(0, 20)), group=st.sampled_from("abc"),
          dup=st.booleans())  # fmt: skip
    def send(self, delay: int | None, group: str, dup: bool) -> None:
        now = self.refresh()
        self.counter += 1
        if self.fifo:
            dedup_id = "d0" if dup else f"d{self.counter}"
            result = self.queue.send_message(
                f"m{self.counter}", message_group_id=group, message_deduplication_id=dedup_id
            )
            previous = self.dedup.get(dedup_id)
            if previous is not None and now < previous[0] + 300:
                assert result.deduplicated
                assert result.message_id == previous[1]
                return
            assert not result.deduplicated
            self.dedup[dedup_id] = (now, result.message_id)
            wait = self.delay
        else:
            result = self.queue.send_message(f"m{self.counter}", delay_seconds=delay)
            wait = self.delay if delay is None else delay
            group = None  # type: ignore[assignment]
        state = MessageState.DELAYED if wait else MessageState.VISIBLE
        self.model[result.message_id] = {
            "state": state, "until": now + wait, "rc": 0, "sent": now, "group": group,
            "handle": None, "index": len(self.order),
        }  # fmt: skip
        self.order.append(result.message_id)

    @rule(n=st.integers(1, 10), vt=st.one_of(st.none(), st.integers(0, 15)))
    def receive(self, n: int, vt: int | None) -> None:
        now = self.refresh()
        before = {mid: dict(m) for mid, m in self.model.items()}
        got = self.queue.receive_messages(n, visibility_timeout=vt)
        assert len(got) <= n
        moved = [
            mid for mid in self.order
            if before[mid]["state"] not in TERMINAL
            and self.queue.state_of(mid) is MessageState.MOVED_TO_DLQ
        ]  # fmt: skip
        for mid in moved:
            m = self.model[mid]
            assert self.redrive
            assert m["state"] is MessageState.VISIBLE
            assert m["rc"] >= self.max_receives
            m["state"] = MessageState.MOVED_TO_DLQ
        received_ids = [r.message_id for r in got]
        for r in got:
            m = self.model[r.message_id]
            assert m["state"] is MessageState.VISIBLE
            assert not self.redrive or m["rc"] < self.max_receives
            if self.fifo:
                group = m["group"]
                earlier = [
                    mid for mid in self.order[: m["index"]] if self.model[mid]["group"] == group
                ]
                assert all(
                    self.model[mid]["state"] in TERMINAL or mid in received_ids for mid in earlier
                )
                assert not any(
                    before[mid]["state"] is MessageState.IN_FLIGHT
                    for mid in self.order if before[mid]["group"] == group
                )  # fmt: skip
            m["rc"] += 1
            m["state"] = MessageState.IN_FLIGHT
            m["until"] = now + (10 if vt is None else vt)
            m["handle"] = r.receipt_handle
            assert r.receive_count == m["rc"]
            self.handles.append(r.receipt_handle)
        if not self.fifo:
            assert received_ids == sorted(received_ids, key=self.order.index)
            if received_ids:
                last = self.order.index(received_ids[-1])
                assert all(
                    self.order.index(mid) > last
                    for mid, m in self.model.items() if m["state"] is MessageState.VISIBLE
                )  # fmt: skip
            if len(got) < n:
                assert not any(m["state"] is MessageState.VISIBLE for m in self.model.values())
        elif len(got) < n:
            for group in "abc":
                members = [mid for mid in self.order if self.model[mid]["group"] == group]
                blocked = any(before[mid]["state"] is MessageState.IN_FLIGHT for mid in members)
                rest = [
                    mid for mid in members
                    if self.model[mid]["state"] not in TERMINAL and mid not in received_ids
                ]  # fmt: skip
                if rest and not blocked:
                    assert self.model[rest[0]]["state"] is not MessageState.VISIBLE

    @precondition(lambda self: self.handles)
    @rule(data=st.data())
    def delete(self, data: st.DataObject) -> None:
        self.refresh()
        handle = data.draw(st.sampled_from(self.handles))
        owner = next(mid for mid, m in self.model.items() if m["handle"] == handle) if any(
            m["handle"] == handle for m in self.model.values()
        ) else None  # fmt: skip
        deleted = self.queue.delete_message(handle)
        if owner is not None and self.model[owner]["state"] not in TERMINAL:
            assert deleted
            self.model[owner]["state"] = MessageState.DELETED
        else:
            assert not deleted

    @precondition(lambda self: self.handles)
    @rule(data=st.data(), timeout=st.integers(0, 15))
    def change_visibility(self, data: st.DataObject, timeout: int) -> None:
        now = self.refresh()
        handle = data.draw(st.sampled_from(self.handles))
        owner = [
            mid for mid, m in self.model.items()
            if m["handle"] == handle and m["state"] is MessageState.IN_FLIGHT
        ]  # fmt: skip
        if not owner:
            with pytest.raises(MessageNotInflightError):
                self.queue.change_message_visibility(handle, timeout)
            return
        self.queue.change_message_visibility(handle, timeout)
        m = self.model[owner[0]]
        if timeout == 0:
            m["state"] = MessageState.VISIBLE
        else:
            m["until"] = now + timeout

    @rule(seconds=st.sampled_from([10, 1, 5, 10, 30, 61]))
    def advance(self, seconds: int) -> None:
        self.sched.run_for(seconds)

    @invariant()
    def every_message_in_exactly_one_state(self) -> None:
        if not hasattr(self, "queue"):
            return
        self.refresh()
        counts = self.queue.counts()
        for mid, m in self.model.items():
            assert self.queue.state_of(mid) is m["state"], mid
        for state in MessageState:
            assert counts[state] == sum(1 for m in self.model.values() if m["state"] is state)
        assert sum(counts.values()) == len(self.model)
        moved = [mid for mid in self.order if self.model[mid]["state"] is MessageState.MOVED_TO_DLQ]
        assert sorted(self.dlq.message_ids) == sorted(moved)

    @invariant()
    def receive_counts_only_grow(self) -> None:
        if not hasattr(self, "queue"):
            return
        for view in self.queue.peek():
            count = int(view.attributes["ApproximateReceiveCount"])
            assert count >= self.last_counts.get(view.message_id, 0)
            assert count == self.model[view.message_id]["rc"]
            self.last_counts[view.message_id] = count


class FifoQueueMachine(QueueMachine):
    fifo = True


TestQueueMachine = QueueMachine.TestCase
TestQueueMachine.settings = settings(max_examples=60, stateful_step_count=40)
TestFifoQueueMachine = FifoQueueMachine.TestCase
TestFifoQueueMachine.settings = settings(max_examples=60, stateful_step_count=40)
