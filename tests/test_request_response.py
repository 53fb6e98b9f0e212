"""The synchronous model: `RequestResponseInvoker` (``RequestResponse`` and ``DryRun``)."""

from __future__ import annotations

import base64
import json
import logging
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from invokemodels import (
    Account,
    Function,
    LambdaClient,
    RequestResponseInvoker,
    Scheduler,
    SystemClock,
)
from invokemodels.core import ClientContext, History, Model, Outcome, Span, ThrottleReason
from invokemodels.exceptions import (
    InvalidParameterValueError,
    InvalidRequestContentError,
    RequestEntityTooLargeError,
    ResourceNotFoundError,
    ServiceError,
    TooManyRequestsError,
)


def label(span: Span) -> str:
    """A call's outcome in one word: Success, the errorType, DryRun or the refusal's wire code."""
    if span.outcome is Outcome.THROTTLED:
        return "TooManyRequestsException"
    return (
        span.error_type
        if span.outcome is not Outcome.SUCCESS and span.error_type
        else (span.outcome.value)
    )


def timeline(invoker: RequestResponseInvoker) -> list[tuple[float, float, str]]:
    return [(s.started_at, s.ended_at, label(s)) for s in invoker.history]


def greet(event: Any, context: Any) -> Any:
    return {"hello": event["name"], "request": context.aws_request_id}


def boom(event: Any, context: Any) -> Any:
    raise ValueError("boom")


def test_invoke_returns_200_with_the_result_and_advances_virtual_time() -> None:
    fn = Function(name="greeter", handler=greet, duration=0.25)
    invoker = RequestResponseInvoker(fn, seed=1)
    response = invoker.invoke({"name": "world"})
    assert response.status_code == 200
    assert response.function_error is None
    assert response.executed_version == "$LATEST"
    assert response.json() == {"hello": "world", "request": response.request_id}
    assert response.to_dict() == {"StatusCode": 200, "ExecutedVersion": "$LATEST"}
    assert invoker.now == 0.25
    assert fn.in_flight == 0


def test_function_error_is_a_200_response_with_unhandled() -> None:
    invoker = RequestResponseInvoker(Function(name="f", handler=boom), seed=1)
    response = invoker.invoke({})
    assert (response.status_code, response.function_error) == (200, "Unhandled")
    document = response.json()
    assert list(document) == ["errorMessage", "errorType", "requestId", "stackTrace"]
    assert (document["errorType"], document["errorMessage"]) == ("ValueError", "boom")
    assert document["requestId"] == response.request_id
    assert response.to_dict() == {
        "StatusCode": 200,
        "FunctionError": "Unhandled",
        "ExecutedVersion": "$LATEST",
    }
    assert label(invoker.history[0]) == "ValueError"


def test_timeout_is_a_200_response_at_the_timeout() -> None:
    fn = Function(name="f", handler=lambda e, c: c.spend(10), timeout=2)
    invoker = RequestResponseInvoker(fn, seed=1)
    response = invoker.invoke(None)
    assert response.json() == {
        "errorType": "Sandbox.Timedout",
        "errorMessage": f"RequestId: {response.request_id} Error: "
        "Task timed out after 2.00 seconds",
    }
    assert timeline(invoker) == [(0.0, 2.0, "Sandbox.Timedout")]


def test_successive_invokes_form_a_timeline() -> None:
    fn = Function(name="f", handler=greet, duration=lambda event: event["seconds"])
    invoker = RequestResponseInvoker(fn, seed=3)
    for seconds in (1.0, 2.5, 0.5):
        invoker.invoke({"name": "x", "seconds": seconds})
    assert timeline(invoker) == [
        (0.0, 1.0, "Success"),
        (1.0, 3.5, "Success"),
        (3.5, 4.0, "Success"),
    ]
    assert [(s.attempt, s.model) for s in invoker.history] == [(1, Model.REQUEST_RESPONSE)] * 3
    assert len(invoker.history) == invoker.calls == 3


