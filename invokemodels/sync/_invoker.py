"""The synchronous model: ``InvocationType`` ``RequestResponse`` and ``DryRun`` (reference 2).

The caller waits for the attempt to end and gets the function's result or its
error document with StatusCode 200; Lambda never retries a synchronous invoke
(the caller does, see `invokemodels.LambdaClient`).  ``DryRun`` validates the
request and answers 204 without running the handler.

`RequestResponseInvoker.invoke` is blocking in *virtual* time: it runs the
scheduler until the attempt's end, so other scheduled work interleaves.  The
non-blocking pair `start` / `wait` lets a caller give up early (a client read
timeout) while the attempt keeps running and holding its concurrency slot.
"""

from __future__ import annotations

import base64
import binascii
import collections
import json
import random
import re
from collections.abc import Callable, Mapping
from typing import Any, Final

import attrs

from invokemodels.core._context import ClientContext
from invokemodels.core._fast import positional_maker
from invokemodels.core._function import (
    SYNC_PAYLOAD_LIMIT,
    AttemptResult,
    Function,
    encode_payload,
    new_request_id,
)
from invokemodels.core._history import History, Model, Outcome, Span, new_history
from invokemodels.core._lifecycle import AttemptLifecycle
from invokemodels.core._logs import LogRecorder, watching
from invokemodels.core._protocols import InvokeResponse
from invokemodels.core._scheduler import Scheduler
from invokemodels.core._validate import (
    callable_value,
    instance_of,
    is_random,
    one_of,
    seeded,
)
from invokemodels.exceptions import (
    InvalidParameterValueError,
    InvalidRequestContentError,
    InvocationError,
    ResourceNotFoundError,
    TooManyRequestsError,
)

__all__ = [
    "CLIENT_CONTEXT_LIMIT",
    "LOG_RESULT_LIMIT",
    "PendingInvoke",
    "RequestResponseInvoker",
]

CLIENT_CONTEXT_LIMIT: Final = 3583
"""``ClientContext`` limit: up to 3,583 bytes of base64-encoded JSON (reference 1.2)."""

LOG_RESULT_LIMIT: Final = 4096
"""``LogResult`` carries the last 4 KB of the execution log, base64-encoded (reference 2.1)."""

_SYNC_TYPES: Final = ("RequestResponse", "DryRun")
_FOREVER: Final = float("inf")
_NEVER: Final = -_FOREVER
_LOG_TYPES: Final = ("None", "Tail")
_QUALIFIER = re.compile(r"^[a-zA-Z0-9$_-]{1,128}$")
_VERSION_QUALIFIER = re.compile(r"^(\$LATEST|[0-9]+)$")

ClientContextInput = ClientContext | Mapping[str, Any] | str
"""A ``ClientContext``: the object, its JSON as a mapping, or the base64 header text."""

Fault = Callable[[int, random.Random], "InvocationError | None"]
"""``fault(call_number, rng)``: an invocation error to raise instead of the call, or None."""


_SYNC_MODEL: Final = Model.REQUEST_RESPONSE
# The response of every call, built straight into its slots (see positional_maker).
_response = positional_maker(InvokeResponse)
_TAIL_RECORDER: Final = LogRecorder(keep=False)


def _call_span(
    function: str,
    request_id: str,
    started_at: float,
    arrived_at: float,
    ended_at: float,
    error_type: str | None,
    failed: bool,
    in_flight: int,
) -> Span:
    # A call that ran; built when the history is read (see History.defer).
    return Span(
        _SYNC_MODEL, function, request_id, 1, 1, arrived_at, started_at, ended_at,
        Outcome.FUNCTION_ERROR if failed else Outcome.SUCCESS, error_type, 200, None, 1, (),
        (), in_flight,
    )  # fmt: skip


class _CallLifecycle(AttemptLifecycle[None]):
    """The sync model's hook: a throttled call is a 429 (the caller waits for the end)."""

    __slots__ = ("invoker",)

    def __init__(self, invoker: RequestResponseInvoker) -> None:
        super().__init__(invoker.function, invoker.scheduler, invoker.history)
        self.invoker = invoker

    def throttled(self, job: None, request_id: str, reason: str, now: float) -> None:
        throttle = TooManyRequestsError(reason)
        self.invoker._refused(request_id, "RequestResponse", now, throttle)
        raise throttle


