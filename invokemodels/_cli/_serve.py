"""``invokemodels serve``: Lambda's Invoke API on 127.0.0.1 for any SDK (`InvokeServer`),
or, with ``--api rest|http|url``, an API Gateway REST API, an HTTP API or a function URL in
front of the functions, for any HTTP client (`ApiServer`).

Standard output gets one line, the endpoint's URL (for ``--endpoint-url`` /
``endpoint_url=``, and for scripts that start the server on ``--port 0``).  Each attempt's
log goes to standard error (or ``--log-file``) as it ends.  ``SIGINT`` (Ctrl-C) or
``SIGTERM`` stops the server cleanly: requests in progress finish, queued events are
cancelled with a recorded outcome (``--drain`` waits for them instead), a summary line
goes to standard error and ``--report FILE`` gets every event's outcome as JSON.
"""

from __future__ import annotations

import argparse
import json
import signal
import threading
from pathlib import Path
from types import FrameType
from typing import Any, Protocol, TextIO, TypeVar

from invokemodels.aws._http import FunctionUrl, HttpApi, RestApi
from invokemodels.core._clock import SystemClock
from invokemodels.core._function import Function
from invokemodels.core._logs import LogRecorder
from invokemodels.core._scheduler import Scheduler
from invokemodels.core._validate import check_range
from invokemodels.event._policy import EventInvokeConfig
from invokemodels.exceptions import InvalidParameterValueError
from invokemodels.serve._api import ApiServer
from invokemodels.serve._server import InvokeServer

from ._functions import (
    LogSink,
    add_function_options,
    build_functions,
    logging_config,
    split_function_name,
)
from ._template import TemplateFunction

__all__ = ["add_parser", "run"]


def add_parser(commands: Any) -> None:
    """Register ``invokemodels serve``."""
    serve = commands.add_parser(
        "serve",
        help="serve Lambda's Invoke API on 127.0.0.1 for boto3 and the AWS CLI",
        description="Serve Lambda's Invoke REST API (POST /2015-03-31/functions/NAME/"
        "invocations) for the functions given, running them in-process on the real clock.",
    )
    server = serve.add_argument_group("the endpoint")
    server.add_argument("--host", default="127.0.0.1", help="address to bind (127.0.0.1)")
    server.add_argument(
        "--port", type=int, default=3001, help="TCP port (3001, as sam local start-lambda; 0: any)"
    )
    server.add_argument(
        "--function-name", metavar="NAME", help="FunctionName for --handler (the handler's name)"
    )
    add_function_options(serve, invoke=False)
    event = serve.add_argument_group("the Event model")
    event.add_argument(
        "--time-scale",
        type=float,
        default=1.0,
        metavar="X",
        help="real seconds per model second of the Event model (1.0; 0.01 = 100x faster)",
    )
    event.add_argument("--max-retry-attempts", type=int, default=None, metavar="N", help="0-2 (2)")
    event.add_argument(
        "--max-event-age", type=float, default=None, metavar="S", help="60-21600 (21600)"
    )
    event.add_argument(
        "--max-workers", type=int, default=4, metavar="N", help="Event attempts at once (4)"
    )
    event.add_argument(
        "--drain", action="store_true", help="on shutdown, wait for queued events (cancel them)"
    )
    api = serve.add_argument_group("an HTTP front door (instead of the Invoke API)")
    api.add_argument(
        "--api",
        choices=("rest", "http", "url"),
        help="serve the functions behind a REST API, an HTTP API or a function URL",
    )
    api.add_argument(
        "--route",
        action="append",
        default=[],
        metavar="KEY[=NAME]",
        help="a route key ('GET /orders/{id}', 'ANY /{proxy+}', '$default'), to the function "
        "NAME (the only one by default); repeatable",
    )
    api.add_argument("--stage", help="the stage (REST API: prod; HTTP API: $default)")
    api.add_argument("--payload-format-version", choices=("1.0", "2.0"), help="an HTTP API's (2.0)")
    api.add_argument(
        "--integration-timeout",
        type=float,
        metavar="S",
        help="seconds API Gateway waits (REST API 29, HTTP API 30)",
    )
    output = serve.add_argument_group("output")
    output.add_argument("--seed", type=int, default=None, help="seeds request ids (unseeded)")
    output.add_argument(
        "--log-file", metavar="FILE", default="-", help="the functions' logs (- : standard error)"
    )
    output.add_argument("--quiet", action="store_true", help="no logs on standard error")
    output.add_argument(
        "--report", metavar="FILE", help="at shutdown, write every event's outcome to FILE"
    )


