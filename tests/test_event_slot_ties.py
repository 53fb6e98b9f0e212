"""A slot released at an instant is free to an Event retry due at that same instant.

A wake-up of the Event dispatch left in place (not cancelled and booked again) runs before
the attempt ends booked after it at the same instant, and throttles events while a slot is
free: this property fails on that.
"""

from __future__ import annotations

import random
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from invokemodels import EventInvokeConfig, EventInvoker, Function, History, Outcome, Scheduler


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**16),
    cap=st.integers(1, 3),
    events=st.integers(5, 40),
    took=st.sampled_from([1.0, 2.0, 3.0, 2.5]),
    p_fail=st.sampled_from([0.0, 0.2, 0.5]),
)
def test_no_throttle_while_a_slot_is_free(
    seed: int, cap: int, events: int, took: float, p_fail: float
) -> None:
    rng = random.Random(seed)
    failing = {i for i in range(events) if rng.random() < p_fail}
    seen: dict[str, int] = {}

    def handler(event: Any, context: Any) -> Any:
        count = seen[context.aws_request_id] = seen.get(context.aws_request_id, 0) + 1
        context.spend(took)
        if event["n"] in failing and count <= 2:
            raise ConnectionError("unavailable")
        return {}

    sched = Scheduler()
    history = History()
    invoker = EventInvoker(
        Function("f", handler, timeout=10, reserved_concurrency=cap),
        EventInvokeConfig(),
        scheduler=sched,
        seed=seed,
        history=history,
    )
    for i in range(events):
        sched.at(float(i), invoker.invoke, {"n": i})
    sched.run_until_idle()
    spans = list(history)
    ran = [s for s in spans if s.outcome is not Outcome.THROTTLED]
    for span in spans:
        if span.outcome is Outcome.THROTTLED:
            t = span.started_at
            running = sum(1 for o in ran if o.started_at <= t < o.ended_at)
            assert running >= cap, f"throttled at {t} with {running} of {cap} slots in use"
