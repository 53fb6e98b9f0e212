"""One attempt of a `Function`: error documents, JSON boundary, context, limits, concurrency."""

from __future__ import annotations

import json
import random
import re
import sys
import threading
import uuid
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from invokemodels import Account, Function, SystemClock, VirtualClock
from invokemodels.core import (
    RESPONSE_PAYLOAD_LIMIT,
    SYNC_PAYLOAD_LIMIT,
    ClientContext,
    ThrottleReason,
    encode_payload,
    new_request_id,
)
from invokemodels.core._function import load_handler
from invokemodels.exceptions import (
    HandlerImportError,
    InvalidParameterValueError,
    InvalidRequestContentError,
    InvocationError,
    RequestEntityTooLargeError,
    ResourceNotFoundError,
    ServiceError,
    TooManyRequestsError,
)

RID = "8f0e5b52-0c8e-4d6a-9a43-1a2b3c4d5e6f"
ERROR_KEYS = ["errorMessage", "errorType", "requestId", "stackTrace"]

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53), max_value=2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


def attempt(fn: Function, event: Any = None, *, clock: Any = None, **kwargs: Any) -> Any:
    return fn.run_attempt(
        encode_payload(event), request_id=RID, clock=clock or VirtualClock(), **kwargs
    )


# -- error documents, key by key --------------------------------------------------------------


def test_raised_exception_becomes_the_python_runtime_error_document() -> None:
    def handler(event: Any, context: Any) -> Any:
        raise KeyError("action")

    result = attempt(Function(name="f", handler=handler))
    assert (result.ok, result.function_error, result.error_type) == (False, "Unhandled", "KeyError")
    document = json.loads(result.payload)
    assert list(document) == ERROR_KEYS
    assert document["errorMessage"] == "'action'"
    assert document["errorType"] == "KeyError"
    assert document["requestId"] == RID
    trace = document["stackTrace"]
    assert isinstance(trace, list)
    assert all(isinstance(line, str) for line in trace)
    assert len(trace) == 1
    assert re.fullmatch(
        r'  File ".*test_function\.py", line \d+, in handler\n    raise KeyError\("action"\)\n',
        trace[0],
    )


def test_stack_trace_lists_every_frame_below_the_handler() -> None:
    def inner() -> None:
        raise ValueError("deep")

    def handler(event: Any, context: Any) -> Any:
        inner()

    trace = attempt(Function(name="f", handler=handler)).response()["stackTrace"]
    assert [re.search(r"in (\w+)\n", line).group(1) for line in trace] == ["handler", "inner"]  # type: ignore[union-attr]
    assert "inner()" in trace[0]


@pytest.mark.parametrize(
    ("timeout", "text"), [(1, "1.00"), (3, "3.00"), (1.5, "1.50"), (900, "900.00")]
)
def test_timeout_document_prints_the_timeout_with_two_decimals(timeout: float, text: str) -> None:
    fn = Function(
        name="f", handler=lambda e, c: "never seen", timeout=timeout, duration=timeout + 1
    )
    result = attempt(fn)
    assert json.loads(result.payload) == {
        "errorType": "Sandbox.Timedout",
        "errorMessage": f"RequestId: {RID} Error: Task timed out after {text} seconds",
    }
    assert list(json.loads(result.payload)) == ["errorType", "errorMessage"]
    assert (result.function_error, result.error_type) == ("Unhandled", "Sandbox.Timedout")
    assert (result.started_at, result.ended_at) == (0.0, timeout)


@given(timeout=st.floats(min_value=1, max_value=900), over=st.floats(min_value=1e-3, max_value=100))
def test_any_overrun_times_out_at_the_timeout_and_discards_the_result(
    timeout: float, over: float
) -> None:
    def handler(event: Any, context: Any) -> Any:
        context.spend(timeout + over)
        return {"discarded": True}

    result = attempt(Function(name="f", handler=handler, timeout=timeout))
    assert result.error_type == "Sandbox.Timedout"
    assert result.duration == pytest.approx(timeout)
    assert f"Task timed out after {timeout:.2f} seconds" in result.response()["errorMessage"]
    assert "discarded" not in result.payload


