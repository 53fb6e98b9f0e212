"""The runtime's log: order, formats, the REPORT line, the 4 KB tail, JSON, concurrency."""

from __future__ import annotations

import base64
import json
import logging
import math
import sys
import threading
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from invokemodels import BackgroundEventInvoker, Function, RequestResponseInvoker
from invokemodels.core import AttemptLog, LoggingConfig, LogRecorder, billed_duration_ms
from invokemodels.event import EventInvokeConfig
from invokemodels.exceptions import InvalidParameterValueError

STAMP = "2023-11-14T22:13:20.000Z"  # the virtual clock's epoch origin


def chatty(event: Any, context: Any) -> Any:
    print("one")
    logging.getLogger("app").warning("two %d", 2)
    sys.stderr.write("three\n")
    print("four", "and", end="")
    print(" more")
    logging.getLogger().error("five")
    if event.get("fail"):
        raise KeyError("missing")
    return "ok"


def recorded(handler: Any, event: Any = None, **function: Any) -> tuple[Any, AttemptLog]:
    fn = Function(name="f", handler=handler, **function)
    recorder = LogRecorder()
    recorder.watch(fn)
    response = RequestResponseInvoker(fn, seed=1).invoke({} if event is None else event)
    (log,) = recorder.logs
    assert log.request_id == response.request_id
    return response, log


def test_lines_are_in_the_order_they_were_written() -> None:
    response, log = recorded(chatty, duration=0.0123)
    rid = response.request_id
    assert log.lines == (
        f"START RequestId: {rid} Version: $LATEST\n",
        "one\n",
        f"[WARNING]\t{STAMP}\t{rid}\ttwo 2\n",
        "three\n",
        "four and more\n",
        f"[ERROR]\t{STAMP}\t{rid}\tfive\n",
        f"END RequestId: {rid}\n",
        f"REPORT RequestId: {rid}\tDuration: 12.30 ms\tBilled Duration: 13 ms\t"
        "Memory Size: 128 MB\tMax Memory Used: 40 MB\tInit Duration: 100.00 ms\t\n",
    )


_WRITES = st.lists(
    st.tuples(
        st.sampled_from(["print", "stdout", "stderr", "logging"]),
        st.text(st.characters(codec="utf-8", exclude_characters="\n\r%"), max_size=8),
    ),
    max_size=12,
)


@given(_WRITES)
def test_every_way_of_writing_keeps_its_place_in_the_log(writes: list[tuple[str, str]]) -> None:
    def handler(event: Any, context: Any) -> Any:
        for how, text in writes:
            if how == "print":
                print(text)
            elif how == "stdout":
                sys.stdout.writelines([text, "\n"])
            elif how == "stderr":
                sys.stderr.write(text + "\n")
            else:
                logging.getLogger("prop").warning(text)

    response, log = recorded(handler)
    rid = response.request_id
    expected = [
        f"[WARNING]\t{STAMP}\t{rid}\t{text}\n" if how == "logging" else text + "\n"
        for how, text in writes
    ]
    assert list(log.lines[1:-2]) == expected


def test_an_unhandled_error_is_logged_as_the_runtime_logs_it() -> None:
    response, log = recorded(chatty, {"fail": True})
    warning, error = log.lines[6:8]
    assert warning.startswith("LAMBDA_WARNING: Unhandled exception. The most likely cause")
    head, traceback_line, *stack = error.rstrip("\n").split("\n")
    assert head == "[ERROR] KeyError: 'missing'"
    assert traceback_line == "Traceback (most recent call last):"
    # The runtime indents stack lines with no-break spaces.
    assert stack[0].startswith('\u00a0\u00a0File "')
    assert stack[0].endswith(", in chatty")
    assert stack[1] == '\u00a0\u00a0\u00a0\u00a0raise KeyError("missing")'
    assert json.loads(response.payload)["errorType"] == "KeyError"
    assert log.lines[8] == f"END RequestId: {response.request_id}\n"


def test_a_timeout_is_reported_by_the_platform() -> None:
    def slow(event: Any, context: Any) -> Any:
        context.spend(5)

    response, log = recorded(slow, timeout=2)
    rid = response.request_id
    assert log.lines[1] == f"2023-11-14T22:13:22.000Z {rid} Task timed out after 2.00 seconds\n"
    assert "Duration: 2000.00 ms\tBilled Duration: 2000 ms" in log.lines[-1]


