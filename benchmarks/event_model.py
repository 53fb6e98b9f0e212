"""The asynchronous (Event) model against a 40-line heapq model of the same retry rule.

N events (dict payloads, as a user passes them) arrive at 1,000 per virtual second; each
execution fails with probability 0.3 (the handler raises); the default
`EventInvokeConfig` (two retries, 60 s then 120 s, six-hour maximum age);
``EventInvoker(..., keep_records=False, history=History(keep=False))``.

The baseline is a bare discrete-event loop: a ``heapq`` of ``(time, seq, payload,
retries)`` that calls the same handler with the same dict and applies the same retry and
age rule, with no Lambda semantics at all (no JSON, no request ids, no context, no
concurrency).  Two shapes of the same workload:

- *steady*: arrivals fed in batches of 100 every 0.1 s by a callback (the model) or by the
  loop itself (the baseline), so few timers are pending at a time;
- *up front*: every arrival scheduled before the run, ``sched.at(i * 0.001,
  invoker.invoke, {...})`` (the baseline pushes every arrival into its heap first).

A third loop, the *floor*, is the heapq model plus the values the Event model's fidelity
requires and nothing else (the payload's JSON text and size check, a seeded request id, the
202 response; per execution a fresh decoded copy, a context object and the
`AttemptResult`): what any model of this fidelity costs at least, printed as its own ratio
to the heapq model.

Subject and baseline run alternately in this process; the script prints CPU time per event
and the ratio (median, min-max of the repeats).  Run:

    python benchmarks/event_model.py [N] [--repeats R]
"""

from __future__ import annotations

import argparse
import heapq
import random
from collections.abc import Callable
from typing import Any

from _bench import Row, interleaved, machine, print_rows

from invokemodels import EventInvoker, Function, History, Scheduler, VirtualClock
from invokemodels.core import (
    EVENT_PAYLOAD_LIMIT,
    AttemptResult,
    InvokeResponse,
    LambdaContext,
    encode_payload,
    new_request_id,
)
from invokemodels.core._function import _dumps, _loads  # the fastest JSON the core has

P_FAIL = 0.3
RATE = 1000  # arrivals per virtual second
SEED = 7


def make_handler(seed: int = SEED) -> Callable[[Any, Any], Any]:
    rng = random.Random(seed)

    def handler(event: Any, context: Any) -> Any:
        if rng.random() < P_FAIL:
            raise RuntimeError("transient failure")
        return None

    return handler


def heapq_model(n: int, *, up_front: bool = False) -> dict[str, int]:
    """The same retry rule as a bare loop over a heap of (time, seq, payload, retries)."""
    handler = make_handler()
    delays = (60.0, 120.0)
    max_retries, max_age = 2, 21600.0
    heap: list[tuple[float, int, dict[str, int], int, float]] = []
    outcomes = {"Success": 0, "RetriesExhausted": 0, "EventAgeExceeded": 0, "invocations": 0}
    seq = arrivals = 0
    if up_front:
        for arrivals in range(n):
            at = arrivals / RATE
            heap.append((at, arrivals, {"order": arrivals}, 0, at))
        seq = arrivals = n
    while arrivals < n or heap:
        at = arrivals / RATE
        if arrivals < n and (not heap or at <= heap[0][0]):
            heapq.heappush(heap, (at, seq, {"order": arrivals}, 0, at))
            seq += 1
            arrivals += 1
            continue
        now, _, payload, retries, enqueued = heapq.heappop(heap)
        outcomes["invocations"] += 1
        try:
            handler(payload, None)
        except Exception:
            if retries >= max_retries:
                outcomes["RetriesExhausted"] += 1
                continue
            ready = now + delays[retries]
            if ready >= enqueued + max_age:
                outcomes["EventAgeExceeded"] += 1
                continue
            heapq.heappush(heap, (ready, seq, payload, retries + 1, enqueued))
            seq += 1
        else:
            outcomes["Success"] += 1
    return outcomes


