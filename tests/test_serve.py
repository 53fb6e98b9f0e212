"""`InvokeServer` driven by real boto3 on a free loopback port: every response shape, every
error code, and botocore's own retries against the endpoint's 429s and 500s next to the
library's `LegacyRetry` / `StandardRetry` models."""

from __future__ import annotations

import base64
import http.client
import json
import logging
import random
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from invokemodels import Function
from invokemodels.aws import QueueTarget
from invokemodels.core import Failure, FailureKind, LogRecorder, Outcome
from invokemodels.event import EventInvokeConfig, EventOutcomeKind
from invokemodels.exceptions import (
    InvalidParameterValueError,
    InvocationError,
    ServiceError,
    TooManyRequestsError,
)
from invokemodels.serve import InvokeServer
from invokemodels.sync import LegacyRetry, StandardRetry

boto3 = pytest.importorskip("boto3")
botocore_config = pytest.importorskip("botocore.config")
botocore_exceptions = pytest.importorskip("botocore.exceptions")


def greet(event: Any, context: Any) -> Any:
    print("greeting", event.get("name"))
    logging.getLogger("app").warning("about to answer")
    if event.get("fail"):
        raise ValueError("no greeting today")
    custom = context.client_context.custom if context.client_context else None
    return {"hello": event.get("name"), "custom": custom, "arn": context.invoked_function_arn}


_CLIENTS: list[Any] = []


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    """Close each test's boto3 clients (their keep-alive sockets) when it ends."""
    yield
    while _CLIENTS:
        _CLIENTS.pop().close()


def client(server: InvokeServer, mode: str = "standard", attempts: int | None = None) -> Any:
    retries: dict[str, Any] = {"mode": mode}
    if attempts is not None:
        retries["total_max_attempts"] = attempts
    made = boto3.client(
        "lambda",
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=botocore_config.Config(retries=retries),
    )
    _CLIENTS.append(made)
    return made


@pytest.fixture(scope="module")
def failures() -> QueueTarget:
    return QueueTarget(name="on-failure")


@pytest.fixture(scope="module")
def server(failures: QueueTarget) -> Iterator[InvokeServer]:
    functions = [
        Function(name="greet", handler=greet),
        Function(name="closed", handler=greet, reserved_concurrency=0),
    ]
    config = EventInvokeConfig(maximum_retry_attempts=1, on_failure=failures)
    with InvokeServer(functions, time_scale=0.0005, seed=7, event_config=config) as running:
        yield running


@pytest.fixture(scope="module")
def lam(server: InvokeServer) -> Iterator[Any]:
    made = boto3.client(
        "lambda",
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=botocore_config.Config(retries={"mode": "standard", "total_max_attempts": 1}),
    )
    yield made
    made.close()


def error_of(call: Any) -> Any:
    with pytest.raises(botocore_exceptions.ClientError) as info:
        call()
    return info.value.response


def test_request_response_returns_the_payload_and_the_headers(lam: Any) -> None:
    response = lam.invoke(FunctionName="greet", Payload=json.dumps({"name": "Ada"}))
    assert response["StatusCode"] == 200
    assert response["ExecutedVersion"] == "$LATEST"
    assert "FunctionError" not in response
    assert "LogResult" not in response
    assert json.loads(response["Payload"].read()) == {
        "hello": "Ada",
        "custom": None,
        "arn": "arn:aws:lambda:us-east-1:123456789012:function:greet",
    }
    headers = response["ResponseMetadata"]["HTTPHeaders"]
    assert headers["x-amzn-requestid"] == response["ResponseMetadata"]["RequestId"]
    assert headers["content-type"] == "application/json"


def test_a_function_error_is_200_with_the_error_document(lam: Any) -> None:
    response = lam.invoke(FunctionName="greet", Payload=b'{"fail": true}')
    assert (response["StatusCode"], response["FunctionError"]) == (200, "Unhandled")
    document = json.loads(response["Payload"].read())
    assert document["errorType"] == "ValueError"
    assert document["errorMessage"] == "no greeting today"
    assert document["requestId"] == response["ResponseMetadata"]["RequestId"]
    assert document["stackTrace"]


