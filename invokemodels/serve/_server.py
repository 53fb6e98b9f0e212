"""`InvokeServer`: Lambda's Invoke REST API on a loopback port, for any SDK.

``POST /2015-03-31/functions/{FunctionName}/invocations`` runs the in-process models on
the real clock (optionally scaled): ``RequestResponse`` and ``DryRun`` through a
synchronous call on the request's thread, ``Event`` through a `BackgroundEventInvoker`
per function (its queue, retries, destinations and dead-letter queue).

The HTTP side is the standard library's `http.server.ThreadingHTTPServer`: a thread per
connection, HTTP/1.1 keep-alive, nothing to install.  An SDK client holds a few
keep-alive connections and makes one request at a time on each, which is the load a
thread per connection serves well; what an invoke costs is the handler, not the socket.

Shutdown (`InvokeServer.close`, or ``SIGINT`` / ``SIGTERM`` under ``invokemodels
serve``) stops accepting, lets requests in progress finish, closes idle keep-alive
connections, then closes the Event invokers: queued events are cancelled (each ends
with an ``EventOutcomeKind.CANCELLED`` outcome, so none is lost without a record) unless
``drain`` is asked for, which waits for them.
"""

from __future__ import annotations

import base64
import binascii
import collections
import contextlib
import json
import random
import re
import socket
import sys
import threading
from collections.abc import Iterable, Mapping
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Final
from urllib.parse import parse_qs, unquote, urlsplit

import attrs
from typing_extensions import Self

from invokemodels.core._clock import ScaledClock
from invokemodels.core._context import ClientContext
from invokemodels.core._function import (
    EVENT_PAYLOAD_LIMIT,
    SYNC_PAYLOAD_LIMIT,
    AttemptResult,
    Function,
    encode_payload,
    new_request_id,
)
from invokemodels.core._history import History, Model, Outcome, Span
from invokemodels.core._lifecycle import AttemptLifecycle
from invokemodels.core._logs import TAIL_LIMIT, LogRecorder, watching
from invokemodels.core._protocols import DeadLetterQueue, DeadLetterTopic, InvokeResponse
from invokemodels.core._scheduler import Scheduler
from invokemodels.core._validate import in_range, instance_of, seeded
from invokemodels.event._invoker import EventOutcome
from invokemodels.event._policy import EventInvokeConfig
from invokemodels.event._realtime import BackgroundEventInvoker
from invokemodels.exceptions import (
    InvalidParameterValueError,
    InvalidRequestContentError,
    InvocationError,
    RequestEntityTooLargeError,
    ResourceNotFoundError,
    ServiceError,
    TooManyRequestsError,
    describe_error,
)
from invokemodels.sync._invoker import CLIENT_CONTEXT_LIMIT

__all__ = ["InvokeServer"]


_PATH = re.compile(r"^/2015-03-31/functions/(?P<name>[^/]+)/invocations/?$")
# A function name, a partial ARN (account:function:name) or a full ARN, each with an
# optional :qualifier (reference 2.1).
_FUNCTION_NAME = re.compile(
    r"^(?:(?:arn:aws[a-zA-Z-]*:lambda:(?P<region>[a-z0-9-]+):)?(?P<account>\d{12}):function:)?"
    r"(?P<name>[a-zA-Z0-9_-]{1,64})(?::(?P<qualifier>[a-zA-Z0-9$_-]{1,128}))?$"
)
_QUALIFIER = re.compile(r"^[a-zA-Z0-9$_-]{1,128}$")
_VERSION = re.compile(r"^(\$LATEST|[0-9]+)$")
_INVOCATION_TYPES: Final = ("RequestResponse", "Event", "DryRun")
_LOG_TYPES: Final = ("None", "Tail")
# Error shapes whose message member is "Message" in the Lambda API model (the others use
# "message"): botocore reads either, but a recorded body has the model's spelling.
_CAPITAL_MESSAGE: Final = frozenset({"ResourceNotFoundException", "ServiceException"})


class _Refused(Exception):
    """A request refused before any model saw it (unknown route, closing server)."""

    def __init__(self, error: InvocationError, *, close: bool = False) -> None:
        super().__init__(error.message)
        self.error = error
        self.close = close


