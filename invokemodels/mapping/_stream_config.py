"""`StreamMappingConfig`: the ``CreateEventSourceMapping`` parameters that apply to streams.

Ranges, defaults and rules are those of the Lambda API for Kinesis Data Streams
and DynamoDB Streams (reference 4.0 and 4.1).  A value out of range raises
`invokemodels.exceptions.InvalidParameterValueError` naming the parameter, the
value and what is allowed, as ``InvalidParameterValueException`` does.
"""

from __future__ import annotations

import datetime as _dt
import math
from typing import Any, Final

import attrs

from invokemodels.core._protocols import Destination
from invokemodels.core._validate import attribute_of, check_range, in_range, one_of, seconds_or_none
from invokemodels.exceptions import InvalidParameterValueError
from invokemodels.mapping._filters import FilterCriteria

__all__ = ["STARTING_POSITIONS", "StreamMappingConfig"]

STARTING_POSITIONS: Final = ("TRIM_HORIZON", "LATEST", "AT_TIMESTAMP")
"""``StartingPosition`` values for streams (``AT_TIMESTAMP`` is Kinesis only)."""

REPORT_BATCH_ITEM_FAILURES: Final = "ReportBatchItemFailures"

_RECORD_AGE_MESSAGE: Final = (
    "must be -1 or an integer between 60 and 604800. The minimum valid value for maximum "
    "record age is 60s. Although values less than 60 and greater than -1 fall within the "
    "parameter's absolute range, they are not allowed"
)

_ON_FAILURE_SERVICES: Final = ("arn:aws:sqs:", "arn:aws:sns:", "arn:aws:s3:")


def _boolean(parameter: str) -> Any:
    def validate(_instance: Any, _attribute: Any, value: Any) -> None:
        if not isinstance(value, bool):
            raise InvalidParameterValueError(parameter, value, "must be true or false")

    return validate


def _timestamp(value: Any) -> Any:
    """Accept an aware `datetime.datetime` for ``StartingPositionTimestamp`` (Unix seconds)."""
    if isinstance(value, _dt.datetime):
        if value.tzinfo is None:
            raise InvalidParameterValueError(
                "StartingPositionTimestamp", value, "must be timezone-aware (or Unix seconds)"
            )
        return value.timestamp()
    return value