def test_an_exception_raised_after_the_timeout_is_still_a_timeout() -> None:
    def handler(event: Any, context: Any) -> Any:
        context.spend(5)
        raise RuntimeError("too late to be seen")

    assert attempt(Function(name="f", handler=handler, timeout=3)).error_type == "Sandbox.Timedout"


def test_running_exactly_to_the_timeout_is_not_a_timeout() -> None:
    fn = Function(name="f", handler=lambda e, c: "ok", timeout=3, duration=3.0)
    result = attempt(fn)
    assert (result.ok, result.payload, result.ended_at) == (True, '"ok"', 3.0)


def test_unserializable_result_is_a_marshal_error() -> None:
    result = attempt(Function(name="f", handler=lambda e, c: {1, 2}))
    document = json.loads(result.payload)
    assert list(document) == ERROR_KEYS
    assert document == {
        "errorMessage": "Unable to marshal response: Object of type set is not JSON serializable",
        "errorType": "Runtime.MarshalError",
        "requestId": RID,
        "stackTrace": [],
    }
    assert result.function_error == "Unhandled"


def test_nan_result_is_a_marshal_error() -> None:
    result = attempt(Function(name="f", handler=lambda e, c: float("nan")))
    assert result.error_type == "Runtime.MarshalError"


def test_circular_result_is_a_marshal_error() -> None:
    loop: list[Any] = []
    loop.append(loop)
    result = attempt(Function(name="f", handler=lambda e, c: loop))
    assert (
        result.response()["errorMessage"]
        == "Unable to marshal response: Circular reference detected"
    )


def test_response_over_the_limit_is_function_response_size_too_large() -> None:
    big = "x" * (RESPONSE_PAYLOAD_LIMIT - 1)  # with its quotes: limit + 1 bytes
    result = attempt(Function(name="f", handler=lambda e, c: big))
    assert json.loads(result.payload) == {
        "errorMessage": "Response payload size exceeded maximum allowed payload size "
        "(6291556 bytes).",
        "errorType": "Function.ResponseSizeTooLarge",
    }
    assert list(json.loads(result.payload)) == ["errorMessage", "errorType"]
    assert result.function_error == "Unhandled"


def test_response_exactly_at_the_limit_is_returned() -> None:
    exact = "x" * (RESPONSE_PAYLOAD_LIMIT - 2)
    result = attempt(Function(name="f", handler=lambda e, c: exact))
    assert result.ok
    assert len(result.payload) == RESPONSE_PAYLOAD_LIMIT


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        (None, "Runtime exited without providing a reason"),
        (0, "Runtime exited without providing a reason"),
        (127, "Runtime exited with error: exit status 127"),
        ("fatal", "Runtime exited with error: exit status 1"),
        (True, "Runtime exited with error: exit status 1"),
        (-1, "Runtime exited with error: exit status 255"),
        (256, "Runtime exited without providing a reason"),
    ],
)
def test_sys_exit_is_a_runtime_exit_error(code: Any, reason: str) -> None:
    def handler(event: Any, context: Any) -> Any:
        context.spend(0.5)
        sys.exit(code)

    result = attempt(Function(name="f", handler=handler))
    assert json.loads(result.payload) == {
        "errorType": "Runtime.ExitError",
        "errorMessage": f"RequestId: {RID} Error: {reason}",
    }
    assert list(json.loads(result.payload)) == ["errorType", "errorMessage"]
    assert (result.function_error, result.duration) == ("Unhandled", 0.5)


def test_sys_exit_after_the_timeout_is_a_timeout() -> None:
    def handler(event: Any, context: Any) -> Any:
        context.spend(5)
        sys.exit(1)

    result = attempt(Function(name="f", handler=handler, timeout=3))
    assert (result.error_type, result.duration) == ("Sandbox.Timedout", 3.0)


