"""S3, SNS and EventBridge as event sources: they invoke functions with ``Event``.

Shapes key for key against the reference samples (5.5, 5.6) and EventBridge's envelope;
configuration validation as the services do it; properties: every operation that matches
a subscription ends in exactly one Event outcome per subscribed function, and filters
deliver exactly what the matcher applied directly accepts.
"""

# ruff: noqa: E501 (AWS's samples are kept verbatim)

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from invokemodels import EventInvokeConfig, EventInvoker, Function, QueueTarget, Scheduler
from invokemodels.aws import Bucket, EventBus, InputTransformer, Queue, RuleTarget, Topic
from invokemodels.aws._sns import attribute_view
from invokemodels.exceptions import InvalidParameterValueError
from invokemodels.mapping import FilterCriteria, SQSMappingConfig
from invokemodels.mapping._filters import compile_pattern

S3_SAMPLE = json.loads("""
{"Records": [{"eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-2",
  "eventTime": "2019-09-03T19:37:27.192Z", "eventName": "ObjectCreated:Put",
  "userIdentity": {"principalId": "AWS:AIDAINPONIXQXHT3IKHL2"},
  "requestParameters": {"sourceIPAddress": "205.255.255.255"},
  "responseElements": {"x-amz-request-id": "D82B88E5F771F645", "x-amz-id-2": "vlR7PnpV2Ce81l0PRw6jlUpck7Jo5ZsQjryTjKlc5aLWGVHPZLj5NeC6qMa0emYBDXOo6QBU0Wo="},
  "s3": {"s3SchemaVersion": "1.0", "configurationId": "828aa6fc-f7b5-4305-8584-487c791949c1",
    "bucket": {"name": "DOC-EXAMPLE-BUCKET", "ownerIdentity": {"principalId": "A3I5XTEXAMAI3E"}, "arn": "arn:aws:s3:::lambda-artifacts-deafc19498e3f2df"},
    "object": {"key": "b21b84d653bb07b05b1e6b33684dc11b", "size": 1305107, "eTag": "b21b84d653bb07b05b1e6b33684dc11b", "sequencer": "0C0F6F405D6ED209E1"}}}]}
""")

SNS_SAMPLE = json.loads("""
{"Records": [{"EventVersion": "1.0",
  "EventSubscriptionArn": "arn:aws:sns:us-east-2:123456789012:sns-lambda:21be56ed-a058-49f5-8c98-aedd2564c486",
  "EventSource": "aws:sns",
  "Sns": {"SignatureVersion": "1", "Timestamp": "2019-01-02T12:45:07.000Z",
    "Signature": "tcc6faL2yUC6dgZdmrwh1Y4cGa/ebXEkAi6RibDsvpi+tE/1+82j...65r==",
    "SigningCertUrl": "https://sns.us-east-2.amazonaws.com/SimpleNotificationService-ac565b8b1a6c5d002d285f9598aa1d9b.pem",
    "MessageId": "95df01b4-ee98-5cb9-9903-4c221d41eb5e", "Message": "Hello from SNS!",
    "MessageAttributes": {"Test": {"Type": "String", "Value": "TestString"}, "TestBinary": {"Type": "Binary", "Value": "TestBinary"}},
    "Type": "Notification",
    "UnsubscribeUrl": "https://sns.us-east-2.amazonaws.com/?Action=Unsubscribe&amp;SubscriptionArn=arn:aws:sns:us-east-2:123456789012:test-lambda:21be56ed-a058-49f5-8c98-aedd2564c486",
    "TopicArn": "arn:aws:sns:us-east-2:123456789012:sns-lambda", "Subject": "TestInvoke"}}]}
""")

# Reference 3.6's envelope; a rule's target receives the same keys (SAM's ScheduledEvent.json).
EVENTBRIDGE_SAMPLE = json.loads("""
{"version": "0", "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa", "detail-type": "Scheduled Event",
 "source": "aws.events", "account": "123456789012", "time": "2015-10-08T16:53:06Z",
 "region": "us-east-1", "resources": ["arn:aws:events:us-east-1:123456789012:rule/my-scheduled-rule"],
 "detail": {}}
""")


def skeleton(value: Any) -> Any:
    """Keys in order and value types, without the values."""
    if isinstance(value, dict):
        return [(key, skeleton(inner)) for key, inner in value.items()]
    if isinstance(value, list):
        return [skeleton(value[0])] if value else []
    return type(value).__name__


class Recorder:
    """A handler that records its events and fails for the keys/messages it is told to."""

    def __init__(self, fail: bool = False) -> None:
        self.events: list[Any] = []
        self.fail = fail

    def __call__(self, event: Any, context: Any) -> Any:
        self.events.append(event)
        if self.fail:
            raise RuntimeError("cannot process")
        return {"ok": True}


