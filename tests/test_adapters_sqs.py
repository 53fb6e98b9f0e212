"""The SQS poller against a real queue (moto's server on 127.0.0.1), on the real clock."""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from invokemodels import Function, Scheduler
from invokemodels.adapters import Backoff, MappingRunner, SQSQueue, map_queue
from invokemodels.aws import Queue
from invokemodels.core import SystemClock
from invokemodels.exceptions import InvalidParameterValueError
from invokemodels.mapping import SQSMappingConfig
from tests.aws_server import client

FAST = 0.05
"""Seconds between receives of an empty queue in these tests."""


def make_queue(endpoint: str, name: str, **attributes: str) -> str:
    return str(
        client("sqs", endpoint).create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    )


def with_dlq(endpoint: str, name: str, max_receives: int = 2) -> tuple[str, str]:
    sqs = client("sqs", endpoint)
    dlq = make_queue(endpoint, f"{name}-dlq")
    arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    policy = json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": max_receives})
    return make_queue(endpoint, name, VisibilityTimeout="1", RedrivePolicy=policy), dlq


def drain(endpoint: str, url: str) -> list[dict[str, Any]]:
    sqs = client("sqs", endpoint)
    out: list[dict[str, Any]] = []
    while True:
        got = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, MessageSystemAttributeNames=["All"]
        ).get("Messages", [])
        if not got:
            return out
        out.extend(got)


def waiting(endpoint: str, url: str) -> int:
    attributes = client("sqs", endpoint).get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"])


def send(endpoint: str, url: str, bodies: list[str], **extra: Any) -> None:
    sqs = client("sqs", endpoint)
    for body in bodies:
        sqs.send_message(QueueUrl=url, MessageBody=body, **extra)


def test_a_batch_that_succeeds_is_deleted(aws_endpoint: str) -> None:
    url = make_queue(aws_endpoint, "ok")
    send(aws_endpoint, url, [f"m{i}" for i in range(7)])
    seen: list[str] = []
    fn = Function("consumer", lambda event, ctx: seen.extend(r["body"] for r in event["Records"]))
    mapping = map_queue(
        fn, url, SQSMappingConfig(batch_size=3), endpoint_url=aws_endpoint,
        idle_poll_interval=FAST,
    )  # fmt: skip
    reason = MappingRunner(mapping).run(timeout=10, until=lambda: mapping.poller.queue.deleted == 7)
    assert reason == "until"
    assert sorted(seen) == [f"m{i}" for i in range(7)]
    assert mapping.poller.poller.processed == 7
    assert drain(aws_endpoint, url) == []
    assert mapping.invocations >= 3


def test_the_batching_window_gathers_messages_sent_while_it_is_open(aws_endpoint: str) -> None:
    url = make_queue(aws_endpoint, "gather")
    send(aws_endpoint, url, ["w1", "w2"])
    batches: list[list[str]] = []
    fn = Function(
        "consumer", lambda event, ctx: batches.append(sorted(r["body"] for r in event["Records"]))
    )
    config = SQSMappingConfig(batch_size=5, maximum_batching_window=1)
    mapping = map_queue(fn, url, config, endpoint_url=aws_endpoint, idle_poll_interval=FAST)
    threading.Timer(0.3, send, (aws_endpoint, url, ["w3", "w4"])).start()
    MappingRunner(mapping).run(timeout=10, until=lambda: bool(batches))
    assert batches == [["w1", "w2", "w3", "w4"]]


def test_a_failed_batch_is_left_to_its_visibility_timeout_and_redriven(aws_endpoint: str) -> None:
    url, dlq = with_dlq(aws_endpoint, "redrive")
    send(aws_endpoint, url, ["bad"])
    counts: list[str] = []

    def handler(event: dict[str, Any], context: Any) -> None:
        for record in event["Records"]:
            counts.append(record["attributes"]["ApproximateReceiveCount"])
            raise ValueError(record["body"])

    mapping = map_queue(
        Function("consumer", handler), url, endpoint_url=aws_endpoint, idle_poll_interval=FAST
    )
    MappingRunner(mapping).run(timeout=15, until=lambda: waiting(aws_endpoint, dlq) > 0)
    # Received twice, one visibility timeout apart, then moved by the queue's redrive.
    assert counts == ["1", "2"]
    assert [m["Body"] for m in drain(aws_endpoint, dlq)] == ["bad"]
    assert mapping.poller.poller.failed_batches == 2
    assert mapping.poller.queue.deleted == 0


def test_a_partial_batch_response_keeps_only_the_reported_messages(aws_endpoint: str) -> None:
    url, dlq = with_dlq(aws_endpoint, "partial", max_receives=5)
    send(aws_endpoint, url, ["a", "bad", "c"])
    calls: list[list[str]] = []

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        calls.append(sorted(r["body"] for r in event["Records"]))
        failed = [r["messageId"] for r in event["Records"] if r["body"] == "bad"]
        return {"batchItemFailures": [{"itemIdentifier": i} for i in failed]}

    config = SQSMappingConfig(batch_size=10, function_response_types=["ReportBatchItemFailures"])
    mapping = map_queue(
        Function("consumer", handler), url, config, endpoint_url=aws_endpoint,
        idle_poll_interval=FAST,
    )  # fmt: skip
    MappingRunner(mapping).run(timeout=15, until=lambda: len(calls) >= 2)
    assert calls[:2] == [["a", "bad", "c"], ["bad"]]
    assert mapping.poller.poller.processed == 2
    assert mapping.poller.poller.partial_batches == 2
    assert drain(aws_endpoint, dlq) == []