def test_module_handler_string_is_loaded_on_the_first_attempt() -> None:
    fn = Function(name="f", handler="invokemodels.examples:hello")
    assert attempt(fn, {"name": "Ada"}).response() == {"message": "Hello, Ada!"}


@pytest.mark.parametrize(
    ("handler", "error_type", "message"),
    [
        (
            "no_such_module_xyz:handler",
            "Runtime.ImportModuleError",
            "Unable to import module 'no_such_module_xyz': No module named 'no_such_module_xyz'",
        ),
        (
            "invokemodels.examples:missing",
            "Runtime.HandlerNotFound",
            "Handler 'missing' missing on module 'invokemodels.examples'",
        ),
    ],
)
def test_unloadable_handler_is_a_runtime_fault(handler: str, error_type: str, message: str) -> None:
    result = attempt(Function(name="f", handler=handler))
    document = json.loads(result.payload)
    assert list(document) == ERROR_KEYS
    # an init error: the runtime reports it before any invoke, so requestId is ""
    assert document == {
        "errorMessage": message,
        "errorType": error_type,
        "requestId": "",
        "stackTrace": [],
    }
    assert (result.function_error, result.error_type) == ("Unhandled", error_type)
    assert result.request_id == RID


def test_file_handler_string_loads_the_file_and_its_siblings(tmp_path: Path) -> None:
    (tmp_path / "helper_mod_for_file_handler.py").write_text("GREETING = 'hi from a sibling'\n")
    (tmp_path / "app.py").write_text(
        "import helper_mod_for_file_handler\n"
        "def handler(event, context):\n"
        "    return {'greeting': helper_mod_for_file_handler.GREETING, 'n': event['n']}\n"
    )
    fn = Function(name="f", handler=f"{tmp_path}/app.py:handler")
    assert attempt(fn, {"n": 3}).response() == {"greeting": "hi from a sibling", "n": 3}


def test_file_handler_errors(tmp_path: Path) -> None:
    missing = attempt(Function(name="f", handler=f"{tmp_path}/nope.py:handler"))
    assert missing.error_type == "Runtime.ImportModuleError"
    assert missing.response()["errorMessage"].startswith(
        f"Unable to import module '{tmp_path}/nope.py'"
    )
    (tmp_path / "broken.py").write_text("x = 1\nraise RuntimeError('init failed')\n")
    broken = attempt(Function(name="f", handler=f"{tmp_path}/broken.py:handler"))
    document = broken.response()
    # an exception at import is reported under its own name, with its stack, as init errors
    assert list(document) == ERROR_KEYS
    assert (broken.function_error, broken.error_type) == ("Unhandled", "RuntimeError")
    assert document["errorType"] == "RuntimeError"
    assert document["errorMessage"] == "init failed"
    assert document["requestId"] == ""
    assert document["stackTrace"][-1] == (
        f'  File "{tmp_path}/broken.py", line 2, in <module>\n'
        "    raise RuntimeError('init failed')\n"
    )
    assert all(__file__ not in line for line in document["stackTrace"])
    (tmp_path / "syntax.py").write_text("def handler(:\n")
    syntax = attempt(Function(name="f", handler=f"{tmp_path}/syntax.py:handler")).response()
    assert syntax["errorType"] == "Runtime.UserCodeSyntaxError"
    assert syntax["errorMessage"].startswith(f"Syntax error in module '{tmp_path}/syntax.py': ")
    assert syntax["stackTrace"] == [f'  File "{tmp_path}/syntax.py" Line 1\n    def handler(:\n']
    assert syntax["requestId"] == ""
    (tmp_path / "nohandler.py").write_text("x = 1\n")
    absent = attempt(Function(name="f", handler=f"{tmp_path}/nohandler.py:handler"))
    assert absent.error_type == "Runtime.HandlerNotFound"


