"""Wrong-typed values for every parameter of every public constructor that takes configuration.

Each value is either accepted because it is legitimate for that parameter (listed in
``ACCEPTED``, so the list is exact) or refused with an `InvokeModelsError` whose message
names the parameter, renders the value safely and stays short: never an AttributeError,
a TypeError from inside, a repr that raises, or a ten-megabyte message.
"""

from __future__ import annotations

import decimal
from collections.abc import Callable
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from invokemodels import (
    Account,
    BackgroundEventInvoker,
    Bucket,
    EventBus,
    EventInvokeConfig,
    EventInvoker,
    EventRetryPolicy,
    EventSourceMapping,
    FilterCriteria,
    Function,
    FunctionErrorRetries,
    KinesisStream,
    LambdaClient,
    LegacyRetry,
    Queue,
    QueueTarget,
    RedrivePolicy,
    RequestResponseInvoker,
    ScaledClock,
    Scheduler,
    SQSMappingConfig,
    StandardRetry,
    StreamMappingConfig,
    Table,
    ThrottleBackoff,
    Topic,
    VirtualClock,
)
from invokemodels.core import Client, ClientContext, CognitoIdentity
from invokemodels.event import FunctionTarget
from invokemodels.exceptions import (
    RENDER_LIMIT,
    InvalidParameterValueError,
    InvokeModelsError,
    render_value,
)
from invokemodels.mapping import SQSPoller, SQSScaling, StreamPoller
from invokemodels.sync import RetryQuota

MESSAGE_LIMIT = 1200
"""No error message about a bad value is longer than this."""


class BadRepr:
    def __repr__(self) -> str:
        raise RuntimeError("repr")


BIG_INT = 10**5000
TEN_MB = "x" * 10**7

BAD: dict[str, Any] = {
    "None": None,
    "1": 1,
    "'x'": "x",
    "1.5": 1.5,
    "True": True,
    "[]": [],
    "{}": {},
    "object()": object(),
    "5001 digits": BIG_INT,
    "bad repr": BadRepr(),
    "10 MB": TEN_MB,
}
SEEDS = "None 1 'x' 1.5 True|5001 digits|10 MB"
"""What `random.Random` takes as a seed (labels separated by spaces, or ``|`` around spaces)."""


def handler(event: Any, context: Any) -> Any:
    return None


def function() -> Function:
    return Function(name="f", handler=handler)


def sqs_poller() -> SQSPoller:
    return SQSPoller(queue=Queue("q"), config=SQSMappingConfig())


Make = Callable[[], dict[str, Any]]

CONSTRUCTORS: dict[str, tuple[Callable[..., Any], Make]] = {
    "Account": (Account, dict),
    "BackgroundEventInvoker": (BackgroundEventInvoker, lambda: {"function": function()}),
    "Bucket": (Bucket, dict),
    "Client": (Client, dict),
    "ClientContext": (ClientContext, dict),
    "CognitoIdentity": (CognitoIdentity, dict),
    "EventBus": (EventBus, dict),
    "EventInvokeConfig": (EventInvokeConfig, dict),
    "EventInvoker": (EventInvoker, lambda: {"function": function()}),
    "EventRetryPolicy": (EventRetryPolicy, dict),
    "EventSourceMapping": (
        EventSourceMapping,
        lambda: {"function": function(), "poller": sqs_poller()},
    ),
    "FilterCriteria": (FilterCriteria, dict),
    "Function": (Function, lambda: {"name": "f", "handler": handler}),
    "FunctionErrorRetries": (FunctionErrorRetries, dict),
    "FunctionTarget": (FunctionTarget, lambda: {"invoker": EventInvoker(function())}),
    "KinesisStream": (KinesisStream, lambda: {"name": "s"}),
    "LambdaClient": (LambdaClient, lambda: {"invoker": RequestResponseInvoker(function())}),
    "LegacyRetry": (LegacyRetry, dict),
    "Queue": (Queue, lambda: {"name": "q"}),
    "QueueTarget": (QueueTarget, dict),
    "RedrivePolicy": (RedrivePolicy, lambda: {"dead_letter_target": Queue("dlq")}),
    "RequestResponseInvoker": (RequestResponseInvoker, lambda: {"function": function()}),
    "RetryQuota": (RetryQuota, dict),
    "SQSMappingConfig": (SQSMappingConfig, dict),
    "SQSPoller": (
        SQSPoller,
        lambda: {"queue": Queue("q"), "config": SQSMappingConfig()},
    ),
    "SQSScaling": (SQSScaling, dict),
    "ScaledClock": (ScaledClock, dict),
    "Scheduler": (Scheduler, dict),
    "StandardRetry": (StandardRetry, dict),
    "StreamMappingConfig": (StreamMappingConfig, lambda: {"starting_position": "LATEST"}),
    "StreamPoller": (
        StreamPoller,
        lambda: {
            "log": KinesisStream("s").log,
            "config": StreamMappingConfig(starting_position="LATEST"),
        },
    ),
    "Table": (Table, lambda: {"name": "tbl", "key_schema": "id"}),
    "ThrottleBackoff": (ThrottleBackoff, dict),
    "Topic": (Topic, dict),
    "VirtualClock": (VirtualClock, dict),
}

