"""``invokemodels consume``: a local handler fed by a real queue or stream, until interrupted.

The mapping loop and the pollers are the models' own; the source is read through boto3
(`invokemodels.adapters`, the ``aws`` extra), so credentials and the Region come from
boto3's usual chain, and ``--endpoint-url`` points at a local server (moto, LocalStack).
SIGINT or SIGTERM stops it cleanly (see `MappingRunner`); a summary is printed as JSON on
standard output, each batch's log (what the handler prints) on standard error.
"""

from __future__ import annotations

import argparse
import json
from typing import Any, TextIO

from invokemodels._cli._functions import LogSink
from invokemodels.adapters._boto import aws_errors
from invokemodels.adapters._runner import MappingRunner
from invokemodels.adapters._sqs import map_queue
from invokemodels.adapters._streams import map_dynamodb_stream, map_kinesis_stream
from invokemodels.core._clock import SystemClock
from invokemodels.core._function import Function
from invokemodels.core._logs import LogRecorder
from invokemodels.core._scheduler import Scheduler
from invokemodels.exceptions import describe_error
from invokemodels.mapping._sqs import SQSMappingConfig
from invokemodels.mapping._stream_config import StreamMappingConfig

__all__ = ["add_parser", "run"]

_REPORT = ["ReportBatchItemFailures"]


def add_parser(commands: Any) -> None:
    """Register ``consume`` with the CLI's subcommands."""
    consume = commands.add_parser(
        "consume",
        help="feed a local handler from a real SQS queue, Kinesis or DynamoDB stream",
        description=(
            "Run a local handler behind an event source mapping that reads a real SQS "
            "queue, Kinesis stream or DynamoDB stream through boto3 (pip install "
            "'invokemodels[aws]'), until SIGINT / SIGTERM."
        ),
    )
    consume.add_argument("--handler", required=True, metavar="MOD:FN", help="module:function")
    source = consume.add_mutually_exclusive_group(required=True)
    source.add_argument("--queue-url", metavar="URL", help="an SQS QueueUrl")
    source.add_argument("--kinesis-stream", metavar="NAME", help="a Kinesis StreamName")
    source.add_argument("--dynamodb-stream-arn", metavar="ARN", help="a DynamoDB stream ARN")
    consume.add_argument("--endpoint-url", metavar="URL", help="a local AWS API server")
    consume.add_argument("--region", metavar="REGION", help="the Region (boto3's default)")
    consume.add_argument("--function-name", metavar="NAME", help="FunctionName (the handler's)")
    consume.add_argument("--timeout", type=float, default=3.0, metavar="S", help="1-900 (3)")
    consume.add_argument("--batch-size", type=int, metavar="N", help="BatchSize")
    consume.add_argument(
        "--batching-window", type=float, metavar="S", help="MaximumBatchingWindowInSeconds"
    )
    consume.add_argument(
        "--report-batch-item-failures",
        action="store_true",
        help="FunctionResponseTypes=ReportBatchItemFailures",
    )
    consume.add_argument(
        "--starting-position",
        default="LATEST",
        choices=("LATEST", "TRIM_HORIZON"),
        help="streams: StartingPosition (LATEST)",
    )
    consume.add_argument(
        "--maximum-retry-attempts", type=int, metavar="N", help="streams: MaximumRetryAttempts"
    )
    consume.add_argument(
        "--poll-interval", type=float, metavar="S", help="seconds between polls of an idle source"
    )
    consume.add_argument(
        "--run-for", type=float, metavar="S", help="stop after S seconds (default: until a signal)"
    )


def run(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    """Run the mapping until a signal (or ``--run-for``); print a JSON summary.

    An AWS error while the source is opened (no such queue, no credentials) is reported
    on one line, exit status 1.
    """
    try:
        return _run(args, stdout, stderr)
    except aws_errors() as exc:
        stderr.write(f"invokemodels: error: {describe_error(exc)}\n")
        return 1


def _run(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    name = args.function_name or args.handler.rsplit(":", 1)[-1].replace(".", "-")[:64]
    function = Function(name=name or "function", handler=args.handler, timeout=args.timeout)
    function.load_handler()
    scheduler = Scheduler(clock=SystemClock())
    common: dict[str, Any] = {
        "scheduler": scheduler,
        "endpoint_url": args.endpoint_url,
        "region_name": args.region,
    }
    types = _REPORT if args.report_batch_item_failures else []
    settings: dict[str, Any] = {"function_response_types": types}
    if args.batch_size is not None:
        settings["batch_size"] = args.batch_size
    if args.batching_window is not None:
        settings["maximum_batching_window"] = args.batching_window
    if args.queue_url:
        if args.poll_interval is not None:
            common["idle_poll_interval"] = args.poll_interval
        mapping: Any = map_queue(function, args.queue_url, SQSMappingConfig(**settings), **common)
        source = args.queue_url
    else:
        if args.maximum_retry_attempts is not None:
            settings["maximum_retry_attempts"] = args.maximum_retry_attempts
        config = StreamMappingConfig(starting_position=args.starting_position, **settings)
        if args.poll_interval is not None:
            common["polling_interval"] = args.poll_interval
        if args.kinesis_stream:
            mapping = map_kinesis_stream(function, args.kinesis_stream, config, **common)
            source = args.kinesis_stream
        else:
            mapping = map_dynamodb_stream(function, args.dynamodb_stream_arn, config, **common)
            source = args.dynamodb_stream_arn
    stderr.write(f"invokemodels: consuming {source} with {args.handler} (Ctrl-C to stop)\n")
    stderr.flush()
    # Each batch's log (START, what the handler prints, END, REPORT) goes to standard
    # error as the batch ends, so standard output holds the one JSON summary.
    recorder = LogRecorder(keep=False, on_log=LogSink(stderr))
    recorder.watch(function)
    try:
        stopped = MappingRunner(mapping).run(timeout=args.run_for, handle_signals=True)
    finally:
        recorder.unwatch(function)
    summary: dict[str, Any] = {
        "stoppedBy": stopped,
        "invocations": mapping.invocations,
        "functionErrors": mapping.function_errors,
        "throttles": mapping.throttles,
    }
    consumer = mapping.poller
    if args.queue_url:
        summary["deleted"] = consumer.queue.deleted
        summary["returnedAtShutdown"] = consumer.queue.returned
    else:
        summary["recordsRead"] = consumer.read
        summary["checkpoints"] = {
            shard.shard_id: consumer.checkpoint(shard.shard_id) for shard in consumer.log.shards
        }
    summary["awsErrors"] = consumer.queue.errors.count if args.queue_url else consumer.errors.count
    stdout.write(json.dumps(summary, indent=2) + "\n")
    return 0
