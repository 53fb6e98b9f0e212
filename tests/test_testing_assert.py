"""The assertions over the history: each passes on what happened and fails, with the story of
what happened, on anything else."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from invokemodels import (
    EventBus,
    Function,
    History,
    Outcome,
    QueueTarget,
    RedrivePolicy,
    RequestResponseInvoker,
    Scheduler,
    Topic,
)
from invokemodels.exceptions import InvalidParameterValueError
from invokemodels.observe import Timeline
from invokemodels.testing import (
    Call,
    Environment,
    Recording,
    assert_attempts,
    assert_outcome,
    assert_received,
    attempts,
    final_outcome,
    received,
    record,
)


def failing(event: Any, context: Any) -> Any:
    raise ValueError(f"cannot handle {event}")


def echo(event: Any, context: Any) -> Any:
    return event


def failed_event(env: Environment, **options: Any) -> tuple[str, QueueTarget]:
    target = QueueTarget()
    invoker = env.event_invoker(failing, on_failure=target, **options)
    request_id = invoker.invoke({"order": 1}).request_id
    env.drain()
    return request_id, target


# -- assert_attempts --------------------------------------------------------------------------


def test_assert_attempts_passes_on_an_events_three_tries_and_returns_them() -> None:
    env = Environment()
    request_id, _ = failed_event(env)
    spans = assert_attempts(
        env, request_id, times=[0, 60, 180], outcomes=["FunctionError"] * 3, count=3
    )
    assert [s.attempt for s in spans] == [1, 2, 3]
    assert spans == attempts(env, request_id)
    assert assert_attempts(env, request_id, outcomes=[Outcome.FUNCTION_ERROR] * 3) == spans


def test_assert_attempts_fails_with_the_expected_times_the_real_ones_and_the_story() -> None:
    env = Environment()
    request_id, _ = failed_event(env)
    with pytest.raises(AssertionError) as caught:
        assert_attempts(env, request_id, times=[0, 60])
    message = str(caught.value)
    assert message.startswith(f"{request_id}: expected tries starting at [0, 60], got [0, 60, 180]")
    assert "What happened to it:" in message
    assert "dropped (RetriesExhausted)" in message
    assert message.count("FunctionError ValueError") == 3


def test_assert_attempts_fails_on_a_wrong_count_or_outcome() -> None:
    env = Environment()
    request_id, _ = failed_event(env, maximum_retry_attempts=0)
    with pytest.raises(AssertionError, match="expected 2 tries, got 1"):
        assert_attempts(env, request_id, count=2)
    with pytest.raises(AssertionError, match=r"expected outcomes \['Success'\]"):
        assert_attempts(env, request_id, outcomes=["Success"])


def test_assert_attempts_with_nothing_asked_asserts_a_try() -> None:
    env = Environment()
    response = env.sync_invoker(echo).invoke({"a": 1})
    assert len(assert_attempts(env, response)) == 1
    with pytest.raises(AssertionError, match="expected tries, got none"):
        assert_attempts(env, "no-such-request")


def test_throttles_are_tries_and_ran_keeps_the_executions() -> None:
    env = Environment()
    busy = env.function(echo, reserved_concurrency=1, duration=10.0, timeout=30)
    invoker = env.event_invoker(busy)
    invoker.invoke({"n": 1})
    second = invoker.invoke({"n": 2}).request_id
    env.drain()
    tries = attempts(env, second)
    assert next(s.outcome for s in tries) is Outcome.THROTTLED
    assert tries[-1].outcome is Outcome.SUCCESS
    [execution] = assert_attempts(env, second, ran=True, count=1)
    assert execution.started_at >= 10.0
    assert execution is tries[-1]
    assert all(not s.ran for s in attempts(env, second, ran=False))


@settings(max_examples=25, deadline=None)
@given(retries=st.integers(0, 2), start=st.integers(0, 3600))
def test_an_events_tries_start_60_then_120_seconds_after_the_last(retries: int, start: int) -> None:
    env = Environment()
    env.run(until=start)
    target = QueueTarget()
    invoker = env.event_invoker(failing, maximum_retry_attempts=retries, on_failure=target)
    request_id = invoker.invoke({}).request_id
    env.drain()
    expected = [start, start + 60, start + 180][: retries + 1]
    assert_attempts(env, request_id, times=expected)
    with pytest.raises(AssertionError):
        assert_attempts(env, request_id, times=[*expected, expected[-1] + 1])


# -- final_outcome / assert_outcome -----------------------------------------------------------


def test_an_events_final_outcome_is_its_fate_and_condition() -> None:
    env = Environment()
    request_id, _ = failed_event(env)
    outcome = final_outcome(env, request_id)
    assert outcome is not None
    assert (outcome.kind, outcome.condition, outcome.at, outcome.tries) == (
        "dropped",
        "RetriesExhausted",
        180.0,
        3,
    )
    assert assert_outcome(env, request_id, "dropped") == outcome
    assert assert_outcome(env, request_id, "RetriesExhausted") == outcome


def test_assert_outcome_fails_with_how_it_really_ended() -> None:
    env = Environment()
    request_id, _ = failed_event(env)
    with pytest.raises(AssertionError) as caught:
        assert_outcome(env, request_id, "Success")
    message = str(caught.value)
    expected = f"{request_id}: expected 'Success', it ended dropped (RetriesExhausted)"
    assert message.startswith(expected)
    assert "carried by 3 tries" in message


def test_a_succeeded_events_condition_is_success() -> None:
    env = Environment()
    request_id = env.event_invoker(echo).invoke({"n": 1}).request_id
    env.drain()
    assert assert_outcome(env, request_id, "Success").kind == "succeeded"


def test_an_item_that_has_not_ended_has_no_final_outcome() -> None:
    env = Environment()
    request_id, _ = failed_event(env)
    history_only = env.history
    # A bare history holds the tries, not an event's fate.
    assert final_outcome(history_only, request_id) is None
    with pytest.raises(AssertionError, match="it has not ended"):
        assert_outcome(history_only, request_id, "dropped")
    pending = env.event_invoker(failing)
    late = pending.invoke({}).request_id
    env.run_for(1)
    assert final_outcome(env, late) is None


def test_a_synchronous_calls_outcome_is_read_from_its_span() -> None:
    history = History()
    invoker = RequestResponseInvoker(
        Function("f", failing), scheduler=Scheduler(), seed=1, history=history
    )
    response = invoker.invoke({"x": 1})
    outcome = assert_outcome(history, response, "FunctionError")
    assert outcome.condition == "ValueError"
    assert assert_outcome(Timeline.from_history(history), response, "ValueError") == outcome


def test_sqs_messages_end_deleted_or_in_the_dead_letter_queue() -> None:
    env = Environment()
    dlq = env.queue("orders-dlq")
    queue = env.queue(
        "orders", redrive_policy=RedrivePolicy(dead_letter_target=dlq, max_receive_count=2)
    )

    def handler(event: Any, context: Any) -> None:
        if any(r["body"] == "bad" for r in event["Records"]):
            raise ValueError("bad order")

    env.sqs_mapping(queue, handler, batch_size=1)
    good = queue.send_message("good")
    bad = queue.send_message("bad")
    env.drain()
    assert assert_outcome(env, good, "processed").kind == "deleted"
    assert assert_outcome(env, bad, "moved_to_dlq").tries == 2
    assert_attempts(env, bad, times=[0, 30], outcomes=["FunctionError"] * 2)
    assert_received(dlq, ["bad"])


def test_a_stream_record_discarded_after_its_retries() -> None:
    env = Environment()
    stream = env.kinesis("orders")

    def handler(event: Any, context: Any) -> None:
        raise ValueError("poison")

    env.stream_mapping(stream, handler, maximum_retry_attempts=1)
    put = stream.put_record("order-1", partition_key="customer-1")
    env.drain()
    outcome = assert_outcome(env, put, "discarded")
    assert outcome.condition == "RetryAttemptsExhausted"
    assert assert_attempts(env, put, count=2) == attempts(env, put["SequenceNumber"])


# -- assert_received --------------------------------------------------------------------------


def test_assert_received_matches_part_of_each_invocation_record() -> None:
    env = Environment()
    request_id, target = failed_event(env)
    records = assert_received(
        target,
        [
            {
                "requestContext": {"condition": "RetriesExhausted", "requestId": request_id},
                "requestPayload": {"order": 1},
                "responsePayload": {"errorType": "ValueError"},
            }
        ],
    )
    assert records == target.records


def test_assert_received_fails_naming_the_first_difference_and_what_was_received() -> None:
    env = Environment()
    _, target = failed_event(env)
    with pytest.raises(AssertionError) as caught:
        assert_received(target, [{"requestContext": {"condition": "Success"}}], where=env)
    message = str(caught.value)
    assert "[0]['requestContext']['condition']: expected 'Success', got 'RetriesExhausted'" in (
        message
    )
    assert "Received:\n  [0] {" in message
    assert "What happened:" in message
    with pytest.raises(AssertionError, match="received 1 items, expected 2"):
        assert_received(target, [{}, {}])
    with pytest.raises(AssertionError, match=r"\['nope'\]: missing"):
        assert_received(target, [{"nope": 1}])


def test_assert_received_in_any_order_and_with_predicates() -> None:
    target = Topic()
    for n in (3, 1, 2):
        target.publish(json.dumps({"n": n}))
    assert_received(target, [{"n": 1}, {"n": 2}, {"n": 3}], ordered=False)
    assert_received(target, [lambda r: r["n"] > 2, {"n": 1}, {"n": 2}])
    with pytest.raises(AssertionError, match="no pairing"):
        assert_received(target, [{"n": 1}, {"n": 1}, {"n": 2}], ordered=False)
    with pytest.raises(AssertionError, match="does not satisfy the predicate"):
        assert_received(target, [lambda r: r["n"] > 5, {"n": 1}, {"n": 2}])


def test_a_message_body_matches_as_text_or_parsed() -> None:
    env = Environment()
    queue = env.queue()
    queue.send_message("plain text")
    queue.send_message('{"a": 1}')
    assert received(queue) == ["plain text", {"a": 1}]
    assert_received(queue, ["plain text", {"a": 1}])
    assert_received(queue, ["plain text", '{"a": 1}'])
    with pytest.raises(AssertionError, match="expected 'other', got 'plain text'"):
        assert_received(queue, ["other", {"a": 1}])


def test_an_event_bus_received_the_records_as_details() -> None:
    env = Environment()
    bus = EventBus()
    request_id = env.event_invoker(echo, on_success=bus).invoke({"n": 1}).request_id
    env.drain()
    assert_received(bus, [{"requestContext": {"condition": "Success", "requestId": request_id}}])


def test_bad_targets_and_expectations_name_the_parameter() -> None:
    with pytest.raises(InvalidParameterValueError, match="target"):
        received(object())
    with pytest.raises(InvalidParameterValueError, match="expected"):
        assert_received(QueueTarget(), {"a": 1})  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterValueError, match="where"):
        attempts(object(), "x")  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterValueError, match="item"):
        attempts(History(), 42)
    with pytest.raises(InvalidParameterValueError, match="expected"):
        assert_outcome(History(), "x", "")


# -- record -----------------------------------------------------------------------------------


def test_record_keeps_each_call_with_its_event_result_error_and_time() -> None:
    env = Environment()
    calls = 0

    def sometimes(event: Any, context: Any) -> Any:
        nonlocal calls
        calls += 1
        event["seen"] = True  # the recorded event is what the handler was given
        if calls == 1:
            raise ValueError("first try fails")
        return {"ok": event["n"]}

    recorded = env.record(sometimes)
    request_id = env.event_invoker(recorded).invoke({"n": 7}).request_id
    env.drain()
    assert len(recorded) == 2
    first, second = recorded.calls
    assert first == Call({"n": 7}, first.context, None, first.error, 0.0)
    assert isinstance(first.error, ValueError)
    assert not first.ok
    assert second.result == {"ok": 7}
    assert second.ok
    assert second.at == 60.0
    assert first.request_id == second.request_id == request_id
    assert recorded.events == [{"n": 7}, {"n": 7}]
    assert recorded.errors == [first.error]
    assert_received(recorded, [{"n": 7}, {"n": 7}])
    assert recorded.__name__ == "sometimes"
    recorded.clear()
    assert list(recorded) == []


def test_a_recorded_batch_handlers_records() -> None:
    env = Environment()
    queue = env.queue()
    recorded = record(echo)
    env.sqs_mapping(queue, recorded, batch_size=2)
    for body in ("a", "b", "c"):
        queue.send_message(body)
    env.drain()
    assert [r["body"] for r in recorded.records] == ["a", "b", "c"]
    assert recorded.calls[0].at is None  # no clock given
    assert isinstance(recorded, Recording)


def test_record_refuses_what_is_not_a_handler() -> None:
    with pytest.raises(InvalidParameterValueError, match="handler"):
        record("not callable")  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterValueError, match="clock"):
        record(echo, clock=object())


def test_a_recording_of_a_recording_keeps_its_own_calls() -> None:
    inner = record(echo)
    outer = record(inner)
    assert outer({"a": 1}, None) == {"a": 1}
    assert outer.calls is not inner.calls
    assert len(outer) == len(inner) == 1
    assert outer.__wrapped__ is inner  # type: ignore[attr-defined]


json_leaves = st.none() | st.booleans() | st.integers() | st.text(max_size=5)
json_values = st.recursive(
    json_leaves,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=10,
)


def _part(value: Any, data: st.DataObject) -> Any:
    """A part of ``value`` that must match it: some keys of each mapping, recursively."""
    if isinstance(value, dict):
        keys = data.draw(st.lists(st.sampled_from(sorted(value)), unique=True)) if value else []
        return {key: _part(value[key], data) for key in keys}
    if isinstance(value, list):
        return [_part(item, data) for item in value]
    return value


@settings(max_examples=100, deadline=None)
@given(
    records=st.lists(st.dictionaries(st.text(max_size=3), json_values, max_size=4), max_size=4),
    data=st.data(),
)
def test_any_part_of_what_was_received_matches_and_a_changed_leaf_does_not(
    records: list[dict[str, Any]], data: st.DataObject
) -> None:
    target = QueueTarget()
    for value in records:
        target.send_message(json.dumps(value))
    assert assert_received(target, records) == records
    assert_received(target, [_part(value, data) for value in records])
    assert_received(target, list(reversed(records)), ordered=False)
    leafy = [
        i
        for i, value in enumerate(records)
        if value and any(not isinstance(v, (dict, list)) for v in value.values())
    ]
    if leafy:
        index = data.draw(st.sampled_from(leafy))
        key = data.draw(
            st.sampled_from(
                sorted(k for k, v in records[index].items() if not isinstance(v, (dict, list)))
            )
        )
        changed = [dict(value) for value in records]
        changed[index][key] = ["not", "a", "leaf"]
        with pytest.raises(AssertionError, match=f"\\[{index}\\]"):
            assert_received(target, changed)
