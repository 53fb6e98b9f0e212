"""AWS's wire shapes, in one module: every record, attribute and document Lambda builds,
key for key, as httpx keeps its wire shapes in ``_models.py``.

Builders are plain functions of plain values (strings, numbers, dicts), never the objects
of the rooms that call them, so every model (or a user's) builds the same shapes without an
import cycle.

Sections:

- asynchronous invocation: the invocation record (`invocation_record`), the dead-letter
  message attributes (`dead_letter_attributes`, `first_kilobyte`).
- function errors: the runtime's error documents (`error_document`, `exit_document`,
  `timeout_document`, `response_too_large_document`).
- event source mappings: SQS event records (`sqs_record`, `lambda_attributes`), Kinesis
  and DynamoDB stream event records (`kinesis_record`, `dynamodb_record`), the stream
  on-failure record (`stream_on_failure_record`), and the EventBridge envelope a
  destination wraps records in (`eventbridge_event`).
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping
from typing import Any, Final, Protocol

from invokemodels.core._clock import iso_timestamp

__all__ = [
    "ERROR_MESSAGE_LIMIT",
    "dead_letter_attributes",
    "dynamodb_record",
    "error_document",
    "eventbridge_event",
    "exit_document",
    "first_kilobyte",
    "invocation_record",
    "kinesis_record",
    "lambda_attributes",
    "response_too_large_document",
    "sqs_record",
    "stream_on_failure_record",
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


# -- event source mappings -----------------------------------------------------------------


def lambda_attributes(attributes: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Message attributes in the shape Lambda puts in an SQS event record (reference 5.1)."""
    out: dict[str, dict[str, Any]] = {}
    for name, spec in attributes.items():
        binary = spec.get("BinaryValue")
        if binary is not None:
            entry: dict[str, Any] = {"binaryValue": base64.b64encode(binary).decode("ascii")}
        else:
            entry = {"stringValue": spec["StringValue"]}
        entry["stringListValues"] = []
        entry["binaryListValues"] = []
        entry["dataType"] = spec["DataType"]
        out[name] = entry
    return out


def sqs_record(
    message_id: str,
    receipt_handle: str,
    body: str,
    attributes: Mapping[str, str],
    message_attributes: Mapping[str, Mapping[str, Any]],
    md5_of_message_attributes: str | None,
    md5_of_body: str,
    event_source_arn: str,
    region: str,
) -> dict[str, Any]:
    """One record of an SQS event, key for key as Lambda sends it (reference 5.1, 5.2).

    ``message_attributes`` are SQS's (``StringValue`` / ``BinaryValue`` / ``DataType``);
    ``md5OfMessageAttributes`` is null for a message without message attributes.
    """
    return {
        "messageId": message_id,
        "receiptHandle": receipt_handle,
        "body": body,
        "attributes": dict(attributes),
        "messageAttributes": lambda_attributes(message_attributes),
        "md5OfMessageAttributes": md5_of_message_attributes,
        "md5OfBody": md5_of_body,
        "eventSource": "aws:sqs",
        "eventSourceARN": event_source_arn,
        "awsRegion": region,
    }


def kinesis_record(
    partition_key: str,
    sequence_number: str,
    data: bytes,
    arrival_epoch: float,
    shard_id: str,
    region: str,
    stream_arn: str,
) -> dict[str, Any]:
    """One record of a Kinesis event (reference 5.3); ``invokeIdentityArn`` is left empty
    for the mapping to fill in."""
    return {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": partition_key,
            "sequenceNumber": sequence_number,
            "data": base64.b64encode(data).decode("ascii"),
            "approximateArrivalTimestamp": arrival_epoch,
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": f"{shard_id}:{sequence_number}",
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": "",
        "awsRegion": region,
        "eventSourceARN": stream_arn,
    }


def dynamodb_record(
    event_id: str,
    event_name: str,
    dynamodb: dict[str, Any],
    region: str,
    stream_arn: str,
) -> dict[str, Any]:
    """One record of a DynamoDB Streams event (reference 5.4); ``dynamodb`` is the
    ``StreamRecord`` (keys, images, sequence number, size, view type)."""
    return {
        "eventID": event_id,
        "eventName": event_name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": region,
        "dynamodb": dynamodb,
        "eventSourceARN": stream_arn,
    }


def stream_on_failure_record(
    *,
    request_id: str,
    function_arn: str,
    condition: str,
    invoke_count: int,
    response: tuple[str | None, str | None] | None,
    epoch: float,
    kinesis: bool,
    shard_id: str,
    start_sequence_number: str,
    end_sequence_number: str,
    first_arrival_epoch: float,
    last_arrival_epoch: float,
    batch_size: int,
    stream_arn: str,
) -> dict[str, Any]:
    """The on-failure record of a Kinesis or DynamoDB mapping (reference 3.4, recorded shape).

    ``response`` is ``(executedVersion, functionError)`` of the last invocation when the
    record has a ``responseContext`` (``RetryAttemptsExhausted`` after an invoke), else
    None.  An S3 destination's ``payload`` is added by the caller.
    """
    record: dict[str, Any] = {
        "requestContext": {
            "requestId": request_id,
            "functionArn": function_arn,
            "condition": condition,
            "approximateInvokeCount": invoke_count,
        }
    }
    if response is not None:
        record["responseContext"] = {
            "statusCode": 200,
            "executedVersion": response[0],
            "functionError": response[1],
        }
    record["version"] = "1.0"
    record["timestamp"] = iso_timestamp(epoch)
    record["KinesisBatchInfo" if kinesis else "DDBStreamBatchInfo"] = {
        "shardId": shard_id,
        "startSequenceNumber": start_sequence_number,
        "endSequenceNumber": end_sequence_number,
        "approximateArrivalOfFirstRecord": iso_timestamp(first_arrival_epoch, milliseconds=kinesis),
        "approximateArrivalOfLastRecord": iso_timestamp(last_arrival_epoch, milliseconds=kinesis),
        "batchSize": batch_size,
        "streamArn": stream_arn,
    }
    return record


def eventbridge_event(
    *,
    event_id: str,
    success: bool,
    source: str,
    account_id: str,
    epoch: float,
    region: str,
    bus_arn: str,
    function_arn: str,
    detail: dict[str, Any],
) -> dict[str, Any]:
    """The EventBridge envelope a destination record arrives in (recorded shape, reference 3.6)."""
    outcome = "Success" if success else "Failure"
    return {
        "version": "0",
        "id": event_id,
        "detail-type": f"Lambda Function Invocation Result - {outcome}",
        "source": source,
        "account": account_id,
        "time": iso_timestamp(epoch, milliseconds=False),
        "region": region,
        "resources": [bus_arn, function_arn],
        "detail": detail,
    }