def test_log_type_tail_returns_the_attempts_log(lam: Any) -> None:
    response = lam.invoke(FunctionName="greet", Payload=b'{"name": "Bo"}', LogType="Tail")
    assert json.loads(response["Payload"].read())["hello"] == "Bo"
    rid = response["ResponseMetadata"]["RequestId"]
    lines = base64.b64decode(response["LogResult"]).decode().splitlines()
    assert lines[0] == f"START RequestId: {rid} Version: $LATEST"
    assert lines[1] == "greeting Bo"
    assert lines[2].startswith("[WARNING]\t")
    assert lines[2].endswith(f"\t{rid}\tabout to answer")
    assert lines[3] == f"END RequestId: {rid}"
    assert lines[4].startswith(f"REPORT RequestId: {rid}\tDuration: ")


def test_client_context_reaches_the_handler(lam: Any) -> None:
    context = base64.b64encode(json.dumps({"custom": {"tenant": "t1"}}).encode()).decode()
    response = lam.invoke(FunctionName="greet", Payload=b"{}", ClientContext=context)
    assert json.loads(response["Payload"].read())["custom"] == {"tenant": "t1"}


def test_bad_client_context_is_a_400(lam: Any) -> None:
    error = error_of(lambda: lam.invoke(FunctionName="greet", ClientContext="not base64!"))
    assert error["Error"]["Code"] == "InvalidRequestContentException"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert error["Type"] == "User"
    too_big = base64.b64encode(json.dumps({"custom": {"k": "x" * 3000}}).encode()).decode()
    error = error_of(lambda: lam.invoke(FunctionName="greet", ClientContext=too_big))
    assert error["Error"]["Code"] == "InvalidParameterValueException"
    assert "must be at most 3583 bytes" in error["Error"]["Message"]


def test_dry_run_is_204_and_runs_nothing(server: InvokeServer, lam: Any) -> None:
    before = len(server.history("greet"))
    response = lam.invoke(FunctionName="greet", InvocationType="DryRun")
    assert response["StatusCode"] == 204
    assert response["Payload"].read() == b""
    spans = server.history("greet")[before:]
    assert [(span.outcome, span.status_code) for span in spans] == [(Outcome.DRY_RUN, 204)]


def test_function_names_qualifiers_and_arns(lam: Any) -> None:
    arn = "arn:aws:lambda:us-east-1:123456789012:function:greet"
    for name, qualifier, invoked in [
        ("greet:prod", None, f"{arn}:prod"),
        (f"{arn}:live", None, f"{arn}:live"),
        ("123456789012:function:greet", None, arn),
        ("greet", "$LATEST", f"{arn}:$LATEST"),
        ("greet:prod", "prod", f"{arn}:prod"),
    ]:
        kwargs = {} if qualifier is None else {"Qualifier": qualifier}
        response = lam.invoke(FunctionName=name, Payload=b"{}", **kwargs)
        assert json.loads(response["Payload"].read())["arn"] == invoked, name


@pytest.mark.parametrize(
    ("name", "kwargs", "status", "code", "message"),
    [
        ("nope", {}, 404, "ResourceNotFoundException",
         "Function not found: arn:aws:lambda:us-east-1:123456789012:function:nope"),
        ("greet", {"Qualifier": "7"}, 404, "ResourceNotFoundException",
         "Function not found: arn:aws:lambda:us-east-1:123456789012:function:greet:7"),
        ("arn:aws:lambda:eu-west-1:123456789012:function:greet", {}, 404,
         "ResourceNotFoundException", "Function not found: "
         "arn:aws:lambda:eu-west-1:123456789012:function:greet"),
        ("greet:prod", {"Qualifier": "beta"}, 400, "InvalidParameterValueException",
         "does not match the specified qualifier"),
        ("greet", {"Payload": b"{not json"}, 400, "InvalidRequestContentException",
         "Could not parse request body into json"),
        ("greet", {"Payload": b"NaN"}, 400, "InvalidRequestContentException",
         "Could not parse request body into json"),
        ("greet", {"LogType": "Full"}, 400, "InvalidParameterValueException", "LogType"),
        ("greet", {"InvocationType": "Later"}, 400, "InvalidParameterValueException",
         "InvocationType"),
    ],
)  # fmt: skip
def test_refusals_have_aws_status_codes_and_error_bodies(
    lam: Any, name: str, kwargs: dict[str, Any], status: int, code: str, message: str
) -> None:
    error = error_of(lambda: lam.invoke(FunctionName=name, **kwargs))
    assert error["ResponseMetadata"]["HTTPStatusCode"] == status
    assert error["Error"]["Code"] == code
    assert message in error["Error"]["Message"]
    assert error["Type"] == "User"
    assert len(error["ResponseMetadata"]["RequestId"]) == 36


