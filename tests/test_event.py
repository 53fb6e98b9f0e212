"""The asynchronous (Event) model: timelines, records, destinations, DLQ, validation."""

from __future__ import annotations

import datetime as dt
import json
import random
import re
from typing import Any

import attrs
import pytest

from invokemodels import (
    Account,
    Bucket,
    Decision,
    EventBus,
    EventInvokeConfig,
    EventInvoker,
    EventOutcomeKind,
    EventRetryPolicy,
    Failure,
    FailureKind,
    Function,
    FunctionErrorRetries,
    Queue,
    QueueTarget,
    Scheduler,
    ThrottleBackoff,
    Topic,
)
from invokemodels.core import EVENT_PAYLOAD_LIMIT, LEGACY_EVENT_PAYLOAD_LIMIT, History, Outcome
from invokemodels.event import (
    AttemptHandle,
    EventOutcome,
    FunctionTarget,
    InMemoryServiceQueue,
    invocation_record,
)
from invokemodels.exceptions import (
    InvalidParameterValueError,
    InvalidRequestContentError,
    RequestEntityTooLargeError,
    TooManyRequestsError,
)

ARN = "arn:aws:lambda:us-east-1:123456789012:function:orders:$LATEST"
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


class Script:
    """A handler that follows a script of outcomes ("ok" or "fail"), then succeeds."""

    def __init__(self, *outcomes: str, spend: float = 0.0) -> None:
        self.outcomes = list(outcomes)
        self.spend = spend
        self.calls: list[tuple[float, str, Any]] = []

    def __call__(self, event: Any, context: Any) -> Any:
        self.calls.append((context._clock.now(), context.aws_request_id, event))
        if self.spend:
            context.spend(self.spend)
        outcome = self.outcomes.pop(0) if self.outcomes else "ok"
        if outcome == "fail":
            raise RuntimeError(f"failure {len(self.calls)}")
        return {"handled": event}


def always_fail(event: Any, context: Any) -> Any:
    raise ValueError("Test exception (this is intentional)")


def make(handler: Any, **kwargs: Any) -> tuple[Function, EventInvoker]:
    fn_kwargs = {
        k: kwargs.pop(k) for k in ("reserved_concurrency", "duration", "timeout") if k in kwargs
    }
    fn = Function(name="orders", handler=handler, **fn_kwargs)
    return fn, EventInvoker(fn, seed=kwargs.pop("seed", 7), **kwargs)


def timeline(
    invoker: EventInvoker, request_id: str, *, throttles: bool = False
) -> list[tuple[float, str]]:
    return [
        (a.started_at, a.outcome.value)
        for a in invoker.history.where(item=request_id, ran=None if throttles else True)
    ]


# -- acceptance ---------------------------------------------------------------------------------


def test_invoke_returns_202_at_once_and_nothing_runs_until_the_scheduler_does() -> None:
    handler = Script()
    _, invoker = make(handler)
    response = invoker.invoke({"order": 1})
    assert response.status_code == 202
    assert response.payload == b""
    assert response.to_dict() == {"StatusCode": 202}
    assert UUID.match(response.request_id)
    assert handler.calls == []
    assert invoker.pending == 1
    with pytest.raises(KeyError, match="no outcome yet"):
        invoker.outcome(response.request_id)
    invoker.scheduler.run_until_idle()
    assert handler.calls == [(0.0, response.request_id, {"order": 1})]
    assert invoker.pending == 0
    assert invoker.outcome(response.request_id).succeeded


def test_payload_over_the_event_limit_is_refused_with_aws_message() -> None:
    _, invoker = make(Script())
    at_limit = "x" * (EVENT_PAYLOAD_LIMIT - 2)  # the JSON string adds two quotes
    invoker.invoke(at_limit)
    with pytest.raises(RequestEntityTooLargeError) as info:
        invoker.invoke("x" * (EVENT_PAYLOAD_LIMIT - 1))
    assert info.value.message == (
        "1048577 byte payload is too large for the Event invocation type (limit 1048576 bytes)"
    )
    assert info.value.status_code == 413
    assert info.value.code == "RequestEntityTooLargeException"
    assert invoker.metrics.async_events_received == 1
    assert invoker.pending == 1


def test_legacy_limit_is_selectable() -> None:
    fn = Function(name="orders", handler=Script())
    invoker = EventInvoker(fn, payload_limit=LEGACY_EVENT_PAYLOAD_LIMIT)
    with pytest.raises(RequestEntityTooLargeError, match=r"\(limit 262144 bytes\)$"):
        invoker.invoke(b'"' + b"y" * 262_143 + b'"')
    with pytest.raises(InvalidParameterValueError, match="payload_limit=1000 is invalid"):
        EventInvoker(fn, payload_limit=1000)


def test_bad_json_is_refused_and_not_queued() -> None:
    _, invoker = make(Script())
    with pytest.raises(InvalidRequestContentError):
        invoker.invoke(b"{not json")
    assert invoker.pending == 0
    assert invoker.metrics.async_events_received == 0


def test_acceptance_throttle_is_the_invoke_rate_limit() -> None:
    fn = Function(name="orders", handler=Script(), reserved_concurrency=1)
    invoker = EventInvoker(fn)
    for _ in range(10):
        invoker.invoke({})
    with pytest.raises(TooManyRequestsError) as info:
        invoker.invoke({})
    assert info.value.reason == "ReservedFunctionInvocationRateLimitExceeded"
    assert info.value.status_code == 429
    assert invoker.metrics.async_events_received == 10
    invoker.scheduler.run(until=1.0)
    invoker.invoke({})  # a new second, a new allowance
    assert invoker.metrics.async_events_received == 11

    account = Account(concurrency_limit=100)
    shared = Function(name="shared", handler=Script(), account=account)
    unreserved = EventInvoker(shared, invoke_rate_factor=0.05)
    for _ in range(5):
        unreserved.invoke({})
    with pytest.raises(TooManyRequestsError) as info:
        unreserved.invoke({})
    assert info.value.reason == "FunctionInvocationRateLimitExceeded"
    unlimited = EventInvoker(fn, invoke_rate_factor=None)
    for _ in range(50):
        unlimited.invoke({})
    assert unlimited.pending == 50


