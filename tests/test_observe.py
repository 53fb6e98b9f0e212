"""`invokemodels.observe`: one timeline over every model, its text, its Chrome trace (checked
against the trace-event format), its SVG picture and Lambda's CloudWatch metrics."""

from __future__ import annotations

import base64
import csv
import io
import itertools
import json
import math
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from invokemodels import (
    EventInvokeConfig,
    EventInvoker,
    Function,
    History,
    KinesisStream,
    Outcome,
    Queue,
    QueueTarget,
    RedrivePolicy,
    RequestResponseInvoker,
    Scheduler,
    SQSMappingConfig,
    StreamMappingConfig,
)
from invokemodels.core import Model, Span
from invokemodels.exceptions import InvalidParameterValueError
from invokemodels.observe import (
    METRICS,
    Mark,
    MarkKind,
    Timeline,
    chrome_trace,
    lane_label,
    metrics,
    queue_levels,
    svg,
)

# -- the trace-event format ------------------------------------------------------------------

# Google's "Trace Event Format" document: the phases this exporter writes and the keys each
# needs.  ts and dur are microseconds; flow events bind to an enclosing slice with bp "e".
_REQUIRED = {
    "X": {"name", "ph", "ts", "dur", "pid", "tid"},
    "C": {"name", "ph", "ts", "pid", "args"},
    "M": {"name", "ph", "pid", "args"},
    "s": {"name", "cat", "ph", "ts", "pid", "tid", "id"},
    "t": {"name", "cat", "ph", "ts", "pid", "tid", "id"},
    "f": {"name", "cat", "ph", "ts", "pid", "tid", "id"},
}
_METADATA = {"process_name", "process_sort_index", "thread_name", "thread_sort_index"}


def check_trace_events(trace: dict[str, Any]) -> None:
    """Assert that ``trace`` is valid JSON Object Format trace-event data."""
    assert json.loads(json.dumps(trace)) == trace
    assert set(trace) <= {"traceEvents", "displayTimeUnit", "otherData"}
    assert trace.get("displayTimeUnit", "ms") in ("ms", "ns")
    events = trace["traceEvents"]
    assert isinstance(events, list)
    slices: dict[tuple[int, int], list[tuple[float, float]]] = {}
    flows: dict[Any, list[dict[str, Any]]] = {}
    names: set[tuple[int, int]] = set()
    for event in events:
        phase = event["ph"]
        assert phase in _REQUIRED, event
        assert _REQUIRED[phase] <= set(event), event
        assert isinstance(event["pid"], int)
        assert isinstance(event.get("tid", 0), int)
        if phase != "M":
            assert isinstance(event["ts"], (int, float))
            assert event["ts"] >= 0
        if phase == "X":
            assert event["dur"] >= 0
            slices.setdefault((event["pid"], event["tid"]), []).append(
                (event["ts"], event["ts"] + event["dur"])
            )
        elif phase == "C":
            assert event["args"]
            assert all(isinstance(v, (int, float)) for v in event["args"].values())
        elif phase == "M":
            assert event["name"] in _METADATA
            assert set(event["args"]) in ({"name"}, {"sort_index"})
            if event["name"] == "thread_name":
                names.add((event["pid"], event["tid"]))
        else:
            assert event.get("bp") == "e"
            flows.setdefault((event["cat"], event["id"]), []).append(event)
    for (pid, tid), intervals in slices.items():
        # Every track is named, and slices on one thread nest or follow each other.
        assert (pid, tid) in names
        intervals.sort()
        for (start, end), (next_start, _) in itertools.pairwise(intervals):
            assert end <= next_start or start == next_start, (pid, tid, start, end, next_start)
    for chain in flows.values():
        phases = [event["ph"] for event in chain]
        assert (phases[0], phases[-1]) == ("s", "f"), phases
        assert set(phases[1:-1]) <= {"t"}, phases
        times = [event["ts"] for event in chain]
        assert times == sorted(times)
        for event in chain:
            # bp "e": the flow event binds to the slice that encloses it on its thread.
            assert any(
                start <= event["ts"] <= end
                for start, end in slices.get((event["pid"], event["tid"]), [])
            ), event


# -- scenarios --------------------------------------------------------------------------------


