"""The in-memory AWS services: an SQS queue, a Kinesis stream, a DynamoDB table, the
destination targets (queue, topic, bucket, event bus), and the HTTP front doors that
invoke a function synchronously (an API Gateway REST API, an HTTP API, a function URL).
They serve as event sources and as destinations.
"""

from __future__ import annotations

from invokemodels.aws._dynamodb import (
    DYNAMODB_POLLING_INTERVAL,
    DYNAMODB_RETENTION,
    STREAM_VIEW_TYPES,
    Table,
    from_attribute_value,
    item_size,
    to_attribute_value,
)
from invokemodels.aws._http import (
    FUNCTION_URL_ERRORS,
    HTTP_API_ERRORS,
    HTTP_API_INTEGRATION_TIMEOUT,
    REST_API_ERRORS,
    REST_API_INTEGRATION_TIMEOUT,
    ErrorResponses,
    FunctionUrl,
    GatewayError,
    HttpApi,
    HttpResponse,
    RestApi,
    Route,
)
from invokemodels.aws._kinesis import (
    KINESIS_POLLING_INTERVAL,
    KinesisStream,
)
from invokemodels.aws._sqs import (
    DEDUPLICATION_INTERVAL,
    DeadLetter,
    MessageState,
    Queue,
    QueueEvent,
    ReceivedMessage,
    RedrivePolicy,
    SendResult,
)
from invokemodels.aws._targets import (
    BucketTarget,
    EventBusTarget,
    Message,
    QueueTarget,
    TopicTarget,
)

__all__ = [
    "DEDUPLICATION_INTERVAL",
    "DYNAMODB_POLLING_INTERVAL",
    "DYNAMODB_RETENTION",
    "FUNCTION_URL_ERRORS",
    "HTTP_API_ERRORS",
    "HTTP_API_INTEGRATION_TIMEOUT",
    "KINESIS_POLLING_INTERVAL",
    "REST_API_ERRORS",
    "REST_API_INTEGRATION_TIMEOUT",
    "STREAM_VIEW_TYPES",
    "BucketTarget",
    "DeadLetter",
    "ErrorResponses",
    "EventBusTarget",
    "FunctionUrl",
    "GatewayError",
    "HttpApi",
    "HttpResponse",
    "KinesisStream",
    "Message",
    "MessageState",
    "Queue",
    "QueueEvent",
    "QueueTarget",
    "ReceivedMessage",
    "RedrivePolicy",
    "RestApi",
    "Route",
    "SendResult",
    "Table",
    "TopicTarget",
    "from_attribute_value",
    "item_size",
    "to_attribute_value",
]
