"""``invokemodels demo``: the synchronous section (``RequestResponse``, ``DryRun``)."""

from __future__ import annotations

import random
from typing import TextIO

from invokemodels import examples
from invokemodels._cli._event import outcome_text
from invokemodels.core._function import Function
from invokemodels.core._scheduler import Scheduler
from invokemodels.exceptions import ReadTimeoutError, TooManyRequestsError
from invokemodels.sync._client import LambdaClient, LegacyRetry
from invokemodels.sync._invoker import RequestResponseInvoker

__all__ = ["run"]


def _show(out: TextIO, at: float, text: str) -> None:
    out.write(f"  t={at:>7.2f}s  {text}\n")


def run(out: TextIO, *, seed: int = 1) -> None:
    """Print what the synchronous model does with a success, a failure, a timeout, a throttle."""
    rng = random.Random(seed)  # one stream of request ids for the whole section
    out.write("== Synchronous (RequestResponse): the caller waits; Lambda never retries\n")

    sched = Scheduler()
    hello = Function(name="hello", handler=examples.hello, duration=0.2)
    invoker = RequestResponseInvoker(hello, scheduler=sched, rng=rng)
    response = invoker.invoke({"name": "newcomer"})
    _show(
        out,
        sched.now,
        f"hello -> StatusCode {response.status_code}, payload {response.payload.decode()}",
    )

    failing = Function(name="fail", handler=examples.fail, duration=0.1)
    response = RequestResponseInvoker(failing, scheduler=sched, rng=rng).invoke(
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
    response = RequestResponseInvoker(slow, scheduler=sched, rng=rng).invoke({"seconds": 10})
    _show(out, sched.now, f"slow  -> timeout 3 s: {response.json()['errorMessage']}")

    response = invoker.invoke({"name": "x"}, invocation_type="DryRun")
    _show(out, sched.now, f"DryRun -> StatusCode {response.status_code}; the handler did not run")

    reserved = Function(name="busy", handler=examples.slow, reserved_concurrency=1, timeout=30)
    busy = RequestResponseInvoker(reserved, scheduler=sched, rng=rng)
    busy.start({"seconds": 20})
    try:
        busy.invoke({"seconds": 1})
    except TooManyRequestsError as exc:
        _show(out, sched.now, f"busy  -> reserved concurrency 1, second call: {exc}")
    sched.run_until_idle()

    out.write(
        "\n== The SDK read-timeout pitfall: boto3's defaults (60 s read timeout,\n"
        "   legacy retries, 5 attempts) invoking a function that runs 120 s\n"
    )
    sched = Scheduler()
    report = Function(name="report", handler=examples.slow, timeout=900)
    invoker = RequestResponseInvoker(report, scheduler=sched, rng=rng)
    client = LambdaClient(invoker, retry=LegacyRetry(), read_timeout=60.0)
    try:
        client.invoke({"seconds": 120})
    except ReadTimeoutError as exc:
        _show(out, sched.now, f"client gives up: {type(exc).__name__}: {exc}")
    sched.run_until_idle()
    out.write("  what the client saw:\n")
    for attempt in client.attempts:
        delay = "" if attempt.retry_delay is None else f", retry in {attempt.retry_delay:.2f}s"
        out.write(
            f"    attempt {attempt.attempt}: sent t={attempt.sent_at:.2f}s, "
            f"{attempt.outcome} at t={attempt.answered_at:.2f}s{delay}\n"
        )
    out.write("  what Lambda ran (every attempt ran the handler to the end):\n")
    for span in invoker.history:
        out.write(
            f"    {span.request_id[:8]}: t={span.started_at:7.2f}s -> t={span.ended_at:7.2f}s "
            f"{outcome_text(span)}, {span.in_flight or 0} in flight at start\n"
        )
    sched = Scheduler()
    report = Function(name="report", handler=examples.slow, timeout=900)
    invoker = RequestResponseInvoker(report, scheduler=sched, rng=rng)
    response = LambdaClient(invoker, read_timeout=901.0).invoke({"seconds": 120})
    _show(
        out,
        sched.now,
        f"fix: read_timeout=901 (above the function's timeout): {len(invoker.history)} "
        f"attempt, StatusCode {response.status_code}",
    )