def _fails_first(times: int, seconds: float = 0.5) -> Any:
    seen: dict[str, int] = {}

    def handler(event: Any, context: Any) -> Any:
        count = seen[context.aws_request_id] = seen.get(context.aws_request_id, 0) + 1
        context.spend(seconds)
        if count <= times:
            raise ConnectionError(f"attempt {count}")
        return event

    return handler


def _event_timeline(seed: int = 1) -> tuple[Timeline, EventInvoker]:
    sched = Scheduler()
    history = History()
    failures = QueueTarget("failures")
    invoker = EventInvoker(
        Function("charge", _fails_first(2), timeout=10),
        EventInvokeConfig(maximum_retry_attempts=1, on_failure=failures),
        scheduler=sched,
        seed=seed,
        history=history,
    )
    invoker.invoke({"order": 1})
    sched.run_until_idle()
    return Timeline.from_history(history, sources=[invoker]), invoker


def _poison_stream(seed: int = 1, history: History | None = None) -> Any:
    sched = Scheduler()
    stream = KinesisStream("orders", scheduler=sched)

    def consumer(event: Any, context: Any) -> None:
        data = [base64.b64decode(r["kinesis"]["data"]).decode() for r in event["Records"]]
        context.spend(0.25)
        if "poison" in data:
            raise ValueError("cannot parse order")

    config = StreamMappingConfig(
        starting_position="TRIM_HORIZON",
        batch_size=4,
        maximum_retry_attempts=2,
        on_failure=QueueTarget("stream-failures"),
    )
    mapping = stream.map_to(Function("consumer", consumer), config, seed=seed, history=history)
    sequence = [
        stream.put_record(data, partition_key=f"customer-{i}")["SequenceNumber"]
        for i, data in enumerate(["order-1", "poison", "order-2", "order-3"])
    ]
    sched.run_until_idle()
    return mapping, sequence


def _sqs_partial(seed: int = 1) -> Any:
    sched = Scheduler()
    dlq = Queue("jobs-dlq", scheduler=sched, seed=seed + 1)
    jobs = Queue(
        "jobs",
        scheduler=sched,
        seed=seed,
        visibility_timeout=20,
        redrive_policy=RedrivePolicy(dead_letter_target=dlq, max_receive_count=2),
    )

    def partial(event: Any, context: Any) -> dict[str, Any]:
        context.spend(1.0)
        return {
            "batchItemFailures": [
                {"itemIdentifier": r["messageId"]} for r in event["Records"] if r["body"] == "b"
            ]
        }

    config = SQSMappingConfig(batch_size=10, function_response_types=["ReportBatchItemFailures"])
    mapping = jobs.map_to(Function("partial", partial), config, seed=seed)
    ids = [jobs.send_message(body).message_id for body in "abc"]
    sched.run_until_idle()
    return mapping, jobs, dlq, ids


# -- the timeline and its text ----------------------------------------------------------------


def test_an_event_timeline_reads_as_acceptance_tries_outcome_and_destination() -> None:
    timeline, invoker = _event_timeline()
    [outcome] = invoker.outcomes
    rid = outcome.request_id
    assert [(m.kind, m.at) for m in timeline.marks] == [
        (MarkKind.ACCEPTED, 0.0),
        (MarkKind.DROPPED, 61.0),
        (MarkKind.DESTINATION, 61.0),
    ]
    assert [(s.attempt, s.started_at, s.ended_at, s.outcome) for s in timeline.spans] == [
        (1, 0.0, 0.5, Outcome.FUNCTION_ERROR),
        (2, 60.5, 61.0, Outcome.FUNCTION_ERROR),
    ]
    short = rid[:8]
    assert timeline.text().splitlines() == [
        "   time  function  track        what                  detail",
        f" 0.000s  charge    event queue  accepted {short}",
        f" 0.000s  charge    invocations  Event {short} try 1  "
        "FunctionError ConnectionError; took 0.500s; age 0.000s",
        f"60.500s  charge    invocations  Event {short} try 2  "
        "FunctionError ConnectionError; took 0.500s; age 60.500s",
        f"61.000s  charge    event queue  dropped {short}      RetriesExhausted",
        f"61.000s  charge    event queue  destination {short}  "
        "arn:aws:sqs:us-east-1:123456789012:failures",
    ]
    assert rid in timeline.text(full_ids=True)
    assert timeline.text(limit=2).splitlines()[-1] == "... 3 more"


