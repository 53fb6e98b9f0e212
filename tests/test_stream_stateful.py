"""A stream mapping driven by random puts, clock advances and enable/disable, against a plain
model: per partition key, records end in the order they were put, each exactly once."""

from __future__ import annotations

import base64
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from invokemodels import Function, KinesisStream, Scheduler, StreamMappingConfig, VirtualClock

KEYS = ("a", "b", "c", "d")


class StreamMappingMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.sched = Scheduler(VirtualClock(epoch_origin=1_700_000_000.0))
        self.stream = KinesisStream("s", shard_count=2, scheduler=self.sched)
        self.remaining: list[int] = []
        self.keys: list[str] = []
        self.by_sequence: dict[str, int] = {}
        self.mapping: Any = None
        self.failed_ever = False

    @initialize(
        batch_size=st.integers(1, 4),
        parallelization=st.integers(1, 3),
        bisect=st.booleans(),
        report=st.booleans(),
        retries=st.sampled_from([-1, 0, 2]),
        age=st.sampled_from([-1, 60, 3600]),
        duration=st.sampled_from([0.0, 0.4]),
    )
    def start(
        self,
        batch_size: int,
        parallelization: int,
        bisect: bool,
        report: bool,
        retries: int,
        age: int,
        duration: float,
    ) -> None:
        def handler(event: Any, context: Any) -> Any:
            failing = []
            for record in event["Records"]:
                index = int(base64.b64decode(record["kinesis"]["data"]))
                if self.remaining[index] > 0:
                    self.remaining[index] -= 1
                    failing.append({"itemIdentifier": record["kinesis"]["sequenceNumber"]})
            if failing and not report:
                raise RuntimeError("failed")
            return {"batchItemFailures": failing}

        config = StreamMappingConfig(
            starting_position="TRIM_HORIZON",
            batch_size=batch_size,
            parallelization_factor=parallelization,
            bisect_batch_on_function_error=bisect,
            function_response_types=["ReportBatchItemFailures"] if report else [],
            maximum_retry_attempts=retries,
            maximum_record_age=age,
        )
        fn = Function("f", handler, duration=duration)
        self.mapping = self.stream.map_to(fn, config, seed=5, retry_delay=300.0)

    @rule(key=st.sampled_from(KEYS), fails=st.sampled_from([0, 0, 1, 3, 10**6]))
    def put(self, key: str, fails: int) -> None:
        index = len(self.keys)
        self.failed_ever = self.failed_ever or fails > 0
        self.keys.append(key)
        self.remaining.append(fails)
        put = self.stream.put_record(str(index), key)
        self.by_sequence[put["SequenceNumber"]] = index

    @rule(seconds=st.sampled_from([0.1, 1.0, 5.0, 600.0, 3600.0]))
    def advance(self, seconds: float) -> None:
        self.sched.run_for(seconds)

    @precondition(lambda self: self.mapping is not None and self.mapping.enabled)
    @rule()
    def disable(self) -> None:
        self.mapping.disable()

    @precondition(lambda self: self.mapping is not None and not self.mapping.enabled)
    @rule()
    def enable(self) -> None:
        self.mapping.enable()

    @rule()
    def drain(self) -> None:
        if not self.mapping.enabled:
            self.mapping.enable()
        self.sched.run_until_idle(max_steps=100_000)
        assert self.mapping.poller.pending == 0
        assert len(self.mapping.poller.outcomes) == len(self.keys)

    @invariant()
    def each_key_ends_in_put_order_exactly_once(self) -> None:
        if self.mapping is None:
            return
        poller = self.mapping.poller
        ended = [self.by_sequence[o.sequence_number] for o in poller.outcomes]
        assert len(ended) == len(set(ended))
        assert len(ended) + poller.pending == len(self.keys)
        for key in KEYS:
            mine = [i for i in ended if self.keys[i] == key]
            put_order = [i for i, k in enumerate(self.keys) if k == key]
            assert mine == put_order[: len(mine)]

    @invariant()
    def retries_run_out_only_when_some_record_failed(self) -> None:
        if self.mapping is None or self.failed_ever:
            return
        for outcome in self.mapping.poller.outcomes:
            assert outcome.condition != "RetryAttemptsExhausted"


StreamMappingMachine.TestCase.settings = settings(
    max_examples=50, stateful_step_count=25, deadline=None
)
TestStreamMapping = StreamMappingMachine.TestCase
