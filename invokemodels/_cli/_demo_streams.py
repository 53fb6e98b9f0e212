"""``invokemodels demo``: the streams section (a poison record blocking a Kinesis shard)."""

from __future__ import annotations

import base64
import textwrap
from typing import Any, TextIO

from invokemodels.aws._kinesis import KinesisStream
from invokemodels.aws._targets import QueueTarget
from invokemodels.core._function import Function
from invokemodels.core._scheduler import Scheduler
from invokemodels.mapping._stream_config import StreamMappingConfig
from invokemodels.observe._timeline import Timeline

__all__ = ["run"]


def _show(out: TextIO, at: float, text: str) -> None:
    out.write(f"  t={at:>7.2f}s  {text}\n")


def _scenario(out: TextIO, seed: int, explain: str | None = None, **settings: Any) -> None:
    sched = Scheduler()
    stream = KinesisStream("orders", scheduler=sched)
    failures = QueueTarget("stream-failures")

    def consumer(event: Any, context: Any) -> None:
        data = [base64.b64decode(r["kinesis"]["data"]).decode() for r in event["Records"]]
        failed = "poison" in data
        _show(out, sched.now, f"invoke {data} -> {'fails' if failed else 'ok'}")
        if failed:
            raise ValueError("cannot parse order")

    config = StreamMappingConfig(starting_position="TRIM_HORIZON", on_failure=failures, **settings)
    mapping = stream.map_to(Function("consumer", consumer), config, seed=seed)
    names = {}
    for data in ("order-1", "poison", "order-2", "order-3"):
        names[stream.put_record(data, partition_key="customer-1")["SequenceNumber"]] = data
    sched.run_until_idle()
    timeline = Timeline.from_history(mapping.history, sources=[mapping])
    out.write("  timeline (each batch invocation, then each record's fate):\n")
    out.write(textwrap.indent(timeline.text(), "    "))
    if explain is not None:
        [sequence_number] = [key for key, value in names.items() if value == explain]
        why = timeline.explain(sequence_number).splitlines()[0].split(": ", 1)[1]
        out.write(f"  why {explain!r} was not processed: {why}\n")
    out.write("  fates, in time order:\n")
    for outcome in sorted(mapping.poller.outcomes, key=lambda o: o.at):
        why = f" ({outcome.condition})" if outcome.condition else ""
        _show(out, outcome.at, f"{names[outcome.sequence_number]!r} {outcome.fate.value}{why}")
    for record in failures.records:
        info = record["KinesisBatchInfo"]
        _show(
            out,
            sched.now,
            f"on-failure record: {record['requestContext']['condition']}, "
            f"batchSize={info['batchSize']}, "
            f"approximateInvokeCount={record['requestContext']['approximateInvokeCount']}",
        )


def run(out: TextIO, *, seed: int = 1) -> None:
    """Print a poison record blocking its shard, then bisect and a retry quota getting it out."""
    out.write(
        "== Kinesis mapping: a poison record blocks its shard (BatchSize 2, retries capped at 3)\n"
    )
    _scenario(out, seed, "order-1", batch_size=2, maximum_retry_attempts=3)
    out.write(
        "== Same stream with BisectBatchOnFunctionError and 1 retry: only the poison is lost\n"
    )
    _scenario(
        out, seed, batch_size=4, bisect_batch_on_function_error=True, maximum_retry_attempts=1
    )