def test_a_record_given_up_with_its_batch_is_explained() -> None:
    history = History()
    mapping, sequence = _poison_stream(history=history)
    timeline = Timeline.from_history(history, sources=[mapping])
    good = sequence[3]  # "record 4": fine itself, discarded with the poison's batch
    first = timeline.explain(good).splitlines()[0]
    assert first == (
        f"{good}: carried by 3 tries; discarded (RetryAttemptsExhausted); 3 of them batches "
        "of up to 4 records that ended FunctionError ValueError; no partial batch response "
        "named it: it went with its batch"
    )
    [fate] = [m for m in timeline.of(good).marks if m.kind == "discarded"]
    assert (fate.partition_key, fate.lane) == ("customer-3", ("shardId-000000000000", 0))
    outcome = mapping.poller.fate(good)
    assert outcome is not None
    assert outcome.partition_key == "customer-3"
    assert timeline.explain("nope") == "nope: not in this timeline\n"


def test_stream_batches_carry_their_iterator_age_and_source() -> None:
    history = History()
    mapping, _ = _poison_stream(history=history)
    spans = history.spans()
    assert [s.dwell_time for s in spans] == pytest.approx([0.0, 1.25, 2.5])
    assert {s.source for s in spans} == {mapping.poller.log.arn}
    assert [s.lane for s in spans] == [("shardId-000000000000", 0)] * 3
    assert lane_label(spans[0]) == "shardId-000000000000"
    # IteratorAge (the age of the batch's last record when invoked) is the span's dwell time.
    ages = [sample.milliseconds for sample in mapping.poller.iterator_ages]
    assert [s.dwell_time * 1000 for s in spans] == pytest.approx(ages)


def test_a_partial_batch_response_shows_which_items_failed() -> None:
    mapping, jobs, _, ids = _sqs_partial()
    timeline = Timeline.from_history(mapping.history, sources=[mapping])
    first, *_ = timeline.spans
    assert first.outcome is Outcome.SUCCESS
    assert (first.size, first.failed) == (3, (ids[1],))
    assert lane_label(first) == "queue jobs"
    assert "1 of 3 reported failed" in timeline.text()
    [event] = [
        e
        for e in timeline.chrome_trace()["traceEvents"]
        if e.get("args", {}).get("request_id") == first.request_id
    ]
    assert event["name"] == "Success (1 of 3 items failed)"
    assert event["args"]["failed"] == [ids[1]]
    assert timeline.queues() == ["jobs", "jobs-dlq"]
    assert jobs.fate(ids[1]) is not None


def test_several_histories_merge_in_time_order() -> None:
    sched = Scheduler()
    a, b = History(), History()
    fa = Function("a", lambda e, c: e, duration=1.0)
    fb = Function("b", lambda e, c: e, duration=1.0)
    ia = RequestResponseInvoker(fa, scheduler=sched, seed=1, history=a)
    ib = RequestResponseInvoker(fb, scheduler=sched, seed=2, history=b)
    for _ in range(2):
        ia.invoke(1)
        ib.invoke(2)
    timeline = Timeline.from_history([a, b])
    assert [(s.function, s.started_at) for s in timeline.spans] == [
        ("a", 0.0), ("b", 1.0), ("a", 2.0), ("b", 3.0),
    ]  # fmt: skip
    assert timeline.functions() == ["a", "b"]
    assert (timeline.start, timeline.end) == (0.0, 4.0)
    assert [s.function for s in timeline.where(function="b").spans] == ["b", "b"]


def test_recording_off_gives_an_empty_timeline() -> None:
    history = History(keep=False)
    mapping, _ = _poison_stream(history=history)
    timeline = Timeline.from_history(history)
    assert timeline.spans == ()
    assert len(mapping.poller.outcomes) == 4
    assert timeline.text() == "time  function  track  what  detail\n"
    check_trace_events(timeline.chrome_trace())
    assert metrics(timeline).datapoints == ()
    ET.fromstring(timeline.svg())