def floor_model(n: int, *, up_front: bool = False) -> dict[str, int]:
    """The heapq model plus the values fidelity requires, and nothing else of the model.

    Per event: the payload's JSON text and its size check, a seeded request id and the 202
    response; per execution: a fresh decoded copy of the payload, a context object, and
    the `AttemptResult` with the result's JSON (or with the exception raised), the JSON
    through the core's own prebuilt encoder and decoder.  No queue object, concurrency
    slot, wake-up, policy object, metric or record: what any model with the Event model's
    fidelity costs at least, in this loop.
    """
    handler = make_handler()
    rng = random.Random(SEED)
    clock = VirtualClock()
    delays = (60.0, 120.0)
    max_retries, max_age = 2, 21600.0
    heap: list[tuple[float, int, str, int, float, str]] = []
    outcomes = {"Success": 0, "RetriesExhausted": 0, "EventAgeExceeded": 0, "invocations": 0}
    seq = arrivals = 0

    def accept(order: int, at: float) -> None:
        nonlocal seq
        text = encode_payload({"order": order}, limit=EVENT_PAYLOAD_LIMIT)
        request_id = new_request_id(rng)
        InvokeResponse(202, b"", None, None, request_id)
        heapq.heappush(heap, (at, seq, text, 0, at, request_id))
        seq += 1

    if up_front:
        for arrivals in range(n):
            accept(arrivals, arrivals / RATE)
        arrivals = n
    while arrivals < n or heap:
        at = arrivals / RATE
        if arrivals < n and (not heap or at <= heap[0][0]):
            accept(arrivals, at)
            arrivals += 1
            continue
        now, _, text, retries, enqueued, request_id = heapq.heappop(heap)
        outcomes["invocations"] += 1
        context = LambdaContext(
            "bench", "$LATEST", "arn:aws:lambda:us-east-1:123456789012:function:bench", "128",
            request_id, "/aws/lambda/bench", "stream", clock, now, 3.0,
        )  # fmt: skip
        try:
            result = handler(_loads(text), context)
        except Exception as exc:
            AttemptResult(
                request_id, now, now, "Unhandled", type(exc).__name__, "$LATEST", None, exc,
                str(exc),
            )  # fmt: skip
            if retries >= max_retries:
                outcomes["RetriesExhausted"] += 1
                continue
            ready = now + delays[retries]
            if ready >= enqueued + max_age:
                outcomes["EventAgeExceeded"] += 1
                continue
            heapq.heappush(heap, (ready, seq, text, retries + 1, enqueued, request_id))
            seq += 1
        else:
            AttemptResult(request_id, now, now, None, None, "$LATEST", _dumps(result))
            outcomes["Success"] += 1
    return outcomes


def event_model(n: int, *, up_front: bool = False) -> dict[str, int]:
    """The same workload through `EventInvoker`."""
    sched = Scheduler()
    invoker = EventInvoker(
        Function(name="bench", handler=make_handler()),
        scheduler=sched,
        seed=SEED,
        keep_records=False,
        history=History(keep=False),
        invoke_rate_factor=None,
    )
    if up_front:
        for i in range(n):
            sched.at(i * 0.001, invoker.invoke, {"order": i})
    else:
        sent = 0

        def arrive() -> None:
            nonlocal sent
            for _ in range(RATE // 10):
                if sent >= n:
                    return
                invoker.invoke({"order": sent})
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


def figures(n: int, repeats: int, up_front_n: int | None = None) -> list[Row]:
    """The table rows: the steady and the up-front shape against the heapq model."""
    rows = []
    for up_front, target in ((False, 3.0), (True, 3.5)):
        size = n if not up_front or up_front_n is None else up_front_n
        model_s, base_s, ratio = interleaved(
            lambda size=size, up_front=up_front: event_model(size, up_front=up_front),
            lambda size=size, up_front=up_front: heapq_model(size, up_front=up_front),
            repeats,
        )
        shape = "every arrival scheduled up front" if up_front else "steady arrivals"
        _, _, floor = interleaved(
            lambda size=size, up_front=up_front: floor_model(size, up_front=up_front),
            lambda size=size, up_front=up_front: heapq_model(size, up_front=up_front),
            repeats,
        )
        rows.append(
            Row(
                f"Event model / heapq model, {size:,} events, {shape}",
                f"{ratio.show(unit='x')}; {model_s.show(1e6 / size, ' µs')} against "
                f"{base_s.show(1e6 / size, ' µs')} per event",
                f"<= {target}x",
                ratio.median <= target,
                detail=f"the floor (the heapq model plus the JSON text, request id, 202 "
                f"response, decoded copy, context and AttemptResult fidelity needs, nothing "
                f"else): {floor.show(unit='x')} the heapq model",
                spread=ratio,
            )
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="?", type=float, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    n = int(args.n)
    print(machine())
    print(f"{n:,} events, p(fail)={P_FAIL}, default config, {RATE} arrivals per virtual second")
    small = min(n, 20_000)
    print(
        f"outcomes: model {event_model(small)}, heapq {heapq_model(small)}, "
        f"floor {floor_model(small)}"
    )
    print_rows(figures(n, args.repeats))


if __name__ == "__main__":
    main()
