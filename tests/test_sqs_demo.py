"""The SQS section of ``invokemodels demo``."""

from __future__ import annotations

import io

from invokemodels._cli import _demo_sqs
from invokemodels._cli import _main as cli


def test_sqs_section_is_listed() -> None:
    assert "invokemodels._cli._demo_sqs" in cli.DEMO_SECTIONS


def test_sqs_demo_prints_the_redrive_and_the_partial_batch() -> None:
    out = io.StringIO()
    _demo_sqs.run(out, seed=1)
    lines = out.getvalue().splitlines()
    assert lines[1:5] == [
        "  t=   0.00s  invoke: 'order-1' ApproximateReceiveCount=1 -> ok",
        "  t=   0.00s  invoke: 'poison' ApproximateReceiveCount=1 -> fails",
        "  t=  30.00s  invoke: 'poison' ApproximateReceiveCount=2 -> fails",
        "  t=  60.00s  invoke: 'poison' ApproximateReceiveCount=3 -> fails",
    ]
    assert "  t=  90.00s  'poison' moved_to_dlq: ApproximateReceiveCount=3 reached" in "\n".join(
        lines
    )
    assert "  t=  90.00s  orders-dlq now holds ['poison']" in lines
    timeline = lines.index(
        "  timeline (the first batch succeeded, one of its three messages failed):"
    )
    assert lines[timeline - 3 : timeline] == [
        "  t=   0.00s  invoke: batch ['a', 'b', 'c'], reports 1 failure(s)",
        "  t=  20.00s  invoke: batch ['b'], reports 0 failure(s)",
        "  t=  20.00s  3 messages deleted (processed, processed, processed), 0 left in the queue",
    ]
    # The timeline names the failed item of the partial batch response.
    batches = [line for line in lines[timeline + 1 :] if " batch " in line]
    assert len(batches) == 2
    assert "Success" in batches[0]
    assert "; 1 of 3 reported failed [" in batches[0]
    assert "1 record [" in batches[1]
    assert "oldest message age 20.000s" in batches[1]


def test_sqs_demo_is_deterministic() -> None:
    first, second = io.StringIO(), io.StringIO()
    _demo_sqs.run(first, seed=5)
    _demo_sqs.run(second, seed=5)
    assert first.getvalue() == second.getvalue()