# -- S3 -------------------------------------------------------------------------------------


def test_a_put_invokes_the_function_with_the_s3_record_key_for_key() -> None:
    sched = Scheduler()
    recorder = Recorder()
    bucket = Bucket("photos", scheduler=sched, seed=3)
    invoker = bucket.notify(Function("thumb", recorder), id="thumbs")
    bucket.put_object("uploads/red flower+1.jpg", b"pixels")
    assert recorder.events == []  # Event: nothing runs until the scheduler runs
    sched.run_until_idle()
    (event,) = recorder.events
    assert skeleton(event) == skeleton(S3_SAMPLE)
    (record,) = event["Records"]
    assert record["eventName"] == "ObjectCreated:Put"
    assert record["s3"]["configurationId"] == "thumbs"
    assert record["s3"]["bucket"] == {
        "name": "photos",
        "ownerIdentity": {"principalId": "A3I5XTEXAMAI3E"},
        "arn": "arn:aws:s3:::photos",
    }
    obj = record["s3"]["object"]
    assert obj["key"] == "uploads/red+flower%2B1.jpg"
    assert obj["size"] == 6
    assert obj["eTag"] == hashlib.md5(b"pixels").hexdigest()
    assert len(obj["sequencer"]) == 18
    int(obj["sequencer"], 16)
    (notification,) = bucket.notifications
    assert invoker.outcome(notification.request_id).succeeded
    assert notification.source_arn == "arn:aws:s3:::photos"


def test_each_operation_has_its_event_name_and_removals_carry_no_size_or_etag() -> None:
    sched = Scheduler()
    recorder = Recorder()
    bucket = Bucket("b", scheduler=sched, seed=1)
    bucket.notify(Function("f", recorder), ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"])
    bucket.put_object("a", "text")
    bucket.put_object("b", b"x", operation="Post")
    bucket.copy_object("a", "c")
    bucket.put_object("d", b"big", operation="CompleteMultipartUpload")
    bucket.delete_object("a")
    assert bucket.delete_object("missing") is None
    sched.run_until_idle()
    records = [event["Records"][0] for event in recorder.events]
    assert [r["eventName"] for r in records] == [
        "ObjectCreated:Put",
        "ObjectCreated:Post",
        "ObjectCreated:Copy",
        "ObjectCreated:CompleteMultipartUpload",
        "ObjectRemoved:Delete",
    ]
    assert records[2]["s3"]["object"]["eTag"] == records[0]["s3"]["object"]["eTag"]
    multipart = hashlib.md5(hashlib.md5(b"big").digest()).hexdigest() + "-1"
    assert records[3]["s3"]["object"]["eTag"] == multipart
    assert set(records[4]["s3"]["object"]) == {"key", "sequencer"}
    sequencers = [r["s3"]["object"]["sequencer"] for r in records]
    assert sequencers == sorted(sequencers)
    assert len(set(sequencers)) == len(sequencers)
    assert set(bucket.objects) == {"b", "c", "d"}


def test_a_versioned_bucket_creates_delete_markers_and_reports_version_ids() -> None:
    sched = Scheduler()
    recorder = Recorder()
    bucket = Bucket("v", scheduler=sched, seed=1, versioning=True)
    bucket.notify(Function("f", recorder), ["s3:ObjectCreated:Put", "s3:ObjectRemoved:*"])
    put = bucket.put_object("k", b"1")
    marker = bucket.delete_object("k")
    assert marker is not None
    gone = bucket.delete_object("k", version_id=put.version_id)
    sched.run_until_idle()
    objects = [event["Records"][0]["s3"]["object"] for event in recorder.events]
    names = [event["Records"][0]["eventName"] for event in recorder.events]
    assert names == [
        "ObjectCreated:Put",
        "ObjectRemoved:DeleteMarkerCreated",
        "ObjectRemoved:Delete",
    ]
    assert [o["versionId"] for o in objects] == [put.version_id, marker.version_id, gone.version_id]
    assert put.version_id != marker.version_id
    with pytest.raises(InvalidParameterValueError, match="VersionId"):
        bucket.delete_object("k", version_id="nope")


def test_prefix_suffix_and_event_types_select_the_configuration() -> None:
    sched = Scheduler()
    images, removals = Recorder(), Recorder()
    bucket = Bucket("b", scheduler=sched, seed=1)
    bucket.notify(Function("images", images), prefix="in/", suffix=".png")
    bucket.notify(Function("removals", removals), ["s3:ObjectRemoved:Delete"])
    for key in ("in/a.png", "in/a.jpg", "out/a.png", "in/b.png"):
        bucket.put_object(key, b"")
    bucket.delete_object("in/a.png")
    sched.run_until_idle()
    assert [e["Records"][0]["s3"]["object"]["key"] for e in images.events] == [
        "in/a.png",
        "in/b.png",
    ]
    assert [e["Records"][0]["eventName"] for e in removals.events] == ["ObjectRemoved:Delete"]


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ({}, {}),
        ({"prefix": "logs/"}, {"prefix": "logs/2024/"}),
        ({"suffix": ".jpg"}, {"suffix": "pg"}),
        ({"prefix": "a/", "suffix": ".jpg"}, {"suffix": ".jpg"}),
        ({"events": ["s3:ObjectCreated:*"]}, {"events": ["s3:ObjectCreated:Copy"]}),
    ],
)
def test_overlapping_configurations_for_one_event_type_are_refused(
    first: dict[str, Any], second: dict[str, Any]
) -> None:
    bucket = Bucket("b")
    bucket.notify(Function("one", Recorder()), **first)
    with pytest.raises(InvalidParameterValueError) as info:
        bucket.notify(Function("two", Recorder()), **second)
    message = str(info.value)
    assert "LambdaFunctionConfigurations[1].Filter" in message
    assert (
        "Cannot have overlapping suffixes in two rules if the prefixes are overlapping" in message
    )
    assert len(bucket.configurations) == 1


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ({"prefix": "a/"}, {"prefix": "b/"}),
        ({"suffix": ".jpg"}, {"suffix": ".png"}),
        ({"prefix": "a/", "suffix": ".jpg"}, {"prefix": "a/", "suffix": ".png"}),
        ({"events": ["s3:ObjectCreated:*"]}, {"events": ["s3:ObjectRemoved:*"]}),
        ({"events": ["s3:ObjectCreated:Put"]}, {"events": ["s3:ObjectCreated:Post"]}),
    ],
)
def test_configurations_that_do_not_overlap_are_accepted(
    first: dict[str, Any], second: dict[str, Any]
) -> None:
    bucket = Bucket("b")
    bucket.notify(Function("one", Recorder()), **first)
    bucket.notify(Function("two", Recorder()), **second)
    assert [
        c["Id"] for c in bucket.notification_configuration()["LambdaFunctionConfigurations"]
    ] == [c.id for c in bucket.configurations]


