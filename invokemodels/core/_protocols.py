"""The public protocols of the core, in one place, with the values they speak.

Every model stands on these, and a user's implementation gets exactly what a built-in one
gets:

- `Invoker`: invoke a function with a payload, get an `InvokeResponse` (the sync and Event
  models, the SDK client).
- `RetryPolicy`: decide whether and when a failed attempt is tried again, from a `Failure`
  (values and the `CombinedPolicy` combinator in `invokemodels.core._retry`).
- `ServiceQueue`: the queue where asynchronous events wait between attempts.
- `Poller`: a source's side of an event source mapping; it hands out `Batch` values and is
  told each `BatchOutcome`.  A `BindablePoller` is also handed the mapping's `PollerHandle`
  (the clock, the seeded rng, the function's `FunctionIdentity`, wake-ups, on-failure
  deliveries) once, when the mapping is created.
- `Destination`: where invocation records are delivered (`Delivery` says from where);
  `DeadLetterQueue` and `DeadLetterTopic` receive dead letters.

The `Clock` protocol lives with the clocks in `invokemodels.core._clock`.  Reference
implementations do not inherit from these; conformance is checked statically
(``tests/typing/``).
"""

from __future__ import annotations

import json
import random
from collections.abc import Hashable, Sequence
from typing import Any, Protocol, TypeVar

import attrs

from invokemodels.core._function import AttemptResult
from invokemodels.core._history import Outcome
from invokemodels.core._retry import Decision, Failure

__all__ = [
    "Batch",
    "BatchOutcome",
    "BindablePoller",
    "DeadLetterQueue",
    "DeadLetterTopic",
    "Delivery",
    "Destination",
    "FunctionIdentity",
    "InvokeResponse",
    "Invoker",
    "Poller",
    "PollerHandle",
    "RetryPolicy",
    "ServiceQueue",
]

T = TypeVar("T")


@attrs.frozen
class InvokeResponse:
    """What the Invoke API returns (``botocore``'s ``InvocationResponse``).

    Attributes:
        status_code: 200 (``RequestResponse``), 202 (``Event``) or 204 (``DryRun``).
            200 even when the function failed.
        payload: the response body bytes: the return value as JSON, the
            function's error document, or ``b""`` (``Event``, ``DryRun``).
        function_error: ``"Unhandled"`` when the function failed, else None.
        executed_version: the version that ran (``"$LATEST"`` or digits), None when nothing ran.
        request_id: the invocation's request id (``x-amzn-RequestId``).
        log_result: base64 of the last 4 KB of the log (``LogType=Tail``), if captured.
    """

    status_code: int
    payload: bytes = b""
    function_error: str | None = None
    executed_version: str | None = None
    request_id: str = ""
    log_result: str | None = None

    def json(self) -> Any:
        """The payload parsed from JSON (None for an empty payload)."""
        return json.loads(self.payload) if self.payload else None

    def to_dict(self) -> dict[str, Any]:
        """The response keyed like boto3's ``invoke()`` result and the CLI's output."""
        out: dict[str, Any] = {"StatusCode": self.status_code}
        if self.function_error is not None:
            out["FunctionError"] = self.function_error
        if self.log_result is not None:
            out["LogResult"] = self.log_result
        if self.executed_version is not None:
            out["ExecutedVersion"] = self.executed_version
        return out


class Invoker(Protocol):
    """**Protocol**: invokes a function with a payload, as the Invoke API does.

    A payload is any JSON value; ``bytes`` are taken as a JSON document.
    Refusals (400, 413, 429, ...) raise `invokemodels.exceptions.InvocationError`.
    """

    def invoke(self, payload: Any) -> InvokeResponse: ...


class ServiceQueue(Protocol[T]):
    """**Protocol**: the queue where asynchronous events wait between attempts.

    Items become ready at a clock time (``ready_at``); `take` hands out the
    earliest ready item (ties in insertion order) or None.
    """

    def put(self, item: T, ready_at: float) -> None: ...

    def take(self, now: float) -> T | None: ...

    def next_ready_at(self) -> float | None: ...


class RetryPolicy(Protocol):
    """**Protocol**: decides whether, and after how long, a failed attempt is tried again.

    ``decide(failure, rng)`` is called once per failure, for built-in and custom
    policies alike, and answers with a `Decision`: ``Decision.after(delay)`` or
    ``Decision.stop(reason)``.  The reason reaches the records as it is: an ``Event``
    outcome's ``condition`` (the invocation record's ``requestContext.condition``), a
    `LambdaClient` attempt's ``reason``.  Randomness comes from ``rng`` only.

    Optional: ``succeeded(attempts)``, called when an attempt succeeds (after
    ``attempts`` tries), so stateful policies such as the SDK's standard-mode retry
    quota can refund tokens.  A stateless policy leaves it out (or sets it to None);
    a model looks it up once, when the model is made.  Compose policies with
    `CombinedPolicy` (``a | b`` for the built-ins).
    """

    def decide(self, failure: Failure, rng: random.Random) -> Decision: ...


