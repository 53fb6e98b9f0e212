"""Records per second through a Kinesis stream event source mapping, next to a hand-written loop.

N records (default 100,000) are put into a 4-shard `KinesisStream`; a mapping with
``BatchSize`` 100 reads them on the virtual clock and invokes a trivial handler.  The
function fails a batch with probability p (0 and 0.01, from a seeded random.Random); a
failed batch is retried (infinite retries, the default) until it succeeds.

The hand-written loop gets the same records (their event dicts, already built) and does
the least a correct consumer must: per shard, in order, batches of 100, a JSON round trip
of the batch (what crossing the Invoke boundary costs), the handler call, and the same
retry on failure.  Both run in this process, one after the other.

It also times a shard blocked by a poison record with the default settings (infinite
retries, no maximum record age: retried once a second until the record expires) against a
failing ``RequestResponse`` invoke of the same batch, alternately in one process: the cost
of one retry against one failed synchronous call carrying the same event.  Run:

    python benchmarks/stream_mapping.py [N] [--repeats R]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import time
from typing import Any

from _bench import Row, Spread, interleaved, machine, print_rows

from invokemodels import (
    Function,
    History,
    KinesisStream,
    RequestResponseInvoker,
    Scheduler,
    StreamMappingConfig,
)
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
    # Fresh copies of the event dicts, made together: the loop's figure then does not depend
    # on where in memory the stream happens to keep (or build) its records' events.
    shards = [
        [json.loads(json.dumps(record.event)) for record in shard.records]
        for shard in stream.log.shards
    ]
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


def poison(event: Any, context: Any) -> None:
    raise RuntimeError("poison record")


def blocked_shard(retries: int) -> tuple[Any, Any]:
    """A one-shard stream whose first batch always fails; returns (run ``retries`` retries,
    the batch event)."""
    sched = Scheduler()
    stream = KinesisStream("blocked", shard_count=1, scheduler=sched)
    payload = json.dumps({"kind": "order", "total": 12.5}).encode()
    for i in range(BATCH):
        stream.put_record(payload, f"customer-{i}")
    mapping = stream.map_to(
        Function("blocked", poison),
        StreamMappingConfig(starting_position="TRIM_HORIZON", batch_size=BATCH),
        seed=1,
        history=History(keep=False),
    )
    sched.run_for(1.0)
    assert mapping.invocations >= 1

    def run() -> None:
        before = mapping.invocations
        sched.run_for(float(retries))
        assert mapping.invocations - before == retries, (mapping.invocations, before)

    return run, {"Records": [record.event for record in stream.log.shards[0].records]}


def retry_figures(retries: int, repeats: int) -> Row:
    """One retry of the blocked shard against one failing RequestResponse invoke."""
    run, event = blocked_shard(retries)
    invoker = RequestResponseInvoker(
        Function("failing", poison), seed=1, history=History(keep=False)
    )

    def failing_invokes() -> None:
        for _ in range(retries):
            invoker.invoke(event)

    shard_s, invoke_s, ratio = interleaved(run, failing_invokes, repeats)
    return Row(
        f"blocked stream shard (poison record, {BATCH}-record batch): one retry / one failing "
        "RequestResponse invoke of the same batch",
        f"{ratio.show(unit='x')}; {shard_s.show(1e6 / retries, ' µs')} against "
        f"{invoke_s.show(1e6 / retries, ' µs')}",
        "<= 2x",
        ratio.median <= 2.0,
        detail=f"a day-long block (86,400 retries) costs about "
        f"{shard_s.median / retries * 86_400:.0f} CPU s",
        spread=ratio,
    )


def figures(n: int, repeats: int, retries: int) -> list[Row]:
    """The blocked-shard row and the mapping against the hand-written loop."""
    rows = [retry_figures(retries, repeats)]
    for p_fail in (0.0, 0.01):
        samples = []
        for _ in range(repeats):
            seconds, _put, _invocations, _virtual = through_mapping(n, p_fail)
            loop_seconds, _ = hand_written(n, p_fail)
            samples.append((seconds, loop_seconds))
        ratio = Spread([a / b for a, b in samples])
        model = Spread([a for a, _ in samples])
        loop = Spread([b for _, b in samples])
        rows.append(
            Row(
                f"stream mapping / hand-written loop, {n:,} records, p(fail)={p_fail}",
                f"{ratio.show(unit='x')}; {model.show(1e6 / n, ' µs')} against "
                f"{loop.show(1e6 / n, ' µs')} per record",
                "(no target: what the model costs)",
                None,
                spread=ratio,
            )
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="?", type=float, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--retries", type=int, default=2_000)
    args = parser.parse_args()
    n = int(args.n)
    print(machine())
    print(f"{n:,} records, {SHARDS} shards, BatchSize {BATCH}, trivial handler (CPU seconds)")
    print_rows(figures(n, args.repeats, args.retries))


if __name__ == "__main__":
    main()