class _UnknownOperation(InvocationError):
    """404 ``UnknownOperationException`` on the wire: a route the endpoint does not serve."""

    code = "UnknownOperationException"
    status_code = 404


class _ShuttingDown(ServiceError):
    """503: the endpoint is closing (SDKs retry it)."""

    code = "ServiceUnavailableException"
    status_code = 503
    error_type = "Service"


def _error_body(error: InvocationError) -> bytes:
    """The JSON body Lambda sends with an error (``x-amzn-ErrorType`` carries the code)."""
    body: dict[str, Any] = {"Type": error.error_type}
    if isinstance(error, TooManyRequestsError):
        body["Reason"] = error.reason
    body["Message" if error.code in _CAPITAL_MESSAGE else "message"] = error.message
    return json.dumps(body).encode("utf-8")


def _client_context(header: str | None) -> ClientContext | None:
    """``X-Amz-Client-Context``: base64 of a JSON object, at most 3,583 bytes."""
    if header is None or header == "":
        return None
    if len(header) > CLIENT_CONTEXT_LIMIT:
        # As the in-process model refuses it (the code AWS sends is [UNCONFIRMED]).
        raise InvalidParameterValueError(
            "ClientContext",
            f"<{len(header)} bytes of base64>",
            f"must be at most {CLIENT_CONTEXT_LIMIT} bytes once base64-encoded",
        )
    try:
        data = json.loads(base64.b64decode(header, validate=True))
    except (binascii.Error, ValueError):
        data = None
    if not isinstance(data, dict):
        msg = "Client context must be a valid Base64-encoded JSON object."
        raise InvalidRequestContentError(msg)
    return ClientContext.from_dict(data)


class _SyncLifecycle(AttemptLifecycle[None]):
    """The synchronous calls' lifecycle: slots taken and given back under the shared lock."""

    __slots__ = ()

    def throttled(self, job: None, request_id: str, reason: str, now: float) -> None:
        raise TooManyRequestsError(reason)


@attrs.define(repr=False, eq=False)
class _Served:
    """One function behind the endpoint: its lock, its Event worker, its sync lifecycle."""

    function: Function
    lock: threading.Condition
    event: BackgroundEventInvoker
    lifecycle: _SyncLifecycle
    history: History
    injected: collections.deque[InvocationError] = attrs.field(factory=collections.deque)


def _functions(value: Any) -> dict[str, Function]:
    if isinstance(value, Function):
        return {value.name: value}
    if isinstance(value, Mapping):
        items = list(value.values())
    elif isinstance(value, Iterable) and not isinstance(value, (str, bytes)):
        items = list(value)
    else:
        raise InvalidParameterValueError(
            "functions", value, "must be a Function, an iterable of Functions or a mapping"
        )
    out: dict[str, Function] = {}
    for item in items:
        if not isinstance(item, Function):
            raise InvalidParameterValueError("functions", item, "must contain Functions only")
        if item.name in out:
            raise InvalidParameterValueError(
                "functions", item.name, "names a function twice: FunctionName must be unique"
            )
        out[item.name] = item
    if not out:
        raise InvalidParameterValueError("functions", value, "must name at least one Function")
    return out


def _configs(_instance: Any, _attribute: Any, value: Any) -> None:
    if value is None or isinstance(value, (EventInvokeConfig, Mapping)):
        return
    raise InvalidParameterValueError(
        "event_config", value, "must be an EventInvokeConfig or a mapping of name to one"
    )


