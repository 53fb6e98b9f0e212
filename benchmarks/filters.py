"""Cost of event filtering per record: compiling criteria, building a view, matching it.

Run: ``python benchmarks/filters.py [--rounds N] [--loops N]``.

The "typical" criteria are three filters on an SQS mapping: an equality and a
numeric range on the JSON body, a prefix on a body field, and an anything-but
on a message attribute.  The record is the SQS record of reference 5.1 with a
small JSON body.  ``match`` times `FilterCriteria.matches` on a prepared view;
``view + match`` adds `filter_view` (parsing the body), which is what a mapping
pays per record.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable

from invokemodels import FilterCriteria
from invokemodels.mapping import filter_view

RECORD = {
    "messageId": "059f36b4-87a3-44ab-83d2-661975830a7d",
    "receiptHandle": "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a...",
    "body": json.dumps(
        {"kind": "order", "total": 120.5, "region": "eu-west-1", "items": [{"sku": "A-1"}]}
    ),
    "attributes": {
        "ApproximateReceiveCount": "1",
        "SentTimestamp": "1545082649183",
        "SenderId": "AIDAIENQZJOLO23YVJ4VO",
        "ApproximateFirstReceiveTimestamp": "1545082649185",
    },
    "messageAttributes": {},
    "md5OfBody": "e4e68fb7bd0e697a0ae8f1bb342846b3",
    "eventSource": "aws:sqs",
    "eventSourceARN": "arn:aws:sqs:us-east-2:123456789012:my-queue",
    "awsRegion": "us-east-2",
}

FILTERS = {
    "Filters": [
        {"Pattern": '{"body": {"kind": ["refund"], "total": [{"numeric": [">", 100]}]}}'},
        {"Pattern": '{"body": {"region": [{"prefix": "us-"}]}}'},
        {
            "Pattern": json.dumps(
                {
                    "body": {"kind": ["order"], "total": [{"numeric": [">", 100, "<=", 500]}]},
                    "attributes": {"SenderId": [{"anything-but": ["blocked"]}]},
                }
            )
        },
    ]
}


def per_call_ns(fn: Callable[[], object], loops: int, rounds: int) -> float:
    """The median over ``rounds`` of the mean CPU ns per call of ``loops`` calls.

    CPU time (``process_time``) rather than wall time: it stays steady on a busy machine.
    """
    samples = []
    for _ in range(rounds):
        start = time.process_time_ns()
        for _ in range(loops):
            fn()
        samples.append((time.process_time_ns() - start) / loops)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--loops", type=int, default=20_000)
    args = parser.parse_args()

    criteria = FilterCriteria.from_dict(FILTERS)
    view = filter_view(RECORD)
    assert criteria.matches(view), "the typical record must match its third filter"
    miss = filter_view({**RECORD, "body": '{"kind": "audit"}'})
    assert not criteria.matches(miss)

    compile_ns = per_call_ns(
        lambda: FilterCriteria.from_dict(FILTERS), max(1, args.loops // 10), args.rounds
    )
    match_ns = per_call_ns(lambda: criteria.matches(view), args.loops, args.rounds)
    miss_ns = per_call_ns(lambda: criteria.matches(miss), args.loops, args.rounds)
    view_ns = per_call_ns(lambda: criteria.matches(filter_view(RECORD)), args.loops, args.rounds)
    empty = FilterCriteria()
    empty_ns = per_call_ns(lambda: empty.matches(view), args.loops, args.rounds)

    print(f"compile 3 filters            {compile_ns / 1000:8.1f} us")
    print(f"match (3rd filter matches)   {match_ns:8.0f} ns")
    print(f"match (no filter matches)    {miss_ns:8.0f} ns")
    print(f"view + match (parse body)    {view_ns:8.0f} ns")
    print(f"no filters                   {empty_ns:8.0f} ns")


if __name__ == "__main__":
    main()
