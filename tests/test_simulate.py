"""`invokemodels.simulate` and ``invokemodels simulate``: scenario files, their load, the
summary, determinism, sweeps over seeds, and one-line errors for bad scenario files."""

from __future__ import annotations

import argparse
import io
import json
import random
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from invokemodels._cli import _simulate, main
from invokemodels.core import Model, Outcome
from invokemodels.exceptions import InvalidParameterValueError, ScenarioError
from invokemodels.simulate import (
    Load,
    Scenario,
    Summary,
    load_scenario,
    run,
    run_summary,
    sweep,
)
from invokemodels.simulate._world import arrivals

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").iterdir())


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def scenario(**tables: Any) -> Scenario:
    data: dict[str, Any] = {"name": "t", "functions": {"f": {"behaviour": {}}}}
    data.update(tables)
    return load_scenario(data)


def burst(count: int, **extra: Any) -> dict[str, Any]:
    return {"bursts": [{"at": 0, "count": count}], **extra}


# -- the examples -----------------------------------------------------------------------------


def test_there_are_examples_of_each_source() -> None:
    names = {p.name for p in EXAMPLES}
    assert {
        "event-destinations.toml",
        "stream-poison.toml",
        "sqs-redrive.toml",
        "fifo-queue.toml",
    } <= names
    assert any(p.suffix == ".json" for p in EXAMPLES)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_example_runs_through_simulate(
    path: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    trace, metrics, plot = tmp_path / "t.json", tmp_path / "m.csv", tmp_path / "p.svg"
    code, out, err = cli(
        capsys,
        "simulate",
        str(path),
        "--trace",
        str(trace),
        "--metrics",
        str(metrics),
        "--plot",
        str(plot),
    )
    assert code == 0, err
    assert err == ""
    assert out.startswith(f"scenario {path.stem}, seed ")
    assert out.endswith("events lost: 0\n")
    events = json.loads(trace.read_text())["traceEvents"]
    assert any(e["ph"] == "X" for e in events)
    assert metrics.read_text().startswith("metric,namespace,unit,")
    assert "<svg xmlns" in plot.read_text()
    summary = run(load_scenario(path)).summary
    assert summary.lost == 0
    for source in summary.sources:
        ended = sum(n for _, n in source.ended)
        assert ended + source.waiting + source.in_flight == source.produced
    for function in summary.functions:
        assert function.handler_calls == function.executions


def test_the_stream_poison_example_discards_the_poison_batch_to_the_queue() -> None:
    result = run(load_scenario(ROOT / "examples" / "stream-poison.toml"))
    orders = result.summary.source("orders")
    discarded = orders.count("discarded (RetryAttemptsExhausted)")
    assert discarded >= 1
    assert orders.count("processed") + discarded == orders.produced
    # One on-failure record per discarded batch, in the queue named by on_failure.
    queue = result.world.queues["stream-failures"]
    records = [json.loads(m.body) for m in queue.peek()]
    assert records
    assert {r["requestContext"]["condition"] for r in records} == {"RetryAttemptsExhausted"}
    # MaximumRetryAttempts = 3: the failing batch was tried four times.
    consumer = result.summary.function("consumer")
    assert dict(consumer.tries)["FunctionError"] == 4 * len(records)


def test_the_redrive_example_moves_the_poison_messages_to_the_dead_letter_queue() -> None:
    result = run(load_scenario(ROOT / "examples" / "sqs-redrive.toml"))
    jobs = result.summary.source("jobs")
    assert jobs.count("moved_to_dlq") == 2  # items 7 and 300 are poison
    dlq = result.world.queues["jobs-dlq"]
    assert sorted(json.loads(m.body)["n"] for m in dlq.peek()) == [7, 300]
    assert dict(result.summary.queues)["jobs-dlq"] == (("visible", 2),)


def test_the_event_example_sends_every_event_to_a_destination() -> None:
    summary = run(load_scenario(ROOT / "examples" / "event-destinations.toml")).summary
    checkout = summary.source("checkout")
    assert checkout.count("succeeded") == checkout.count("on-success destination")
    assert checkout.count("dropped") == checkout.count("on-failure destination")
    assert checkout.count("dropped") > 0
    assert dict(summary.targets)["sns:order-events"] == checkout.count("succeeded")


def test_a_fifo_queue_keeps_each_group_in_order() -> None:
    result = run(load_scenario(ROOT / "examples" / "fifo-queue.toml"))
    queue = result.world.queues["ledger.fifo"]
    bodies = dict(zip(queue.message_ids, queue.records, strict=True))
    deleted: dict[str, list[int]] = {}
    for event in queue.events:
        if event.kind == "deleted":
            n = bodies[event.message_id]["n"]
            deleted.setdefault(f"group-{n % 4}", []).append(n)
    assert len(deleted) == 4
    for numbers in deleted.values():
        assert numbers == sorted(numbers)


# -- determinism ------------------------------------------------------------------------------


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_the_same_seed_gives_a_byte_identical_trace_and_summary(path: Path, tmp_path: Path) -> None:
    loaded = load_scenario(path)
    first, second = run(loaded, seed=5), run(loaded, seed=5)
    first.write_trace(tmp_path / "a.json")
    second.write_trace(tmp_path / "b.json")
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()
    assert first.summary.text() == second.summary.text()
    assert first.summary == second.summary
    first.write_svg(tmp_path / "a.svg")
    second.write_svg(tmp_path / "b.svg")
    assert (tmp_path / "a.svg").read_bytes() == (tmp_path / "b.svg").read_bytes()


def test_the_cli_prints_the_same_bytes_for_the_same_seed(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = str(ROOT / "examples" / "sqs-redrive.toml")
    runs = [
        cli(capsys, "simulate", path, "--seed", "3", "--trace", str(tmp_path / f"{i}.json"))
        for i in range(2)
    ]
    assert runs[0] == runs[1]
    assert (tmp_path / "0.json").read_bytes() == (tmp_path / "1.json").read_bytes()
    other = cli(capsys, "simulate", path, "--seed", "4")
    assert other[1] != runs[0][1]


def test_another_seed_gives_another_run() -> None:
    loaded = load_scenario(ROOT / "examples" / "event-destinations.toml")
    assert run(loaded, seed=1).summary != run(loaded, seed=2).summary
    assert run(loaded).summary.seed == loaded.seed == 1
    result = run(loaded, seed=2)
    assert repr(result).startswith("<Result event-destinations seed=2 <Timeline spans=")
    assert repr(result.world).startswith("<World event-destinations seed=2 now=")


# -- the property: trace spans are the models' attempts ---------------------------------------

_behaviours = st.fixed_dictionaries(
    {},
    optional={
        "fail": st.sampled_from([0.0, 0.3, 1.0]),
        "duration": st.sampled_from([0.0, 0.5, [0.1, 2.0]]),
        "timeout": st.sampled_from([0.0, 0.2]),
    },
).filter(lambda b: b.get("fail", 0) + b.get("timeout", 0) <= 1)
_loads = st.builds(
    lambda rate, duration, poison: {"rate": rate, "duration": duration, "poison": poison},
    st.sampled_from([0.5, 2.0]),
    st.integers(1, 10),
    st.lists(st.integers(0, 10), max_size=2),
)


@st.composite
def small_scenarios(draw: st.DrawFn) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "generated",
        "seed": draw(st.integers(0, 1000)),
        "functions": {
            "f": {"behaviour": draw(_behaviours), "timeout": 1},
            "g": {"behaviour": draw(_behaviours), "timeout": 1},
        },
    }
    kinds = draw(st.sets(st.sampled_from(["event", "stream", "queue", "fifo"]), min_size=1))
    functions = st.sampled_from(["f", "g"])
    if "event" in kinds:
        function = draw(functions)
        data["functions"][function]["event"] = {"maximum_retry_attempts": draw(st.integers(0, 2))}
        data["producers"] = {"p": {"function": function, "load": draw(_loads)}}
    if "stream" in kinds:
        data["streams"] = {
            "s": {
                "shards": draw(st.integers(1, 2)),
                "function": draw(functions),
                "mapping": {
                    "batch_size": draw(st.integers(1, 5)),
                    "maximum_retry_attempts": draw(st.integers(0, 3)),
                    "report_batch_item_failures": draw(st.booleans()),
                },
                "load": draw(_loads),
            }
        }
    queues: dict[str, Any] = {}
    if "queue" in kinds:
        queues["q"] = {
            "visibility_timeout": 5,
            "redrive": {"dead_letter": "dlq", "max_receive_count": draw(st.integers(1, 3))},
            "function": draw(functions),
            "mapping": {"batch_size": draw(st.integers(1, 5))},
            "load": draw(_loads),
        }
        queues["dlq"] = {}
    if "fifo" in kinds:
        queues["q.fifo"] = {
            "visibility_timeout": 5,
            "message_retention_period": 60,  # a message that always fails expires soon
            "message_groups": draw(st.integers(1, 3)),
            "function": draw(functions),
            "load": draw(_loads),
        }
    if queues:
        data["queues"] = queues
    return data


_MODELS = {m.value for m in Model}


@settings(max_examples=40)
@given(small_scenarios())
def test_trace_spans_match_the_models_attempts(data: dict[str, Any]) -> None:
    result = run(load_scenario(data))
    summary = result.summary
    assert summary.lost == 0
    events = result.timeline.chrome_trace()["traceEvents"]
    names = {
        e["pid"]: e["args"]["name"].removeprefix("function ")
        for e in events
        if e["ph"] == "M" and e["name"] == "process_name"
    }
    tries = [e for e in events if e["ph"] == "X" and e["cat"] in _MODELS]
    ran = Counter(names[e["pid"]] for e in tries if "execution" in e["args"])
    every = Counter(names[e["pid"]] for e in tries)
    for function in summary.functions:
        calls = result.world.calls(function.name)
        assert ran[function.name] == calls == function.executions == function.handler_calls
        assert every[function.name] == sum(n for _, n in function.tries)
        spans = [s for s in result.timeline.spans if s.function == function.name and s.ran]
        assert len(spans) == calls
    # The Event model's own count of executions (approximateInvokeCount) agrees.
    for name, invoker in result.world.invokers.items():
        executions = sum(o.approximate_invoke_count for o in invoker.outcomes)
        event_spans = [
            s
            for s in result.timeline.spans
            if s.model is Model.EVENT and s.function == name and s.ran
        ]
        assert executions == len(event_spans)
    # Every item of every source ended exactly once (the run went idle).
    for source in summary.sources:
        assert sum(n for _, n in source.ended) + source.waiting == source.produced


# -- the load ---------------------------------------------------------------------------------


def _times(load: Load, seed: int = 0) -> list[float]:
    return list(arrivals(load, random.Random(seed)))


def test_uniform_arrivals_come_every_one_over_rate_seconds() -> None:
    times = _times(Load(rate=4, duration=2, start=10, arrivals="uniform"))
    assert times == [10.0, 10.25, 10.5, 10.75, 11.0, 11.25, 11.5, 11.75]


def test_bursts_merge_with_the_steady_load_in_time_order() -> None:
    load = Load(rate=1, duration=3, arrivals="uniform", bursts=((1.5, 3, 0.0), (5.0, 2, 1.0)))
    assert _times(load) == [0.0, 1.0, 1.5, 1.5, 1.5, 2.0, 5.0, 5.5]
    assert load.end == 6.0


def test_poisson_arrivals_average_the_rate() -> None:
    times = _times(Load(rate=10, duration=1000))
    assert 9500 < len(times) < 10500
    assert times == sorted(times)
    assert all(0 <= t < 1000 for t in times)


@pytest.mark.parametrize("kind", ["poisson", "uniform"])
def test_a_daily_curve_scales_the_rate_hour_by_hour(kind: str) -> None:
    daily = tuple([0.0] * 12 + [2.0] * 12)
    times = _times(Load(rate=0.1, duration=86400, daily=daily, arrivals=kind))
    assert not [t for t in times if t < 12 * 3600]
    assert 12 * 3600 * 0.2 * 0.9 < len(times) < 12 * 3600 * 0.2 * 1.1


def test_poison_items_are_numbered_from_zero() -> None:
    result = run(
        scenario(
            streams={
                "s": {
                    "function": "f",
                    "mapping": {"batch_size": 1, "maximum_retry_attempts": 0},
                    "load": {"rate": 1, "duration": 5, "arrivals": "uniform", "poison": [0, 3]},
                }
            }
        )
    )
    s = result.summary.source("s")
    assert s.count("discarded (RetryAttemptsExhausted)") == 2
    assert s.count("processed") == 3


# -- behaviours and handlers ------------------------------------------------------------------


def test_a_behaviour_that_always_fails_is_retried_twice() -> None:
    result = run(
        load_scenario(
            {
                "functions": {"f": {"behaviour": {"fail": 1.0}}},
                "producers": {"p": {"function": "f", "load": burst(3)}},
            }
        )
    )
    f = result.summary.function("f")
    assert dict(f.tries) == {"FunctionError": 9}
    assert f.retries == 6
    p = result.summary.source("p")
    assert p.ended == (("dropped (RetriesExhausted)", 3),)
    # Retries 60 s and 120 s after the failed attempt ends.
    assert p.latency is not None
    assert p.latency.max == pytest.approx(180.0)


def test_a_behaviour_that_times_out_ends_in_sandbox_timedout() -> None:
    result = run(
        load_scenario(
            {
                "functions": {
                    "f": {
                        "behaviour": {"timeout": 1.0},
                        "timeout": 2,
                        "event": {"maximum_retry_attempts": 0},
                    }
                },
                "producers": {"p": {"function": "f", "load": burst(1)}},
            }
        )
    )
    (span,) = result.timeline.spans
    assert span.outcome is Outcome.FUNCTION_ERROR
    assert span.error_type == "Sandbox.Timedout"
    assert span.duration == pytest.approx(2.0)


def test_duration_is_drawn_between_low_and_high() -> None:
    result = run(
        load_scenario(
            {
                "functions": {"f": {"behaviour": {"duration": [0.5, 0.7]}}},
                "producers": {"p": {"function": "f", "load": {"rate": 5, "duration": 20}}},
            }
        )
    )
    durations = [s.duration for s in result.timeline.spans]
    assert len(durations) > 50
    assert all(0.5 <= d <= 0.7 for d in durations)
    assert len(set(durations)) > 10


def test_a_partial_batch_response_names_only_the_poison_record() -> None:
    result = run(
        scenario(
            queues={
                "q": {
                    "visibility_timeout": 5,
                    "redrive": {"dead_letter": "dlq", "max_receive_count": 2},
                    "function": "f",
                    "mapping": {"batch_size": 10, "report_batch_item_failures": True},
                    "load": burst(5, poison=[2]),
                },
                "dlq": {},
            }
        )
    )
    q = result.summary.source("q")
    assert q.ended == (("deleted", 4), ("moved_to_dlq", 1))
    failed = [s for s in result.timeline.spans if s.failed]
    assert failed
    assert all(len(s.failed) == 1 for s in failed)


def test_a_handler_path_runs_the_handler() -> None:
    result = run(
        load_scenario(
            {
                "functions": {"f": {"handler": "invokemodels.examples:fail"}},
                "producers": {"p": {"function": "f", "load": burst(2)}},
            }
        )
    )
    assert result.summary.source("p").count("dropped") == 2
    assert result.world.calls("f") == 6
    assert {s.error_type for s in result.timeline.spans} == {"ValueError"}


def test_a_queue_no_function_reads_keeps_its_messages_waiting() -> None:
    summary = run(scenario(queues={"q": {"load": burst(3)}})).summary
    q = summary.source("q")
    assert (q.produced, q.waiting, q.lost, q.function) == (3, 3, 0, None)
    assert dict(summary.queues)["q"] == (("visible", 3),)


def test_until_stops_the_clock_and_counts_what_is_in_flight() -> None:
    loaded = load_scenario(
        {
            "until": 30,
            "functions": {"f": {"behaviour": {"fail": 1.0}}},
            "producers": {"p": {"function": "f", "load": burst(4)}},
        }
    )
    summary = run(loaded).summary
    p = summary.source("p")
    assert summary.stopped_early
    assert summary.clock == 30.0
    assert (p.produced, p.in_flight, p.lost, p.ended) == (4, 4, 0, ())
    assert "in flight when the clock stopped" in summary.text()


def test_an_event_producer_over_the_invoke_rate_is_refused() -> None:
    # 10 x reserved concurrency 1 = 10 invokes per second are accepted.
    summary = run(
        load_scenario(
            {
                "functions": {"f": {"behaviour": {}, "reserved_concurrency": 1}},
                "producers": {"p": {"function": "f", "load": burst(15)}},
            }
        )
    ).summary
    p = summary.source("p")
    assert (p.produced, p.refused) == (10, 5)
    assert "5 refused (429)" in summary.text()


def test_the_summary_text_and_dict() -> None:
    summary = run(load_scenario(ROOT / "examples" / "stream-poison.toml")).summary
    text = summary.text()
    assert "orders (kinesis -> consumer):" in text
    assert "end-to-end latency p50 " in text
    assert "max iterator age " in text
    data = summary.to_dict()
    json.dumps(data)
    assert data["sources"][0]["name"] == "orders"
    with pytest.raises(KeyError, match="no such source"):
        summary.source("nope")


# -- sweeps -----------------------------------------------------------------------------------


def test_a_sweep_runs_every_seed_in_order_on_the_given_executor() -> None:
    loaded = load_scenario(ROOT / "examples" / "sqs-redrive.toml")
    with ThreadPoolExecutor(max_workers=3) as pool:
        result = sweep(loaded, range(1, 5), executor=pool)
    assert result.seeds == [1, 2, 3, 4]
    assert result.summaries[2] == run_summary(loaded, 3) == run(loaded, seed=3).summary
    assert result.fraction("jobs", "moved_to_dlq") == 1.0
    assert result.counts("jobs", "moved_to_dlq") == [2, 2, 2, 2]
    assert result.lost == 0
    text = result.text()
    assert "jobs: moved_to_dlq" in text
    assert "4/4" in text
    assert text.endswith("events lost: 0 over 4 runs\n")


def test_a_sweep_defaults_to_worker_processes() -> None:
    loaded = load_scenario(ROOT / "examples" / "stream-poison.toml")
    seen: list[Summary] = []
    result = sweep(loaded, [3, 1], workers=2, on_done=seen.append)
    assert result.seeds == [3, 1]
    assert sorted(s.seed for s in seen) == [1, 3]
    assert result.summaries[1] == run(loaded, seed=1).summary


@pytest.mark.parametrize(
    ("kwargs", "parameter"),
    [
        ({"seeds": []}, "seeds"),
        ({"seeds": [-1]}, "seed"),
        ({"seeds": [1], "workers": 0}, "workers"),
        ({"seeds": [1], "workers": 2, "executor": ThreadPoolExecutor()}, "workers"),
        ({"seeds": [1], "executor": object()}, "executor"),
    ],
)
def test_sweep_refuses_bad_arguments(kwargs: dict[str, Any], parameter: str) -> None:
    loaded = load_scenario(ROOT / "examples" / "fifo-queue.toml")
    with pytest.raises(InvalidParameterValueError) as caught:
        sweep(loaded, **kwargs)
    assert caught.value.parameter == parameter


def test_the_cli_sweeps_seeds(capsys: pytest.CaptureFixture[str]) -> None:
    path = str(ROOT / "examples" / "stream-poison.toml")
    code, out, err = cli(capsys, "simulate", path, "--seeds", "1..3", "--workers", "2")
    assert (code, err) == (0, "")
    assert out.startswith("scenario stream-poison: 3 runs, seeds 1..3\n")
    assert "orders: discarded (RetryAttemptsExhausted)" in out
    code, out, _ = cli(capsys, "simulate", path, "--seeds", "1..2", "--json")
    assert [s["seed"] for s in json.loads(out)] == [1, 2]


def test_the_cli_prints_json_and_writes_json_metrics(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = str(ROOT / "examples" / "fifo-queue.toml")
    metrics = tmp_path / "m.json"
    code, out, _ = cli(
        capsys, "simulate", path, "--json", "--metrics", str(metrics), "--period", "10"
    )
    assert code == 0
    assert json.loads(out)["scenario"] == "fifo-queue"
    written = json.loads(metrics.read_text())
    assert written["Period"] == 10
    assert {d["MetricName"] for d in written["Datapoints"]} >= {"Invocations", "Duration"}


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["--seeds", "1..3", "--trace", "t.json"], "--trace='t.json' is invalid: needs a single"),
        (["--seeds", "3..1"], "--seeds='3..1' is invalid"),
        (["--seeds", "x"], "--seeds='x' is invalid: must be A..B"),
        (["--seed", "1", "--seeds", "1..2"], "not allowed with argument"),
        (["--workers", "2"], "--workers=2 is invalid: is for --seeds only"),
        (["--metrics", "m.txt"], "must end in .csv or .json"),
        (["--period", "0"], "--period=0.0 is invalid"),
        (["--seed", "-1"], "seed=-1 is invalid"),
        (["--trace", "/nonexistent/dir/t.json"], "is invalid: cannot be written"),
    ],
)
def test_the_cli_refuses_bad_options_in_one_line(
    capsys: pytest.CaptureFixture[str], argv: list[str], fragment: str
) -> None:
    path = str(ROOT / "examples" / "fifo-queue.toml")
    code, out, err = cli(capsys, "simulate", path, *argv)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert fragment in err


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _simulate_args(path: str, *argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    commands = parser.add_subparsers(dest="command")
    _simulate.add_parser(commands)
    return parser.parse_args(["simulate", path, *argv])


def test_the_progress_bar_is_plain_without_tqdm(monkeypatch: pytest.MonkeyPatch) -> None:
    real = _simulate.importlib.import_module

    def no_tqdm(name: str) -> Any:
        if name == "tqdm":
            raise ImportError(name)
        return real(name)

    monkeypatch.setattr(_simulate.importlib, "import_module", no_tqdm)
    out, err = io.StringIO(), _Terminal()
    args = _simulate_args(str(ROOT / "examples" / "fifo-queue.toml"))
    assert _simulate.run_command(args, out, err) == 0
    assert "\rfifo-queue: 60/60 s (100%)" in err.getvalue()
    assert out.getvalue().endswith("events lost: 0\n")


def test_the_progress_bar_uses_tqdm_on_a_terminal() -> None:
    out, err = io.StringIO(), _Terminal()
    args = _simulate_args(str(ROOT / "examples" / "fifo-queue.toml"))
    assert _simulate.run_command(args, out, err) == 0
    assert "fifo-queue: " in err.getvalue()
    assert "%|" in err.getvalue()  # tqdm's bar, not the plain line
    assert "| 0/60 [" in err.getvalue()


def test_no_progress_bar_when_standard_error_is_not_a_terminal(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, _, err = cli(capsys, "simulate", str(ROOT / "examples" / "fifo-queue.toml"))
    assert (code, err) == (0, "")
    args = _simulate_args(str(ROOT / "examples" / "fifo-queue.toml"), "--no-progress")
    terminal = _Terminal()
    assert _simulate.run_command(args, io.StringIO(), terminal) == 0
    assert terminal.getvalue() == ""


# -- bad scenario files -----------------------------------------------------------------------

F = "[functions.f]\n"
BAD_FILES = [
    # (file text, suffix, key in the message, what the message says)
    ("functions = 3", ".toml", "functions", "must be a table"),
    ("name = 'x'", ".toml", "functions", "at least one [functions.NAME]"),
    (F + "timeout = 1000", ".toml", "functions.f.timeout", "Timeout"),
    (F + "timeout = 'slow'", ".toml", "functions.f.timeout", "'slow'"),
    (F + "memory_size = 64", ".toml", "functions.f.memory_size", "128"),
    (F + "reserved_concurrency = -1", ".toml", "functions.f.reserved_concurrency", "-1"),
    (F + "colour = 'red'", ".toml", "functions.f.colour", "unknown key"),
    (F + "handler = 'nocolon'", ".toml", "functions.f.handler", "module:attribute"),
    (F + "handler = 'no_such_module_x:h'", ".toml", "functions.f.handler", "cannot be loaded"),
    (F + "handler = 'a:b'\nbehaviour = {}", ".toml", "functions.f", "both handler and behaviour"),
    (F + "behaviour = { fail = 1.5 }", ".toml", "functions.f.behaviour.fail", "<= 1"),
    (F + "behaviour = { fail = 0.6, timeout = 0.6 }", ".toml", "functions.f.behaviour", "at most"),
    (F + "behaviour = { duration = [2, 1] }", ".toml", "functions.f.behaviour.duration", "low"),
    (F + "behaviour = { duration = -1 }", ".toml", "functions.f.behaviour.duration", ">= 0"),
    (F + "behaviour = { slow = true }", ".toml", "functions.f.behaviour.slow", "unknown key"),
    (F + "behaviour = 3", ".toml", "functions.f.behaviour", "must be a table"),
    (
        "[functions.f.event]\nmaximum_retry_attempts = 3",
        ".toml",
        "functions.f.event.maximum_retry_attempts",
        "MaximumRetryAttempts",
    ),
    (
        "[functions.f.event]\nmaximum_event_age = 10",
        ".toml",
        "functions.f.event.maximum_event_age",
        "60",
    ),
    (
        "[functions.f.event]\non_failure = 'nowhere'",
        ".toml",
        "functions.f.event.on_failure",
        "must name a queue",
    ),
    (
        "[functions.f.event]\non_failure = 'q.fifo'\n[queues.'q.fifo']",
        ".toml",
        "functions.f.event.on_failure",
        "FIFO",
    ),
    (
        "[functions.f.event]\ndead_letter = 'nowhere'",
        ".toml",
        "functions.f.event.dead_letter",
        "standard queue",
    ),
    ("[functions.bad!name]", ".toml", "", "not valid TOML"),
    ('[functions."bad name"]', ".toml", "functions.bad name", "FunctionName"),
    (
        F + "[producers.p]\nload = { rate = 1, duration = 1 }",
        ".toml",
        "producers.p.function",
        "is required",
    ),
    (
        F + "[producers.p]\nfunction = 'g'\nload = { rate = 1, duration = 1 }",
        ".toml",
        "producers.p.function",
        "must name a function",
    ),
    (F + "[producers.p]\nfunction = 'f'", ".toml", "producers.p.load", "is required"),
    (
        F + "[producers.p]\nfunction = 'f'\nload = { rate = 1 }",
        ".toml",
        "producers.p.load.duration",
        "is required with a rate",
    ),
    (F + "[producers.p]\nfunction = 'f'\nload = { }", ".toml", "producers.p.load", "nothing"),
    (
        F + "[producers.p]\nfunction = 'f'\nload = { rate = -1, duration = 1 }",
        ".toml",
        "producers.p.load.rate",
        ">= 0",
    ),
    (
        F + "[producers.p]\nfunction = 'f'\nload = { rate = 1, duration = 1, arrivals = 'x' }",
        ".toml",
        "producers.p.load.arrivals",
        "poisson, uniform",
    ),
    (
        F + "[producers.p]\nfunction = 'f'\nload = { rate = 1, duration = 1, daily = [1, 2] }",
        ".toml",
        "producers.p.load.daily",
        "24 numbers",
    ),
    (
        F + "[producers.p]\nfunction = 'f'\nload = { bursts = [{ at = 1 }] }",
        ".toml",
        "producers.p.load.bursts[0]",
        "needs at",
    ),
    (
        F + "[producers.p]\nfunction = 'f'\nload = { bursts = [{ at = 1, count = 0 }] }",
        ".toml",
        "producers.p.load.bursts[0].count",
        ">= 1",
    ),
    (
        F + "[producers.p]\nfunction = 'f'\nload = { bursts = 5 }",
        ".toml",
        "producers.p.load.bursts",
        "array of tables",
    ),
    (
        F + "[producers.p]\nfunction = 'f'\nload = { rate = 1, duration = 1, poison = ['x'] }",
        ".toml",
        "producers.p.load.poison",
        "item numbers",
    ),
    (F + "[streams.s]\nshards = 0", ".toml", "streams.s.shards", "ShardCount"),
    (F + "[streams.s]\nretention_hours = 1", ".toml", "streams.s.retention_hours", "24"),
    (F + "[streams.s]\npartition_keys = []", ".toml", "streams.s.partition_keys", "non-empty"),
    (F + "[streams.s]\nmapping = { batch_size = 5 }", ".toml", "streams.s.mapping", "function"),
    (
        F + "[streams.s]\nfunction = 'f'\nmapping = { batch_size = 0 }",
        ".toml",
        "streams.s.mapping.batch_size",
        "BatchSize",
    ),
    (
        F
        + "[streams.s]\nfunction = 'f'\nmapping = { batch_size = 50, maximum_batching_window = 0 }",
        ".toml",
        "streams.s.mapping",
        "MaximumBatchingWindowInSeconds",
    ),
    (
        F + "[streams.s]\nfunction = 'f'\nmapping = { maximum_record_age = 30 }",
        ".toml",
        "streams.s.mapping.maximum_record_age",
        "60",
    ),
    (
        F + "[streams.s]\nfunction = 'f'\nmapping = { maximum_retry_attempts = -2 }",
        ".toml",
        "streams.s.mapping.maximum_retry_attempts",
        "MaximumRetryAttempts",
    ),
    (
        F + "[streams.s]\nfunction = 'f'\nmapping = { starting_position = 'MIDDLE' }",
        ".toml",
        "streams.s.mapping.starting_position",
        "StartingPosition",
    ),
    (
        F + "[streams.s]\nfunction = 'f'\nmapping = { on_failure = 'events:bus' }",
        ".toml",
        "streams.s.mapping.on_failure",
        "an SNS topic or an S3 bucket",
    ),
    (
        F + "[streams.s]\nfunction = 'f'\nmapping = { sideways = 1 }",
        ".toml",
        "streams.s.mapping.sideways",
        "unknown key",
    ),
    (
        F + "[queues.q]\nvisibility_timeout = 50000",
        ".toml",
        "queues.q.visibility_timeout",
        "VisibilityTimeout",
    ),
    (
        F + "[queues.q]\nmessage_retention_period = 10",
        ".toml",
        "queues.q.message_retention_period",
        "MessageRetentionPeriod",
    ),
    (F + "[queues.q]\nmessage_groups = 2", ".toml", "queues.q.message_groups", "FIFO queues"),
    (
        F + "[queues.q]\nredrive = { max_receive_count = 2 }",
        ".toml",
        "queues.q.redrive.dead_letter",
        "is required",
    ),
    (
        F + "[queues.q]\nredrive = { dead_letter = 'x' }",
        ".toml",
        "queues.q.redrive.dead_letter",
        "must name a queue",
    ),
    (
        F + "[queues.q]\nredrive = { dead_letter = 'q' }",
        ".toml",
        "queues.q.redrive.dead_letter",
        "not the queue itself",
    ),
    (
        F
        + "[queues.a]\nredrive = { dead_letter = 'b' }\n"
        + "[queues.b]\nredrive = { dead_letter = 'a' }",
        ".toml",
        "queues.a.redrive.dead_letter",
        "cycle",
    ),
    (
        F + "[queues.q]\nredrive = { dead_letter = 'd', max_receive_count = 0 }\n[queues.d]",
        ".toml",
        "queues.q.redrive.max_receive_count",
        "maxReceiveCount",
    ),
    (
        F + "[queues.'q.fifo']\nredrive = { dead_letter = 'd' }\n[queues.d]",
        ".toml",
        "queues.q.fifo.redrive.dead_letter",
        "a FIFO queue",
    ),
    (
        F + "[queues.q]\nredrive = { dead_letter = 'd.fifo' }\n[queues.'d.fifo']",
        ".toml",
        "queues.q.redrive.dead_letter",
        "a standard queue",
    ),
    (
        F + "[queues.q]\nfunction = 'f'\nmapping = { maximum_concurrency = 1 }",
        ".toml",
        "queues.q.mapping.maximum_concurrency",
        "MaximumConcurrency",
    ),
    (
        F + "[queues.q]\nfunction = 'f'\nmapping = { report_batch_item_failures = 'yes' }",
        ".toml",
        "queues.q.mapping.report_batch_item_failures",
        "true or false",
    ),
    (F + "[queues.'bad queue']", ".toml", "queues.bad queue", "QueueName"),
    ("seed = -3\n" + F, ".toml", "seed", "integer >= 0"),
    ("until = 0\n" + F, ".toml", "until", "> 0"),
    ("wat = 1\n" + F, ".toml", "wat", "unknown key"),
    ('{"functions": {"f": {"timeout": 0}}}', ".json", "functions.f.timeout", "Timeout"),
    ('{"functions": ', ".json", "", "not valid JSON"),
    ("[1, 2]", ".json", "", "must hold a table"),
    ("functions:\n  f: {}", ".yaml", "", "must be a .toml or .json file"),
    ("\xff\xfe", ".toml", "", "not valid TOML"),
]


@pytest.mark.parametrize(
    ("text", "suffix", "key", "fragment"), BAD_FILES, ids=[str(i) for i in range(len(BAD_FILES))]
)
def test_a_bad_scenario_file_is_one_line_naming_the_file_and_the_key(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    text: str,
    suffix: str,
    key: str,
    fragment: str,
) -> None:
    path = tmp_path / f"scenario{suffix}"
    path.write_text(text, encoding="utf-8")
    code, out, err = cli(capsys, "simulate", str(path))
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert "Traceback" not in err
    assert err.startswith(f"invokemodels: error: {path}: {key}")
    assert fragment in err
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert caught.value.source == str(path)
    assert caught.value.key == key or caught.value.key.startswith(key + ".")


def test_a_missing_scenario_file_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = cli(capsys, "simulate", "/nonexistent/scenario.toml")
    assert code == 2
    assert err == (
        "invokemodels: error: /nonexistent/scenario.toml: cannot read the file: "
        "No such file or directory\n"
    )


def test_scenario_error_is_a_value_error_with_its_parts() -> None:
    with pytest.raises(ValueError, match=r"^<dict>: functions\.f\.timeout: ") as caught:
        load_scenario({"functions": {"f": {"timeout": 0}}})
    assert isinstance(caught.value, ScenarioError)
    assert caught.value.key == "functions.f.timeout"
    assert "Timeout" in caught.value.expected


def test_run_and_sweep_refuse_what_is_not_a_scenario() -> None:
    with pytest.raises(InvalidParameterValueError):
        run({"functions": {}})  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterValueError):
        sweep({"functions": {}}, [1])  # type: ignore[arg-type]


def test_the_picture_in_the_docs_is_what_simulate_draws() -> None:
    import importlib.util

    script = ROOT / "docs" / "scripts" / "simulate_picture.py"
    spec = importlib.util.spec_from_file_location("simulate_picture", script)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    drawn = module.picture()
    assert module.PICTURE.read_text(encoding="utf-8") == drawn, (
        "run python docs/scripts/simulate_picture.py"
    )
    assert "stream-poison" in drawn


def test_the_readme_shows_the_stream_poison_example_and_its_output() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    example = ROOT / "examples" / "stream-poison.toml"
    lines = [
        line
        for line in example.read_text(encoding="utf-8").splitlines()
        if not line.startswith("#")
    ]
    assert "```toml\n" + "\n".join(lines) + "\n```" in readme
    assert run(load_scenario(example), seed=1).summary.text() in readme