def test_bad_notification_configurations_name_the_parameter_and_value() -> None:
    bucket = Bucket("b")
    f = Function("f", Recorder())
    with pytest.raises(
        InvalidParameterValueError, match=r"Events='s3:ObjectCreated:Bogus'.*not supported"
    ):
        bucket.notify(f, ["s3:ObjectCreated:Bogus"])
    with pytest.raises(InvalidParameterValueError, match=r"Events=\[\]"):
        bucket.notify(f, [])
    with pytest.raises(InvalidParameterValueError, match=r"function=.*Function or an EventInvoker"):
        bucket.notify("f", ["s3:ObjectCreated:*"])  # type: ignore[arg-type]
    other = EventInvoker(f, scheduler=Scheduler())
    with pytest.raises(InvalidParameterValueError, match="scheduler"):
        bucket.notify(other)
    with pytest.raises(InvalidParameterValueError, match="operation='Copy'"):
        bucket.put_object("k", b"", operation="Copy")
    with pytest.raises(InvalidParameterValueError, match="key=''"):
        bucket.put_object("", b"")


def test_a_failing_function_gets_the_event_models_retries_destination_and_dlq() -> None:
    sched = Scheduler()
    failures, dlq = QueueTarget("failures"), QueueTarget("dlq")
    function = Function("f", Recorder(fail=True))
    invoker = EventInvoker(
        function, config=EventInvokeConfig(on_failure=failures), dead_letter=dlq, scheduler=sched
    )
    bucket = Bucket("b", scheduler=sched, seed=1)
    assert bucket.notify(invoker) is invoker
    bucket.put_object("k", b"x")
    sched.run_until_idle()
    (notification,) = bucket.notifications
    outcome = invoker.outcome(notification.request_id)
    assert outcome.kind.value == "RetriesExhausted"
    assert [round(a.started_at) for a in invoker.history.of(notification.request_id)] == [
        0,
        60,
        180,
    ]
    assert failures.records[0]["requestPayload"] == notification.event
    assert json.loads(dlq.messages[0].body) == notification.event