def test_payloads_over_the_limits_are_413(lam: Any) -> None:
    big = b'"' + b"x" * 6_291_456 + b'"'
    error = error_of(lambda: lam.invoke(FunctionName="greet", Payload=big))
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 413
    assert error["Error"]["Code"] == "RequestEntityTooLargeException"
    assert error["Error"]["Message"] == (
        "Request must be smaller than 6291456 bytes for the InvokeFunction operation"
    )
    event = b'"' + b"x" * 1_048_576 + b'"'
    error = error_of(
        lambda: lam.invoke(FunctionName="greet", InvocationType="Event", Payload=event)
    )
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 413
    assert error["Error"]["Message"] == (
        "1048578 byte payload is too large for the Event invocation type (limit 1048576 bytes)"
    )


def test_a_throttle_is_429_with_its_reason(lam: Any) -> None:
    error = error_of(lambda: lam.invoke(FunctionName="closed", Payload=b"{}"))
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert error["Error"] == {"Code": "TooManyRequestsException", "Message": "Rate Exceeded."}
    assert error["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
    assert error["message"] == "Rate Exceeded."


def test_an_injected_service_error_is_500(server: InvokeServer, lam: Any) -> None:
    server.inject("greet", ServiceError("Internal error"))
    error = error_of(lambda: lam.invoke(FunctionName="greet", Payload=b"{}"))
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert error["Error"] == {"Code": "ServiceException", "Message": "Internal error"}
    assert lam.invoke(FunctionName="greet", Payload=b"{}")["Payload"].read()


def test_event_is_202_then_retried_and_sent_to_the_on_failure_destination(
    server: InvokeServer, lam: Any, failures: QueueTarget
) -> None:
    response = lam.invoke(FunctionName="greet", InvocationType="Event", Payload=b'{"fail": 1}')
    assert response["StatusCode"] == 202
    assert response["Payload"].read() == b""
    assert "ExecutedVersion" not in response
    rid = response["ResponseMetadata"]["RequestId"]
    events = server.event_invoker("greet")
    assert events.drain(timeout=20)
    outcome = events.outcome(rid)
    assert outcome.kind is EventOutcomeKind.RETRIES_EXHAUSTED
    assert outcome.approximate_invoke_count == 2
    records = [r for r in failures.records if r["requestContext"]["requestId"] == rid]
    assert [r["requestContext"]["condition"] for r in records] == ["RetriesExhausted"]
    assert [span.execution for span in events.of(rid)] == [1, 2]


def test_keep_alive_serves_many_requests_on_one_connection(server: InvokeServer) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", server.bound_port, timeout=10)
    try:
        for n in range(3):
            conn.request("POST", "/2015-03-31/functions/greet/invocations", body=b'{"name": 1}')
            reply = conn.getresponse()
            assert (reply.status, reply.version) == (200, 11)
            assert json.loads(reply.read())["hello"] == 1, n
        conn.request("GET", "/2015-03-31/functions/greet")
        reply = conn.getresponse()
        assert reply.status == 404
        assert reply.getheader("x-amzn-ErrorType") == "UnknownOperationException"
        reply.read()
    finally:
        conn.close()


def test_a_chunked_body_is_read(server: InvokeServer) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", server.bound_port, timeout=10)
    try:
        conn.request(
            "POST",
            "/2015-03-31/functions/greet/invocations",
            body=iter([b'{"name": ', b'"chunks"}']),
            encode_chunked=True,
        )
        reply = conn.getresponse()
        assert (reply.status, json.loads(reply.read())["hello"]) == (200, "chunks")
    finally:
        conn.close()


def test_concurrent_requests_run_concurrently_and_reserved_concurrency_throttles() -> None:
    barrier = threading.Barrier(2, timeout=10)

    def meet(event: Any, context: Any) -> Any:
        barrier.wait()  # returns only when two calls run at once
        return event

    fn = Function(name="meet", handler=meet, timeout=15)
    with InvokeServer(fn) as server:
        results: list[Any] = []

        def call(n: int) -> None:
            response = client(server, attempts=1).invoke(FunctionName="meet", Payload=str(n))
            results.append(json.loads(response["Payload"].read()))

        threads = [threading.Thread(target=call, args=(n,)) for n in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(results) == [0, 1]
        assert fn.in_flight == 0


@settings(max_examples=6, deadline=None)
@given(reserved=st.integers(1, 3), calls=st.integers(1, 8))
def test_concurrent_calls_never_exceed_reserved_concurrency_and_leave_slots_balanced(
    reserved: int, calls: int
) -> None:
    running: list[int] = []
    peak: list[int] = [0]
    lock = threading.Lock()
    gate = threading.Event()

    def busy(event: Any, context: Any) -> Any:
        with lock:
            running.append(1)
            peak[0] = max(peak[0], len(running))
        gate.wait(0.05)
        with lock:
            running.pop()
        return event

    fn = Function(name="busy", handler=busy, reserved_concurrency=reserved)
    server = InvokeServer(fn, seed=1)
    statuses: list[int] = []

    def call(n: int) -> None:
        status, _, _ = server.handle("/2015-03-31/functions/busy/invocations", {}, str(n).encode())
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=call, args=(n,)) for n in range(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    server.close()
    assert set(statuses) <= {200, 429}
    assert statuses.count(200) >= 1
    if calls <= reserved:
        assert statuses == [200] * calls
    assert peak[0] <= reserved
    assert fn.in_flight == 0
    spans = server.history("busy")
    assert len(spans) == calls
    assert sum(span.outcome is Outcome.THROTTLED for span in spans) == statuses.count(429)


def test_close_cancels_queued_events_with_a_record() -> None:
    fn = Function(name="slow", handler=lambda e, c: 1 / 0)
    server = InvokeServer(fn, seed=1).start()  # time_scale 1: the 60 s retry is far off
    lam = client(server)
    responses = [
        lam.invoke(FunctionName="slow", InvocationType="Event", Payload=b"{}") for _ in range(2)
    ]
    rids = [r["ResponseMetadata"]["RequestId"] for r in responses if not r["Payload"].read()]
    events = server.event_invoker("slow")
    cancelled = server.close()
    assert sorted(cancelled) == sorted(rids)
    assert {events.outcome(rid).kind for rid in rids} == {EventOutcomeKind.CANCELLED}
    assert server.close() == cancelled  # twice is safe
    with pytest.raises(OSError):
        http.client.HTTPConnection("127.0.0.1", server.bound_port, timeout=2).connect()


def test_close_with_drain_waits_for_queued_events() -> None:
    fn = Function(name="retried", handler=lambda e, c: 1 / 0)
    config = EventInvokeConfig(maximum_retry_attempts=1)
    server = InvokeServer(fn, seed=1, time_scale=0.001, event_config=config, drain=True).start()
    status, headers, _ = server.handle(
        "/2015-03-31/functions/retried/invocations", {"X-Amz-Invocation-Type": "Event"}, b"{}"
    )
    assert status == 202
    assert server.close() == []
    (outcome,) = server.outcomes("retried")
    assert outcome.request_id == headers["x-amzn-RequestId"]
    assert (outcome.kind, outcome.approximate_invoke_count) == (
        EventOutcomeKind.RETRIES_EXHAUSTED,
        2,
    )


def test_log_recorder_keeps_each_attempts_lines_apart() -> None:
    def worker(event: Any, context: Any) -> Any:
        for n in range(20):
            print(f"{event} line {n}")
        return event

    fn = Function(name="worker", handler=worker)
    recorder = LogRecorder()
    with InvokeServer(fn, log_recorder=recorder) as server:
        threads = [
            threading.Thread(
                target=lambda n=n: (
                    client(server, attempts=1)
                    .invoke(FunctionName="worker", Payload=json.dumps(f"call{n}"))["Payload"]
                    .read()
                )
            )
            for n in range(4)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert len(recorder.logs) == 4
    for log in recorder.logs:
        printed = [line for line in log.lines if " line " in line]
        owner = printed[0].split()[0]
        assert printed == [f"{owner} line {n}\n" for n in range(20)]


# -- botocore's retries against the endpoint, next to the library's models -------------


def retry_delays(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """botocore's back-off sleeps, recorded instead of slept."""
    delays: list[float] = []
    import botocore.endpoint
    import botocore.retries.standard

    monkeypatch.setattr(botocore.endpoint.time, "sleep", delays.append)
    monkeypatch.setattr(botocore.retries.standard.time, "sleep", delays.append, raising=False)
    return delays


def tries(server: InvokeServer, name: str, status: int) -> int:
    return sum(1 for span in server.history(name) if span.status_code == status)


@pytest.mark.parametrize(
    ("mode", "model"), [("legacy", LegacyRetry()), ("standard", StandardRetry())]
)
def test_botocore_retries_429s_as_the_model_says(
    monkeypatch: pytest.MonkeyPatch, mode: str, model: Any
) -> None:
    delays = retry_delays(monkeypatch)
    fn = Function(name="closed", handler=greet, reserved_concurrency=0)
    with InvokeServer(fn) as server:
        lam = client(server, mode=mode)
        error = error_of(lambda: lam.invoke(FunctionName="closed", Payload=b"{}"))
        attempts = tries(server, "closed", 429)
    assert error["ResponseMetadata"]["RetryAttempts"] == model.total_max_attempts - 1
    assert attempts == model.total_max_attempts
    # One back-off per retry, each within the model's jittered bound rand * 2 ** (n - 1).
    assert len(delays) == model.total_max_attempts - 1
    for n, delay in enumerate(delays, start=1):
        failure = Failure(attempt=n, kind=FailureKind.THROTTLE,
                          code="TooManyRequestsException", status_code=429)  # fmt: skip
        bound = model.decide(failure, _Top()).delay
        assert 0 <= delay <= bound


class _Top(random.Random):
    """A random source at the top of its range: the model's largest delay."""

    def random(self) -> float:
        return 1.0


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (ServiceError("Internal error"), 500),
        (TooManyRequestsError("CallerRateLimitExceeded"), 429),
    ],
)
@pytest.mark.parametrize("mode", ["legacy", "standard"])
def test_botocore_and_the_models_retry_the_same_errors(
    monkeypatch: pytest.MonkeyPatch, error: InvocationError, status: int, mode: str
) -> None:
    retry_delays(monkeypatch)
    model = LegacyRetry() if mode == "legacy" else StandardRetry()
    fn = Function(name="flaky", handler=greet)
    with InvokeServer(fn) as server:
        server.inject("flaky", error, error)
        response = client(server, mode=mode).invoke(FunctionName="flaky", Payload=b"{}")
        assert response["StatusCode"] == 200
        assert response["Payload"].read()
        assert response["ResponseMetadata"]["RetryAttempts"] == 2
        assert tries(server, "flaky", status) == 2
    kind = FailureKind.THROTTLE if status == 429 else FailureKind.SERVICE_ERROR
    failure = Failure(attempt=1, kind=kind, code=error.code, status_code=status)
    assert model.retryable(failure)


@pytest.mark.parametrize("mode", ["legacy", "standard"])
def test_neither_retries_a_4xx_refusal(monkeypatch: pytest.MonkeyPatch, mode: str) -> None:
    retry_delays(monkeypatch)
    model = LegacyRetry() if mode == "legacy" else StandardRetry()
    fn = Function(name="strict", handler=greet)
    with InvokeServer(fn) as server:
        lam = client(server, mode=mode)
        error = error_of(lambda: lam.invoke(FunctionName="strict", Payload=b"{bad"))
        assert error["ResponseMetadata"]["RetryAttempts"] == 0
        assert tries(server, "strict", 400) == 1
    failure = Failure(attempt=1, kind=FailureKind.INVALID_REQUEST,
                      code="InvalidRequestContentException", status_code=400)  # fmt: skip
    assert not model.retryable(failure)


def test_bad_server_arguments_are_named() -> None:
    fn = Function(name="f", handler=greet)
    with pytest.raises(InvalidParameterValueError, match="functions"):
        InvokeServer([fn, Function(name="f", handler=greet)])
    with pytest.raises(InvalidParameterValueError, match="port"):
        InvokeServer(fn, port=70000)
    with pytest.raises(InvalidParameterValueError, match="functions"):
        InvokeServer([])
    with pytest.raises(RuntimeError, match="not started"):
        _ = InvokeServer(fn).url
