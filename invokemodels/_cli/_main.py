"""The ``invokemodels`` command line.

``invokemodels invoke`` takes what ``aws lambda invoke`` takes and prints what it prints:
the response metadata (``{"StatusCode": 200, "ExecutedVersion": "$LATEST"}``, plus
``"FunctionError": "Unhandled"`` when the function failed), JSON indented by four, on
standard output, and the response payload in ``OUTFILE``.  Standard output always holds one
JSON document: with ``OUTFILE`` ``-`` it is the payload and the metadata goes to standard
error (an ``Event`` or ``DryRun`` has no payload, so its metadata stays).  The function's log
and the Event timeline go to standard error once the call is made (or to ``--log-file`` /
``--timeline-file``).  The function runs in-process on a virtual clock.  ``invokemodels
serve`` (`invokemodels._cli._serve`) serves the Invoke API on 127.0.0.1.

``invokemodels generate-event SERVICE EVENT`` prints a sample event (see `_generate`).

``invokemodels simulate SCENARIO`` runs a scenario file on a virtual clock (see
`_simulate`).

``invokemodels demo`` runs every module listed in `DEMO_SECTIONS`; each has
``run(out)`` and prints what its invocation model did, with virtual times.

Bad input (an unknown handler, bad JSON, an out-of-range option, a missing
file) prints one line on standard error (and nothing else: the log is held back until the call
succeeded) and exits with status 2.  Standard
output that is closed or cannot be written (``>&-``, ``/dev/full``) is one
line on standard error and exit status 1 (a reader that went away, a broken
pipe, is exit status 1 without a message); an interrupt (Ctrl-C) outside the
handler is one line and exit status 130.  A handler module that raises, calls
``sys.exit`` or is interrupted while it is imported is bad input, reported as
the runtime's init error (``Runtime.ExitError: Runtime exited with error: exit
status 7``).
"""

from __future__ import annotations

import argparse
import base64
import binascii
import importlib
import inspect
import io
import json
import os
import sys
from pathlib import Path
from typing import Any, NoReturn, TextIO

from invokemodels import __version__
from invokemodels._cli import _consume, _generate, _serve, _simulate
from invokemodels._cli._event import invoke_event, outcome_text
from invokemodels._cli._functions import (
    LogSink,
    add_function_options,
    build_functions,
    logging_config,
    split_function_name,
)
from invokemodels.core._function import Function, _refuse_constant
from invokemodels.core._logs import LogRecorder
from invokemodels.core._scheduler import Scheduler
from invokemodels.core._validate import check_range
from invokemodels.exceptions import (
    HandlerImportError,
    InvalidParameterValueError,
    InvocationError,
    InvokeModelsError,
    ScenarioError,
)
from invokemodels.sync._invoker import RequestResponseInvoker

__all__ = ["DEMO_SECTIONS", "main"]

DEMO_SECTIONS: tuple[str, ...] = (
    "invokemodels._cli._demo_sync",
    "invokemodels._cli._demo_event",
    "invokemodels._cli._demo_sqs",
    "invokemodels._cli._demo_streams",
    "invokemodels._cli._demo_triggers",
)
"""Modules run by ``invokemodels demo``, in order; each defines ``run(out: TextIO) -> None``."""

_BINARY_FORMATS = ("raw-in-base64-out", "base64")
_EXIT_USAGE = 2
_EXIT_OUTPUT = 1
_EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports a command stopped by Ctrl-C