def test_dry_run_validates_and_never_runs_the_handler() -> None:
    ran: list[Any] = []
    fn = Function(name="f", handler=lambda e, c: ran.append(e), duration=5)
    invoker = RequestResponseInvoker(fn, seed=1, invocation_type="DryRun")
    response = invoker.invoke({"a": 1})
    assert (response.status_code, response.payload, response.function_error) == (204, b"", None)
    assert response.to_dict() == {"StatusCode": 204}
    assert response.json() is None
    assert ran == []
    assert (invoker.now, fn.in_flight) == (0.0, 0)
    assert label(invoker.history[0]) == "DryRun"
    assert not invoker.history[0].ran
    with pytest.raises(InvalidRequestContentError):
        invoker.invoke(b"{not json")
    with pytest.raises(RequestEntityTooLargeError):
        invoker.invoke("x" * 6_291_456)
    with pytest.raises(ResourceNotFoundError):
        invoker.invoke({}, qualifier="9")
    assert ran == []


def test_dry_run_per_call_and_unknown_invocation_types() -> None:
    ran: list[Any] = []
    invoker = RequestResponseInvoker(Function(name="f", handler=lambda e, c: ran.append(e)))
    assert invoker.invoke({}, invocation_type="DryRun").status_code == 204
    assert ran == []
    with pytest.raises(InvalidParameterValueError, match="InvocationType='Event'"):
        invoker.invoke({}, invocation_type="Event")
    with pytest.raises(InvalidParameterValueError, match="InvocationType='Event'"):
        RequestResponseInvoker(Function(name="f", handler=greet), invocation_type="Event")
    with pytest.raises(InvalidParameterValueError, match="LogType='Full'"):
        invoker.invoke({}, log_type="Full")


def test_reserved_concurrency_throttle_raises_429_with_reason() -> None:
    fn = Function(name="f", handler=greet, reserved_concurrency=1, duration=10, timeout=30)
    invoker = RequestResponseInvoker(fn, seed=1)
    first = invoker.start({"name": "a"})
    with pytest.raises(TooManyRequestsError) as info:
        invoker.invoke({"name": "b"})
    error = info.value
    assert (error.status_code, error.reason) == (429, ThrottleReason.RESERVED)
    assert error.to_response() == {
        "Error": {"Code": "TooManyRequestsException", "Message": "Rate Exceeded."},
        "Reason": "ReservedFunctionConcurrentInvocationLimitExceeded",
        "Type": "User",
        "message": "Rate Exceeded.",
        "ResponseMetadata": {"HTTPStatusCode": 429},
    }
    throttled = invoker.history[-1]
    assert (throttled.status_code, label(throttled), throttled.ran) == (
        429,
        "TooManyRequestsException",
        False,
    )
    assert (throttled.outcome, throttled.error_type) == (Outcome.THROTTLED, ThrottleReason.RESERVED)
    assert invoker.wait(first).json()["hello"] == "a"
    assert invoker.now == 10.0
    assert invoker.invoke({"name": "c"}).status_code == 200


def test_account_limit_throttle_reason() -> None:
    account = Account(concurrency_limit=1, unreserved_minimum=0)
    fn = Function(name="f", handler=greet, account=account, duration=1)
    invoker = RequestResponseInvoker(fn, seed=1)
    invoker.start({"name": "a"})
    with pytest.raises(TooManyRequestsError) as info:
        invoker.invoke({"name": "b"})
    assert info.value.reason == "ConcurrentInvocationLimitExceeded"


def test_started_attempts_overlap_and_hold_their_slots_until_they_end() -> None:
    fn = Function(name="f", handler=greet, timeout=30, duration=lambda event: event["seconds"])
    sched = Scheduler()
    invoker = RequestResponseInvoker(fn, scheduler=sched, seed=1)
    a = invoker.start({"name": "a", "seconds": 10})
    sched.run(until=4.0)
    b = invoker.start({"name": "b", "seconds": 10})
    assert fn.in_flight == 2
    assert [(inv.started_at, inv.ended_at, inv.in_flight) for inv in invoker.history] == [
        (0.0, 10.0, 1),
        (4.0, 14.0, 2),
    ]
    assert a.span.overlaps(b.span)
    assert (a.started_at, a.ended_at, a.request_id) == (0.0, 10.0, a.response.request_id)
    assert repr(a).startswith("<PendingInvoke ")
    sched.run(until=10.0)
    assert fn.in_flight == 1
    assert invoker.wait(b).json()["hello"] == "b"
    assert (invoker.now, fn.in_flight) == (14.0, 0)


