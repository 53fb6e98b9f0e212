"""``CreateEventSourceMapping`` parameters that stream and SQS mappings share, checked once.

`StreamMappingConfig` and `SQSMappingConfig` both take their shared parameters through
these converters and validators, so the same value means the same thing for both and a
bad one is refused with the same `InvalidParameterValueError`:

- ``FunctionResponseTypes``: a list (or tuple) holding at most `REPORT_BATCH_ITEM_FAILURES`.
  AWS's API takes a list; a bare string is read as a one-item list (for both configs).
- ``FilterCriteria``: a `FilterCriteria` or its AWS dict shape.
- ``BatchSize`` 1-10000, ``MaximumBatchingWindowInSeconds`` 0-300 whole seconds, and the
  rule that a ``BatchSize`` over 10 needs a window of at least 1 s.
- ``DestinationConfig``: an on-failure destination must be an SQS queue, an SNS topic or an
  S3 bucket; ``OnSuccess`` is refused; SQS mappings take no destination at all.
"""

from __future__ import annotations

from typing import Any, Final

import attrs

from invokemodels.core._validate import Validator, attribute_of, in_range
from invokemodels.exceptions import InvalidParameterValueError
from invokemodels.mapping._filters import FilterCriteria

__all__ = [
    "REPORT_BATCH_ITEM_FAILURES",
    "UNSUPPORTED_DESTINATION",
    "batch_size",
    "batching_window",
    "check_batching_window",
    "check_on_failure",
    "check_on_success",
    "check_response_types",
    "filter_criteria",
    "no_destination",
    "response_types",
]

REPORT_BATCH_ITEM_FAILURES: Final = "ReportBatchItemFailures"
"""The one ``FunctionResponseTypes`` value: partial batch responses."""

UNSUPPORTED_DESTINATION: Final = (
    "Unsupported DestinationConfig parameter for given event source mapping type."
)

_ON_FAILURE_SERVICES: Final = ("arn:aws:sqs:", "arn:aws:sns:", "arn:aws:s3:")


def response_types(value: Any) -> Any:
    """Converter for ``FunctionResponseTypes``: a list or tuple becomes a tuple, and a bare
    string a one-item tuple (AWS's API takes a list; the one value reads the same)."""
    if isinstance(value, str):
        return (value,)
    if isinstance(value, (list, tuple)):
        return tuple(value)
    return value


def check_response_types(_instance: Any, _attribute: Any, value: Any) -> None:
    """Validator for ``FunctionResponseTypes``: ``()`` or ``("ReportBatchItemFailures",)``."""
    if (
        not isinstance(value, tuple)
        or len(value) > 1
        or any(item != REPORT_BATCH_ITEM_FAILURES for item in value)
    ):
        raise InvalidParameterValueError(
            "FunctionResponseTypes",
            list(value) if isinstance(value, tuple) else value,
            f"must be [] or ['{REPORT_BATCH_ITEM_FAILURES}']",
        )


def filter_criteria(value: Any, event_source: str | None = None) -> FilterCriteria | None:
    """Convert ``FilterCriteria``: None, a `FilterCriteria` or ``{"Filters": [...]}``.

    With ``event_source`` (``"aws:sqs"``) the patterns are checked against that source's
    data-key rules now; a stream's source is known when it is mapped (``map_to``).
    """
    if value is None:
        return None
    if isinstance(value, FilterCriteria):
        if event_source is not None and value.event_source is None:
            return attrs.evolve(value, event_source=event_source)
        return value
    if isinstance(value, dict):
        return FilterCriteria.from_dict(value, event_source=event_source)
    raise InvalidParameterValueError(
        "FilterCriteria", value, 'must be a FilterCriteria or {"Filters": [{"Pattern": "..."}]}'
    )


def batch_size() -> Validator:
    """Validator for ``BatchSize``: an integer from 1 to 10000."""
    return in_range("BatchSize", 1, 10_000, integer=True)


def batching_window(*, optional: bool = False) -> Validator:
    """Validator for ``MaximumBatchingWindowInSeconds``: whole seconds from 0 to 300."""
    return in_range("MaximumBatchingWindowInSeconds", 0, 300, integer=True, optional=optional)


def check_batching_window(size: int, window: float | None) -> None:
    """AWS's rule: "when you set BatchSize to a value greater than 10, you must set
    MaximumBatchingWindowInSeconds to at least 1" (None: the window is not set)."""
    if size > 10 and window is not None and window < 1:
        raise InvalidParameterValueError(
            "MaximumBatchingWindowInSeconds",
            window,
            f"must be at least 1 when BatchSize ({size}) is greater than 10",
        )


def check_on_failure(_instance: Any, _attribute: Any, value: Any) -> None:
    """Validator for ``DestinationConfig.OnFailure``: None or an SQS, SNS or S3 `Destination`."""
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


def check_on_success(_instance: Any, _attribute: Any, value: Any) -> None:
    """Validator for ``DestinationConfig.OnSuccess``: not supported for mappings."""
    if value is not None:
        raise InvalidParameterValueError(
            "DestinationConfig.OnSuccess", value, "Not supported in CreateEventSourceMapping"
        )


def no_destination(_instance: Any, _attribute: Any, value: Any) -> None:
    """Validator for an SQS mapping's ``DestinationConfig``: always refused, as AWS does."""
    if value is not None:
        raise InvalidParameterValueError("DestinationConfig", value, UNSUPPORTED_DESTINATION)
