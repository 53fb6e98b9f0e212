"""Real queues and topics (moto's server) as destinations and dead-letter targets."""

from __future__ import annotations

import json
from typing import Any

from invokemodels import EventInvokeConfig, EventInvoker, Function, Scheduler
from invokemodels.adapters import SNSDestination, SQSDestination
from tests.aws_server import client


def inbox(endpoint: str, name: str) -> tuple[Any, str, str]:
    sqs = client("sqs", endpoint)
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    return sqs, url, arn


def test_a_real_queue_is_the_event_models_dead_letter_queue(aws_endpoint: str) -> None:
    sqs, url, arn = inbox(aws_endpoint, "event-dlq")
    dlq = SQSDestination(url, endpoint_url=aws_endpoint)
    assert dlq.arn == arn

    def handler(event: Any, context: Any) -> None:
        raise ValueError("always")

    sched = Scheduler()
    invoker = EventInvoker(
        Function("worker", handler), EventInvokeConfig(maximum_retry_attempts=0),
        scheduler=sched, dead_letter=dlq, seed=3,
    )  # fmt: skip
    invoker.invoke({"order": 1})
    sched.run_until_idle()
    got = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"])["Messages"]
    assert [json.loads(m["Body"]) for m in got] == [{"order": 1}]
    attributes = got[0]["MessageAttributes"]
    assert attributes["ErrorCode"] == {"DataType": "Number", "StringValue": "200"}
    assert attributes["ErrorMessage"]["StringValue"] == "always"
    assert attributes["RequestID"]["StringValue"]


def test_a_topic_drops_the_payload_of_a_record_over_256_kb(aws_endpoint: str) -> None:
    sqs, url, arn = inbox(aws_endpoint, "topic-inbox")
    sns = client("sns", aws_endpoint)
    topic = sns.create_topic(Name="records")["TopicArn"]
    sns.subscribe(
        TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"}
    )
    target = SNSDestination(topic, endpoint_url=aws_endpoint)
    small = {"requestContext": {"condition": "x"}, "requestPayload": {"a": 1}}
    large = {"requestContext": {"condition": "y"}, "requestPayload": "p" * 300_000}
    target.deliver(small, delivery=None)  # type: ignore[arg-type]
    target.deliver(large, delivery=None)  # type: ignore[arg-type]
    bodies = []
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not got:
            break
        bodies += [json.loads(m["Body"]) for m in got]
    assert small in bodies
    assert {"requestContext": {"condition": "y"}} in bodies
    assert len(bodies) == 2
