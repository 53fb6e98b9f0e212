"""Benchmark the asynchronous (Event) model against a minimal heapq simulation of the same rule.

Simulates N events (default 1e6) arriving at a steady rate, each execution failing with
probability 0.3, with the default `EventInvokeConfig` (2 retries, 60 s then 120 s, six-hour
maximum age).  Prints events per second of wall time and peak traced memory for:

- `EventInvoker` with ``keep_records=False`` and ``history=History(keep=False)`` (outcomes
  streamed, no span built; ``KEEP_HISTORY=1`` in the environment keeps the default history), and
- a ~40-line heapq simulation of the same retry rule, with no Lambda semantics at all.

Both run in this process, one after the other.  Peak memory is measured with tracemalloc
(which slows both runs alike), in a separate pass from the timing.  Run:

    python benchmarks/event_model.py [N]
"""

from __future__ import annotations

import gc
import heapq
import os
import random
import sys
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

from invokemodels import (
    EventInvoker,
    Function,
    History,
    InvokeResponse,
    Scheduler,
    VirtualClock,
)
from invokemodels.core import encode_payload
from invokemodels.core import new_request_id as make_request_id

P_FAIL = 0.3
RATE = 1000  # arrivals per virtual second


def heapq_baseline(n: int, seed: int = 7) -> dict[str, int]:
    """The same retry rule as a bare discrete-event loop: (time, seq, event id, attempt)."""
    rng = random.Random(seed)
    delays = (60.0, 120.0)
    max_retries, max_age = 2, 21600.0
    heap: list[tuple[float, int, int, int]] = []
    seq = 0
    arrivals = 0
    outcomes = {"Success": 0, "RetriesExhausted": 0, "EventAgeExceeded": 0}
    enqueued: dict[int, float] = {}
    invocations = 0
    next_arrival = 0.0
    while arrivals < n or heap:
        if arrivals < n and (not heap or next_arrival <= heap[0][0]):
            enqueued[arrivals] = next_arrival
            heapq.heappush(heap, (next_arrival, seq, arrivals, 0))
            seq += 1
            arrivals += 1
            next_arrival = arrivals / RATE
            continue
        now, _, event, retries = heapq.heappop(heap)
        invocations += 1
        if rng.random() >= P_FAIL:
            outcomes["Success"] += 1
            del enqueued[event]
            continue
        if retries >= max_retries:
            outcomes["RetriesExhausted"] += 1
            del enqueued[event]
            continue
        ready = now + delays[retries]
        if ready >= enqueued[event] + max_age:
            outcomes["EventAgeExceeded"] += 1
            del enqueued[event]
            continue
        heapq.heappush(heap, (ready, seq, event, retries + 1))
        seq += 1
    outcomes["invocations"] = invocations
    return outcomes


def model(n: int, seed: int = 7) -> dict[str, int]:
    """The same workload through `EventInvoker` (Function.run_attempt, concurrency, policies)."""
    rng = random.Random(seed)

    def handler(event: Any, context: Any) -> Any:
        if rng.random() < P_FAIL:
            raise RuntimeError("transient failure")
        return None

    function = Function(name="bench", handler=handler)
    sched = Scheduler()
    invoker = EventInvoker(
        function,
        scheduler=sched,
        seed=seed,
        keep_records=False,
        history=History(keep=bool(os.environ.get("KEEP_HISTORY"))),
        invoke_rate_factor=None,
    )
    payload = b'{"order": 1}'
    sent = 0

    def arrive() -> None:
        nonlocal sent
        for _ in range(RATE // 10):
            if sent >= n:
                return
            invoker.invoke(payload)
            sent += 1
        sched.schedule(0.1, arrive)

    sched.schedule(0.0, arrive)
    sched.run_until_idle()
    metrics = invoker.metrics
    return {
        "Success": metrics.async_events_received - metrics.async_events_dropped,
        "dropped": metrics.async_events_dropped,
        "invocations": metrics.invocations,
    }


def floor(n: int, seed: int = 7) -> dict[str, int]:
    """What any faithful model pays: encode, id, a response, and `Function.run_attempt` per try.

    No queue, no clock, no policy: the same failure process run straight through, to show how
    much of the model's cost is the Lambda semantics shared by every invocation model.
    """
    rng = random.Random(seed)

    def handler(event: Any, context: Any) -> Any:
        if rng.random() < P_FAIL:
            raise RuntimeError("transient failure")
        return None

    function = Function(name="bench", handler=handler)
    clock = VirtualClock()
    ids = random.Random(seed)
    invocations = 0
    for _ in range(n):
        request = encode_payload(b'{"order": 1}', limit=None)
        request_id = make_request_id(ids)
        InvokeResponse(202, b"", None, None, request_id)
        for _ in range(3):
            invocations += 1
            if function.run_attempt(request, request_id=request_id, clock=clock).ok:
                break
    return {"invocations": invocations}


def timed(run: Callable[[int], dict[str, int]], n: int) -> tuple[float, float, dict[str, int]]:
    """CPU seconds (steady on a busy machine), wall seconds, and the run's result."""
    gc.collect()
    cpu, wall = time.process_time(), time.perf_counter()
    result = run(n)
    return time.process_time() - cpu, time.perf_counter() - wall, result


def peak_memory(run: Callable[[int], dict[str, int]], n: int) -> int:
    gc.collect()
    tracemalloc.start()
    run(n)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def main() -> None:
    n = int(float(sys.argv[1])) if len(sys.argv) > 1 else 1_000_000
    print(f"{n:,} events, p(fail)={P_FAIL}, default config, {RATE} arrivals per virtual second")
    base_s, base_wall, base = timed(heapq_baseline, n)
    model_s, model_wall, got = timed(model, n)
    floor_s, floor_wall, low = timed(floor, n)
    print(f"{'':34}{'events/CPU s':>14}{'CPU s':>8}{'wall s':>8}{'invocations':>13}")
    rows = (
        ("heapq baseline", base_s, base_wall, base),
        ("EventInvoker", model_s, model_wall, got),
        ("floor: encode+id+response+attempts", floor_s, floor_wall, low),
    )
    for label, cpu, wall, result in rows:
        print(f"{label:34}{n / cpu:14,.0f}{cpu:8.2f}{wall:8.2f}{result['invocations']:13,}")
    print(
        f"slowdown vs heapq: {model_s / base_s:.2f}x (target: within 3x); "
        f"the floor alone is {floor_s / base_s:.2f}x; the queue and rules add "
        f"{(model_s - floor_s) / n * 1e6:.1f} us per event"
    )
    print(f"outcomes: {got}")
    small = max(n // 4, 1)
    for label, run in (("heapq baseline", heapq_baseline), ("EventInvoker", model)):
        print(
            f"peak memory {label:16}: {peak_memory(run, small) / 1e6:7.2f} MB for {small:,} events,"
            f" {peak_memory(run, n) / 1e6:7.2f} MB for {n:,}"
        )


if __name__ == "__main__":
    main()
