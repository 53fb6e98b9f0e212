"""The function's log as the Python runtime writes it: one `AttemptLog` per attempt.

Nothing here runs unless someone asks for logs: a `LogRecorder` that `LogRecorder.watch`
es a function, ``LogType=Tail`` on a synchronous invoke, or the command line.  Then, for
the attempt's duration only, ``sys.stdout``, ``sys.stderr`` and the root logger are routed
through this module: a line written on the thread that runs the attempt's handler goes
to that attempt's log, any other line goes where it would have gone.  Concurrent attempts
(the real-clock Event worker, a server) therefore keep their lines apart.

What an attempt's log holds, in the order it happened (the runtime's formats, RIC
``bootstrap.py``):

- ``START RequestId: <id> Version: <version>``;
- each line the handler printed (``print``, ``sys.stdout``, ``sys.stderr``), as written;
- each ``logging`` record that reached the root logger, as
  ``[LEVEL]\\t<timestamp>\\t<request id>\\t<message>`` (the traceback follows when the
  record carries one);
- for a function error, the runtime's ``LAMBDA_WARNING: Unhandled exception...`` line and
  the ``[ERROR] <type>: <message>`` line with ``Traceback (most recent call last):`` and
  the stack (indented with no-break spaces, as the runtime does);
- ``END RequestId: <id>`` and ``REPORT RequestId: <id>\\tDuration: ... ms\\tBilled
  Duration: ... ms\\tMemory Size: ... MB\\tMax Memory Used: ... MB`` (plus ``\\tInit
  Duration: ... ms`` on a cold start).

With ``LoggingConfig(log_format="JSON")`` the application lines are JSON objects
(``timestamp``, ``level``, ``message``, ``logger``, ``requestId``, ``extra=`` fields;
``errorType``, ``errorMessage``, ``stackTrace`` and ``location`` with a traceback), ``print`` output
stays plain text (as on Lambda), and the system lines are ``platform.start`` /
``platform.report`` JSON records; ``ApplicationLogLevel`` and ``SystemLogLevel`` filter
them.
"""

from __future__ import annotations

import base64
import json
import logging
import math
import sys
import threading
import traceback
import weakref
from collections.abc import Callable
from typing import Any, Final, TextIO

import attrs

from invokemodels.core._clock import Clock, iso_timestamp
from invokemodels.core._validate import in_range, one_of
from invokemodels.exceptions import InvalidParameterValueError

__all__ = [
    "LOG_FORMATS",
    "LOG_LEVELS",
    "TAIL_LIMIT",
    "AttemptLog",
    "LogRecorder",
    "LoggingConfig",
    "billed_duration_ms",
]

TAIL_LIMIT: Final = 4096
"""``LogResult`` carries the last 4 KB of the attempt's log (reference 2.1)."""

LOG_FORMATS: Final = ("Text", "JSON")
"""``LoggingConfig.LogFormat`` values."""

LOG_LEVELS: Final = ("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL")
"""``ApplicationLogLevel`` / ``SystemLogLevel`` values, most verbose first."""

# Python's levels for AWS's names: TRACE is below DEBUG, FATAL is CRITICAL.
_LEVEL_NUMBERS: Final = {"TRACE": 5, "DEBUG": 10, "INFO": 20, "WARN": 30, "ERROR": 40, "FATAL": 50}

# RIC lambda_literals.py: logged before the [ERROR] line of every unhandled exception.
UNHANDLED_WARNING: Final = (
    "LAMBDA_WARNING: Unhandled exception. The most likely cause is an issue in the function "
    "code. However, in rare cases, a Lambda runtime update can cause unexpected function "
    "behavior. For functions using managed runtimes, runtime updates can be triggered by a "
    "function change, or can be applied automatically. To determine if the runtime has been "
    "updated, check the runtime version in the INIT_START log entry. If this error correlates "
    "with a change in the runtime version, you may be able to mitigate this error by "
    "temporarily rolling back to the previous runtime version. For more information, see "
    "https://docs.aws.amazon.com/lambda/latest/dg/runtimes-update.html\r"
)
_NBSP: Final = "\u00a0"  # RIC ERROR_LOG_IDENT: stack lines are indented with no-break spaces
_PLATFORM_ERRORS: Final = frozenset({"Sandbox.Timedout", "Runtime.ExitError"})


