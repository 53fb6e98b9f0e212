"""Benchmark messages per second through an SQS event source mapping (batch size 10).

Sends N messages (default 100,000) to a standard queue with a redrive policy
(``maxReceiveCount`` 5), maps a function with ``BatchSize`` 10 and runs the
virtual clock until every message has ended (deleted after success, or moved
to the dead-letter queue).  Each invocation fails with probability p, drawn
from a seeded ``random.Random``: p = 0 and p = 0.1.  A failed batch comes back
after the 30 s visibility timeout, so p = 0.1 also exercises the receive-count
and redrive path.  Prints wall-clock messages per second (send + drain) and
what the model did.  Wall-clock figures depend on the machine's load; the
per-CPU-second figure is steadier.  Run:

    python benchmarks/sqs_mapping.py [N]
"""

from __future__ import annotations

import gc
import os
import random
import sys
import time
from typing import Any

from invokemodels import Function, History, Queue, RedrivePolicy, Scheduler, SQSMappingConfig
from invokemodels.aws import MessageState

KEEP_HISTORY = bool(os.environ.get("KEEP_HISTORY"))  # KEEP_HISTORY=1: keep the spans


def run(n: int, p_fail: float, seed: int = 7) -> dict[str, Any]:
    """One run; returns the figures."""
    sched = Scheduler()
    dlq = Queue("bench-dlq", scheduler=sched, seed=seed, keep_events=False)
    queue = Queue(
        "bench",
        scheduler=sched,
        seed=seed,
        keep_events=False,
        redrive_policy=RedrivePolicy(dead_letter_target=dlq, max_receive_count=5),
    )
    rng = random.Random(seed)

    def handler(event: Any, context: Any) -> int:
        if p_fail and rng.random() < p_fail:
            raise RuntimeError("injected failure")
        return len(event["Records"])

    mapping = queue.map_to(
        Function("bench", handler),
        SQSMappingConfig(batch_size=10),
        seed=seed,
        history=History(keep=KEEP_HISTORY),
    )
    gc.collect()
    cpu_started = time.process_time()
    started = time.perf_counter()
    for i in range(n):
        queue.send_message(f'{{"order": {i}}}')
    sent = time.perf_counter()
    sched.run_until_idle()
    ended = time.perf_counter()
    cpu = time.process_time() - cpu_started
    counts = queue.counts()
    assert counts[MessageState.DELETED] + counts[MessageState.MOVED_TO_DLQ] == n
    return {
        "p": p_fail,
        "wall": ended - started,
        "send": sent - started,
        "rate": n / (ended - started),
        "cpu_rate": n / cpu,
        "virtual": sched.now,
        "invocations": mapping.invocations,
        "errors": mapping.function_errors,
        "deleted": counts[MessageState.DELETED],
        "dlq": counts[MessageState.MOVED_TO_DLQ],
    }


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    print(f"SQS mapping, BatchSize 10, {n:,} messages, Python {sys.version.split()[0]}")
    for p_fail in (0.0, 0.1):
        r = run(n, p_fail)
        print(
            f"p(fail)={r['p']:.1f}: {r['rate']:,.0f} messages/s wall-clock, "
            f"{r['cpu_rate']:,.0f} per CPU second "
            f"(wall {r['wall']:.2f} s, of which sending {r['send']:.2f} s); "
            f"{r['invocations']:,} invocations, {r['errors']:,} function errors, "
            f"{r['deleted']:,} deleted, {r['dlq']:,} redriven, virtual time {r['virtual']:.0f} s"
        )


if __name__ == "__main__":
    main()
