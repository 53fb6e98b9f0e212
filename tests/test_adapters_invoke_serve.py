"""`RemoteInvoker` against ``invokemodels serve`` (`InvokeServer`): the same calls give the
same `InvokeResponse` and the same exceptions as the in-process `RequestResponseInvoker`."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from invokemodels import Function, RequestResponseInvoker, Scheduler
from invokemodels.adapters import RemoteInvoker
from invokemodels.core import SystemClock
from invokemodels.exceptions import (
    InvalidRequestContentError,
    InvocationError,
    RequestEntityTooLargeError,
    ResourceNotFoundError,
    TooManyRequestsError,
)
from invokemodels.serve import InvokeServer
from invokemodels.sync import NoRetry, StandardRetry

pytest.importorskip("boto3", reason="boto3 is not installed (pip install '.[test]')")


def handler(event: Any, context: Any) -> Any:
    if isinstance(event, dict) and event.get("fail"):
        raise ValueError(str(event["fail"]))
    print("handled", event)
    custom = context.client_context.custom if context.client_context else None
    return {"event": event, "custom": custom, "version": context.function_version}


def functions() -> list[Function]:
    return [
        Function(name="echo", handler=handler),
        Function(name="closed", handler=handler, reserved_concurrency=0),
    ]


@pytest.fixture(scope="module")
def server() -> Iterator[InvokeServer]:
    with InvokeServer(functions(), seed=1) as running:
        yield running


@pytest.fixture(autouse=True)
def _credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")


def remote(server: InvokeServer, name: str = "echo", **kwargs: Any) -> RemoteInvoker:
    return RemoteInvoker(name, endpoint_url=server.url, region_name="us-east-1", **kwargs)


def local(name: str = "echo") -> RequestResponseInvoker:
    fn = {f.name: f for f in functions()}[name]
    return RequestResponseInvoker(fn, scheduler=Scheduler(clock=SystemClock()), seed=1)


def outcome(call: Any) -> tuple[Any, ...]:
    """A call's result without what differs by design (request ids, timings in logs)."""
    try:
        response = call()
    except InvocationError as exc:
        reason = getattr(exc, "reason", None)
        return ("error", type(exc), exc.status_code, exc.code, reason)
    body = response.json()
    if isinstance(body, dict) and "requestId" in body:  # an error document names its request
        assert body.pop("requestId") == response.request_id
    return (response.status_code, response.function_error, response.executed_version, body)


payloads = st.one_of(
    st.dictionaries(st.sampled_from(["a", "b", "fail"]), st.integers(0, 3), max_size=3),
    st.lists(st.integers(), max_size=3),
    st.text(max_size=5),
    st.none(),
)


@settings(max_examples=15, deadline=None)
@given(payload=payloads, kind=st.sampled_from(["RequestResponse", "DryRun"]))
def test_the_same_payload_gives_the_same_response_in_process_and_over_http(
    server: InvokeServer, payload: Any, kind: str
) -> None:
    over_http = outcome(
        lambda: remote(server, retry=NoRetry()).invoke(payload, invocation_type=kind)
    )
    in_process = outcome(lambda: local().invoke(payload, invocation_type=kind))
    assert over_http == in_process


def test_client_context_log_tail_and_qualifier_reach_the_function(server: InvokeServer) -> None:
    response = remote(server, log_type="Tail", qualifier="$LATEST").invoke(
        {"a": 1}, client_context={"custom": {"tenant": "t1"}, "client": {}, "env": {}}
    )
    assert response.json() == {"event": {"a": 1}, "custom": {"tenant": "t1"}, "version": "$LATEST"}
    assert response.executed_version == "$LATEST"
    assert response.log_result is not None
    assert "handled {'a': 1}" in base64.b64decode(response.log_result).decode()
    assert response.request_id


def test_an_event_invoke_is_accepted(server: InvokeServer) -> None:
    assert remote(server).invoke({"a": 2}, invocation_type="Event").status_code == 202


@pytest.mark.parametrize(
    ("name", "payload", "error"),
    [
        ("closed", {}, TooManyRequestsError),
        ("missing", {}, ResourceNotFoundError),
        ("echo", b"{not json", InvalidRequestContentError),
        ("echo", b'"' + b"x" * 6_300_000 + b'"', RequestEntityTooLargeError),
    ],
)
def test_refusals_are_the_same_exceptions(
    server: InvokeServer, name: str, payload: Any, error: type[InvocationError]
) -> None:
    invoker = remote(server, name, retry=StandardRetry(max_backoff=0.001))
    with pytest.raises(error) as caught:
        invoker.invoke(payload)
    if error is TooManyRequestsError:
        assert caught.value.reason == "ReservedFunctionConcurrentInvocationLimitExceeded"
        assert [a.reason for a in invoker.attempts] == ["", "", "max_attempts"]
    else:
        assert len(invoker.attempts) == 1
    if name != "missing":
        in_process = outcome(lambda: local(name).invoke(payload))
        assert in_process[:3] == ("error", error, caught.value.status_code)
