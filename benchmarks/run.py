"""Run every benchmark and print the whole table: each figure with its in-run baseline,
the ratio, the target, the machine, the Python version and the noise of the repeats.

    python benchmarks/run.py            # the full table (several minutes; the 1e6 rows)
    python benchmarks/run.py --quick    # small N, few repeats: a smoke run of a few seconds

Every ratio is taken in one process between a subject and its baseline run alternately,
in CPU time; a figure is the median of the repeats, with the minimum and maximum beside it.
The memory rows run each model in a fresh process (``benchmarks/memory.py``) and read its
peak RSS with ``resource.getrusage``.
"""

from __future__ import annotations

import argparse
import time

import event_model
import sqs_mapping
import stream_mapping
import sync_invoke
from _bench import Row, machine, peak_rss_growth, print_rows


def memory_rows(n: int) -> list[Row]:
    """Peak RSS growth of each model over ``n`` items with recording off."""
    rows = []
    notes = {
        "sync": "RequestResponse invokes, History(keep=False)",
        "event": "events, keep_records=False, History(keep=False), p(fail)=0.3",
        "sqs": "messages, keep_events=False (so keep_fates=False), History(keep=False)",
        "stream": "Kinesis records, History(keep=False); the stream itself keeps every record "
        "for its 24 h retention, as Kinesis does",
    }
    for model in ("sync", "event", "sqs", "stream"):
        figures = peak_rss_growth([model, str(n)])
        rows.append(
            Row(
                f"memory, {model}: {n:,} {notes[model]}",
                f"{figures['growth_mb']:.1f} MB peak RSS growth "
                f"({figures['bytes_per_item']:.1f} bytes per item; "
                f"{figures['cpu_us_per_item']:.1f} CPU µs per item)",
                "follows what is in flight" if model != "stream" else "(retained records)",
                None,
            )
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small N and few repeats")
    args = parser.parse_args()
    started = time.perf_counter()
    if args.quick:
        events, repeats, sizes, retries, memory_n = 1_000, 3, (500, 2_000), 10, 2_000
        messages = records = 0
        loops, rounds = 500, 3
    else:
        events, repeats, sizes, retries, memory_n = (
            100_000, 5, (10_000, 100_000, 1_000_000), 2_000, 1_000_000,
        )  # fmt: skip
        messages = records = 50_000
        loops, rounds = 10_000, 15
    print(machine())
    print(f"mode: {'quick' if args.quick else 'full'}; CPU time, medians (min-max) of repeats")
    rows: list[Row] = []
    # The fresh processes first, while this one is small: on Linux a child's getrusage peak
    # starts at its parent's resident size when it was started.
    memory = memory_rows(memory_n)
    rows += sqs_mapping.growth_rows(sizes)
    rows += event_model.figures(events, repeats)
    rows.append(stream_mapping.retry_figures(retries, repeats))
    rows += sync_invoke.figures(loops, rounds)
    rows += memory
    if not args.quick:
        rows += sqs_mapping.throughput_rows(messages, 3)
        rows += stream_mapping.figures(records, 3, retries)[1:]
    print_rows(rows)
    print(f"(took {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