@pytest.mark.parametrize(
    ("call", "parameter"),
    [
        (lambda: Timeline.from_history("h"), "history"),  # type: ignore[arg-type]
        (lambda: Timeline.from_history([]), "history"),
        (lambda: Timeline.from_history(History(), sources=[42]), "sources"),
        (lambda: Timeline(()).text(limit=-1), "limit"),
        (lambda: metrics(Timeline(()), period=0), "period"),
        (lambda: metrics(Timeline(()), period=math.nan), "period"),
        (lambda: metrics("x"), "timeline_or_history"),  # type: ignore[arg-type]
        (lambda: svg(Timeline(()), width=10), "width"),
        (lambda: svg(Timeline(()), bins=0), "bins"),
        (lambda: metrics(Timeline(())).series("Nope"), "metric"),
    ],
)
def test_bad_input_names_the_parameter(call: Any, parameter: str) -> None:
    with pytest.raises(InvalidParameterValueError) as info:
        call()
    assert info.value.parameter == parameter


# -- Chrome trace -----------------------------------------------------------------------------


def test_the_event_trace_is_valid_and_draws_flows_from_acceptance_to_destination() -> None:
    timeline, _invoker = _event_timeline()
    trace = timeline.chrome_trace()
    check_trace_events(trace)
    events = trace["traceEvents"]
    threads = {
        (e["pid"], e["tid"]): e["args"]["name"] for e in events if e["name"] == "thread_name"
    }
    assert sorted(threads.values()) == ["destinations", "event queue", "invocations"]
    tries = [e for e in events if e["ph"] == "X" and e["cat"] == "Event"]
    assert [(e["ts"], e["dur"]) for e in tries] == [(0.0, 500000.0), (60500000.0, 500000.0)]
    assert {threads[(e["pid"], e["tid"])] for e in tries} == {"invocations"}
    flow = [(e["ph"], e["ts"], threads[(e["pid"], e["tid"])]) for e in events if e["ph"] in "stf"]
    assert flow == [
        ("s", 0.0, "event queue"),
        ("t", 0.0, "invocations"),
        ("t", 60500000.0, "invocations"),
        ("f", 61000000.0, "destinations"),
    ]


def test_every_model_in_one_trace_with_a_track_per_function_and_lane(tmp_path: Path) -> None:
    history = History()
    mapping, _ = _poison_stream(history=history)
    sqs_mapping, *_ = _sqs_partial()
    timeline = Timeline.from_history([history, sqs_mapping.history],
                                     sources=[mapping, sqs_mapping])  # fmt: skip
    trace = timeline.chrome_trace()
    check_trace_events(trace)
    names = {e["args"]["name"] for e in trace["traceEvents"] if e["ph"] == "M" and "name" in
             e["args"]}  # fmt: skip
    assert {"function consumer", "function partial", "SQS queues", "shardId-000000000000",
            "queue jobs", "queue jobs-dlq", "shardId-000000000000 fates"} <= names  # fmt: skip
    path = tmp_path / "trace.json"
    timeline.write_chrome_trace(path)
    assert json.loads(path.read_text()) == trace


def test_concurrent_tries_get_sub_tracks_so_slices_nest() -> None:
    sched = Scheduler()
    history = History()
    invoker = EventInvoker(Function("slow", lambda e, c: e, duration=5.0, timeout=10),
                           scheduler=sched,
                           seed=3, history=history)  # fmt: skip
    for i in range(3):
        invoker.invoke(i)
    sched.run_until_idle()
    trace = Timeline.from_history(history, sources=[invoker]).chrome_trace()
    check_trace_events(trace)
    threads = sorted(e["args"]["name"] for e in trace["traceEvents"] if e["name"] == "thread_name")
    assert threads == ["event queue", "invocations", "invocations #2", "invocations #3"]
    counters = [e["args"]["value"] for e in trace["traceEvents"] if e["ph"] == "C"]
    assert counters == [3, 0]


# -- metrics ----------------------------------------------------------------------------------


def test_event_metrics_match_the_invokers_counters() -> None:
    sched = Scheduler()
    history = History()
    invoker = EventInvoker(
        Function("flaky", _fails_first(1, 0.2), reserved_concurrency=1),
        EventInvokeConfig(maximum_retry_attempts=0),
        scheduler=sched,
        seed=5,
        history=history,
    )
    for _ in range(4):
        invoker.invoke({})
    sched.run_until_idle()
    result = metrics(Timeline.from_history(history, sources=[invoker]), period=60)
    counters = invoker.metrics
    assert result.total("Invocations") == counters.invocations == 4
    assert result.total("Errors") == counters.errors == 4
    assert result.total("Throttles") == counters.throttles > 0
    assert result.total("AsyncEventsReceived") == counters.async_events_received == 4
    assert result.total("AsyncEventsDropped") == counters.async_events_dropped == 4
    assert result.peak("AsyncEventAge") == pytest.approx(counters.async_event_age_max * 1000)
    assert result.peak("ConcurrentExecutions") == 1
    assert result.peak("Duration") == pytest.approx(200.0)
    for point in result.datapoints:
        assert (point.namespace, point.unit) == METRICS[point.metric][:2]
        assert point.minimum <= point.average <= point.maximum
        assert point.timestamp % 60 == 0


