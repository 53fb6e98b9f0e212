"""What ``invokemodels invoke`` and ``invokemodels serve`` share: the function options
(``--handler`` or ``--template``, configuration, logging), ``--function-name`` parsing and
the log sink that writes each attempt's log as it ends.
"""

from __future__ import annotations

import argparse
import re
from typing import Any, Final, TextIO

from invokemodels.core._function import Function
from invokemodels.core._logs import LOG_FORMATS, LOG_LEVELS, AttemptLog, LoggingConfig
from invokemodels.exceptions import InvalidParameterValueError

from ._template import TemplateFunction, read_template

__all__ = [
    "LogSink",
    "add_function_options",
    "build_functions",
    "logging_config",
    "split_function_name",
]

_FUNCTION_NAME: Final = re.compile(
    r"^(?:(?:arn:aws[a-zA-Z-]*:lambda:(?P<region>[a-z0-9-]+):)?(?P<account>\d{12}):function:)?"
    r"(?P<name>[a-zA-Z0-9_-]{1,64})(?::(?P<qualifier>[a-zA-Z0-9$_-]{1,128}))?$"
)


def split_function_name(value: str) -> tuple[str, str | None, str | None]:
    """``--function-name``: a name, ``name:qualifier``, a partial or full ARN.

    Returns ``(name, qualifier, region)``; a value of another shape is an error naming
    the option.
    """
    match = _FUNCTION_NAME.match(value)
    if match is None:
        raise InvalidParameterValueError(
            "--function-name",
            value,
            "must be a function name, name:qualifier, 123456789012:function:name or a "
            "function ARN (arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER])",
        )
    return match["name"], match["qualifier"], match["region"]


def add_function_options(parser: argparse.ArgumentParser, *, invoke: bool) -> None:
    """The function's definition and configuration, the library's own options."""
    group = parser.add_argument_group("the function (invokemodels options)")
    group.add_argument(
        "--handler", metavar="MOD:FN", help="module:function or path/file.py:function"
    )
    group.add_argument(
        "--template",
        metavar="FILE",
        help="a SAM template (AWS::Serverless::Function resources; YAML needs the yaml extra)",
    )
    group.add_argument(
        "--timeout", type=float, default=None, metavar="S", help="Timeout, 1-900 (3)"
    )
    group.add_argument(
        "--memory", type=int, default=None, metavar="MB", help="MemorySize, 128-10240 (128)"
    )
    group.add_argument(
        "--reserved-concurrency",
        type=int,
        default=None,
        metavar="N",
        help="ReservedConcurrentExecutions (none)",
    )
    if invoke:
        group.add_argument(
            "--duration",
            type=float,
            default=0.0,
            metavar="S",
            help="modelled run time of the attempt in virtual seconds (0)",
        )
    group.add_argument(
        "--log-format", choices=LOG_FORMATS, default=None, help="LoggingConfig.LogFormat (Text)"
    )
    group.add_argument(
        "--application-log-level",
        choices=LOG_LEVELS,
        default=None,
        metavar="LEVEL",
        help="LoggingConfig.ApplicationLogLevel (JSON only)",
    )
    group.add_argument(
        "--system-log-level",
        choices=LOG_LEVELS,
        default=None,
        metavar="LEVEL",
        help="LoggingConfig.SystemLogLevel (JSON only)",
    )


def _handler_name(handler: str) -> str:
    name = re.sub(r"[^a-zA-Z0-9_-]", "-", handler.rsplit(":", 1)[-1])
    return name[:64] or "function"


def build_functions(
    args: argparse.Namespace, name: str | None = None, region: str | None = None
) -> list[TemplateFunction]:
    """The functions ``--handler`` or ``--template`` define, with the options applied.

    With a template and ``name``, only the function whose logical id or ``FunctionName``
    is ``name``.  Each handler is loaded now, so an unknown handler is a usage error.
    """
    if (args.handler is None) == (args.template is None):
        raise InvalidParameterValueError(
            "--handler", args.handler, "give exactly one of --handler MOD:FN and --template FILE"
        )
    overrides: dict[str, Any] = {}
    for option, key in (
        ("timeout", "timeout"),
        ("memory", "memory_size"),
        ("reserved_concurrency", "reserved_concurrency"),
    ):
        value = getattr(args, option)
        if value is not None:
            overrides[key] = value
    if getattr(args, "duration", 0.0):
        overrides["duration"] = args.duration
    if region is not None:
        overrides["region"] = region
    if args.handler is not None:
        function = Function(
            name=name or _handler_name(args.handler), handler=args.handler, **overrides
        )
        found = [TemplateFunction(function.name, function)]
    else:
        functions = list(read_template(args.template).values())
        if name is not None:
            functions = [tf for tf in functions if name in (tf.logical_id, tf.function.name)]
            if not functions:
                raise InvalidParameterValueError(
                    "--function-name",
                    name,
                    f"is not a function of {args.template} (its functions: "
                    f"{', '.join(tf.logical_id for tf in read_template(args.template).values())})",
                )
        found = [_override(tf, overrides) for tf in functions]
    for tf in found:
        tf.function.load_handler()
    return found


def _override(tf: TemplateFunction, overrides: dict[str, Any]) -> TemplateFunction:
    if not overrides:
        return tf
    old = tf.function
    function = Function(
        name=old.name,
        handler=old.handler,
        **{
            "timeout": old.timeout,
            "memory_size": old.memory_size,
            "reserved_concurrency": old.reserved_concurrency,
            **overrides,
        },
    )
    return TemplateFunction(tf.logical_id, function, tf.event_config, tf.logging_config, tf.events)


def logging_config(args: argparse.Namespace, tf: TemplateFunction) -> LoggingConfig:
    """``--log-format`` and the levels, over the template's ``LoggingConfig``."""
    base = tf.logging_config or LoggingConfig()
    log_format = args.log_format or base.log_format
    json_format = log_format == "JSON"
    return LoggingConfig(
        log_format=log_format,
        application_log_level=(args.application_log_level or base.application_log_level)
        if json_format
        else args.application_log_level,
        system_log_level=(args.system_log_level or base.system_log_level)
        if json_format
        else args.system_log_level,
    )


class LogSink:
    """Writes each attempt's log to a stream as the attempt ends (any thread)."""

    def __init__(self, stream: TextIO | None) -> None:
        self.stream = stream

    def __call__(self, log: AttemptLog) -> None:
        if self.stream is not None:
            self.stream.write(log.text)
            self.stream.flush()