@attrs.define(repr=False, eq=False, on_setattr=attrs.setters.NO_OP)
class InvokeServer:
    """Lambda's Invoke API on ``http://127.0.0.1:<port>``: point boto3 or the AWS CLI at
    `url` (``endpoint_url=server.url``) and invoke the in-process functions.

    Use it as a context manager (``with InvokeServer(fn) as server: ...``), or call
    `start` and `close`.  Each function has one `BackgroundEventInvoker` for ``Event``
    invokes on the real clock scaled by ``time_scale``; ``RequestResponse`` and ``DryRun``
    run on the request's thread.  Both take the function's concurrency slots under one
    lock, so reserved concurrency throttles exactly (429 ``TooManyRequestsException``).

    Args:
        functions: a `Function`, an iterable of them, or a mapping (its values are used);
            requests name them by ``FunctionName`` (a name, ``name:qualifier``, or an ARN).
        host: the address to bind (default ``"127.0.0.1"``: loopback only).
        port: the TCP port (default 0: a free port, see `port` and `url`).
        time_scale: real seconds per model second for the Event model (default 1.0;
            0.01 makes the 60 s retry take 0.6 s).
        event_config: an `EventInvokeConfig` for every function, or a mapping of function
            name to one (default: AWS's defaults).
        dead_letter: a dead-letter queue or topic for every function's Event model.
        max_workers: Event attempts run at once per function (default 4).
        seed: seeds request ids and jitter (default: unseeded).
        log_recorder: a `LogRecorder` to watch every function with (default: none; ``Tail``
            still returns the log).
        drain: what `close` does with queued events: False (default) cancels them (each
            gets a ``Cancelled`` outcome), True waits until every event has an outcome.
    """

    functions: dict[str, Function] = attrs.field(converter=_functions)
    host: str = attrs.field(default="127.0.0.1", kw_only=True)
    port: int = attrs.field(
        default=0, kw_only=True, validator=in_range("port", 0, 65535, integer=True)
    )
    time_scale: float = attrs.field(
        default=1.0, kw_only=True, validator=in_range("time_scale", 1e-6, 1e6)
    )
    event_config: EventInvokeConfig | Mapping[str, EventInvokeConfig] | None = attrs.field(
        default=None, kw_only=True, validator=_configs
    )
    dead_letter: DeadLetterQueue | DeadLetterTopic | None = attrs.field(default=None, kw_only=True)
    max_workers: int = attrs.field(
        default=4, kw_only=True, validator=in_range("max_workers", 1, 1024, integer=True)
    )
    seed: int | None = attrs.field(default=None, kw_only=True)
    log_recorder: LogRecorder | None = attrs.field(
        default=None,
        kw_only=True,
        validator=instance_of("log_recorder", LogRecorder, "a LogRecorder", optional=True),
    )
    drain: bool = attrs.field(default=False, kw_only=True)
    _served: dict[str, _Served] = attrs.field(factory=dict, init=False)
    _http: _HTTPServer | None = attrs.field(default=None, init=False)
    _thread: threading.Thread | None = attrs.field(default=None, init=False)
    _closed: bool = attrs.field(default=False, init=False)
    _cancelled: list[str] = attrs.field(factory=list, init=False)
    _rng: random.Random = attrs.field(init=False)
    _id_lock: threading.Lock = attrs.field(factory=threading.Lock, init=False)

    def __attrs_post_init__(self) -> None:
        rng = seeded(self.seed)
        self._rng = random.Random(rng.getrandbits(64))
        for name, function in self.functions.items():
            config = self.event_config
            if isinstance(config, Mapping):
                config = config.get(name)
            lock = threading.Condition()
            history = History()
            event = BackgroundEventInvoker(
                function,
                config=config or EventInvokeConfig(),
                dead_letter=self.dead_letter,
                time_scale=self.time_scale,
                max_workers=self.max_workers,
                seed=rng.getrandbits(64),
                lock=lock,
            )
            # Synchronous calls run in real, unscaled seconds: time_scale is the Event
            # model's (its retry delays and ages); a caller waits for a call in real time.
            lifecycle = _SyncLifecycle(function, Scheduler(clock=ScaledClock(1.0)), history)
            acquire, release = function.try_acquire, function.release

            def locked_acquire(lock: threading.Condition = lock, acquire: Any = acquire) -> Any:
                with lock:
                    return acquire()

            def locked_release(lock: threading.Condition = lock, release: Any = release) -> None:
                with lock:
                    release()

            lifecycle.acquire = locked_acquire
            lifecycle.release = locked_release
            self._served[name] = _Served(function, lock, event, lifecycle, history)
            if self.log_recorder is not None:
                self.log_recorder.watch(function)

    def __repr__(self) -> str:
        state = "closed" if self._closed else ("serving" if self._http else "not started")
        where = self.url if self._http else self.host
        return f"<InvokeServer {where} {state} functions={len(self.functions)}>"

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> Self:
        """Bind the port and serve requests on a background thread; returns the server."""
        if self._closed:
            msg = "start() after close(): make a new InvokeServer"
            raise RuntimeError(msg)
        if self._http is None:
            self._http = _HTTPServer((self.host, self.port), self)
            self._thread = threading.Thread(
                target=self._http.serve_forever,
                kwargs={"poll_interval": 0.1},
                name="invokemodels-serve",
                daemon=True,
            )
            self._thread.start()
        return self

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def url(self) -> str:
        """``http://<host>:<port>``, the ``endpoint_url`` for an SDK (after `start`)."""
        if self._http is None:
            msg = "the server is not started: call start() or use it in a with block"
            raise RuntimeError(msg)
        host, port = self._http.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def bound_port(self) -> int:
        """The TCP port the server listens on (after `start`)."""
        return int(self.url.rsplit(":", 1)[1])

    def close(self, *, timeout: float | None = 30.0) -> list[str]:
        """Stop serving; returns the request ids of the events cancelled on the way.

        Stops accepting connections, waits up to ``timeout`` real seconds for requests in
        progress, closes idle keep-alive connections, then closes every function's Event
        invoker: queued events are cancelled with a recorded outcome (or, with ``drain``,
        waited for).  Safe to call twice.
        """
        if self._closed:
            return list(self._cancelled)
        self._closed = True
        http = self._http
        if http is not None:
            http.stop(timeout)
            assert self._thread is not None
            self._thread.join()
        for served in self._served.values():
            self._cancelled.extend(served.event.close(drain=self.drain))
            if self.log_recorder is not None:
                self.log_recorder.unwatch(served.function)
        return list(self._cancelled)

    @property
    def closed(self) -> bool:
        """True once `close` was called."""
        return self._closed

    # -- what the models did --------------------------------------------------------------

    def event_invoker(self, function_name: str) -> BackgroundEventInvoker:
        """The `BackgroundEventInvoker` of a function (its outcomes, metrics, history)."""
        return self._lookup(function_name).event

    def history(self, function_name: str) -> list[Span]:
        """The function's synchronous calls so far (``RequestResponse``, ``DryRun``, refused
        ones included), in real seconds since the server was made.  The Event model's tries
        are in ``event_invoker(name).history``, on its (scaled) clock."""
        served = self._lookup(function_name)
        with served.lock:
            return list(served.history)

    def outcomes(self, function_name: str) -> list[EventOutcome]:
        """The Event outcomes of a function so far (cancelled events included)."""
        return self._lookup(function_name).event.outcomes

    def inject(self, function_name: str, *errors: InvocationError) -> None:
        """Make the function's next synchronous calls fail with ``errors``, one per call,
        in order, without running the handler (e.g. 429s or 500s to exercise an SDK's
        retries).  An injected `TooManyRequestsError` is answered with its ``Reason``."""
        served = self._lookup(function_name)
        with served.lock:
            served.injected.extend(errors)

    def _lookup(self, function_name: str) -> _Served:
        try:
            return self._served[function_name]
        except KeyError:
            raise InvalidParameterValueError(
                "function_name", function_name, f"must be one of {', '.join(self._served)}"
            ) from None

    # -- one request ----------------------------------------------------------------------

    def handle(
        self,
        path: str,
        headers: Mapping[str, str],
        body: bytes,
    ) -> tuple[int, dict[str, str], bytes]:
        """Answer one ``POST`` (``path`` with its query string): status, headers, body.

        The HTTP server calls this; it is public so the Invoke API can be exercised
        without a socket.
        """
        with self._id_lock:
            request_id = new_request_id(self._rng)
        try:
            served, qualifier = self._route(path)
            kind = headers.get("X-Amz-Invocation-Type") or "RequestResponse"
            response = self._invoke(served, request_id, kind, qualifier, headers, body)
        except _Refused as refused:
            return self._error(refused.error, request_id, close=refused.close)
        except InvocationError as error:
            return self._error(error, request_id)
        except InvalidParameterValueError as error:
            return self._error(_as_invocation_error(error), request_id)
        except Exception as error:  # the model broke, not the function: a 500 with why
            return self._error(ServiceError(describe_error(error)), request_id)
        out = {"x-amzn-RequestId": response.request_id, "Content-Type": "application/json"}
        if response.function_error is not None:
            out["X-Amz-Function-Error"] = response.function_error
        if response.log_result is not None:
            out["X-Amz-Log-Result"] = response.log_result
        if response.executed_version is not None:
            out["X-Amz-Executed-Version"] = response.executed_version
        return response.status_code, out, response.payload

    def _error(
        self, error: InvocationError, request_id: str, *, close: bool = False
    ) -> tuple[int, dict[str, str], bytes]:
        headers = {
            "x-amzn-RequestId": request_id,
            "x-amzn-ErrorType": error.code,
            "Content-Type": "application/json",
        }
        if isinstance(error, TooManyRequestsError) and error.retry_after is not None:
            headers["Retry-After"] = str(int(error.retry_after))
        if close:
            headers["Connection"] = "close"
        return error.status_code, headers, _error_body(error)

    def _route(self, path: str) -> tuple[_Served, str | None]:
        parts = urlsplit(path)
        match = _PATH.match(parts.path)
        if match is None:
            raise _Refused(_UnknownOperation(f"Unknown operation: POST {parts.path}"))
        raw = unquote(match["name"])
        query = parse_qs(parts.query, keep_blank_values=True).get("Qualifier")
        name_match = _FUNCTION_NAME.match(raw)
        if name_match is None:
            raise InvalidParameterValueError(
                "FunctionName", raw, "must be a function name, name:qualifier or a function ARN"
            )
        served = self._served.get(name_match["name"])
        function = None if served is None else served.function
        region, account = name_match["region"], name_match["account"]
        if (
            served is None
            or function is None
            or (region is not None and region != function.region)
            or (account is not None and account != function.account.account_id)
        ):
            arn = (
                f"arn:aws:lambda:{region or 'us-east-1'}:{account or '123456789012'}:"
                f"function:{name_match['name']}"
            )
            msg = f"Function not found: {arn}"
            raise ResourceNotFoundError(msg)
        qualifier = name_match["qualifier"]
        if query:
            given = query[0]
            if not _QUALIFIER.match(given):
                raise InvalidParameterValueError(
                    "Qualifier", given, "must be 1-128 characters of a-z, A-Z, 0-9, $, - and _"
                )
            if qualifier is not None and qualifier != given:
                msg = (
                    "The derived qualifier from the function name does not match the "
                    "specified qualifier."
                )
                raise InvalidParameterValueError("Qualifier", given, msg)
            qualifier = given
        if qualifier is not None and _VERSION.match(qualifier) and qualifier != function.version:
            msg = f"Function not found: {function.arn}:{qualifier}"
            raise ResourceNotFoundError(msg)
        return served, qualifier

    def _invoke(
        self,
        served: _Served,
        request_id: str,
        kind: str,
        qualifier: str | None,
        headers: Mapping[str, str],
        body: bytes,
    ) -> InvokeResponse:
        function = served.function
        now = served.lifecycle.clock.now()
        try:
            if kind not in _INVOCATION_TYPES:
                raise InvalidParameterValueError(
                    "InvocationType", kind, "must be one of RequestResponse | Event | DryRun"
                )
            log_type = headers.get("X-Amz-Log-Type") or "None"
            if log_type not in _LOG_TYPES:
                raise InvalidParameterValueError("LogType", log_type, "must be one of None | Tail")
            payload = body or b"{}"  # Lambda hands an invoke without a payload {}
            if kind == "Event":
                return served.event.invoke(payload)
            context = _client_context(headers.get("X-Amz-Client-Context"))
            request = encode_payload(payload, limit=SYNC_PAYLOAD_LIMIT)
            with served.lock:
                if served.injected:
                    raise served.injected.popleft()
        except (InvocationError, InvalidParameterValueError) as error:
            if kind != "Event":
                self._refused(served, request_id, kind, now, error)
            raise
        if kind == "DryRun":
            span = Span(
                Model.DRY_RUN, function.name, request_id, 1, None, now, now, now,
                Outcome.DRY_RUN, None, 204,
            )  # fmt: skip
            with served.lock:
                served.history.record(span)
            return InvokeResponse(204, b"", None, None, request_id)
        return self._call(served, request_id, now, request, qualifier, context, log_type)

    def _call(
        self,
        served: _Served,
        request_id: str,
        now: float,
        request: str,
        qualifier: str | None,
        context: ClientContext | None,
        log_type: str,
    ) -> InvokeResponse:
        """One ``RequestResponse`` call on this thread: slot, attempt, release, span."""
        function = served.function
        lifecycle = served.lifecycle
        try:
            lifecycle.admit(None, request_id, now)
        except TooManyRequestsError as error:
            self._refused(served, request_id, "RequestResponse", now, error)
            raise
        with served.lock:
            in_flight = function.in_flight
        log_result = None
        if log_type == "Tail":
            recorder = watching(function) or LogRecorder(keep=False)
            attempt, log = lifecycle.run_logged(recorder, request, request_id, qualifier, context)
            log_result = log.tail(TAIL_LIMIT)
        else:
            attempt = lifecycle.run(
                request, request_id, qualifier=qualifier, client_context=context
            )
        # On a slow (scaled-up) clock a timeout can end before its modelled end: release now.
        lifecycle.end(None, attempt, max(lifecycle.clock.now(), attempt.ended_at))
        self._ran(served, request_id, now, attempt, in_flight)
        return InvokeResponse(
            200,
            attempt.payload.encode("utf-8"),
            attempt.function_error,
            attempt.executed_version,
            request_id,
            log_result,
        )

    def _ran(
        self, served: _Served, request_id: str, now: float, attempt: AttemptResult, in_flight: int
    ) -> None:
        failed = attempt.function_error is not None
        span = Span(
            Model.REQUEST_RESPONSE, served.function.name, request_id, 1, 1, now,
            attempt.started_at, attempt.ended_at,
            Outcome.FUNCTION_ERROR if failed else Outcome.SUCCESS,
            (attempt.error_type or "Unhandled") if failed else None, 200, None, 1, (), (),
            in_flight,
        )  # fmt: skip
        with served.lock:
            served.history.record(span)

    def _refused(
        self,
        served: _Served,
        request_id: str,
        kind: str,
        now: float,
        error: InvocationError | InvalidParameterValueError,
    ) -> None:
        status = error.status_code
        if isinstance(error, TooManyRequestsError):
            outcome, error_type = Outcome.THROTTLED, error.reason
        elif status >= 500:
            outcome, error_type = Outcome.SERVICE_ERROR, error.code
        else:
            outcome, error_type = Outcome.REFUSED, error.code
        model = Model.DRY_RUN if kind == "DryRun" else Model.REQUEST_RESPONSE
        span = Span(
            model, served.function.name, request_id, 1, None, now, now, now, outcome,
            error_type, status,
        )  # fmt: skip
        with served.lock:
            served.history.record(span)


