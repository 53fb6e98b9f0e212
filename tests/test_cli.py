"""The ``invokemodels`` command line, run in-process."""

from __future__ import annotations

import argparse
import base64
import io
import json
import runpy
import subprocess
import sys
from pathlib import Path
from typing import Any, TextIO

import pytest

from invokemodels import Function
from invokemodels._cli import _main as cli

HELLO = "invokemodels.examples:hello"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_invoke_prints_metadata_and_writes_the_payload_to_stdout(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run(capsys, "invoke", "--handler", HELLO, "--payload", '{"name": "x"}', "-")
    assert code == 0
    # OUTFILE -: standard output is the payload alone; the log, then the metadata, on stderr.
    assert json.loads(out) == {"message": "Hello, x!"}
    log, metadata = err.split("\n{", 1)
    assert log.startswith("START RequestId: ")
    assert "\nEND RequestId: " in log
    assert json.loads("{" + metadata) == {"StatusCode": 200, "ExecutedVersion": "$LATEST"}
    assert "{" + metadata == '{\n    "StatusCode": 200,\n    "ExecutedVersion": "$LATEST"\n}\n'


def metadata_of(err: str) -> Any:
    """The metadata a run with OUTFILE - wrote on stderr, after the log."""
    return json.loads("{" + err.split("\n{", 1)[1])


def test_invoke_writes_the_payload_to_a_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    outfile = tmp_path / "response.json"
    code, out, _ = run(capsys, "invoke", "--handler", HELLO, str(outfile))
    assert code == 0
    assert json.loads(out) == {"StatusCode": 200, "ExecutedVersion": "$LATEST"}
    assert json.loads(outfile.read_text()) == {"message": "Hello, world!"}


def test_function_error_adds_function_error_and_exits_0(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run(
        capsys, "invoke", "--handler", "invokemodels.examples:fail", "--payload", "{}", "-"
    )
    assert code == 0
    assert metadata_of(err) == {
        "StatusCode": 200,
        "FunctionError": "Unhandled",
        "ExecutedVersion": "$LATEST",
    }
    assert "\n[ERROR] ValueError: something went wrong\nTraceback (most recent call last):" in err
    document = json.loads(out)
    assert (document["errorType"], document["errorMessage"]) == (
        "ValueError",
        "something went wrong",
    )


def test_timeout_and_duration_options(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        capsys,
        "invoke",
        "--handler",
        "invokemodels.examples:slow",
        "--payload",
        '{"seconds": 4}',
        "--timeout",
        "2.5",
        "-",
    )
    assert code == 0
    assert json.loads(out)["errorMessage"].endswith("Task timed out after 2.50 seconds")
    assert metadata_of(err)["FunctionError"] == "Unhandled"
    assert "Task timed out after 2.50 seconds\nEND RequestId: " in err
    code, out, _ = run(
        capsys, "invoke", "--handler", "invokemodels.examples:context_info", "--memory", "1024",
        "--timeout", "10", "--duration", "4", "--function-name", "my-fn",
        "--qualifier", "live", "-",
    )  # fmt: skip
    seen = json.loads(out)
    assert seen["memory_limit_in_mb"] == "1024"
    assert seen["function_name"] == "my-fn"
    assert seen["invoked_function_arn"].endswith(":function:my-fn:live")
    assert seen["remaining_time_in_millis"] == 10000


def test_dry_run_prints_204_and_writes_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    outfile = tmp_path / "out.json"
    code, out, _ = run(
        capsys, "invoke", "--handler", HELLO, "--invocation-type", "DryRun", str(outfile)
    )
    assert (code, out) == (0, '{\n    "StatusCode": 204\n}\n')
    assert outfile.read_bytes() == b""
    code, out, _ = run(capsys, "invoke", "--handler", HELLO, "--invocation-type", "DryRun", "-")
    assert (code, out) == (0, '{\n    "StatusCode": 204\n}\n')


def test_payload_file_and_report(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    event = tmp_path / "event.json"
    event.write_text('{"name": "file"}')
    report = tmp_path / "report.json"
    code, out, _ = run(
        capsys, "invoke", "--handler", HELLO, "--payload-file", str(event),
        "--report", str(report), "--seed", "5", "-",
    )  # fmt: skip
    assert code == 0
    assert json.loads(out) == {"message": "Hello, file!"}
    data = json.loads(report.read_text())
    assert data["function"] == "arn:aws:lambda:us-east-1:123456789012:function:hello"
    assert data["invocation_type"] == "RequestResponse"
    [attempt] = data["attempts"]
    assert (attempt["started_at"], attempt["ended_at"], attempt["outcome"]) == (0.0, 0.0, "Success")
    assert attempt["status_code"] == 200
    assert len(attempt["request_id"]) == 36


def test_log_type_tail_prints_log_result(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "invoke", "--handler", HELLO, "--log-type", "Tail", "-")
    metadata = metadata_of(err)
    assert code == 0
    assert base64.b64decode(metadata["LogResult"]).decode().startswith("START RequestId: ")


def test_event_goes_to_the_event_hook(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[str, str, Any]] = []

    def hook(
        function: Function, payload: str, args: argparse.Namespace, stdout: TextIO, stderr: TextIO
    ) -> int:
        calls.append((function.name, payload, args.max_retry_attempts))
        stdout.write('{"StatusCode": 202}\n')
        return 0

    monkeypatch.setattr(cli, "_invoke_event", hook)
    code, out, _ = run(
        capsys, "invoke", "--handler", HELLO, "--invocation-type", "Event",
        "--payload", '{"a": 1}', "--max-retry-attempts", "1", "--max-event-age", "60", "-",
    )  # fmt: skip
    assert (code, out) == (0, '{"StatusCode": 202}\n')
    assert calls == [("hello", '{"a": 1}', 1)]


def test_event_invocation_answers_202(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "invoke", "--handler", HELLO, "--invocation-type", "Event", "-")
    assert code == 0
    assert json.loads(out) == {"StatusCode": 202}
    assert "outcome: Success after 1 invocation" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--handler", "no_such_module_xyz:fn"], "Runtime.ImportModuleError: Unable to import"),
        (["--handler", HELLO.replace("hello", "missing")], "Runtime.HandlerNotFound"),
        (["--handler", "nocolon"], "Handler='nocolon' is invalid"),
        (["--handler", HELLO, "--payload", "{bad"], "--payload is not valid JSON"),
        (["--handler", HELLO, "--payload", "NaN"], "--payload is not valid JSON: NaN"),
        (
            ["--handler", HELLO, "--payload", '{"a": Infinity}'],
            "--payload is not valid JSON: Infinity",
        ),
        (
            ["--handler", HELLO, "--payload-file", "/no/such/file.json"],
            "--payload-file: cannot read",
        ),
        (
            ["--handler", HELLO, "--timeout", "0"],
            "Timeout=0.0 is invalid: must be a number between 1",
        ),
        (["--handler", HELLO, "--timeout", "901"], "between 1 and 900"),
        (["--handler", HELLO, "--memory", "64"], "MemorySize=64 is invalid"),
        (["--handler", HELLO, "--memory", "lots"], "argument --memory: invalid int value"),
        (["--handler", HELLO, "--duration", "-1"], "duration=-1.0 is invalid"),
        (["--handler", HELLO, "--max-retry-attempts", "3"], "--max-retry-attempts=3 is invalid"),
        (["--handler", HELLO, "--max-event-age", "59"], "--max-event-age=59.0 is invalid"),
        (["--handler", HELLO, "--qualifier", "7"], "ResourceNotFoundException"),
        (["--handler", HELLO, "--invocation-type", "Later"], "invalid choice: 'Later'"),
        (["--handler", HELLO, "--payload", "{}", "--payload-file", "x"], "not allowed with"),
        ([], "give exactly one of --handler MOD:FN and --template FILE"),
    ],
)
def test_bad_input_is_one_line_on_stderr_and_exit_2(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, out, err = run(capsys, "invoke", *argv, "-")
    assert code == 2
    assert out == ""
    assert err.startswith("invokemodels: error: ")
    assert err.count("\n") == 1
    assert message in err
    assert "Traceback" not in err


def test_payload_file_that_is_not_utf8_is_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    binary = tmp_path / "event.bin"
    binary.write_bytes(b"\xff\xfe{}")
    code, out, err = run(capsys, "invoke", "--handler", HELLO, "--payload-file", str(binary), "-")
    assert (code, out) == (2, "")
    assert (
        err == f"invokemodels: error: --payload-file: {str(binary)!r} is not UTF-8 text: "
        "invalid start byte\n"
    )


def test_handler_module_that_raises_at_import_is_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "broken_at_import.py").write_text("raise RuntimeError('no config')\n")
    handler = f"{tmp_path}/broken_at_import.py:handler"
    code, out, err = run(capsys, "invoke", "--handler", handler, "-")
    assert (code, out) == (2, "")
    assert err == "invokemodels: error: --handler: RuntimeError: no config\n"


def test_payload_over_six_megabytes_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    big = tmp_path / "big.json"
    big.write_text(json.dumps("x" * 6_291_460))
    code, _, err = run(capsys, "invoke", "--handler", HELLO, "--payload-file", str(big), "-")
    assert code == 2
    assert err == (
        "invokemodels: error: An error occurred (RequestEntityTooLargeException) when calling "
        "the Invoke operation: Request must be smaller than 6291456 bytes for the InvokeFunction "
        "operation\n"
    )


def test_unwritable_outfile_and_report(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    missing_dir = tmp_path / "no" / "out.json"
    code, _, err = run(capsys, "invoke", "--handler", HELLO, str(missing_dir))
    assert (code, err.count("\n")) == (2, 1)
    assert "OUTFILE: cannot write" in err
    code, _, err = run(capsys, "invoke", "--handler", HELLO, "--report", str(missing_dir), "-")
    assert (code, err.count("\n")) == (2, 1)
    assert "--report: cannot write" in err


def test_no_command_prints_help_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys)
    assert code == 2
    assert "invoke" in out
    assert "demo" in out


def test_unknown_command_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "launch")
    assert (code, err.count("\n")) == (2, 1)
    assert "invalid choice: 'launch'" in err