# -- retries ------------------------------------------------------------------------------------


def test_function_errors_are_retried_after_60_then_120_seconds() -> None:
    handler = Script("fail", "fail", "fail")
    _, invoker = make(handler)
    rid = invoker.invoke({"order": 1}).request_id
    invoker.scheduler.run_until_idle()
    assert timeline(invoker, rid) == [
        (0.0, "FunctionError"),
        (60.0, "FunctionError"),
        (180.0, "FunctionError"),
    ]
    outcome = invoker.outcome(rid)
    assert outcome.kind is EventOutcomeKind.RETRIES_EXHAUSTED
    assert outcome.condition == "RetriesExhausted"
    assert outcome.approximate_invoke_count == 3
    assert outcome.ended_at == 180.0
    assert {call[1] for call in handler.calls} == {rid}  # one request id for every attempt


def test_fails_twice_then_succeeds() -> None:
    handler = Script("fail", "fail")
    _, invoker = make(handler)
    rid = invoker.invoke({"order": 2}).request_id
    invoker.scheduler.run_until_idle()
    assert timeline(invoker, rid) == [
        (0.0, "FunctionError"),
        (60.0, "FunctionError"),
        (180.0, "Success"),
    ]
    assert invoker.outcome(rid).condition == "Success"
    assert invoker.outcome(rid).approximate_invoke_count == 3


@pytest.mark.parametrize(
    ("retries", "starts"), [(0, [0.0]), (1, [0.0, 60.0]), (2, [0.0, 60.0, 180.0])]
)
def test_maximum_retry_attempts(retries: int, starts: list[float]) -> None:
    _, invoker = make(always_fail, config=EventInvokeConfig(maximum_retry_attempts=retries))
    rid = invoker.invoke({}).request_id
    invoker.scheduler.run_until_idle()
    assert [a.started_at for a in invoker.history.where(item=rid, ran=True)] == starts
    assert invoker.outcome(rid).condition == "RetriesExhausted"


@pytest.mark.parametrize(
    ("age", "count", "ended"), [(60, 1, 0.0), (90, 2, 60.0), (180, 2, 60.0), (181, 3, 180.0)]
)
def test_age_rule_looks_ahead_at_the_next_attempt(age: int, count: int, ended: float) -> None:
    # AWS recorded: max age 60 -> one invocation, 90 -> two (reference 3.3).
    _, invoker = make(always_fail, config=EventInvokeConfig(maximum_event_age=age))
    rid = invoker.invoke({}).request_id
    invoker.scheduler.run_until_idle()
    outcome = invoker.outcome(rid)
    assert outcome.approximate_invoke_count == count
    assert outcome.ended_at == ended
    expected = "RetriesExhausted" if age == 181 else "EventAgeExceeded"
    assert outcome.condition == expected


def test_delays_count_from_the_end_of_the_failed_attempt() -> None:
    handler = Script("fail", "fail", "fail", spend=10.0)
    _, invoker = make(handler, timeout=30)
    rid = invoker.invoke({}).request_id
    invoker.scheduler.run_until_idle()
    assert [(a.started_at, a.ended_at) for a in invoker.history.where(item=rid, ran=True)] == [
        (0.0, 10.0),
        (70.0, 80.0),
        (200.0, 210.0),
    ]


def test_timeouts_are_function_errors_and_are_retried() -> None:
    _, invoker = make(Script(spend=5.0), timeout=1)
    rid = invoker.invoke({}).request_id
    invoker.scheduler.run_until_idle()
    attempts = invoker.history.where(item=rid, ran=True)
    assert [(a.started_at, a.error_type) for a in attempts] == [
        (0.0, "Sandbox.Timedout"),
        (61.0, "Sandbox.Timedout"),
        (182.0, "Sandbox.Timedout"),
    ]
    record = invoker.outcome(rid).record()
    assert record["responsePayload"] == {
        "errorType": "Sandbox.Timedout",
        "errorMessage": f"RequestId: {rid} Error: Task timed out after 1.00 seconds",
    }


def test_jitter_is_configurable_and_seeded() -> None:
    policy = FunctionErrorRetries(delays=(dt.timedelta(seconds=30), 45.0), jitter=5.0)
    fn = Function(name="orders", handler=always_fail)
    starts = []
    for _ in range(2):
        invoker = EventInvoker(fn, retry_policy=EventRetryPolicy(function_errors=policy), seed=3)
        rid = invoker.invoke({}).request_id
        invoker.scheduler.run_until_idle()
        starts.append([a.started_at for a in invoker.history.where(item=rid, ran=True)])
    assert starts[0] == starts[1]
    first, second = starts[0][1], starts[0][2] - starts[0][1]
    assert 30.0 <= first <= 35.0
    assert 45.0 <= second <= 50.0
    assert (first, second) != (30.0, 45.0)


# -- concurrency and throttles ------------------------------------------------------------------


def test_throttled_events_back_off_without_using_the_retry_budget() -> None:
    blocker = Script(spend=10.0)
    failing = Script("fail", "fail", "fail")

    def handler(event: Any, context: Any) -> Any:
        return (blocker if event["who"] == "blocker" else failing)(event, context)

    _, invoker = make(handler, reserved_concurrency=1, timeout=30)
    invoker.invoke({"who": "blocker"})
    rid = invoker.invoke({"who": "failing"}).request_id
    invoker.scheduler.run_until_idle()
    # 0 -> 10 s the blocker holds the only slot: throttled at 0, 1, 3 and 7 (1, 2, 4, 8 s).
    assert timeline(invoker, rid, throttles=True) == [
        (0.0, "Throttled"),
        (1.0, "Throttled"),
        (3.0, "Throttled"),
        (7.0, "Throttled"),
        (15.0, "FunctionError"),
        (75.0, "FunctionError"),
        (195.0, "FunctionError"),
    ]
    tries = invoker.history.of(rid)
    assert [a.execution for a in tries] == [None, None, None, None, 1, 2, 3]
    assert tries[0].error_type == "ReservedFunctionConcurrentInvocationLimitExceeded"
    assert tries[4].dwell_time == 15.0
    outcome = invoker.outcome(rid)
    assert (outcome.condition, outcome.approximate_invoke_count) == ("RetriesExhausted", 3)
    assert invoker.metrics.throttles == 4
    assert invoker.metrics.async_event_age_max == 195.0


