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
from invokemodels.core._validate import boolean, check_range, in_range, one_of, seconds_or_none
from invokemodels.exceptions import InvalidParameterValueError
from invokemodels.mapping._filters import FilterCriteria
from invokemodels.mapping._params import (
    REPORT_BATCH_ITEM_FAILURES,
    batch_size,
    batching_window,
    check_batching_window,
    check_on_failure,
    check_on_success,
    check_response_types,
    filter_criteria,
    response_types,
)

__all__ = ["STARTING_POSITIONS", "StreamMappingConfig"]

STARTING_POSITIONS: Final = ("TRIM_HORIZON", "LATEST", "AT_TIMESTAMP")
"""``StartingPosition`` values for streams (``AT_TIMESTAMP`` is Kinesis only)."""

_RECORD_AGE_MESSAGE: Final = (
    "must be -1 or an integer between 60 and 604800. The minimum valid value for maximum "
    "record age is 60s. Although values less than 60 and greater than -1 fall within the "
    "parameter's absolute range, they are not allowed"
)


def _timestamp(value: Any) -> Any:
    """Accept an aware `datetime.datetime` for ``StartingPositionTimestamp`` (Unix seconds)."""
    if isinstance(value, _dt.datetime):
        if value.tzinfo is None:
            raise InvalidParameterValueError(
                "StartingPositionTimestamp", value, "must be timezone-aware (or Unix seconds)"
            )
        return value.timestamp()
    return value


def _check_record_age(_instance: Any, _attribute: Any, value: Any) -> None:
    check_range("MaximumRecordAgeInSeconds", value, -1, 604800, integer=True)
    if -1 < value < 60:
        raise InvalidParameterValueError("MaximumRecordAgeInSeconds", value, _RECORD_AGE_MESSAGE)


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
            ``("ReportBatchItemFailures",)`` (a list, or the bare string, is accepted).
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
    batch_size: int = attrs.field(default=100, validator=batch_size())
    maximum_batching_window: float | None = attrs.field(
        default=None, converter=seconds_or_none, validator=batching_window(optional=True)
    )
    enabled: bool = attrs.field(default=True, validator=boolean("Enabled"))
    function_response_types: tuple[str, ...] = attrs.field(
        default=(), converter=response_types, validator=check_response_types
    )
    filter_criteria: FilterCriteria | None = attrs.field(default=None, converter=filter_criteria)
    on_failure: Destination | None = attrs.field(default=None, validator=check_on_failure)
    on_success: None = attrs.field(default=None, validator=check_on_success)
    maximum_retry_attempts: int = attrs.field(
        default=-1, validator=in_range("MaximumRetryAttempts", -1, 10000, integer=True)
    )
    maximum_record_age: int = attrs.field(
        default=-1, converter=seconds_or_none, validator=_check_record_age
    )
    bisect_batch_on_function_error: bool = attrs.field(
        default=False, validator=boolean("BisectBatchOnFunctionError")
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
        check_batching_window(self.batch_size, self.maximum_batching_window)
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
        return REPORT_BATCH_ITEM_FAILURES in self.function_response_types

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
