"""`invokemodels.testing.check_idempotent`: idempotent handlers pass, naive ones are caught."""

from __future__ import annotations

import base64
import json
import time
from collections import Counter
from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st

from invokemodels.exceptions import InvalidParameterValueError
from invokemodels.testing import NotIdempotentError, check_idempotent

# The same order is the same body: a redelivery of an older message cannot carry new data.
orders = st.integers(0, 10**6).map(
    lambda order_id: json.dumps({"order_id": order_id, "amount": order_id % 500 + 1})
)


class Ledger:
    """A stand-in for a table: what a handler wrote."""

    def __init__(self) -> None:
        self.rows: dict[int, int] = {}
        self.total = 0
        self.seen: set[str] = set()

    def clear(self) -> None:
        self.rows.clear()
        self.total = 0
        self.seen.clear()


# -- SQS ---------------------------------------------------------------------------------------


def test_an_idempotent_sqs_handler_passes() -> None:
    ledger = Ledger()

    def handler(event: dict[str, Any], context: Any) -> None:
        for record in event["Records"]:
            order = json.loads(record["body"])
            ledger.rows[order["order_id"]] = order["amount"]  # a put: same key, same row

    check_idempotent(
        handler,
        events=orders,
        side_effects=lambda: dict(ledger.rows),
        reset=ledger.clear,
        max_examples=30,
    )


def test_a_naive_sqs_counter_fails_naming_the_message_processed_twice() -> None:
    ledger = Ledger()

    def handler(event: dict[str, Any], context: Any) -> None:
        for record in event["Records"]:
            ledger.total += json.loads(record["body"])["amount"]  # counts a duplicate twice

    with pytest.raises(NotIdempotentError) as caught:
        check_idempotent(
            handler, events=orders, side_effects=lambda: ledger.total, reset=ledger.clear
        )
    error = caught.value
    assert isinstance(error, AssertionError)
    text = str(error)
    assert text.startswith("check_idempotent: under at-least-once delivery the side effects")
    assert "model='sqs'" in text
    assert error.repeated
    index, times = error.repeated[0]
    assert times >= 2
    assert f"message {index} of {len(error.events)}" in text
    assert f"was processed {times} times:" in text
    assert error.actual != error.expected
    # How: a duplicate copy, or a redelivery after a failure injected after the handler ran.
    assert ("duplicate copy of the message" in text) or ("redelivered after" in text)
    assert "timeline of the at-least-once run:" in text


def test_deduplicating_by_message_id_passes_for_sqs_duplicates_without_failures() -> None:
    ledger = Ledger()

    def handler(event: dict[str, Any], context: Any) -> None:
        for record in event["Records"]:
            if record["messageId"] in ledger.seen:
                continue
            ledger.seen.add(record["messageId"])
            ledger.total += 1

    # Duplicate copies keep their messageId; with no injected failures that is enough.
    check_idempotent(
        handler,
        side_effects=lambda: ledger.total,
        reset=ledger.clear,
        failure_probability=0.0,
        duplicate_probability=1.0,
        max_examples=20,
    )


def test_a_partial_batch_response_handler_is_checked_with_report_batch_item_failures() -> None:
    ledger = Ledger()

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        for record in event["Records"]:
            order = json.loads(record["body"])
            ledger.rows[order["order_id"]] = order["amount"]
        return {"batchItemFailures": []}

    check_idempotent(
        handler,
        events=orders,
        side_effects=lambda: dict(ledger.rows),
        reset=ledger.clear,
        report_batch_item_failures=True,
        batch_size=3,
        max_examples=20,
    )


# -- Event and Kinesis -----------------------------------------------------------------------


def test_the_event_model_catches_a_handler_that_appends() -> None:
    sent: list[int] = []

    def handler(event: dict[str, Any], context: Any) -> None:
        sent.append(event["id"])  # "send an email" once per delivery

    with pytest.raises(NotIdempotentError, match=r"model='event'") as caught:
        check_idempotent(
            handler, model="event", side_effects=lambda: Counter(sent), reset=sent.clear
        )
    assert "was processed" in str(caught.value)
    assert ("duplicate delivery of the event" in str(caught.value)) or (
        "retried after the previous try failed" in str(caught.value)
    )