@attrs.define(repr=False, eq=False)
class PendingInvoke:
    """A synchronous invoke whose attempt is running: returned by `RequestResponseInvoker.start`.

    On a virtual clock the attempt's result is already known, but the caller
    only *sees* it once time reaches ``ended_at`` (`RequestResponseInvoker.wait`).
    A caller that stops waiting earlier (a client read timeout) simply drops
    the handle: the attempt still ends at ``ended_at`` and releases its slot then.
    """

    span: Span
    """The call's `Span` (the one the invoker's `History` records)."""
    response: InvokeResponse

    def __repr__(self) -> str:
        span = self.span
        return f"<PendingInvoke {span.request_id} {span.started_at!r}->{span.ended_at!r}>"

    @property
    def request_id(self) -> str:
        """The request id of the attempt."""
        return self.span.request_id

    @property
    def started_at(self) -> float:
        """Clock time the attempt started."""
        return self.span.started_at

    @property
    def ended_at(self) -> float:
        """Clock time the response is ready."""
        return self.span.ended_at


def _client_context(value: ClientContextInput | None) -> ClientContext | None:
    """Decode and check a ``ClientContext`` (base64 JSON object, at most 3,583 bytes)."""
    if value is None:
        return None
    if isinstance(value, str):
        encoded = value
        try:
            data = json.loads(base64.b64decode(value, validate=True))
        except (binascii.Error, ValueError):
            data = None
        if not isinstance(data, dict):
            msg = "Client context must be a valid Base64-encoded JSON object."
            raise InvalidRequestContentError(msg)
        context = ClientContext.from_dict(data)
    else:
        if isinstance(value, ClientContext):
            context = value
            data = attrs.asdict(value)
        elif isinstance(value, Mapping):
            data = dict(value)
            context = ClientContext.from_dict(data)
        else:
            raise InvalidParameterValueError(
                "ClientContext", value, "must be a ClientContext, a mapping or base64 JSON text"
            )
        try:
            text = json.dumps(data, allow_nan=False)
        except (TypeError, ValueError) as exc:
            msg = f"Client context must be a valid Base64-encoded JSON object: {exc}"
            raise InvalidRequestContentError(msg) from None
        encoded = base64.b64encode(text.encode()).decode()
    if len(encoded) > CLIENT_CONTEXT_LIMIT:
        raise InvalidParameterValueError(
            "ClientContext",
            f"<{len(encoded)} bytes of base64>",
            f"must be at most {CLIENT_CONTEXT_LIMIT} bytes once base64-encoded",
        )
    return context