def test_stream_and_queue_metrics() -> None:
    history = History()
    mapping, _ = _poison_stream(history=history)
    result = metrics(Timeline.from_history(history, sources=[mapping]), period=1)
    assert [(p.timestamp, p.maximum) for p in result.series("IteratorAge")] == [
        (0.0, 0.0), (1.0, 1250.0), (2.0, 2500.0),
    ]  # fmt: skip
    sqs_mapping, jobs, dlq, _ = _sqs_partial()
    result = metrics(Timeline.from_history(sqs_mapping.history, sources=[sqs_mapping]), 10)
    assert "IteratorAge" not in result.names()
    visible = result.series("ApproximateNumberOfMessagesVisible", "jobs")
    hidden = result.series("ApproximateNumberOfMessagesNotVisible", "jobs")
    assert visible[0].maximum == 3
    assert hidden[0].maximum == 3
    # "b" failed every receive: visible again after 20 s, received, and on its second
    # failure (maxReceiveCount 2) moved to the dead-letter queue after another 20 s.
    ages = [(p.timestamp, p.maximum) for p in result.series("ApproximateAgeOfOldestMessage",
                                                             "jobs")]  # fmt: skip
    assert ages[:3] == [(0.0, 10.0), (10.0, 20.0), (20.0, 30.0)]
    assert result.peak("ApproximateNumberOfMessagesVisible", "jobs-dlq") == 1
    levels = queue_levels(Timeline.from_history(sqs_mapping.history,
                                                sources=[sqs_mapping]).marks)  # fmt: skip
    assert levels["jobs"][-1].visible == levels["jobs"][-1].not_visible == 0
    assert [m.body for m in dlq.peek()] == ["b"]
    assert jobs.fate(dlq.peek()[0].message_id) is not None


def test_metrics_export_as_csv_json_and_a_summary() -> None:
    timeline, _ = _event_timeline()
    result = timeline.metrics(60)
    rows = list(csv.DictReader(io.StringIO(result.to_csv())))
    assert len(rows) == len(result.datapoints)
    assert {(r["metric"], r["timestamp"], r["sum"]) for r in rows} >= {
        ("Invocations", "0.0", "1.0"), ("Invocations", "60.0", "1.0"),
        ("AsyncEventsDropped", "60.0", "1.0"),
    }  # fmt: skip
    document = json.loads(result.to_json())
    assert document["Period"] == 60
    assert document["Datapoints"][0].keys() >= {"MetricName", "Unit", "Dimensions", "Sum"}
    assert result.summary().splitlines() == [
        "function  model  outcome                     count",
        "charge    Event  FunctionError                   2",
        "charge           destination                     1",
        "charge           dropped (RetriesExhausted)      1",
    ]
    assert metrics(History()).datapoints == ()


# -- SVG --------------------------------------------------------------------------------------


def test_the_svg_is_well_formed_and_draws_every_execution() -> None:
    history = History()
    mapping, _ = _poison_stream(history=history)
    timeline = Timeline.from_history(history, sources=[mapping])
    text = timeline.svg(width=800)
    root = ET.fromstring(text)
    ns = "{http://www.w3.org/2000/svg}"
    assert root.tag == f"{ns}svg"
    assert root.get("width") == "800"
    titles = [t.text or "" for t in root.iter(f"{ns}text") if t.get("class") == "title"]
    assert titles[1:4] == ["Concurrent executions", "Queue depth (items waiting or in flight)",
                           "Dwell time / iterator age at start"]  # fmt: skip
    assert titles[4].startswith("Tries per ")
    assert len(list(root.iter(f"{ns}circle"))) == len([s for s in timeline.spans if s.ran])
    assert svg(timeline, width=800) == text


# -- determinism and properties ---------------------------------------------------------------