def test_throttle_backoff_doubles_to_a_300_second_cap() -> None:
    backoff = ThrottleBackoff()
    assert [backoff.delay(n) for n in range(1, 12)] == [
        1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300,
    ]  # fmt: skip
    assert backoff.delay(10_000) == 300.0
    constant = ThrottleBackoff(initial=5, factor=1)
    assert [constant.delay(n) for n in (1, 64, 65, 10_000)] == [5, 5, 5, 5]
    gentle = ThrottleBackoff(factor=1.05)
    assert gentle.delay(65) == pytest.approx(1.05**64)  # not the cap: 22.7 s is below it
    slower = ThrottleBackoff(initial=2, factor=3, cap=100)
    assert [slower.delay(n) for n in range(1, 6)] == [2, 6, 18, 54, 100]
    jittered = ThrottleBackoff(jitter=0.5)
    failure = Failure(attempt=1, kind=FailureKind.THROTTLE, kind_count=4)
    delay = jittered.decide(failure, random.Random(1)).delay
    assert delay is not None
    assert 8.0 <= delay <= 12.0


def test_events_throttled_until_they_age_out_have_no_response_in_their_record() -> None:
    blocker = Script(spend=600.0)

    def handler(event: Any, context: Any) -> Any:
        return blocker(event, context)

    failures = QueueTarget()
    dlq = QueueTarget(name="dlq")
    _, invoker = make(
        handler,
        reserved_concurrency=1,
        timeout=900,
        config=EventInvokeConfig(maximum_event_age=60, on_failure=failures),
        dead_letter=dlq,
    )
    invoker.invoke({"first": True})
    rid = invoker.invoke({"second": True}).request_id
    invoker.scheduler.run_until_idle()
    # Throttled at 0, 1, 3, 7, 15, 31; the next try (31 + 32 = 63) would be past 60 s.
    assert [a.started_at for a in invoker.history.of(rid)] == [
        0.0, 1.0, 3.0, 7.0, 15.0, 31.0,
    ]  # fmt: skip
    outcome = invoker.outcome(rid)
    assert (outcome.kind, outcome.ended_at) == (EventOutcomeKind.EVENT_AGE_EXCEEDED, 31.0)
    record = failures.records[0]
    assert list(record) == ["version", "timestamp", "requestContext", "requestPayload"]
    assert record["requestContext"] == {
        "requestId": rid,
        "functionArn": ARN,
        "condition": "EventAgeExceeded",
        "approximateInvokeCount": 0,
    }
    assert dlq.messages[0].attributes["ErrorCode"] == {"DataType": "Number", "StringValue": "429"}
    assert dlq.messages[0].attributes["ErrorMessage"]["StringValue"] == "Rate Exceeded."


def test_max_in_flight_makes_events_wait_without_throttles() -> None:
    handler = Script(spend=5.0)
    _, invoker = make(handler, max_in_flight=1, timeout=10)
    ids = [invoker.invoke({"n": n}).request_id for n in range(3)]
    invoker.scheduler.run_until_idle()
    assert [[(a.started_at, a.dwell_time) for a in invoker.history.of(rid)] for rid in ids] == [
        [(0.0, 0.0)],
        [(5.0, 5.0)],
        [(10.0, 10.0)],
    ]
    assert invoker.metrics.throttles == 0
    assert invoker.metrics.async_event_age_average == 5.0


def test_an_event_waiting_past_its_age_ends_without_running() -> None:
    handler = Script(spend=100.0)
    _, invoker = make(
        handler, max_in_flight=1, timeout=200, config=EventInvokeConfig(maximum_event_age=60)
    )
    invoker.invoke({})
    rid = invoker.invoke({}).request_id
    invoker.scheduler.run_until_idle()
    outcome = invoker.outcome(rid)
    assert (outcome.condition, outcome.approximate_invoke_count, outcome.ended_at) == (
        "EventAgeExceeded",
        0,
        100.0,
    )
    assert len(handler.calls) == 1


def test_reserved_concurrency_zero_goes_straight_to_the_dlq_and_on_failure() -> None:
    handler = Script()
    failures = QueueTarget()
    dlq = Topic(name="dlq")
    _, invoker = make(
        handler,
        reserved_concurrency=0,
        config=EventInvokeConfig(on_failure=failures),
        dead_letter=dlq,
    )
    rid = invoker.invoke({"order": 3}).request_id
    invoker.scheduler.run_until_idle()
    assert handler.calls == []
    outcome = invoker.outcome(rid)
    assert outcome.kind is EventOutcomeKind.ZERO_CONCURRENCY
    assert outcome.condition == "RetriesExhausted"
    assert invoker.history.of(rid) == []
    assert failures.records[0]["requestContext"]["approximateInvokeCount"] == 0
    assert dlq.messages[0].body == '{"order": 3}'
    assert dlq.messages[0].attributes["ErrorCode"]["StringValue"] == "429"
    assert invoker.metrics.async_events_dropped == 1
    assert invoker.metrics.invocations == 0

    fn = Function(name="zero", handler=handler, reserved_concurrency=0)
    other = EventInvoker(fn, zero_concurrency_condition="EventAgeExceeded")
    rid = other.invoke({}).request_id
    other.scheduler.run_until_idle()
    assert other.outcome(rid).condition == "EventAgeExceeded"


def test_injected_system_errors_back_off_like_throttles() -> None:
    dlq = QueueTarget(name="dlq")
    _, invoker = make(
        Script(),
        service_error_probability=1.0,
        config=EventInvokeConfig(maximum_event_age=60),
        dead_letter=dlq,
    )
    rid = invoker.invoke({}).request_id
    invoker.scheduler.run_until_idle()
    assert timeline(invoker, rid, throttles=True) == [
        (0.0, "ServiceError"),
        (1.0, "ServiceError"),
        (3.0, "ServiceError"),
        (7.0, "ServiceError"),
        (15.0, "ServiceError"),
        (31.0, "ServiceError"),
    ]
    assert invoker.outcome(rid).condition == "EventAgeExceeded"
    assert dlq.messages[0].attributes["ErrorCode"]["StringValue"] == "500"
    assert invoker.metrics.service_errors == 6