class _UsageError(Exception):
    """Bad command-line input: reported as one line on stderr, exit status 2."""


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser that raises instead of exiting, so errors stay one line."""

    def error(self, message: str) -> NoReturn:
        raise _UsageError(message)


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="invokemodels",
        description="AWS Lambda's invocation models, in-process, on a virtual clock.",
    )
    parser.add_argument("--version", action="version", version=f"invokemodels {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    invoke = commands.add_parser(
        "invoke",
        help="invoke a handler, like 'aws lambda invoke'",
        description="Invoke a handler in-process, like 'aws lambda invoke'.",
    )
    aws = invoke.add_argument_group("aws lambda invoke options")
    aws.add_argument(
        "--function-name",
        metavar="NAME",
        help="FunctionName: a name, name:qualifier or an ARN (default: the handler's name)",
    )
    aws.add_argument(
        "--invocation-type",
        default="RequestResponse",
        choices=("RequestResponse", "Event", "DryRun"),
        help="InvocationType (default RequestResponse)",
    )
    aws.add_argument("--log-type", default="None", choices=("None", "Tail"), help="LogType (None)")
    aws.add_argument(
        "--client-context",
        metavar="B64",
        help="ClientContext: base64 of a JSON object, at most 3583 bytes",
    )
    aws.add_argument(
        "--payload",
        metavar="P",
        help="the event: JSON text (base64 with --cli-binary-format base64), file://F or fileb://F",
    )
    aws.add_argument(
        "--cli-binary-format",
        choices=_BINARY_FORMATS,
        default="raw-in-base64-out",
        help="how an inline or file:// payload is read: raw-in-base64-out (JSON text, the "
        "default here) or base64 (the AWS CLI v2 default)",
    )
    aws.add_argument("--qualifier", metavar="Q", help="Qualifier: a version or an alias")
    aws.add_argument("--region", metavar="R", help="the Region in ARNs (us-east-1)")
    aws.add_argument(
        "--output", choices=("json",), default="json", help="only json (the AWS CLI default)"
    )
    aws.add_argument("--no-cli-pager", action="store_true", help="accepted; there is no pager")
    aws.add_argument("outfile", metavar="OUTFILE", help="where the payload goes; - = stdout")
    add_function_options(invoke, invoke=True)
    event = invoke.add_argument_group("the Event model (invokemodels options)")
    event.add_argument(
        "--max-retry-attempts",
        type=int,
        default=None,
        metavar="N",
        help="Event only: MaximumRetryAttempts, 0-2 (2)",
    )
    event.add_argument(
        "--max-event-age",
        type=float,
        default=None,
        metavar="S",
        help="Event only: MaximumEventAgeInSeconds, 60-21600 (21600)",
    )
    output = invoke.add_argument_group("input and output (invokemodels options)")
    output.add_argument(
        "--payload-file", metavar="F", help="a file holding the event JSON (like file://F)"
    )
    output.add_argument("--seed", type=int, default=1, help="seeds request ids (1)")
    output.add_argument(
        "--report", metavar="FILE", help="write a JSON report of every attempt to FILE"
    )
    output.add_argument(
        "--log-file",
        metavar="FILE",
        default="-",
        help="where the function's log goes, every attempt's (default - : standard error)",
    )
    output.add_argument(
        "--timeline-file",
        metavar="FILE",
        default="-",
        help="where the Event timeline goes (default - : standard error)",
    )
    output.add_argument("--quiet", action="store_true", help="no log or timeline on standard error")

    demo = commands.add_parser(
        "demo",
        help="run built-in handlers through every invocation model",
        description="Run built-in handlers through every invocation model and print timelines.",
    )
    demo.add_argument("--seed", type=int, default=1, help="seeds every section (1)")
    _serve.add_parser(commands)
    _consume.add_parser(commands)
    _generate.add_parser(commands)
    _simulate.add_parser(commands)
    return parser


def _read_file(option: str, path: str, *, binary: bool) -> str:
    """A payload file's text (``binary``: its bytes, which must still be UTF-8 JSON)."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        msg = f"{option}: cannot read {path!r}: {exc.strerror or exc}"
        raise _UsageError(msg) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        kind = "bytes" if binary else "text"
        msg = f"{option}: {path!r} is not UTF-8 {kind}: {exc.reason}"
        raise _UsageError(msg) from None


def _read_payload(args: argparse.Namespace) -> str:
    """The event JSON text from ``--payload`` / ``--payload-file`` (``{}`` when neither).

    ``--payload`` is read as the AWS CLI reads a blob: ``fileb://F`` is the file's bytes;
    ``file://F`` and inline text are the JSON itself with ``raw-in-base64-out``, or base64
    of it with ``--cli-binary-format base64``.
    """
    if args.payload is not None and args.payload_file is not None:
        msg = "argument --payload-file: not allowed with argument --payload"
        raise _UsageError(msg)
    if args.payload_file is not None:
        text = _read_file("--payload-file", args.payload_file, binary=False)
        source = "--payload-file"
    elif args.payload is not None:
        value, source = args.payload, "--payload"
        if value.startswith("fileb://"):
            text = _read_file("--payload", value[len("fileb://") :], binary=True)
        else:
            if value.startswith("file://"):
                value = _read_file("--payload", value[len("file://") :], binary=False)
            if args.cli_binary_format == "base64":
                try:
                    raw = base64.b64decode(value.strip(), validate=True)
                    text = raw.decode("utf-8")
                except (binascii.Error, ValueError):
                    shown = value if len(value) <= 40 else value[:40] + "..."
                    msg = (
                        f"--payload: Invalid base64: {shown!r} (with --cli-binary-format base64 "
                        "a payload is base64; use raw-in-base64-out for JSON text)"
                    )
                    raise _UsageError(msg) from None
            else:
                text = value
    else:
        return "{}"
    try:
        json.loads(text, parse_constant=_refuse_constant)
    except ValueError as exc:
        msg = f"{source} is not valid JSON: {exc}"
        raise _UsageError(msg) from None
    return text