def _event_config(args: argparse.Namespace, base: EventInvokeConfig | None) -> EventInvokeConfig:
    config = base or EventInvokeConfig()
    changes: dict[str, Any] = {}
    if args.max_retry_attempts is not None:
        check_range("--max-retry-attempts", args.max_retry_attempts, 0, 2, integer=True)
        changes["maximum_retry_attempts"] = args.max_retry_attempts
    if args.max_event_age is not None:
        check_range("--max-event-age", args.max_event_age, 60, 21600)
        changes["maximum_event_age"] = args.max_event_age
    if not changes:
        return config
    return EventInvokeConfig(
        maximum_retry_attempts=changes.get("maximum_retry_attempts", config.maximum_retry_attempts),
        maximum_event_age=changes.get("maximum_event_age", config.maximum_event_age),
        on_success=config.on_success,
        on_failure=config.on_failure,
    )


def run(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    """Serve until ``SIGINT`` or ``SIGTERM``; returns the exit status."""
    name = None
    if args.function_name is not None:
        name, _qualifier, _region = split_function_name(args.function_name)
    check_range("--port", args.port, 0, 65535, integer=True)
    found = build_functions(args, name if args.handler is not None else None)
    if args.log_file == "-":
        logs: TextIO | None = None if args.quiet else stderr
    else:
        try:
            logs = open(args.log_file, "a", encoding="utf-8")  # noqa: SIM115 - closed below
        except OSError as exc:
            raise InvalidParameterValueError(
                "--log-file", args.log_file, f"cannot write: {exc.strerror or exc}"
            ) from None
    sink = LogSink(logs)
    if args.api is not None:
        return _serve_api(args, found, sink, logs, stdout, stderr)
    server = InvokeServer(
        [tf.function for tf in found],
        host=args.host,
        port=args.port,
        time_scale=args.time_scale,
        event_config={tf.function.name: _event_config(args, tf.event_config) for tf in found},
        max_workers=args.max_workers,
        seed=args.seed,
        drain=args.drain,
    )
    cancelled = _run_until_stopped(
        server, args, found, sink, logs, stdout, stderr,
        f"serves {', '.join(tf.function.name for tf in found)}",
    )  # fmt: skip
    outcomes = {tf.function.name: server.outcomes(tf.function.name) for tf in found}
    total = sum(len(items) for items in outcomes.values())
    stderr.write(
        f"invokemodels serve: stopped; {total} event outcome(s) recorded, "
        f"{len(cancelled)} cancelled\n"
    )
    if args.report is not None:
        report = {
            name: [
                {
                    "request_id": outcome.request_id,
                    "condition": outcome.condition,
                    "kind": outcome.kind.value,
                    "approximate_invoke_count": outcome.approximate_invoke_count,
                }
                for outcome in items
            ]
            for name, items in outcomes.items()
        }
        try:
            Path(args.report).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        except OSError as exc:
            raise InvalidParameterValueError(
                "--report", args.report, f"cannot write: {exc.strerror or exc}"
            ) from None
    return 0


def _api_service(
    args: argparse.Namespace, functions: list[Function]
) -> RestApi | HttpApi | FunctionUrl:
    """The service ``--api`` and its options describe, on the real clock."""
    by_name = {function.name: function for function in functions}
    only = functions[0] if len(functions) == 1 else None
    scheduler = Scheduler(clock=SystemClock())
    if args.api == "url":
        for option in ("route", "stage", "payload_format_version", "integration_timeout"):
            if getattr(args, option):
                raise InvalidParameterValueError(
                    f"--{option.replace('_', '-')}", getattr(args, option),
                    "does not apply to a function URL (--api url)",
                )  # fmt: skip
        if only is None:
            raise InvalidParameterValueError(
                "--api", "url", "a function URL serves one function: name it with --function-name"
            )
        return FunctionUrl(only, scheduler=scheduler, seed=args.seed)
    routes: dict[str, Function] = {}
    for value in args.route:
        key, sep, name = value.rpartition("=")
        if not sep or name not in by_name:
            key, name = value, ""
        function = by_name[name] if name else only
        if function is None:
            raise InvalidParameterValueError(
                "--route", value, f"must name its function: KEY=NAME, NAME one of {sorted(by_name)}"
            )
        routes[key] = function
    if not routes and only is None:
        raise InvalidParameterValueError(
            "--route", None, "give routes (KEY=NAME) for a template of several functions"
        )
    options: dict[str, Any] = {"scheduler": scheduler, "seed": args.seed}
    if routes:
        options["routes"] = routes
    if args.stage is not None:
        options["stage"] = args.stage
    if args.integration_timeout is not None:
        options["integration_timeout"] = args.integration_timeout
    if args.api == "rest":
        if args.payload_format_version not in (None, "1.0"):
            raise InvalidParameterValueError(
                "--payload-format-version", args.payload_format_version, "a REST API's is 1.0"
            )
        return RestApi(only, **options)
    if args.payload_format_version is not None:
        options["payload_format_version"] = args.payload_format_version
    return HttpApi(only, **options)


def _serve_api(
    args: argparse.Namespace,
    found: list[TemplateFunction],
    sink: LogSink,
    logs: TextIO | None,
    stdout: TextIO,
    stderr: TextIO,
) -> int:
    """``serve --api``: the service on ``--host:--port`` until ``SIGINT`` or ``SIGTERM``."""
    functions = [tf.function for tf in found]
    server = ApiServer(_api_service(args, functions), host=args.host, port=args.port)
    kind = {"rest": "a REST API", "http": "an HTTP API", "url": "a function URL"}[args.api]
    _run_until_stopped(
        server, args, found, sink, logs, stdout, stderr,
        f"is {kind} in front of {', '.join(f.name for f in functions)}",
    )  # fmt: skip
    stderr.write(f"invokemodels serve: stopped; {server.service.requests} request(s) served\n")
    return 0


T_co = TypeVar("T_co", covariant=True)


class _Server(Protocol[T_co]):
    """What `_run_until_stopped` runs: `InvokeServer` or `ApiServer`."""

    @property
    def url(self) -> str: ...

    def start(self) -> object: ...

    def close(self) -> T_co: ...


def _run_until_stopped(
    server: _Server[T_co],
    args: argparse.Namespace,
    found: list[TemplateFunction],
    sink: LogSink,
    logs: TextIO | None,
    stdout: TextIO,
    stderr: TextIO,
    what: str,
) -> T_co:
    """Start ``server`` with the functions' logs going to ``sink``, print its URL, wait for
    ``SIGINT`` or ``SIGTERM``, then close it (and ``logs``); what ``close`` returned."""
    recorders = []
    for tf in found:
        recorder = LogRecorder(config=logging_config(args, tf), keep=False, on_log=sink)
        recorder.watch(tf.function)
        recorders.append((recorder, tf.function))
    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        try:
            server.start()
        except OSError as exc:
            raise InvalidParameterValueError(
                "--port", args.port, f"cannot listen on {args.host}: {exc.strerror or exc}"
            ) from None
        stdout.write(server.url + "\n")
        stdout.flush()
        stderr.write(f"invokemodels serve: {server.url} {what}; Ctrl-C or SIGTERM stops it\n")
        while not stop.wait(0.2):
            pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        closed = server.close()
        for recorder, function in recorders:
            recorder.unwatch(function)
        if logs is not None and logs is not stderr:
            logs.close()
    return closed