def test_as_a_destination_the_bucket_stores_records_and_notifies() -> None:
    sched = Scheduler()
    watcher = Recorder()
    bucket = Bucket("failures", scheduler=sched, seed=1)
    bucket.notify(Function("watch", watcher), prefix="aws/lambda/async/")
    broken = EventInvoker(
        Function("broken", Recorder(fail=True)),
        config=EventInvokeConfig(on_failure=bucket, maximum_retry_attempts=0),
        scheduler=sched,
    )
    broken.invoke({"n": 1})
    sched.run_until_idle()
    (key,) = bucket.objects
    assert key.startswith("aws/lambda/async/broken/")
    assert bucket.records[0]["requestContext"]["condition"] == "RetriesExhausted"
    (event,) = watcher.events
    assert event["Records"][0]["s3"]["object"]["key"].startswith("aws/lambda/async/broken/")


_KEYS = st.sampled_from(["in/a.png", "in/b.jpg", "out/c.png", "d.png", "in/x"])
_OPS = st.lists(st.tuples(st.sampled_from(["put", "delete", "copy"]), _KEYS, _KEYS), max_size=25)


@given(ops=_OPS, fail=st.booleans())
def test_every_matching_operation_ends_in_one_outcome_per_configured_function(
    ops: list[tuple[str, str, str]], fail: bool
) -> None:
    sched = Scheduler()
    bucket = Bucket("b", scheduler=sched, seed=7)
    specs = {
        "png": ({"prefix": "in/", "suffix": ".png"}, ["s3:ObjectCreated:*"]),
        "out": ({"prefix": "out/"}, ["s3:ObjectCreated:Put", "s3:ObjectRemoved:*"]),
        "gone": ({"prefix": "in/"}, ["s3:ObjectRemoved:Delete"]),
    }
    invokers = {}
    for name, (rules, events) in specs.items():
        invokers[name] = bucket.notify(Function(name, Recorder(fail=fail)), events, **rules)
    expected = dict.fromkeys(specs, 0)
    for op, key, other in ops:
        if op == "put":
            bucket.put_object(key, b"x")
            event = "ObjectCreated:Put"
        elif op == "copy":
            if other not in bucket.objects:
                continue
            bucket.copy_object(other, key)
            event = "ObjectCreated:Copy"
        else:
            if bucket.delete_object(key) is None:
                continue
            event = "ObjectRemoved:Delete"
        for name, configuration in zip(specs, bucket.configurations, strict=True):
            if configuration.matches(event, key):
                expected[name] += 1
    sched.run_until_idle()
    for name, invoker in invokers.items():
        assert len(invoker.outcomes) == expected[name]
        assert invoker.pending == 0
    ids = [n.request_id for n in bucket.notifications]
    assert len(ids) == len(set(ids)) == sum(expected.values())
    for notification in bucket.notifications:
        invoker = next(i for i in invokers.values() if i.function.arn == notification.function_arn)
        assert invoker.outcome(notification.request_id).succeeded is not fail


# -- SNS ------------------------------------------------------------------------------------


def test_a_publish_invokes_the_function_with_the_sns_envelope_key_for_key() -> None:
    sched = Scheduler()
    recorder = Recorder()
    topic = Topic("sns-lambda", region="us-east-2", scheduler=sched, seed=2)
    subscription = topic.subscribe(Function("f", recorder))
    message_id = topic.publish(
        "Hello from SNS!",
        {
            "Test": {"DataType": "String", "StringValue": "TestString"},
            "TestBinary": {"DataType": "Binary", "BinaryValue": b"TestBinary"},
        },
        subject="TestInvoke",
    )
    sched.run_until_idle()
    (event,) = recorder.events
    assert skeleton(event) == skeleton(SNS_SAMPLE)
    sns = event["Records"][0]["Sns"]
    assert event["Records"][0]["EventSubscriptionArn"] == subscription.arn
    assert subscription.arn.startswith("arn:aws:sns:us-east-2:123456789012:sns-lambda:")
    assert sns["MessageId"] == message_id
    assert sns["MessageAttributes"] == {
        "Test": {"Type": "String", "Value": "TestString"},
        "TestBinary": {"Type": "Binary", "Value": "VGVzdEJpbmFyeQ=="},
    }
    assert sns["SigningCertUrl"].startswith(
        "https://sns.us-east-2.amazonaws.com/SimpleNotificationService-"
    )
    assert sns["UnsubscribeUrl"] == (
        "https://sns.us-east-2.amazonaws.com/?Action=Unsubscribe&SubscriptionArn="
        + subscription.arn
    )
    assert (sns["Subject"], sns["Message"], sns["Type"]) == (
        "TestInvoke",
        "Hello from SNS!",
        "Notification",
    )
    topic.publish("no subject")
    sched.run_until_idle()
    assert recorder.events[-1]["Records"][0]["Sns"]["Subject"] is None


def _attr(value: Any) -> dict[str, str]:
    if isinstance(value, list):
        return {"DataType": "String.Array", "StringValue": json.dumps(value)}
    if isinstance(value, (int, float)):
        return {"DataType": "Number", "StringValue": str(value)}
    return {"DataType": "String", "StringValue": value}