def _write_payload(outfile: str, payload: bytes, stdout: TextIO) -> None:
    if outfile == "-":
        if payload:
            stdout.write(payload.decode("utf-8") + "\n")
        return
    try:
        Path(outfile).write_bytes(payload)
    except OSError as exc:
        msg = f"OUTFILE: cannot write {outfile!r}: {exc.strerror or exc}"
        raise _UsageError(msg) from None


def write_metadata(metadata: dict[str, Any], stream: TextIO) -> None:
    """The response metadata as the AWS CLI prints it (JSON, indented by four)."""
    stream.write(json.dumps(metadata, indent=4) + "\n")


def _write_report(path: str | None, report: dict[str, Any]) -> None:
    if path is None:
        return
    try:
        Path(path).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        msg = f"--report: cannot write {path!r}: {exc.strerror or exc}"
        raise _UsageError(msg) from None


def _open(option: str, path: str, chatter: TextIO | None) -> TextIO | None:
    """``-`` is ``chatter`` (standard error, later; None with ``--quiet``); else a new file."""
    if path == "-":
        return chatter
    try:
        return open(path, "w", encoding="utf-8")
    except OSError as exc:
        msg = f"{option}: cannot write {path!r}: {exc.strerror or exc}"
        raise _UsageError(msg) from None


def _invoke_event(
    function: Function, payload: str, args: argparse.Namespace, stdout: TextIO, stderr: TextIO
) -> int:
    """Run ``--invocation-type Event`` (the asynchronous model's hook)."""
    return invoke_event(function, payload, args, stdout, stderr)