def _response_types(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def _check_response_types(_instance: Any, _attribute: Any, value: Any) -> None:
    if (
        not isinstance(value, tuple)
        or len(value) > 1
        or any(item != REPORT_BATCH_ITEM_FAILURES for item in value)
    ):
        raise InvalidParameterValueError(
            "FunctionResponseTypes", value, "must be [] or ['ReportBatchItemFailures']"
        )


def _check_record_age(_instance: Any, _attribute: Any, value: Any) -> None:
    check_range("MaximumRecordAgeInSeconds", value, -1, 604800, integer=True)
    if -1 < value < 60:
        raise InvalidParameterValueError("MaximumRecordAgeInSeconds", value, _RECORD_AGE_MESSAGE)


def _check_on_failure(_instance: Any, _attribute: Any, value: Any) -> None:
    if value is None:
        return
    arn = attribute_of(value, "arn")
    if not isinstance(arn, str) or not callable(attribute_of(value, "deliver")):
        raise InvalidParameterValueError(
            "DestinationConfig.OnFailure", value, "must be a Destination (an SQS, SNS or S3 target)"
        )
    if not arn.startswith(_ON_FAILURE_SERVICES):
        raise InvalidParameterValueError(
            "DestinationConfig.OnFailure.Destination",
            arn,
            "must be the ARN of an SQS queue, an SNS topic or an S3 bucket for a stream",
        )


def _check_on_success(_instance: Any, _attribute: Any, value: Any) -> None:
    if value is not None:
        raise InvalidParameterValueError(
            "DestinationConfig.OnSuccess", value, "Not supported in CreateEventSourceMapping"
        )


def _filter_criteria(value: Any) -> Any:
    """Accept ``{"Filters": [{"Pattern": "..."}]}`` and build a `FilterCriteria` from it."""
    if isinstance(value, dict):
        return FilterCriteria.from_dict(value)
    return value


def _check_filter_criteria(_instance: Any, _attribute: Any, value: Any) -> None:
    if value is not None and not callable(attribute_of(value, "matches")):
        raise InvalidParameterValueError(
            "FilterCriteria", value, "must be a FilterCriteria or {'Filters': [{'Pattern': ...}]}"
        )


@attrs.frozen(kw_only=True)
class StreamMappingConfig:
    """An event source mapping's configuration for a Kinesis or DynamoDB stream.

    Each attribute is the ``CreateEventSourceMapping`` parameter of the same
    name, with AWS's range and default.  Durations are seconds (a
    `datetime.timedelta` is accepted).

    Attributes:
        starting_position: ``StartingPosition``: ``TRIM_HORIZON`` (the oldest record
            in the stream), ``LATEST`` (records put after the mapping starts) or
            ``AT_TIMESTAMP`` (Kinesis only).  Required, as for AWS.
        starting_position_timestamp: ``StartingPositionTimestamp`` in Unix seconds (or
            an aware datetime); required with ``AT_TIMESTAMP``, and it "cannot be in
            the future" (checked against the clock when the mapping is created).
        batch_size: ``BatchSize``, 1-10000 (default 100).
        maximum_batching_window: ``MaximumBatchingWindowInSeconds``, 0-300 whole seconds.
            None (the default) means not set, which is AWS's default of 0 s.  AWS's
            rule "when you set BatchSize to a value greater than 10, you must set
            MaximumBatchingWindowInSeconds to at least 1" is enforced when the window
            *is set*: a new Kinesis mapping is observed with BatchSize 100 and a window
            of 0, so leaving the window unset stays valid.
        enabled: ``Enabled`` (default True); a disabled mapping resumes from its
            checkpoint when enabled.
        function_response_types: ``FunctionResponseTypes``: ``()`` (default) or
            ``("ReportBatchItemFailures",)``.
        filter_criteria: ``FilterCriteria`` (a `FilterCriteria`, or its AWS dict shape);
            records that do not match are skipped.  None (default) means no filter.
        on_failure: ``DestinationConfig.OnFailure``: an SQS, SNS or S3 target for
            discarded batches (default None).
        on_success: ``DestinationConfig.OnSuccess`` is not supported for mappings;
            anything but None is rejected.
        maximum_retry_attempts: ``MaximumRetryAttempts``, -1 (infinite, the default)
            or 0-10000.
        maximum_record_age: ``MaximumRecordAgeInSeconds``, -1 (infinite, the default)
            or 60-604800.
        bisect_batch_on_function_error: ``BisectBatchOnFunctionError`` (default False).
        parallelization_factor: ``ParallelizationFactor``, 1-10 (default 1): concurrent
            batches per shard.
        tumbling_window: ``TumblingWindowInSeconds``, 0-900 (default 0: no window).
    """

    starting_position: str = attrs.field(validator=one_of("StartingPosition", STARTING_POSITIONS))
    starting_position_timestamp: float | None = attrs.field(default=None, converter=_timestamp)
    batch_size: int = attrs.field(
        default=100, validator=in_range("BatchSize", 1, 10000, integer=True)
    )
    maximum_batching_window: float | None = attrs.field(
        default=None,
        converter=seconds_or_none,
        validator=in_range("MaximumBatchingWindowInSeconds", 0, 300, integer=True, optional=True),
    )
    enabled: bool = attrs.field(default=True, validator=_boolean("Enabled"))
    function_response_types: tuple[str, ...] = attrs.field(
        default=(), converter=_response_types, validator=_check_response_types
    )
    filter_criteria: FilterCriteria | None = attrs.field(
        default=None, converter=_filter_criteria, validator=_check_filter_criteria
    )
    on_failure: Destination | None = attrs.field(default=None, validator=_check_on_failure)
    on_success: None = attrs.field(default=None, validator=_check_on_success)
    maximum_retry_attempts: int = attrs.field(
        default=-1, validator=in_range("MaximumRetryAttempts", -1, 10000, integer=True)
    )
    maximum_record_age: int = attrs.field(
        default=-1, converter=seconds_or_none, validator=_check_record_age
    )
    bisect_batch_on_function_error: bool = attrs.field(
        default=False, validator=_boolean("BisectBatchOnFunctionError")
    )
    parallelization_factor: int = attrs.field(
        default=1, validator=in_range("ParallelizationFactor", 1, 10, integer=True)
    )
    tumbling_window: int = attrs.field(
        default=0,
        converter=seconds_or_none,
        validator=in_range("TumblingWindowInSeconds", 0, 900, integer=True),
    )

    def __attrs_post_init__(self) -> None:
        window = self.maximum_batching_window
        if self.batch_size > 10 and window is not None and window < 1:
            raise InvalidParameterValueError(
                "MaximumBatchingWindowInSeconds",
                window,
                f"must be at least 1 when BatchSize ({self.batch_size}) is greater than 10",
            )
        stamp = self.starting_position_timestamp
        if self.starting_position == "AT_TIMESTAMP":
            if stamp is None:
                raise InvalidParameterValueError(
                    "StartingPositionTimestamp", None, "is required when StartingPosition is "
                    "AT_TIMESTAMP"
                )  # fmt: skip
            if (
                not isinstance(stamp, (int, float))
                or isinstance(stamp, bool)
                or not math.isfinite(stamp)
            ):
                raise InvalidParameterValueError(
                    "StartingPositionTimestamp", stamp, "must be Unix seconds"
                )
        elif stamp is not None:
            raise InvalidParameterValueError(
                "StartingPositionTimestamp",
                stamp,
                "is only allowed when StartingPosition is AT_TIMESTAMP",
            )

    @property
    def batching_window(self) -> float:
        """The effective batching window in seconds (0 when not set)."""
        return float(self.maximum_batching_window or 0)

    @property
    def report_batch_item_failures(self) -> bool:
        """True when ``FunctionResponseTypes`` holds ``ReportBatchItemFailures``."""
        return bool(self.function_response_types)

    @classmethod
    def from_dict(cls, parameters: dict[str, Any]) -> StreamMappingConfig:
        """Build from ``CreateEventSourceMapping`` keyword arguments (AWS's names).

        ``DestinationConfig`` takes destination *objects*
        (``{"OnFailure": {"Destination": QueueTarget()}}``); unknown keys are rejected.
        """
        names = {
            "StartingPosition": "starting_position",
            "StartingPositionTimestamp": "starting_position_timestamp",
            "BatchSize": "batch_size",
            "MaximumBatchingWindowInSeconds": "maximum_batching_window",
            "Enabled": "enabled",
            "FunctionResponseTypes": "function_response_types",
            "FilterCriteria": "filter_criteria",
            "MaximumRetryAttempts": "maximum_retry_attempts",
            "MaximumRecordAgeInSeconds": "maximum_record_age",
            "BisectBatchOnFunctionError": "bisect_batch_on_function_error",
            "ParallelizationFactor": "parallelization_factor",
            "TumblingWindowInSeconds": "tumbling_window",
        }
        kwargs: dict[str, Any] = {}
        for key, value in parameters.items():
            if key == "DestinationConfig":
                if not isinstance(value, dict):
                    raise InvalidParameterValueError(key, value, "must be a dict")
                for which, field in (("OnFailure", "on_failure"), ("OnSuccess", "on_success")):
                    target = value.get(which) or {}
                    if target:
                        kwargs[field] = target.get("Destination")
            elif key in names:
                kwargs[names[key]] = value
            else:
                raise InvalidParameterValueError(
                    key, value, "is not a stream event source mapping parameter"
                )
        if "StartingPosition" not in parameters:
            raise InvalidParameterValueError(
                "StartingPosition", None, "is required for a stream (TRIM_HORIZON | LATEST | "
                "AT_TIMESTAMP)"
            )  # fmt: skip
        return cls(**kwargs)
