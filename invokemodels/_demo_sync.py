"""``invokemodels demo``: the synchronous section (``RequestResponse``, ``DryRun``)."""

from __future__ import annotations

from typing import TextIO

from . import examples
from ._function import Function
from ._request_response import RequestResponseInvoker
from ._scheduler import Scheduler
from .exceptions import TooManyRequestsError

__all__ = ["run"]


def _show(out: TextIO, at: float, text: str) -> None:
    out.write(f"  t={at:>7.2f}s  {text}\n")


def run(out: TextIO, *, seed: int = 1) -> None:
    """Print what the synchronous model does with a success, a failure, a timeout, a throttle."""
    out.write("== Synchronous (RequestResponse): the caller waits; Lambda never retries\n")

    sched = Scheduler()
    hello = Function(name="hello", handler=examples.hello, duration=0.2)
    invoker = RequestResponseInvoker(hello, scheduler=sched, seed=seed)
    response = invoker.invoke({"name": "newcomer"})
    _show(out, sched.now, f"hello -> {response.to_dict()} payload {response.payload.decode()}")

    failing = Function(name="fail", handler=examples.fail, duration=0.1)
    response = RequestResponseInvoker(failing, scheduler=sched, seed=seed).invoke(
        {"message": "bad order id"}
    )
    document = response.json()
    _show(
        out,
        sched.now,
        f"fail  -> StatusCode {response.status_code}, FunctionError {response.function_error}: "
        f"{document['errorType']}: {document['errorMessage']}",
    )

    slow = Function(name="slow", handler=examples.slow, timeout=3)
    response = RequestResponseInvoker(slow, scheduler=sched, seed=seed).invoke({"seconds": 10})
    _show(out, sched.now, f"slow  -> timeout 3 s: {response.json()['errorMessage']}")

    response = invoker.invoke({"name": "x"}, invocation_type="DryRun")
    _show(out, sched.now, f"DryRun -> StatusCode {response.status_code}; the handler did not run")

    reserved = Function(name="busy", handler=examples.slow, reserved_concurrency=1, timeout=30)
    busy = RequestResponseInvoker(reserved, scheduler=sched, seed=seed)
    busy.start({"seconds": 20})
    try:
        busy.invoke({"seconds": 1})
    except TooManyRequestsError as exc:
        _show(out, sched.now, f"busy  -> reserved concurrency 1, second call: {exc}")
    sched.run_until_idle()
    out.write("\n")