_POLICIES = st.sampled_from(
    [
        {"color": ["red", "blue"]},
        {"color": [{"anything-but": "red"}]},
        {"price": [{"numeric": [">", 10, "<=", 100]}]},
        {"color": ["red"], "price": [{"numeric": ["<", 50]}]},
        {"size": [{"exists": False}]},
        {"tags": ["sale"]},
        {"color": [{"prefix": "bl"}], "tags": [{"exists": True}]},
    ]
)
_ATTRIBUTES = st.dictionaries(
    st.sampled_from(["color", "price", "size", "tags"]),
    st.one_of(
        st.sampled_from(["red", "blue", "black", "green"]),
        st.integers(0, 200),
        st.lists(st.sampled_from(["sale", "new"]), min_size=1, max_size=2),
    ),
    max_size=4,
)


@given(
    policies=st.lists(_POLICIES, min_size=1, max_size=3), messages=st.lists(_ATTRIBUTES, max_size=8)
)
def test_a_filter_policy_delivers_exactly_what_the_matcher_accepts(
    policies: list[dict[str, Any]], messages: list[dict[str, Any]]
) -> None:
    sched = Scheduler()
    topic = Topic("t", scheduler=sched, seed=1)
    invokers = [
        topic.subscribe(Function(f"f{i}", Recorder()), filter_policy=p).invoker
        for i, p in enumerate(policies)
    ]
    expected = [0] * len(policies)
    for attributes in messages:
        shaped = {name: _attr(value) for name, value in attributes.items()}
        topic.publish("m", shaped)
        for index, policy in enumerate(policies):
            if FilterCriteria(patterns=[policy]).matches(attribute_view(shaped)):
                expected[index] += 1
    sched.run_until_idle()
    assert [len(i.outcomes) for i in invokers] == expected
    assert all(o.succeeded for i in invokers for o in i.outcomes)


def test_a_message_body_policy_matches_nested_json_and_never_plain_text() -> None:
    sched = Scheduler()
    recorder = Recorder()
    topic = Topic("t", scheduler=sched)
    topic.subscribe(
        Function("f", recorder),
        filter_policy={"order": {"total": [{"numeric": [">=", 100]}]}},
        filter_policy_scope="MessageBody",
    )
    for message in ('{"order": {"total": 150}}', '{"order": {"total": 5}}', "plain text"):
        topic.publish(message)
    sched.run_until_idle()
    assert [e["Records"][0]["Sns"]["Message"] for e in recorder.events] == [
        '{"order": {"total": 150}}'
    ]


@pytest.mark.parametrize(
    ("policy", "scope", "match"),
    [
        (
            {"a": ["1"], "b": ["1"], "c": ["1"], "d": ["1"], "e": ["1"], "f": ["1"]},
            "MessageAttributes",
            "more than 5 keys",
        ),
        (
            {"a": list("abcdefghijklm"), "b": list("abcdefghijklm")},
            "MessageAttributes",
            "too complex",
        ),
        ({"a": {"b": ["1"]}}, "MessageAttributes", "cannot nest"),
        ({"a": []}, "MessageAttributes", "empty arrays"),
        ('{"a": ', "MessageAttributes", "not valid JSON"),
        ({"a": [{"numeric": ["~", 1]}]}, "MessageBody", "numeric"),
    ],
)
def test_bad_filter_policies_are_refused_as_sns_reports_them(
    policy: Any, scope: str, match: str
) -> None:
    topic = Topic("t")
    with pytest.raises(InvalidParameterValueError, match=match) as info:
        topic.subscribe(Function("f", Recorder()), filter_policy=policy, filter_policy_scope=scope)
    assert str(info.value).startswith("FilterPolicy=")
    assert "is invalid: Invalid parameter: FilterPolicy: " in str(info.value)
    assert topic.subscriptions == []


def test_bad_publishes_and_scopes_name_the_parameter() -> None:
    topic = Topic("t")
    with pytest.raises(InvalidParameterValueError, match="FilterPolicyScope='Body'"):
        topic.subscribe(Function("f", Recorder()), filter_policy_scope="Body")
    with pytest.raises(InvalidParameterValueError, match="Subject="):
        topic.publish("m", subject="two\nlines")
    with pytest.raises(InvalidParameterValueError, match=r"Message=.*too long"):
        topic.publish("x" * 262_145)
    with pytest.raises(InvalidParameterValueError, match=r"MessageAttributes.n.StringValue='ten'"):
        topic.publish("m", {"n": {"DataType": "Number", "StringValue": "ten"}})
    with pytest.raises(InvalidParameterValueError, match="Message=''"):
        topic.publish("")