def test_a_logged_exception_carries_its_traceback() -> None:
    def handler(event: Any, context: Any) -> Any:
        try:
            1 / 0  # noqa: B018
        except ZeroDivisionError:
            logging.getLogger("app").exception("division")

    _, log = recorded(handler)
    record = log.lines[1]
    assert record.split("\n")[0].endswith("\tdivision")
    assert "Traceback (most recent call last):" in record
    assert record.rstrip("\n").endswith("ZeroDivisionError: division by zero")


@given(st.floats(min_value=0, max_value=900, allow_nan=False))
def test_billed_duration_rounds_up_to_the_millisecond(seconds: float) -> None:
    billed = billed_duration_ms(seconds)
    assert billed >= 1
    assert billed >= round(seconds * 1000, 6)
    assert billed - 1 < max(1.0, seconds * 1000)
    assert billed == max(1, math.ceil(round(seconds * 1000, 6)))


def test_cold_starts_follow_the_concurrency_high_water_mark() -> None:
    fn = Function(name="f", handler=lambda e, c: None, memory_size=256)
    recorder = LogRecorder(max_memory_used=512, init_duration=0.25)
    recorder.watch(fn)
    invoker = RequestResponseInvoker(fn, seed=1)
    invoker.invoke({})
    invoker.invoke({})
    first, second = recorder.logs
    assert (first.cold_start, second.cold_start) == (True, False)
    assert first.lines[-1].endswith("Max Memory Used: 256 MB\tInit Duration: 250.00 ms\t\n")
    assert second.lines[-1].endswith("Memory Size: 256 MB\tMax Memory Used: 256 MB\t\n")


@given(st.lists(st.text(st.characters(codec="utf-8", exclude_characters="\n\r")), max_size=300))
def test_tail_is_base64_of_the_last_4_kb_of_that_attempts_log(lines: list[str]) -> None:
    def handler(event: Any, context: Any) -> Any:
        for line in event:
            print(line)

    fn = Function(name="f", handler=handler)
    recorder = LogRecorder()
    recorder.watch(fn)
    response = RequestResponseInvoker(fn, seed=1).invoke(lines, log_type="Tail")
    (log,) = recorder.logs
    whole = log.text.encode("utf-8")
    assert base64.b64decode(response.log_result or "") == whole[-4096:]
    assert log.tail() == response.log_result
    assert [line + "\n" for line in lines] == list(log.lines[1:-2])


def test_json_format_application_and_system_records() -> None:
    config = LoggingConfig(log_format="JSON", application_log_level="DEBUG")
    fn = Function(name="f", handler=chatty)
    recorder = LogRecorder(config=config)
    recorder.watch(fn)
    try:
        logging.getLogger("app").setLevel(logging.NOTSET)
        response = RequestResponseInvoker(fn, seed=1).invoke({"fail": True})
    finally:
        recorder.unwatch(fn)
    rid = response.request_id
    (log,) = recorder.logs
    start = json.loads(log.lines[0])
    assert start == {
        "time": STAMP,
        "type": "platform.start",
        "record": {"requestId": rid, "version": "$LATEST"},
    }
    assert log.lines[1] == "one\n"  # print output stays plain text, as on Lambda
    assert json.loads(log.lines[2]) == {
        "timestamp": STAMP,
        "level": "WARNING",
        "message": "two 2",
        "logger": "app",
        "requestId": rid,
    }
    # The runtime's warning stays plain text; the error document is JSON.
    assert log.lines[-3].startswith("LAMBDA_WARNING: Unhandled exception.")
    error = json.loads(log.lines[-2])
    assert error["timestamp"] == "2023-11-14T22:13:20Z"
    assert (error["log_level"], error["errorType"], error["requestId"]) == (
        "ERROR",
        "KeyError",
        rid,
    )
    assert error["stackTrace"]
    report = json.loads(log.lines[-1])
    assert report["type"] == "platform.report"
    assert report["record"]["status"] == "error"
    assert report["record"]["metrics"] == {
        "durationMs": 0.0,
        "billedDurationMs": 1,
        "memorySizeMB": 128,
        "maxMemoryUsedMB": 40,
        "initDurationMs": 100.0,
    }


