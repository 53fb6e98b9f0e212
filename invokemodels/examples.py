"""Built-in example handlers, to try the CLI and the demo without writing code.

Each is an ordinary Lambda handler, importable by string::

    invokemodels invoke --handler invokemodels.examples:hello --payload '{"name": "x"}' -

- `hello`: greets ``event["name"]`` (default ``"world"``).
- `echo`: returns the event unchanged.
- `fail`: raises ``ValueError`` (a function error: 200 with ``FunctionError: Unhandled``).
- `slow`: spends ``event["seconds"]`` (default 5) of virtual time, then answers.
- `context_info`: returns the context object's documented attributes.
- `unserializable`: returns a value JSON cannot encode (``Runtime.MarshalError``).
- `exits`: calls ``sys.exit(event.get("status", 1))`` (``Runtime.ExitError``).
"""

from __future__ import annotations

import sys
from typing import Any

from invokemodels.core._context import LambdaContext

__all__ = ["context_info", "echo", "exits", "fail", "hello", "slow", "unserializable"]


def hello(event: Any, context: LambdaContext) -> dict[str, str]:
    """Answer ``{"message": "Hello, <name>!"}`` for ``event["name"]`` (default ``"world"``)."""
    name = event.get("name", "world") if isinstance(event, dict) else "world"
    return {"message": f"Hello, {name}!"}


def echo(event: Any, context: LambdaContext) -> Any:
    """Return the event unchanged."""
    return event


def fail(event: Any, context: LambdaContext) -> Any:
    """Raise ``ValueError`` with ``event["message"]`` (default ``"something went wrong"``)."""
    message = event.get("message", "something went wrong") if isinstance(event, dict) else None
    raise ValueError(message or "something went wrong")


def slow(event: Any, context: LambdaContext) -> dict[str, float]:
    """Spend ``event["seconds"]`` (default 5) of the attempt's time, then report the time left."""
    seconds = event.get("seconds", 5) if isinstance(event, dict) else 5
    context.spend(float(seconds))
    return {"slept": float(seconds), "remaining_ms": context.get_remaining_time_in_millis()}


def context_info(event: Any, context: LambdaContext) -> dict[str, Any]:
    """Return the context's documented attributes, as a recorded Lambda echo shows them."""
    return {
        "function_name": context.function_name,
        "function_version": context.function_version,
        "invoked_function_arn": context.invoked_function_arn,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "aws_request_id": context.aws_request_id,
        "log_group_name": context.log_group_name,
        "log_stream_name": context.log_stream_name,
        "remaining_time_in_millis": context.get_remaining_time_in_millis(),
    }


def unserializable(event: Any, context: LambdaContext) -> Any:
    """Return a ``set``, which JSON cannot encode: a ``Runtime.MarshalError``."""
    return {1, 2, 3}


def exits(event: Any, context: LambdaContext) -> Any:
    """Call ``sys.exit(event.get("status", 1))``: the runtime exits (``Runtime.ExitError``)."""
    status = event.get("status", 1) if isinstance(event, dict) else 1
    sys.exit(status)