def billed_duration_ms(duration: float) -> int:
    """``Billed Duration``: the duration rounded *up* to the next millisecond.

    AWS bills duration in 1 ms increments since December 2020 ("rounded up to the nearest
    1 ms", AWS Lambda pricing page).
    """
    return max(1, math.ceil(round(duration * 1000, 6)))


def _check_level(name: str) -> Callable[[Any, Any, Any], None]:
    def check(_instance: Any, _attribute: Any, value: Any) -> None:
        if value is not None and value not in LOG_LEVELS:
            allowed = f"must be one of {' | '.join(LOG_LEVELS)}"
            raise InvalidParameterValueError(name, value, allowed)

    return check


@attrs.frozen(kw_only=True)
class LoggingConfig:
    """A function's ``LoggingConfig``: the log format and, for JSON, the log levels.

    Args:
        log_format: ``LogFormat``, ``"Text"`` (default) or ``"JSON"``.
        application_log_level: ``ApplicationLogLevel`` (JSON only; default ``"INFO"`` then):
            ``logging`` records below it are dropped.  As on Lambda, the runtime also lowers
            the root logger's level to it while the attempt runs.
        system_log_level: ``SystemLogLevel`` (JSON only; default ``"INFO"`` then):
            ``platform.start`` and ``platform.report`` are INFO records, so ``"WARN"`` and
            above drop them.

    AWS refuses log levels with the Text format; so does this class.
    """

    log_format: str = attrs.field(default="Text", validator=one_of("LogFormat", LOG_FORMATS))
    application_log_level: str | None = attrs.field(
        default=None, validator=_check_level("ApplicationLogLevel")
    )
    system_log_level: str | None = attrs.field(
        default=None, validator=_check_level("SystemLogLevel")
    )

    def __attrs_post_init__(self) -> None:
        if self.log_format == "Text":
            for name, value in (
                ("ApplicationLogLevel", self.application_log_level),
                ("SystemLogLevel", self.system_log_level),
            ):
                if value is not None:
                    raise InvalidParameterValueError(
                        name, value, "can be set only when LogFormat is JSON"
                    )

    @property
    def json(self) -> bool:
        """True for ``LogFormat: JSON``."""
        return self.log_format == "JSON"

    @property
    def application_level(self) -> int:
        """The Python logging level records must reach (0 for Text: the loggers decide)."""
        if not self.json:
            return 0
        return _LEVEL_NUMBERS[self.application_log_level or "INFO"]

    @property
    def system_level(self) -> int:
        """The level of the system log (INFO unless set)."""
        return _LEVEL_NUMBERS[self.system_log_level or "INFO"]


@attrs.frozen
class AttemptLog:
    """One attempt's log: the lines the function's log stream got, in order.

    Attributes:
        function: the function's name.
        request_id: the attempt's request id.
        lines: the log events, each ending with a newline (an ``[ERROR]`` event or a
            record with a traceback spans several lines).
        cold_start: True when the attempt started a new execution environment (the
            ``REPORT`` line has ``Init Duration``).
    """

    function: str
    request_id: str
    lines: tuple[str, ...]
    cold_start: bool = False

    @property
    def text(self) -> str:
        """The whole log as one string."""
        return "".join(self.lines)

    def tail(self, limit: int = TAIL_LIMIT) -> str:
        """``LogResult``: base64 of the last ``limit`` bytes of the log (4 KB by default)."""
        return base64.b64encode(self.text.encode("utf-8")[-limit:]).decode("ascii")


# -- routing: installed only while an attempt is captured ----------------------------------

_local = threading.local()
_install_lock = threading.Lock()
_active = 0
_saved: list[Any] = []


class _Routed:
    """``sys.stdout`` / ``sys.stderr`` while captures run: per-thread to the attempt's log."""

    def __init__(self, original: TextIO) -> None:
        self._original = original

    def write(self, text: str) -> int:
        capture = getattr(_local, "capture", None)
        if capture is None:
            return self._original.write(text)
        capture.write(text)
        return len(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        if getattr(_local, "capture", None) is None:
            self._original.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._original, name)


class _RoutedHandler(logging.Handler):
    """The runtime's root-logger handler: a record goes to the log of its thread's attempt."""

    def emit(self, record: logging.LogRecord) -> None:
        capture = getattr(_local, "capture", None)
        if capture is not None:
            capture.record(record)


_HANDLER: Final = _RoutedHandler(logging.NOTSET)


