"""``invokemodels invoke`` as AWS CLI users type it, SAM templates, and ``invokemodels serve``."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from invokemodels import __version__
from invokemodels._cli import _main as cli
from invokemodels._cli._template import read_template
from invokemodels.aws import QueueTarget
from invokemodels.exceptions import InvalidParameterValueError

HELLO = "invokemodels.examples:hello"
CONTEXT = "invokemodels.examples:context_info"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        cli.main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out == f"invokemodels {__version__}\n"


@pytest.mark.parametrize(
    ("argv", "arn"),
    [
        (
            ["--function-name", "my-fn:prod"],
            "arn:aws:lambda:us-east-1:123456789012:function:my-fn:prod",
        ),
        (
            ["--function-name", "arn:aws:lambda:eu-west-1:123456789012:function:my-fn:live"],
            "arn:aws:lambda:eu-west-1:123456789012:function:my-fn:live",
        ),
        (
            ["--function-name", "123456789012:function:my-fn", "--qualifier", "beta"],
            "arn:aws:lambda:us-east-1:123456789012:function:my-fn:beta",
        ),
        (
            ["--function-name", "my-fn", "--region", "ap-south-1"],
            "arn:aws:lambda:ap-south-1:123456789012:function:my-fn",
        ),
    ],
)  # fmt: skip
def test_function_names_as_the_aws_cli_takes_them(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, argv: list[str], arn: str
) -> None:
    outfile = tmp_path / "out.json"
    code, out, _ = run(capsys, "invoke", "--handler", CONTEXT, *argv, str(outfile))
    assert code == 0
    assert json.loads(out) == {"StatusCode": 200, "ExecutedVersion": "$LATEST"}
    seen = json.loads(outfile.read_text())
    assert (seen["function_name"], seen["invoked_function_arn"]) == ("my-fn", arn)


def test_client_context_reaches_the_handler(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    handler = tmp_path / "cc.py"
    handler.write_text("def handler(event, context):\n    return context.client_context.custom\n")
    context = base64.b64encode(json.dumps({"custom": {"tenant": "t1"}}).encode()).decode()
    code, out, _ = run(
        capsys, "invoke", "--handler", f"{handler}:handler", "--client-context", context, "-"
    )
    assert (code, json.loads(out)) == (0, {"tenant": "t1"})


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--client-context", "not base64"], "Client context must be a valid Base64-encoded JSON"),
        (
            ["--client-context", base64.b64encode(b'{"custom": {"k": "' + b"x" * 3000 + b'"}}')
             .decode()],
            "ClientContext='<4028 bytes of base64>' is invalid: must be at most 3583 bytes",
        ),
        (["--function-name", "my-fn:prod", "--qualifier", "beta"], "does not match"),
        (["--function-name", "arn:aws:s3:::bucket"], "--function-name='arn:aws:s3:::bucket'"),
        (["--payload", '{"a": 1}', "--cli-binary-format", "base64"], "--payload: Invalid base64"),
        (["--payload", "file:///no/such.json"], "--payload: cannot read '/no/such.json'"),
        (["--template", "t.yaml"], "give exactly one of --handler MOD:FN and --template FILE"),
        (["--output", "table"], "argument --output: invalid choice: 'table'"),
    ],
)  # fmt: skip
def test_bad_aws_options_are_one_line(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, out, err = run(capsys, "invoke", "--handler", HELLO, *argv, "-")
    assert (code, out, err.count("\n")) == (2, "", 1)
    assert message in err


@pytest.mark.parametrize("binary_format", ["raw-in-base64-out", "base64"])
def test_payload_inline_file_and_fileb(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, binary_format: str
) -> None:
    text = '{"name": "file"}'
    raw = tmp_path / "event.json"
    raw.write_text(text)
    encoded = tmp_path / "event.b64"
    encoded.write_text(base64.b64encode(text.encode()).decode())
    inline = text if binary_format == "raw-in-base64-out" else base64.b64encode(text.encode())
    sources = [
        inline if isinstance(inline, str) else inline.decode(),
        f"file://{raw if binary_format == 'raw-in-base64-out' else encoded}",
        f"fileb://{raw}",  # bytes: never base64, whatever the format
    ]
    for source in sources:
        code, out, _ = run(
            capsys, "invoke", "--handler", HELLO, "--payload", source,
            "--cli-binary-format", binary_format, "--quiet", "-",
        )  # fmt: skip
        assert (code, json.loads(out)) == (0, {"message": "Hello, file!"}), source


def test_logs_go_to_a_file_on_request_and_quiet_silences_stderr(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    log = tmp_path / "log.txt"
    outfile = tmp_path / "out.json"
    code, out, err = run(
        capsys, "invoke", "--handler", "invokemodels.examples:fail", "--log-file", str(log),
        "--log-format", "JSON", str(outfile),
    )  # fmt: skip
    assert (code, err) == (0, "")
    assert json.loads(out)["FunctionError"] == "Unhandled"
    lines = log.read_text().splitlines()
    assert lines[-3].startswith("LAMBDA_WARNING: ")  # plain text, as the runtime writes it
    records = [json.loads(line) for line in lines if line.startswith("{")]
    assert [r.get("type") for r in (records[0], records[-1])] == [
        "platform.start",
        "platform.report",
    ]
    assert records[-2]["errorType"] == "ValueError"
    code, out, err = run(
        capsys, "invoke", "--handler", HELLO, "--invocation-type", "Event", "--quiet", "-"
    )
    assert (code, json.loads(out), err) == (0, {"StatusCode": 202}, "")


@pytest.mark.parametrize(
    "argv",
    [
        ["--payload", '{"name": "x"}', "-"],
        ["--payload", '{"name": "x"}', "{out}"],
        ["--log-type", "Tail", "{out}"],
        ["--invocation-type", "Event", "-"],
        ["--invocation-type", "Event", "{out}"],
        ["--invocation-type", "DryRun", "-"],
    ],
)
def test_stdout_pipes_into_json_tool_for_every_invocation_type(
    tmp_path: Path, argv: list[str]
) -> None:
    args = [a.replace("{out}", str(tmp_path / "out.json")) for a in argv]
    with subprocess.Popen(
        [sys.executable, "-m", "invokemodels", "invoke", "--handler", HELLO, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    ) as invoke:
        tool = subprocess.run(
            [sys.executable, "-m", "json.tool"],
            stdin=invoke.stdout,
            capture_output=True,
            check=False,
        )
    assert invoke.returncode == 0
    assert tool.returncode == 0, tool.stderr
    assert json.loads(tool.stdout)


TEMPLATE = """\
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Parameters:
  Stage:
    Type: String
    Default: dev