def test_invocation_overlap_needs_both_to_have_run() -> None:
    sync, ok = Model.REQUEST_RESPONSE, Outcome.SUCCESS
    ran = Span(sync, "f", "a", 1, 1, 0.0, 0.0, 5.0, ok, None, 200, in_flight=1)
    later = Span(sync, "f", "b", 1, 1, 5.0, 5.0, 6.0, ok, None, 200, in_flight=1)
    refused = Span(sync, "f", "c", 1, None, 1.0, 1.0, 1.0, Outcome.THROTTLED, "x", 429)
    assert not ran.overlaps(later)
    assert not ran.overlaps(refused)
    assert ran.duration == 5.0


def test_other_scheduled_work_interleaves_while_the_caller_waits() -> None:
    sched = Scheduler()
    log: list[tuple[float, str]] = []
    sched.at(1.0, lambda: log.append((sched.now, "tick at 1")))
    sched.at(9.0, lambda: log.append((sched.now, "tick at 9")))
    fn = Function(name="f", handler=greet, duration=5, timeout=10)
    invoker = RequestResponseInvoker(fn, scheduler=sched, seed=1)
    invoker.invoke({"name": "x"})
    log.append((sched.now, "response"))
    sched.run_until_idle()
    assert log == [(1.0, "tick at 1"), (5.0, "response"), (9.0, "tick at 9")]
    assert fn.in_flight == 0


def test_invoke_from_inside_a_callback_does_not_move_time() -> None:
    sched = Scheduler()
    fn = Function(name="f", handler=greet, duration=3)
    invoker = RequestResponseInvoker(fn, scheduler=sched, seed=1)
    seen: list[tuple[float, int]] = []

    def callback() -> None:
        invoker.invoke({"name": "inner"})
        seen.append((sched.now, fn.in_flight))

    sched.at(2.0, callback)
    sched.run_until_idle()
    assert seen == [(2.0, 1)]
    assert (sched.now, fn.in_flight) == (5.0, 0)


def test_a_nested_synchronous_invoke_counts_in_the_callers_duration() -> None:
    sched = Scheduler()
    inner_fn = Function(name="inner", handler=lambda e, c: "x", duration=e_seconds, timeout=10)
    inner = RequestResponseInvoker(inner_fn, scheduler=sched, seed=1)

    def outer(event: Any, context: Any) -> Any:
        answer = inner.invoke({"seconds": event["inner"]}).json()
        return {"inner": answer, "remaining": context.get_remaining_time_in_millis()}

    fn = Function(name="outer", handler=outer, duration=1, timeout=3)
    invoker = RequestResponseInvoker(fn, scheduler=sched, seed=2)
    assert invoker.invoke({"inner": 1.5}).json() == {"inner": "x", "remaining": 1500}
    # the outer attempt lasted its own second plus the 1.5 s it waited for the inner one
    assert timeline(invoker) == [(0.0, 2.5, "Success")]
    assert timeline(inner) == [(0.0, 1.5, "Success")]
    # waiting 5 s for the inner function overruns the outer's 3 s timeout
    response = invoker.invoke({"inner": 5})
    assert response.json()["errorType"] == "Sandbox.Timedout"
    assert timeline(invoker)[-1] == (2.5, 5.5, "Sandbox.Timedout")


def e_seconds(event: Any) -> float:
    return float(event["seconds"])


def test_qualifier_version_and_alias() -> None:
    fn = Function(name="f", handler=lambda e, c: c.invoked_function_arn, version="3")
    invoker = RequestResponseInvoker(fn, seed=1)
    arn = "arn:aws:lambda:us-east-1:123456789012:function:f"
    assert invoker.invoke({}).json() == arn
    assert invoker.invoke({}, qualifier="3").json() == f"{arn}:3"
    assert invoker.invoke({}, qualifier="live").json() == f"{arn}:live"
    assert RequestResponseInvoker(fn, qualifier="live").invoke({}).json() == f"{arn}:live"
    with pytest.raises(ResourceNotFoundError) as info:
        invoker.invoke({}, qualifier="$LATEST")
    assert info.value.message == f"Function not found: {arn}:$LATEST"
    assert info.value.status_code == 404
    with pytest.raises(InvalidParameterValueError, match="Qualifier='bad qualifier'"):
        invoker.invoke({}, qualifier="bad qualifier")
    with pytest.raises(InvalidParameterValueError, match="Qualifier"):
        RequestResponseInvoker(fn, qualifier="x" * 129)


def custom_of(event: Any, context: Any) -> Any:
    cc = context.client_context
    return None if cc is None else {"custom": cc.custom, "title": cc.client and cc.client.app_title}