def test_the_event_model_passes_a_handler_keyed_by_its_payload() -> None:
    sent: dict[int, str] = {}

    def handler(event: dict[str, Any], context: Any) -> None:
        sent[event["id"]] = event["value"]

    check_idempotent(
        handler, model="event", side_effects=lambda: dict(sent), reset=sent.clear, max_examples=20
    )


def test_kinesis_batch_retries_catch_a_counter_and_pass_an_upsert() -> None:
    counts: Counter[bytes] = Counter()
    latest: dict[bytes, bytes] = {}

    def counting(event: dict[str, Any], context: Any) -> None:
        for record in event["Records"]:
            counts[base64.b64decode(record["kinesis"]["data"])] += 1

    with pytest.raises(NotIdempotentError, match=r"the batch retried after the previous try"):
        check_idempotent(
            counting, model="kinesis", side_effects=lambda: +counts, reset=counts.clear
        )

    def upsert(event: dict[str, Any], context: Any) -> None:
        for record in event["Records"]:
            data = base64.b64decode(record["kinesis"]["data"])
            latest[data] = data

    check_idempotent(
        upsert, model="kinesis", side_effects=lambda: dict(latest), reset=latest.clear,
        max_examples=20,
    )  # fmt: skip


# -- options ----------------------------------------------------------------------------------


def test_expected_replaces_the_reference_run() -> None:
    ledger = Ledger()

    def handler(event: dict[str, Any], context: Any) -> None:
        for record in event["Records"]:
            order = json.loads(record["body"])
            ledger.rows[order["order_id"]] = order["amount"]

    def each_once(bodies: list[str]) -> dict[int, int]:
        rows = {}
        for body in bodies:
            order = json.loads(body)
            rows[order["order_id"]] = order["amount"]
        return rows

    check_idempotent(
        handler,
        events=orders,
        side_effects=lambda: dict(ledger.rows),
        reset=ledger.clear,
        expected=each_once,
        max_examples=20,
    )


def test_handler_time_lets_a_handler_sleep_on_the_virtual_clock() -> None:
    ledger = Ledger()

    def handler(event: dict[str, Any], context: Any) -> None:
        time.sleep(2)  # virtual: the check does not take two real seconds per invocation
        for record in event["Records"]:
            ledger.rows[len(record["body"])] = 1

    started = time.monotonic()
    check_idempotent(
        handler,
        side_effects=lambda: dict(ledger.rows),
        reset=ledger.clear,
        handler_time=True,
        max_examples=10,
    )
    assert time.monotonic() - started < 30


def test_settings_are_passed_to_hypothesis() -> None:
    calls = [0]

    def handler(event: Any, context: Any) -> None:
        calls[0] += 1

    check_idempotent(
        handler,
        side_effects=lambda: None,
        reset=lambda: None,
        settings=settings(max_examples=3, deadline=None, database=None),
    )
    assert calls[0] >= 3 * 2  # each example runs the reference and the at-least-once run


def test_bad_arguments_are_named() -> None:
    ok: dict[str, Any] = {"side_effects": lambda: None, "reset": lambda: None}
    cases: list[tuple[dict[str, Any], str]] = [
        ({"model": "dynamodb"}, r"model='dynamodb'.*'sqs', 'event' or 'kinesis'"),
        ({"events": [1, 2]}, r"events=\[1, 2\].*Hypothesis strategy"),
        ({"side_effects": 1}, r"side_effects=1.*callable"),
        ({"reset": None}, r"reset=None.*callable"),
        ({"duplicate_probability": 2}, r"duplicate_probability=2"),
        ({"failure_probability": -0.5}, r"failure_probability=-0\.5"),
        ({"max_events": 0}, r"max_events=0"),
        ({"batch_size": 1000}, r"batch_size=1000"),
        ({"timeout": 0}, r"Timeout=0"),
        ({"settings": 3}, r"settings=3"),
    ]
    for change, message in cases:
        with pytest.raises(InvalidParameterValueError, match=message):
            check_idempotent(lambda event, context: None, **{**ok, **change})
    with pytest.raises(InvalidParameterValueError, match=r"handler=1"):
        check_idempotent(1, **ok)  # type: ignore[arg-type]