Globals:
  Function:
    Timeout: 7
    MemorySize: 256
Resources:
  Orders:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: !Sub orders
      CodeUri: src/
      Handler: app.handler
      Runtime: python3.12
      ReservedConcurrentExecutions: 5
      Environment:
        Variables:
          TABLE: !Ref Table
          ARN: !GetAtt Table.Arn
          JOINED: !Join [",", [a, b]]
      LoggingConfig:
        LogFormat: JSON
        ApplicationLogLevel: DEBUG
      EventInvokeConfig:
        MaximumRetryAttempts: 1
        MaximumEventAgeInSeconds: 120
        DestinationConfig:
          OnFailure:
            Type: SQS
            Destination: !GetAtt Dlq.Arn
      Events:
        Queue:
          Type: SQS
          Properties:
            Queue: !GetAtt Jobs.Arn
            BatchSize: 5
            FunctionResponseTypes: [ReportBatchItemFailures]
            FilterCriteria:
              Filters:
                - Pattern: '{"body": {"kind": ["order"]}}'
        Stream:
          Type: Kinesis
          Properties:
            Stream: !GetAtt Clicks.Arn
            StartingPosition: TRIM_HORIZON
            BatchSize: 50
            MaximumRetryAttempts: 3
            BisectBatchOnFunctionError: true
        Table:
          Type: DynamoDB
          Properties:
            Stream: !GetAtt Table.StreamArn
            StartingPosition: LATEST
            ParallelizationFactor: 2
        Api:
          Type: Api
          Properties: {Path: /, Method: get}
  Other:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/
      Handler: app.other
      Timeout: !Ref Stage
  Node:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: web/
      Handler: index.handler
      Runtime: nodejs20.x
  Table:
    Type: AWS::DynamoDB::Table
  Jobs:
    Type: AWS::SQS::Queue
  Dlq:
    Type: AWS::SQS::Queue
  Clicks:
    Type: AWS::Kinesis::Stream
