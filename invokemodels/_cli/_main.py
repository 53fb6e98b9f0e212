"""The ``invokemodels`` command line.

``invokemodels invoke`` mirrors ``aws lambda invoke``: it prints the response
metadata (``{"StatusCode": 200, "ExecutedVersion": "$LATEST"}``, plus
``"FunctionError": "Unhandled"`` when the function failed) and writes the
response payload to ``OUTFILE`` (``-`` for standard output).  The function
runs in-process on a virtual clock.

``invokemodels generate-event SERVICE EVENT`` prints a sample event (see `_generate`).

``invokemodels demo`` runs every module listed in `DEMO_SECTIONS`; each has
``run(out)`` and prints what its invocation model did, with virtual times.

Bad input (an unknown handler, bad JSON, an out-of-range option, a missing
file) prints one line on standard error and exits with status 2.  Standard
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
import importlib
import inspect
import json
import os
import sys
from pathlib import Path
from typing import Any, NoReturn, TextIO

from invokemodels._cli import _generate
from invokemodels._cli._event import invoke_event, outcome_text
from invokemodels.core._function import Function, _refuse_constant
from invokemodels.core._scheduler import Scheduler
from invokemodels.core._validate import check_range
from invokemodels.exceptions import (
    HandlerImportError,
    InvalidParameterValueError,
    InvocationError,
    InvokeModelsError,
)
from invokemodels.sync._invoker import RequestResponseInvoker

__all__ = ["DEMO_SECTIONS", "main"]

DEMO_SECTIONS: tuple[str, ...] = (
    "invokemodels._cli._demo_sync",
    "invokemodels._cli._demo_event",
    "invokemodels._cli._demo_sqs",
    "invokemodels._cli._demo_streams",
)
"""Modules run by ``invokemodels demo``, in order; each defines ``run(out: TextIO) -> None``."""

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
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    invoke = commands.add_parser(
        "invoke",
        help="invoke a handler, like 'aws lambda invoke'",
        description="Invoke a handler in-process, like 'aws lambda invoke'.",
    )
    invoke.add_argument("--handler", required=True, metavar="MOD:FN", help="module:function")
    invoke.add_argument(
        "--function-name", metavar="NAME", help="FunctionName (default: the handler's name)"
    )
    invoke.add_argument(
        "--invocation-type",
        default="RequestResponse",
        choices=("RequestResponse", "Event", "DryRun"),
        help="InvocationType (default RequestResponse)",
    )
    payload = invoke.add_mutually_exclusive_group()
    payload.add_argument("--payload", metavar="JSON", help="the event as JSON text")
    payload.add_argument("--payload-file", metavar="F", help="a file holding the event JSON")
    invoke.add_argument("--timeout", type=float, default=3.0, metavar="S", help="1-900 (3)")
    invoke.add_argument("--memory", type=int, default=128, metavar="MB", help="128-10240 (128)")
    invoke.add_argument(
        "--duration",
        type=float,
        default=0.0,
        metavar="S",
        help="modelled run time of the attempt in virtual seconds (0)",
    )
    invoke.add_argument(
        "--log-type", default="None", choices=("None", "Tail"), help="LogType (None)"
    )
    invoke.add_argument("--qualifier", metavar="Q", help="a version or alias")
    invoke.add_argument(
        "--max-retry-attempts",
        type=int,
        default=None,
        metavar="N",
        help="Event only: MaximumRetryAttempts, 0-2 (2)",
    )
    invoke.add_argument(
        "--max-event-age",
        type=float,
        default=None,
        metavar="S",
        help="Event only: MaximumEventAgeInSeconds, 60-21600 (21600)",
    )
    invoke.add_argument("--seed", type=int, default=1, help="seeds request ids (1)")
    invoke.add_argument(
        "--report", metavar="FILE", help="write a JSON report of every attempt to FILE"
    )
    invoke.add_argument("outfile", metavar="OUTFILE", help="where the payload goes; - = stdout")

    demo = commands.add_parser(
        "demo",
        help="run built-in handlers through every invocation model",
        description="Run built-in handlers through every invocation model and print timelines.",
    )
    demo.add_argument("--seed", type=int, default=1, help="seeds every section (1)")
    _generate.add_parser(commands)
    return parser


def _read_payload(args: argparse.Namespace) -> str:
    """The event JSON text from ``--payload`` / ``--payload-file`` (``{}`` when neither)."""
    if args.payload_file is not None:
        try:
            text = Path(args.payload_file).read_text(encoding="utf-8")
        except OSError as exc:
            msg = f"--payload-file: cannot read {args.payload_file!r}: {exc.strerror or exc}"
            raise _UsageError(msg) from None
        except UnicodeDecodeError as exc:
            msg = f"--payload-file: {args.payload_file!r} is not UTF-8 text: {exc.reason}"
            raise _UsageError(msg) from None
        source = "--payload-file"
    elif args.payload is not None:
        text, source = args.payload, "--payload"
    else:
        return "{}"
    try:
        json.loads(text, parse_constant=_refuse_constant)
    except ValueError as exc:
        msg = f"{source} is not valid JSON: {exc}"
        raise _UsageError(msg) from None
    return text


def _handler_name(handler: str) -> str:
    name = handler.rsplit(":", 1)[-1].replace(".", "-")
    return name[:64] or "function"


def _build_function(args: argparse.Namespace) -> Function:
    function = Function(
        name=args.function_name or _handler_name(args.handler),
        handler=args.handler,
        timeout=args.timeout,
        memory_size=args.memory,
        duration=args.duration,
    )
    # Load now, so an unknown handler is a usage error rather than a function error.
    function.load_handler()
    return function


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


def _write_report(path: str | None, report: dict[str, Any]) -> None:
    if path is None:
        return
    try:
        Path(path).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        msg = f"--report: cannot write {path!r}: {exc.strerror or exc}"
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
    payload = _read_payload(args)
    function = _build_function(args)
    if args.invocation_type == "Event":
        return _invoke_event(function, payload, args, stdout, stderr)
    invoker = RequestResponseInvoker(
        function,
        scheduler=Scheduler(),
        seed=args.seed,
        invocation_type=args.invocation_type,
        qualifier=args.qualifier,
        log_type=args.log_type,
    )
    response = invoker.invoke(payload.encode("utf-8"))
    _write_payload(args.outfile, response.payload, stdout)
    stdout.write(json.dumps(response.to_dict()) + "\n")
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
        elif args.command == "generate-event":
            status = _generate.run(args, stdout, stderr)
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