ACCEPTED: dict[str, dict[str, str]] = {
    "Account": {"concurrency_limit": "1", "unreserved_minimum": "1"},
    "BackgroundEventInvoker": {
        "dead_letter": "None", "history": "None", "keep_records": "True", "max_workers": "1",
        "options": "{}", "seed": SEEDS, "time_scale": "1 1.5",
    },
    "Bucket": {
        "name": "'x'|10 MB", "owner_id": "'x'|10 MB", "principal_id": "'x'|10 MB",
        "seed": SEEDS, "source_ip": "'x'|10 MB", "versioning": "True",
    },
    "Client": dict.fromkeys(
        ["app_package_name", "app_title", "app_version_code", "app_version_name",
         "installation_id"],
        "None 'x'|10 MB",
    ),
    "ClientContext": {"client": "None", "custom": "None {}", "env": "None {}"},
    "CognitoIdentity": dict.fromkeys(
        ["cognito_identity_id", "cognito_identity_pool_id"], "None 'x'|10 MB"
    ),
    "EventBus": {"name": "'x'|10 MB", "seed": SEEDS, "source": "'x'|10 MB"},
    "EventInvokeConfig": {
        "maximum_retry_attempts": "1", "on_failure": "None", "on_success": "None",
    },
    "EventInvoker": {
        "dead_letter": "None", "duplicate_probability": "1", "invoke_rate_factor": "None 1 1.5",
        "history": "None", "keep_records": "True", "max_in_flight": "None 1",
        "on_outcome": "None",
        "seed": SEEDS, "service_error_probability": "1",
    },
    "EventRetryPolicy": {"maximum_event_age": "None 1 1.5"},
    "EventSourceMapping": {"history": "None", "max_concurrency": "None 1", "seed": SEEDS},
    "FilterCriteria": {
        "allow_eventbridge_extensions": "True", "event_source": "None", "max_filters": "1",
        "patterns": "[]",
    },
    "Function": {
        "duration": "1 1.5", "log_stream_name": "None 'x'", "name": "'x'",
        "reserved_concurrency": "None 1", "timeout": "1 1.5",
    },
    "FunctionErrorRetries": {"jitter": "1 1.5", "maximum_retry_attempts": "1"},
    "KinesisStream": {"name": "'x'", "shard_count": "1"},
    "LambdaClient": {"read_timeout": "None 1 1.5"},
    "LegacyRetry": {"total_max_attempts": "1"},
    "Queue": {
        "delay_seconds": "1", "duplicate_probability": "1", "keep_events": "True",
        "keep_fates": "True", "name": "'x'",
        "receive_message_wait_time_seconds": "1", "redrive_policy": "None", "seed": SEEDS,
        "sender_id": "'x'|10 MB", "visibility_timeout": "1",
    },
    "QueueTarget": {"name": "'x'|10 MB"},
    "RedrivePolicy": {"max_receive_count": "1"},
    "RequestResponseInvoker": {
        "client_context": "None {}", "fault": "None", "history": "None",
        "qualifier": "None 'x'", "seed": SEEDS,
    },
    "RetryQuota": {"capacity": "1"},
    "Scheduler": {"handler_time": "True"},
    "SQSMappingConfig": {
        "batch_size": "1", "destination_config": "None", "enabled": "True",
        "filter_criteria": "None {}", "function_response_types": "[]",
        "maximum_batching_window": "1", "maximum_concurrency": "None",
        "one_group_per_batch": "True",
    },
    "SQSScaling": {
        "error_backoff": "1 1.5", "initial_concurrency": "1", "maximum_concurrent_batches": "1",
        "minimum_concurrency": "1", "ramp_per_minute": "1 1.5", "throttle_retry_delay": "1 1.5",
        "throttle_retry_max_delay": "1 1.5",
    },
    "ScaledClock": {"scale": "1 1.5"},
    "StandardRetry": {
        "max_backoff": "1 1.5", "no_retry_increment": "1", "retry_cost": "1",
        "timeout_retry_cost": "1", "total_max_attempts": "1",
    },
    "StreamMappingConfig": {
        "batch_size": "1", "bisect_batch_on_function_error": "True", "enabled": "True",
        "filter_criteria": "None {}", "function_response_types": "[]",
        "maximum_batching_window": "None 1", "maximum_retry_attempts": "1",
        "on_failure": "None", "on_success": "None", "parallelization_factor": "1",
        "starting_position_timestamp": "None", "tumbling_window": "1",
    },
    "StreamPoller": {
        "bisect_at": "None", "invoke_identity_arn": "None", "polling_interval": "1 1.5",
        "retry_delay": "None 1 1.5",
    },
    "Table": {"key_schema": "'x'", "seed": SEEDS, "shard_count": "1"},
    "ThrottleBackoff": {"cap": "1 1.5", "factor": "1 1.5", "initial": "1 1.5", "jitter": "1"},
    "Topic": {"name": "'x'|10 MB", "seed": SEEDS},
    "VirtualClock": {"epoch_origin": "1 1.5"},
}  # fmt: skip