class _InvalidParameterValue(InvocationError):
    """400 ``InvalidParameterValueException`` on the wire."""

    code = "InvalidParameterValueException"
    status_code = 400


def _as_invocation_error(error: InvalidParameterValueError) -> InvocationError:
    return _InvalidParameterValue(str(error))


# -- HTTP -------------------------------------------------------------------------------


class _HTTPServer(ThreadingHTTPServer):
    """The threading server, with the connections it serves tracked for a clean stop."""

    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], app: InvokeServer) -> None:
        super().__init__(address, _Handler)
        self.app = app
        self.closing = False
        self.busy = 0
        self.state = threading.Condition()
        self.connections: set[socket.socket] = set()
        self.threads: set[threading.Thread] = set()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that went away mid-request is not worth a traceback on stderr."""
        error = sys.exc_info()[1]
        if isinstance(error, (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)

    def stop(self, timeout: float | None) -> None:
        """Stop accepting, let requests in progress end, close idle connections."""
        with self.state:
            self.closing = True
        self.shutdown()
        self.server_close()
        with self.state:
            self.state.wait_for(lambda: self.busy == 0, timeout)
            connections = list(self.connections)
            threads = list(self.threads)
        for conn in connections:
            _hang_up(conn)
        for thread in threads:
            thread.join(timeout)


def _hang_up(conn: socket.socket) -> None:
    """End an idle keep-alive connection: its handler's read returns, its thread ends."""
    with contextlib.suppress(OSError):  # already closed by the client
        conn.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    """One connection: keep-alive HTTP/1.1, ``POST`` only."""

    protocol_version = "HTTP/1.1"
    server: _HTTPServer
    server_version = "invokemodels"

    def setup(self) -> None:
        super().setup()
        with self.server.state:
            self.server.connections.add(self.connection)
            self.server.threads.add(threading.current_thread())

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            with self.server.state:
                self.server.connections.discard(self.connection)
                self.server.threads.discard(threading.current_thread())

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: an SDK's requests are not worth a line each."""

    def _send(self, status: int, headers: Mapping[str, str], body: bytes) -> None:
        try:
            phrase = HTTPStatus(status).phrase
        except ValueError:
            phrase = ""
        self.send_response(status, phrase)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        if headers.get("Connection") == "close":
            self.close_connection = True
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        server = self.server
        with server.state:
            if server.closing:
                refused = True
            else:
                refused = False
                server.busy += 1
        if refused:
            status, headers, body = server.app._error(
                _ShuttingDown("The endpoint is shutting down"), "", close=True
            )
            self._send(status, headers, body)
            return
        try:
            self._post()
        finally:
            with server.state:
                server.busy -= 1
                server.state.notify_all()

    def _chunked(self, limit: int) -> bytes | None:
        """A ``Transfer-Encoding: chunked`` body, or None past ``limit`` bytes."""
        body = bytearray()
        while True:
            size_line = self.rfile.readline(66).split(b";", 1)[0].strip()
            size = int(size_line, 16)
            if size == 0:
                while self.rfile.readline(8192) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return bytes(body)
            if len(body) + size > limit:
                return None
            body += self.rfile.read(size)
            self.rfile.readline(8)  # the chunk's CRLF

    def _post(self) -> None:
        length_text = self.headers.get("Content-Length", "0")
        chunked = "chunked" in self.headers.get("Transfer-Encoding", "").lower()
        try:
            length = 0 if chunked else int(length_text)
        except ValueError:
            length = -1
        if length < 0:
            error: InvocationError = InvalidRequestContentError("Invalid Content-Length header")
            self._send(*self.server.app._error(error, "", close=True))
            return
        kind = self.headers.get("X-Amz-Invocation-Type") or "RequestResponse"
        limit = EVENT_PAYLOAD_LIMIT if kind == "Event" else SYNC_PAYLOAD_LIMIT
        if length > SYNC_PAYLOAD_LIMIT:
            # Not read: answer and close the connection instead of taking it in.
            if kind == "Event":
                msg = (
                    f"{length} byte payload is too large for the Event invocation type "
                    f"(limit {limit} bytes)"
                )
            else:
                msg = f"Request must be smaller than {limit} bytes for the InvokeFunction operation"
            self._send(*self.server.app._error(RequestEntityTooLargeError(msg), "", close=True))
            return
        if chunked:
            try:
                read = self._chunked(SYNC_PAYLOAD_LIMIT)
            except ValueError:
                error = InvalidRequestContentError("Malformed chunked request body")
                self._send(*self.server.app._error(error, "", close=True))
                return
            if read is None:
                msg = f"Request must be smaller than {limit} bytes for the InvokeFunction operation"
                error = RequestEntityTooLargeError(msg)
                self._send(*self.server.app._error(error, "", close=True))
                return
            body = read
        else:
            body = self.rfile.read(length) if length else b""
        headers = {key: self.headers[key] for key in self.headers}
        wanted = {
            name.lower(): name
            for name in ("X-Amz-Invocation-Type", "X-Amz-Log-Type", "X-Amz-Client-Context")
        }
        normal = {wanted.get(key.lower(), key): value for key, value in headers.items()}
        self._send(*self.server.app.handle(self.path, normal, body))

    def _unknown(self) -> None:
        error = _UnknownOperation(f"Unknown operation: {self.command} {self.path}")
        if int(self.headers.get("Content-Length", "0") or 0):
            self.close_connection = True
        self._send(*self.server.app._error(error, ""))

    do_GET = do_PUT = do_DELETE = do_PATCH = _unknown
