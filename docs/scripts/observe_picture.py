"""Draw ``docs/images/observe-timeline.svg``: ten minutes of three models on one clock.

Run ``python docs/scripts/observe_picture.py`` after changing the picture or the scenario;
``tests/test_observe.py`` checks that the checked-in file is what this script draws.

- ``charge`` (Event, reserved concurrency 2): 60 events in the first minute, each taking
  3 s; one in five fails twice before it succeeds, so retries come back 1 and 2 minutes later
  and throttled events wait in the service queue.
- ``consumer`` (Kinesis, one shard): a poison record blocks the shard until its retries run
  out; the iterator age climbs, then drops when the shard moves on.
- ``worker`` (SQS): 40 messages, 2 s each, five batches in parallel at most.
"""

from __future__ import annotations

import base64
import random
import sys
from pathlib import Path
from typing import Any

from invokemodels import (
    EventInvokeConfig,
    EventInvoker,
    Function,
    History,
    KinesisStream,
    Queue,
    Scheduler,
    SQSMappingConfig,
    StreamMappingConfig,
)
from invokemodels.observe import Timeline

PICTURE = Path(__file__).resolve().parent.parent / "images" / "observe-timeline.svg"


def timeline(seed: int = 1) -> Timeline:
    """The scenario's timeline (the same seed, the same timeline)."""
    sched = Scheduler()
    history = History()
    rng = random.Random(seed)
    failing = {i for i in range(60) if rng.random() < 0.2}
    seen: dict[str, int] = {}

    def charge(event: Any, context: Any) -> Any:
        count = seen[context.aws_request_id] = seen.get(context.aws_request_id, 0) + 1
        context.spend(3.0)
        if event["order"] in failing and count <= 2:
            raise ConnectionError("payment service unavailable")
        return {"charged": event["order"]}

    invoker = EventInvoker(
        Function("charge", charge, timeout=10, reserved_concurrency=2),
        EventInvokeConfig(),
        scheduler=sched,
        seed=seed,
        history=history,
    )
    for i in range(60):
        sched.at(i * 1.0, lambda i=i: invoker.invoke({"order": i}))

    stream = KinesisStream("orders", scheduler=sched)

    def consumer(event: Any, context: Any) -> None:
        context.spend(0.5)
        for record in event["Records"]:
            if base64.b64decode(record["kinesis"]["data"]) == b"poison":
                raise ValueError("cannot parse order")

    mapping = stream.map_to(
        Function("consumer", consumer),
        StreamMappingConfig(
            starting_position="TRIM_HORIZON", batch_size=5, maximum_retry_attempts=20
        ),
        seed=seed,
        history=history,
    )
    for i in range(40):
        data = "poison" if i == 8 else f"order-{i}"
        sched.at(i * 4.0, lambda d=data: stream.put_record(d, partition_key="k"))

    queue = Queue("jobs", scheduler=sched, seed=seed)
    jobs = queue.map_to(
        Function("worker", lambda event, context: None, duration=2.0),
        SQSMappingConfig(batch_size=2, maximum_concurrency=5),
        seed=seed,
        history=history,
    )
    for i in range(40):
        sched.at(30 + i * 0.5, lambda i=i: queue.send_message(f"job-{i}"))

    sched.run_until_idle()
    return Timeline.from_history(history, sources=[invoker, mapping, jobs])


def picture() -> str:
    """The SVG text of the picture."""
    return timeline().svg(title="charge (Event), consumer (Kinesis), worker (SQS): one clock")


if __name__ == "__main__":
    PICTURE.write_text(picture(), encoding="utf-8")
    sys.stdout.write(f"wrote {PICTURE}\n")
