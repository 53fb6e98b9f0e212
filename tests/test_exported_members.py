"""Every public module hands on exactly its `__all__`; the top level is pinned.

The pattern of httpx's ``tests/test_exported_members.py``: a name added to a room's public
face without `__all__` (or left in `__all__` after it moved) fails here.
"""

from __future__ import annotations

import importlib
import types

import pytest

import invokemodels

PUBLIC_MODULES = [
    "invokemodels",
    "invokemodels.adapters",
    "invokemodels.aws",
    "invokemodels.core",
    "invokemodels.event",
    "invokemodels.exceptions",
    "invokemodels.examples",
    "invokemodels.mapping",
    "invokemodels.observe",
    "invokemodels.serve",
    "invokemodels.simulate",
    "invokemodels.sync",
    "invokemodels.testing",
]

# The names a user needs to run the three models; everything else lives in its room.
TOP_LEVEL = [
    "Account", "BackgroundEventInvoker", "Batch", "BatchOutcome", "Bucket", "Clock",
    "Decision", "Destination", "EventBus", "EventInvokeConfig", "EventInvoker",
    "EventOutcomeKind", "EventRetryPolicy", "EventSourceMapping", "Failure", "FailureKind",
    "FilterCriteria", "Function", "FunctionErrorRetries", "FunctionUrl", "History", "HttpApi",
    "InvokeResponse", "Invoker",
    "KinesisStream", "LambdaClient", "LambdaContext", "LegacyRetry", "NoRetry", "Outcome",
    "Poller", "Queue", "QueueTarget", "RedrivePolicy", "RequestResponseInvoker", "RestApi",
    "RetryPolicy",
    "SQSMappingConfig", "ScaledClock", "Scheduler", "ServiceQueue", "Span", "StandardRetry",
    "StreamMappingConfig", "SystemClock", "Table", "ThrottleBackoff", "Topic",
    "VirtualClock", "__version__", "exceptions",
]  # fmt: skip


# invokemodels.testing: the event builders and strategies.
TESTING_EVENTS = [
    "DEFAULT_ACCOUNT_ID", "DEFAULT_EPOCH", "DEFAULT_REGION", "DYNAMODB_EVENT_NAMES",
    "S3_EVENT_NAMES", "dynamodb_event", "dynamodb_events", "dynamodb_record", "dynamodb_records",
    "dynamodb_values", "eventbridge_event", "eventbridge_events", "function_url_event",
    "function_url_events", "http_api_event", "http_api_events", "kinesis_event", "kinesis_events",
    "kinesis_record", "kinesis_records", "rest_api_event", "rest_api_events", "s3_event",
    "s3_events", "s3_record", "s3_records", "sns_event", "sns_events", "sns_record", "sns_records",
    "sqs_bodies", "sqs_event", "sqs_events", "sqs_message_attributes", "sqs_record", "sqs_records",
]  # fmt: skip


# invokemodels.testing: failure schedules, configuration strategies and conformance kits.
TESTING_TOOLS = [
    "Behaviour", "ConformanceError", "FailureSchedule", "ScheduledAttempt", "ScheduledError",
    "ScheduledFunction", "ScheduledHandler", "check_poller", "check_retry_policy",
    "event_invoke_configs", "failure_schedules", "sqs_mapping_configs", "stream_mapping_configs",
]  # fmt: skip


def test_the_testing_package_exports_the_event_builders_and_strategies() -> None:
    import invokemodels.testing

    assert set(TESTING_EVENTS) <= set(invokemodels.testing.__all__)
    assert set(TESTING_EVENTS) | set(TESTING_TOOLS) | set(TESTING_IDEMPOTENCY) | set(
        TESTING_ENVIRONMENT
    ) == set(invokemodels.testing.__all__)
    assert issubclass(invokemodels.testing.ConformanceError, AssertionError)