def _install(level: int) -> None:
    global _active  # noqa: PLW0603 - one routing for the process, counted by its users
    with _install_lock:
        root = logging.getLogger()
        if _active == 0:
            _saved[:] = [sys.stdout, sys.stderr, None]
            sys.stdout = _Routed(sys.stdout)
            sys.stderr = _Routed(sys.stderr)
            root.addHandler(_HANDLER)
        _active += 1
        # The runtime sets the root logger to ApplicationLogLevel (JSON); lowered only.
        if level and root.level > level:
            if _saved[2] is None:
                _saved[2] = root.level
            root.setLevel(level)


def _uninstall() -> None:
    global _active  # noqa: PLW0603
    with _install_lock:
        _active -= 1
        if _active:
            return
        root = logging.getLogger()
        root.removeHandler(_HANDLER)
        stdout, stderr, level = _saved
        # Put back only what is still ours: something else may have replaced it since.
        if isinstance(sys.stdout, _Routed):
            sys.stdout = stdout
        if isinstance(sys.stderr, _Routed):
            sys.stderr = stderr
        if level is not None:
            root.setLevel(level)
        _saved.clear()


def bound() -> Any:
    """The capture bound to this thread (None when nobody asked): for a thread the
    attempt's handler runs on to `bind` the same capture."""
    return getattr(_local, "capture", None)


def bind(capture: Any) -> None:
    """Route this thread's output to ``capture`` (from `bound`; None unbinds)."""
    _local.capture = capture


class _Capture:
    """The log of one running attempt (every method called with its lines in order)."""

    __slots__ = ("_lock", "clock", "config", "lines", "partial", "request_id")

    def __init__(self, request_id: str, clock: Clock, config: LoggingConfig) -> None:
        self.request_id = request_id
        self.clock = clock
        self.config = config
        self.lines: list[str] = []
        self.partial = ""
        self._lock = threading.Lock()  # a handler's own threads may log too

    def write(self, text: str) -> None:
        with self._lock:
            text = self.partial + text
            head, newline, rest = text.rpartition("\n")
            if newline:
                self.lines.extend(line + "\n" for line in head.split("\n"))
            self.partial = rest

    def flush_partial(self) -> None:
        with self._lock:
            if self.partial:
                self.lines.append(self.partial + "\n")
                self.partial = ""

    def record(self, record: logging.LogRecord) -> None:
        config = self.config
        if record.levelno < config.application_level:
            return
        stamp = iso_timestamp(self.clock.epoch())
        try:
            message = record.getMessage()
        except Exception as exc:  # a bad format string: logging would print a traceback
            message = f"{record.msg!r} (logging could not format it: {type(exc).__name__})"
        if config.json:
            line = _json_record(record, message, stamp, self.request_id)
        else:
            line = f"[{record.levelname}]\t{stamp}\t{self.request_id}\t{message}\n"
            if record.exc_info:
                line = line[:-1] + "\n" + logging.Formatter().formatException(record.exc_info)
                line += "\n"
        self.flush_partial()
        with self._lock:
            self.lines.append(line)


# LogRecord attributes the runtime's JSON formatter leaves out (RIC lambda_runtime_log_utils).
_RESERVED: Final = frozenset(
    {
        "name", "msg", "args", "levelname", "levelno", "pathname", "filename", "module",
        "exc_info", "exc_text", "stack_info", "lineno", "funcName", "created", "msecs",
        "relativeCreated", "thread", "threadName", "processName", "process",
        "aws_request_id", "_frame_type",
        "asctime",  # set on the record by another handler's formatter, in this process only
    }
)  # fmt: skip


