"""``invokemodels demo``: the asynchronous triggers section (S3 -> Lambda -> SQS -> Lambda)."""

from __future__ import annotations

import json
import textwrap
from typing import Any, TextIO

from invokemodels.aws._s3 import Bucket
from invokemodels.aws._sqs import Queue
from invokemodels.core._context import LambdaContext
from invokemodels.core._function import Function
from invokemodels.core._history import History
from invokemodels.core._scheduler import Scheduler
from invokemodels.mapping._sqs import SQSMappingConfig
from invokemodels.observe._timeline import Timeline

__all__ = ["run"]


def _show(out: TextIO, at: float, text: str) -> None:
    out.write(f"  t={at:>7.2f}s  {text}\n")


def run(out: TextIO, *, seed: int = 1) -> None:
    """Print an upload that flows S3 -> resize (Event) -> SQS -> publish (polled)."""
    out.write(
        "== S3 -> Lambda (Event) -> SQS -> Lambda (polled): one clock for every service;\n"
        "   the first resize fails and Lambda retries it a minute later\n"
    )
    sched = Scheduler()
    history = History()
    resized = Queue("resized", scheduler=sched, seed=seed)
    uploads = Bucket("uploads", scheduler=sched, seed=seed)
    tries: dict[str, int] = {}

    def resize(event: Any, context: LambdaContext) -> None:
        record = event["Records"][0]
        key = record["s3"]["object"]["key"]  # URL-encoded, as S3 writes it
        tries[key] = tries.get(key, 0) + 1
        if tries[key] == 1 and key.endswith(".png"):
            _show(
                out, sched.now, f"resize {record['eventName']} {key}: image service busy -> fails"
            )
            raise ConnectionError("image service busy")
        _show(
            out, sched.now, f"resize {record['eventName']} {key} -> SendMessage to {resized.name}"
        )
        resized.send_message(json.dumps({"thumbnail": f"thumbs/{key}"}))

    def publish(event: Any, context: LambdaContext) -> None:
        for record in event["Records"]:
            thumbnail = json.loads(record["body"])["thumbnail"]
            _show(out, sched.now, f"publish {thumbnail} (from SQS)")

    invoker = uploads.notify(Function("resize", resize), prefix="photos/", history=history)
    mapping = resized.map_to(
        Function("publish", publish), SQSMappingConfig(batch_size=1), seed=seed, history=history
    )
    for key in ("photos/cat.jpg", "photos/my dog.png", "notes/todo.txt"):
        uploads.put_object(key, b"...")
        matched = "notifies resize" if key.startswith("photos/") else "no configuration matches"
        _show(out, sched.now, f"PutObject {key}: {matched}")
    sched.run_until_idle()
    outcomes = ", ".join(
        f"{n.event['Records'][0]['s3']['object']['key']} {invoker.outcome(n.request_id).kind.value}"
        for n in uploads.notifications
    )
    _show(out, sched.now, f"outcomes: {outcomes}")
    timeline = Timeline.from_history(history, sources=[invoker, mapping])
    out.write("  timeline:\n")
    out.write(textwrap.indent(timeline.text(), "    "))