"""


@pytest.fixture
def template(tmp_path: Path) -> Path:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text(
        textwrap.dedent(
            """\
            import logging

            def handler(event, context):
                logging.getLogger().debug("debugging %s", event)
                return {"function": context.function_name, "memory": context.memory_limit_in_mb}

            def other(event, context):
                return "other"
            """
        )
    )
    path = tmp_path / "template.yaml"
    path.write_text(TEMPLATE.replace("Timeout: !Ref Stage", "Timeout: 9"))
    return path


def test_a_sam_template_defines_the_functions(template: Path) -> None:
    functions = read_template(str(template))
    assert list(functions) == ["Orders", "Other"]
    orders = functions["Orders"]
    fn = orders.function
    assert (fn.name, fn.timeout, fn.memory_size, fn.reserved_concurrency) == ("orders", 7, 256, 5)
    assert fn.handler == f"{template.parent / 'src' / 'app.py'}:handler"
    assert orders.event_config is not None
    assert orders.event_config.maximum_retry_attempts == 1
    assert orders.event_config.maximum_event_age == 120
    assert isinstance(orders.event_config.on_failure, QueueTarget)
    assert orders.event_config.on_failure.name == "Dlq"
    assert orders.logging_config is not None
    assert orders.logging_config.application_log_level == "DEBUG"
    kinds = [(e.name, e.kind, e.source) for e in orders.events]
    assert kinds == [("Queue", "SQS", "Jobs"), ("Stream", "Kinesis", "Clicks"),
                     ("Table", "DynamoDB", "Table")]  # fmt: skip
    sqs, kinesis, table = (e.config for e in orders.events)
    assert (sqs.batch_size, sqs.function_response_types) == (5, ("ReportBatchItemFailures",))
    assert sqs.filter_criteria is not None
    assert sqs.filter_criteria.patterns == ('{"body": {"kind": ["order"]}}',)
    assert (kinesis.batch_size, kinesis.maximum_retry_attempts) == (50, 3)
    assert kinesis.bisect_batch_on_function_error is True
    assert (table.starting_position, table.parallelization_factor) == ("LATEST", 2)
    assert functions["Other"].function.timeout == 9


def test_invoke_a_template_function(
    capsys: pytest.CaptureFixture[str], template: Path, tmp_path: Path
) -> None:
    outfile = tmp_path / "out.json"
    code, out, err = run(
        capsys, "invoke", "--template", str(template), "--function-name", "Orders",
        "--memory", "512", str(outfile),
    )  # fmt: skip
    assert (code, json.loads(out)) == (0, {"StatusCode": 200, "ExecutedVersion": "$LATEST"})
    assert json.loads(outfile.read_text()) == {"function": "orders", "memory": "512"}
    # The template's LoggingConfig: JSON, DEBUG records included.
    records = [json.loads(line) for line in err.splitlines()]
    assert records[1]["level"] == "DEBUG"
    assert records[1]["message"] == "debugging {}"


def test_template_errors_are_one_line(
    capsys: pytest.CaptureFixture[str], template: Path, tmp_path: Path
) -> None:
    code, _, err = run(
        capsys, "invoke", "--template", str(template), "--function-name", "Nope", "-"
    )
    assert (code, err.count("\n")) == (2, 1)
    assert "is not a function of" in err
    assert "Orders, Other" in err
    bad = tmp_path / "bad.yaml"
    bad.write_text(TEMPLATE.replace("Timeout: !Ref Stage", "Timeout: !Ref Missing"))
    code, _, err = run(capsys, "invoke", "--template", str(bad), "-")
    assert (code, err.count("\n")) == (2, 1)
    assert "Other.Timeout={'Ref': 'Missing'} is invalid: refers to nothing" in err
    with_default = tmp_path / "default.yaml"
    with_default.write_text(TEMPLATE.replace("Timeout: !Ref Stage", "Timeout: !If [c, 1, 2]"))
    with pytest.raises(InvalidParameterValueError, match="uses Fn::If"):
        read_template(str(with_default))
    broken = tmp_path / "broken.yaml"
    broken.write_text("Resources: [unclosed\n")
    with pytest.raises(InvalidParameterValueError, match="not valid YAML"):
        read_template(str(broken))


def test_a_json_template_needs_no_yaml(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("def handler(event, context):\n    return 1\n")
    template = {
        "Resources": {
            "Fn": {"Type": "AWS::Serverless::Function", "Properties": {"Handler": "app.handler"}}
        }
    }
    path = tmp_path / "template.json"
    path.write_text(json.dumps(template))
    (fn,) = read_template(str(path)).values()
    assert (fn.function.name, fn.function.timeout) == ("Fn", 3)


# -- invokemodels serve -------------------------------------------------------------------


def test_a_template_function_behind_the_invoke_api(template: Path) -> None:
    from invokemodels.serve import InvokeServer

    functions = read_template(str(template))
    server = InvokeServer([tf.function for tf in functions.values()], seed=1)
    status, headers, body = server.handle(
        "/2015-03-31/functions/orders/invocations", {}, b'{"id": 1}'
    )
    assert (status, json.loads(body)) == (200, {"function": "orders", "memory": "256"})
    assert headers["X-Amz-Executed-Version"] == "$LATEST"
    status, headers, body = server.handle("/2015-03-31/functions/Orders/invocations", {}, b"")
    assert (status, headers["x-amzn-ErrorType"]) == (404, "ResourceNotFoundException")
    assert server.close() == []


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_serve_runs_until_a_signal_and_records_cancelled_events(
    tmp_path: Path, stop: signal.Signals
) -> None:
    boto3 = pytest.importorskip("boto3")
    report = tmp_path / "report.json"
    server = subprocess.Popen(
        [
            sys.executable, "-m", "invokemodels", "serve", "--handler",
            "invokemodels.examples:fail", "--function-name", "fails", "--port", "0",
            "--seed", "1", "--report", str(report),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    try:
        assert server.stdout is not None
        url = server.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        lam: Any = boto3.client(
            "lambda", endpoint_url=url, region_name="us-east-1",
            aws_access_key_id="x", aws_secret_access_key="x",
        )  # fmt: skip
        response = lam.invoke(FunctionName="fails", Payload=b"{}")
        assert response["FunctionError"] == "Unhandled"
        assert json.loads(response["Payload"].read())["errorType"] == "ValueError"
        event = lam.invoke(FunctionName="fails", InvocationType="Event", Payload=b"{}")
        assert event["Payload"].read() == b""
        rid = event["ResponseMetadata"]["RequestId"]
        lam.close()
    finally:
        server.send_signal(stop)
        _, err = server.communicate(timeout=30)
    assert server.returncode == 0
    assert "[ERROR] ValueError: something went wrong" in err
    assert err.endswith("stopped; 1 event outcome(s) recorded, 1 cancelled\n")
    (outcome,) = json.loads(report.read_text())["fails"]
    assert (outcome["request_id"], outcome["kind"]) == (rid, "Cancelled")


def test_serve_bad_input_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "serve", "--handler", HELLO, "--port", "70000")
    assert (code, out, err.count("\n")) == (2, "", 1)
    assert "--port=70000 is invalid" in err