def _all_outputs(seed: int) -> tuple[str, str, str, str]:
    history = History()
    mapping, _ = _poison_stream(seed, history)
    timeline = Timeline.from_history(history, sources=[mapping])
    trace = json.dumps(timeline.chrome_trace(), sort_keys=True)
    return timeline.text(full_ids=True), trace, timeline.svg(), timeline.metrics().to_csv()


def test_the_same_seed_gives_byte_identical_outputs(tmp_path: Path) -> None:
    assert _all_outputs(7) == _all_outputs(7)
    assert _all_outputs(7)[0] != _all_outputs(8)[0]  # request ids come from the seed
    files = []
    for run in range(2):
        history = History()
        mapping, _ = _poison_stream(7, history)
        timeline = Timeline.from_history(history, sources=[mapping])
        files.append((tmp_path / f"trace{run}.json", tmp_path / f"picture{run}.svg"))
        timeline.write_chrome_trace(files[-1][0])
        timeline.write_svg(files[-1][1])
    assert files[0][0].read_bytes() == files[1][0].read_bytes()
    assert files[0][1].read_bytes() == files[1][1].read_bytes()


@settings(max_examples=25)
@given(
    failures=st.lists(st.integers(0, 3), min_size=1, max_size=6),
    duration=st.sampled_from([0.0, 0.5, 2.0]),
    reserved=st.one_of(st.none(), st.integers(1, 2)),
    retries=st.integers(0, 2),
)
def test_event_trace_spans_are_the_attempts_that_ran(
    failures: list[int], duration: float, reserved: int | None, retries: int
) -> None:
    sched = Scheduler()
    history = History()
    calls: list[tuple[float, str]] = []
    plan: dict[str, int] = {}

    def handler(event: Any, context: Any) -> Any:
        calls.append((sched.now, context.aws_request_id))
        plan[context.aws_request_id] = plan.get(context.aws_request_id, 0) + 1
        context.spend(duration)
        if plan[context.aws_request_id] <= event:
            raise RuntimeError("planned")
        return event

    invoker = EventInvoker(
        Function("f", handler, reserved_concurrency=reserved),
        EventInvokeConfig(maximum_retry_attempts=retries),
        scheduler=sched,
        seed=1,
        history=history,
    )
    for count in failures:
        invoker.invoke(count)
    sched.run_until_idle()
    timeline = Timeline.from_history(history, sources=[invoker])
    trace = timeline.chrome_trace()
    check_trace_events(trace)
    ran = [e for e in trace["traceEvents"]
           if e["ph"] == "X" and e["cat"] == "Event" and "execution" in e["args"]]  # fmt: skip
    assert Counter((e["ts"], e["args"]["request_id"]) for e in ran) == Counter(
        (round(at * 1e6, 3), rid) for at, rid in calls
    )
    assert {e["dur"] for e in ran} <= {round(duration * 1e6, 3)}
    throttled = [e for e in trace["traceEvents"] if e["ph"] == "X" and
                 e["name"].startswith("Throttled")]  # fmt: skip
    assert len(throttled) == invoker.metrics.throttles
    result = metrics(timeline, period=30)
    assert result.total("Invocations") == len(calls)
    assert result.total("AsyncEventsReceived") == len(failures)
    assert result.total("AsyncEventsDropped") == invoker.metrics.async_events_dropped
    if reserved is not None:
        assert result.peak("ConcurrentExecutions") <= reserved


@settings(max_examples=20)
@given(
    data=st.lists(st.sampled_from(["ok", "poison"]), min_size=1, max_size=8),
    batch_size=st.integers(1, 4),
    retries=st.integers(0, 2),
    bisect=st.booleans(),
)
def test_stream_trace_spans_are_the_batches_the_handler_saw(
    data: list[str], batch_size: int, retries: int, bisect: bool
) -> None:
    sched = Scheduler()
    history = History()
    stream = KinesisStream("s", scheduler=sched)
    calls: list[tuple[float, tuple[str, ...]]] = []

    def consumer(event: Any, context: Any) -> None:
        records = event["Records"]
        calls.append((sched.now, tuple(r["kinesis"]["sequenceNumber"] for r in records)))
        context.spend(0.1)
        if any(base64.b64decode(r["kinesis"]["data"]) == b"poison" for r in records):
            raise ValueError("poison")

    config = StreamMappingConfig(
        starting_position="TRIM_HORIZON", batch_size=batch_size,
        maximum_retry_attempts=retries, bisect_batch_on_function_error=bisect,
    )  # fmt: skip
    mapping = stream.map_to(Function("c", consumer), config, seed=2, history=history)
    for item in data:
        stream.put_record(item, partition_key="k")
    sched.run_until_idle()
    timeline = Timeline.from_history(history, sources=[mapping])
    trace = timeline.chrome_trace()
    check_trace_events(trace)
    ran = [e for e in trace["traceEvents"] if e["ph"] == "X" and e["cat"] == "EventSourceMapping"]
    assert [(e["ts"], tuple(e["args"]["carried"])) for e in ran] == [
        (round(at * 1e6, 3), ids) for at, ids in calls
    ]
    fates = [m for m in timeline.marks if m.kind in ("processed", "discarded")]
    assert len(fates) == len(data)  # every record ends once, and the timeline shows it
    assert metrics(timeline, 1).total("Invocations") == len(calls)