def test_import_error_inside_the_module_is_an_import_module_error(tmp_path: Path) -> None:
    (tmp_path / "needs_dep.py").write_text("import no_such_dependency_xyz\n")
    result = attempt(Function(name="f", handler=f"{tmp_path}/needs_dep.py:handler"))
    assert result.response() == {
        "errorMessage": f"Unable to import module '{tmp_path}/needs_dep.py': "
        "No module named 'no_such_dependency_xyz'",
        "errorType": "Runtime.ImportModuleError",
        "requestId": "",
        "stackTrace": [],
    }


def test_malformed_handler_string_and_a_file_loaded_once(tmp_path: Path) -> None:
    with pytest.raises(HandlerImportError) as info:
        load_handler("no-colon-here")
    assert info.value.error_type == "Runtime.MalformedHandlerName"
    (tmp_path / "loaded_once.py").write_text(
        "import os\nTOKEN = os.urandom(8).hex()\ndef handler(event, context):\n    return TOKEN\n"
    )
    spec = f"{tmp_path}/loaded_once.py:handler"
    first = attempt(Function(name="a", handler=spec)).response()
    second = attempt(Function(name="b", handler=spec)).response()
    assert first == second  # the module ran once; both functions share it


def test_load_handler_raises_for_callers_that_load_eagerly() -> None:
    with pytest.raises(HandlerImportError) as info:
        Function(name="f", handler="no_such_module_xyz:handler").load_handler()
    assert info.value.error_type == "Runtime.ImportModuleError"


# -- the JSON boundary ------------------------------------------------------------------------


def test_handler_gets_a_fresh_copy_of_the_event_each_attempt() -> None:
    seen: list[Any] = []

    def handler(event: Any, context: Any) -> Any:
        seen.append(json.dumps(event))
        event["items"].append("mutated")
        return event

    fn = Function(name="f", handler=handler)
    request = encode_payload({"items": [1]})
    clock = VirtualClock()
    first = fn.run_attempt(request, request_id="a", clock=clock)
    second = fn.run_attempt(request, request_id="b", clock=clock)
    assert seen == ['{"items": [1]}', '{"items": [1]}']
    assert first.response() == second.response() == {"items": [1, "mutated"]}


def test_none_returns_null() -> None:
    result = attempt(Function(name="f", handler=lambda e, c: None))
    assert (result.ok, result.payload, result.response()) == (True, "null", None)


@settings(max_examples=40)
@given(value=json_values)
def test_any_json_value_crosses_the_boundary_both_ways(value: Any) -> None:
    result = attempt(Function(name="f", handler=lambda e, c: e), value)
    assert result.ok
    assert result.response() == value


def test_bytes_payload_is_a_json_document() -> None:
    fn = Function(name="f", handler=lambda e, c: e)
    for raw in (b'{"a": 1}', bytearray(b' {"a": 1}\n'), b'{"a": 1}\r\n'):
        assert attempt_raw(fn, raw) == {"a": 1}


def attempt_raw(fn: Function, raw: bytes | bytearray) -> Any:
    return fn.run_attempt(encode_payload(raw), request_id=RID, clock=VirtualClock()).response()


@pytest.mark.parametrize(
    "raw",
    [
        b"{not json",
        b"",
        b"   ",
        b"\xff\xfe",
        b'{"a": 1} trailing',
        b"NaN",
        b'{"a": Infinity}',
        b"[-Infinity]",
    ],
)
def test_non_json_bytes_are_refused_with_400(raw: bytes) -> None:
    with pytest.raises(InvalidRequestContentError) as info:
        encode_payload(raw)
    error = info.value
    assert (error.code, error.status_code) == ("InvalidRequestContentException", 400)
    assert error.message.startswith("Could not parse request body into json")


def test_unserializable_value_is_refused_with_400() -> None:
    with pytest.raises(InvalidRequestContentError):
        encode_payload({"when": object()})
    with pytest.raises(InvalidRequestContentError):
        encode_payload(float("inf"))