def _json_record(record: logging.LogRecord, message: str, stamp: str, request_id: str) -> str:
    """A ``logging`` record in the JSON log format (RIC ``JsonFormatter``).

    The level is Python's name of the record's level rounded down to a multiple of ten
    (``WARNING``, ``CRITICAL``); ``extra=`` fields are added; ``None`` values are left out.
    """
    exc_info = record.exc_info
    out: dict[str, Any] = {
        "timestamp": stamp,
        "level": logging.getLevelName(min(50, max(0, record.levelno)) // 10 * 10),
        "message": message,
        "logger": record.name,
    }
    if exc_info and exc_info[0] is not None:
        out["stackTrace"] = traceback.format_tb(exc_info[2])
        out["errorType"] = exc_info[0].__name__
        out["errorMessage"] = str(exc_info[1])
    out["requestId"] = request_id
    if exc_info:
        out["location"] = f"{record.pathname}:{record.funcName}:{record.lineno}"
    for key, value in record.__dict__.items():
        if key not in _RESERVED and key not in out and value is not None:
            out[key] = value
    return json.dumps(out, default=str, ensure_ascii=False) + "\n"


# -- who asked: recorders watching functions ----------------------------------------------

WATCHED: dict[int, tuple[weakref.ref[Any], LogRecorder]] = {}
"""Recorders by ``id(function)``: empty (and so nearly free to test) when nobody watches."""

# Execution environments each function has warmed (the first attempt past them is cold).
_warm: weakref.WeakKeyDictionary[Any, int] = weakref.WeakKeyDictionary()
_warm_lock = threading.Lock()


def watching(function: Any) -> LogRecorder | None:
    """The `LogRecorder` watching ``function``, or None."""
    entry = WATCHED.get(id(function))
    if entry is None or entry[0]() is not function:
        return None
    return entry[1]


def _cold(function: Any, in_flight: int) -> bool:
    """True when this attempt needs an environment the function has not had yet."""
    with _warm_lock:
        warm = _warm.get(function, 0)
        if in_flight > warm:
            _warm[function] = in_flight
            return True
        return False


@attrs.define(repr=False, eq=False)
class LogRecorder:
    """Records the runtime's log of every attempt of the functions it watches.

    ``recorder.watch(function)`` makes every attempt of ``function`` (whatever model runs
    it: sync, Event and its real-clock worker, a mapping) leave an `AttemptLog` in
    `logs` (and call ``on_log`` with it).  ``LogType=Tail`` uses the same capture.

    Args:
        config: the function's `LoggingConfig` (default: Text).
        max_memory_used: ``Max Memory Used`` in MB, *modelled* (in-process, one attempt's
            memory cannot be measured): a number, capped at the function's memory size
            (default 40, about what a small Python function reports).
        init_duration: ``Init Duration`` of a cold start in seconds, *modelled* (default
            0.1).  An attempt is cold when it needs more execution environments than the
            function has run at once before (the first attempt, and every new high of
            concurrency).  Cold starts are reported, not added to the attempt's duration.
        keep: keep every `AttemptLog` in `logs` (default True).
        on_log: called with each `AttemptLog` as its attempt ends (any thread).
    """

    config: LoggingConfig = attrs.field(factory=LoggingConfig)
    max_memory_used: int = attrs.field(
        default=40, validator=in_range("max_memory_used", 1, 10240, integer=True)
    )
    init_duration: float = attrs.field(default=0.1, validator=in_range("init_duration", 0, 600))
    keep: bool = True
    on_log: Callable[[AttemptLog], object] | None = None
    _logs: list[AttemptLog] = attrs.field(factory=list, init=False)
    _lock: threading.Lock = attrs.field(factory=threading.Lock, init=False)

    def __repr__(self) -> str:
        return f"<LogRecorder {self.config.log_format} logs={len(self._logs)}>"

    @property
    def logs(self) -> list[AttemptLog]:
        """Every attempt's log so far, in the order the attempts ended."""
        with self._lock:
            return list(self._logs)

    def of(self, request_id: str) -> list[AttemptLog]:
        """The logs of the attempts with ``request_id`` (an event's retries share one)."""
        return [log for log in self.logs if log.request_id == request_id]

    def watch(self, function: Any) -> None:
        """Record every attempt of ``function`` from now on (replaces another recorder)."""
        key = id(function)
        WATCHED[key] = (weakref.ref(function, lambda _ref: WATCHED.pop(key, None)), self)

    def unwatch(self, function: Any) -> None:
        """Stop recording ``function``'s attempts."""
        if watching(function) is self:
            WATCHED.pop(id(function), None)

    def run(
        self, function: Any, request_id: str, clock: Clock, attempt: Callable[[], Any]
    ) -> tuple[Any, AttemptLog]:
        """Run ``attempt()`` (one `Function.run_attempt`) with its output captured.

        Returns the `AttemptResult` and its `AttemptLog` (also kept in `logs` and given
        to ``on_log``).  Output from threads other than the caller's (and the handler
        thread of a real-clock attempt) is not captured.
        """
        config = self.config
        capture = _Capture(request_id, clock, config)
        started = clock.epoch()
        cold = _cold(function, function.in_flight)
        previous = bound()
        _install(config.application_level)
        bind(capture)
        try:
            result = attempt()
        finally:
            bind(previous)
            _uninstall()
            capture.flush_partial()
        log = self._finish(function, capture, result, started, cold)
        if self.keep:
            with self._lock:
                self._logs.append(log)
        if self.on_log is not None:
            self.on_log(log)
        return result, log

    def _finish(
        self, function: Any, capture: _Capture, result: Any, started: float, cold: bool
    ) -> AttemptLog:
        config = self.config
        request_id = capture.request_id
        system = config.system_level <= _LEVEL_NUMBERS["INFO"]
        lines: list[str] = []
        if system:
            lines.append(self._start(function, request_id, started))
        lines.extend(capture.lines)
        if not result.ok:
            lines.extend(self._error_lines(result, capture, started + result.duration))
        if system:
            lines.extend(self._end(function, request_id, result, started, cold))
        return AttemptLog(function.name, request_id, tuple(lines), cold)

    def _start(self, function: Any, request_id: str, started: float) -> str:
        if self.config.json:
            record = {"requestId": request_id, "version": function.version}
            return _system_json(started, "platform.start", record)
        return f"START RequestId: {request_id} Version: {function.version}\n"

    def _error_lines(self, result: Any, capture: _Capture, ended: float) -> list[str]:
        """What the runtime logs for a function error (RIC ``log_error``), at ``ended``."""
        document = result.response()
        if not isinstance(document, dict):  # pragma: no cover - error payloads are objects
            document = {"errorMessage": str(document)}
        error_type = document.get("errorType") or ""
        if error_type in _PLATFORM_ERRORS:
            # The platform, not the runtime, reports timeouts and exits.
            stamp = iso_timestamp(ended)
            message = document.get("errorMessage", "")
            if error_type == "Sandbox.Timedout":
                return [f"{stamp} {capture.request_id} Task timed out after "
                        f"{message.rsplit('after ', 1)[-1]}\n"]  # fmt: skip
            return [f"{message}\n"]
        if self.config.json:
            # The warning is written as plain text, the error document as JSON whose
            # timestamp has whole seconds (RIC log_error, _DATETIME_FORMAT).
            stamp = iso_timestamp(ended, milliseconds=False)
            error = {"timestamp": stamp, "log_level": "ERROR", **document}
            return [UNHANDLED_WARNING + "\n", json.dumps(error, ensure_ascii=False) + "\n"]
        head = "[ERROR]"
        if error_type:
            head += " " + error_type
        message = document.get("errorMessage")
        if message:
            head += (":" if error_type else "") + " " + message
        lines = [head]
        stack = document.get("stackTrace")
        if stack is not None:
            lines.append("Traceback (most recent call last):")
            for element in stack:
                if element == "":
                    lines.append("")
                    continue
                for line in element.splitlines():
                    stripped = line.lstrip(" ")
                    lines.append(_NBSP * (len(line) - len(stripped)) + stripped)
        return [UNHANDLED_WARNING + "\n", "\n".join(lines) + "\n"]

    def _end(
        self, function: Any, request_id: str, result: Any, started: float, cold: bool
    ) -> list[str]:
        duration = result.duration
        memory = function.memory_size
        used = min(self.max_memory_used, memory)
        billed = billed_duration_ms(duration)
        if self.config.json:
            ended = started + duration
            metrics: dict[str, Any] = {
                "durationMs": round(duration * 1000, 3),
                "billedDurationMs": billed,
                "memorySizeMB": memory,
                "maxMemoryUsedMB": used,
            }
            if cold:
                metrics["initDurationMs"] = round(self.init_duration * 1000, 3)
            record = {
                "requestId": request_id,
                "metrics": metrics,
                "status": "success" if result.ok else _status(result),
            }
            return [_system_json(ended, "platform.report", record)]
        report = (
            f"REPORT RequestId: {request_id}\tDuration: {duration * 1000:.2f} ms\t"
            f"Billed Duration: {billed} ms\tMemory Size: {memory} MB\t"
            f"Max Memory Used: {used} MB"
        )
        if cold:
            report += f"\tInit Duration: {self.init_duration * 1000:.2f} ms"
        return [f"END RequestId: {request_id}\n", report + "\t\n"]


def _status(result: Any) -> str:
    """``platform.report``'s ``status``: ``timeout``, ``failure`` or ``error``."""
    if result.error_type == "Sandbox.Timedout":
        return "timeout"
    if result.error_type == "Runtime.ExitError":
        return "failure"
    return "error"


def _system_json(epoch: float, kind: str, record: dict[str, Any]) -> str:
    return json.dumps({"time": iso_timestamp(epoch), "type": kind, "record": record}) + "\n"
