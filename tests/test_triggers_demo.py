"""The asynchronous triggers section of ``invokemodels demo``."""

from __future__ import annotations

import io

from invokemodels._cli import _main as cli
from invokemodels._cli._demo_triggers import run


def test_triggers_demo_is_listed_and_runs_s3_to_lambda_to_sqs_to_lambda() -> None:
    assert cli.DEMO_SECTIONS[-1] == "invokemodels._cli._demo_triggers"
    out = io.StringIO()
    run(out, seed=1)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("== S3 -> Lambda (Event) -> SQS -> Lambda (polled)")
    assert lines[2:11] == [
        "  t=   0.00s  PutObject photos/cat.jpg: notifies resize",
        "  t=   0.00s  PutObject photos/my dog.png: notifies resize",
        "  t=   0.00s  PutObject notes/todo.txt: no configuration matches",
        "  t=   0.00s  resize ObjectCreated:Put photos/cat.jpg -> SendMessage to resized",
        "  t=   0.00s  resize ObjectCreated:Put photos/my+dog.png: image service busy -> fails",
        "  t=   0.00s  publish thumbs/photos/cat.jpg (from SQS)",
        "  t=  60.00s  resize ObjectCreated:Put photos/my+dog.png -> SendMessage to resized",
        "  t=  60.00s  publish thumbs/photos/my+dog.png (from SQS)",
        "  t=  60.00s  outcomes: photos/cat.jpg Success, photos/my+dog.png Success",
    ]
    # One timeline over both models: the Event tries and the SQS batches.
    timeline = lines[lines.index("  timeline:") + 1 :]
    assert any("Event" in line and "try 2" in line and "60.000s" in line for line in timeline)
    assert sum("queue resized" in line for line in timeline) == 2
    again = io.StringIO()
    run(again, seed=1)
    assert again.getvalue() == out.getvalue()