def test_request_over_six_megabytes_is_refused_with_aws_wire_code_and_message() -> None:
    fits = "x" * (SYNC_PAYLOAD_LIMIT - 2)  # the quotes make it exactly the limit
    assert len(encode_payload(fits)) == SYNC_PAYLOAD_LIMIT
    with pytest.raises(RequestEntityTooLargeError) as info:
        encode_payload(fits + "x")
    error = info.value
    assert (error.code, error.status_code) == ("RequestEntityTooLargeException", 413)
    assert error.message == (
        "Request must be smaller than 6291456 bytes for the InvokeFunction operation"
    )
    assert error.to_response() == {
        "Error": {"Code": "RequestEntityTooLargeException", "Message": error.message},
        "Type": "User",
        "message": error.message,
        "ResponseMetadata": {"HTTPStatusCode": 413},
    }


def test_request_size_counts_utf8_bytes() -> None:
    text = '"' + "é" * 10 + '"'  # 10 characters, 20 bytes inside the quotes
    assert encode_payload(text.encode(), limit=22) == text
    with pytest.raises(RequestEntityTooLargeError):
        encode_payload(text.encode(), limit=21)
    assert encode_payload("x" * 100, limit=None) == json.dumps("x" * 100)


# -- the context object ----------------------------------------------------------------------


def echo_context(event: Any, context: Any) -> dict[str, Any]:
    return {
        "function_name": context.function_name,
        "function_version": context.function_version,
        "invoked_function_arn": context.invoked_function_arn,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "aws_request_id": context.aws_request_id,
        "log_group_name": context.log_group_name,
        "log_stream_name": context.log_stream_name,
        "client_context": context.client_context,
        "identity": [
            context.identity.cognito_identity_id,
            context.identity.cognito_identity_pool_id,
        ],
        "remaining": context.get_remaining_time_in_millis(),
    }


def test_context_has_every_documented_attribute_with_runtime_types() -> None:
    fn = Function(
        name="orders",
        handler=echo_context,
        memory_size=512,
        timeout=30,
        region="eu-west-1",
        account=Account(account_id="111122223333"),
    )
    seen = attempt(fn).response()
    stream = seen.pop("log_stream_name")
    assert seen == {
        "function_name": "orders",
        "function_version": "$LATEST",
        "invoked_function_arn": "arn:aws:lambda:eu-west-1:111122223333:function:orders",
        "memory_limit_in_mb": "512",
        "aws_request_id": RID,
        "log_group_name": "/aws/lambda/orders",
        "client_context": None,
        "identity": [None, None],
        "remaining": 30000,
    }
    # the virtual clock's default epoch origin is 2023-11-14T22:13:20Z
    assert re.fullmatch(r"2023/11/14/\[\$LATEST\][0-9a-f]{32}", stream)
    named = Function(name="orders", handler=echo_context, log_stream_name="custom/stream")
    assert attempt(named).response()["log_stream_name"] == "custom/stream"


def test_qualified_invoke_shows_the_qualifier_in_the_arn() -> None:
    fn = Function(name="orders", handler=echo_context, version="7")
    seen = attempt(fn, qualifier="live").response()
    assert (
        seen["invoked_function_arn"] == "arn:aws:lambda:us-east-1:123456789012:function:orders:live"
    )
    assert seen["function_version"] == "7"
    assert fn.qualified_arn() == "arn:aws:lambda:us-east-1:123456789012:function:orders:7"


def test_client_context_reaches_the_handler() -> None:
    captured: list[Any] = []
    fn = Function(name="f", handler=lambda e, c: captured.append(c.client_context))
    context = ClientContext.from_dict({"client": {"app_title": "shop"}, "custom": {"k": "v"}})
    attempt(fn, client_context=context)
    assert captured[0].client.app_title == "shop"
    assert captured[0].custom == {"k": "v"}
    assert captured[0].env is None


