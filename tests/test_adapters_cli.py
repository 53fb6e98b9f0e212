"""``invokemodels consume`` against moto's server: a real process, stopped by SIGINT."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.aws_server import client

HANDLER = """
import json, os

def handler(event, context):
    with open(os.environ["SEEN_FILE"], "a") as out:
        for record in event["Records"]:
            out.write(record["body"] + "\\n")
"""


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_consume_processes_a_real_queue_until_sigint(aws_endpoint: str, tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(HANDLER)
    seen = tmp_path / "seen.txt"
    sqs = client("sqs", aws_endpoint)
    url = sqs.create_queue(QueueName="cli-orders")["QueueUrl"]
    for i in range(4):
        sqs.send_message(QueueUrl=url, MessageBody=f"order-{i}")
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "SEEN_FILE": str(seen)}
    process = subprocess.Popen(
        [sys.executable, "-m", "invokemodels", "consume", "--handler", "app:handler",
         "--queue-url", url, "--endpoint-url", aws_endpoint, "--batch-size", "2",
         "--poll-interval", "0.05"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if seen.exists() and len(seen.read_text().splitlines()) >= 4:
                break
            time.sleep(0.05)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 0, err
    summary = json.loads(out)
    assert summary["stoppedBy"] == "SIGINT"
    assert summary["deleted"] == 4
    assert sorted(seen.read_text().splitlines()) == [f"order-{i}" for i in range(4)]
    assert "consuming" in err


def test_consume_reports_a_missing_queue_on_one_line(
    aws_endpoint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from invokemodels._cli import main

    status = main([
        "consume", "--handler", "json:dumps", "--endpoint-url", aws_endpoint,
        "--queue-url", f"{aws_endpoint}/123456789012/no-such-queue",
    ])  # fmt: skip
    assert status == 1
    err = capsys.readouterr().err
    assert err.startswith("invokemodels: error: QueueDoesNotExist")
    assert len(err.splitlines()) == 1


def test_consume_reads_a_stream_for_a_while_and_prints_the_checkpoints(
    aws_endpoint: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from invokemodels._cli import main

    handler = tmp_path / "streamapp.py"
    handler.write_text("def handler(event, context):\n    print('batch', len(event['Records']))\n")
    api = client("kinesis", aws_endpoint)
    api.create_stream(StreamName="cli-stream", ShardCount=1)
    for i in range(3):
        api.put_record(StreamName="cli-stream", Data=b"x", PartitionKey=f"p{i}")
    status = main([
        "consume", "--handler", f"{handler}:handler", "--kinesis-stream", "cli-stream",
        "--endpoint-url", aws_endpoint, "--starting-position", "TRIM_HORIZON",
        "--batch-size", "2", "--maximum-retry-attempts", "1", "--poll-interval", "0.05",
        "--run-for", "1.5",
    ])  # fmt: skip
    captured = capsys.readouterr()
    out = captured.out
    assert status == 0
    assert "batch 2" in captured.err  # the handler's output, with the batch's log
    summary = json.loads(out)
    assert summary["stoppedBy"] == "timeout"
    assert summary["recordsRead"] == 3
    assert summary["invocations"] == 2
    assert summary["checkpoints"] == {"shardId-000000000000": "3"}
