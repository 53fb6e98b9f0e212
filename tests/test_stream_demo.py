"""The streams section of ``invokemodels demo``."""

from __future__ import annotations

import io

from invokemodels._cli import _main as cli
from invokemodels._cli._demo_streams import run


def test_streams_demo_is_listed_and_prints_the_blocked_shard_timeline() -> None:
    assert "invokemodels._cli._demo_streams" in cli.DEMO_SECTIONS
    out = io.StringIO()
    run(out, seed=1)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("== Kinesis mapping: a poison record blocks its shard")
    assert lines[1:6] == [
        "  t=   0.00s  invoke ['order-1', 'poison'] -> fails",
        "  t=   1.00s  invoke ['order-1', 'poison'] -> fails",
        "  t=   2.00s  invoke ['order-1', 'poison'] -> fails",
        "  t=   3.00s  invoke ['order-1', 'poison'] -> fails",
        "  t=   3.00s  invoke ['order-2', 'order-3'] -> ok",
    ]
    assert "  t=   3.00s  'poison' discarded (RetryAttemptsExhausted)" in lines
    # The timeline says why a good record was not processed: it went with its batch.
    [why] = [line for line in lines if line.startswith("  why 'order-1' was not processed: ")]
    assert "discarded (RetryAttemptsExhausted)" in why
    assert "4 of them batches of up to 2 records that ended FunctionError ValueError" in why
    assert why.endswith("no partial batch response named it: it went with its batch")
    assert lines[-1] == (
        "  t=   3.00s  on-failure record: RetryAttemptsExhausted, batchSize=1, "
        "approximateInvokeCount=2"
    )
    again = io.StringIO()
    run(again, seed=1)
    assert again.getvalue() == out.getvalue()
