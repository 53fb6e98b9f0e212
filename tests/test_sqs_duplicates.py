"""At-least-once delivery of standard SQS queues: seeded duplicate copies, never on FIFO."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from invokemodels import Function, History, Queue, RedrivePolicy, Scheduler
from invokemodels.aws import MessageState
from invokemodels.exceptions import InvalidParameterValueError
from invokemodels.mapping import SQSMappingConfig


def make(name: str = "q", **kwargs: Any) -> Queue:
    kwargs.setdefault("scheduler", Scheduler())
    kwargs.setdefault("seed", 7)
    return Queue(name, **kwargs)


# -- the copy itself ---------------------------------------------------------------------------


def test_a_copy_reappears_after_the_visibility_timeout_even_when_the_message_was_deleted() -> None:
    q = make(duplicate_probability=1.0, visibility_timeout=30)
    sent = q.send_message("hello", {"k": {"DataType": "String", "StringValue": "v"}})
    [first] = q.receive_messages()
    assert not first.duplicate
    assert q.delete_message(first.receipt_handle)
    assert q.receive_messages() == []  # hidden, like the message it copies
    q.scheduler.clock.sleep_until(29.999)
    assert q.receive_messages() == []
    q.scheduler.clock.sleep_until(30.0)
    [copy] = q.receive_messages()
    assert copy.duplicate
    assert copy.message_id == sent.message_id
    assert copy.receipt_handle != first.receipt_handle
    assert (copy.body, copy.message_attributes) == (first.body, first.message_attributes)
    assert copy.attributes["ApproximateReceiveCount"] == "2"
    assert copy.attributes["SentTimestamp"] == first.attributes["SentTimestamp"]
    # Deleting the copy deletes the copy, not the message (already deleted, one fate).
    assert q.delete_message(copy.receipt_handle) is False
    fate = q.fate(sent.message_id)
    assert fate is not None
    assert (fate.kind, fate.at) == ("deleted", 0.0)
    assert [(e.at, e.kind, e.receive_count, e.detail) for e in q.events] == [
        (0.0, "sent", 0, ""),
        (0.0, "received", 1, ""),
        (0.0, "duplicated", 1, "after_visibility_timeout"),
        (0.0, "deleted", 1, "DeleteMessage"),
        (30.0, "received", 2, "duplicate"),
        (30.0, "duplicate_deleted", 2, "DeleteMessage"),
    ]
    assert q.duplicates == 1
    assert q.receive_messages() == []  # a copy is delivered once, and never copied again


def test_a_concurrent_copy_goes_to_the_next_receive_while_the_original_is_in_flight() -> None:
    q = make(duplicate_probability=1.0, duplicate_delivery="concurrent")
    sent = q.send_message("hello")
    [first] = q.receive_messages(10)  # one receive never returns its own copy
    q.scheduler.clock.sleep_until(0.5)
    [copy] = q.receive_messages(10)
    assert copy.duplicate
    assert copy.message_id == sent.message_id
    assert q.state_of(sent.message_id) is MessageState.IN_FLIGHT
    assert q.is_in_flight(first.receipt_handle)
    assert q.is_in_flight(copy.receipt_handle)
    q.scheduler.clock.sleep_until(30.5)
    assert not q.is_in_flight(copy.receipt_handle)
    # The original reappears at 30 s and is received again (a redelivery, not a copy).
    [again] = q.receive_messages(10)
    assert not again.duplicate
    assert again.receive_count == 2


def test_a_copy_does_not_count_towards_max_receive_count() -> None:
    dlq = make("dlq")
    q = make(
        duplicate_probability=1.0,
        duplicate_delivery="concurrent",
        redrive_policy=RedrivePolicy(dead_letter_target=dlq, max_receive_count=1),
    )
    sent = q.send_message("x")
    q.receive_messages()
    q.scheduler.clock.sleep_until(1)
    [copy] = q.receive_messages()
    assert copy.duplicate
    q.scheduler.clock.sleep_until(31)
    assert q.receive_messages() == []  # the second receive of the message moves it
    assert q.state_of(sent.message_id) is MessageState.MOVED_TO_DLQ
    assert dlq.message_ids == [sent.message_id]


def test_change_message_visibility_on_a_copy_and_is_in_flight() -> None:
    q = make(duplicate_probability=1.0, duplicate_delivery="concurrent")
    q.send_message("x")
    q.receive_messages()
    q.scheduler.clock.sleep_until(1)
    [copy] = q.receive_messages()
    q.change_message_visibility(copy.receipt_handle, 100)
    q.scheduler.clock.sleep_until(90)
    assert q.is_in_flight(copy.receipt_handle)
    q.change_message_visibility(copy.receipt_handle, 0)
    assert not q.is_in_flight(copy.receipt_handle)


def test_an_unreceived_copy_expires_with_the_message_retention_period() -> None:
    q = make(duplicate_probability=1.0, visibility_timeout=120, message_retention_period=60)
    sent = q.send_message("x")
    [first] = q.receive_messages()
    q.delete_message(first.receipt_handle)
    q.scheduler.clock.sleep_until(200)
    assert q.receive_messages() == []
    assert [e.kind for e in q.events][-1] == "duplicate_expired"
    assert [f.message_id for f in q.fates] == [sent.message_id]


def test_fifo_queues_reject_duplicates_and_bad_values_are_named() -> None:
    with pytest.raises(InvalidParameterValueError, match=r"duplicate_probability=0\.1.*FIFO"):
        make("q.fifo", duplicate_probability=0.1)
    assert make("q.fifo", duplicate_probability=0.0).duplicate_probability == 0.0
    with pytest.raises(InvalidParameterValueError, match=r"duplicate_probability=1\.5"):
        make(duplicate_probability=1.5)
    with pytest.raises(InvalidParameterValueError, match="duplicate_delivery='later'"):
        make(duplicate_delivery="later")


# -- through the mapping, into the shared history ----------------------------------------------


def test_a_duplicate_is_marked_in_the_mapping_span_and_reaches_the_handler() -> None:
    q = make(duplicate_probability=1.0)
    seen: list[tuple[str, str]] = []
    fn = Function(
        name="consumer",
        handler=lambda event, context: seen.extend(
            (r["messageId"], r["attributes"]["ApproximateReceiveCount"]) for r in event["Records"]
        ),
    )
    history = History()
    q.map_to(fn, history=history)
    sent = q.send_message("one").message_id
    q.scheduler.run_until_idle()
    assert seen == [(sent, "1"), (sent, "2")]
    first, second = history.spans()
    assert (first.started_at, first.carried, first.duplicates) == (0.0, (sent,), ())
    assert (second.started_at, second.carried, second.duplicates) == (30.0, (sent,), (sent,))
    assert [f.kind for f in q.fates] == ["deleted"]


def test_an_event_duplicate_is_marked_in_its_spans() -> None:
    from invokemodels import EventInvoker

    fn = Function(name="f", handler=lambda event, context: None)
    invoker = EventInvoker(fn, seed=1, duplicate_probability=1.0)
    request_id = invoker.invoke({}).request_id
    invoker.scheduler.run_until_idle()
    spans = invoker.history.of(request_id)
    assert sorted(s.duplicates for s in spans) == [(), (request_id,)]


# -- properties -----------------------------------------------------------------------------------


scenarios = st.fixed_dictionaries(
    {
        "seed": st.integers(0, 2**32),
        "messages": st.integers(1, 25),
        "probability": st.sampled_from([0.0, 0.1, 0.5, 1.0]),
        "delivery": st.sampled_from(["after_visibility_timeout", "concurrent"]),
        "fail_every": st.integers(0, 4),
        "redrive": st.booleans(),
        "batch_size": st.integers(1, 10),
    }
)


def run(scenario: dict[str, Any]) -> tuple[Queue, History, list[str], list[str]]:
    scheduler = Scheduler()
    dlq = Queue("dlq", scheduler=scheduler, seed=1)
    policy = RedrivePolicy(dead_letter_target=dlq, max_receive_count=3)
    options: dict[str, Any] = {}
    if scenario["probability"] is not None:  # None: the queue's defaults
        options["duplicate_probability"] = scenario["probability"]
        options["duplicate_delivery"] = scenario["delivery"]
    q = Queue(
        "work",
        scheduler=scheduler,
        seed=scenario["seed"],
        visibility_timeout=10,
        message_retention_period=120,
        redrive_policy=policy if scenario["redrive"] else None,
        **options,
    )
    calls = [0]
    seen: list[str] = []

    def handler(event: dict[str, Any], context: Any) -> None:
        calls[0] += 1
        seen.extend(r["messageId"] for r in event["Records"])
        every = scenario["fail_every"]
        if every and calls[0] % every == 0:
            raise RuntimeError("boom")

    fn = Function(name="consumer", handler=handler, timeout=1)
    history = History()
    q.map_to(fn, SQSMappingConfig(batch_size=scenario["batch_size"]), history=history, seed=2)
    sent = [q.send_message(f"m{i}").message_id for i in range(scenario["messages"])]
    scheduler.run(until=400)
    return q, history, sent, seen


@settings(max_examples=60, deadline=None)
@given(scenarios)
def test_every_message_ends_in_exactly_one_fate_whatever_the_duplicates(
    scenario: dict[str, Any],
) -> None:
    q, history, sent, seen = run(scenario)
    fates = q.fates
    assert sorted(f.message_id for f in fates) == sorted(sent)
    assert all(f.kind in {"deleted", "moved_to_dlq", "expired"} for f in fates)
    delivered = [e for e in q.events if e.kind == "received" and e.detail == "duplicate"]
    assert len(delivered) <= q.duplicates
    assert Counter(e.kind for e in q.events)["duplicated"] == q.duplicates
    # Every delivered copy is in the shared history, marked, and reached the handler.
    marked = [i for span in history for i in span.duplicates if span.ran]
    assert sorted(marked) == sorted(e.message_id for e in delivered)
    assert set(seen) == set(sent)
    if scenario["probability"] == 0.0:
        assert q.duplicates == 0
        assert not marked


@settings(max_examples=25, deadline=None)
@given(scenarios)
def test_duplicates_are_deterministic_from_the_seed(scenario: dict[str, Any]) -> None:
    q1, h1, sent1, seen1 = run(scenario)
    q2, h2, sent2, seen2 = run(scenario)
    assert (sent1, seen1) == (sent2, seen2)
    assert q1.events == q2.events
    assert h1.spans() == h2.spans()


@settings(max_examples=25, deadline=None)
@given(scenarios)
def test_probability_zero_gives_the_timeline_of_a_queue_without_the_option(
    scenario: dict[str, Any],
) -> None:
    q0, h0, sent0, seen0 = run({**scenario, "probability": 0.0})
    plain, h1, sent1, seen1 = run({**scenario, "probability": None})
    assert (sent0, seen0) == (sent1, seen1)
    assert q0.events == plain.events
    assert h0.spans() == h1.spans()
    assert q0.duplicates == 0
    assert all(not span.duplicates for span in h0)


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 2**32), st.integers(1, 20))
def test_fifo_queues_never_deliver_a_duplicate(seed: int, messages: int) -> None:
    q = make("q.fifo", seed=seed, content_based_deduplication=True)
    seen: list[str] = []
    fn = Function(
        name="f", handler=lambda event, context: seen.extend(r["body"] for r in event["Records"])
    )
    q.map_to(fn)
    for i in range(messages):
        q.send_message(f"m{i}", message_group_id=f"g{i % 3}")
    q.scheduler.run_until_idle()
    assert sorted(seen) == sorted(f"m{i}" for i in range(messages))
    assert q.duplicates == 0


def test_copies_cost_nothing_once_gone_and_keep_events_false_logs_none() -> None:
    q = make(
        duplicate_probability=1.0,
        duplicate_delivery="concurrent",
        visibility_timeout=1,
        keep_events=False,
        keep_fates=False,
    )
    for i in range(300):
        q.send_message(f"m{i}")
    copies = 0
    while True:
        received = q.receive_messages(10)
        if not received:
            if q.next_change_at() is None:
                break
            q.scheduler.clock.sleep_until(q.next_change_at() or 0)
            continue
        for message in received:
            copies += message.duplicate
            if not message.duplicate:  # copies are left to time out, undeleted
                q.delete_message(message.receipt_handle)
        q.scheduler.clock.sleep_until(q.scheduler.now + 2)
    assert copies == q.duplicates == 300
    assert q.events == []
    # The handles of copies whose visibility timeout ended are forgotten as copies are made.
    assert len(q._copies_out) <= 64 + 10
    assert q.count(MessageState.DELETED) == 300