def test_a_dead_letter_topic_fans_the_failed_event_out_to_its_subscribers() -> None:
    sched = Scheduler()
    watcher = Recorder()
    dlq = Topic("dlq", scheduler=sched)
    dlq.subscribe(Function("watch", watcher), filter_policy={"ErrorCode": [200]})
    broken = EventInvoker(
        Function("broken", Recorder(fail=True)),
        config=EventInvokeConfig(maximum_retry_attempts=0),
        dead_letter=dlq,
        scheduler=sched,
    )
    broken.invoke({"n": 1})
    sched.run_until_idle()
    (event,) = watcher.events
    sns = event["Records"][0]["Sns"]
    assert json.loads(sns["Message"]) == {"n": 1}
    assert sns["MessageAttributes"]["ErrorCode"] == {"Type": "Number", "Value": "200"}


# -- EventBridge ----------------------------------------------------------------------------


def _entry(detail: dict[str, Any], source: str = "shop") -> dict[str, Any]:
    return {"Source": source, "DetailType": "Order Placed", "Detail": json.dumps(detail)}


def test_a_matching_event_invokes_the_rules_targets_with_the_envelope() -> None:
    sched = Scheduler()
    recorder = Recorder()
    bus = EventBus("orders", scheduler=sched, seed=4)
    rule = bus.put_rule(
        "big-orders",
        event_pattern={"source": ["shop"], "detail": {"total": [{"numeric": [">", 100]}]}},
        targets=[Function("f", recorder)],
    )
    assert rule.arn == "arn:aws:events:us-east-1:123456789012:rule/orders/big-orders"
    order = {**_entry({"total": 150}), "Resources": ["arn:aws:shop:us-east-1:123456789012:order/1"]}
    response = bus.put_events([order, _entry({"total": 5}), _entry({"total": 500}, "other")])
    assert response["FailedEntryCount"] == 0
    sched.run_until_idle()
    (event,) = recorder.events
    assert skeleton(event) == [
        (k, s) if k != "detail" else (k, [("total", "int")])
        for k, s in skeleton(EVENTBRIDGE_SAMPLE)
    ]
    assert event["id"] == response["Entries"][0]["EventId"]
    assert (event["source"], event["detail-type"], event["detail"]) == (
        "shop",
        "Order Placed",
        {"total": 150},
    )
    assert event["resources"] == order["Resources"]
    assert len(bus.events) == 3


def test_input_and_input_path_change_what_a_target_receives_and_disabled_rules_are_silent() -> None:
    sched = Scheduler()
    whole, part, constant, off = Recorder(), Recorder(), Recorder(), Recorder()
    bus = EventBus(scheduler=sched, seed=1)
    bus.put_rule(
        "r",
        event_pattern={"source": ["shop"]},
        targets=[
            Function("whole", whole),
            RuleTarget(function=Function("part", part), input_path="$.detail.order"),
            RuleTarget(function=Function("constant", constant), input='{"fixed": true}'),
        ],
    )
    bus.put_rule(
        "off", event_pattern={"source": ["shop"]}, targets=[Function("off", off)], state="DISABLED"
    )
    bus.put_events([_entry({"order": {"id": 7}})])
    sched.run_until_idle()
    assert whole.events[0]["detail"] == {"order": {"id": 7}}
    assert part.events == [{"id": 7}]
    assert constant.events == [{"fixed": True}]
    assert off.events == []


def test_failed_entries_are_reported_per_entry_and_bad_calls_raise() -> None:
    bus = EventBus()
    response = bus.put_events(
        [
            {"Source": "s", "DetailType": "t"},
            {"Source": "s", "DetailType": "t", "Detail": "[1]"},
            _entry({}),
        ]
    )
    assert response["FailedEntryCount"] == 2
    assert [e.get("ErrorCode") for e in response["Entries"]] == [
        "InvalidArgument",
        "InvalidArgument",
        None,
    ]
    assert "Detail" in response["Entries"][0]["ErrorMessage"]
    with pytest.raises(InvalidParameterValueError, match=r"Entries=.*1 to 10"):
        bus.put_events([_entry({})] * 11)
    with pytest.raises(InvalidParameterValueError, match="Name='bad name'"):
        bus.put_rule("bad name", event_pattern={"source": ["s"]})
    with pytest.raises(
        InvalidParameterValueError, match=r"EventPattern=.*Event pattern is not valid"
    ):
        bus.put_rule("r", event_pattern={"source": "s"})
    with pytest.raises(InvalidParameterValueError, match=r"Targets=.*at most 5"):
        bus.put_rule(
            "r",
            event_pattern={"source": ["s"]},
            targets=[Function(f"f{i}", Recorder()) for i in range(6)],
        )
    with pytest.raises(InvalidParameterValueError, match="InputPath='detail'"):
        RuleTarget(function=Function("f", Recorder()), input_path="detail")
    with pytest.raises(InvalidParameterValueError, match=r"Input='\{'"):
        RuleTarget(function=Function("f", Recorder()), input="{")