ALIASES: dict[str, tuple[str, ...]] = {
    "concurrency_limit": ("ConcurrentExecutions",),
    "reserved_concurrency": ("ReservedConcurrentExecutions",),
    "patterns": ("FilterCriteria.Filters",),
    "client_context": ("ClientContext", "Client context"),
    "on_success": ("DestinationConfig.OnSuccess",),
    "on_failure": ("DestinationConfig.OnFailure",),
    "dead_letter": ("DeadLetterConfig",),
    "redrive_policy": ("RedrivePolicy",),
    "dead_letter_target": ("RedrivePolicy.deadLetterTargetArn",),
    "maximum_record_age": ("MaximumRecordAgeInSeconds",),
    "maximum_event_age": ("MaximumEventAgeInSeconds",),
    "maximum_batching_window": ("MaximumBatchingWindowInSeconds",),
    "tumbling_window": ("TumblingWindowInSeconds",),
    "maximum_concurrency": ("ScalingConfig.MaximumConcurrency",),
    "destination_config": ("DestinationConfig",),
    "name": ("FunctionName", "QueueName", "StreamName", "TableName"),
    "log": ("log",),
    "scale": ("time_scale",),
    "max_receive_count": ("maxReceiveCount",),
}


def _labels(spec: str) -> set[str]:
    labels = set()
    for chunk in spec.split("|"):
        labels |= {chunk} if chunk in BAD else set(chunk.split(" "))
    assert labels <= set(BAD), spec
    return labels


