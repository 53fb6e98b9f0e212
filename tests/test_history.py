"""One history for every model: a Span per try, one switch, one query API."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from invokemodels import (
    EventInvoker,
    Function,
    History,
    KinesisStream,
    LambdaClient,
    LegacyRetry,
    Outcome,
    Queue,
    RequestResponseInvoker,
    Scheduler,
    Span,
    SQSMappingConfig,
    StreamMappingConfig,
)
from invokemodels.core import Model
from invokemodels.exceptions import (
    InvalidParameterValueError,
    ReadTimeoutError,
    TooManyRequestsError,
)


def failing_when(event: Any, context: Any) -> Any:
    records = event.get("Records", []) if isinstance(event, dict) else []
    if (isinstance(event, dict) and event.get("fail")) or any(
        json.loads(record["body"]).get("fail") for record in records
    ):
        raise ValueError("bad")
    return "ok"


def shared_run(history: History) -> dict[str, Any]:
    """A sync invoker, an Event invoker and an SQS mapping on one scheduler and one history."""
    sched = Scheduler()
    fn = Function(name="orders", handler=failing_when, duration=1.0)
    sync = RequestResponseInvoker(fn, scheduler=sched, seed=1, history=history)
    events = EventInvoker(fn, scheduler=sched, seed=2, history=history)
    queue = Queue("orders", scheduler=sched, seed=3, visibility_timeout=5)
    mapping = queue.map_to(fn, seed=4, history=history)
    responses = [sync.invoke({}).payload]
    event_id = events.invoke({"fail": True}).request_id
    ok_event = events.invoke({}).request_id
    bad_message = queue.send_message(json.dumps({"fail": True})).message_id
    sched.at(2.0, lambda: responses.append(sync.invoke({"fail": True}).payload))
    sched.run(until=400.0)
    mapping.disable()
    sched.run_until_idle()
    return {
        "event_id": event_id,
        "ok_event": ok_event,
        "message_id": bad_message,
        "responses": responses,
        "outcomes": [(o.request_id, o.condition, o.ended_at) for o in events.outcomes],
        "metrics": events.metrics.as_dict(),
        "mapping": (mapping.invocations, mapping.function_errors, mapping.throttles),
        "fate": queue.fate(bad_message),
        "now": sched.now,
    }


def test_one_history_shared_by_three_models_is_one_time_ordered_timeline() -> None:
    history = History()
    run = shared_run(history)
    spans = list(history)
    assert {span.model for span in spans} == {
        Model.REQUEST_RESPONSE,
        Model.EVENT,
        Model.EVENT_SOURCE_MAPPING,
    }
    starts = [span.started_at for span in spans]
    assert starts == sorted(starts)
    assert all(span.function == "orders" for span in spans)
    sync = history.where(model=Model.REQUEST_RESPONSE)
    assert [(s.started_at, s.outcome, s.status_code, s.error_type) for s in sync] == [
        (0.0, Outcome.SUCCESS, 200, None),
        (2.0, Outcome.FUNCTION_ERROR, 200, "ValueError"),
    ]
    # The event: three executions, 60 s then 120 s after each failed attempt ended.
    tries = history.of(run["event_id"])
    assert [(s.attempt, s.execution, s.started_at) for s in tries] == [
        (1, 1, 1.0),
        (2, 2, 62.0),
        (3, 3, 183.0),
    ]
    assert all(s.model is Model.EVENT and s.carried == (run["event_id"],) for s in tries)
    assert [s.outcome for s in history.of(run["ok_event"])] == [Outcome.SUCCESS]
    assert history.counts()[Outcome.FUNCTION_ERROR] == len(
        history.where(outcome=Outcome.FUNCTION_ERROR)
    )
    assert sum(history.counts().values()) == len(history) == len(spans)


def test_of_finds_an_event_id_a_message_id_and_a_sequence_number() -> None:
    history = History()
    run = shared_run(history)
    batches = history.of(run["message_id"])
    # The message fails every receive; each batch carried it, one receive after another.
    assert batches
    assert all(b.model is Model.EVENT_SOURCE_MAPPING for b in batches)
    assert all(b.carried == (run["message_id"],) and b.size == 1 for b in batches)
    assert [b.attempt for b in batches] == list(range(1, len(batches) + 1))
    assert all(b.outcome is Outcome.FUNCTION_ERROR for b in batches)
    assert history.of(batches[0].request_id) == [batches[0]]
    assert history.of("no such id") == []

    sched = Scheduler()
    stream = KinesisStream("s", shard_count=1, scheduler=sched)
    stream_history = History()
    fn = Function(name="consumer", handler=lambda e, c: None)
    config = StreamMappingConfig(starting_position="TRIM_HORIZON", batch_size=2)
    stream.map_to(fn, config, seed=1, history=stream_history)
    numbers = [stream.put_record(f"r{i}", "k")["SequenceNumber"] for i in range(3)]
    sched.run(until=10.0)
    [first] = stream_history.of(numbers[0])
    assert first.carried == tuple(numbers[:2])
    assert first.lane is not None
    assert first.size == 2
    assert stream_history.of(numbers[1]) == [first]
    assert [s.carried for s in stream_history.of(numbers[2])] == [(numbers[2],)]


def test_a_partial_batch_response_names_the_failed_ids() -> None:
    sched = Scheduler()
    queue = Queue("q", scheduler=sched, seed=1)
    ids = [queue.send_message(json.dumps({"n": n})).message_id for n in range(3)]

    def handler(event: Any, context: Any) -> Any:
        failed = [r["messageId"] for r in event["Records"] if json.loads(r["body"])["n"] == 1]
        return {"batchItemFailures": [{"itemIdentifier": i} for i in failed]}

    history = History()
    config = SQSMappingConfig(batch_size=10, function_response_types=["ReportBatchItemFailures"])
    queue.map_to(Function(name="f", handler=handler), config, seed=2, history=history)
    sched.run(until=1.0)
    first = history[0]
    assert (first.outcome, set(first.carried), first.failed) == (
        Outcome.SUCCESS,
        set(ids),
        (ids[1],),
    )


def test_history_off_keeps_nothing_and_changes_no_outcome() -> None:
    kept, dropped = History(), History(keep=False)
    assert shared_run(kept) == shared_run(dropped)
    assert len(kept) > 0
    assert (len(dropped), list(dropped), dropped.of("x"), dropped.where()) == (0, [], [], [])
    assert set(dropped.counts().values()) == {0}
    dropped.record(kept[0])
    dropped.defer(lambda: kept[0])
    assert len(dropped) == 0
    assert repr(dropped) == "<History spans=0 keep=False>"


def test_history_is_checked_and_a_span_is_plain_data() -> None:
    with pytest.raises(InvalidParameterValueError, match="keep"):
        History(keep="no")  # type: ignore[arg-type]
    fn = Function(name="f", handler=lambda e, c: None)
    with pytest.raises(InvalidParameterValueError, match="history"):
        RequestResponseInvoker(fn, history=[])  # type: ignore[arg-type]
    span = Span(Model.EVENT, "f", "r", 1, None, 0.0, 4.0, 4.0, Outcome.THROTTLED, "Reason")
    assert (span.ran, span.dwell_time, span.duration, span.carried) == (False, 4.0, 0.0, ())
    with pytest.raises(AttributeError):
        span.outcome = Outcome.SUCCESS  # type: ignore[misc]
    history = History()
    history.record(span)
    assert history.spans() == [span]
    assert history.where(ran=False) == [span]
    history.clear()
    assert len(history) == 0


def test_refused_and_dry_run_calls_are_spans_too() -> None:
    fn = Function(name="f", handler=lambda e, c: None, reserved_concurrency=0)
    invoker = RequestResponseInvoker(fn, seed=1)
    invoker.invoke({}, invocation_type="DryRun")
    with pytest.raises(TooManyRequestsError):
        invoker.invoke({})
    dry, throttled = invoker.history
    assert (dry.model, dry.outcome, dry.status_code, dry.ran) == (
        Model.DRY_RUN,
        Outcome.DRY_RUN,
        204,
        False,
    )
    assert (throttled.outcome, throttled.status_code, throttled.error_type) == (
        Outcome.THROTTLED,
        429,
        "ReservedFunctionConcurrentInvocationLimitExceeded",
    )


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(min_value=0, max_value=2**16),
    events=st.integers(min_value=1, max_value=12),
    messages=st.integers(min_value=0, max_value=12),
    reserved=st.sampled_from([None, 1, 2]),
    p_fail=st.sampled_from([0.0, 0.3, 1.0]),
    service_errors=st.sampled_from([0.0, 0.2]),
)
def test_every_try_of_every_model_appears_exactly_once(
    seed: int,
    events: int,
    messages: int,
    reserved: int | None,
    p_fail: float,
    service_errors: float,
) -> None:
    sched = Scheduler()
    history = History()
    rng = random.Random(seed)

    def handler(event: Any, context: Any) -> Any:
        context.spend(rng.choice([0.5, 3.0]))
        if rng.random() < p_fail:
            raise ValueError("bad")
        return None

    fn = Function(name="f", handler=handler, reserved_concurrency=reserved, timeout=10)
    invoker = EventInvoker(
        fn,
        scheduler=sched,
        seed=seed,
        history=history,
        service_error_probability=service_errors,
        invoke_rate_factor=None,
    )
    queue = Queue("q", scheduler=sched, seed=seed + 1, visibility_timeout=20)
    mapping = queue.map_to(fn, SQSMappingConfig(batch_size=3), seed=seed + 2, history=history)
    ids = [invoker.invoke({"n": n}).request_id for n in range(events)]
    for n in range(messages):
        sched.at(n * 0.7, queue.send_message, json.dumps({"n": n}))
    sched.run(until=2000.0)
    mapping.disable()
    sched.run_until_idle()

    metrics = invoker.metrics
    event_spans = history.where(model=Model.EVENT)
    assert len(history.where(model=Model.EVENT, ran=True)) == metrics.invocations
    assert len(history.where(model=Model.EVENT, outcome=Outcome.THROTTLED)) == metrics.throttles
    assert (
        len(history.where(model=Model.EVENT, outcome=Outcome.SERVICE_ERROR))
        == metrics.service_errors
    )
    assert len(event_spans) == metrics.invocations + metrics.throttles + metrics.service_errors
    for request_id in ids:
        tries = history.of(request_id)
        assert [s.attempt for s in tries] == list(range(1, len(tries) + 1))
        executions = [s for s in tries if s.ran]
        assert len(executions) == invoker.outcome(request_id).approximate_invoke_count
        assert [s.execution for s in executions] == list(range(1, len(executions) + 1))
    batch_spans = history.where(model=Model.EVENT_SOURCE_MAPPING)
    assert len(batch_spans) == mapping.invocations + mapping.throttles
    assert len(history.where(model=Model.EVENT_SOURCE_MAPPING, ran=True)) == mapping.invocations
    assert (
        len(history.where(model=Model.EVENT_SOURCE_MAPPING, outcome=Outcome.FUNCTION_ERROR))
        == mapping.function_errors
    )
    assert len({s.request_id for s in batch_spans}) == len(batch_spans)
    assert len(history) == len(event_spans) + len(batch_spans)
    starts = [s.started_at for s in history]
    assert starts == sorted(starts)


def test_a_client_attempt_references_the_span_lambda_ran() -> None:
    fn = Function(name="slow", handler=lambda e, c: c.spend(90), timeout=300)
    invoker = RequestResponseInvoker(fn, seed=1)
    client = LambdaClient(invoker, retry=LegacyRetry(total_max_attempts=2), read_timeout=60.0)
    with pytest.raises(ReadTimeoutError):
        client.invoke({})
    assert [a.span for a in client.attempts] == list(invoker.history)
    first = client.attempts[0]
    assert first.span is not None
    assert (first.outcome, first.answered_at, first.span.ended_at) == (
        "ReadTimeoutError",
        60.0,
        90.0,
    )