# -- records and destinations ---------------------------------------------------------------------


def test_failure_record_key_for_key() -> None:
    failures = QueueTarget()
    _, invoker = make(always_fail, config=EventInvokeConfig(on_failure=failures))
    rid = invoker.invoke({"ORDER_IDS": ["a", "b"]}).request_id
    invoker.scheduler.run_until_idle()
    (record,) = failures.records
    assert list(record) == [
        "version",
        "timestamp",
        "requestContext",
        "requestPayload",
        "responseContext",
        "responsePayload",
    ]
    assert record["version"] == "1.0"
    assert record["timestamp"] == "2023-11-14T22:16:20.000Z"  # virtual 180 s
    assert record["requestContext"] == {
        "requestId": rid,
        "functionArn": ARN,
        "condition": "RetriesExhausted",
        "approximateInvokeCount": 3,
    }
    assert record["requestPayload"] == {"ORDER_IDS": ["a", "b"]}
    assert record["responseContext"] == {
        "statusCode": 200,
        "executedVersion": "$LATEST",
        "functionError": "Unhandled",
    }
    payload = record["responsePayload"]
    assert list(payload) == ["errorMessage", "errorType", "requestId", "stackTrace"]
    assert payload["errorMessage"] == "Test exception (this is intentional)"
    assert payload["errorType"] == "ValueError"
    assert invoker.outcome(rid).record() == record


def test_success_record_has_no_function_error() -> None:
    successes = QueueTarget()

    def returns_none(event: Any, context: Any) -> None:
        return None

    _, invoker = make(returns_none, config=EventInvokeConfig(on_success=successes))
    rid = invoker.invoke({}).request_id
    invoker.scheduler.run_until_idle()
    assert successes.records == [
        {
            "version": "1.0",
            "timestamp": "2023-11-14T22:13:20.000Z",
            "requestContext": {
                "requestId": rid,
                "functionArn": ARN,
                "condition": "Success",
                "approximateInvokeCount": 1,
            },
            "requestPayload": {},
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST"},
            "responsePayload": None,
        }
    ]


def test_eventbridge_envelope() -> None:
    bus = EventBus(name="results")
    fn, invoker = make(Script("fail"), config=EventInvokeConfig(on_success=bus, on_failure=bus),
                       seed=1)  # fmt: skip
    invoker.invoke({"n": 1})
    invoker.scheduler.run_until_idle()
    (event,) = bus.events
    assert list(event) == [
        "version", "id", "detail-type", "source", "account", "time", "region", "resources",
        "detail",
    ]  # fmt: skip
    assert event["detail-type"] == "Lambda Function Invocation Result - Success"
    assert event["source"] == "lambda"
    assert event["time"] == "2023-11-14T22:14:20Z"
    assert event["resources"] == [
        "arn:aws:events:us-east-1:123456789012:event-bus/results",
        fn.qualified_arn(),
    ]
    assert event["detail"]["requestContext"]["approximateInvokeCount"] == 2
    assert UUID.match(event["id"])

    failures = EventBus(name="results")
    _, invoker = make(always_fail, config=EventInvokeConfig(on_failure=failures))
    invoker.invoke({})
    invoker.scheduler.run_until_idle()
    (failed,) = failures.events
    assert failed["detail-type"] == "Lambda Function Invocation Result - Failure"
    assert failed["detail"]["requestContext"]["condition"] == "RetriesExhausted"


def test_s3_destination_key_and_only_on_failure() -> None:
    bucket = Bucket()
    _, invoker = make(always_fail, config=EventInvokeConfig(on_failure=bucket))
    invoker.invoke({})
    invoker.scheduler.run_until_idle()
    (key,) = bucket.objects
    assert re.fullmatch(
        r"aws/lambda/async/orders/2023/11/14/2023-11-14T22\.16\.20-[0-9a-f-]{36}", key
    )
    assert json.loads(bucket.objects[key])["requestContext"]["condition"] == "RetriesExhausted"
    with pytest.raises(InvalidParameterValueError) as info:
        EventInvokeConfig(on_success=bucket)
    assert str(info.value) == (
        "DestinationConfig.OnSuccess.Destination='arn:aws:s3:::destination-bucket' is invalid: "
        "S3 buckets are supported only for on-failure destinations"
    )


def test_sns_destination_drops_payloads_past_256_kb() -> None:
    topic = Topic()
    _, invoker = make(always_fail, config=EventInvokeConfig(on_failure=topic))
    invoker.invoke({"blob": "z" * 300_000})
    invoker.invoke({"blob": "small"})
    invoker.scheduler.run_until_idle()
    big, small = topic.records
    assert "requestPayload" not in big
    assert "responsePayload" not in big
    assert big["responseContext"]["functionError"] == "Unhandled"
    assert small["requestPayload"] == {"blob": "small"}


def test_lambda_destination_invokes_another_function_asynchronously() -> None:
    sched = Scheduler()
    seen: list[tuple[float, Any]] = []

    def audit(event: Any, context: Any) -> None:
        seen.append((context._clock.now(), event["requestContext"]["condition"]))

    auditor = EventInvoker(Function(name="audit", handler=audit), scheduler=sched)
    target = FunctionTarget(auditor)
    assert target.arn == "arn:aws:lambda:us-east-1:123456789012:function:audit"
    fn = Function(name="orders", handler=always_fail)
    invoker = EventInvoker(fn, config=EventInvokeConfig(on_failure=target), scheduler=sched, seed=2)
    invoker.invoke({})
    sched.run_until_idle()
    assert seen == [(180.0, "RetriesExhausted")]
    assert target.records[0]["requestContext"]["functionArn"] == ARN
    assert auditor.metrics.async_events_received == 1


def test_a_function_cannot_be_its_own_destination() -> None:
    sched = Scheduler()
    fn = Function(name="orders", handler=always_fail)
    itself = FunctionTarget(EventInvoker(fn, scheduler=sched))
    with pytest.raises(InvalidParameterValueError) as info:
        EventInvoker(fn, config=EventInvokeConfig(on_failure=itself), scheduler=sched)
    assert info.value.parameter == "DestinationConfig.OnFailure.Destination"
    assert "You can't specify the function as a direct destination for itself." in str(info.value)


