"""`RemoteInvoker` over HTTP: botocore's real request building and response parsing, against
a scripted Lambda endpoint on 127.0.0.1 and against moto's server."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from invokemodels.adapters import RemoteInvoker, invocation_error
from invokemodels.exceptions import (
    InvalidRequestContentError,
    InvocationError,
    ReadTimeoutError,
    RequestEntityTooLargeError,
    ResourceNotFoundError,
    ServiceError,
    TooManyRequestsError,
)
from invokemodels.sync import LegacyRetry, NoRetry, StandardRetry

pytest.importorskip("boto3", reason="boto3 is not installed (pip install '.[test]')")

Reply = tuple[int, dict[str, str], bytes]


def ok(payload: Any = None, **headers: str) -> Reply:
    return 200, {"X-Amz-Executed-Version": "$LATEST", **headers}, json.dumps(payload).encode()


def refusal(status: int, code: str, message: str = "no", **fields: Any) -> Reply:
    body = json.dumps({"Type": "User", "message": message, **fields}).encode()
    return status, {"x-amzn-ErrorType": code}, body


class Endpoint:
    """A scripted Invoke endpoint: answers with ``replies`` in order, records requests."""

    def __init__(self) -> None:
        self.replies: list[Reply] = []
        self.delay = 0.0
        self.requests: list[dict[str, Any]] = []
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                url = urlparse(self.path)
                endpoint.requests.append(
                    {"path": url.path, "query": parse_qs(url.query),
                     "headers": dict(self.headers), "body": self.rfile.read(length)}
                )  # fmt: skip
                status, headers, body = endpoint.replies.pop(0)
                if endpoint.delay:
                    threading.Event().wait(endpoint.delay)
                self.send_response(status)
                headers = {"x-amzn-RequestId": f"req-{len(endpoint.requests)}", **headers}
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.01,), daemon=True)
        self.thread.start()

    closed = False

    def close(self) -> None:
        self.closed = True
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[Endpoint]:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    server = Endpoint()
    yield server
    if not server.closed:
        server.close()


def invoker(endpoint: Endpoint, **kwargs: Any) -> RemoteInvoker:
    kwargs.setdefault("retry", StandardRetry(max_backoff=0.001))
    return RemoteInvoker("orders", endpoint_url=endpoint.url, region_name="us-east-1", seed=1,
                         **kwargs)  # fmt: skip


def test_a_response_is_the_same_invoke_response(endpoint: Endpoint) -> None:
    log = base64.b64encode(b"START RequestId: req-1\n").decode()
    endpoint.replies.append(ok({"total": 3}, **{"X-Amz-Log-Result": log}))
    context = {"custom": {"tenant": "t1"}, "client": {}, "env": {}}
    remote = invoker(endpoint, qualifier="live", log_type="Tail", client_context=context)
    response = remote.invoke({"items": [1, 2]})
    assert response.status_code == 200
    assert response.json() == {"total": 3}
    assert (response.function_error, response.executed_version) == (None, "$LATEST")
    assert (response.request_id, response.log_result) == ("req-1", log)
    request = endpoint.requests[0]
    assert request["path"] == "/2015-03-31/functions/orders/invocations"
    assert request["query"] == {"Qualifier": ["live"]}
    assert json.loads(request["body"]) == {"items": [1, 2]}
    headers = request["headers"]
    assert headers["X-Amz-Invocation-Type"] == "RequestResponse"
    assert headers["X-Amz-Log-Type"] == "Tail"
    assert json.loads(base64.b64decode(headers["X-Amz-Client-Context"])) == context
    assert [(a.attempt, a.outcome) for a in remote.attempts] == [(1, "Success")]


def test_a_function_error_is_a_response_and_is_never_retried(endpoint: Endpoint) -> None:
    document = {"errorMessage": "boom", "errorType": "ValueError", "stackTrace": []}
    endpoint.replies.append(ok(document, **{"X-Amz-Function-Error": "Unhandled"}))
    response = invoker(endpoint).invoke({}, invocation_type="RequestResponse")
    assert response.function_error == "Unhandled"
    assert response.json() == document
    assert len(endpoint.requests) == 1


def test_event_and_dry_run_answer_202_and_204(endpoint: Endpoint) -> None:
    endpoint.replies += [(202, {}, b""), (204, {}, b"")]
    remote = invoker(endpoint)
    assert remote.invoke({}, invocation_type="Event").status_code == 202
    assert remote.invoke({}, invocation_type="DryRun").status_code == 204
    assert [r["headers"]["X-Amz-Invocation-Type"] for r in endpoint.requests] == [
        "Event", "DryRun",
    ]  # fmt: skip


def test_a_throttle_keeps_its_reason_and_is_retried_by_the_policy(endpoint: Endpoint) -> None:
    reason = "ReservedFunctionConcurrentInvocationLimitExceeded"
    endpoint.replies += [
        refusal(429, "TooManyRequestsException", "Rate Exceeded.", Reason=reason)
    ] * 3
    remote = invoker(endpoint)
    with pytest.raises(TooManyRequestsError) as caught:
        remote.invoke({})
    assert caught.value.reason == reason
    assert (caught.value.status_code, caught.value.code) == (429, "TooManyRequestsException")
    assert len(endpoint.requests) == 3  # StandardRetry: three attempts in all
    assert [a.reason for a in remote.attempts] == ["", "", "max_attempts"]


@pytest.mark.parametrize(
    ("reply", "error", "requests"),
    [
        (refusal(413, "RequestEntityTooLargeException"), RequestEntityTooLargeError, 1),
        (refusal(400, "InvalidRequestContentException"), InvalidRequestContentError, 1),
        (refusal(404, "ResourceNotFoundException"), ResourceNotFoundError, 1),
        (refusal(500, "ServiceException"), ServiceError, 3),
    ],
)
def test_refusals_raise_the_same_exception_tree(
    endpoint: Endpoint, reply: Reply, error: type[InvocationError], requests: int
) -> None:
    endpoint.replies += [reply] * requests
    with pytest.raises(error) as caught:
        invoker(endpoint).invoke({})
    assert caught.value.status_code == reply[0]
    assert len(endpoint.requests) == requests


def test_a_code_the_tree_does_not_name_keeps_aws_code_and_status(endpoint: Endpoint) -> None:
    endpoint.replies += [refusal(502, "EC2UnexpectedException")] * 5
    with pytest.raises(ServiceError) as caught:
        invoker(endpoint, retry=LegacyRetry(total_max_attempts=2)).invoke({})
    assert (caught.value.code, caught.value.status_code) == ("EC2UnexpectedException", 502)
    endpoint.replies.insert(0, refusal(409, "ResourceConflictException"))
    with pytest.raises(InvocationError) as conflict:
        invoker(endpoint).invoke({})
    assert not isinstance(conflict.value, ServiceError)
    assert (conflict.value.code, conflict.value.status_code) == ("ResourceConflictException", 409)


def test_a_transient_error_then_success_returns_the_response(endpoint: Endpoint) -> None:
    endpoint.replies += [refusal(503, "ServiceException"), ok("fine")]
    policy = StandardRetry(max_backoff=0.001)
    before = policy.quota.available
    remote = invoker(endpoint, retry=policy)
    assert remote.invoke({}).json() == "fine"
    assert [a.outcome for a in remote.attempts] == ["ServiceException", "Success"]
    assert policy.quota.available == before  # the retry's tokens are refunded


def test_without_a_policy_one_call_is_made(endpoint: Endpoint) -> None:
    endpoint.replies += [refusal(500, "ServiceException")] * 5
    with pytest.raises(ServiceError):
        invoker(endpoint, retry=None).invoke({})
    with pytest.raises(ServiceError):
        invoker(endpoint, retry=NoRetry()).invoke({})
    assert len(endpoint.requests) == 2


def test_a_read_timeout_is_retried_then_raised_as_the_librarys(endpoint: Endpoint) -> None:
    endpoint.replies += [ok("late")] * 2
    endpoint.delay = 0.5
    remote = invoker(
        endpoint, read_timeout=0.1, retry=StandardRetry(max_backoff=0.001, total_max_attempts=2)
    )
    with pytest.raises(ReadTimeoutError) as caught:
        remote.invoke({})
    assert caught.value.read_timeout == 0.1
    assert [a.outcome for a in remote.attempts] == ["ReadTimeoutError"] * 2
    assert [a.reason for a in remote.attempts] == ["", "max_attempts"]


def test_no_server_is_retried_then_raised_as_botocores_error(endpoint: Endpoint) -> None:
    from botocore.exceptions import EndpointConnectionError

    url = endpoint.url
    endpoint.close()  # nothing listens there any more
    remote = RemoteInvoker(
        "orders", endpoint_url=url, region_name="us-east-1",
        retry=StandardRetry(max_backoff=0.001, total_max_attempts=2),
    )  # fmt: skip
    with pytest.raises(EndpointConnectionError):
        remote.invoke({})
    assert [a.outcome for a in remote.attempts] == ["EndpointConnectionError"] * 2


def test_the_error_mapping_reads_botocore_responses() -> None:
    throttle = invocation_error(
        {
            "Error": {"Code": "TooManyRequestsException", "Message": "Rate Exceeded."},
            "Reason": "ConcurrentInvocationLimitExceeded",
            "retryAfterSeconds": "2",
            "ResponseMetadata": {"HTTPStatusCode": 429},
        }
    )
    assert isinstance(throttle, TooManyRequestsError)
    assert (throttle.reason, throttle.retry_after) == ("ConcurrentInvocationLimitExceeded", 2.0)
    too_large = invocation_error(
        {"Error": {"Code": "RequestTooLargeException"}, "ResponseMetadata": {"HTTPStatusCode": 413}}
    )
    assert isinstance(too_large, RequestEntityTooLargeError)


def test_moto_answers_404_for_an_unknown_function(aws_endpoint: str) -> None:
    remote = RemoteInvoker("no-such-function", endpoint_url=aws_endpoint)
    with pytest.raises(ResourceNotFoundError):
        remote.invoke({})


def test_bad_arguments_are_refused_by_name() -> None:
    from invokemodels.exceptions import InvalidParameterValueError

    with pytest.raises(InvalidParameterValueError, match="InvocationType"):
        RemoteInvoker("f", endpoint_url="http://127.0.0.1:9", invocation_type="Async")
    with pytest.raises(InvalidParameterValueError, match="LogType"):
        RemoteInvoker("f", endpoint_url="http://127.0.0.1:9", log_type="Full")
    with pytest.raises(InvalidParameterValueError, match="read_timeout"):
        RemoteInvoker("f", endpoint_url="http://127.0.0.1:9", read_timeout=0)
    with pytest.raises(InvalidParameterValueError, match="client_context"):
        RemoteInvoker("f", endpoint_url="http://127.0.0.1:9", client_context=42)  # type: ignore[arg-type]
