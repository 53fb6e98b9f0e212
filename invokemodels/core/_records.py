"""Every AWS shape the models write, key for key: records, attributes and documents.

One module of wire shapes, as httpx keeps its in ``_models.py``.  Each section is one
invocation model's; the builders are plain functions of plain values, so any model (or a
user's) builds the same shapes.
"""

from __future__ import annotations

import json
import re
from typing import Any, Final, Protocol

from invokemodels.core._clock import iso_timestamp

__all__ = [
    "ERROR_MESSAGE_LIMIT",
    "dead_letter_attributes",
    "error_document",
    "exit_document",
    "first_kilobyte",
    "invocation_record",
    "response_too_large_document",
    "timeout_document",
]


# -- asynchronous invocation ------------------------------------------------------------------

ERROR_MESSAGE_LIMIT: Final = 1024
"""The dead-letter ``ErrorMessage`` attribute holds the first 1 KB of the error message."""

_SURROGATE: Final = re.compile("[\ud800-\udfff]")


class _Execution(Protocol):
    """What a record reads of the last execution (an `AttemptResult`)."""

    @property
    def executed_version(self) -> str: ...

    @property
    def function_error(self) -> str | None: ...

    @property
    def payload(self) -> str: ...


def invocation_record(
    *,
    request_id: str,
    function_arn: str,
    condition: str,
    approximate_invoke_count: int,
    request: str,
    last: _Execution | None,
    epoch: float,
) -> dict[str, Any]:
    """The asynchronous invocation record, key for key (reference 3.6).

    ``responseContext`` and ``responsePayload`` come from the ``last`` execution;
    ``functionError`` is absent on success.  For an event that never ran (only throttled,
    or dropped for zero concurrency) the shape is [UNCONFIRMED]: this library leaves out
    ``responseContext`` and ``responsePayload`` and reports ``approximateInvokeCount`` 0.
    ``condition`` is AWS's field for why the event ended (``Success``,
    ``RetriesExhausted``, ``EventAgeExceeded``, or a custom retry policy's stop reason).
    """
    record: dict[str, Any] = {
        "version": "1.0",
        "timestamp": iso_timestamp(epoch),
        "requestContext": {
            "requestId": request_id,
            "functionArn": function_arn,
            "condition": condition,
            "approximateInvokeCount": approximate_invoke_count,
        },
        "requestPayload": json.loads(request),
    }
    if last is not None:
        context: dict[str, Any] = {"statusCode": 200, "executedVersion": last.executed_version}
        if last.function_error is not None:
            context["functionError"] = last.function_error
        record["responseContext"] = context
        record["responsePayload"] = json.loads(last.payload)
    return record


def first_kilobyte(text: str) -> str:
    """The first KB of an error message as SQS and SNS can carry it.

    A lone surrogate (``ValueError("\\ud800")``) has no UTF-8 form: it becomes
    U+FFFD, the Unicode replacement character, which Go's ``encoding/json`` (the
    Runtime API's) also decodes an unpaired ``\\ud800`` escape to.  What Lambda's
    own DLQ writer does is [UNCONFIRMED].
    """
    text = _SURROGATE.sub("\ufffd", text)
    data = text.encode("utf-8")
    if len(data) <= ERROR_MESSAGE_LIMIT:
        return text
    return data[:ERROR_MESSAGE_LIMIT].decode("utf-8", errors="ignore")


def dead_letter_attributes(
    request_id: str, error_code: int, error_message: str
) -> dict[str, dict[str, str]]:
    """The dead-letter message attributes: ``RequestID``, ``ErrorCode``, ``ErrorMessage``.

    ``ErrorCode`` is the HTTP status of the last try (200 for a function error, 429, 500);
    ``ErrorMessage`` is the first kilobyte of the error message (`first_kilobyte`), in
    SQS's ``DataType`` / ``StringValue`` shape (reference 3.7).
    """
    return {
        "RequestID": {"DataType": "String", "StringValue": request_id},
        "ErrorCode": {"DataType": "Number", "StringValue": str(error_code)},
        "ErrorMessage": {"DataType": "String", "StringValue": first_kilobyte(error_message)},
    }


# -- function errors --------------------------------------------------------------------------


def error_document(
    error_type: str, message: str, request_id: str, stack_trace: list[str]
) -> dict[str, Any]:
    """The Python runtime's error document: an exception, a fault (no stack), an init error.

    ``requestId`` is ``""`` for an init error (posted before any invoke exists).
    """
    return {
        "errorMessage": message,
        "errorType": error_type,
        "requestId": request_id,
        "stackTrace": stack_trace,
    }


def timeout_document(request_id: str, timeout: float) -> dict[str, Any]:
    """Lambda's document for a function that ran past its timeout (``Sandbox.Timedout``)."""
    return {
        "errorType": "Sandbox.Timedout",
        "errorMessage": f"RequestId: {request_id} Error: Task timed out after "
        f"{timeout:.2f} seconds",
    }


def exit_document(request_id: str, reason: str) -> dict[str, Any]:
    """Lambda's document for a runtime process that ended (``Runtime.ExitError``)."""
    return {
        "errorType": "Runtime.ExitError",
        "errorMessage": f"RequestId: {request_id} Error: {reason}",
    }


def response_too_large_document(limit: int) -> dict[str, Any]:
    """Lambda's document for a response over ``limit`` bytes (``Function.ResponseSizeTooLarge``)."""
    return {
        "errorMessage": "Response payload size exceeded maximum allowed payload size "
        f"({limit} bytes).",
        "errorType": "Function.ResponseSizeTooLarge",
    }
