"""An SQS event source mapping (BatchSize 10) against a hand-written loop over the same messages.

N messages (default 100,000) are sent to a standard queue with a redrive policy
(``maxReceiveCount`` 5) and drained by a mapping with ``BatchSize`` 10 on the virtual clock;
each invocation fails with probability p (0 and 0.1, seeded), and a failed batch comes back
after the 30 s visibility timeout.  History and the queue's event log are off
(``History(keep=False)``, ``keep_events=False``, and so ``keep_fates=False``).  The figure
covers the whole path per message: ``SendMessage`` (validation, MD5, id), the receive, the
event record, the JSON encode of the batch and the handler's decode, the attempt, the delete.

The baseline, in the same process: a hand-written loop over the same bodies that does the
least a consumer of a queue does: a deque of messages, batches of 10 as SQS records, a JSON
round trip of the batch, the handler, a failed batch put back (moved aside after 5 tries).

The cost per message as N grows is measured by ``benchmarks/memory.py sqs N`` in fresh
processes (see ``growth_rows``).  Run:

    python benchmarks/sqs_mapping.py [N] [--repeats R]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import uuid
from collections import deque
from typing import Any

from _bench import Row, interleaved, machine, peak_rss_growth, print_rows

from invokemodels import Function, History, Queue, RedrivePolicy, Scheduler, SQSMappingConfig
from invokemodels.aws import MessageState


def make_handler(p_fail: float, seed: int = 7) -> Any:
    rng = random.Random(seed)

    def handler(event: Any, context: Any) -> int:
        if p_fail and rng.random() < p_fail:
            raise RuntimeError("injected failure")
        return len(event["Records"])

    return handler


def through_mapping(n: int, p_fail: float, seed: int = 7) -> dict[str, Any]:
    """One run of the model; returns what it did."""
    sched = Scheduler()
    dlq = Queue("bench-dlq", scheduler=sched, seed=seed, keep_events=False)
    queue = Queue(
        "bench",
        scheduler=sched,
        seed=seed,
        keep_events=False,
        redrive_policy=RedrivePolicy(dead_letter_target=dlq, max_receive_count=5),
    )
    mapping = queue.map_to(
        Function("bench", make_handler(p_fail, seed)),
        SQSMappingConfig(batch_size=10),
        seed=seed,
        history=History(keep=False),
    )
    for i in range(n):
        queue.send_message(f'{{"order": {i}}}')
    sched.run_until_idle()
    counts = queue.counts()
    assert counts[MessageState.DELETED] + counts[MessageState.MOVED_TO_DLQ] == n
    return {
        "invocations": mapping.invocations,
        "errors": mapping.function_errors,
        "deleted": counts[MessageState.DELETED],
        "dlq": counts[MessageState.MOVED_TO_DLQ],
        "virtual": sched.now,
    }


def hand_written(n: int, p_fail: float, seed: int = 7) -> dict[str, Any]:
    """The same messages through a bare loop: batches of 10, a JSON round trip, the handler."""
    handler = make_handler(p_fail, seed)
    rng = random.Random(seed)
    waiting: deque[dict[str, Any]] = deque()
    for i in range(n):
        body = f'{{"order": {i}}}'
        waiting.append(
            {
                "messageId": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                "body": body,
                "md5OfBody": hashlib.md5(body.encode(), usedforsecurity=False).hexdigest(),
                "receives": 0,
            }
        )
    invocations = deleted = moved = 0
    while waiting:
        batch = []
        while waiting and len(batch) < 10:
            message = waiting.popleft()
            if message["receives"] >= 5:
                moved += 1
                continue
            message["receives"] += 1
            batch.append(message)
        if not batch:
            continue
        records = [
            {
                "messageId": m["messageId"],
                "body": m["body"],
                "md5OfBody": m["md5OfBody"],
                "attributes": {"ApproximateReceiveCount": str(m["receives"])},
                "eventSource": "aws:sqs",
            }
            for m in batch
        ]
        invocations += 1
        try:
            handler(json.loads(json.dumps({"Records": records})), None)
        except RuntimeError:
            waiting.extend(batch)
            continue
        deleted += len(batch)
    return {"invocations": invocations, "deleted": deleted, "dlq": moved}


def throughput_rows(n: int, repeats: int) -> list[Row]:
    """The mapping against the hand-written loop, p(fail) 0 and 0.1."""
    rows = []
    for p_fail in (0.0, 0.1):
        model_s, base_s, ratio = interleaved(
            lambda p=p_fail: through_mapping(n, p),
            lambda p=p_fail: hand_written(n, p),
            repeats,
        )
        rows.append(
            Row(
                f"SQS mapping / hand-written loop, {n:,} messages, p(fail)={p_fail}",
                f"{ratio.show(unit='x')}; {model_s.show(1e6 / n, ' µs')} against "
                f"{base_s.show(1e6 / n, ' µs')} per message",
                "(no target: what the model costs)",
                None,
                spread=ratio,
            )
        )
    return rows


def growth_rows(sizes: tuple[int, ...]) -> list[Row]:
    """The cost per message as N grows and the memory at the largest N (fresh processes)."""
    rows = []
    per_message = {size: peak_rss_growth(["sqs", str(size)]) for size in sizes}
    costs = [per_message[size]["cpu_us_per_item"] for size in sizes]
    creep = costs[-1] / costs[0]
    rows.append(
        Row(
            "SQS mapping, CPU per message as N grows (fresh process each, p(fail)=0.1)",
            " / ".join(f"{c:.1f}" for c in costs)
            + f" µs at N = {' / '.join(f'{s:,}' for s in sizes)}; last / first {creep:.2f}",
            "flat within noise (last / first <= 1.15)",
            creep <= 1.15,
        )
    )
    largest = sizes[-1]
    growth = per_message[largest]["growth_mb"]
    rows.append(
        Row(
            f"SQS mapping, {largest:,} messages, history and event log off: peak RSS growth",
            f"{growth:.1f} MB ({per_message[largest]['bytes_per_item']:.1f} bytes per message)",
            "<= 100 MB",
            growth <= 100,
        )
    )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="?", type=float, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    n = int(args.n)
    print(machine())
    growth = growth_rows((10_000, 100_000))  # first: see peak_rss_growth
    print(f"SQS mapping, BatchSize 10, {n:,} messages; p(fail)=0.1 run: {through_mapping(n, 0.1)}")
    print_rows(throughput_rows(n, args.repeats) + growth)


if __name__ == "__main__":
    main()
