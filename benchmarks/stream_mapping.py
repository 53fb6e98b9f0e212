"""Records per second through a Kinesis stream event source mapping, next to a hand-written loop.

N records (default 100,000) are put into a 4-shard `KinesisStream`; a mapping with
``BatchSize`` 100 reads them on the virtual clock and invokes a trivial handler.  The
function fails a batch with probability p (0 and 0.01, from a seeded random.Random); a
failed batch is retried (infinite retries, the default) until it succeeds.

The hand-written loop gets the same records (their event dicts, already built) and does
the least a correct consumer must: per shard, in order, batches of 100, a JSON round trip
of the batch (what crossing the Invoke boundary costs), the handler call, and the same
retry on failure.  Both run in this process, one after the other.  Run:

    python benchmarks/stream_mapping.py [N]
"""

from __future__ import annotations

import gc
import json
import os
import random
import sys
import time
from typing import Any

from invokemodels import Function, History, KinesisStream, Scheduler, StreamMappingConfig
from invokemodels.mapping import RecordFate

SHARDS = 4
BATCH = 100

KEEP_HISTORY = bool(os.environ.get("KEEP_HISTORY"))  # KEEP_HISTORY=1: keep the spans


def make_handler(p_fail: float, seed: int) -> Any:
    rng = random.Random(seed)

    def handler(event: Any, context: Any) -> int:
        if p_fail and rng.random() < p_fail:
            raise RuntimeError("batch failed")
        return len(event["Records"])

    return handler


def filled_stream(n: int) -> tuple[Scheduler, KinesisStream, float]:
    sched = Scheduler()
    stream = KinesisStream("bench", shard_count=SHARDS, scheduler=sched)
    payload = json.dumps({"kind": "order", "total": 12.5}).encode()
    started = time.process_time()
    for i in range(n):
        stream.put_record(payload, f"customer-{i % 1000}")
    return sched, stream, time.process_time() - started


def through_mapping(n: int, p_fail: float) -> tuple[float, float, int, float]:
    sched, stream, put_seconds = filled_stream(n)
    fn = Function("bench", make_handler(p_fail, seed=11))
    config = StreamMappingConfig(starting_position="TRIM_HORIZON", batch_size=BATCH)
    mapping = stream.map_to(fn, config, seed=1, history=History(keep=KEEP_HISTORY))
    gc.collect()
    started = time.process_time()
    sched.run_until_idle()
    seconds = time.process_time() - started
    processed = sum(o.fate is RecordFate.PROCESSED for o in mapping.poller.outcomes)
    assert processed == n, (processed, n)
    return seconds, put_seconds, mapping.invocations, sched.now


def hand_written(n: int, p_fail: float) -> tuple[float, int]:
    _, stream, _ = filled_stream(n)
    shards = [[record.event for record in shard.records] for shard in stream.log.shards]
    handler = make_handler(p_fail, seed=11)
    gc.collect()
    started = time.process_time()
    invocations = 0
    done = 0
    for records in shards:
        for start in range(0, len(records), BATCH):
            batch = records[start : start + BATCH]
            while True:
                invocations += 1
                event = json.loads(json.dumps({"Records": batch}))
                try:
                    handler(event, None)
                except RuntimeError:
                    continue
                done += len(batch)
                break
    assert done == n
    return time.process_time() - started, invocations


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    print(f"{n:,} records, {SHARDS} shards, BatchSize {BATCH}, trivial handler (CPU seconds)")
    print(
        f"{'p(fail)':>8} | {'mapping rec/s':>14} | {'hand loop rec/s':>15} | {'ratio':>6} | "
        f"{'invocations':>11} | {'virtual s':>9} | {'PutRecord/s':>11}"
    )
    for p_fail in (0.0, 0.01):
        seconds, put_seconds, invocations, virtual = through_mapping(n, p_fail)
        loop_seconds, loop_invocations = hand_written(n, p_fail)
        mapping_rate = n / seconds
        loop_rate = n / loop_seconds
        print(
            f"{p_fail:>8} | {mapping_rate:>14,.0f} | {loop_rate:>15,.0f} | "
            f"{loop_rate / mapping_rate:>5.1f}x | {invocations:>5}/{loop_invocations:<5} | "
            f"{virtual:>9.1f} | {n / put_seconds:>11,.0f}"
        )


if __name__ == "__main__":
    main()