@given(
    timeout=st.integers(min_value=1, max_value=900),
    spends=st.lists(st.floats(min_value=0, max_value=400), max_size=5),
)
def test_remaining_time_follows_spent_time_and_is_clamped_at_zero(
    timeout: int, spends: list[float]
) -> None:
    observed: list[tuple[float, int]] = []

    def handler(event: Any, context: Any) -> Any:
        for seconds in spends:
            context.spend(seconds)
            observed.append((context.spent, context.get_remaining_time_in_millis()))

    attempt(Function(name="f", handler=handler, timeout=timeout))
    for spent, remaining in observed:
        assert remaining == max(0, int((timeout - spent) * 1000))
        assert remaining >= 0


def test_remaining_time_follows_the_clock() -> None:
    clock = VirtualClock()
    fn = Function(name="f", handler=echo_context, timeout=3)
    context = fn.new_context(RID, clock, clock.now())
    assert context.get_remaining_time_in_millis() == 3000
    clock.sleep_until(1.25)
    assert context.get_remaining_time_in_millis() == 1750
    assert context.elapsed == 1.25
    clock.sleep_until(10.0)
    assert context.get_remaining_time_in_millis() == 0
    assert "aws_request_id" in repr(context)


def test_spend_adds_to_the_modelled_duration() -> None:
    def handler(event: Any, context: Any) -> Any:
        context.spend(1.5)
        context.spend(0.25)
        return context.spent

    fn = Function(name="f", handler=handler, timeout=10, duration=lambda event: event["base"])
    result = attempt(fn, {"base": 2.0})
    assert (result.response(), result.duration) == (1.75, 3.75)


def test_spend_rejects_negative_seconds() -> None:
    def handler(event: Any, context: Any) -> Any:
        context.spend(-1)

    result = attempt(Function(name="f", handler=handler))
    assert result.error_type == "ValueError"
    assert result.response()["errorMessage"] == (
        "context.spend() takes a finite number of seconds >= 0, got -1"
    )


def test_duration_callable_must_return_non_negative_seconds() -> None:
    fn = Function(name="f", handler=lambda e, c: 1, duration=lambda event: -1)
    with pytest.raises(InvalidParameterValueError, match="duration"):
        attempt(fn)


# -- the real clock ------------------------------------------------------------------------


def test_real_clock_runs_the_handler_and_measures_it() -> None:
    fn = Function(name="f", handler=lambda e, c: {"remaining": c.get_remaining_time_in_millis()})
    result = attempt(fn, clock=SystemClock())
    assert result.ok
    assert 0 < result.response()["remaining"] <= 3000
    assert 0 <= result.duration < 1


def test_real_clock_reports_errors_and_exits() -> None:
    def fail(event: Any, context: Any) -> Any:
        raise ValueError("real")

    def leave(event: Any, context: Any) -> Any:
        sys.exit(2)

    clock = SystemClock()
    assert attempt(Function(name="f", handler=fail), clock=clock).error_type == "ValueError"
    assert attempt(Function(name="f", handler=leave), clock=clock).error_type == "Runtime.ExitError"
    assert attempt(Function(name="f", handler="no_such_xyz:h"), clock=clock).error_type == (
        "Runtime.ImportModuleError"
    )


def test_real_clock_enforces_the_timeout_for_real() -> None:
    release = threading.Event()

    def handler(event: Any, context: Any) -> Any:
        release.wait(5)
        return "late"

    try:
        result = attempt(Function(name="f", handler=handler, timeout=1), clock=SystemClock())
    finally:
        release.set()
    assert result.error_type == "Sandbox.Timedout"
    assert result.response()["errorMessage"].endswith("Task timed out after 1.00 seconds")


