"""The configuration strategies of `invokemodels.testing`: every drawn config is one the model
accepts, and every minimum, maximum and default of AWS's ranges is drawn."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st

from invokemodels import (
    EventInvokeConfig,
    EventInvoker,
    Function,
    Scheduler,
)
from invokemodels.aws import Bucket, KinesisStream, Queue, QueueTarget, Table
from invokemodels.core._clock import EPOCH_ORIGIN
from invokemodels.exceptions import InvalidParameterValueError
from invokemodels.mapping import SQSMappingConfig, StreamMappingConfig
from invokemodels.testing import (
    event_invoke_configs,
    sqs_mapping_configs,
    stream_mapping_configs,
)


def failing(event: Any, context: Any) -> Any:
    raise RuntimeError("no")


@given(event_invoke_configs())
def test_every_event_invoke_config_runs_an_event(config: EventInvokeConfig) -> None:
    assert 0 <= config.maximum_retry_attempts <= 2
    assert 60 <= config.maximum_event_age <= 21600
    assert config.maximum_event_age == int(config.maximum_event_age)
    invoker = EventInvoker(Function("f", failing), config=config, seed=1)
    rid = invoker.invoke({"n": 1}).request_id
    invoker.scheduler.run_until_idle()
    outcome = invoker.outcome(rid)
    # A failing function runs 1 + MaximumRetryAttempts times, unless its age runs out first.
    assert 1 <= outcome.approximate_invoke_count <= 1 + config.maximum_retry_attempts
    assert outcome.ended_at < config.maximum_event_age
    if config.on_failure is not None:
        (record,) = config.on_failure.records  # type: ignore[attr-defined]
        assert record["requestContext"]["requestId"] == rid


@given(st.booleans(), st.data())
def test_every_sqs_mapping_config_maps_a_queue_of_its_kind(fifo: bool, data: st.DataObject) -> None:
    config = data.draw(sqs_mapping_configs(fifo=fifo))
    sched = Scheduler()
    queue = Queue("orders.fifo" if fifo else "orders", scheduler=sched)
    mapping = queue.map_to(Function("f", lambda e, c: None), config, seed=2)
    if fifo:
        assert config.batch_size <= 10
        assert config.maximum_batching_window == 0
    else:
        assert not config.one_group_per_batch
    if config.batch_size > 10:
        assert config.maximum_batching_window >= 1
    # What GetEventSourceMapping shows is read back as the same configuration.
    again = SQSMappingConfig.from_dict(config.to_dict())
    assert again.to_dict() == config.to_dict()
    fifo_options = {"message_group_id": "g", "message_deduplication_id": "d"}
    queue.send_message("one", **(fifo_options if fifo else {}))
    sched.run(until=400)
    assert mapping.invocations == 1


@given(stream_mapping_configs("kinesis"))
def test_every_kinesis_config_maps_a_stream(config: StreamMappingConfig) -> None:
    stream = KinesisStream("clicks", scheduler=Scheduler())
    mapping = stream.map_to(Function("f", lambda e, c: None), config)
    assert mapping.enabled
    if config.starting_position == "AT_TIMESTAMP":
        assert config.starting_position_timestamp is not None
        assert config.starting_position_timestamp <= EPOCH_ORIGIN


@given(stream_mapping_configs("dynamodb"))
def test_every_dynamodb_config_maps_a_table_stream(config: StreamMappingConfig) -> None:
    assert config.starting_position != "AT_TIMESTAMP"
    table = Table("orders", key_schema="id", scheduler=Scheduler())
    assert table.map_to(Function("f", lambda e, c: None), config).enabled


def test_given_parts_are_used_as_they_are() -> None:
    target = QueueTarget(name="mine")
    config = find(event_invoke_configs(on_failure=target), lambda c: True)
    assert config.on_failure is target
    assert find(event_invoke_configs(destinations=False), lambda c: True).on_success is None
    disabled = find(sqs_mapping_configs(enabled=False), lambda c: True)
    assert not disabled.enabled
    position = find(stream_mapping_configs(starting_position="LATEST"), lambda c: True)
    assert position.starting_position == "LATEST"


@pytest.mark.parametrize(
    ("make", "parameter"),
    [
        (lambda: sqs_mapping_configs(fifo="yes"), "fifo"),  # type: ignore[arg-type]
        (lambda: stream_mapping_configs("sqs"), "source"),
    ],
)
def test_bad_arguments_name_the_parameter(make: Callable[[], Any], parameter: str) -> None:
    with pytest.raises(InvalidParameterValueError) as caught:
        make()
    assert caught.value.parameter == parameter


# -- the bounds are reached ---------------------------------------------------------------------

WEEK = 7 * 86400
BOUNDS: list[tuple[str, Any, Callable[[Any], bool]]] = [
    ("event: no retries", event_invoke_configs(), lambda c: c.maximum_retry_attempts == 0),
    ("event: two retries", event_invoke_configs(), lambda c: c.maximum_retry_attempts == 2),
    ("event: 60 s age", event_invoke_configs(), lambda c: c.maximum_event_age == 60),
    ("event: 6 h age", event_invoke_configs(), lambda c: c.maximum_event_age == 21600),
    ("event: an S3 on-failure", event_invoke_configs(),
     lambda c: isinstance(c.on_failure, Bucket)),
    ("event: no destinations", event_invoke_configs(),
     lambda c: c.on_success is None and c.on_failure is None),
    ("sqs: batch 1", sqs_mapping_configs(), lambda c: c.batch_size == 1),
    ("sqs: batch 10000", sqs_mapping_configs(), lambda c: c.batch_size == 10_000),
    ("sqs: window 0", sqs_mapping_configs(), lambda c: c.maximum_batching_window == 0),
    ("sqs: window 300", sqs_mapping_configs(), lambda c: c.maximum_batching_window == 300),
    ("sqs: window 1 over 10", sqs_mapping_configs(),
     lambda c: c.batch_size > 10 and c.maximum_batching_window == 1),
    ("sqs: concurrency unset", sqs_mapping_configs(), lambda c: c.maximum_concurrency is None),
    ("sqs: concurrency 2", sqs_mapping_configs(), lambda c: c.maximum_concurrency == 2),
    ("sqs: concurrency 1000", sqs_mapping_configs(), lambda c: c.maximum_concurrency == 1000),
    ("sqs: partial responses", sqs_mapping_configs(), lambda c: c.report_batch_item_failures),
    ("fifo: batch 10", sqs_mapping_configs(fifo=True), lambda c: c.batch_size == 10),
    ("fifo: one group per batch", sqs_mapping_configs(fifo=True),
     lambda c: c.one_group_per_batch),
    ("kinesis: at a timestamp", stream_mapping_configs(),
     lambda c: c.starting_position == "AT_TIMESTAMP"),
    ("kinesis: timestamp now", stream_mapping_configs(),
     lambda c: c.starting_position_timestamp == EPOCH_ORIGIN),
    ("kinesis: timestamp a week ago", stream_mapping_configs(),
     lambda c: c.starting_position_timestamp == EPOCH_ORIGIN - WEEK),
    ("stream: batch 1", stream_mapping_configs(), lambda c: c.batch_size == 1),
    ("stream: batch 10000", stream_mapping_configs(), lambda c: c.batch_size == 10_000),
    ("stream: window unset", stream_mapping_configs(),
     lambda c: c.maximum_batching_window is None),
    ("stream: window 0", stream_mapping_configs(), lambda c: c.maximum_batching_window == 0),
    ("stream: window 300", stream_mapping_configs(), lambda c: c.maximum_batching_window == 300),
    ("stream: retry forever", stream_mapping_configs(), lambda c: c.maximum_retry_attempts == -1),
    ("stream: no retries", stream_mapping_configs(), lambda c: c.maximum_retry_attempts == 0),
    ("stream: 10000 retries", stream_mapping_configs(),
     lambda c: c.maximum_retry_attempts == 10_000),
    ("stream: any age", stream_mapping_configs(), lambda c: c.maximum_record_age == -1),
    ("stream: age 60", stream_mapping_configs(), lambda c: c.maximum_record_age == 60),
    ("stream: age a week", stream_mapping_configs(), lambda c: c.maximum_record_age == 604_800),
    ("stream: bisect", stream_mapping_configs(), lambda c: c.bisect_batch_on_function_error),
    ("stream: factor 1", stream_mapping_configs(), lambda c: c.parallelization_factor == 1),
    ("stream: factor 10", stream_mapping_configs(), lambda c: c.parallelization_factor == 10),
    ("stream: no window", stream_mapping_configs(), lambda c: c.tumbling_window == 0),
    ("stream: 900 s window", stream_mapping_configs(), lambda c: c.tumbling_window == 900),
    ("stream: an S3 on-failure", stream_mapping_configs(),
     lambda c: isinstance(c.on_failure, Bucket)),
    ("dynamodb: trim horizon", stream_mapping_configs("dynamodb"),
     lambda c: c.starting_position == "TRIM_HORIZON"),
    ("dynamodb: latest", stream_mapping_configs("dynamodb"),
     lambda c: c.starting_position == "LATEST"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("strategy", "reached"), [pytest.param(s, r, id=name) for name, s, r in BOUNDS]
)
def test_each_bound_is_drawn(strategy: Any, reached: Callable[[Any], bool]) -> None:
    found = find(
        strategy,
        reached,
        settings=settings(
            max_examples=5000,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        ),
    )
    assert reached(found)