def test_a_fifo_queue_keeps_each_group_in_order_and_deduplicates(aws_endpoint: str) -> None:
    url = make_queue(
        aws_endpoint, "orders.fifo", FifoQueue="true", ContentBasedDeduplication="true"
    )
    bodies = [f"{group}-{i}" for i in range(4) for group in ("x", "y")]
    sqs = client("sqs", aws_endpoint)
    for body in [*bodies, bodies[0]]:  # the repeat is a duplicate (content-based)
        sqs.send_message(QueueUrl=url, MessageBody=body, MessageGroupId=body[0])
    seen: list[str] = []
    fn = Function("consumer", lambda event, ctx: seen.extend(r["body"] for r in event["Records"]))
    mapping = map_queue(
        fn, url, SQSMappingConfig(batch_size=3), endpoint_url=aws_endpoint,
        idle_poll_interval=FAST,
    )  # fmt: skip
    MappingRunner(mapping).run(timeout=10, until=lambda: len(seen) >= len(bodies))
    assert sorted(seen) == sorted(bodies)
    for group in ("x", "y"):
        assert [b for b in seen if b[0] == group] == [f"{group}-{i}" for i in range(4)]
    assert drain(aws_endpoint, url) == []


def test_one_group_per_batch_returns_the_other_groups_at_once(aws_endpoint: str) -> None:
    url = make_queue(
        aws_endpoint, "groups.fifo", FifoQueue="true", ContentBasedDeduplication="true"
    )
    sqs = client("sqs", aws_endpoint)
    for body in ["a-1", "b-1", "a-2", "b-2"]:
        sqs.send_message(QueueUrl=url, MessageBody=body, MessageGroupId=body[0])
    batches: list[list[str]] = []
    fn = Function(
        "consumer", lambda event, ctx: batches.append([r["body"] for r in event["Records"]])
    )
    config = SQSMappingConfig(batch_size=10, one_group_per_batch=True)
    mapping = map_queue(fn, url, config, endpoint_url=aws_endpoint, idle_poll_interval=FAST)
    MappingRunner(mapping).run(timeout=10, until=lambda: mapping.poller.queue.deleted == 4)
    assert sorted(batches) == [["a-1", "a-2"], ["b-1", "b-2"]]


def test_a_stale_receipt_handle_is_no_deletion_and_no_error(aws_endpoint: str) -> None:
    url = make_queue(aws_endpoint, "stale")
    queue = SQSQueue(url, endpoint_url=aws_endpoint)
    assert queue.delete_message("not-a-receipt-handle") is False
    assert (queue.deleted, queue.errors.count) == (0, 0)
    assert (queue.name, queue.region, queue.fifo, queue.visibility_timeout) == (
        "stale", "us-east-1", False, 30.0,
    )  # fmt: skip


def test_shutdown_returns_messages_that_never_reached_the_function(aws_endpoint: str) -> None:
    url = make_queue(aws_endpoint, "window", VisibilityTimeout="30")
    send(aws_endpoint, url, ["p", "q", "r"])
    seen: list[Any] = []
    config = SQSMappingConfig(batch_size=50, maximum_batching_window=20)
    mapping = map_queue(
        Function("consumer", lambda event, ctx: seen.append(event)), url, config,
        endpoint_url=aws_endpoint, idle_poll_interval=FAST,
    )  # fmt: skip
    queue = mapping.poller.queue
    assert MappingRunner(mapping).run(timeout=10, until=lambda: queue.received == 3) == "until"
    # Gathered into the open batch, never invoked: not deleted, and visible again at
    # once instead of after the 30 s visibility timeout.
    assert seen == []
    assert (queue.received, queue.deleted, queue.returned, queue.held) == (3, 0, 3, 0)
    assert sorted(m["Body"] for m in drain(aws_endpoint, url)) == ["p", "q", "r"]
    assert not mapping.enabled


def test_shutdown_returns_a_batch_held_after_a_throttle(aws_endpoint: str) -> None:
    url = make_queue(aws_endpoint, "throttled", VisibilityTimeout="30")
    send(aws_endpoint, url, ["t1", "t2"])
    closed = Function("consumer", lambda event, ctx: None, reserved_concurrency=0)
    mapping = map_queue(closed, url, endpoint_url=aws_endpoint, idle_poll_interval=FAST)
    runner = MappingRunner(mapping)
    runner.run(timeout=10, until=lambda: mapping.throttles >= 1)
    queue = mapping.poller.queue
    # The poller held the throttled batch to retry it; the shutdown lets it go at once.
    assert mapping.poller.poller.throttled_batches == 1
    assert (queue.deleted, queue.returned) == (0, 2)
    assert sorted(m["Body"] for m in drain(aws_endpoint, url)) == ["t1", "t2"]