def test_destination_records_on_the_bus_are_matched_by_rules() -> None:
    sched = Scheduler()
    watcher = Recorder()
    bus = EventBus("results", scheduler=sched)
    bus.put_rule(
        "failures",
        event_pattern={"source": ["lambda"], "detail-type": [{"suffix": "Failure"}]},
        targets=[Function("watch", watcher)],
    )
    broken = EventInvoker(
        Function("broken", Recorder(fail=True)),
        config=EventInvokeConfig(on_failure=bus, maximum_retry_attempts=0),
        scheduler=sched,
    )
    broken.invoke({"n": 1})
    sched.run_until_idle()
    (event,) = watcher.events
    assert event["detail"]["requestPayload"] == {"n": 1}
    assert bus.records == [event["detail"]]


_DETAILS = st.fixed_dictionaries(
    {},
    optional={
        "kind": st.sampled_from(["a", "b", "c"]),
        "n": st.integers(-5, 5),
        "tags": st.lists(st.sampled_from(["x", "y"]), max_size=2),
    },
)
_PATTERNS = st.sampled_from(
    [
        {"detail": {"kind": ["a", "b"]}},
        {"detail": {"n": [{"numeric": [">=", 0]}]}},
        {"detail": {"tags": ["x"]}, "source": ["shop"]},
        {"detail": {"kind": [{"anything-but": "a"}]}},
        {"source": ["other"]},
    ]
)


@given(
    patterns=st.lists(_PATTERNS, min_size=1, max_size=3),
    details=st.lists(_DETAILS, min_size=1, max_size=10),
)
def test_rules_invoke_exactly_the_events_their_pattern_matches(
    patterns: list[dict[str, Any]], details: list[dict[str, Any]]
) -> None:
    sched = Scheduler()
    bus = EventBus(scheduler=sched, seed=2)
    invokers = [
        bus.put_rule(f"r{i}", event_pattern=p, targets=[Function(f"f{i}", Recorder())]).invokers[0]
        for i, p in enumerate(patterns)
    ]
    for start in range(0, len(details), 10):
        bus.put_events([_entry(d) for d in details[start : start + 10]])
    expected = [sum(compile_pattern(p, "p")[1](e) for e in bus.events) for p in patterns]
    sched.run_until_idle()
    assert [len(i.outcomes) for i in invokers] == expected
    assert len(bus.notifications) == sum(expected)


# -- one clock for everything -----------------------------------------------------------------


def test_s3_to_lambda_to_sqs_to_lambda_runs_end_to_end_on_one_scheduler() -> None:
    sched = Scheduler()
    queue = Queue("resized", scheduler=sched, seed=1)
    done: list[tuple[float, str]] = []

    def resize(event: Any, context: Any) -> None:
        for record in event["Records"]:
            queue.send_message(json.dumps({"key": record["s3"]["object"]["key"]}))

    def publish(event: Any, context: Any) -> None:
        done.extend((sched.now, json.loads(r["body"])["key"]) for r in event["Records"])

    bucket = Bucket("photos", scheduler=sched, seed=1)
    invoker = bucket.notify(Function("resize", resize), suffix=".jpg")
    mapping = queue.map_to(Function("publish", publish), SQSMappingConfig(batch_size=1), seed=1)
    bucket.put_object("a.jpg", b"1")
    bucket.put_object("b.txt", b"2")
    sched.run_until_idle()
    assert [key for _, key in done] == ["a.jpg"]
    assert [o.kind.value for o in invoker.outcomes] == ["Success"]
    assert mapping.history.spans()


def test_an_input_transformer_fills_its_template_from_the_event() -> None:
    sched = Scheduler()
    recorder = Recorder()
    bus = EventBus(scheduler=sched, seed=1)
    transformer = InputTransformer.from_dict(
        {
            "InputPathsMap": {"id": "$.detail.id", "who": "$.detail.who", "gone": "$.detail.none"},
            "InputTemplate": '{"order": <id>, "text": "order <id> by <who>", "gone": <gone>, '
            '"rule": "<aws.events.rule-name>", "source": <aws.events.event.json>}',
        }
    )
    bus.put_rule(
        "orders",
        event_pattern={"source": ["shop"]},
        targets=[RuleTarget(function=Function("f", recorder), input_transformer=transformer)],
    )
    bus.put_events([_entry({"id": 7, "who": 'Ann "A"'})])
    sched.run_until_idle()
    (event,) = recorder.events
    assert {k: v for k, v in event.items() if k != "source"} == {
        "order": 7,
        "text": 'order 7 by Ann "A"',
        "gone": None,
        "rule": "orders",
    }
    assert event["source"] == bus.events[0]