# -- configuration -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"timeout": 0}, "Timeout=0 is invalid: must be a number between 1 and 900"),
        ({"timeout": 901}, "Timeout=901 is invalid: must be a number between 1 and 900"),
        (
            {"memory_size": 127},
            "MemorySize=127 is invalid: must be an integer between 128 and 10240",
        ),
        (
            {"memory_size": 10241},
            "MemorySize=10241 is invalid: must be an integer between 128 and 10240",
        ),
        (
            {"memory_size": 256.5},
            "MemorySize=256.5 is invalid: must be an integer between 128 and 10240",
        ),
        ({"name": "has space"}, "FunctionName='has space' is invalid: must be 1-64 characters"),
        ({"name": "x" * 65}, "FunctionName='" + "x" * 65 + "' is invalid"),
        ({"handler": "nocolon"}, "Handler='nocolon' is invalid: must be a callable"),
        ({"handler": 42}, "Handler=42 is invalid"),
        ({"version": "v1"}, "Version='v1' is invalid: must be '$LATEST' or digits"),
        ({"region": "mars"}, "Region='mars' is invalid: must look like 'us-east-1'"),
        (
            {"duration": -1},
            "duration=-1 is invalid: must be a finite number of seconds >= 0, or a callable "
            "of the event",
        ),
        (
            {"reserved_concurrency": -1},
            "ReservedConcurrentExecutions=-1 is invalid: must be an integer between 0 and 1000",
        ),
        (
            {"reserved_concurrency": 901},
            "ReservedConcurrentExecutions=901 is invalid: Specified ReservedConcurrentExecutions "
            "for function decreases account's UnreservedConcurrentExecution below its minimum "
            "value of [100]",
        ),
    ],
)
def test_bad_configuration_names_parameter_value_and_range(
    kwargs: dict[str, Any], message: str
) -> None:
    config: dict[str, Any] = {"name": "f", "handler": lambda e, c: None, **kwargs}
    with pytest.raises(InvalidParameterValueError) as info:
        Function(**config)
    assert str(info.value).startswith(message)
    assert isinstance(info.value, ValueError)
    assert info.value.code == "InvalidParameterValueException"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"concurrency_limit": 0}, "ConcurrentExecutions=0 is invalid"),
        ({"account_id": "12345"}, "account_id='12345' is invalid: must be 12 digits"),
        ({"concurrency_limit": 50, "unreserved_minimum": 60}, "unreserved_minimum=60 is invalid"),
    ],
)
def test_bad_account_configuration(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidParameterValueError, match=re.escape(message)):
        Account(**kwargs)


def test_assigning_an_out_of_range_value_later_is_refused_too() -> None:
    fn = Function(name="f", handler=lambda e, c: None)
    with pytest.raises(InvalidParameterValueError, match="Timeout=0"):
        fn.timeout = 0


# -- concurrency -----------------------------------------------------------------------------


def test_reserved_concurrency_throttles_with_the_reserved_reason() -> None:
    fn = Function(name="f", handler=lambda e, c: None, reserved_concurrency=2)
    assert [fn.try_acquire() for _ in range(3)] == [None, None, ThrottleReason.RESERVED]
    assert ThrottleReason.RESERVED == "ReservedFunctionConcurrentInvocationLimitExceeded"
    assert fn.in_flight == 2
    fn.release()
    assert fn.try_acquire() is None


def test_throttle_reasons_are_aws_enum() -> None:
    values = {v for k, v in vars(ThrottleReason).items() if k.isupper()}
    assert values == {
        "ConcurrentInvocationLimitExceeded",
        "FunctionInvocationRateLimitExceeded",
        "ReservedFunctionConcurrentInvocationLimitExceeded",
        "ReservedFunctionInvocationRateLimitExceeded",
        "CallerRateLimitExceeded",
        "ConcurrentSnapshotCreateLimitExceeded",
    }


def test_reserved_zero_always_throttles() -> None:
    fn = Function(name="f", handler=lambda e, c: None, reserved_concurrency=0)
    assert fn.try_acquire() == ThrottleReason.RESERVED


def test_account_limit_is_shared_by_unreserved_functions() -> None:
    account = Account(concurrency_limit=3, unreserved_minimum=0)
    a = Function(name="a", handler=lambda e, c: None, account=account)
    b = Function(name="b", handler=lambda e, c: None, account=account)
    assert [a.try_acquire(), a.try_acquire(), b.try_acquire(), b.try_acquire()] == [
        None,
        None,
        None,
        ThrottleReason.ACCOUNT,
    ]
    assert ThrottleReason.ACCOUNT == "ConcurrentInvocationLimitExceeded"
    assert (a.in_flight, b.in_flight, account.unreserved_in_flight) == (2, 1, 3)
    a.release()
    assert b.try_acquire() is None