def test_dead_letter_queue_gets_the_original_event_with_attributes() -> None:
    dlq = QueueTarget(name="dlq")
    failures = QueueTarget()
    _, invoker = make(always_fail, dead_letter=dlq, config=EventInvokeConfig(on_failure=failures))
    rid = invoker.invoke({"raise_error": 1}).request_id
    invoker.scheduler.run_until_idle()
    (message,) = dlq.messages
    assert message.json() == {"raise_error": 1}
    assert message.attributes == {
        "RequestID": {"DataType": "String", "StringValue": rid},
        "ErrorCode": {"DataType": "Number", "StringValue": "200"},
        "ErrorMessage": {
            "DataType": "String",
            "StringValue": "Test exception (this is intentional)",
        },
    }
    assert len(failures.records) == 1  # both the DLQ and the destination receive it


def test_a_lone_surrogate_in_the_error_message_reaches_the_dead_letter_queue() -> None:
    def handler(event: Any, context: Any) -> Any:
        raise ValueError("bad \ud800 byte")

    scheduler = Scheduler()
    dlq = Queue("dlq", scheduler=scheduler)
    failures = Queue("failures", scheduler=scheduler)
    fn = Function(name="orders", handler=handler)
    invoker = EventInvoker(
        fn,
        scheduler=scheduler,
        seed=7,
        dead_letter=dlq,
        config=EventInvokeConfig(maximum_retry_attempts=0, on_failure=failures),
    )
    invoker.invoke({"order": 1})
    scheduler.run_until_idle()
    assert invoker.metrics.dead_letter_errors == 0
    (message,) = dlq.receive_messages()
    assert message.body == '{"order": 1}'
    assert message.message_attributes["ErrorMessage"]["StringValue"] == "bad \ufffd byte"
    # The on-failure record is JSON: the surrogate travels as the escape the runtime wrote.
    (record,) = failures.records
    assert record["responsePayload"]["errorMessage"] == "bad \ud800 byte"


def test_dead_letter_error_message_is_the_first_kilobyte() -> None:
    def long_error(event: Any, context: Any) -> Any:
        raise RuntimeError("é" * 2000)

    dlq = Topic(name="dlq")
    _, invoker = make(
        long_error, dead_letter=dlq, config=EventInvokeConfig(maximum_retry_attempts=0)
    )
    invoker.invoke({})
    invoker.scheduler.run_until_idle()
    text = dlq.messages[0].attributes["ErrorMessage"]["StringValue"]
    assert text == "é" * 512
    assert len(text.encode()) == 1024


def test_dead_letter_must_be_a_standard_queue_or_topic() -> None:
    fn = Function(name="orders", handler=always_fail)
    for target in (Bucket(), QueueTarget(name="dlq.fifo")):
        with pytest.raises(InvalidParameterValueError, match=r"DeadLetterConfig\.TargetArn"):
            EventInvoker(fn, dead_letter=target)  # type: ignore[arg-type]


def test_delivery_failures_are_counted_and_recorded() -> None:
    class Broken:
        arn = "arn:aws:sqs:us-east-1:123456789012:broken"

        def deliver(self, record: dict[str, Any], delivery: Any) -> None:
            raise PermissionError("sqs:SendMessage denied")

    big_dlq = Topic(name="dlq")
    _, invoker = make(
        always_fail,
        config=EventInvokeConfig(on_failure=Broken(), maximum_retry_attempts=0),
        dead_letter=big_dlq,
    )
    rid = invoker.invoke({"blob": "q" * 300_000}).request_id
    invoker.scheduler.run_until_idle()
    outcome = invoker.outcome(rid)
    assert outcome.delivery_errors == (
        "destination: PermissionError: sqs:SendMessage denied",
        "dead-letter: ValueError: message of 300012 bytes is over SNS's 256 KB limit",
    )
    assert invoker.metrics.destination_delivery_failures == 1
    assert invoker.metrics.dead_letter_errors == 1
    assert big_dlq.messages == []


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"maximum_retry_attempts": 3},
            "MaximumRetryAttempts=3 is invalid: must be an integer between 0 and 2",
        ),
        (
            {"maximum_event_age": 59},
            "MaximumEventAgeInSeconds=59 is invalid: must be an integer between 60 and 21600",
        ),
        ({"maximum_event_age": 21601}, "MaximumEventAgeInSeconds=21601 is invalid"),
        ({"on_failure": QueueTarget(name="q.fifo")}, "FIFO queues and topics are not supported"),
        ({"on_success": QueueTarget(name="q" * 340)}, "must be an ARN of at most 350 characters"),
    ],
)
def test_config_validation(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidParameterValueError, match=re.escape(message)):
        EventInvokeConfig(**kwargs)


def test_config_accepts_timedelta_and_unknown_services_are_refused() -> None:
    assert EventInvokeConfig(maximum_event_age=dt.timedelta(hours=1)).maximum_event_age == 3600

    class Odd:
        arn = "arn:aws:kinesis:us-east-1:123456789012:stream/s"

        def deliver(self, record: dict[str, Any], delivery: Any) -> None:
            raise AssertionError

    with pytest.raises(InvalidParameterValueError, match="must be the ARN of an SQS queue"):
        EventInvokeConfig(on_failure=Odd())


def test_policy_validation() -> None:
    with pytest.raises(InvalidParameterValueError, match="delays"):
        FunctionErrorRetries(delays=())
    with pytest.raises(InvalidParameterValueError, match="delays"):
        FunctionErrorRetries(delays=(-1.0,))
    with pytest.raises(InvalidParameterValueError, match="delays"):
        FunctionErrorRetries(delays=5)  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterValueError, match="factor"):
        ThrottleBackoff(factor=0.5)
    with pytest.raises(InvalidParameterValueError, match="function_errors"):
        EventRetryPolicy(function_errors=object())  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterValueError, match="max_in_flight"):
        EventInvoker(Function(name="f", handler=always_fail), max_in_flight=0)
    with pytest.raises(InvalidParameterValueError, match="duplicate_probability"):
        EventInvoker(Function(name="f", handler=always_fail), duplicate_probability=1.5)