# invokemodels.testing: the idempotency check, imported on first use.
TESTING_IDEMPOTENCY = [
    "IDEMPOTENCY_MODELS", "InjectedFailure", "NotIdempotentError", "check_idempotent",
]  # fmt: skip


def test_the_testing_package_exports_the_idempotency_check() -> None:
    from invokemodels import testing
    from invokemodels.testing import _idempotency

    assert set(TESTING_IDEMPOTENCY) <= set(testing.__all__)
    assert set(_idempotency.__all__) == set(TESTING_IDEMPOTENCY) == testing._IDEMPOTENCY
    for name in TESTING_IDEMPOTENCY:
        assert getattr(testing, name) is getattr(_idempotency, name)


# invokemodels.testing: the seeded environment and the assertions over the history.
TESTING_ENVIRONMENT = [
    "Call", "Environment", "FinalOutcome", "Recording", "assert_attempts", "assert_outcome",
    "assert_received", "attempts", "final_outcome", "received", "record",
]  # fmt: skip


def test_the_testing_package_exports_the_environment_and_the_assertions() -> None:
    import invokemodels.testing

    assert set(TESTING_ENVIRONMENT) <= set(invokemodels.testing.__all__)


# invokemodels.observe: the timeline, its text, trace, picture and metrics.
OBSERVE = [
    "METRICS", "Datapoint", "Mark", "MarkKind", "Metrics", "QueueLevel", "Timeline",
    "chrome_trace", "lane_label", "metrics", "queue_levels", "svg",
]  # fmt: skip


def test_the_observe_package_exports_the_timeline_and_its_views() -> None:
    import invokemodels.observe

    assert set(invokemodels.observe.__all__) == set(OBSERVE)


# invokemodels.simulate: scenario files, runs and sweeps.
SIMULATE = [
    "ARRIVALS", "Behaviour", "FunctionSpec", "FunctionSummary", "Latency", "Load",
    "ProducerSpec", "QueueSpec", "Result", "Scenario", "SourceSummary", "StreamSpec", "Summary",
    "SweepSummary", "World", "load_scenario", "run", "run_summary", "sweep",
]  # fmt: skip


def test_the_simulate_package_exports_scenarios_runs_and_sweeps() -> None:
    import invokemodels.simulate

    assert set(invokemodels.simulate.__all__) == set(SIMULATE)


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_a_public_module_exports_exactly_its_public_names(name: str) -> None:
    module = importlib.import_module(name)
    # What the module holds of the project's own: a package's face hands on its room's
    # names, a plain module its own definitions (imports of typing or the standard library
    # excluded; constants have no __module__ and count as the module's).
    home = "invokemodels" if hasattr(module, "__path__") else name

    def owned(value: object) -> bool:
        return str(getattr(value, "__module__", home)).startswith(home)

    defined = {
        member
        for member, value in vars(module).items()
        if not member.startswith("_")
        and not isinstance(value, types.ModuleType)
        and member != "annotations"
        and owned(value)
    }
    assert defined <= set(module.__all__)
    assert len(module.__all__) == len(set(module.__all__))
    for member in module.__all__:
        assert hasattr(module, member)


def test_the_top_level_is_what_a_user_needs_to_run_the_three_models() -> None:
    assert invokemodels.__all__ == TOP_LEVEL


def test_every_top_level_name_is_the_one_its_room_exports() -> None:
    rooms = [importlib.import_module(m) for m in PUBLIC_MODULES[1:]]
    for name in TOP_LEVEL:
        if name in {"__version__", "exceptions"}:
            continue
        homes = [room for room in rooms if name in room.__all__]
        assert len(homes) == 1, name
        assert getattr(homes[0], name) is getattr(invokemodels, name)


def test_the_lazy_strategy_names_are_the_strategies_module_names() -> None:
    # invokemodels.testing imports its strategies on first use (Hypothesis is an extra), by a
    # table of names: it must list exactly what the strategies module exports.
    from invokemodels import testing
    from invokemodels.testing import _strategies

    assert set(_strategies.__all__) == testing._STRATEGIES