@pytest.mark.parametrize(
    ("shape", "match"),
    [
        (
            {"InputPathsMap": {}, "InputTemplate": '{"a": <x>}'},
            r"InputTransformer.InputTemplate=.*must be JSON",
        ),
        ({"InputPathsMap": {"a": "detail"}, "InputTemplate": "<a>"}, r"InputPathsMap.a='detail'"),
        ({"InputPathsMap": {"AWSx": "$"}, "InputTemplate": "<AWSx>"}, r"cannot start with 'AWS'"),
        ({"InputTemplate": ""}, r"InputTemplate=''"),
        ({"Template": "x"}, r"InputTransformer="),
    ],
)
def test_bad_input_transformers_name_the_parameter(shape: dict[str, Any], match: str) -> None:
    with pytest.raises(InvalidParameterValueError, match=match):
        InputTransformer.from_dict(shape)


def test_a_target_takes_one_of_input_input_path_and_input_transformer() -> None:
    transformer = InputTransformer(input_template="{}")
    f = Function("f", Recorder())
    with pytest.raises(InvalidParameterValueError, match=r"InputTransformer=.*one of them"):
        RuleTarget(function=f, input="{}", input_transformer=transformer)
    with pytest.raises(InvalidParameterValueError, match=r"InputPath=.*one of them"):
        RuleTarget(function=f, input="{}", input_path="$")


def test_the_services_and_the_event_builders_make_the_same_shapes() -> None:
    from invokemodels import testing

    sched = Scheduler()
    got: dict[str, Any] = {}
    bucket = Bucket("example-bucket", scheduler=sched)
    bucket.notify(Function("s3", lambda e, c: got.setdefault("s3", e)), id="testConfigRule")
    bucket.put_object("test/key", b"x" * 1024)
    topic = Topic("ExampleTopic", scheduler=sched)
    topic.subscribe(Function("sns", lambda e, c: got.setdefault("sns", e)))
    topic.publish("example message", subject="example subject")
    bus = EventBus(scheduler=sched)
    bus.put_rule(
        "r",
        event_pattern={"source": ["shop"]},
        targets=[Function("eb", lambda e, c: got.setdefault("eb", e))],
    )
    bus.put_events([_entry({})])
    sched.run_until_idle()
    assert skeleton(got["s3"]) == skeleton(testing.s3_event())
    assert skeleton(got["sns"]) == skeleton(testing.sns_event())
    assert skeleton(got["eb"]) == skeleton(
        testing.eventbridge_event({}, source="shop", detail_type="Order Placed")
    )
    built = testing.s3_event()["Records"][0]
    record = got["s3"]["Records"][0]
    for path in (
        ("s3", "object", "key"),
        ("s3", "configurationId"),
        ("eventName",),
        ("s3", "object", "size"),
    ):
        a, b = built, record
        for step in path:
            a, b = a[step], b[step]
        assert a == b, path


@pytest.mark.parametrize("service", ["s3", "sns", "eventbridge"])
def test_every_service_invokes_through_the_event_model_of_the_invoker_given(service: str) -> None:
    sched = Scheduler()
    failures, dlq = QueueTarget("failures"), QueueTarget("dlq")
    invoker = EventInvoker(
        Function("f", Recorder(fail=True)),
        config=EventInvokeConfig(on_failure=failures, maximum_retry_attempts=1),
        dead_letter=dlq,
        scheduler=sched,
    )
    notifications: list[Any]
    if service == "s3":
        bucket = Bucket("b", scheduler=sched)
        bucket.notify(invoker)
        bucket.put_object("k", b"")
        notifications = bucket.notifications
    elif service == "sns":
        topic = Topic("t", scheduler=sched)
        topic.subscribe(invoker)
        topic.publish("m")
        notifications = topic.notifications
    else:
        bus = EventBus(scheduler=sched)
        bus.put_rule("r", event_pattern={"source": ["shop"]}, targets=[invoker])
        bus.put_events([_entry({})])
        notifications = bus.notifications
    sched.run_until_idle()
    (notification,) = notifications
    assert [round(a.started_at) for a in invoker.history.of(notification.request_id)] == [0, 60]
    assert invoker.outcome(notification.request_id).kind.value == "RetriesExhausted"
    assert failures.records[0]["requestPayload"] == notification.event
    assert json.loads(dlq.messages[0].body) == notification.event
    assert dlq.messages[0].attributes["RequestID"]["StringValue"] == notification.request_id