@pytest.mark.parametrize(
    ("make", "parameter", "allowed"),
    [
        (lambda: ThrottleBackoff(initial=0, cap=0), "initial", "between 0.001 and 1000000000"),
        (lambda: ThrottleBackoff(initial=0), "initial", "between 0.001 and 1000000000"),
        (lambda: ThrottleBackoff(cap=0), "cap", "between 0.001 and 1000000000"),
        (lambda: ThrottleBackoff(initial=10**400), "initial", "between 0.001 and 1000000000"),
        (lambda: ThrottleBackoff(cap=float("inf")), "cap", "between 0.001 and 1000000000"),
        (lambda: ThrottleBackoff(initial=float("nan")), "initial", "between 0.001"),
        (lambda: FunctionErrorRetries(jitter=10**400), "jitter", "between 0 and 1000000000"),
        (lambda: FunctionErrorRetries(jitter=float("inf")), "jitter", "between 0 and 1000000000"),
        (lambda: FunctionErrorRetries(delays=(60, float("inf"))), "delays", "between 0 and"),
        (lambda: FunctionErrorRetries(delays=(float("nan"),)), "delays", "between 0 and"),
        (
            lambda: EventRetryPolicy(maximum_event_age=float("inf")),
            "MaximumEventAgeInSeconds",
            "between 0 and 1000000000",
        ),
    ],
)
def test_policies_refuse_what_the_model_cannot_run(make: Any, parameter: str, allowed: str) -> None:
    # ThrottleBackoff(initial=0, cap=0) retried a throttle at the same instant forever;
    # an integer past the float range raised OverflowError mid-run and lost the event.
    with pytest.raises(InvalidParameterValueError, match=re.escape(allowed)) as info:
        make()
    assert info.value.parameter == parameter


@pytest.mark.parametrize(
    "policy",
    [
        EventRetryPolicy(function_errors=FunctionErrorRetries(jitter=10**9)),
        EventRetryPolicy(function_errors=FunctionErrorRetries(delays=(10**9,))),
        EventRetryPolicy(
            function_errors=FunctionErrorRetries(delays=(10**9,), jitter=10**9),
            maximum_event_age=None,
        ),
    ],
)
def test_the_largest_function_error_delays_end_the_event_by_its_age(
    policy: EventRetryPolicy,
) -> None:
    invoker = EventInvoker(Function("f", always_fail), retry_policy=policy, seed=1)
    invoker.invoke({})
    invoker.scheduler.run_until_idle(max_steps=100)
    [outcome] = invoker.outcomes
    assert (outcome.kind, outcome.condition) == (
        EventOutcomeKind.EVENT_AGE_EXCEEDED,
        "EventAgeExceeded",
    )
    assert outcome.approximate_invoke_count == 1
    assert invoker.scheduler.now == 0.0


def test_the_largest_throttle_backoff_ends_the_event_by_its_age() -> None:
    backoff = ThrottleBackoff(initial=10**9, factor=1000, cap=10**9, jitter=1)
    invoker = EventInvoker(
        Function("f", always_fail, reserved_concurrency=1),
        retry_policy=EventRetryPolicy(throttles=backoff, maximum_event_age=None),
        seed=1,
    )
    invoker.function.try_acquire()  # the only slot is busy: every try is throttled
    invoker.invoke({})
    invoker.scheduler.run_until_idle(max_steps=100)
    [outcome] = invoker.outcomes
    assert outcome.kind is EventOutcomeKind.EVENT_AGE_EXCEEDED
    assert outcome.approximate_invoke_count == 0
    assert backoff.delay(10**6) == 10**9


# -- policies -----------------------------------------------------------------------------------


def test_event_retry_policy_routes_and_looks_ahead() -> None:
    rng = random.Random(0)
    policy = EventRetryPolicy(maximum_event_age=100)
    error = Failure(attempt=1, kind=FailureKind.FUNCTION_ERROR, kind_count=1, failed_at=10)
    assert policy.decide(error, rng) == Decision.after(60.0)
    late = attrs_evolve(error, failed_at=40)
    assert policy.decide(late, rng) == Decision.stop("EventAgeExceeded")
    third = attrs_evolve(error, kind_count=3)
    assert policy.decide(third, rng) == Decision.stop("RetriesExhausted")
    throttle = Failure(attempt=5, kind=FailureKind.THROTTLE, kind_count=5)
    assert policy.decide(throttle, rng) == Decision.after(16.0)
    invalid = Failure(attempt=1, kind=FailureKind.INVALID_REQUEST)
    assert policy.decide(invalid, rng) == Decision.stop("RetriesExhausted")
    unbounded = EventRetryPolicy(maximum_event_age=None)
    assert unbounded.decide(late, rng) == Decision.after(60.0)
    assert FunctionErrorRetries(delays=(5.0,)).decide(
        attrs_evolve(error, kind_count=2), rng
    ) == Decision.after(5.0)
    assert policy.succeeded is None  # the built-ins are stateless: nothing to call


def attrs_evolve(failure: Failure, **changes: Any) -> Failure:
    import attrs

    return attrs.evolve(failure, **changes)


def test_custom_policies_cannot_break_the_age_rule_or_loop_forever() -> None:
    class Immediately:
        """Retry function errors at once, up to five times; then give up oddly."""

        def decide(self, failure: Failure, rng: random.Random) -> Decision:
            if failure.kind_count > 5:
                return Decision.stop("GaveUp")
            return Decision.after(0.0)

        def succeeded(self, attempts: int) -> None:
            pass

    _, invoker = make(always_fail, retry_policy=Immediately())
    rid = invoker.invoke({}).request_id
    invoker.invoke({})
    invoker.scheduler.run_until_idle()
    assert [a.started_at for a in invoker.history.where(item=rid, ran=True)] == [0.0] * 6
    # The policy's own reason is the condition; the kind says the policy stopped.
    assert invoker.outcome(rid).condition == "GaveUp"
    assert invoker.outcome(rid).kind is EventOutcomeKind.RETRIES_EXHAUSTED

    class Forever:
        def decide(self, failure: Failure, rng: random.Random) -> Decision:
            return Decision.after(86_400.0)

        def succeeded(self, attempts: int) -> None:
            pass

    _, invoker = make(always_fail, retry_policy=Forever())
    rid = invoker.invoke({}).request_id
    invoker.scheduler.run_until_idle()
    outcome = invoker.outcome(rid)
    assert (outcome.condition, outcome.ended_at) == ("EventAgeExceeded", 0.0)


