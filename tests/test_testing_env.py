"""`Environment`: one scheduler, one history, seeded; every factory wires into them."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from invokemodels import (
    EventInvokeConfig,
    Function,
    History,
    QueueTarget,
    SQSMappingConfig,
    StreamMappingConfig,
)
from invokemodels.core import Model
from invokemodels.exceptions import InvalidParameterValueError
from invokemodels.observe import Mark
from invokemodels.testing import Environment, assert_outcome


def echo(event: Any, context: Any) -> Any:
    return event


def failing(event: Any, context: Any) -> Any:
    raise ValueError("no")


def scenario(env: Environment) -> str:
    """Every kind of model on one environment; returns the timeline's text."""
    fn = env.function(echo)
    env.sync_invoker(fn).invoke({"sync": 1})
    env.event_invoker(failing, on_failure=QueueTarget()).invoke({"event": 1})
    queue = env.queue()
    env.sqs_mapping(queue, fn)
    queue.send_message("hello")
    stream = env.kinesis()
    env.stream_mapping(stream, fn, batch_size=5)
    stream.put_record("data", partition_key="k")
    table = env.table()
    env.stream_mapping(table, fn)
    table.put_item({"id": {"S": "1"}, "n": {"N": "2"}})
    env.drain()
    return env.text(full_ids=True)


def test_every_model_runs_on_the_one_scheduler_and_records_into_the_one_history() -> None:
    env = Environment()
    scenario(env)
    models = {span.model for span in env.history}
    assert models == {Model.REQUEST_RESPONSE, Model.EVENT, Model.EVENT_SOURCE_MAPPING}
    sources = {span.source for span in env.history if span.source}
    assert any(":sqs:" in s for s in sources)
    assert any(":kinesis:" in s for s in sources)
    assert any(":dynamodb:" in s for s in sources)
    assert env.now >= 180.0  # the Event's retries passed on the shared clock
    assert len(env.sources) == 5  # invoker, queue, its mapping, two stream mappings


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**64 - 1))
def test_one_seed_gives_one_timeline(seed: int) -> None:
    assert scenario(Environment(seed)) == scenario(Environment(seed))


def test_different_seeds_give_different_ids() -> None:
    assert scenario(Environment(1)) != scenario(Environment(2))


def test_the_tests_own_draws_do_not_change_the_models_seeds() -> None:
    quiet, busy = Environment(5), Environment(5)
    busy.rng.random()
    assert Environment(5).rng.random() == quiet.rng.random()
    assert scenario(quiet) == scenario(busy)


def test_function_names_follow_the_handler_and_stay_distinct() -> None:
    env = Environment()
    names = [env.function(echo).name, env.function(echo).name, env.function(lambda e, c: e).name]
    assert names == ["echo", "echo-2", "function-1"]
    assert env.function(echo, name="mine", timeout=10).timeout == 10
    assert env.function(failing).account is env.account


def test_default_names_of_queues_streams_and_tables() -> None:
    env = Environment()
    assert [env.queue().name, env.queue().name, env.queue("orders").name] == [
        "queue-1",
        "queue-2",
        "orders",
    ]
    assert env.fifo_queue().name == "fifo-queue-1.fifo"
    assert env.fifo_queue("orders").name == "orders.fifo"
    assert env.fifo_queue("jobs.fifo").fifo
    assert env.kinesis().name == "stream-1"
    table = env.table(key_schema=("pk", "sk"))
    assert (table.name, table.key_schema) == ("table-1", ("pk", "sk"))


def test_config_keywords_build_the_config() -> None:
    env = Environment()
    invoker = env.event_invoker(echo, maximum_retry_attempts=0, duplicate_probability=0.5)
    assert invoker.config == EventInvokeConfig(maximum_retry_attempts=0)
    assert invoker.duplicate_probability == 0.5
    mapping = env.sqs_mapping(env.queue(), echo, batch_size=3, start=False)
    assert mapping.poller.config == SQSMappingConfig(batch_size=3)
    assert not mapping.enabled
    stream_mapping = env.stream_mapping(env.kinesis(), echo, batch_size=7, polling_interval=2.0)
    assert stream_mapping.poller.config == StreamMappingConfig(
        starting_position="TRIM_HORIZON", batch_size=7
    )
    assert stream_mapping.poller.polling_interval == 2.0
    given_config = StreamMappingConfig(starting_position="LATEST")
    assert env.stream_mapping(env.kinesis(), echo, given_config).poller.config is given_config


