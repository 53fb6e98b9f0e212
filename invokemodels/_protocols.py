"""The small public protocols of the core, and the response value an invoke returns.

- `Invoker`: invoke a function with a payload, get an `InvokeResponse`.
- `ServiceQueue`: the queue that holds asynchronous events between acceptance and attempts.
- `RetryPolicy` lives in `invokemodels._retry`; `Poller` in `invokemodels._polling`.

Reference implementations do not inherit from these; conformance is checked
statically (``tests/typing/``).
"""

from __future__ import annotations

import json
from typing import Any, Protocol, TypeVar

import attrs

__all__ = ["InvokeResponse", "Invoker", "ServiceQueue"]

T = TypeVar("T")


@attrs.frozen
class InvokeResponse:
    """What the Invoke API returns (``botocore``'s ``InvocationResponse``).

    Attributes:
        status_code: 200 (``RequestResponse``), 202 (``Event``) or 204 (``DryRun``).
            200 even when the function failed.
        payload: the response body bytes: the return value as JSON, the
            function's error document, or ``b""`` (``Event``, ``DryRun``).
        function_error: ``"Unhandled"`` when the function failed, else None.
        executed_version: the version that ran (``"$LATEST"`` or digits), None when nothing ran.
        request_id: the invocation's request id (``x-amzn-RequestId``).
        log_result: base64 of the last 4 KB of the log (``LogType=Tail``), if captured.
    """

    status_code: int
    payload: bytes = b""
    function_error: str | None = None
    executed_version: str | None = None
    request_id: str = ""
    log_result: str | None = None

    def json(self) -> Any:
        """The payload parsed from JSON (None for an empty payload)."""
        return json.loads(self.payload) if self.payload else None

    def to_dict(self) -> dict[str, Any]:
        """The response keyed like boto3's ``invoke()`` result and the CLI's output."""
        out: dict[str, Any] = {"StatusCode": self.status_code}
        if self.function_error is not None:
            out["FunctionError"] = self.function_error
        if self.log_result is not None:
            out["LogResult"] = self.log_result
        if self.executed_version is not None:
            out["ExecutedVersion"] = self.executed_version
        return out


class Invoker(Protocol):
    """**Protocol**: invokes a function with a payload, as the Invoke API does.

    A payload is any JSON value; ``bytes`` are taken as a JSON document.
    Refusals (400, 413, 429, ...) raise `invokemodels.exceptions.InvocationError`.
    """

    def invoke(self, payload: Any) -> InvokeResponse: ...


class ServiceQueue(Protocol[T]):
    """**Protocol**: the queue where asynchronous events wait between attempts.

    Items become ready at a clock time (``ready_at``); `take` hands out the
    earliest ready item (ties in insertion order) or None.
    """

    def put(self, item: T, ready_at: float) -> None: ...

    def take(self, now: float) -> T | None: ...

    def next_ready_at(self) -> float | None: ...