@attrs.define(repr=False, eq=False, on_setattr=attrs.setters.NO_OP)
class RequestResponseInvoker:
    """The reference `Invoker` for synchronous invokes (``RequestResponse`` and ``DryRun``).

    Each `invoke` validates the payload (400 ``InvalidRequestContentException``,
    413 ``RequestEntityTooLargeException``), takes a concurrency slot (429
    ``TooManyRequestsException`` with AWS's ``Reason`` when none is free),
    runs one attempt through `Function.run_attempt`, waits until the attempt
    ends, and returns StatusCode 200, with ``FunctionError: Unhandled`` and the
    error document when the function failed.  Lambda does not retry.

    Args:
        function: the `Function` to invoke.
        scheduler: the scheduler (and clock) to run on (default: a new virtual one).
        seed: seeds request ids (or pass ``rng``).
        invocation_type: default ``InvocationType``: ``"RequestResponse"``
            (default) or ``"DryRun"``.  ``Event`` belongs to the Event model.
        qualifier: default ``Qualifier``: a version (must be the function's
            version, else 404 ``ResourceNotFoundException``) or an alias name.
            Aliases are not modelled: any alias resolves to the function's
            version, and appears in ``context.invoked_function_arn``.
        log_type: default ``LogType``: ``"None"`` (default) or ``"Tail"``, which
            captures the attempt's log as the Python runtime writes it (see
            `invokemodels.core.LogRecorder`: ``print``, ``sys.stderr`` and ``logging``
            lines in order between ``START`` and ``END``/``REPORT``, the ``[ERROR]``
            line of a function error) and returns its last 4 KB, base64-encoded, as
            ``LogResult``.  A `LogRecorder` watching the function sets the format
            (Text or JSON) and records the log too.
        client_context: default ``ClientContext`` (object, mapping, or base64
            JSON text; at most 3,583 bytes encoded); reaches the handler as
            ``context.client_context``.
        fault: ``fault(call_number, rng)`` returns an `InvocationError` to
            raise instead of running a call (to test callers against
            ``ServiceException`` 500s or throttles), or None.  See also `inject`.
        history: the `History` that gets a `Span` per call, refused and DryRun calls
            included (default: a new kept one; share one across models for one timeline;
            ``History(keep=False)`` keeps nothing).  A refused call's span has outcome
            `Outcome.THROTTLED` (429, ``error_type`` the throttle ``Reason``),
            `Outcome.SERVICE_ERROR` (5xx) or `Outcome.REFUSED` (``error_type`` the wire code).

    The configuration is validated when the invoker is made (not on later assignment).

    Example::

        fn = Function(name="greeter", handler=lambda event, context: {"hi": event})
        response = RequestResponseInvoker(fn, seed=1).invoke("world")
        assert (response.status_code, response.json()) == (200, {"hi": "world"})
    """

    function: Function = attrs.field(validator=instance_of("function", Function, "a Function"))
    scheduler: Scheduler = attrs.field(
        factory=Scheduler, validator=instance_of("scheduler", Scheduler, "a Scheduler")
    )
    seed: int | None = None
    rng: random.Random = attrs.field(
        default=attrs.Factory(lambda self: seeded(self.seed), takes_self=True), validator=is_random
    )
    invocation_type: str = attrs.field(
        default="RequestResponse", validator=one_of("InvocationType", _SYNC_TYPES)
    )
    qualifier: str | None = None
    log_type: str = attrs.field(default="None", validator=one_of("LogType", _LOG_TYPES))
    client_context: ClientContextInput | None = None
    fault: Fault | None = attrs.field(
        default=None,
        validator=callable_value("fault", "a callable fault(call_number, rng)", optional=True),
    )
    history: History = attrs.field(
        default=None,
        converter=new_history,
        validator=instance_of("history", History, "a History"),
    )
    _injected: collections.deque[InvocationError] = attrs.field(
        factory=collections.deque, init=False
    )
    _calls: int = attrs.field(default=0, init=False)
    _last_request_id: str = attrs.field(default="", init=False)
    _default_context: ClientContext | None = attrs.field(default=None, init=False)
    _lifecycle: _CallLifecycle = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        self._lifecycle = _CallLifecycle(self)
        self._check_qualifier(self.qualifier)
        self._default_context = _client_context(self.client_context)

    def __repr__(self) -> str:
        return (
            f"<RequestResponseInvoker {self.function.name} calls={self._calls} "
            f"in_flight={self.function.in_flight}>"
        )

    @property
    def now(self) -> float:
        """The scheduler's current time."""
        return self.scheduler.now

    @property
    def calls(self) -> int:
        """Invoke calls made so far (throttled and refused ones included)."""
        return self._calls

    @property
    def last_request_id(self) -> str:
        """The request id of the latest call, refused ones included ("" before any call)."""
        return self._last_request_id

    def inject(self, *errors: InvocationError) -> None:
        """Make the next calls raise ``errors``, one per call, in order (before ``fault``).

        For example ``inject(ServiceError("Internal error"))`` makes the next
        call fail with a 500 ``ServiceException`` without running the handler.
        """
        self._injected.extend(errors)

    def _check_qualifier(self, qualifier: str | None) -> None:
        if qualifier is None:
            return
        if not isinstance(qualifier, str) or not _QUALIFIER.match(qualifier):
            raise InvalidParameterValueError(
                "Qualifier", qualifier, "must be 1-128 characters of a-z, A-Z, 0-9, $, - and _"
            )
        if _VERSION_QUALIFIER.match(qualifier) and qualifier != self.function.version:
            msg = f"Function not found: {self.function.arn}:{qualifier}"
            raise ResourceNotFoundError(msg)

    # -- the Invoke call -----------------------------------------------------------------

    def invoke(
        self,
        payload: Any = None,
        *,
        invocation_type: str | None = None,
        qualifier: str | None = None,
        log_type: str | None = None,
        client_context: ClientContextInput | None = None,
    ) -> InvokeResponse:
        """``Invoke``: run the function on ``payload`` and wait for the response.

        ``payload`` is any JSON value; ``bytes`` are a JSON document (as
        boto3's ``Payload``).  Keyword arguments override the invoker's
        defaults for this call.  Raises `InvocationError` subclasses for
        refusals (400, 404, 413, 429, injected errors); a function error is
        *not* an exception: it is a 200 response with ``function_error``.

        The call returns when the clock reaches the attempt's end: on a
        virtual clock the scheduler runs until then, so other scheduled work
        interleaves.  Called from inside a scheduler callback, it cannot wait:
        it returns at once and the slot is released at the attempt's end.
        """
        _, response = self._call(
            payload, invocation_type, qualifier, log_type, client_context, _FOREVER
        )
        return response

    def start(
        self,
        payload: Any = None,
        *,
        invocation_type: str | None = None,
        qualifier: str | None = None,
        log_type: str | None = None,
        client_context: ClientContextInput | None = None,
    ) -> PendingInvoke:
        """Send an invoke and return at once with a `PendingInvoke` (no waiting).

        The same validation and refusals as `invoke`.  The attempt holds its
        concurrency slot until ``ended_at``, whether or not anyone waits for it.
        """
        span, response = self._call(
            payload, invocation_type, qualifier, log_type, client_context, _NEVER, span=True
        )
        assert span is not None
        return PendingInvoke(span, response)

    def call(
        self,
        payload: Any = None,
        *,
        invocation_type: str | None = None,
        qualifier: str | None = None,
        log_type: str | None = None,
        client_context: ClientContextInput | None = None,
        read_timeout: float | None = None,
    ) -> PendingInvoke:
        """One Invoke call as an SDK client with a ``read_timeout`` makes it.

        The same validation and refusals as `invoke`.  When the attempt ends within
        ``read_timeout`` seconds of its start (None: no limit) the call returns at its
        end, as `invoke` does, and ``pending.response`` is the answer.  Otherwise it
        returns when the client gives up, ``read_timeout`` seconds after the start (at
        once inside a scheduler callback), and the attempt runs on, holding its slot
        until ``pending.ended_at``: the client timed out when
        ``pending.ended_at - pending.started_at > read_timeout``.  `LambdaClient` makes
        every attempt through this method.
        """
        limit = _FOREVER if read_timeout is None else read_timeout
        span, response = self._call(
            payload, invocation_type, qualifier, log_type, client_context, limit, span=True
        )
        assert span is not None
        if span.ended_at - span.started_at > limit:
            self.sleep_until(span.started_at + limit)
        return PendingInvoke(span, response)

    def wait(self, pending: PendingInvoke) -> InvokeResponse:
        """Wait (in clock time) until ``pending``'s attempt ends; return its response."""
        self.sleep_until(pending.span.ended_at)
        return pending.response

    def sleep_until(self, when: float) -> None:
        """Let clock time pass until ``when``, running whatever the scheduler has due.

        A no-op inside a scheduler callback (time cannot pass in the middle of
        another event) and for times already past.
        """
        scheduler = self.scheduler
        if scheduler.running or when <= scheduler.clock.now():
            return
        scheduler.run(until=when)

    def _call(
        self,
        payload: Any,
        invocation_type: str | None,
        qualifier: str | None,
        log_type: str | None,
        client_context: ClientContextInput | None,
        patience: float,
        *,
        span: bool = False,
    ) -> tuple[Span | None, InvokeResponse]:
        """One call; waits for the attempt's end when it comes within ``patience`` seconds.

        Returns the call's `Span` when ``span`` is set (else None, and the history builds
        it when read).
        """
        kind = self.invocation_type if invocation_type is None else invocation_type
        if kind not in _SYNC_TYPES:
            raise InvalidParameterValueError(
                "InvocationType",
                kind,
                "must be one of RequestResponse | DryRun (Event is the asynchronous model)",
            )
        if log_type is None:
            tail = self.log_type == "Tail"
        elif log_type in _LOG_TYPES:
            tail = log_type == "Tail"
        else:
            raise InvalidParameterValueError("LogType", log_type, "must be one of None | Tail")
        self._calls = number = self._calls + 1
        clock = self.scheduler.clock
        now = clock.now()
        request_id = self._last_request_id = new_request_id(self.rng)
        # A refused call still has a request id and is logged, whatever refused it.
        try:
            if qualifier is None:
                qualifier = self.qualifier
            else:
                self._check_qualifier(qualifier)
            context = (
                self._default_context if client_context is None else _client_context(client_context)
            )
            request = encode_payload(payload, limit=SYNC_PAYLOAD_LIMIT)
            if self._injected:
                raise self._injected.popleft()
            if self.fault is not None:
                error = self.fault(number, self.rng)
                if error is not None:
                    raise error
        except (InvocationError, InvalidParameterValueError) as exc:
            self._refused(request_id, kind, now, exc)
            raise
        function = self.function
        history = self.history
        if kind == "DryRun":
            dry = Span(
                Model.DRY_RUN, function.name, request_id, 1, None, now, now, now,
                Outcome.DRY_RUN, None, 204,
            )  # fmt: skip
            history.record(dry)
            return dry, InvokeResponse(204, b"", None, None, request_id)
        # A throttle raises, in the lifecycle's ``throttled`` hook (`_CallLifecycle`).
        if tail:
            self._lifecycle.admit(None, request_id, now)
            in_flight = function.in_flight
            attempt, log_result = self._run_tailed(request, request_id, qualifier, context)
        else:
            ran = self._lifecycle.begin(None, request, request_id, now, qualifier, context)
            assert ran is not None
            attempt = ran
            in_flight = function._in_flight
            log_result = None
        ended = attempt.ended_at
        started = attempt.started_at
        wait = ended - started <= patience
        scheduler = self.scheduler
        if wait and scheduler.quiet_until(ended):
            # `_release_at`'s hot path, without its call: a lone invoke on a virtual clock.
            if ended > clock.now():  # an attempt of no modelled time moves nothing
                clock.sleep_until(ended)
            self._lifecycle.end(None, attempt, ended)
        else:
            self._release_at(attempt, wait=wait)
        function_error = attempt.function_error
        result: Span | None = None
        if span or history.keep:
            failed = function_error is not None
            error_type = (attempt.error_type or "Unhandled") if failed else None
            if span:
                result = _call_span(
                    function.name, request_id, started, now, ended, error_type, failed, in_flight
                )
                history.record(result)
            else:
                history.defer(_call_span, function.name, request_id, started, now, ended,
                              error_type, failed, in_flight)  # fmt: skip
        response = _response(
            200,
            attempt.payload.encode(),
            function_error,
            attempt.executed_version,
            request_id,
            log_result,
        )
        return result, response

    def _refused(
        self,
        request_id: str,
        kind: str,
        now: float,
        error: InvocationError | InvalidParameterValueError,
    ) -> None:
        history = self.history
        if not history.keep:
            return
        status = error.status_code
        if isinstance(error, TooManyRequestsError):
            outcome, error_type = Outcome.THROTTLED, error.reason
        elif status >= 500:
            outcome, error_type = Outcome.SERVICE_ERROR, error.code
        else:
            outcome, error_type = Outcome.REFUSED, error.code
        model = Model.DRY_RUN if kind == "DryRun" else _SYNC_MODEL
        history.record(
            Span(
                model,
                self.function.name,
                request_id,
                1,
                None,
                now,
                now,
                now,
                outcome,
                error_type,
                status,
            )
        )

    # -- helpers -------------------------------------------------------------------------

    def _release_at(self, attempt: AttemptResult, *, wait: bool) -> None:
        """End the attempt (its slot) at ``ended_at``; with ``wait``, let time pass until then."""
        scheduler = self.scheduler
        lifecycle = self._lifecycle
        ended_at = attempt.ended_at
        if wait and scheduler.quiet_until(ended_at):
            # Nothing else is due before the attempt ends (and no callback is running):
            # move the clock and end it directly, skipping the heap (the hot path of a
            # lone invoke).
            clock = scheduler.clock
            if ended_at > clock.now():  # an attempt of no modelled time moves nothing
                clock.sleep_until(ended_at)
            lifecycle.end(None, attempt, ended_at)
            return
        if ended_at <= scheduler.clock.now() and not scheduler.is_virtual:
            lifecycle.end(None, attempt, ended_at)  # a real clock: the attempt is already over
            return
        if wait and not scheduler.running:
            due = scheduler.next_due()
            if due is None or due > ended_at:
                # Nothing else is due before the attempt ends: move the clock and end it
                # directly, skipping the heap (the hot path of a lone invoke).
                clock = scheduler.clock
                if ended_at > clock.now():  # an attempt of no modelled time moves nothing
                    clock.sleep_until(ended_at)
                lifecycle.end(None, attempt, ended_at)
                return
            lifecycle.end(None, attempt)
            scheduler.run(until=ended_at)
            return
        lifecycle.end(None, attempt)

    def _run_tailed(
        self,
        request: str,
        request_id: str,
        qualifier: str | None,
        context: ClientContext | None,
    ) -> tuple[AttemptResult, str]:
        # A recorder watching the function gets this attempt's log too.
        recorder = watching(self.function) or _TAIL_RECORDER
        attempt, log = self._lifecycle.run_logged(recorder, request, request_id, qualifier, context)
        return attempt, log.tail(LOG_RESULT_LIMIT)