def _normal(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


def _names_parameter(message: str, parameter: str) -> bool:
    names = (parameter, *ALIASES.get(parameter, ()))
    return any(_normal(name) in _normal(message) for name in names)


def _parameters(cls: Any) -> list[str]:
    return [str(field.alias) for field in attrs.fields(cls) if field.init]


def test_every_constructor_and_parameter_is_covered() -> None:
    for name, (cls, _) in CONSTRUCTORS.items():
        assert set(ACCEPTED.get(name, {})) <= set(_parameters(cls)), name


@pytest.mark.parametrize("name", sorted(CONSTRUCTORS))
def test_wrong_values_are_accepted_only_when_legitimate_else_refused_by_name(name: str) -> None:
    cls, make = CONSTRUCTORS[name]
    accepted = {param: _labels(spec) for param, spec in ACCEPTED.get(name, {}).items()}
    problems = []
    for parameter in _parameters(cls):
        for label, value in BAD.items():
            kwargs = make()
            kwargs[parameter] = value
            legitimate = label in accepted.get(parameter, set())
            try:
                made = cls(**kwargs)
            except InvokeModelsError as exc:
                message = str(exc)
                if legitimate:
                    problems.append(f"{parameter}={label}: refused but listed: {message[:200]}")
                elif len(message) > MESSAGE_LIMIT:
                    problems.append(f"{parameter}={label}: message of {len(message)} characters")
                elif not _names_parameter(message, parameter):
                    problems.append(f"{parameter}={label}: message does not name it: {message}")
            except Exception as exc:
                problems.append(f"{parameter}={label}: {type(exc).__name__}: {exc!s:.200}")
            else:
                close = getattr(made, "close", None)
                if isinstance(made, BackgroundEventInvoker) and close is not None:
                    close()
                if not legitimate:
                    problems.append(f"{parameter}={label}: silently accepted")
    assert problems == []


# -- the cases that once failed, one by one ---------------------------------------------------


def test_a_value_whose_repr_raises_is_shown_by_its_type() -> None:
    with pytest.raises(InvalidParameterValueError) as caught:
        Function(name="f", handler=handler, timeout=BadRepr())
    assert (
        str(caught.value)
        == "Timeout=<BadRepr object> is invalid: must be a number between 1 and 900"
    )


def test_an_int_past_the_str_digits_limit_is_shown_by_its_size() -> None:
    with pytest.raises(ValueError, match="integer string conversion"):
        str(BIG_INT)  # why the library must not print it
    with pytest.raises(InvalidParameterValueError) as caught:
        Function(name="f", handler=handler, timeout=BIG_INT)
    assert str(caught.value) == (
        "Timeout=<int with 5001 digits> is invalid: must be a number between 1 and 900"
    )


def test_a_ten_megabyte_string_is_cut_with_its_length() -> None:
    with pytest.raises(InvalidParameterValueError) as caught:
        Function(name="f", handler=handler, memory_size=TEN_MB)
    message = str(caught.value)
    assert message == (
        f"MemorySize='{'x' * (RENDER_LIMIT - 1)}... (10000000 characters) is invalid: "
        "must be an integer between 128 and 10240"
    )
    assert caught.value.value is TEN_MB


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: EventInvokeConfig(on_success=1), "DestinationConfig.OnSuccess.Destination=1 is invalid: must implement Destination (arn, deliver()); missing deliver, arn"),  # noqa: E501
        (lambda: Queue("q", redrive_policy=1), "RedrivePolicy=1 is invalid: must be a RedrivePolicy or None"),  # noqa: E501
        (lambda: EventInvoker(function(), config=None), "config=None is invalid: must be an EventInvokeConfig"),  # noqa: E501
        (lambda: SQSMappingConfig(function_response_types=None), "FunctionResponseTypes=None is invalid: must be [] or ['ReportBatchItemFailures']"),  # noqa: E501
        (lambda: Account(account_id=1), "account_id=1 is invalid: must be 12 digits"),
        (lambda: Table("tbl", key_schema=None), "KeySchema=None is invalid: must be a partition key name, or (partition key, sort key): names of 1-255 characters"),  # noqa: E501
        (lambda: SQSMappingConfig(enabled="false"), "Enabled='false' is invalid: must be True or False"),  # noqa: E501
        (lambda: SQSMappingConfig(scaling=None), "scaling=None is invalid: must be an SQSScaling"),
        (lambda: EventInvoker(function(), queue=1), "queue=1 is invalid: must implement ServiceQueue (put(), take(), next_ready_at()); missing put, take, next_ready_at"),  # noqa: E501
        (lambda: EventInvoker(function(), retry_policy=1), "retry_policy=1 is invalid: must implement RetryPolicy (decide()); missing decide"),  # noqa: E501
        (lambda: Queue("q", content_based_deduplication=None), "ContentBasedDeduplication=None is invalid: must be True or False"),  # noqa: E501
        (lambda: EventInvoker(function(), seed=[]), "seed=[] is invalid: must be None, an int, a float, a str or bytes"),  # noqa: E501
        (lambda: BackgroundEventInvoker(function(), options={"scheduler": 1}), "options='scheduler' is invalid: is not an EventInvoker argument"),  # noqa: E501
    ],
)  # fmt: skip
def test_reported_cases_name_the_parameter(make: Callable[[], Any], message: str) -> None:
    with pytest.raises(InvalidParameterValueError) as caught:
        make()
    assert str(caught.value).startswith(message)


def test_a_property_that_raises_counts_as_missing() -> None:
    class Exploding:
        @property
        def arn(self) -> str:
            raise RuntimeError("no arn")

        def deliver(self, record: Any, delivery: Any) -> None: ...

    with pytest.raises(InvalidParameterValueError, match="missing arn"):
        EventInvokeConfig(on_failure=Exploding())


# -- render_value: the rule ---------------------------------------------------------------------

ANY_VALUE = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=10**300, max_value=10**6000)
    | st.floats()
    | st.decimals()
    | st.text()
    | st.binary()
    | st.builds(BadRepr)
    | st.builds(object),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=20,
)


@given(ANY_VALUE, st.integers(min_value=0, max_value=3 * RENDER_LIMIT))
def test_render_value_never_raises_and_stays_bounded(value: Any, repeat: int) -> None:
    text = render_value([value] * repeat if repeat > RENDER_LIMIT else value)
    assert isinstance(text, str)
    assert len(text) <= RENDER_LIMIT + len("... (999999999 characters)")


@given(st.integers(min_value=-(10**400), max_value=10**400))
def test_render_value_counts_the_digits_of_long_ints(number: int) -> None:
    text = render_value(number)
    digits = len(str(abs(number)))
    if text.startswith("<int"):
        assert text == f"<int with {digits} digits>"
        assert digits >= RENDER_LIMIT - 1
    else:
        assert text == repr(number)


@given(st.text(max_size=3 * RENDER_LIMIT))
def test_render_value_of_text_is_its_repr_or_a_cut_repr(text: str) -> None:
    shown = render_value(text)
    if len(text) <= RENDER_LIMIT and len(repr(text)) <= RENDER_LIMIT:
        assert shown == repr(text)
    else:
        assert shown.endswith(" characters)")


def test_render_value_of_other_numbers_is_their_repr() -> None:
    assert render_value(decimal.Decimal("1.5")) == "Decimal('1.5')"
    assert render_value(True) == "True"
    assert render_value(float("nan")) == "nan"