@attrs.frozen
class Batch:
    """One invocation's worth of records, as a poller hands it to the loop.

    Attributes:
        event: the JSON value the function receives (e.g. ``{"Records": [...]}``).
        records: the poller's own handles for the records, in delivery order.
        lane: what the batch belongs to for ordering (a shard, a message group), if anything.
        ids: the ids of the records it carries (sequence numbers, message ids), for the
            batch's `Span` in the mapping's `History` (``History.of(id)``).
        attempt: 1-based number of this delivery of these records (the span's ``attempt``).
        request: ``event`` as JSON text, as `encode_payload` gives it (with the 6 MB
            limit), when the poller has it already (a retried batch it encoded before);
            None (the default): the loop encodes ``event``.
        enqueued_at: clock time the batch's items were accepted by their source, for the
            span's ``enqueued_at`` (a stream batch: its last record's arrival, so the span's
            ``dwell_time`` is the batch's ``IteratorAge``; an SQS batch: its oldest message's
            send), or None for the moment the batch is invoked.
        source: the ARN of the batch's event source (a stream or a queue), for the span.
        report_batch_item_failures: True when the function's partial batch response counts
            (``FunctionResponseTypes: ["ReportBatchItemFailures"]``): only then does the
            span's ``failed`` name the items it reported (default True, so a poller of
            your own shows any ``batchItemFailures`` it gets).
        duplicates: the ids among ``ids`` delivered as at-least-once duplicates (an SQS
            queue's duplicate copies), for the span's ``duplicates``; default none.
        chain: the chain of requests the batch belongs to, for recursive loop detection
            (the longest of its records' chains; see `invokemodels.core._chain`): once the
            function has been invoked 16 times in it, the loop does not invoke the batch
            and completes it as a function error without an attempt; default none.
    """

    event: Any
    records: tuple[Any, ...] = ()
    lane: Hashable = None
    ids: tuple[str, ...] = ()
    attempt: int = 1
    request: str | None = None
    enqueued_at: float | None = None
    source: str | None = None
    report_batch_item_failures: bool = True
    duplicates: tuple[str, ...] = ()
    chain: tuple[str, ...] = ()


@attrs.frozen
class BatchOutcome:
    """The result of invoking the function with one `Batch`.

    ``kind`` is `Outcome.SUCCESS`, `Outcome.FUNCTION_ERROR` or `Outcome.THROTTLED`.
    ``attempt`` is None when the invoke was throttled.  ``response()`` is the
    function's parsed response (for partial batch responses).
    """

    kind: Outcome
    request_id: str
    started_at: float
    ended_at: float
    attempt: AttemptResult | None = None
    throttle_reason: str | None = None

    @property
    def function_error(self) -> str | None:
        """``"Unhandled"`` for a function error, else None."""
        return None if self.attempt is None else self.attempt.function_error

    def response(self) -> Any:
        """The parsed response payload, or None when the batch never ran."""
        return None if self.attempt is None else json.loads(self.attempt.payload)


class Poller(Protocol):
    """**Protocol**: a source's side of an event source mapping.

    - ``poll(now, capacity)`` returns the batches to invoke now, at most
      ``capacity`` of them (the loop's free concurrency).  Records handed out
      are the poller's to track until `complete` is called for their batch.
    - ``complete(batch, outcome)`` applies the source's rules to the outcome
      (checkpoint, retry, bisect, discard, delete, ...).
    - ``next_poll_at(now)`` says when the loop should call `poll` again even
      if nothing completes (the polling cadence, a batching window closing, a
      retry backoff ending); None means "only after a completion".  Any float
      will do: the loop wakes at the first tick of the clock at or after it, so
      at that poll ``now >= next_poll_at``; and a time at or before ``now``
      after a poll that invoked nothing (every batch throttled, or none handed
      out) means the next tick, so a poller cannot stop the clock.
    """

    def poll(self, now: float, capacity: int) -> Sequence[Batch]: ...

    def complete(self, batch: Batch, outcome: BatchOutcome) -> None: ...

    def next_poll_at(self, now: float) -> float | None: ...


