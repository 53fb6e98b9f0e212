"""The in-memory AWS services: an SQS queue, a Kinesis stream, a DynamoDB table (polled by
event source mappings), an S3 bucket, an SNS topic and an EventBridge bus (which invoke
functions asynchronously), the HTTP front doors that invoke a function synchronously
(an API Gateway REST API, an HTTP API, a function URL), and `QueueTarget`, a
destination-only queue.  They serve as event sources and as destinations.
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
from invokemodels.aws._eventbridge import (
    PUT_EVENTS_MAX_ENTRIES,
    RULE_MAX_TARGETS,
    EventBus,
    InputTransformer,
    Rule,
    RuleTarget,
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
from invokemodels.aws._notify import Notification
from invokemodels.aws._s3 import S3_EVENT_TYPES, Bucket, NotificationConfiguration, S3Object
from invokemodels.aws._sns import (
    FILTER_POLICY_MAX_COMBINATIONS,
    FILTER_POLICY_MAX_KEYS,
    FILTER_POLICY_SCOPES,
    Subscription,
    Topic,
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
from invokemodels.aws._targets import Message, QueueTarget

__all__ = [
    "DEDUPLICATION_INTERVAL",
    "DYNAMODB_POLLING_INTERVAL",
    "DYNAMODB_RETENTION",
    "FILTER_POLICY_MAX_COMBINATIONS",
    "FILTER_POLICY_MAX_KEYS",
    "FILTER_POLICY_SCOPES",
    "FUNCTION_URL_ERRORS",
    "HTTP_API_ERRORS",
    "HTTP_API_INTEGRATION_TIMEOUT",
    "KINESIS_POLLING_INTERVAL",
    "PUT_EVENTS_MAX_ENTRIES",
    "REST_API_ERRORS",
    "REST_API_INTEGRATION_TIMEOUT",
    "RULE_MAX_TARGETS",
    "S3_EVENT_TYPES",
    "STREAM_VIEW_TYPES",
    "Bucket",
    "DeadLetter",
    "ErrorResponses",
    "EventBus",
    "FunctionUrl",
    "GatewayError",
    "HttpApi",
    "HttpResponse",
    "InputTransformer",
    "KinesisStream",
    "Message",
    "MessageState",
    "Notification",
    "NotificationConfiguration",
    "Queue",
    "QueueEvent",
    "QueueTarget",
    "ReceivedMessage",
    "RedrivePolicy",
    "RestApi",
    "Route",
    "Rule",
    "RuleTarget",
    "S3Object",
    "SendResult",
    "Subscription",
    "Table",
    "Topic",
    "from_attribute_value",
    "item_size",
    "to_attribute_value",
]
