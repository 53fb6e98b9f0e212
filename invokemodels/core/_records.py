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
  and DynamoDB stream event records (`kinesis_record`, `dynamodb_record`,
  `dynamodb_change`), the system attributes of an SQS record (`sqs_attributes`), the
  stream on-failure record (`stream_on_failure_record`), EventBridge events
  (`eventbridge_envelope`) and the envelope a destination wraps records in
  (`eventbridge_event`).
- services that invoke asynchronously: S3 event notifications (`s3_record`, `s3_event`,
  `s3_object_key`), SNS notifications (`sns_record`, `sns_event`, `sns_attributes`).
- services that invoke synchronously: API Gateway REST proxy events, payload 1.0
  (`rest_api_event`, `rest_request_context`), HTTP API events, payload 2.0
  (`http_api_event`, `http_request_context`), function URL events
  (`function_url_event`), and their timestamps (`clf_timestamp`).
"""

from __future__ import annotations

import base64
import datetime as _dt
import json
import re
import urllib.parse
from collections.abc import Mapping
from typing import Any, Final, Protocol

from invokemodels.core._clock import iso_timestamp

__all__ = [
    "ERROR_MESSAGE_LIMIT",
    "clf_timestamp",
    "dead_letter_attributes",
    "dynamodb_change",
    "dynamodb_record",
    "error_document",
    "eventbridge_envelope",
    "eventbridge_event",
    "exit_document",
    "first_kilobyte",
    "function_url_event",
    "http_api_event",
    "http_request_context",
    "invocation_record",
    "kinesis_record",
    "lambda_attributes",
    "response_too_large_document",
    "rest_api_event",
    "rest_request_context",
    "s3_event",
    "s3_object_key",
    "s3_record",
    "sns_attributes",
    "sns_event",
    "sns_record",
    "sqs_attributes",
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


def sqs_attributes(
    *,
    receive_count: int,
    sent_ms: int,
    sender_id: str,
    first_receive_ms: int,
    sequence_number: str | None = None,
    group_id: str | None = None,
    deduplication_id: str | None = None,
) -> dict[str, str]:
    """The ``attributes`` of an SQS event record, in AWS's key order, every value a string
    (reference 5.1, 5.2).

    ``sequence_number``, ``group_id`` and ``deduplication_id`` are a FIFO queue's (all
    three or none); the timestamps are epoch milliseconds.
    """
    attributes = {"ApproximateReceiveCount": str(receive_count), "SentTimestamp": str(sent_ms)}
    if group_id is not None:
        attributes["SequenceNumber"] = str(sequence_number)
        attributes["MessageGroupId"] = group_id
        attributes["SenderId"] = sender_id
        attributes["MessageDeduplicationId"] = str(deduplication_id)
    else:
        attributes["SenderId"] = sender_id
    attributes["ApproximateFirstReceiveTimestamp"] = str(first_receive_ms)
    return attributes


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


def dynamodb_change(
    *,
    created_epoch: float,
    keys: dict[str, Any],
    new_image: dict[str, Any] | None,
    old_image: dict[str, Any] | None,
    sequence_number: str,
    size_bytes: int,
    stream_view_type: str,
) -> dict[str, Any]:
    """The ``dynamodb`` part of a DynamoDB Streams record (``StreamRecord``, reference 5.4).

    The images are kept as ``stream_view_type`` says (``NEW_IMAGE`` keeps the new one,
    ``OLD_IMAGE`` the old, ``NEW_AND_OLD_IMAGES`` both, ``KEYS_ONLY`` neither); an image
    that is None (no new image for a ``REMOVE``) is absent.  ``created_epoch`` is rounded
    down to the second, as ``ApproximateCreationDateTime`` is.
    """
    change: dict[str, Any] = {
        "ApproximateCreationDateTime": float(int(created_epoch)),
        "Keys": keys,
    }
    if new_image is not None and stream_view_type in ("NEW_IMAGE", "NEW_AND_OLD_IMAGES"):
        change["NewImage"] = new_image
    if old_image is not None and stream_view_type in ("OLD_IMAGE", "NEW_AND_OLD_IMAGES"):
        change["OldImage"] = old_image
    change["SequenceNumber"] = sequence_number
    change["SizeBytes"] = size_bytes
    change["StreamViewType"] = stream_view_type
    return change


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
    return eventbridge_envelope(
        event_id=event_id,
        detail_type=f"Lambda Function Invocation Result - {outcome}",
        source=source,
        account_id=account_id,
        epoch=epoch,
        region=region,
        resources=[bus_arn, function_arn],
        detail=detail,
    )


def eventbridge_envelope(
    *,
    event_id: str,
    detail_type: str,
    source: str,
    account_id: str,
    epoch: float,
    region: str,
    resources: list[str],
    detail: Any,
) -> dict[str, Any]:
    """An EventBridge event as a rule's target receives it, key for key: ``version`` "0",
    ``time`` to the second (SAM's ``ScheduledEvent.json``, Powertools'
    ``eventBridgeEvent.json``)."""
    return {
        "version": "0",
        "id": event_id,
        "detail-type": detail_type,
        "source": source,
        "account": account_id,
        "time": iso_timestamp(epoch, milliseconds=False),
        "region": region,
        "resources": list(resources),
        "detail": detail,
    }


# -- services that invoke asynchronously: S3 and SNS ----------------------------------------


def s3_object_key(key: str) -> str:
    """An object key as S3 writes it into an event notification: URL-encoded the way a
    form is (``"red flower.jpg"`` becomes ``"red+flower.jpg"``, ``+`` becomes ``%2B``),
    with ``/`` left as it is (reference: docs/reference/triggers-async.md, the record).

    Which characters besides space, ``+``, ``=``, ``:`` and non-ASCII S3 encodes is
    [UNCONFIRMED]: this library encodes what Python's ``quote_plus`` does, keeping ``/``.
    """
    return urllib.parse.quote_plus(key, safe="/")


def s3_record(
    *,
    event_version: str,
    region: str,
    epoch: float,
    event_name: str,
    principal_id: str,
    source_ip: str,
    request_id: str,
    host_id: str,
    configuration_id: str,
    bucket: str,
    owner_id: str,
    key: str,
    size: int | None,
    etag: str | None,
    version_id: str | None,
    sequencer: str,
) -> dict[str, Any]:
    """One record of an S3 event notification, key for key (reference 5.5, SAM's
    ``S3Delete.json``).

    ``event_name`` is without the ``s3:`` prefix (``ObjectCreated:Put``); ``key`` is the
    object's key as stored, URL-encoded here (`s3_object_key`).  ``size`` and ``etag``
    are None for a removal, which carries neither; ``version_id`` is None for an
    unversioned bucket (the key is then absent).
    """
    obj: dict[str, Any] = {"key": s3_object_key(key)}
    if size is not None:
        obj["size"] = size
    if etag is not None:
        obj["eTag"] = etag
    if version_id is not None:
        obj["versionId"] = version_id
    obj["sequencer"] = sequencer
    return {
        "eventVersion": event_version,
        "eventSource": "aws:s3",
        "awsRegion": region,
        "eventTime": iso_timestamp(epoch),
        "eventName": event_name,
        "userIdentity": {"principalId": principal_id},
        "requestParameters": {"sourceIPAddress": source_ip},
        "responseElements": {"x-amz-request-id": request_id, "x-amz-id-2": host_id},
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": configuration_id,
            "bucket": {
                "name": bucket,
                "ownerIdentity": {"principalId": owner_id},
                "arn": f"arn:aws:s3:::{bucket}",
            },
            "object": obj,
        },
    }


def s3_event(records: list[dict[str, Any]]) -> dict[str, Any]:
    """The event a function receives from S3: ``{"Records": [...]}`` (one record per
    notification, reference 5.5)."""
    return {"Records": list(records)}


def sns_attributes(attributes: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, str]]:
    """SNS message attributes (``DataType`` / ``StringValue`` / ``BinaryValue``, as
    ``Publish`` takes them) in the shape of an SNS notification: ``Type`` / ``Value``,
    a binary value base64-encoded (reference 5.6)."""
    out: dict[str, dict[str, str]] = {}
    for name, spec in attributes.items():
        binary = spec.get("BinaryValue")
        if binary is not None:
            value = base64.b64encode(binary).decode("ascii")
        else:
            value = spec["StringValue"]
        out[name] = {"Type": spec["DataType"], "Value": value}
    return out


def sns_record(
    *,
    subscription_arn: str,
    topic_arn: str,
    message_id: str,
    message: str,
    subject: str | None,
    message_attributes: Mapping[str, Mapping[str, Any]],
    epoch: float,
    signature: str,
    signing_cert_url: str,
    unsubscribe_url: str,
) -> dict[str, Any]:
    """One record of an SNS event, key for key (reference 5.6).

    ``message_attributes`` are ``Publish``'s (see `sns_attributes`); ``subject`` is None
    when the publisher gave none (``"Subject": null``).  The record has no region key:
    the region is part of the ARNs and URLs.
    """
    return {
        "EventVersion": "1.0",
        "EventSubscriptionArn": subscription_arn,
        "EventSource": "aws:sns",
        "Sns": {
            "SignatureVersion": "1",
            "Timestamp": iso_timestamp(epoch),
            "Signature": signature,
            "SigningCertUrl": signing_cert_url,
            "MessageId": message_id,
            "Message": message,
            "MessageAttributes": sns_attributes(message_attributes),
            "Type": "Notification",
            "UnsubscribeUrl": unsubscribe_url,
            "TopicArn": topic_arn,
            "Subject": subject,
        },
    }


def sns_event(records: list[dict[str, Any]]) -> dict[str, Any]:
    """The event a function receives from SNS: ``{"Records": [record]}`` (SNS sends one
    message per invocation, reference 5.6)."""
    return {"Records": list(records)}


# -- services that invoke synchronously: API Gateway and function URLs ----------------------

_MONTHS: Final = [
    "Jan",
    "Feb",
    "Mar",
    "Apr",
    "May",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Oct",
    "Nov",
    "Dec",
]


def clf_timestamp(epoch: float) -> str:
    """Unix time in the Common Log Format API Gateway writes in a request context:
    ``12/Mar/2020:19:03:58 +0000`` (English month names, whatever the locale)."""
    moment = _dt.datetime.fromtimestamp(int(epoch), tz=_dt.timezone.utc)
    return (
        f"{moment.day:02d}/{_MONTHS[moment.month - 1]}/{moment.year:04d}:"
        f"{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d} +0000"
    )


def rest_request_context(
    *,
    account_id: str,
    api_id: str,
    domain_name: str,
    domain_prefix: str,
    extended_request_id: str,
    http_method: str,
    source_ip: str,
    user_agent: str | None,
    path: str,
    protocol: str,
    request_id: str,
    epoch: float,
    resource_id: str | None,
    resource_path: str,
    stage: str,
    authorizer: dict[str, Any] | None,
) -> dict[str, Any]:
    """``requestContext`` of a REST API proxy event (payload 1.0), key for key as the
    API Gateway developer guide's 1.0 sample, for a method without IAM or Cognito
    authorization (every ``identity`` field but ``sourceIp`` and ``userAgent`` null).

    ``path`` is the path as the client sent it, stage included (``/prod/orders``);
    ``resource_id`` is the resource's id (null in an HTTP API's 1.0 payload);
    ``authorizer`` is absent when None (no authorizer on the method).
    """
    context: dict[str, Any] = {"accountId": account_id, "apiId": api_id}
    if authorizer is not None:
        context["authorizer"] = authorizer
    context.update(
        {
            "domainName": domain_name,
            "domainPrefix": domain_prefix,
            "extendedRequestId": extended_request_id,
            "httpMethod": http_method,
            "identity": {
                "accessKey": None,
                "accountId": None,
                "caller": None,
                "cognitoAuthenticationProvider": None,
                "cognitoAuthenticationType": None,
                "cognitoIdentityId": None,
                "cognitoIdentityPoolId": None,
                "principalOrgId": None,
                "sourceIp": source_ip,
                "user": None,
                "userAgent": user_agent,
                "userArn": None,
            },
            "path": path,
            "protocol": protocol,
            "requestId": request_id,
            "requestTime": clf_timestamp(epoch),
            "requestTimeEpoch": int(epoch * 1000),
            "resourceId": resource_id,
            "resourcePath": resource_path,
            "stage": stage,
        }
    )
    return context


def rest_api_event(
    *,
    resource: str,
    path: str,
    http_method: str,
    headers: dict[str, str] | None,
    multi_value_headers: dict[str, list[str]] | None,
    query_string_parameters: dict[str, str] | None,
    multi_value_query_string_parameters: dict[str, list[str]] | None,
    path_parameters: dict[str, str] | None,
    stage_variables: dict[str, str] | None,
    request_context: dict[str, Any],
    body: str | None,
    is_base64_encoded: bool,
    version: str | None = None,
) -> dict[str, Any]:
    """A Lambda proxy integration event, payload format 1.0, key for key (API Gateway
    developer guide, "Input format of a Lambda function for proxy integration"; SAM's
    ``AwsProxy.json``).

    Every map is null when empty (``"queryStringParameters": null``), as is a missing
    ``body``.  ``headers`` / ``queryStringParameters`` hold the last value of a repeated
    name, ``multiValueHeaders`` / ``multiValueQueryStringParameters`` all of them.
    ``version`` is ``"1.0"`` for an HTTP API with payload 1.0 and absent (None) for a
    REST API.
    """
    event: dict[str, Any] = {}
    if version is not None:
        event["version"] = version
    event.update(
        {
            "resource": resource,
            "path": path,
            "httpMethod": http_method,
            "headers": headers,
            "multiValueHeaders": multi_value_headers,
            "queryStringParameters": query_string_parameters,
            "multiValueQueryStringParameters": multi_value_query_string_parameters,
            "pathParameters": path_parameters,
            "stageVariables": stage_variables,
            "requestContext": request_context,
            "body": body,
            "isBase64Encoded": is_base64_encoded,
        }
    )
    return event


def http_request_context(
    *,
    account_id: str,
    api_id: str,
    domain_name: str,
    domain_prefix: str,
    method: str,
    path: str,
    protocol: str,
    source_ip: str,
    user_agent: str,
    request_id: str,
    route_key: str,
    stage: str,
    epoch: float,
    authentication: dict[str, Any] | None,
    authorizer: dict[str, Any] | None,
) -> dict[str, Any]:
    """``requestContext`` of a payload 2.0 event (HTTP API, function URL), key for key.

    ``authentication`` (mutual TLS) and ``authorizer`` are absent when None, as in a
    recorded function URL event with auth type ``NONE``.
    """
    context: dict[str, Any] = {"accountId": account_id, "apiId": api_id}
    if authentication is not None:
        context["authentication"] = authentication
    if authorizer is not None:
        context["authorizer"] = authorizer
    context.update(
        {
            "domainName": domain_name,
            "domainPrefix": domain_prefix,
            "http": {
                "method": method,
                "path": path,
                "protocol": protocol,
                "sourceIp": source_ip,
                "userAgent": user_agent,
            },
            "requestId": request_id,
            "routeKey": route_key,
            "stage": stage,
            "time": clf_timestamp(epoch),
            "timeEpoch": int(epoch * 1000),
        }
    )
    return context


def http_api_event(
    *,
    route_key: str,
    raw_path: str,
    raw_query_string: str,
    cookies: list[str] | None,
    headers: dict[str, str],
    query_string_parameters: dict[str, str] | None,
    request_context: dict[str, Any],
    body: str | None,
    path_parameters: dict[str, str] | None,
    is_base64_encoded: bool,
    stage_variables: dict[str, str] | None,
) -> dict[str, Any]:
    """An HTTP API event, payload format 2.0, key for key (API Gateway developer guide,
    "Payload format version"; SAM's ``HttpApi.json``).

    Optional keys are absent, not null, when None: ``cookies``, ``queryStringParameters``,
    ``body``, ``pathParameters``, ``stageVariables``.  Repeated headers and query
    parameters are joined with commas (``"value1,value2"``); the raw query string keeps
    them apart.
    """
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": raw_path,
        "rawQueryString": raw_query_string,
    }
    if cookies is not None:
        event["cookies"] = list(cookies)
    event["headers"] = headers
    if query_string_parameters is not None:
        event["queryStringParameters"] = query_string_parameters
    event["requestContext"] = request_context
    if body is not None:
        event["body"] = body
    if path_parameters is not None:
        event["pathParameters"] = path_parameters
    event["isBase64Encoded"] = is_base64_encoded
    if stage_variables is not None:
        event["stageVariables"] = stage_variables
    return event


def function_url_event(
    *,
    url_id: str,
    region: str,
    account_id: str,
    raw_path: str,
    raw_query_string: str,
    cookies: list[str] | None,
    headers: dict[str, str],
    query_string_parameters: dict[str, str] | None,
    method: str,
    protocol: str,
    source_ip: str,
    user_agent: str,
    request_id: str,
    epoch: float,
    body: str | None,
    is_base64_encoded: bool,
    authorizer: dict[str, Any] | None,
) -> dict[str, Any]:
    """A Lambda function URL event: payload 2.0 with Lambda's placeholders (Lambda
    developer guide, "Invoking Lambda function URLs"; Powertools'
    ``lambdaFunctionUrlEvent.json``).

    ``routeKey`` and ``stage`` are ``$default``; ``apiId`` and ``domainPrefix`` are the
    URL id, ``domainName`` ``<url-id>.lambda-url.<region>.on.aws``.  ``account_id`` is
    ``"anonymous"`` in a recorded event of a URL with auth type ``NONE``; the guide calls
    it the function owner's account.  ``pathParameters`` and ``stageVariables`` are
    absent (the guide allows null or absent; the recording has them absent).
    """
    return http_api_event(
        route_key="$default",
        raw_path=raw_path,
        raw_query_string=raw_query_string,
        cookies=cookies,
        headers=headers,
        query_string_parameters=query_string_parameters,
        request_context=http_request_context(
            account_id=account_id,
            api_id=url_id,
            domain_name=f"{url_id}.lambda-url.{region}.on.aws",
            domain_prefix=url_id,
            method=method,
            path=raw_path,
            protocol=protocol,
            source_ip=source_ip,
            user_agent=user_agent,
            request_id=request_id,
            route_key="$default",
            stage="$default",
            epoch=epoch,
            authentication=None,
            authorizer=authorizer,
        ),
        body=body,
        path_parameters=None,
        is_base64_encoded=is_base64_encoded,
        stage_variables=None,
    )