def test_marks_can_be_added_by_hand() -> None:
    mark = Mark(at=2.0, kind="custom", item="x", function="f", detail="by hand")
    span = Span(Model.REQUEST_RESPONSE, "f", "x", 1, 1, 1.0, 1.0, 1.5, Outcome.SUCCESS)
    history = History()
    history.record(span)
    timeline = Timeline.from_history(history, sources=[mark])
    assert timeline.rows() == [span, mark]
    assert timeline.text().splitlines()[-1].split() == ["2.000s", "f", "custom", "x", "by", "hand"]
    assert chrome_trace(timeline) == timeline.chrome_trace()


def test_the_picture_in_the_docs_is_what_its_script_draws() -> None:
    import importlib.util

    script = Path(__file__).resolve().parent.parent / "docs" / "scripts" / "observe_picture.py"
    spec = importlib.util.spec_from_file_location("observe_picture", script)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    drawn = module.picture()
    assert module.PICTURE.read_text(encoding="utf-8") == drawn, (
        "run python docs/scripts/observe_picture.py"
    )
    ET.fromstring(drawn)


def test_a_synchronous_call_shows_its_status_code() -> None:
    history = History()
    invoker = RequestResponseInvoker(Function("f", lambda e, c: e), seed=1, history=history)
    invoker.invoke(1)
    [row] = Timeline.from_history(history).text().splitlines()[1:]
    assert "RequestResponse " in row
    assert row.endswith("  Success; StatusCode 200; took 0.000s")


@settings(max_examples=20)
@given(
    bodies=st.lists(st.sampled_from(["ok", "bad"]), min_size=1, max_size=6),
    batch_size=st.integers(1, 3),
    partial=st.booleans(),
)
def test_sqs_trace_spans_are_the_batches_the_handler_saw(
    bodies: list[str], batch_size: int, partial: bool
) -> None:
    sched = Scheduler()
    dlq = Queue("q-dlq", scheduler=sched, seed=2)
    redrive = RedrivePolicy(dead_letter_target=dlq, max_receive_count=2)
    queue = Queue("q", scheduler=sched, seed=1, visibility_timeout=10, redrive_policy=redrive)
    calls: list[tuple[float, tuple[str, ...]]] = []

    def handler(event: Any, context: Any) -> Any:
        records = event["Records"]
        calls.append((sched.now, tuple(r["messageId"] for r in records)))
        context.spend(1.0)
        bad = [r["messageId"] for r in records if r["body"] == "bad"]
        if partial:
            return {"batchItemFailures": [{"itemIdentifier": i} for i in bad]}
        if bad:
            raise ValueError("bad")
        return None

    types = ["ReportBatchItemFailures"] if partial else []
    config = SQSMappingConfig(batch_size=batch_size, function_response_types=types)
    mapping = queue.map_to(Function("w", handler), config, seed=3)
    sent = {queue.send_message(body).message_id: body for body in bodies}
    sched.run_until_idle()
    timeline = Timeline.from_history(mapping.history, sources=[mapping])
    trace = timeline.chrome_trace()
    check_trace_events(trace)
    ran = [e for e in trace["traceEvents"] if e["ph"] == "X" and e["cat"] == "EventSourceMapping"]
    assert sorted((e["ts"], tuple(e["args"]["carried"])) for e in ran) == sorted(
        (round(at * 1e6, 3), ids) for at, ids in calls
    )
    for event in ran:
        # A partial batch response's failed items are the batch's bad messages.
        expected = [i for i in event["args"]["carried"] if sent[i] == "bad"] if partial else []
        assert event["args"]["failed"] == expected
    levels = queue_levels(timeline.marks)
    assert (levels["q"][-1].visible, levels["q"][-1].not_visible) == (0, 0)
    moved = [m for m in timeline.marks if m.kind == "moved_to_dlq"]
    assert [m.body for m in dlq.peek()] == [sent[m.item] for m in moved]