def test_demo_runs_every_section(capsys: pytest.CaptureFixture[str]) -> None:
    assert "invokemodels._cli._demo_sync" in cli.DEMO_SECTIONS
    code, out, err = run(capsys, "demo")
    assert (code, err) == (0, "")
    assert "== Synchronous (RequestResponse)" in out
    assert "Task timed out after 3.00 seconds" in out
    assert "StatusCode 204" in out
    assert "ReservedFunctionConcurrentInvocationLimitExceeded" in out
    assert "ReadTimeoutError" in out
    assert "2 in flight at start" in out


def test_sync_demo_is_deterministic_per_seed(capsys: pytest.CaptureFixture[str]) -> None:
    from invokemodels._cli import _demo_sync

    outputs = []
    for seed in (4, 4, 5):
        _demo_sync.run(sys.stdout, seed=seed)
        outputs.append(capsys.readouterr().out)
    assert outputs[0] == outputs[1]
    assert outputs[0] != outputs[2]


def test_a_failing_demo_section_is_reported_and_the_others_still_run(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        cli, "DEMO_SECTIONS", ("no_such_demo_module_xyz", "invokemodels._cli._demo_sync")
    )
    code, out, err = run(capsys, "demo", "--seed", "2")
    assert code == 1
    assert err == (
        "invokemodels: demo section no_such_demo_module_xyz failed: "
        "ModuleNotFoundError: No module named 'no_such_demo_module_xyz'\n"
    )
    assert "== Synchronous (RequestResponse)" in out