def test_reservations_shrink_the_unreserved_pool() -> None:
    account = Account(concurrency_limit=200)
    reserved = Function(
        name="r", handler=lambda e, c: None, account=account, reserved_concurrency=50
    )
    shared = Function(name="s", handler=lambda e, c: None, account=account)
    assert account.unreserved_limit == 150
    assert [shared.try_acquire() for _ in range(151)].count(ThrottleReason.ACCOUNT) == 1
    # the reserved function does not draw from the shared pool
    assert reserved.try_acquire() is None
    assert account.unreserved_in_flight == 150
    reserved.release()
    reserved.set_reserved_concurrency(None)
    assert account.unreserved_limit == 200
    assert "limit=200" in repr(account)


def test_release_without_acquire_is_an_error() -> None:
    fn = Function(name="f", handler=lambda e, c: None)
    with pytest.raises(RuntimeError, match="release"):
        fn.release()


def test_cannot_move_between_pools_mid_attempt() -> None:
    fn = Function(name="f", handler=lambda e, c: None)
    fn.try_acquire()
    with pytest.raises(RuntimeError, match="mid-attempt"):
        fn.set_reserved_concurrency(5)
    with pytest.raises(InvalidParameterValueError):
        fn.set_reserved_concurrency(-2)


# -- determinism ---------------------------------------------------------------------------


@given(seed=st.integers(min_value=0, max_value=2**64))
def test_request_ids_are_uuid4_and_follow_the_seed(seed: int) -> None:
    first = [new_request_id(random.Random(seed)) for _ in range(1)]
    rng_a, rng_b = random.Random(seed), random.Random(seed)
    ids_a = [new_request_id(rng_a) for _ in range(5)]
    ids_b = [new_request_id(rng_b) for _ in range(5)]
    assert ids_a == ids_b
    assert ids_a[0] == first[0]
    for request_id in ids_a:
        parsed = uuid.UUID(request_id)
        assert parsed.version == 4
        assert str(parsed) == request_id


def test_repr_and_identity() -> None:
    fn = Function(name="orders", handler=lambda e, c: None)
    assert repr(fn) == "<Function orders $LATEST in_flight=0>"
    assert fn.log_group_name == "/aws/lambda/orders"
    result = attempt(fn)
    assert repr(result) == f"<AttemptResult {RID} ok 0.0->0.0>"


@pytest.mark.parametrize(
    ("error", "code", "status", "kind"),
    [
        (InvalidRequestContentError("bad"), "InvalidRequestContentException", 400, "User"),
        (RequestEntityTooLargeError("big"), "RequestEntityTooLargeException", 413, "User"),
        (ResourceNotFoundError("gone"), "ResourceNotFoundException", 404, "User"),
        (ServiceError("oops"), "ServiceException", 500, "Service"),
    ],
)
def test_invocation_errors_have_boto3_shape_key_by_key(
    error: InvocationError, code: str, status: int, kind: str
) -> None:
    assert (error.code, error.status_code) == (code, status)
    response = error.to_response()
    assert list(response) == ["Error", "Type", "message", "ResponseMetadata"]
    assert response == {
        "Error": {"Code": code, "Message": error.message},
        "Type": kind,
        "message": error.message,
        "ResponseMetadata": {"HTTPStatusCode": status},
    }
    assert str(error) == f"{code} ({status}): {error.message}"


def test_throttle_error_carries_retry_after_like_aws() -> None:
    error = TooManyRequestsError(ThrottleReason.ACCOUNT, retry_after=2.0)
    assert error.to_response()["retryAfterSeconds"] == "2"
    assert str(error) == (
        "TooManyRequestsException (429, ConcurrentInvocationLimitExceeded): Rate Exceeded."
    )