def test_client_context_forms() -> None:
    fn = Function(name="f", handler=custom_of)
    data = {"client": {"app_title": "shop"}, "custom": {"k": "v"}}
    encoded = base64.b64encode(json.dumps(data).encode()).decode()
    invoker = RequestResponseInvoker(fn, seed=1)
    assert invoker.invoke({}).json() is None
    expected = {"custom": {"k": "v"}, "title": "shop"}
    assert invoker.invoke({}, client_context=data).json() == expected
    assert invoker.invoke({}, client_context=encoded).json() == expected
    assert invoker.invoke({}, client_context=ClientContext.from_dict(data)).json() == expected
    assert RequestResponseInvoker(fn, client_context=data).invoke({}).json() == expected


def test_client_context_ignores_unknown_keys_like_the_runtime() -> None:
    fn = Function(name="f", handler=custom_of)
    data = {"client": {"app_title": "shop", "sdk": "x"}, "custom": {"k": "v"}, "extra": 1}
    encoded = base64.b64encode(json.dumps(data).encode()).decode()
    invoker = RequestResponseInvoker(fn, seed=1)
    expected = {"custom": {"k": "v"}, "title": "shop"}
    assert invoker.invoke({}, client_context=data).json() == expected
    assert invoker.invoke({}, client_context=encoded).json() == expected


@pytest.mark.parametrize(
    "bad", ["not base64!", base64.b64encode(b"[1, 2]").decode(), base64.b64encode(b"{").decode()]
)
def test_client_context_must_be_base64_json_object(bad: str) -> None:
    invoker = RequestResponseInvoker(Function(name="f", handler=custom_of))
    with pytest.raises(InvalidRequestContentError, match="Client context must be"):
        invoker.invoke({}, client_context=bad)


def test_client_context_that_is_not_json_is_refused_with_400() -> None:
    invoker = RequestResponseInvoker(Function(name="f", handler=custom_of))
    with pytest.raises(InvalidRequestContentError, match="Client context must be"):
        invoker.invoke({}, client_context={"custom": {"when": object()}})
    with pytest.raises(InvalidRequestContentError, match="Client context must be"):
        invoker.invoke({}, client_context={"custom": {"x": float("nan")}})
    refused = list(invoker.history)
    assert [(inv.outcome, inv.status_code, inv.error_type) for inv in refused] == [
        (Outcome.REFUSED, 400, "InvalidRequestContentException"),
        (Outcome.REFUSED, 400, "InvalidRequestContentException"),
    ]
    assert invoker.last_request_id == refused[-1].request_id != refused[0].request_id


def test_every_refusal_is_logged_with_its_own_request_id() -> None:
    fn = Function(name="f", handler=lambda e, c: "ok", version="3")
    invoker = RequestResponseInvoker(fn, seed=1)
    client = LambdaClient(invoker)
    with pytest.raises(ResourceNotFoundError):
        client.invoke({}, qualifier="4")
    with pytest.raises(InvalidParameterValueError):
        invoker.invoke({}, client_context={"custom": {"k": "x" * 4000}})
    assert invoker.invoke({}).json() == "ok"
    log = list(invoker.history)
    assert [(inv.status_code, label(inv), inv.ran) for inv in log] == [
        (404, "ResourceNotFoundException", False),
        (400, "InvalidParameterValueException", False),
        (200, "Success", True),
    ]
    assert len({inv.request_id for inv in log}) == 3
    assert client.attempts[0].request_id == log[0].request_id
    assert invoker.calls == 3


def test_client_context_is_limited_to_3583_bytes() -> None:
    invoker = RequestResponseInvoker(Function(name="f", handler=custom_of))

    # base64 of the JSON grows by 4/3; find the largest custom value that fits
    def encoded_size(n: int) -> int:
        return len(base64.b64encode(json.dumps({"custom": {"k": "x" * n}}).encode()))

    fits = max(n for n in range(2600, 2700) if encoded_size(n) <= 3583)
    assert invoker.invoke({}, client_context={"custom": {"k": "x" * fits}}).status_code == 200
    with pytest.raises(InvalidParameterValueError) as info:
        invoker.invoke({}, client_context={"custom": {"k": "x" * (fits + 3)}})
    assert "ClientContext" in str(info.value)
    assert "at most 3583 bytes" in str(info.value)


