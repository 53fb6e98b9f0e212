"""Tools for testing handlers: the events AWS sends, as builders for example tests and as
Hypothesis strategies for property tests; a seeded `Environment` to run models in; and
assertions over the shared history.

The builders (`sqs_event`, `kinesis_event`, `dynamodb_event`, `eventbridge_event`,
`s3_event`, `sns_event`, `rest_api_event`, `http_api_event`, `function_url_event` and
their ``*_record`` parts) need nothing beyond the package.  The strategies
(`sqs_events`, `kinesis_events`, ... ) need Hypothesis, installed with the ``testing``
extra (``pip install 'invokemodels[testing]'``); they are imported when first used, so
``import invokemodels.testing`` works without it.

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

if typing.TYPE_CHECKING:
    from invokemodels.testing._strategies import (
        dynamodb_events,
        dynamodb_records,
        dynamodb_values,
        eventbridge_events,
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
        sqs_records,
    )

_STRATEGIES = frozenset(
    {
        "dynamodb_events",
        "dynamodb_records",
        "dynamodb_values",
        "eventbridge_events",
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
        "sqs_records",
    }
)


def __getattr__(name: str) -> typing.Any:
    """The strategies, imported on first use (they need Hypothesis)."""
    if name in _STRATEGIES:
        return getattr(importlib.import_module("invokemodels.testing._strategies"), name)
    msg = f"module 'invokemodels.testing' has no attribute {name!r}"
    raise AttributeError(msg)


__all__ = [
    "DEFAULT_ACCOUNT_ID",
    "DEFAULT_EPOCH",
    "DEFAULT_REGION",
    "DYNAMODB_EVENT_NAMES",
    "S3_EVENT_NAMES",
    "Call",
    "Environment",
    "FinalOutcome",
    "Recording",
    "assert_attempts",
    "assert_outcome",
    "assert_received",
    "attempts",
    "dynamodb_event",
    "dynamodb_events",
    "dynamodb_record",
    "dynamodb_records",
    "dynamodb_values",
    "eventbridge_event",
    "eventbridge_events",
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
    "sqs_message_attributes",
    "sqs_record",
    "sqs_records",
]
