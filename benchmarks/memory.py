"""Peak memory of one model over a long run with recording off, measured in this process.

Run one model per process (the peak RSS of a process never goes down):

    python benchmarks/memory.py MODEL N [--record]

MODEL is ``sync`` (N ``RequestResponse`` invokes), ``event`` (N events at 1,000 per
virtual second, p(fail) 0.3), ``sqs`` (N messages sent 1,000 per virtual second to a
queue with a redrive policy, drained by a mapping with ``BatchSize`` 10, p(fail) 0.1) or
``stream`` (N records put 1,000 per virtual second into a 4-shard Kinesis stream, read by
a mapping with ``BatchSize`` 100).  Every model runs with its recording off:
``History(keep=False)``, ``keep_records=False``, ``keep_events=False`` (and so
``keep_fates=False``).  Prints ``key=value`` lines: the peak RSS growth over the run in
MB (``resource.getrusage``), the bytes of growth per item, and the CPU microseconds per
item.  The work is fed at a steady rate so that what is in flight stays bounded: memory
that grows with N is memory kept per item processed.

With ``--record`` every recording is on instead (``History()``, ``keep_records=True``,
``keep_events=True``, ``keep_fates=True``): memory then grows with N, by what the history
keeps per span and the models per item, and the bytes per item stay the same as N grows.
"""

from __future__ import annotations

import gc
import json
import random
import resource
import sys
import time
from collections.abc import Callable
from typing import Any

from invokemodels import (
    EventInvoker,
    Function,
    History,
    KinesisStream,
    Queue,
    RedrivePolicy,
    RequestResponseInvoker,
    Scheduler,
    SQSMappingConfig,
    StreamMappingConfig,
)

CHUNK = 1000  # items fed per virtual second
RECORD = "--record" in sys.argv[1:]  # every recording on (History(), keep_records, keep_events)


def history() -> History:
    """The run's history: kept with ``--record``, not kept otherwise."""
    return History(keep=RECORD)


def failing(p: float, seed: int = 7) -> Callable[[Any, Any], Any]:
    rng = random.Random(seed)

    def handler(event: Any, context: Any) -> Any:
        if p and rng.random() < p:
            raise RuntimeError("injected failure")
        return None

    return handler


def run_sync(n: int) -> None:
    invoker = RequestResponseInvoker(Function("bench", failing(0.3)), seed=1, history=history())
    for i in range(n):
        invoker.invoke({"order": i})


def run_event(n: int) -> None:
    sched = Scheduler()
    invoker = EventInvoker(
        Function("bench", failing(0.3)),
        scheduler=sched,
        seed=1,
        keep_records=RECORD,
        history=history(),
        invoke_rate_factor=None,
    )
    for start in range(0, n, CHUNK):
        for i in range(start, min(start + CHUNK, n)):
            invoker.invoke({"order": i})
        sched.run(until=sched.now + 1.0)
    sched.run_until_idle()


def run_sqs(n: int) -> None:
    sched = Scheduler()
    dlq = Queue("bench-dlq", scheduler=sched, seed=1, keep_events=RECORD)
    queue = Queue(
        "bench",
        scheduler=sched,
        seed=1,
        keep_events=RECORD,
        redrive_policy=RedrivePolicy(dead_letter_target=dlq, max_receive_count=5),
    )
    queue.map_to(
        Function("bench", failing(0.1)),
        SQSMappingConfig(batch_size=10),
        seed=1,
        history=history(),
    )
    for start in range(0, n, CHUNK):
        for i in range(start, min(start + CHUNK, n)):
            queue.send_message(f'{{"order": {i}}}')
        sched.run(until=sched.now + 1.0)
    sched.run_until_idle()
    assert not queue.peek()


def run_stream(n: int) -> None:
    sched = Scheduler()
    stream = KinesisStream("bench", shard_count=4, scheduler=sched)
    stream.map_to(
        Function("bench", failing(0.0)),
        StreamMappingConfig(starting_position="TRIM_HORIZON", batch_size=100),
        seed=1,
        history=history(),
    )
    payload = json.dumps({"kind": "order", "total": 12.5}).encode()
    for start in range(0, n, CHUNK):
        for i in range(start, min(start + CHUNK, n)):
            stream.put_record(payload, f"customer-{i % 1000}")
        sched.run(until=sched.now + 1.0)
    sched.run_until_idle()


MODELS: dict[str, Callable[[int], None]] = {
    "sync": run_sync,
    "event": run_event,
    "sqs": run_sqs,
    "stream": run_stream,
}


def main() -> None:
    args = [arg for arg in sys.argv[1:] if arg != "--record"]
    model, n = args[0], int(float(args[1]))
    run = MODELS[model]
    run(min(n // 5, 2000))  # warm up: imports, caches and the first allocations are not the run's
    gc.collect()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    started = time.process_time()
    run(n)
    cpu = time.process_time() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    growth = (peak - before) * 1024
    print(f"growth_mb={growth / 1e6:.2f}")
    print(f"bytes_per_item={growth / n:.1f}")
    print(f"cpu_us_per_item={cpu / n * 1e6:.2f}")


if __name__ == "__main__":
    main()