def chatty(event: Any, context: Any) -> Any:
    print("printed line")
    logging.getLogger("app").warning("logged %s", "warning")
    if event.get("fail"):
        raise RuntimeError("went wrong")
    return "done"


def test_log_type_tail_returns_the_execution_log() -> None:
    fn = Function(name="f", handler=chatty, duration=0.012)
    invoker = RequestResponseInvoker(fn, seed=1)
    response = invoker.invoke({}, log_type="Tail")
    assert response.to_dict()["LogResult"] == response.log_result
    log = base64.b64decode(response.log_result or "").decode()
    rid = response.request_id
    lines = log.splitlines()
    assert lines[0] == f"START RequestId: {rid} Version: $LATEST"
    assert lines[1] == "printed line"
    assert lines[2].startswith("[WARNING]\t2023-11-14T22:13:20.000Z\t" + rid + "\tlogged warning")
    assert lines[3] == f"END RequestId: {rid}"
    assert lines[4] == (
        f"REPORT RequestId: {rid}\tDuration: 12.00 ms\tBilled Duration: 12 ms\t"
        "Memory Size: 128 MB\tMax Memory Used: 40 MB\tInit Duration: 100.00 ms\t"
    )
    assert invoker.invoke({}).log_result is None


def test_log_tail_reports_errors_and_keeps_the_last_4_kb() -> None:
    def loud(event: Any, context: Any) -> Any:
        for n in range(500):
            print(f"line {n:04d}")
        raise RuntimeError("went wrong")

    invoker = RequestResponseInvoker(Function(name="f", handler=loud), seed=1, log_type="Tail")
    response = invoker.invoke({})
    log = base64.b64decode(response.log_result or "")
    assert len(log) == 4096
    text = log.decode()
    assert "line 0499\nLAMBDA_WARNING: Unhandled exception." in text
    assert "\n[ERROR] RuntimeError: went wrong\nTraceback (most recent call last):\n" in text
    assert "line 0000" not in text
    assert text.endswith("Max Memory Used: 40 MB\tInit Duration: 100.00 ms\t\n")


def test_injected_errors_refuse_calls_in_order_without_running_the_handler() -> None:
    ran: list[Any] = []
    fn = Function(name="f", handler=lambda e, c: ran.append(e))
    invoker = RequestResponseInvoker(fn, seed=1)
    invoker.inject(ServiceError("Internal error"), TooManyRequestsError(ThrottleReason.CALLER_RATE))
    with pytest.raises(ServiceError) as first:
        invoker.invoke(1)
    assert first.value.to_response()["ResponseMetadata"] == {"HTTPStatusCode": 500}
    with pytest.raises(TooManyRequestsError):
        invoker.invoke(2)
    invoker.invoke(3)
    assert ran == [3]
    assert [(inv.status_code, label(inv)) for inv in invoker.history] == [
        (500, "ServiceException"),
        (429, "TooManyRequestsException"),
        (200, "Success"),
    ]
    assert [inv.outcome for inv in invoker.history] == [
        Outcome.SERVICE_ERROR, Outcome.THROTTLED, Outcome.SUCCESS,
    ]  # fmt: skip
    assert invoker.last_request_id == invoker.history[-1].request_id
    assert fn.in_flight == 0


def test_fault_callable_sees_call_numbers() -> None:
    seen: list[int] = []

    def every_other(number: int, rng: Any) -> ServiceError | None:
        seen.append(number)
        return ServiceError("flaky") if number % 2 else None

    invoker = RequestResponseInvoker(Function(name="f", handler=greet), fault=every_other)

    def status() -> int:
        try:
            return invoker.invoke({"name": "x"}).status_code
        except ServiceError as exc:
            return exc.status_code

    outcomes = [status() for _ in range(4)]
    assert outcomes == [500, 200, 500, 200]
    assert seen == [1, 2, 3, 4]


def test_a_handler_base_exception_is_a_runtime_exit_and_releases_the_slot() -> None:
    class Abort(BaseException):
        pass

    def handler(event: Any, context: Any) -> Any:
        if event.get("abort"):
            raise Abort
        return greet(event, context)

    fn = Function(name="f", handler=handler)
    invoker = RequestResponseInvoker(fn, seed=1)
    response = invoker.invoke({"abort": True})
    assert response.function_error == "Unhandled"
    assert response.json() == {
        "errorType": "Runtime.ExitError",
        "errorMessage": f"RequestId: {response.request_id} Error: Runtime exited with error: "
        "exit status 1",
    }
    assert fn.in_flight == 0
    assert invoker.invoke({"name": "next"}).json()["hello"] == "next"