def test_stop_from_another_thread_ends_the_run(aws_endpoint: str) -> None:
    url = make_queue(aws_endpoint, "idle")
    mapping = map_queue(
        Function("consumer", lambda event, ctx: None), url, endpoint_url=aws_endpoint
    )
    runner = MappingRunner(mapping)
    threading.Timer(0.2, runner.stop).start()
    assert runner.run(timeout=30) == "stop"
    assert not mapping.enabled


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_sigterm_stops_the_runner_and_restores_the_handler(aws_endpoint: str) -> None:
    url = make_queue(aws_endpoint, "signals")
    send(aws_endpoint, url, ["one"])
    seen: list[str] = []
    fn = Function("consumer", lambda event, ctx: seen.extend(r["body"] for r in event["Records"]))
    mapping = map_queue(fn, url, endpoint_url=aws_endpoint, idle_poll_interval=FAST)
    before = signal.getsignal(signal.SIGTERM)

    def terminate_once_processed() -> None:
        for _ in range(2000):
            if mapping.poller.queue.deleted:
                break
            threading.Event().wait(0.01)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=terminate_once_processed, daemon=True).start()
    assert MappingRunner(mapping).run(timeout=10, handle_signals=True) == "SIGTERM"
    assert signal.getsignal(signal.SIGTERM) is before
    assert seen == ["one"]
    assert mapping.poller.queue.deleted == 1


def test_aws_errors_back_off_within_bounds(aws_endpoint: str) -> None:
    url = make_queue(aws_endpoint, "vanishing")
    clock = SystemClock()
    queue = SQSQueue(
        url, endpoint_url=aws_endpoint, clock=clock, idle_poll_interval=FAST,
        backoff=Backoff(initial=0.1, maximum=0.2),
    )  # fmt: skip
    client("sqs", aws_endpoint).delete_queue(QueueUrl=url)
    mapping = map_queue(Function("consumer", lambda event, ctx: None), queue)
    MappingRunner(mapping).run(timeout=1.0)
    # 0.1 s, then 0.2 s between tries: about 6 in one second, never a busy loop.
    assert 2 <= queue.errors.count <= 8
    assert queue.errors.streak == queue.errors.count
    assert "QueueDoesNotExist" in queue.errors.recent[-1]


@given(
    initial=st.floats(0.001, 3600),
    maximum=st.floats(0.001, 3600),
    failures=st.integers(1, 200),
)
def test_backoff_doubles_and_is_bounded(initial: float, maximum: float, failures: int) -> None:
    backoff = Backoff(initial=initial, maximum=maximum)
    assert backoff.delay(1) == min(initial, maximum)
    assert backoff.delay(failures) <= maximum
    assert backoff.delay(failures) <= backoff.delay(failures + 1)


def test_bad_configuration_is_refused_by_name(aws_endpoint: str) -> None:
    url = make_queue(aws_endpoint, "config")
    fn = Function("consumer", lambda event, ctx: None)
    with pytest.raises(InvalidParameterValueError, match="scheduler"):
        map_queue(fn, url, scheduler=Scheduler(), endpoint_url=aws_endpoint)
    with pytest.raises(InvalidParameterValueError, match="queue"):
        map_queue(fn, 42)  # type: ignore[arg-type]
    other = SQSQueue(url, endpoint_url=aws_endpoint)
    with pytest.raises(InvalidParameterValueError, match="clock"):
        map_queue(fn, other, scheduler=Scheduler(clock=SystemClock()))
    with pytest.raises(InvalidParameterValueError, match="idle_poll_interval"):
        SQSQueue(url, endpoint_url=aws_endpoint, idle_poll_interval=0)
    with pytest.raises(ValueError, match="either a client"):
        SQSQueue(url, client("sqs", aws_endpoint), endpoint_url=aws_endpoint)
    with pytest.raises(InvalidParameterValueError, match="MaximumBatchingWindowInSeconds"):
        fifo = make_queue(aws_endpoint, "config.fifo", FifoQueue="true")
        map_queue(fn, fifo, SQSMappingConfig(maximum_batching_window=1), endpoint_url=aws_endpoint)
    with pytest.raises(InvalidParameterValueError, match="mappings"):
        MappingRunner([])
    runner = MappingRunner(map_queue(fn, url, endpoint_url=aws_endpoint))
    with pytest.raises(InvalidParameterValueError, match="max_wait"):
        runner.run(max_wait=0)
    with pytest.raises(InvalidParameterValueError, match="timeout"):
        runner.run(timeout=-1)
    in_memory = Queue("q", scheduler=Scheduler()).map_to(fn)
    with pytest.raises(InvalidParameterValueError, match="real clock"):
        MappingRunner(in_memory)


def test_a_missing_boto3_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    from invokemodels.adapters import _boto

    monkeypatch.setitem(sys.modules, "boto3", None)
    with pytest.raises(ImportError, match=r"invokemodels\[aws\]"):
        _boto.make_client("sqs")
