"""Median time of a full-fidelity synchronous invoke of a small payload, next to a bare call.

Run: ``python benchmarks/sync_invoke.py [--rounds N] [--loops N]``.

The *floor* is what a call of that fidelity builds at least, and nothing else: the
request's JSON text, a seeded request id, the context object, the decoded copy, the
response's JSON, the `AttemptResult` and the `InvokeResponse` (printed with the first row).

Also times a failing attempt (the handler raises; the response carries the Python
runtime's error document) against a succeeding one, in the same interleaved rounds.

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
import random
import statistics
import time
from collections.abc import Callable
from typing import Any

from _bench import Row, Spread, machine, print_rows

from invokemodels import (
    Function,
    History,
    LambdaClient,
    RequestResponseInvoker,
    StandardRetry,
    VirtualClock,
)
from invokemodels.core import (
    AttemptResult,
    InvokeResponse,
    LambdaContext,
    encode_payload,
    new_request_id,
)
from invokemodels.core._function import _dumps, _loads  # the fastest JSON the core has

PAYLOAD = {"order_id": "ord-42", "items": [{"sku": "A-1", "qty": 2}], "express": True}


def handler(event: Any, context: Any) -> dict[str, Any]:
    return {"ok": True, "order": event["order_id"], "lines": len(event["items"])}


def failing(event: Any, context: Any) -> dict[str, Any]:
    raise ValueError(f"order {event['order_id']} has no such item")


def floor_call(rng: random.Random, clock: VirtualClock) -> InvokeResponse:
    """What a synchronous invoke of full fidelity builds at least, and nothing else.

    The request's JSON text (and its 6 MB check), a seeded request id, the context object,
    a fresh decoded copy for the handler, the response's JSON, the `AttemptResult` and the
    `InvokeResponse`: no concurrency slot, history, clock or validation of the call.
    """
    text = encode_payload(PAYLOAD)
    request_id = new_request_id(rng)
    context = LambdaContext(
        "orders", "$LATEST", "arn:aws:lambda:us-east-1:123456789012:function:orders", "128",
        request_id, "/aws/lambda/orders", "stream", clock, 0.0, 3.0,
    )  # fmt: skip
    out = _dumps(handler(_loads(text), context))
    AttemptResult(request_id, 0.0, 0.0, None, None, "$LATEST", out)
    return InvokeResponse(200, out.encode(), None, "$LATEST", request_id)


def measure(
    cases: dict[str, Callable[[], object]], loops: int, rounds: int, *, samples: bool = False
) -> Any:
    """Median ns per call (wall clock, thread CPU time) of each case.

    Rounds are interleaved (every case runs once per round), so a burst of load from
    other processes hits every case alike.
    """
    wall: dict[str, list[float]] = {name: [] for name in cases}
    cpu: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(rounds):
        for name, fn in cases.items():
            start, start_cpu = time.perf_counter_ns(), time.thread_time_ns()
            for _ in range(loops):
                fn()
            cpu[name].append((time.thread_time_ns() - start_cpu) / loops)
            wall[name].append((time.perf_counter_ns() - start) / loops)
    if samples:
        return cpu
    return {name: (statistics.median(wall[name]), statistics.median(cpu[name])) for name in cases}


def figures(loops: int, rounds: int) -> list[Row]:
    """Full-fidelity invoke against a bare call; a failing attempt against a succeeding one."""
    invoker = RequestResponseInvoker(Function(name="orders", handler=handler), seed=1)
    bad = RequestResponseInvoker(Function(name="orders", handler=failing), seed=1)
    quiet = RequestResponseInvoker(
        Function(name="orders", handler=handler), seed=1, history=History(keep=False)
    )
    rng, clock = random.Random(1), VirtualClock()
    cpu = measure(
        {
            "bare": lambda: handler(PAYLOAD, None),
            "invoke": lambda: invoker.invoke(PAYLOAD),
            "failing": lambda: bad.invoke(PAYLOAD),
            "quiet": lambda: quiet.invoke(PAYLOAD),
            "floor": lambda: floor_call(rng, clock),
        },
        loops,
        rounds,
        samples=True,
    )
    full = Spread([a / b for a, b in zip(cpu["invoke"], cpu["bare"], strict=True)])
    fails = Spread([a / b for a, b in zip(cpu["failing"], cpu["invoke"], strict=True)])
    quiet_ratio = Spread([a / b for a, b in zip(cpu["quiet"], cpu["bare"], strict=True)])
    floor = Spread([a / b for a, b in zip(cpu["floor"], cpu["bare"], strict=True)])
    return [
        Row(
            "full-fidelity RequestResponse invoke / bare handler call",
            f"{full.show(unit='x', digits=1)}; {Spread(cpu['invoke']).show(1e-3, ' µs')} "
            f"against {Spread(cpu['bare']).show(1e-3, ' µs')}",
            "<= 40x",
            full.median <= 40,
            detail=f"with History(keep=False): {quiet_ratio.show(unit='x', digits=1)}; the "
            f"floor (the JSON text, request id, context, decoded copy, response JSON, "
            f"AttemptResult and InvokeResponse, nothing else): {floor.show(unit='x', digits=1)}",
            spread=full,
        ),
        Row(
            "failing RequestResponse attempt / succeeding one",
            f"{fails.show(unit='x')}; {Spread(cpu['failing']).show(1e-3, ' µs')} against "
            f"{Spread(cpu['invoke']).show(1e-3, ' µs')}",
            "<= 3x",
            fails.median <= 3,
            spread=fails,
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=21)
    parser.add_argument("--loops", type=int, default=10_000)
    args = parser.parse_args()

    invoker = RequestResponseInvoker(Function(name="orders", handler=handler), seed=1)
    timed = RequestResponseInvoker(Function(name="orders", handler=handler, duration=0.05), seed=1)
    client = LambdaClient(
        RequestResponseInvoker(Function(name="orders", handler=handler), seed=1),
        retry=StandardRetry(),
    )
    results = measure(
        {
            "bare handler call": lambda: handler(PAYLOAD, None),
            "RequestResponseInvoker.invoke": lambda: invoker.invoke(PAYLOAD),
            "invoke, 50 ms modelled duration": lambda: timed.invoke(PAYLOAD),
            "LambdaClient.invoke (StandardRetry)": lambda: client.invoke(PAYLOAD),
        },
        args.loops,
        args.rounds,
    )

    print(f"sync invoke benchmark: {args.rounds} interleaved rounds x {args.loops} calls")
    print(f"  {'median per call':40} {'wall':>9} {'CPU':>9}")
    for label, (wall, cpu) in results.items():
        print(f"  {label:40} {wall / 1000:6.2f} us {cpu / 1000:6.2f} us")
    ratio = results["RequestResponseInvoker.invoke"][1] / results["bare handler call"][1]
    print(f"  {'full invoke / bare call (CPU)':40} {ratio:6.1f} x")
    print(machine())
    print_rows(figures(args.loops, args.rounds))


if __name__ == "__main__":
    main()