# -- at-least-once, bookkeeping ---------------------------------------------------------------


def test_duplicate_delivery_runs_the_handler_twice_with_one_request_id() -> None:
    handler = Script()
    _, invoker = make(handler, duplicate_probability=1.0)
    rid = invoker.invoke({"order": 9}).request_id
    invoker.scheduler.run_until_idle()
    assert [call[1:] for call in handler.calls] == [(rid, {"order": 9})] * 2
    assert [o.duplicate for o in invoker.outcomes] == [False, True]
    assert invoker.outcome(rid).duplicate is False
    assert invoker.metrics.duplicates == 1
    assert invoker.metrics.async_events_received == 1
    assert invoker.counts()[EventOutcomeKind.SUCCEEDED] == 2


def test_duplicates_are_off_by_default_and_seeded() -> None:
    def run(seed: int) -> list[bool]:
        _, invoker = make(Script(), duplicate_probability=0.5, seed=seed)
        for _ in range(20):
            invoker.invoke({})
        invoker.scheduler.run_until_idle()
        return [o.duplicate for o in invoker.outcomes]

    assert run(5) == run(5)
    assert 0 < sum(run(5)) < 20
    _, plain = make(Script())
    for _ in range(50):
        plain.invoke({})
    plain.scheduler.run_until_idle()
    assert plain.metrics.duplicates == 0
    assert len(plain.outcomes) == 50


def test_without_keep_records_outcomes_are_streamed_not_kept() -> None:
    streamed: list[EventOutcome] = []
    _, invoker = make(
        Script("fail"),
        keep_records=False,
        history=History(keep=False),
        on_outcome=streamed.append,
    )
    rid = invoker.invoke({}).request_id
    invoker.scheduler.run_until_idle()
    assert [(o.request_id, o.condition) for o in streamed] == [(rid, "Success")]
    assert (len(invoker.history), invoker.history.of(rid)) == (0, [])
    assert streamed[0].record()["requestContext"]["approximateInvokeCount"] == 2
    assert invoker.outcomes == []
    with pytest.raises(KeyError, match="not kept"):
        invoker.outcome(rid)
    with pytest.raises(KeyError, match="no such event"):
        make(Script())[1].outcome("nope")


def test_the_history_has_the_tries_of_an_event_still_in_flight() -> None:
    _, invoker = make(always_fail)
    rid = invoker.invoke({}).request_id
    invoker.scheduler.run(until=100.0)
    assert [a.started_at for a in invoker.history.where(item=rid, ran=True)] == [0.0, 60.0]
    assert invoker.pending == 1


def test_cancel_pending_ends_queued_events() -> None:
    _, invoker = make(always_fail)
    rid = invoker.invoke({}).request_id
    invoker.scheduler.run(until=10.0)
    assert invoker.cancel_pending() == [rid]
    assert invoker.outcome(rid).kind is EventOutcomeKind.CANCELLED
    assert invoker.pending == 0
    assert invoker.metrics.async_events_dropped == 0
    assert invoker.scheduler.next_due() is None


def test_metrics_and_reprs() -> None:
    fn, invoker = make(Script("fail"))
    invoker.invoke({})
    assert repr(invoker) == "<EventInvoker orders pending=1 in_flight=0 received=1>"
    invoker.scheduler.run_until_idle()
    assert invoker.metrics.as_dict() == {
        "AsyncEventsReceived": 1,
        "AsyncEventsDropped": 0,
        "AsyncEventAge": 60.0,
        "Invocations": 2,
        "Errors": 1,
        "Throttles": 0,
        "DeadLetterErrors": 0,
        "DestinationDeliveryFailures": 0,
        "RecursiveInvocationsDropped": 0,
    }
    assert invoker.metrics.async_event_age_average == 30.0
    assert repr(invoker.metrics) == "<EventMetrics received=1 dropped=0 invocations=2>"
    queue: InMemoryServiceQueue[str] = InMemoryServiceQueue()
    queue.put("a", 5.0)
    assert repr(queue) == "<InMemoryServiceQueue pending=1>"
    outcome = invoker.outcomes[0]
    assert outcome.age == 60.0
    assert [a.outcome for a in invoker.history.where(item=outcome.request_id, ran=True)] == [
        Outcome.FUNCTION_ERROR,
        Outcome.SUCCESS,
    ]
    assert fn.in_flight == 0


def test_same_seed_same_timeline() -> None:
    def run() -> list[tuple[str, list[tuple[float, str]]]]:
        rng = random.Random(11)

        def flaky(event: Any, context: Any) -> Any:
            if rng.random() < 0.5:
                raise RuntimeError("flaky")
            return event

        _, invoker = make(flaky, reserved_concurrency=2, duration=3.0, seed=99)
        ids = [invoker.invoke({"n": n}).request_id for n in range(6)]
        invoker.scheduler.run_until_idle()
        return [(rid, timeline(invoker, rid, throttles=True)) for rid in ids]

    assert run() == run()


def test_invocation_record_builder_matches_outcome_records() -> None:
    record = invocation_record(
        request_id="r",
        function_arn=ARN,
        condition="EventAgeExceeded",
        approximate_invoke_count=0,
        request="[1, 2]",
        last=None,
        epoch=1_573_755_365.568,
    )
    assert record == {
        "version": "1.0",
        "timestamp": "2019-11-14T18:16:05.568Z",
        "requestContext": {
            "requestId": "r",
            "functionArn": ARN,
            "condition": "EventAgeExceeded",
            "approximateInvokeCount": 0,
        },
        "requestPayload": [1, 2],
    }