def test_real_clock_invoke_releases_at_once() -> None:
    fn = Function(name="f", handler=greet)
    invoker = RequestResponseInvoker(fn, scheduler=Scheduler(SystemClock()), seed=1)
    response = invoker.invoke({"name": "real"})
    assert response.json()["hello"] == "real"
    assert fn.in_flight == 0
    pending = invoker.start({"name": "again"})
    assert fn.in_flight == 0
    assert invoker.wait(pending).status_code == 200


def test_history_off_and_cleared() -> None:
    fn = Function(name="f", handler=greet, reserved_concurrency=0)
    invoker = RequestResponseInvoker(fn, history=History(keep=False))
    assert invoker.invoke({"name": "x"}, invocation_type="DryRun").status_code == 204
    with pytest.raises(TooManyRequestsError):
        invoker.invoke({"name": "x"})
    fn.set_reserved_concurrency(None)
    invoker.invoke({"name": "x"})
    assert list(invoker.history) == []
    assert invoker.calls == 3
    logged = RequestResponseInvoker(Function(name="f", handler=greet), seed=1)
    logged.invoke({"name": "x"})
    assert len(logged.history) == 1
    logged.history.clear()
    assert (list(logged.history), timeline(logged), logged.calls) == ([], [], 1)
    assert repr(logged) == "<RequestResponseInvoker f calls=1 in_flight=0>"


@settings(max_examples=30)
@given(
    seed=st.integers(min_value=0, max_value=2**32),
    durations=st.lists(st.floats(min_value=0, max_value=30), min_size=1, max_size=6),
)
def test_one_seed_gives_one_run(seed: int, durations: list[float]) -> None:
    def run() -> tuple[list[str], list[tuple[float, float, str]], list[bytes]]:
        fn = Function(name="f", handler=greet, timeout=20, duration=lambda event: event["d"])
        invoker = RequestResponseInvoker(fn, seed=seed)
        payloads = [invoker.invoke({"name": "n", "d": d}).payload for d in durations]
        return [inv.request_id for inv in invoker.history], timeline(invoker), payloads

    first, second = run(), run()
    assert first == second
    ids, rows, _ = first
    assert len(set(ids)) == len(ids)
    # each attempt starts exactly when the previous one ended and lasts min(duration, timeout),
    # on the clock's nanosecond grid
    start = 0.0
    for (started, ended, outcome), d in zip(rows, durations, strict=True):
        assert started == start
        assert ended - started == pytest.approx(min(d, 20.0), abs=1e-9)
        assert outcome == ("Success" if d <= 20 else "Sandbox.Timedout")
        start = ended


quarters = st.integers(min_value=0, max_value=20).map(lambda n: n / 4)


@settings(max_examples=50)
@given(
    reserved=st.integers(min_value=1, max_value=3),
    ops=st.lists(st.tuples(st.sampled_from(["start", "invoke", "advance"]), quarters), max_size=25),
)
def test_concurrency_and_throttles_match_a_plain_model(
    reserved: int, ops: list[tuple[str, float]]
) -> None:
    sched = Scheduler()
    fn = Function(
        name="f",
        handler=lambda e, c: None,
        timeout=10,
        duration=lambda event: event["d"],
        reserved_concurrency=reserved,
    )
    invoker = RequestResponseInvoker(fn, scheduler=sched, seed=0)
    holding: list[float] = []  # end times of attempts that still hold a slot
    for op, x in ops:
        now = sched.now
        if op == "advance":
            sched.run(until=now + x)
            holding = [end for end in holding if end > now + x]
        elif len(holding) >= reserved:
            with pytest.raises(TooManyRequestsError):
                getattr(invoker, op)({"d": x})
        elif op == "start":
            invoker.start({"d": x})
            holding.append(now + x)
        else:  # invoke waits for its own end, running whatever falls due before
            invoker.invoke({"d": x})
            holding = [end for end in holding if end > now + x]
            assert sched.now == now + x
        assert fn.in_flight == len(holding)
    sched.run_until_idle()
    assert fn.in_flight == 0
    throttled = [inv for inv in invoker.history if inv.status_code == 429]
    assert all(not inv.ran for inv in throttled)