def test_config_and_its_keywords_together_are_refused() -> None:
    env = Environment()
    with pytest.raises(InvalidParameterValueError, match=r"config.*maximum_retry_attempts"):
        env.event_invoker(echo, EventInvokeConfig(), maximum_retry_attempts=1)
    with pytest.raises(InvalidParameterValueError, match="batch_size"):
        env.sqs_mapping(env.queue(), echo, SQSMappingConfig(), batch_size=2)


def test_bad_arguments_name_the_parameter() -> None:
    env = Environment()
    for seed in (-1, 2**64, 1.5, True, "1"):
        with pytest.raises(InvalidParameterValueError, match="seed"):
            Environment(seed)  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterValueError, match="function"):
        env.event_invoker("not a function")  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterValueError, match="queue"):
        env.sqs_mapping(env.kinesis(), echo)  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterValueError, match="source"):
        env.stream_mapping(env.queue(), echo)  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterValueError, match="models"):
        env.add_sources(History())
    with pytest.raises(InvalidParameterValueError, match="Timeout"):
        env.function(echo, timeout=0)


def test_run_until_and_drain() -> None:
    env = Environment()
    invoker = env.event_invoker(failing)
    request_id = invoker.invoke({}).request_id
    env.run(until=100)
    assert env.now == 100.0
    assert len(env.history.of(request_id)) == 2
    env.run_for(50)
    assert env.now == 150.0
    assert env.drain() >= 1
    assert env.now == 180.0
    env.run()  # nothing left
    assert env.now == 180.0


def test_drain_guards_against_a_model_that_never_goes_idle() -> None:
    env = Environment()

    def again() -> None:
        env.scheduler.schedule(1.0, again)

    again()
    with pytest.raises(RuntimeError, match="max_steps=10"):
        env.drain(max_steps=10)


def test_models_made_by_hand_join_the_timeline_through_add_sources() -> None:
    env = Environment()
    from invokemodels import EventInvoker

    invoker = EventInvoker(
        Function("by-hand", failing), scheduler=env.scheduler, history=env.history
    )
    request_id = invoker.invoke({}).request_id
    env.drain()
    assert "dropped" not in env.text()
    env.add_sources(invoker, Mark(at=1.0, kind="note", item="x", function="by-hand"))
    assert assert_outcome(env, request_id, "RetriesExhausted").function == "by-hand"
    assert "note" in env.text()


def test_record_uses_the_environments_clock() -> None:
    env = Environment()
    env.run(until=42)
    recorded = env.record(echo)
    env.sync_invoker(recorded).invoke({"a": 1})
    assert [call.at for call in recorded.calls] == [42.0]


def test_a_dynamodb_stream_mapping_reads_the_tables_changes() -> None:
    env = Environment(seed=3)
    table = env.table("orders")
    seen: list[str] = []

    def handler(event: Any, context: Any) -> None:
        seen.extend(r["eventName"] for r in event["Records"])

    env.stream_mapping(table, handler)
    table.put_item({"id": {"S": "1"}, "qty": {"N": "1"}})
    table.update_item({"id": {"S": "1"}}, set={"qty": {"N": "2"}})
    table.delete_item({"id": {"S": "1"}})
    env.drain()
    assert seen == ["INSERT", "MODIFY", "REMOVE"]


def test_the_environments_epoch_stamps_the_records() -> None:
    env = Environment(epoch_origin=1_000_000_000.0)
    stream = env.kinesis()
    seen: list[float] = []
    env.stream_mapping(
        stream,
        lambda event, context: seen.extend(
            r["kinesis"]["approximateArrivalTimestamp"] for r in event["Records"]
        ),
    )
    stream.put_record(base64.b64encode(b"x"), partition_key="k")
    env.drain()
    assert seen == [1_000_000_000.0]
    assert repr(env).startswith("<Environment seed=0 now=")