@attrs.frozen(kw_only=True)
class FunctionIdentity:
    """Who a mapping invokes, as a poller may need it (records, ARNs, visibility timeouts).

    Attributes:
        name: ``FunctionName``.
        arn: the function ARN (``arn:aws:lambda:<region>:<account>:function:<name>``).
        region: the function's Region.
        account_id: the function's 12-digit account id.
        timeout: the function's ``Timeout`` in seconds (an SQS mapping sizes its
            visibility timeout from it).
    """

    name: str
    arn: str
    region: str
    account_id: str
    timeout: float


class PollerHandle(Protocol):
    """**Protocol**: what a poller may ask of the mapping that drives it.

    The loop (`EventSourceMapping`) hands one to a `BindablePoller` once, when the mapping
    is created.  It is the poller's only way to the mapping: a poller that keeps time, draws
    randomness and wakes the loop through it gives the same timeline for the same seed.

    - ``now()`` is the clock time (seconds); ``epoch()`` the same moment as Unix time.
    - ``rng`` is the mapping's seeded `random.Random` (jitter, request ids).
    - ``function`` is the invoked function's `FunctionIdentity`; ``uuid`` the mapping's id.
    - ``wake()`` asks the loop to poll now, ``wake_at(when)`` at a clock time (an earlier
      pending wake-up wins; a past time means now).  Nothing happens while the mapping is
      disabled: enabling it polls at once.
    - ``send_on_failure(destination, record, shard_id=...)`` delivers an on-failure record:
      the loop builds the `Delivery` (the function's ARN, Region and account, the epoch,
      the S3 prefix ``aws/lambda/<uuid>/<shard_id>/``, the rng).  A destination that
      raises does not stop the mapping: the failure is counted in the mapping's
      ``destination_delivery_failures`` (``DestinationDeliveryFailures``), what was raised
      is kept in its ``delivery_errors``, and the description is returned (None when the
      destination took the record).
    - ``recording`` is True when the mapping's `History` keeps spans: a poller may skip
      work that only a batch's span needs (such as `Batch.enqueued_at`) when it is False.
    """

    @property
    def function(self) -> FunctionIdentity: ...

    @property
    def recording(self) -> bool: ...

    @property
    def uuid(self) -> str: ...

    @property
    def rng(self) -> random.Random: ...

    def now(self) -> float: ...

    def epoch(self) -> float: ...

    def wake(self) -> None: ...

    def wake_at(self, when: float) -> None: ...

    def send_on_failure(
        self, destination: Destination, record: dict[str, Any], *, shard_id: str = ...
    ) -> str | None: ...


class BindablePoller(Poller, Protocol):
    """**Protocol**: a `Poller` that wants the mapping's `PollerHandle`.

    ``bind(handle)`` is called once, when the `EventSourceMapping` is created (before it
    starts): read what the source holds, subscribe to its writes, keep the handle.  A
    poller without ``bind`` is driven all the same.
    """

    def bind(self, handle: PollerHandle) -> None: ...


@attrs.frozen(kw_only=True)
class Delivery:
    """Where a record comes from, so a target can deliver it the way AWS does.

    Attributes:
        function_arn: the function's qualified ARN.
        success: True for an on-success record, False for on-failure.
        epoch: Unix time of the delivery (EventBridge ``time``, S3 key date).
        region: the function's Region.
        account_id: the function's account.
        s3_prefix: the S3 key prefix: ``aws/lambda/async/<function-name>/`` for
            asynchronous invocations, ``aws/lambda/<ESM-UUID>/<shardID>/`` for mappings.
        rng: randomness for ids in envelopes and keys.
    """

    function_arn: str
    success: bool
    epoch: float
    region: str
    account_id: str
    s3_prefix: str
    rng: random.Random


class Destination(Protocol):
    """**Protocol**: a target Lambda delivers invocation records to.

    ``arn`` identifies it (its service decides what delivery means and what
    validation applies); ``deliver`` receives the record as a JSON-ready dict.
    """

    @property
    def arn(self) -> str: ...

    def deliver(self, record: dict[str, Any], delivery: Delivery) -> None: ...


class DeadLetterQueue(Protocol):
    """**Protocol**: an SQS queue as a dead-letter target (`QueueTarget`, `invokemodels.aws.Queue`).

    ``arn`` must name a standard queue; ``send_message`` receives the original event and
    SQS-shaped message attributes.
    """

    @property
    def arn(self) -> str: ...

    def send_message(
        self, body: str, attributes: dict[str, dict[str, str]] | None = ...
    ) -> object: ...


class DeadLetterTopic(Protocol):
    """**Protocol**: an SNS topic as a dead-letter target (`Topic`).

    ``arn`` must name a standard topic; ``publish`` receives the original event and
    message attributes.
    """

    @property
    def arn(self) -> str: ...

    def publish(
        self, message: str, attributes: dict[str, dict[str, str]] | None = ...
    ) -> object: ...