def test_metrics_only_mode_keeps_nothing_per_event() -> None:
    blocker = Script(spend=3.0)
    _, invoker = make(blocker, keep_records=False, reserved_concurrency=1, timeout=10)
    for _ in range(3):
        invoker.invoke({})
    invoker.scheduler.run_until_idle()
    assert invoker.metrics.invocations == 3
    assert invoker.metrics.throttles > 0
    assert invoker.outcomes == []
    assert invoker.pending == 0
    assert repr(FunctionTarget(invoker)) == "<FunctionTarget orders records=0>"


def test_the_account_limit_throttles_unreserved_functions() -> None:
    account = Account(concurrency_limit=1, unreserved_minimum=0)
    sched = Scheduler()
    busy = Function(name="busy", handler=Script(spend=4.0), timeout=10, account=account)
    other = Function(name="other", handler=Script(), account=account)
    EventInvoker(busy, scheduler=sched).invoke({})
    invoker = EventInvoker(other, scheduler=sched, seed=5)
    rid = invoker.invoke({}).request_id
    sched.run_until_idle()
    tries = invoker.history.of(rid)
    assert [(t.started_at, t.outcome.value, t.error_type) for t in tries] == [
        (0.0, "Throttled", "ConcurrentInvocationLimitExceeded"),
        (1.0, "Throttled", "ConcurrentInvocationLimitExceeded"),
        (3.0, "Throttled", "ConcurrentInvocationLimitExceeded"),
        (7.0, "Success", None),
    ]


def test_setting_reserved_concurrency_to_zero_drops_queued_retries() -> None:
    fn, invoker = make(always_fail)
    rid = invoker.invoke({}).request_id
    invoker.scheduler.run(until=30.0)
    fn.set_reserved_concurrency(0)
    invoker.scheduler.run_until_idle()
    outcome = invoker.outcome(rid)
    assert (outcome.kind, outcome.approximate_invoke_count, outcome.ended_at) == (
        EventOutcomeKind.ZERO_CONCURRENCY,
        1,
        60.0,
    )


def test_event_age_exceeded_record_after_two_invocations_key_for_key() -> None:
    # AWS recorded this case (max age 90 s): EventAgeExceeded with approximateInvokeCount 2.
    failures = QueueTarget()
    _, invoker = make(
        always_fail, config=EventInvokeConfig(maximum_event_age=90, on_failure=failures)
    )
    rid = invoker.invoke({"n": 1}).request_id
    invoker.scheduler.run_until_idle()
    (record,) = failures.records
    response = record.pop("responsePayload")
    assert record == {
        "version": "1.0",
        "timestamp": "2023-11-14T22:14:20.000Z",  # virtual 60 s: decided at once, not at 90 s
        "requestContext": {
            "requestId": rid,
            "functionArn": ARN,
            "condition": "EventAgeExceeded",
            "approximateInvokeCount": 2,
        },
        "requestPayload": {"n": 1},
        "responseContext": {
            "statusCode": 200,
            "executedVersion": "$LATEST",
            "functionError": "Unhandled",
        },
    }
    assert (response["errorType"], response["requestId"]) == ("ValueError", rid)


@attrs.define
class ThirdLater:
    """A service queue that holds every event a third of a second longer (off-grid times)."""

    inner: InMemoryServiceQueue[Any] = attrs.field(factory=InMemoryServiceQueue)

    def put(self, item: Any, ready_at: float) -> None:
        self.inner.put(item, ready_at + 1 / 3)

    def take(self, now: float) -> Any:
        return self.inner.take(now)

    def next_ready_at(self) -> float | None:
        return self.inner.next_ready_at()


def test_dispatch_wakes_at_the_first_tick_after_an_off_grid_ready_time() -> None:
    # A wake-up at the nearest tick landed a hair before the ready time: nothing was due,
    # and dispatch asked for that same tick again, forever.
    fn = Function("f", lambda e, c: None)
    invoker = EventInvoker(fn, queue=ThirdLater(), seed=1)
    invoker.invoke({})
    invoker.scheduler.run_until_idle(max_steps=100)
    assert [o.kind for o in invoker.outcomes] == [EventOutcomeKind.SUCCEEDED]
    assert [
        t.started_at for t in invoker.history.where(item=invoker.outcomes[0].request_id, ran=True)
    ] == [0.333333334]


def test_the_age_deadline_is_on_the_grid_so_no_attempt_starts_at_the_maximum_age() -> None:
    # 1.000000001 + 60 is 61.000000001000004 as a float, a hair past the tick the retry
    # lands on: the retry due exactly at the maximum age was let through.
    policy = EventRetryPolicy(
        function_errors=FunctionErrorRetries(delays=(60.0,)), maximum_event_age=None
    )
    invoker = EventInvoker(
        Function("f", always_fail),
        config=EventInvokeConfig(maximum_event_age=60),
        retry_policy=policy,
        seed=1,
    )
    invoker.scheduler.at(1.000000001, invoker.invoke, {})
    invoker.scheduler.run_until_idle(max_steps=100)
    [outcome] = invoker.outcomes
    assert outcome.kind is EventOutcomeKind.EVENT_AGE_EXCEEDED
    assert outcome.approximate_invoke_count == 1


# -- the executor seam ------------------------------------------------------------------------


def test_a_users_executor_runs_the_tries_through_the_public_handle() -> None:
    class Deferred:
        """Runs each try one second of clock time after it is due, through the handle alone."""

        def __init__(self) -> None:
            self.submitted: list[tuple[str, float]] = []

        def submit(self, attempt: AttemptHandle, now: float) -> None:
            self.submitted.append((attempt.request_id, now))
            invoker.scheduler.at(now + 1.0, self.later, attempt)

        def later(self, attempt: AttemptHandle) -> None:
            if attempt.start(invoker.scheduler.now):
                attempt.finish(attempt.run())

    executor = Deferred()
    invoker = EventInvoker(
        Function(name="deferred", handler=always_fail), executor=executor, seed=1
    )
    rid = invoker.invoke({}).request_id
    invoker.scheduler.run_until_idle()
    assert executor.submitted == [(rid, 0.0), (rid, 61.0), (rid, 182.0)]
    assert [a.started_at for a in invoker.history.where(item=rid, ran=True)] == [1.0, 62.0, 183.0]
    assert invoker.outcome(rid).condition == "RetriesExhausted"
    assert invoker.in_flight == 0
    assert invoker.function.in_flight == 0