def test_demo_sections_without_a_seed_parameter(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "plain_demo_section_xyz.py").write_text(
        "def run(out):\n    out.write('plain section\\n')\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(cli, "DEMO_SECTIONS", ("plain_demo_section_xyz",))
    assert run(capsys, "demo") == (0, "plain section\n", "")


def test_python_dash_m_runs_the_cli() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "invokemodels", "invoke", "--handler", HELLO, "-"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0
    assert json.loads(done.stdout) == {"message": "Hello, world!"}
    assert metadata_of(done.stderr) == {"StatusCode": 200, "ExecutedVersion": "$LATEST"}


@pytest.mark.parametrize(
    ("name", "payload", "expected", "function_error"),
    [
        ("echo", '{"a": [1, null]}', {"a": [1, None]}, None),
        ("unserializable", "{}", "Runtime.MarshalError", "Unhandled"),
        ("exits", '{"status": 3}', "Runtime.ExitError", "Unhandled"),
        ("hello", "[1]", {"message": "Hello, world!"}, None),
    ],
)
def test_example_handlers(
    capsys: pytest.CaptureFixture[str],
    name: str,
    payload: str,
    expected: Any,
    function_error: str | None,
) -> None:
    code, out, err = run(
        capsys, "invoke", "--handler", f"invokemodels.examples:{name}", "--payload", payload, "-"
    )
    body, metadata = json.loads(out), metadata_of(err)
    assert code == 0
    assert metadata.get("FunctionError") == function_error
    assert (body if function_error is None else body["errorType"]) == expected


def test_main_module_in_process(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "argv", ["invokemodels", "invoke", "--handler", HELLO, "-"])
    monkeypatch.delitem(sys.modules, "invokemodels.__main__", raising=False)
    # The package's own pytest plugin makes pytest rewrite the package's asserts, through an
    # import hook that runpy cannot load a module's code from: import __main__ without it.
    monkeypatch.setattr(
        sys, "meta_path", [f for f in sys.meta_path if type(f).__name__ != "AssertionRewritingHook"]
    )
    with pytest.raises(SystemExit) as info:
        runpy.run_module("invokemodels", run_name="__main__")
    assert info.value.code == 0
    assert json.loads(capsys.readouterr().out) == {"message": "Hello, world!"}


class _ClosedPipe(io.StringIO):
    def write(self, text: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")


def test_a_closed_stdout_stops_the_demo_quietly(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdout", _ClosedPipe())
    assert cli.main(["demo"]) == 1
    assert capsys.readouterr().err == ""


def test_a_closed_stdout_file_descriptor_is_pointed_at_devnull(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with (tmp_path / "stdout").open("w") as target:

        class Pipe(_ClosedPipe):
            def fileno(self) -> int:
                return target.fileno()

        monkeypatch.setattr(sys, "stdout", Pipe())
        assert cli.main(["invoke", "--handler", HELLO, "-"]) == 1
        target.write("discarded")
    assert (tmp_path / "stdout").read_text() == ""
    assert capsys.readouterr().err == ""


def _cli(*argv: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "invokemodels", *argv],
        capture_output="stdout" not in kwargs,
        stderr=subprocess.PIPE if "stdout" in kwargs else None,
        text=True,
        check=False,
        **kwargs,
    )


@pytest.mark.parametrize("command", [["invoke", "--handler", HELLO, "-"], ["demo"]])
def test_a_closed_stdout_is_one_line_and_exit_1(command: list[str]) -> None:
    closed = subprocess.run(
        ["sh", "-c", '"$0" -m invokemodels "$@" >&-', sys.executable, *command],
        stderr=subprocess.PIPE,
        text=True,
        check=False,
    )
    assert (closed.returncode, closed.stderr) == (
        1,
        "invokemodels: error: standard output is closed\n",
    )


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
@pytest.mark.parametrize(
    "command",
    [
        ["invoke", "--handler", HELLO, "-"],
        ["invoke", "--handler", HELLO, "--invocation-type", "Event", "-"],
        ["demo"],
    ],
)
def test_stdout_on_a_full_device_is_one_line_and_exit_1(command: list[str]) -> None:
    with Path("/dev/full").open("w") as full:
        done = _cli(*command, stdout=full)
    assert (done.returncode, done.stderr) == (
        1,
        "invokemodels: error: cannot write standard output: No space left on device\n",
    )


@pytest.mark.parametrize(
    ("module", "reason"),
    [
        ("raise KeyboardInterrupt\n", "Runtime exited with error: signal: interrupt"),
        ("import sys\nsys.exit(7)\n", "Runtime exited with error: exit status 7"),
        ("raise GeneratorExit\n", "Runtime exited with error: exit status 1"),
    ],
)
def test_a_handler_module_that_exits_at_import_is_the_runtimes_exit_error(
    tmp_path: Path, module: str, reason: str
) -> None:
    (tmp_path / "exits_at_import.py").write_text(module)
    done = _cli("invoke", "--handler", f"{tmp_path}/exits_at_import.py:handler", "-")
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == f"invokemodels: error: --handler: Runtime.ExitError: {reason}\n"


def test_a_handler_raising_a_custom_base_exception_is_a_function_error(tmp_path: Path) -> None:
    (tmp_path / "custom_base.py").write_text(
        "class Stop(BaseException):\n    pass\n\ndef handler(event, context):\n    raise Stop\n"
    )
    done = _cli("invoke", "--handler", f"{tmp_path}/custom_base.py:handler", "--seed", "3", "-")
    assert done.returncode == 0
    payload, metadata = json.loads(done.stdout), metadata_of(done.stderr)
    assert metadata == {
        "StatusCode": 200,
        "FunctionError": "Unhandled",
        "ExecutedVersion": "$LATEST",
    }
    assert payload["errorType"] == "Runtime.ExitError"
    assert payload["errorMessage"].endswith(" Error: Runtime exited with error: exit status 1")


def test_an_interrupt_outside_the_handler_is_one_line_and_exit_130(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(*args: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "_read_payload", interrupted)
    assert run(capsys, "invoke", "--handler", HELLO, "-") == (
        130,
        "",
        "invokemodels: interrupted\n",
    )
