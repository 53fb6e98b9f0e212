"""Median time of a full-fidelity synchronous invoke of a small payload, next to a bare call.

Run: ``python benchmarks/sync_invoke.py [--rounds N] [--loops N]``.

Each figure is the median over rounds of the mean time per call, in wall-clock time
(``perf_counter_ns``) and in this thread's CPU time (``thread_time_ns``).  On a shared
machine the wall-clock figure includes time the process waited for a core; the CPU-time
figure does not, so it is the steadier one.

"Full fidelity" is `RequestResponseInvoker.invoke` on a virtual clock with
everything on: JSON encoding and the 6 MB check, a seeded request id, the
concurrency slot, the context object, a fresh parsed copy of the event, the
response JSON, the attempt log, and virtual time advanced to the attempt's end.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

from invokemodels import Function, LambdaClient, RequestResponseInvoker, StandardRetry

PAYLOAD = {"order_id": "ord-42", "items": [{"sku": "A-1", "qty": 2}], "express": True}


def handler(event: Any, context: Any) -> dict[str, Any]:
    return {"ok": True, "order": event["order_id"], "lines": len(event["items"])}


def per_call_ns(fn: Callable[[], object], loops: int, rounds: int) -> tuple[float, float]:
    """Medians over ``rounds`` of the ns per call (wall clock, thread CPU time)."""
    wall, cpu = [], []
    for _ in range(rounds):
        start, start_cpu = time.perf_counter_ns(), time.thread_time_ns()
        for _ in range(loops):
            fn()
        cpu.append((time.thread_time_ns() - start_cpu) / loops)
        wall.append((time.perf_counter_ns() - start) / loops)
    return statistics.median(wall), statistics.median(cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--loops", type=int, default=20_000)
    args = parser.parse_args()

    bare = per_call_ns(lambda: handler(PAYLOAD, None), args.loops, args.rounds)

    invoker = RequestResponseInvoker(Function(name="orders", handler=handler), seed=1)
    invoke = per_call_ns(lambda: invoker.invoke(PAYLOAD), args.loops, args.rounds)
    invoker.clear_log()

    timed = RequestResponseInvoker(Function(name="orders", handler=handler, duration=0.05), seed=1)
    with_time = per_call_ns(lambda: timed.invoke(PAYLOAD), args.loops, args.rounds)
    timed.clear_log()

    client = LambdaClient(
        RequestResponseInvoker(Function(name="orders", handler=handler), seed=1),
        retry=StandardRetry(),
    )
    via_client = per_call_ns(lambda: client.invoke(PAYLOAD), args.loops, args.rounds)

    rows = [
        ("bare handler call", bare),
        ("RequestResponseInvoker.invoke", invoke),
        ("invoke, 50 ms modelled duration", with_time),
        ("LambdaClient.invoke (StandardRetry)", via_client),
    ]
    print(f"sync invoke benchmark: {args.rounds} rounds x {args.loops} calls")
    print(f"  {'median per call':40} {'wall':>9} {'CPU':>9}")
    for label, (wall, cpu) in rows:
        print(f"  {label:40} {wall / 1000:6.2f} us {cpu / 1000:6.2f} us")
    print(f"  {'full invoke / bare call (CPU)':40} {invoke[1] / bare[1]:6.1f} x")


if __name__ == "__main__":
    main()
