"""Tools for testing handlers: the events AWS sends, as builders for example tests and as
Hypothesis strategies for property tests; a seeded `Environment` to run models in;
assertions over the shared history; failure schedules; valid configurations; and
conformance kits for your own pollers and retry policies.

The builders (`sqs_event`, `kinesis_event`, `dynamodb_event`, `eventbridge_event`,
`s3_event`, `sns_event`, `rest_api_event`, `http_api_event`, `function_url_event` and
their ``*_record`` parts) need nothing beyond the package.  The strategies
(`sqs_events`, `kinesis_events`, ... ) and `check_idempotent` (a one-call property check
of a handler under at-least-once delivery) need Hypothesis, installed with the ``testing``
extra (``pip install 'invokemodels[testing]'``); they are imported when first used, so
``import invokemodels.testing`` works without it.

A `FailureSchedule` says which attempts of a function fail, time out, are throttled or
duplicate (``schedule.handler(inner)``, ``schedule.function(name, inner)``);
`failure_schedules` draws them, and `event_invoke_configs`, `sqs_mapping_configs` and
`stream_mapping_configs` draw valid configurations.  `check_poller` and
`check_retry_policy` check an implementation of `Poller` or `RetryPolicy` against the
protocol's contract and raise `ConformanceError` naming the rule it broke.

`Environment` is one scheduler on a virtual clock, one shared `History` and a seeded rng,
with factories for functions, queues, streams, tables, invokers and mappings; the pytest
plugin's ``im_env`` fixture is one (the plugin is installed with the package: see
``docs/reference/pytest-plugin.md``).  The assertions (`assert_attempts`,
`assert_outcome`, `assert_received`, with `attempts`, `final_outcome`, `received` and
`record`) read what happened and print the timeline when they fail.
"""

from __future__ import annotations

import importlib
import typing

from invokemodels.testing._assert import (
    Call,
    FinalOutcome,
    Recording,
    assert_attempts,
    assert_outcome,
    assert_received,
    attempts,
    final_outcome,
    received,
    record,
)
from invokemodels.testing._conformance import ConformanceError, check_poller, check_retry_policy
from invokemodels.testing._env import Environment
from invokemodels.testing._events import (
    DEFAULT_ACCOUNT_ID,
    DEFAULT_EPOCH,
    DEFAULT_REGION,
    DYNAMODB_EVENT_NAMES,
    S3_EVENT_NAMES,
    dynamodb_event,
    dynamodb_record,
    eventbridge_event,
    function_url_event,
    http_api_event,
    kinesis_event,
    kinesis_record,
    rest_api_event,
    s3_event,
    s3_record,
    sns_event,
    sns_record,
    sqs_event,
    sqs_message_attributes,
    sqs_record,
)
from invokemodels.testing._schedules import (
    Behaviour,
    FailureSchedule,
    ScheduledAttempt,
    ScheduledError,
    ScheduledFunction,
    ScheduledHandler,
)

if typing.TYPE_CHECKING:
    from invokemodels.testing._idempotency import (
        IDEMPOTENCY_MODELS,
        InjectedFailure,
        NotIdempotentError,
        check_idempotent,
    )
    from invokemodels.testing._strategies import (
        dynamodb_events,
        dynamodb_records,
        dynamodb_values,
        event_invoke_configs,
        eventbridge_events,
        failure_schedules,
        function_url_events,
        http_api_events,
        kinesis_events,
        kinesis_records,
        rest_api_events,
        s3_events,
        s3_records,
        sns_events,
        sns_records,
        sqs_bodies,
        sqs_events,
        sqs_mapping_configs,
        sqs_records,
        stream_mapping_configs,
    )

_STRATEGIES = frozenset(
    {
        "dynamodb_events",
        "dynamodb_records",
        "dynamodb_values",
        "event_invoke_configs",
        "eventbridge_events",
        "failure_schedules",
        "function_url_events",
        "http_api_events",
        "kinesis_events",
        "kinesis_records",
        "rest_api_events",
        "s3_events",
        "s3_records",
        "sns_events",
        "sns_records",
        "sqs_bodies",
        "sqs_events",
        "sqs_mapping_configs",
        "sqs_records",
        "stream_mapping_configs",
    }
)


_IDEMPOTENCY = frozenset(
    {"IDEMPOTENCY_MODELS", "InjectedFailure", "NotIdempotentError", "check_idempotent"}
)


def __getattr__(name: str) -> typing.Any:
    """The strategies and the idempotency check, imported on first use (Hypothesis)."""
    if name in _STRATEGIES:
        return getattr(importlib.import_module("invokemodels.testing._strategies"), name)
    if name in _IDEMPOTENCY:
        return getattr(importlib.import_module("invokemodels.testing._idempotency"), name)
    msg = f"module 'invokemodels.testing' has no attribute {name!r}"
    raise AttributeError(msg)


__all__ = [
    "DEFAULT_ACCOUNT_ID",
    "DEFAULT_EPOCH",
    "DEFAULT_REGION",
    "DYNAMODB_EVENT_NAMES",
    "IDEMPOTENCY_MODELS",
    "S3_EVENT_NAMES",
    "Behaviour",
    "Call",
    "ConformanceError",
    "Environment",
    "FailureSchedule",
    "FinalOutcome",
    "InjectedFailure",
    "NotIdempotentError",
    "Recording",
    "ScheduledAttempt",
    "ScheduledError",
    "ScheduledFunction",
    "ScheduledHandler",
    "assert_attempts",
    "assert_outcome",
    "assert_received",
    "attempts",
    "check_idempotent",
    "check_poller",
    "check_retry_policy",
    "dynamodb_event",
    "dynamodb_events",
    "dynamodb_record",
    "dynamodb_records",
    "dynamodb_values",
    "event_invoke_configs",
    "eventbridge_event",
    "eventbridge_events",
    "failure_schedules",
    "final_outcome",
    "function_url_event",
    "function_url_events",
    "http_api_event",
    "http_api_events",
    "kinesis_event",
    "kinesis_events",
    "kinesis_record",
    "kinesis_records",
    "received",
    "record",
    "rest_api_event",
    "rest_api_events",
    "s3_event",
    "s3_events",
    "s3_record",
    "s3_records",
    "sns_event",
    "sns_events",
    "sns_record",
    "sns_records",
    "sqs_bodies",
    "sqs_event",
    "sqs_events",
    "sqs_mapping_configs",
    "sqs_message_attributes",
    "sqs_record",
    "sqs_records",
    "stream_mapping_configs",
]