def test_a_long_run_draws_a_picture_of_bounded_size() -> None:
    sched = Scheduler()
    history = History()
    fn = Function("busy", lambda e, c: e, duration=0.5, reserved_concurrency=20)
    invoker = EventInvoker(fn, scheduler=sched, seed=1, history=history)
    for i in range(3000):
        sched.at(i * 0.01, invoker.invoke, i)
    sched.run_until_idle()
    timeline = Timeline.from_history(history, sources=[invoker])
    ran = [s for s in timeline.spans if s.ran]
    text = timeline.svg(width=600)
    root = ET.fromstring(text)
    dots = list(root.iter("{http://www.w3.org/2000/svg}circle"))
    # At most two dots (lowest, highest) per half-pixel column of the 340-pixel plot.
    assert 0 < len(dots) <= 2 * 2 * (600 - 260) + 2 < len(ran)
    assert len(text) < 100_000


def test_events_received_are_read_from_the_tries_without_the_invoker() -> None:
    timeline, invoker = _event_timeline()
    from_history = metrics(Timeline(timeline.spans))
    with_source = metrics(timeline)
    assert from_history.series("AsyncEventsReceived") == with_source.series("AsyncEventsReceived")
    assert from_history.total("AsyncEventsReceived") == invoker.metrics.async_events_received
    assert from_history.series("AsyncEventsDropped") == []


@pytest.mark.parametrize(
    ("types", "response", "failed"),
    [
        # Without ReportBatchItemFailures the response does not count: nothing failed.
        ([], {"batchItemFailures": [{"itemIdentifier": "first"}]}, []),
        (["ReportBatchItemFailures"], {"batchItemFailures": [{"itemIdentifier": "first"}]},
         ["first"]),
        # A response the reader cannot read fails the whole batch (reference 4.2).
        (["ReportBatchItemFailures"], {"batchItemFailures": [{"id": "x"}]}, ["first", "second"]),
        (["ReportBatchItemFailures"], {"batchItemFailures": []}, []),
    ],
)  # fmt: skip
def test_a_batch_span_fails_what_the_poller_fails(
    types: list[str], response: dict[str, Any], failed: list[str]
) -> None:
    sched = Scheduler()
    queue = Queue("q", scheduler=sched, seed=1)
    ids = [queue.send_message(body).message_id for body in ("a", "b")]
    names = {"first": ids[0], "second": ids[1]}

    def handler(event: Any, context: Any) -> Any:
        text = json.dumps(response)
        for name, message_id in names.items():
            text = text.replace(f'"{name}"', f'"{message_id}"')
        return json.loads(text)

    history = History()
    config = SQSMappingConfig(batch_size=10, function_response_types=types)
    queue.map_to(Function("f", handler), config, seed=2, history=history)
    sched.run(until=1.0)
    assert history[0].failed == tuple(names[name] for name in failed)
    kept = [m for m in ids if queue.fate(m) is None]
    assert kept == [names[name] for name in failed]  # the span and the queue agree


def test_reprs_are_short() -> None:
    timeline, _ = _event_timeline()
    assert repr(timeline) == "<Timeline spans=2 marks=3>"
    assert repr(timeline.metrics(30)).startswith("<Metrics period=30 datapoints=")


def test_a_duplicate_delivery_is_received_once_and_ends_twice() -> None:
    sched = Scheduler()
    history = History()
    invoker = EventInvoker(Function("f", lambda e, c: e), scheduler=sched, seed=1,
                           history=history, duplicate_probability=1.0)  # fmt: skip
    invoker.invoke(1)
    sched.run_until_idle()
    timeline = Timeline.from_history(history, sources=[invoker])
    assert [m.kind for m in timeline.marks] == ["accepted", "succeeded", "succeeded"]
    result = metrics(timeline)
    assert result.total("AsyncEventsReceived") == invoker.metrics.async_events_received == 1
    assert result.total("Invocations") == invoker.metrics.invocations == 2
    check_trace_events(timeline.chrome_trace())
