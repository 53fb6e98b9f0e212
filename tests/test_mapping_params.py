"""The parameters stream and SQS mappings share mean the same for both configs."""

from __future__ import annotations

from typing import Any

import pytest

from invokemodels import SQSMappingConfig, StreamMappingConfig
from invokemodels.exceptions import InvalidParameterValueError
from invokemodels.mapping import REPORT_BATCH_ITEM_FAILURES, FilterCriteria


def both(**kwargs: Any) -> list[Any]:
    return [
        SQSMappingConfig(**kwargs),
        StreamMappingConfig(starting_position="LATEST", **kwargs),
    ]


@pytest.mark.parametrize(
    "value",
    [REPORT_BATCH_ITEM_FAILURES, [REPORT_BATCH_ITEM_FAILURES], (REPORT_BATCH_ITEM_FAILURES,)],
)
def test_function_response_types_read_the_same_for_both(value: Any) -> None:
    for config in both(function_response_types=value):
        assert config.function_response_types == (REPORT_BATCH_ITEM_FAILURES,)
        assert config.report_batch_item_failures


@pytest.mark.parametrize("value", ["Nope", ["Nope"], [REPORT_BATCH_ITEM_FAILURES] * 2, None, 5])
def test_function_response_types_refused_the_same_for_both(value: Any) -> None:
    messages = set()
    for make in (
        lambda: SQSMappingConfig(function_response_types=value),
        lambda: StreamMappingConfig(starting_position="LATEST", function_response_types=value),
    ):
        with pytest.raises(InvalidParameterValueError) as caught:
            make()
        assert caught.value.parameter == "FunctionResponseTypes"
        messages.add(str(caught.value))
    assert len(messages) == 1


def test_filter_criteria_and_batching_rules_are_shared() -> None:
    pattern = {"Filters": [{"Pattern": '{"body": {"a": [1]}}'}]}
    sqs, stream = both(filter_criteria=pattern)
    assert isinstance(sqs.filter_criteria, FilterCriteria)
    assert isinstance(stream.filter_criteria, FilterCriteria)
    assert sqs.filter_criteria.patterns == stream.filter_criteria.patterns
    for make in (
        lambda: SQSMappingConfig(filter_criteria=5),
        lambda: StreamMappingConfig(starting_position="LATEST", filter_criteria=5),
    ):
        with pytest.raises(InvalidParameterValueError, match="FilterCriteria"):
            make()
    for make in (
        lambda: SQSMappingConfig(batch_size=11, maximum_batching_window=0),
        lambda: StreamMappingConfig(
            starting_position="LATEST", batch_size=11, maximum_batching_window=0
        ),
    ):
        with pytest.raises(InvalidParameterValueError, match="at least 1 when BatchSize"):
            make()