def test_json_records_carry_extra_fields_and_exceptions() -> None:
    def handler(event: Any, context: Any) -> Any:
        log = logging.getLogger("orders")
        log.info("placed", extra={"order_id": 7, "missing": None})
        try:
            raise ValueError("bad")
        except ValueError:
            log.critical("failed", exc_info=True)

    config = LoggingConfig(log_format="JSON")
    fn = Function(name="f", handler=handler)
    recorder = LogRecorder(config=config)
    recorder.watch(fn)
    RequestResponseInvoker(fn, seed=1).invoke({})
    placed, failed = (json.loads(line) for line in recorder.logs[0].lines[1:3])
    assert placed["order_id"] == 7
    assert "missing" not in placed
    assert (failed["level"], failed["errorType"], failed["errorMessage"]) == (
        "CRITICAL",
        "ValueError",
        "bad",
    )
    assert failed["location"].endswith(":handler:" + failed["location"].rsplit(":", 1)[1])
    assert failed["stackTrace"]


def test_json_levels_filter_application_and_system_records() -> None:
    def handler(event: Any, context: Any) -> Any:
        log = logging.getLogger("levels")
        log.debug("debug")
        log.info("info")
        log.warning("warning")

    config = LoggingConfig(log_format="JSON", application_log_level="WARN", system_log_level="WARN")
    fn = Function(name="f", handler=handler)
    recorder = LogRecorder(config=config)
    recorder.watch(fn)
    RequestResponseInvoker(fn, seed=1).invoke({})
    (log,) = recorder.logs
    assert [json.loads(line)["message"] for line in log.lines] == ["warning"]


def test_the_runtime_lowers_the_root_level_to_application_log_level_while_capturing() -> None:
    def handler(event: Any, context: Any) -> Any:
        logging.getLogger().info("seen")

    root = logging.getLogger()
    before = root.level
    fn = Function(name="f", handler=handler)
    recorder = LogRecorder(config=LoggingConfig(log_format="JSON", application_log_level="INFO"))
    recorder.watch(fn)
    RequestResponseInvoker(fn, seed=1).invoke({})
    assert [json.loads(line)["message"] for line in recorder.logs[0].lines[1:-1]] == ["seen"]
    assert root.level == before


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"application_log_level": "INFO"}, "ApplicationLogLevel='INFO' is invalid"),
        ({"log_format": "XML"}, "LogFormat='XML' is invalid"),
        ({"log_format": "JSON", "system_log_level": "LOUD"}, "SystemLogLevel='LOUD'"),
    ],
)
def test_bad_logging_config_is_named(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidParameterValueError, match=message):
        LoggingConfig(**kwargs)


def test_nothing_is_captured_when_nobody_asks(capsys: pytest.CaptureFixture[str]) -> None:
    stdout = sys.stdout
    RequestResponseInvoker(Function(name="f", handler=chatty), seed=1).invoke({})
    assert sys.stdout is stdout
    out, err = capsys.readouterr()
    assert out == "one\nfour and more\n"
    assert err == "three\n"


def test_captured_output_does_not_leak_and_streams_are_restored(
    capsys: pytest.CaptureFixture[str],
) -> None:
    stdout, stderr = sys.stdout, sys.stderr
    recorded(chatty)
    assert (sys.stdout, sys.stderr) == (stdout, stderr)
    assert capsys.readouterr() == ("", "")


def test_concurrent_attempts_on_the_real_clock_keep_their_lines_apart() -> None:
    barrier = threading.Barrier(3, timeout=10)

    def handler(event: Any, context: Any) -> Any:
        for n in range(30):
            print(f"{event} {n}")
            if n == 10:
                barrier.wait()  # all three attempts are running at this point
            logging.getLogger("w").warning("%s logged %d", event, n)

    fn = Function(name="f", handler=handler, timeout=20)
    recorder = LogRecorder()
    recorder.watch(fn)
    config = EventInvokeConfig(maximum_retry_attempts=0)
    with BackgroundEventInvoker(fn, config=config, max_workers=3, seed=1) as worker:
        ids = {worker.invoke(f"e{n}").request_id: f"e{n}" for n in range(3)}
    assert len(recorder.logs) == 3
    for log in recorder.logs:
        owner = ids[log.request_id]
        body = log.lines[1:-2]
        assert body[0::2] == tuple(f"{owner} {n}\n" for n in range(30))
        assert all(line.endswith(f"\t{owner} logged {n}\n") for n, line in enumerate(body[1::2]))
