"""AWS's wire shapes, in one module: every record Lambda builds, key for key.

Builders take plain values (strings, numbers, dicts), never the objects of the rooms that
call them, so every model can use them without an import cycle.

Sections:

- event source mappings: SQS event records (`sqs_record`, `lambda_attributes`), Kinesis
  and DynamoDB stream event records (`kinesis_record`, `dynamodb_record`), the stream
  on-failure record (`stream_on_failure_record`), and the EventBridge envelope a
  destination wraps records in (`eventbridge_event`).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

from invokemodels.core._clock import iso_timestamp

__all__ = [
    "dynamodb_record",
    "eventbridge_event",
    "kinesis_record",
    "lambda_attributes",
    "sqs_record",
    "stream_on_failure_record",
]


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
