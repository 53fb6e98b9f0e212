"""StreamMappingConfig: AWS's ranges, defaults and messages for stream event source mappings."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from invokemodels import (
    Bucket,
    EventBus,
    FilterCriteria,
    Function,
    KinesisStream,
    QueueTarget,
    Scheduler,
    StreamMappingConfig,
    Table,
    Topic,
    VirtualClock,
)
from invokemodels.exceptions import InvalidParameterValueError


def config(**kwargs: Any) -> StreamMappingConfig:
    kwargs.setdefault("starting_position", "TRIM_HORIZON")
    return StreamMappingConfig(**kwargs)


def test_defaults_are_the_observed_aws_defaults() -> None:
    c = config()
    assert (c.batch_size, c.batching_window, c.maximum_batching_window) == (100, 0.0, None)
    assert (c.maximum_retry_attempts, c.maximum_record_age) == (-1, -1)
    assert (c.parallelization_factor, c.tumbling_window) == (1, 0)
    assert c.bisect_batch_on_function_error is False
    assert c.function_response_types == ()
    assert c.report_batch_item_failures is False
    assert c.enabled is True
    assert c.on_failure is None
    assert c.filter_criteria is None


def test_starting_position_is_required() -> None:
    with pytest.raises(TypeError):
        StreamMappingConfig()  # type: ignore[call-arg]
    with pytest.raises(InvalidParameterValueError, match="StartingPosition"):
        StreamMappingConfig.from_dict({"BatchSize": 10})


@pytest.mark.parametrize(
    ("kwargs", "parameter", "fragment"),
    [
        ({"starting_position": "EARLIEST"}, "StartingPosition", "TRIM_HORIZON | LATEST"),
        ({"batch_size": 0}, "BatchSize", "between 1 and 10000"),
        ({"batch_size": 10001}, "BatchSize", "between 1 and 10000"),
        ({"batch_size": 2.5}, "BatchSize", "an integer"),
        ({"maximum_batching_window": 301}, "MaximumBatchingWindowInSeconds", "0 and 300"),
        ({"maximum_batching_window": -1}, "MaximumBatchingWindowInSeconds", "0 and 300"),
        ({"maximum_batching_window": 0.5}, "MaximumBatchingWindowInSeconds", "integer"),
        (
            {"batch_size": 11, "maximum_batching_window": 0},
            "MaximumBatchingWindowInSeconds",
            "at least 1 when BatchSize (11) is greater than 10",
        ),
        ({"maximum_retry_attempts": -2}, "MaximumRetryAttempts", "between -1 and 10000"),
        ({"maximum_retry_attempts": 10001}, "MaximumRetryAttempts", "between -1 and 10000"),
        ({"maximum_record_age": 604801}, "MaximumRecordAgeInSeconds", "604800"),
        ({"maximum_record_age": -2}, "MaximumRecordAgeInSeconds", "604800"),
        ({"maximum_record_age": 0}, "MaximumRecordAgeInSeconds", "minimum valid value"),
        ({"maximum_record_age": 59}, "MaximumRecordAgeInSeconds", "are not allowed"),
        ({"parallelization_factor": 0}, "ParallelizationFactor", "between 1 and 10"),
        ({"parallelization_factor": 11}, "ParallelizationFactor", "between 1 and 10"),
        ({"tumbling_window": 901}, "TumblingWindowInSeconds", "between 0 and 900"),
        ({"tumbling_window": -1}, "TumblingWindowInSeconds", "between 0 and 900"),
        ({"function_response_types": ["Nope"]}, "FunctionResponseTypes", "ReportBatchItem"),
        (
            {"function_response_types": ["ReportBatchItemFailures"] * 2},
            "FunctionResponseTypes",
            "must be []",
        ),
        ({"enabled": "yes"}, "Enabled", "True or False"),
        ({"bisect_batch_on_function_error": 1}, "BisectBatchOnFunctionError", "True or False"),
        ({"on_success": QueueTarget()}, "DestinationConfig.OnSuccess", "Not supported"),
        ({"on_failure": "arn:aws:sqs:x"}, "DestinationConfig.OnFailure", "Destination"),
        (
            {"on_failure": EventBus()},
            "DestinationConfig.OnFailure.Destination",
            "SQS queue, an SNS topic or an S3 bucket",
        ),
        ({"filter_criteria": 5}, "FilterCriteria", "FilterCriteria"),
        (
            {"starting_position": "AT_TIMESTAMP"},
            "StartingPositionTimestamp",
            "required when StartingPosition is AT_TIMESTAMP",
        ),
        (
            {"starting_position": "AT_TIMESTAMP", "starting_position_timestamp": "soon"},
            "StartingPositionTimestamp",
            "Unix seconds",
        ),
        (
            {"starting_position_timestamp": 5.0},
            "StartingPositionTimestamp",
            "only allowed when StartingPosition is AT_TIMESTAMP",
        ),
        (
            {
                "starting_position": "AT_TIMESTAMP",
                "starting_position_timestamp": dt.datetime(2024, 1, 1),
            },
            "StartingPositionTimestamp",
            "timezone-aware",
        ),
    ],
)
def test_invalid_values_name_parameter_value_and_range(
    kwargs: dict[str, Any], parameter: str, fragment: str
) -> None:
    with pytest.raises(InvalidParameterValueError) as caught:
        config(**kwargs)
    assert caught.value.parameter == parameter
    assert fragment in str(caught.value)
    assert parameter in str(caught.value)


@pytest.mark.parametrize("age", [-1, 60, 3600, 604800])
def test_record_age_accepts_minus_one_and_60_to_604800(age: int) -> None:
    assert config(maximum_record_age=age).maximum_record_age == age


def test_batch_size_over_10_with_a_window_set_to_at_least_1() -> None:
    c = config(batch_size=10000, maximum_batching_window=1)
    assert c.batching_window == 1.0
    assert config(batch_size=10, maximum_batching_window=0).batching_window == 0.0
    # An unset window is AWS's default 0 s, as a new Kinesis mapping reports (BatchSize 100).
    assert config(batch_size=500).batching_window == 0.0


def test_timedelta_and_datetime_are_accepted_at_the_boundary() -> None:
    c = config(
        maximum_batching_window=dt.timedelta(seconds=5),
        maximum_record_age=dt.timedelta(minutes=2),
        tumbling_window=dt.timedelta(minutes=1),
    )
    assert (c.maximum_batching_window, c.maximum_record_age, c.tumbling_window) == (5.0, 120, 60)
    moment = dt.datetime(2023, 11, 14, 22, 0, tzinfo=dt.timezone.utc)
    stamped = config(starting_position="AT_TIMESTAMP", starting_position_timestamp=moment)
    assert stamped.starting_position_timestamp == moment.timestamp()


@pytest.mark.parametrize("target", [QueueTarget(), Topic(), Bucket()])
def test_on_failure_accepts_sqs_sns_and_s3(target: Any) -> None:
    assert config(on_failure=target).on_failure is target


def test_from_dict_uses_aws_names() -> None:
    queue = QueueTarget()
    c = StreamMappingConfig.from_dict(
        {
            "StartingPosition": "LATEST",
            "BatchSize": 50,
            "MaximumBatchingWindowInSeconds": 2,
            "ParallelizationFactor": 3,
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
            "MaximumRetryAttempts": 5,
            "MaximumRecordAgeInSeconds": 60,
            "BisectBatchOnFunctionError": True,
            "TumblingWindowInSeconds": 30,
            "Enabled": False,
            "DestinationConfig": {"OnFailure": {"Destination": queue}, "OnSuccess": {}},
            "FilterCriteria": {"Filters": [{"Pattern": '{"data": {"kind": ["order"]}}'}]},
        }
    )
    assert c == StreamMappingConfig(
        starting_position="LATEST",
        batch_size=50,
        maximum_batching_window=2,
        parallelization_factor=3,
        function_response_types=("ReportBatchItemFailures",),
        maximum_retry_attempts=5,
        maximum_record_age=60,
        bisect_batch_on_function_error=True,
        tumbling_window=30,
        enabled=False,
        on_failure=queue,
        filter_criteria=FilterCriteria(patterns=('{"data": {"kind": ["order"]}}',)),
    )
    assert c.report_batch_item_failures is True


def test_from_dict_rejects_unknown_keys_and_bad_destination_config() -> None:
    with pytest.raises(InvalidParameterValueError, match="ScalingConfig"):
        StreamMappingConfig.from_dict({"StartingPosition": "LATEST", "ScalingConfig": {}})
    with pytest.raises(InvalidParameterValueError, match="DestinationConfig"):
        StreamMappingConfig.from_dict({"StartingPosition": "LATEST", "DestinationConfig": 1})
    with pytest.raises(InvalidParameterValueError, match="OnSuccess"):
        StreamMappingConfig.from_dict(
            {
                "StartingPosition": "LATEST",
                "DestinationConfig": {"OnSuccess": {"Destination": QueueTarget()}},
            }
        )


def test_filter_criteria_dict_is_validated_at_creation() -> None:
    with pytest.raises(InvalidParameterValueError, match="Pattern"):
        config(filter_criteria={"Filters": [{"Pattern": "not json"}]})


def test_at_timestamp_cannot_be_in_the_future_nor_used_for_dynamodb() -> None:
    sched = Scheduler(VirtualClock(epoch_origin=1_700_000_000.0))
    stream = KinesisStream("s", scheduler=sched)
    fn = Function("f", lambda e, c: None)
    future = config(starting_position="AT_TIMESTAMP", starting_position_timestamp=1_700_000_001)
    with pytest.raises(InvalidParameterValueError, match="cannot be in the future"):
        stream.map_to(fn, future)
    table = Table("tbl", key_schema="Id", scheduler=sched)
    past = config(starting_position="AT_TIMESTAMP", starting_position_timestamp=1_600_000_000)
    with pytest.raises(InvalidParameterValueError, match="TRIM_HORIZON or LATEST for DynamoDB"):
        table.map_to(fn, past)


def test_map_to_rejects_another_scheduler_and_a_foreign_config() -> None:
    stream = KinesisStream("s")
    fn = Function("f", lambda e, c: None)
    with pytest.raises(ValueError, match="stream's scheduler"):
        stream.map_to(fn, config(), scheduler=Scheduler())
    with pytest.raises(InvalidParameterValueError, match="StreamMappingConfig"):
        stream.map_to(fn, {"StartingPosition": "LATEST"})  # type: ignore[arg-type]
