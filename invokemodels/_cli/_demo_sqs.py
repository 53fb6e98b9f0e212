"""``invokemodels demo``: the SQS section (poll-based: a queue mapped to a function)."""

from __future__ import annotations

import textwrap
from typing import Any, TextIO

from invokemodels.aws._sqs import Queue, RedrivePolicy
from invokemodels.core._function import Function
from invokemodels.core._scheduler import Scheduler
from invokemodels.mapping._sqs import SQSMappingConfig
from invokemodels.observe._timeline import Timeline

__all__ = ["run"]


def _show(out: TextIO, at: float, text: str) -> None:
    out.write(f"  t={at:>7.2f}s  {text}\n")


def run(out: TextIO, *, seed: int = 1) -> None:
    """Print a failing message's receives and redrive, then a partial batch response."""
    out.write("== SQS event source mapping: the queue decides when a failing message comes back\n")

    sched = Scheduler()
    dlq = Queue("orders-dlq", scheduler=sched, seed=seed + 1)
    orders = Queue(
        "orders",
        scheduler=sched,
        seed=seed,
        visibility_timeout=30,
        redrive_policy=RedrivePolicy(dead_letter_target=dlq, max_receive_count=3),
    )

    def worker(event: Any, context: Any) -> None:
        for record in event["Records"]:
            count = record["attributes"]["ApproximateReceiveCount"]
            outcome = "fails" if record["body"] == "poison" else "ok"
            _show(out, sched.now, f"invoke: {record['body']!r} ApproximateReceiveCount={count}"
                                  f" -> {outcome}")  # fmt: skip
            if record["body"] == "poison":
                raise ValueError("cannot parse order")

    orders.map_to(Function("worker", worker), SQSMappingConfig(batch_size=1), seed=seed)
    ok = orders.send_message("order-1")
    poison = orders.send_message("poison")
    sched.run_until_idle()
    bodies = {poison.message_id: "poison", ok.message_id: "order-1"}
    out.write("  fates, in time order:\n")
    for event in orders.fates:
        _show(out, event.at, f"{bodies[event.message_id]!r} {event.kind}: {event.detail}")
    _show(out, sched.now, f"{dlq.name} now holds {[m.body for m in dlq.peek()]}")

    out.write("== ReportBatchItemFailures: only the reported message comes back\n")
    sched = Scheduler()
    jobs = Queue("jobs", scheduler=sched, seed=seed, visibility_timeout=20)

    def partial(event: Any, context: Any) -> dict[str, Any]:
        bodies = [record["body"] for record in event["Records"]]
        failed = [
            {"itemIdentifier": record["messageId"]}
            for record in event["Records"]
            if record["body"] == "b" and sched.now == 0.0
        ]
        _show(out, sched.now, f"invoke: batch {bodies}, reports {len(failed)} failure(s)")
        return {"batchItemFailures": failed}

    config = SQSMappingConfig(batch_size=10, function_response_types=["ReportBatchItemFailures"])
    mapping = jobs.map_to(Function("partial", partial), config, seed=seed)
    for body in "abc":
        jobs.send_message(body)
    sched.run_until_idle()
    ended = sorted(event.detail for event in jobs.fates)
    _show(out, sched.now, f"{len(ended)} messages deleted ({', '.join(ended)}), "
                          f"{len(jobs.peek())} left in the queue")  # fmt: skip
    timeline = Timeline.from_history(mapping.history, sources=[mapping])
    out.write("  timeline (the first batch succeeded, one of its three messages failed):\n")
    out.write(textwrap.indent(timeline.text(queue_events=True), "    "))