def _invoke(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    if args.max_retry_attempts is not None:
        check_range("--max-retry-attempts", args.max_retry_attempts, 0, 2, integer=True)
    if args.max_event_age is not None:
        check_range("--max-event-age", args.max_event_age, 60, 21600)
    name = qualifier = region = None
    if args.function_name is not None:
        name, qualifier, region = split_function_name(args.function_name)
    if args.qualifier is not None:
        if qualifier is not None and qualifier != args.qualifier:
            raise InvalidParameterValueError(
                "--qualifier",
                args.qualifier,
                "The derived qualifier from the function name does not match the specified "
                f"qualifier ({qualifier!r}).",
            )
        qualifier = args.qualifier
    args.qualifier = qualifier
    payload = _read_payload(args)
    (found,) = build_functions(args, name, args.region or region)[:1]
    function = found.function
    args.event_config = found.event_config
    # What goes to standard error is held until the call succeeded: bad input stays one line.
    chatter = io.StringIO()
    logs = _open("--log-file", args.log_file, None if args.quiet else chatter)
    try:
        timeline = _open("--timeline-file", args.timeline_file, None if args.quiet else chatter)
    except _UsageError:
        if logs is not None and logs is not chatter:
            logs.close()
        raise
    recorder = LogRecorder(config=logging_config(args, found), on_log=LogSink(logs))
    recorder.watch(function)
    try:
        if args.invocation_type == "Event":
            status = _invoke_event(function, payload, args, stdout, timeline or io.StringIO())
        else:
            status = _invoke_sync(function, payload, args, stdout, chatter)
    finally:
        recorder.unwatch(function)
        for stream in (logs, timeline):
            if stream is not None and stream is not chatter:
                stream.close()
    stderr.write(chatter.getvalue())
    return status


def _invoke_sync(
    function: Function, payload: str, args: argparse.Namespace, stdout: TextIO, stderr: TextIO
) -> int:
    """``RequestResponse`` / ``DryRun``; ``stderr`` gets the metadata when OUTFILE is ``-``."""
    invoker = RequestResponseInvoker(
        function,
        scheduler=Scheduler(),
        seed=args.seed,
        invocation_type=args.invocation_type,
        qualifier=args.qualifier,
        log_type=args.log_type,
        client_context=args.client_context,
    )
    response = invoker.invoke(payload.encode("utf-8"))
    _write_payload(args.outfile, response.payload, stdout)
    # One JSON document on standard output: the payload when OUTFILE is -, else the metadata.
    write_metadata(
        response.to_dict(), stderr if args.outfile == "-" and response.payload else stdout
    )
    _write_report(
        args.report,
        {
            "function": function.arn,
            "invocation_type": args.invocation_type,
            "attempts": [
                {
                    "request_id": span.request_id,
                    "started_at": span.started_at,
                    "ended_at": span.ended_at,
                    "status_code": span.status_code,
                    "outcome": outcome_text(span),
                }
                for span in invoker.history
            ],
        },
    )
    return 0


def _demo(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    failed = []
    for index, name in enumerate(DEMO_SECTIONS):
        if index:
            stdout.write("\n")
        if not _run_section(name, args.seed, stdout, stderr):
            failed.append(name)
    return 1 if failed else 0


def _run_section(name: str, seed: int, stdout: TextIO, stderr: TextIO) -> bool:
    """Run one demo section; a failing section is reported on stderr, the others still run."""
    try:
        run = importlib.import_module(name).run
        if "seed" in inspect.signature(run).parameters:
            run(stdout, seed=seed)
        else:
            run(stdout)
    except OSError:
        raise  # sections only write to ``out``: standard output failed, not the section
    except Exception as exc:
        stderr.write(f"invokemodels: demo section {name} failed: {type(exc).__name__}: {exc}\n")
        return False
    return True


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``invokemodels`` command; returns the exit status."""
    stdout, stderr = sys.stdout, sys.stderr
    if stdout is None:  # started with standard output closed (``>&-``)
        stderr.write("invokemodels: error: standard output is closed\n")
        return _EXIT_OUTPUT
    parser = _build_parser()
    try:
        args = parser.parse_args(sys.argv[1:] if argv is None else argv)
        if args.command == "invoke":
            status = _invoke(args, stdout, stderr)
        elif args.command == "demo":
            status = _demo(args, stdout, stderr)
        elif args.command == "serve":
            status = _serve.run(args, stdout, stderr)
        elif args.command == "consume":
            status = _consume.run(args, stdout, stderr)
        elif args.command == "generate-event":
            status = _generate.run(args, stdout, stderr)
        elif args.command == "simulate":
            status = _simulate.run_command(args, stdout, stderr)
        else:
            parser.print_help(stdout)
            status = _EXIT_USAGE
        stdout.flush()  # here, not at exit, so a full disk is reported like any error
    except _UsageError as exc:
        stderr.write(f"invokemodels: error: {exc}\n")
    except HandlerImportError as exc:
        stderr.write(f"invokemodels: error: --handler: {exc.error_type}: {exc.message}\n")
    except InvalidParameterValueError as exc:
        stderr.write(f"invokemodels: error: {exc}\n")
    except ScenarioError as exc:
        stderr.write(f"invokemodels: error: {exc}\n")
    except InvocationError as exc:
        stderr.write(
            f"invokemodels: error: An error occurred ({exc.code}) when calling the Invoke "
            f"operation: {exc.message}\n"
        )
    except InvokeModelsError as exc:  # pragma: no cover - every subclass is handled above
        stderr.write(f"invokemodels: error: {exc}\n")
    except BrokenPipeError:
        # The reader went away (``invokemodels demo | head``): stop quietly.
        _silence(stdout)
        return _EXIT_OUTPUT
    except OSError as exc:
        # Every file the CLI opens reports its own errors; this one is standard output.
        stderr.write(f"invokemodels: error: cannot write standard output: {exc.strerror or exc}\n")
        _silence(stdout)
        return _EXIT_OUTPUT
    except KeyboardInterrupt:
        stderr.write("invokemodels: interrupted\n")
        return _EXIT_INTERRUPTED
    else:
        return status
    return _EXIT_USAGE


def _silence(stream: TextIO) -> None:
    """Point ``stream``'s file descriptor at /dev/null, so the exit-time flush cannot fail."""
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)
