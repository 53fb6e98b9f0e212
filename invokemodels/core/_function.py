"""`Function`: a Lambda function's configuration and handler; it runs ONE attempt.

All three invocation models run attempts through `Function.run_attempt`, so
the JSON boundary, the context object, the error payloads, the timeout and the
response-size limit behave identically whichever way a function is invoked.
Concurrency is counted over in-flight attempts, per function (reserved
concurrency) and per `Account` (the Region's concurrency quota).
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import json
import linecache
import math
import random
import re
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType
from typing import Any, Final

import attrs

from invokemodels.core import _chain, _logs
from invokemodels.core._clock import EPOCH_ORIGIN, Clock, iso_timestamp, on_grid
from invokemodels.core._context import ClientContext, CognitoIdentity, LambdaContext
from invokemodels.core._handler_time import HandlerTime
from invokemodels.core._records import (
    error_document,
    exit_document,
    response_too_large_document,
    timeout_document,
)
from invokemodels.core._validate import (
    ACCOUNT_ID,
    REGION,
    check_range,
    in_range,
    instance_of,
    one_of,
    text,
)
from invokemodels.exceptions import (
    HandlerImportError,
    InvalidParameterValueError,
    InvalidRequestContentError,
    RequestEntityTooLargeError,
)

__all__ = [
    "EVENT_PAYLOAD_LIMIT",
    "LEGACY_EVENT_PAYLOAD_LIMIT",
    "RESPONSE_PAYLOAD_LIMIT",
    "SNS_MESSAGE_LIMIT",
    "SYNC_PAYLOAD_LIMIT",
    "Account",
    "AttemptResult",
    "Function",
    "Handler",
    "ThrottleReason",
    "encode_payload",
    "new_request_id",
]

Handler = Callable[[Any, LambdaContext], Any]
"""A Python Lambda handler: ``handler(event, context) -> JSON-serializable``."""

SYNC_PAYLOAD_LIMIT: Final = 6_291_456
"""Synchronous request limit in bytes (6 MB): "Request must be smaller than 6291456 bytes"."""

RESPONSE_PAYLOAD_LIMIT: Final = 6_291_556
"""Response limit in bytes, as AWS's ``Function.ResponseSizeTooLarge`` message prints it."""

EVENT_PAYLOAD_LIMIT: Final = 1_048_576
"""Asynchronous (``Event``) request limit in bytes: 1 MB since 2025-10."""

LEGACY_EVENT_PAYLOAD_LIMIT: Final = 262_144
"""The older asynchronous limit (256 KB, 2018-2025), selectable for reproducing old behaviour."""

SNS_MESSAGE_LIMIT: Final = 262_144
"""SNS's maximum message size (256 KB)."""


class ThrottleReason:
    """AWS's ``TooManyRequestsException.Reason`` values (the ``ThrottleReason`` enum).

    `Function.try_acquire` produces ``ACCOUNT`` and ``RESERVED`` (concurrency);
    request-rate limits are not modelled, so the others only appear when
    injected (`RequestResponseInvoker.inject`).
    """

    ACCOUNT: Final = "ConcurrentInvocationLimitExceeded"
    RESERVED: Final = "ReservedFunctionConcurrentInvocationLimitExceeded"
    FUNCTION_RATE: Final = "FunctionInvocationRateLimitExceeded"
    RESERVED_RATE: Final = "ReservedFunctionInvocationRateLimitExceeded"
    CALLER_RATE: Final = "CallerRateLimitExceeded"
    SNAPSHOT_CREATE: Final = "ConcurrentSnapshotCreateLimitExceeded"


# The version (4) and variant (10xx) bits, set the way uuid.UUID(version=4) sets them.
_UUID_CLEAR: Final = ~((0xF000 << 64) | (0xC000 << 48))
_UUID_SET: Final = (0x4000 << 64) | (0x8000 << 48)


def new_request_id(rng: random.Random) -> str:
    """A version-4 UUID string drawn from ``rng``, so one seed gives the same ids."""
    h = ((rng.getrandbits(128) & _UUID_CLEAR) | _UUID_SET).to_bytes(16, "big").hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


_SETATTR = object.__setattr__

_ENCODER = json.JSONEncoder(allow_nan=False, separators=(", ", ": "))
_MAKE_C_ENCODER = getattr(json.encoder, "c_make_encoder", None)
# json's C encoder, built once: JSONEncoder.encode builds a new one per call, which is a
# large share of a small invoke's cost.  No cycle markers (so it is thread-safe): a cycle
# ends in RecursionError, reported as the ValueError JSONEncoder would raise when
# `_has_cycle` finds one (deep but acyclic data keeps its RecursionError).
_C_ENCODE: Callable[[Any, int], Any] | None = (
    None
    if _MAKE_C_ENCODER is None
    else _MAKE_C_ENCODER(
        None, _ENCODER.default, json.encoder.encode_basestring_ascii, None,
        ": ", ", ", False, False, False,
    )
)  # fmt: skip


def _dumps(value: Any) -> str:
    """``json.dumps(value, allow_nan=False)``, as fast as the C encoder allows."""
    if _C_ENCODE is None:  # pragma: no cover - Python builds without the C accelerator
        return _ENCODER.encode(value)
    try:
        return "".join(_C_ENCODE(value, 0))
    except RecursionError:
        if _has_cycle(value):
            msg = "Circular reference detected"
            raise ValueError(msg) from None
        raise


_END: Final = object()


def _children(value: Any) -> Iterator[Any] | None:
    """The values json's encoder descends into, or None for a leaf."""
    if isinstance(value, dict):
        return iter(dict.values(value))
    if isinstance(value, (list, tuple)):
        return iter(value)
    return None


def _has_cycle(value: Any) -> bool:
    """True when a dict, list or tuple in ``value`` contains itself (iterative, so any depth).

    Containers already explored are not walked again, so shared sub-trees cost
    nothing extra.  Data whose iteration raises counts as acyclic.
    """
    try:
        items = _children(value)
        if items is None:
            return False
        path = {id(value)}
        done: set[int] = set()
        stack = [(id(value), items)]
        while stack:
            key, items = stack[-1]
            child = next(items, _END)
            if child is _END:
                stack.pop()
                path.discard(key)
                done.add(key)
                continue
            ident = id(child)
            if ident in done:
                continue
            if ident in path:
                return True
            nested = _children(child)
            if nested is not None:
                path.add(ident)
                stack.append((ident, nested))
    except Exception:  # the encoder's own error is the one to report
        return False
    return False


_SCAN_ONCE = json.JSONDecoder().scan_once  # type: ignore[attr-defined]


def _loads(text: str) -> Any:
    """``json.loads(text)``, skipping its regex passes when ``text`` is compact JSON.

    JSON nested deeper than Python's recursion limit raises `RecursionError`, as
    it does in the Python runtime.
    """
    try:
        value, end = _SCAN_ONCE(text, 0)
    except StopIteration:
        return json.loads(text)  # leading whitespace, or not JSON: json.loads says which
    if end != len(text):
        return json.loads(text)
    return value


def _refuse_constant(name: str) -> Any:
    """Refuse ``NaN``, ``Infinity`` and ``-Infinity``: Python's extension, not JSON."""
    msg = f"{name} is not a JSON value"
    raise ValueError(msg)


_STRICT_DECODER = json.JSONDecoder(parse_constant=_refuse_constant)
_STRICT_SCAN = _STRICT_DECODER.scan_once  # type: ignore[attr-defined]


def _check_json(text: str) -> None:
    """Parse ``text`` as strict JSON (no ``NaN``/``Infinity``) with a decoder built once.

    ``json.loads(text, parse_constant=...)`` builds a new decoder on every call and runs
    two regex passes for surrounding whitespace; compact JSON needs neither.
    """
    try:
        _value, end = _STRICT_SCAN(text, 0)
    except StopIteration:
        # Leading whitespace, a byte order mark, or not JSON: json.loads says which.
        json.loads(text, parse_constant=_refuse_constant)
        return
    if end != len(text):
        json.loads(text, parse_constant=_refuse_constant)


def encode_payload(payload: Any, *, limit: int | None = SYNC_PAYLOAD_LIMIT) -> str:
    """Turn an Invoke payload into the JSON text that crosses the wire.

    ``bytes``/``bytearray`` are a JSON document (as boto3's ``Payload``); any
    other value, ``str`` included, is a JSON value and is serialized.  A
    payload that is not JSON (``NaN`` and ``Infinity`` included) raises
    `InvalidRequestContentError` (400); one over ``limit`` bytes raises
    `RequestEntityTooLargeError` (413) with the synchronous limit's message.

    JSON nested deeper than Python's ``json`` module can go (about as deep as
    the recursion limit, 1000 by default) is refused with
    `InvalidRequestContentError` saying so.  Whether Lambda's service accepts such
    a payload is [UNCONFIRMED]; the Python runtime could not parse it anyway
    (``Runtime.UnmarshalError``).  Only real cycles are reported as
    "Circular reference detected".
    """
    try:
        if isinstance(payload, (bytes, bytearray)):
            text = bytes(payload).decode("utf-8")
            _check_json(text)
        else:
            text = _dumps(payload)
    except RecursionError as exc:
        msg = f"Could not parse request body into json: the payload is nested too deeply ({exc})"
        raise InvalidRequestContentError(msg) from None
    except Exception as exc:  # whatever the payload's own methods raise
        msg = f"Could not parse request body into json: {_describe(exc)}"
        raise InvalidRequestContentError(msg) from None
    if limit is not None:
        size = len(text) if text.isascii() else len(text.encode("utf-8"))
        if size > limit:
            msg = f"Request must be smaller than {limit} bytes for the InvokeFunction operation"
            raise RequestEntityTooLargeError(msg)
    return text


def _describe(exc: BaseException) -> str:
    """``str(exc)``, or the exception's class name when its ``__str__`` fails."""
    try:
        return str(exc)
    except Exception:
        return type(exc).__name__


def payload_size(text: str) -> int:
    """Size in bytes of a JSON text once UTF-8 encoded."""
    return len(text) if text.isascii() else len(text.encode("utf-8"))


def _format_stack(tb: TracebackType | None) -> list[str]:
    """``traceback.format_list`` output for ``tb``, built cheaply (no full extraction)."""
    lines = []
    while tb is not None:
        code = tb.tb_frame.f_code
        filename = code.co_filename
        lineno = tb.tb_lineno
        line = linecache.getline(filename, lineno).strip()
        entry = f'  File "{filename}", line {lineno}, in {code.co_name}\n'
        if line:
            entry += f"    {line}\n"
        lines.append(entry)
        tb = tb.tb_next
    return lines


@attrs.define(slots=True, eq=False, repr=False)
class AttemptResult:
    """What one attempt of a function produced.

    ``function_error`` is None on success and ``"Unhandled"`` for a function
    error (raised exception, timeout, marshal error, oversized response), as
    the ``X-Amz-Function-Error`` header.  ``payload`` is the response JSON
    text: the handler's return value, or the error document.  ``started_at``
    and ``ended_at`` are clock seconds; on a virtual clock the attempt has not
    "happened" until the model advances time to ``ended_at``.
    """

    request_id: str
    started_at: float
    ended_at: float
    function_error: str | None
    error_type: str | None
    executed_version: str
    _payload: str | None = None
    _exception: BaseException | None = None
    _message: str = ""

    def __repr__(self) -> str:
        outcome = "ok" if self.function_error is None else self.error_type
        return f"<AttemptResult {self.request_id} {outcome} {self.started_at!r}->{self.ended_at!r}>"

    @property
    def ok(self) -> bool:
        """True when the function returned without a function error."""
        return self.function_error is None

    @property
    def duration(self) -> float:
        """Seconds the attempt took (modelled on a virtual clock, measured on a real one)."""
        return self.ended_at - self.started_at

    @property
    def payload(self) -> str:
        """The response payload as JSON text (error documents are built on first access)."""
        if self._payload is None:
            exc = self._exception
            assert exc is not None
            document = error_document(
                type(exc).__name__,
                self._message,
                self.request_id,
                # Drop the first frame: it is this library's call into the handler.
                _format_stack(exc.__traceback__.tb_next if exc.__traceback__ else None),
            )
            self._payload = _dumps(document)
            self._exception = None
        return self._payload

    def response(self) -> Any:
        """The response payload parsed from JSON (a fresh copy each call)."""
        return json.loads(self.payload)


_HANDLER_STRING = re.compile(r"^(?P<target>[^:]+?):(?P<attr>[A-Za-z_][A-Za-z0-9_]*)$")
_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
_VERSION = re.compile(r"^(\$LATEST|[0-9]+)$")
# CloudWatch Logs: a log stream name is 1-512 characters, without ':' or '*'.
_LOG_STREAM = re.compile(r"[^:*]{1,512}")


def load_handler(spec: str) -> Handler:
    """Resolve ``"module:function"`` or ``"path/file.py:function"`` to a callable.

    Raises `HandlerImportError` as the Lambda runtime reports a failed init:
    ``Runtime.MalformedHandlerName``, ``Runtime.ImportModuleError`` (an
    ``ImportError``), ``Runtime.UserCodeSyntaxError``, ``Runtime.HandlerNotFound``,
    or, for any other exception raised while the module runs, that exception's
    class name, message and stack.
    """
    match = _HANDLER_STRING.match(spec)
    if match is None:
        raise HandlerImportError(
            "Runtime.MalformedHandlerName",
            f"Bad handler '{spec}': not enough values to unpack (expected 'module:function')",
        )
    target, attr = match["target"], match["attr"]
    if target.endswith(".py"):
        path = Path(target).resolve()
        if not path.is_file():
            raise HandlerImportError(
                "Runtime.ImportModuleError",
                f"Unable to import module '{target}': No such file '{path}'",
            )
        module_name = f"_invokemodels_handler_{hashlib.sha1(str(path).encode()).hexdigest()[:12]}"
        module = sys.modules.get(module_name)
        if module is None:
            # Lambda puts the task root on sys.path, so a handler file can import its siblings.
            if str(path.parent) not in sys.path:
                sys.path.insert(0, str(path.parent))
            spec_obj = importlib.util.spec_from_file_location(module_name, path)
            assert spec_obj is not None
            assert spec_obj.loader is not None
            module = importlib.util.module_from_spec(spec_obj)
            try:
                spec_obj.loader.exec_module(module)
            except BaseException as exc:
                raise _import_failure(target, exc) from exc
            sys.modules[module_name] = module
    else:
        try:
            module = importlib.import_module(target)
        except BaseException as exc:
            raise _import_failure(target, exc) from exc
    handler = getattr(module, attr, None)
    if not callable(handler):
        raise HandlerImportError(
            "Runtime.HandlerNotFound", f"Handler '{attr}' missing on module '{target}'"
        )
    return handler  # type: ignore[no-any-return]


def _import_failure(target: str, exc: BaseException) -> HandlerImportError:
    """How the Python runtime reports an exception raised while importing the handler module.

    ``ImportError`` and ``SyntaxError`` become runtime faults; any other
    ``Exception`` is reported under its own class name with its stack (reference
    2.3, RIC ``bootstrap.py``).  The runtime's init catches ``Exception`` only, so
    ``sys.exit``, ``KeyboardInterrupt`` or another ``BaseException`` ends the
    process before it reports anything: Lambda's ``Runtime.ExitError``.
    """
    if not isinstance(exc, Exception):
        return HandlerImportError("Runtime.ExitError", _exit_reason(exc))
    if isinstance(exc, ImportError):
        return HandlerImportError(
            "Runtime.ImportModuleError", f"Unable to import module '{target}': {exc}"
        )
    if isinstance(exc, SyntaxError):
        return HandlerImportError(
            "Runtime.UserCodeSyntaxError",
            f"Syntax error in module '{target}': {exc}",
            stack_trace=[f'  File "{exc.filename}" Line {exc.lineno}\n    {exc.text}'],
        )
    try:
        message = str(exc)
    except BaseException as crash:  # the runtime dies building its init error document
        return HandlerImportError("Runtime.ExitError", _exit_reason(crash))
    # Drop the first frame: it is this module's import call.
    tb = exc.__traceback__
    return HandlerImportError(
        type(exc).__name__, message, stack_trace=_format_stack(tb.tb_next if tb else None)
    )


def _default_unreserved_minimum(account: Account) -> Any:
    # Defaults are computed before validators run: a bad limit is reported by its validator.
    limit = account.concurrency_limit
    return min(100, limit) if isinstance(limit, int) else 100


@attrs.define(repr=False)
class Account:
    """An AWS account in one Region: the concurrency quota shared by its functions.

    Args:
        concurrency_limit: ``ConcurrentExecutions`` for the Region (default 1000).
        unreserved_minimum: concurrency that reservations must leave unreserved
            (AWS keeps 100; defaults to ``min(100, concurrency_limit)``).
        account_id: the 12-digit id used in ARNs (default ``"123456789012"``).
    """

    concurrency_limit: int = attrs.field(
        default=1000, validator=in_range("ConcurrentExecutions", 1, 10_000_000, integer=True)
    )
    unreserved_minimum: int = attrs.field(
        default=attrs.Factory(_default_unreserved_minimum, takes_self=True)
    )
    account_id: str = attrs.field(
        default="123456789012", validator=text("account_id", ACCOUNT_ID, "must be 12 digits")
    )
    _reserved_total: int = attrs.field(default=0, init=False)
    _unreserved_in_flight: int = attrs.field(default=0, init=False)

    def __attrs_post_init__(self) -> None:
        check_range(
            "unreserved_minimum", self.unreserved_minimum, 0, self.concurrency_limit, integer=True
        )

    def __repr__(self) -> str:
        return (
            f"<Account {self.account_id} limit={self.concurrency_limit} "
            f"reserved={self._reserved_total} unreserved_in_flight={self._unreserved_in_flight}>"
        )

    @property
    def unreserved_limit(self) -> int:
        """Concurrency left for functions without a reservation."""
        return self.concurrency_limit - self._reserved_total

    @property
    def unreserved_in_flight(self) -> int:
        """Attempts currently running in functions without a reservation."""
        return self._unreserved_in_flight

    def _change_reservation(self, old: int | None, new: int | None) -> None:
        total = self._reserved_total - (old or 0) + (new or 0)
        if self.concurrency_limit - total < self.unreserved_minimum:
            raise InvalidParameterValueError(
                "ReservedConcurrentExecutions",
                new,
                "Specified ReservedConcurrentExecutions for function decreases account's "
                f"UnreservedConcurrentExecution below its minimum value of "
                f"[{self.unreserved_minimum}]",
            )
        self._reserved_total = total


def _check_duration(_instance: Any, _attribute: Any, value: Any) -> None:
    if callable(value):
        return
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if ok:
        try:
            ok = 0 <= float(value) < math.inf
        except OverflowError:
            ok = False
    if not ok:
        raise InvalidParameterValueError(
            "duration", value, "must be a finite number of seconds >= 0, or a callable of the event"
        )


@attrs.define(repr=False, eq=False)
class Function:
    """A Lambda function: configuration plus handler.  Runs one attempt at a time.

    Args:
        name: ``FunctionName`` (1-64 of ``a-zA-Z0-9-_``).
        handler: ``handler(event, context)``, or ``"module:function"`` /
            ``"path/file.py:function"`` (loaded on the first attempt; a load
            failure is the runtime's init error, e.g. ``Runtime.ImportModuleError``,
            as a function error, as on Lambda).
        timeout: ``Timeout`` in seconds, 1-900 (default 3).
        memory_size: ``MemorySize`` in MB, 128-10240 (default 128).
        reserved_concurrency: ``ReservedConcurrentExecutions``; None (default)
            means the function shares the account's unreserved pool; 0 stops it.
        version: the published version that runs, ``"$LATEST"`` (default) or digits.
        region: the Region in ARNs (default ``"us-east-1"``).
        account: the `Account` whose concurrency quota applies (default: a new one).
        duration: the modelled run time of an attempt on a virtual clock:
            finite seconds >= 0, or a callable of the event (default 0.0).  A
            callable's ``math.inf`` (or a number too large for a float) means
            the attempt runs past its timeout (``Sandbox.Timedout``); a callable
            that raises, or returns NaN, a negative number or a non-number,
            stops the run with `InvalidParameterValueError` naming ``duration``
            before the handler runs (the concurrency slot is given back).  A
            handler adds to it with ``context.spend(seconds)``.  Attempts end on
            the virtual clock's nanosecond grid.
        recursive_loop: ``RecursiveLoop`` (``PutFunctionRecursionConfig``): ``"Terminate"``
            (default) stops an asynchronous or SQS invocation once the function has been
            invoked 16 times in the same chain of requests (reference 3.10, see
            `invokemodels.core._chain`); ``"Allow"`` lets the loop run.
        log_stream_name: ``context.log_stream_name``.  None (default) makes one
            in the shape ``YYYY/MM/DD/[<version>]<32 hex digits>``, dated at the
            virtual clock's default epoch origin.  AWS's exact format is
            unconfirmed (reference 6), so it can be set.
    """

    name: str = attrs.field()
    handler: Handler | str = attrs.field()
    timeout: float = attrs.field(default=3, validator=in_range("Timeout", 1, 900))
    memory_size: int = attrs.field(
        default=128, validator=in_range("MemorySize", 128, 10240, integer=True)
    )
    reserved_concurrency: int | None = attrs.field(default=None, on_setattr=attrs.setters.frozen)
    version: str = attrs.field(default="$LATEST")
    region: str = attrs.field(default="us-east-1")
    account: Account = attrs.field(
        factory=Account, validator=instance_of("account", Account, "an Account")
    )
    duration: float | Callable[[Any], float] = attrs.field(default=0.0, validator=_check_duration)
    recursive_loop: str = attrs.field(
        default="Terminate", validator=one_of("RecursiveLoop", ("Allow", "Terminate"))
    )
    log_stream_name: str | None = attrs.field(
        default=None,
        on_setattr=attrs.setters.frozen,
        validator=text(
            "log_stream_name",
            _LOG_STREAM,
            "must be 1-512 characters without ':' or '*'",
            optional=True,
        ),
    )
    _resolved: Handler | None = attrs.field(default=None, init=False)
    _in_flight: int = attrs.field(default=0, init=False)
    _log_stream: str = attrs.field(default="", init=False)
    # The context's strings, with the fields they are made of (see `new_context`).
    _strings: tuple[Any, ...] = attrs.field(default=(None,) * 7, init=False)

    @name.validator
    def _check_name(self, _attribute: Any, value: Any) -> None:
        if not isinstance(value, str) or not _NAME.match(value):
            raise InvalidParameterValueError(
                "FunctionName", value, "must be 1-64 characters of a-z, A-Z, 0-9, - and _"
            )

    @handler.validator
    def _check_handler(self, _attribute: Any, value: Any) -> None:
        if callable(value):
            return
        if not isinstance(value, str) or not _HANDLER_STRING.match(value):
            raise InvalidParameterValueError(
                "Handler",
                value,
                "must be a callable handler(event, context), 'module:function' or "
                "'path/file.py:function'",
            )

    @version.validator
    def _check_version(self, _attribute: Any, value: Any) -> None:
        if not isinstance(value, str) or not _VERSION.match(value):
            raise InvalidParameterValueError("Version", value, "must be '$LATEST' or digits")

    @region.validator
    def _check_region(self, _attribute: Any, value: Any) -> None:
        if not isinstance(value, str) or not REGION.fullmatch(value):
            raise InvalidParameterValueError("Region", value, "must look like 'us-east-1'")

    def __attrs_post_init__(self) -> None:
        if self.reserved_concurrency is not None:
            check_range(
                "ReservedConcurrentExecutions",
                self.reserved_concurrency,
                0,
                self.account.concurrency_limit,
                integer=True,
            )
            self.account._change_reservation(None, self.reserved_concurrency)
        if callable(self.handler):
            self._resolved = self.handler
        if self.log_stream_name is None:
            digest = hashlib.sha1(f"{self.name}/{self.version}".encode()).hexdigest()[:32]
            day = iso_timestamp(EPOCH_ORIGIN)[:10].replace("-", "/")
            self._log_stream = f"{day}/[{self.version}]{digest}"
        else:
            self._log_stream = self.log_stream_name

    def __repr__(self) -> str:
        return f"<Function {self.name} {self.version} in_flight={self._in_flight}>"

    # -- identity ---------------------------------------------------------------------------

    @property
    def arn(self) -> str:
        """The unqualified function ARN: ``arn:aws:lambda:<region>:<account>:function:<name>``."""
        return f"arn:aws:lambda:{self.region}:{self.account.account_id}:function:{self.name}"

    def qualified_arn(self, qualifier: str | None = None) -> str:
        """The ARN qualified with ``qualifier`` (default: the version), as records show it."""
        return f"{self.arn}:{qualifier or self.version}"

    @property
    def log_group_name(self) -> str:
        """``/aws/lambda/<name>``."""
        return f"/aws/lambda/{self.name}"

    # -- concurrency ------------------------------------------------------------------------

    @property
    def in_flight(self) -> int:
        """Attempts of this function currently running."""
        return self._in_flight

    def set_reserved_concurrency(self, value: int | None) -> None:
        """``PutFunctionConcurrency`` (an int) or ``DeleteFunctionConcurrency`` (None)."""
        if value is not None:
            check_range(
                "ReservedConcurrentExecutions",
                value,
                0,
                self.account.concurrency_limit,
                integer=True,
            )
        if self._in_flight and (value is None) != (self.reserved_concurrency is None):
            msg = "cannot move a function between reserved and unreserved concurrency mid-attempt"
            raise RuntimeError(msg)
        self.account._change_reservation(self.reserved_concurrency, value)
        object.__setattr__(self, "reserved_concurrency", value)

    def try_acquire(self) -> str | None:
        """Take one concurrency slot; returns None, or the ``ThrottleReason`` when throttled."""
        reserved = self.reserved_concurrency
        if reserved is not None:
            if self._in_flight >= reserved:
                return ThrottleReason.RESERVED
        else:
            account = self.account
            # `unreserved_limit`, without the property's call.
            if account._unreserved_in_flight >= account.concurrency_limit - account._reserved_total:
                return ThrottleReason.ACCOUNT
            # Counters bypass attrs' on_setattr hooks: this is on the path of every invoke.
            _SETATTR(account, "_unreserved_in_flight", account._unreserved_in_flight + 1)
        _SETATTR(self, "_in_flight", self._in_flight + 1)
        return None

    def release(self) -> None:
        """Give back the slot taken by `try_acquire`."""
        if self._in_flight <= 0:
            msg = f"{self.name}: release() without a matching try_acquire()"
            raise RuntimeError(msg)
        _SETATTR(self, "_in_flight", self._in_flight - 1)
        if self.reserved_concurrency is None:
            account = self.account
            _SETATTR(account, "_unreserved_in_flight", account._unreserved_in_flight - 1)

    # -- one attempt ------------------------------------------------------------------------

    def load_handler(self) -> Handler:
        """The handler callable, importing it if it was given as a string (`HandlerImportError`)."""
        if self._resolved is None:
            assert isinstance(self.handler, str)
            self._resolved = load_handler(self.handler)
        return self._resolved

    def new_context(
        self,
        request_id: str,
        clock: Clock,
        started: float,
        *,
        qualifier: str | None = None,
        client_context: ClientContext | None = None,
        identity: CognitoIdentity | None = None,
    ) -> LambdaContext:
        """The context object for one attempt."""
        return self._context(request_id, clock, started, qualifier, client_context, identity)

    def _context(
        self,
        request_id: str,
        clock: Clock,
        started: float,
        qualifier: str | None,
        client_context: ClientContext | None,
        identity: CognitoIdentity | None = None,
    ) -> LambdaContext:
        # `new_context` with positional arguments: the attempt's hot path.
        name = self.name
        account_id = self.account.account_id
        memory_size = self.memory_size
        # The ARN, the memory size and the log group as strings, made again only when a
        # field they come from is another object (fields may be reassigned at any time).
        strings = self._strings
        if (
            strings[0] is not name
            or strings[1] is not account_id
            or strings[2] is not self.region
            or strings[3] is not memory_size
        ):
            strings = (
                name, account_id, self.region, memory_size, self.arn, str(memory_size),
                f"/aws/lambda/{name}",
            )  # fmt: skip
            _SETATTR(self, "_strings", strings)
        arn = strings[4]
        # Positional: keyword parsing of 12 arguments is a visible share of a small invoke.
        return LambdaContext(
            name,  # function_name
            self.version,  # function_version
            arn if qualifier is None else f"{arn}:{qualifier}",  # invoked_function_arn
            strings[5],  # memory_limit_in_mb
            request_id,  # aws_request_id
            strings[6],  # log_group_name
            self._log_stream,  # log_stream_name
            clock,
            started,
            self.timeout,
            client_context,
            identity,
        )

    def run_attempt(
        self,
        request: str,
        *,
        request_id: str,
        clock: Clock,
        qualifier: str | None = None,
        client_context: ClientContext | None = None,
        handler_time: bool = False,
    ) -> AttemptResult:
        """Run one attempt of the handler on ``request`` (JSON text from `encode_payload`).

        The handler gets a fresh parsed copy of the request.  The result is
        the response JSON text, or the Python runtime's error document.  On a
        virtual clock (``clock.virtual``) the handler runs at once and the attempt is given its
        modelled duration (``duration`` plus ``context.spend``, plus any clock
        time that passed while it ran, e.g. in a nested synchronous invoke); the
        caller advances time.  On a real clock the handler runs in a thread and the
        timeout is enforced for real (a handler that overruns is abandoned:
        Python threads cannot be killed; its result is discarded).

        With ``handler_time`` (a virtual clock only; the models pass their scheduler's
        ``handler_time``) the handler's ``time.time()``, ``time.monotonic()``,
        ``datetime.now()`` and ``time.sleep()`` follow the attempt's virtual time, and a
        ``time.sleep`` spends attempt time (see `invokemodels.core._handler_time`).
        """
        started = clock.now()
        if clock.virtual:
            return self._run_virtual(
                request, request_id, clock, started, qualifier, client_context, handler_time
            )
        return self._run_real(request, request_id, clock, started, qualifier, client_context)

    def _modelled(self, event: Any) -> float:
        """The modelled run time; a callable's +inf or too-large result means "past the timeout"."""
        duration = self.duration
        if not callable(duration):
            return float(duration)
        try:
            value = duration(event)
        except Exception as exc:
            raise InvalidParameterValueError(
                "duration",
                duration,
                f"the duration callable raised {type(exc).__name__}: {_describe(exc)}",
            ) from exc
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            try:
                seconds = float(value)
            except OverflowError:
                seconds = math.inf
            if seconds >= 0:  # False for NaN
                return seconds
        raise InvalidParameterValueError(
            "duration", value, "the duration callable must return a number of seconds >= 0"
        )

    def _run_virtual(
        self,
        request: str,
        request_id: str,
        clock: Clock,
        started: float,
        qualifier: str | None,
        client_context: ClientContext | None,
        handler_time: bool = False,
    ) -> AttemptResult:
        try:
            handler = self._resolved or self.load_handler()
        except HandlerImportError as exc:
            return self._init_failed(request_id, started, started, exc)
        context = self._context(request_id, clock, started, qualifier, client_context)
        try:
            event = _loads(request)
        except Exception as exc:  # RecursionError: nested deeper than json goes
            return self._unmarshal_error(request_id, started, started, exc)
        modelled = self._modelled(event) if self.duration else 0.0
        try:
            if handler_time:
                with HandlerTime(clock, context, self.timeout - modelled):
                    result = handler(event, context)
            else:
                result = handler(event, context)
        except BaseException as exc:  # whatever a handler raises is its outcome
            took = modelled + context.elapsed
            if took > self.timeout:
                return self._timed_out(request_id, started)
            return self._raised(request_id, started, on_grid(started + took), exc)
        took = modelled + context.elapsed
        if took > self.timeout:
            return self._timed_out(request_id, started)
        return self._marshal(request_id, started, on_grid(started + took), result)

    def _run_real(
        self,
        request: str,
        request_id: str,
        clock: Clock,
        started: float,
        qualifier: str | None,
        client_context: ClientContext | None,
    ) -> AttemptResult:
        try:
            handler = self._resolved or self.load_handler()
        except HandlerImportError as exc:
            return self._init_failed(request_id, started, clock.now(), exc)
        context = self.new_context(
            request_id, clock, started, qualifier=qualifier, client_context=client_context
        )
        try:
            event = _loads(request)
        except Exception as exc:  # RecursionError: nested deeper than json goes
            return self._unmarshal_error(request_id, started, clock.now(), exc)
        outcome: list[Any] = []
        log = _logs.bound()  # the attempt's log capture, when someone asked for one

        chain = _chain.RUNNING.value  # what the handler sends keeps its chain of requests

        def target() -> None:
            _chain.RUNNING.value = chain
            if log is not None:
                _logs.bind(log)
            try:
                outcome.append(("ok", handler(event, context)))
            except BaseException as exc:  # reported as the function's error
                outcome.append(("error", exc))

        worker = threading.Thread(target=target, name=f"invokemodels-{self.name}", daemon=True)
        worker.start()
        worker.join(self.timeout)
        ended = clock.now()
        if worker.is_alive() or not outcome:
            return self._timed_out(request_id, started)
        kind, value = outcome[0]
        if kind == "error":
            return self._raised(request_id, started, ended, value)
        return self._marshal(request_id, started, ended, value)

    def _raised(
        self, request_id: str, started: float, ended: float, exc: BaseException
    ) -> AttemptResult:
        """The outcome of a handler that raised ``exc``, as the Python runtime reports it.

        The runtime's invoke loop catches ``Exception`` only (RIC ``bootstrap.py``,
        ``handle_event_request``): any other ``BaseException`` ends the runtime
        process, and so does an exception whose ``str()`` fails while the runtime
        builds the error document.  Lambda then reports ``Runtime.ExitError``.
        """
        if not isinstance(exc, Exception):
            return self._exit_error(request_id, started, ended, exc)
        try:
            message = str(exc)
        except BaseException as crash:  # the runtime process dies of it
            return self._exit_error(request_id, started, ended, crash)
        return AttemptResult(
            request_id, started, ended, "Unhandled", type(exc).__name__, self.version, None,
            exc, message,
        )  # fmt: skip

    def _marshal(self, request_id: str, started: float, ended: float, result: Any) -> AttemptResult:
        if result is None:  # what most handlers return: json.dumps(None), without the encoder
            return AttemptResult(request_id, started, ended, None, None, self.version, "null")
        try:
            text = _dumps(result)
        except Exception as exc:  # the runtime catches any marshal failure
            try:
                message = f"Unable to marshal response: {exc}"
            except BaseException as crash:  # the runtime process dies of it
                return self._exit_error(request_id, started, ended, crash)
            return self._fault(request_id, started, ended, "Runtime.MarshalError", message)
        except BaseException as exc:  # uncaught by the runtime: it exits
            return self._exit_error(request_id, started, ended, exc)
        if (len(text) if text.isascii() else len(text.encode("utf-8"))) > RESPONSE_PAYLOAD_LIMIT:
            document = response_too_large_document(RESPONSE_PAYLOAD_LIMIT)
            return AttemptResult(
                request_id, started, ended, "Unhandled", "Function.ResponseSizeTooLarge",
                self.version, _dumps(document),
            )  # fmt: skip
        return AttemptResult(request_id, started, ended, None, None, self.version, text)

    def _unmarshal_error(
        self, request_id: str, started: float, ended: float, exc: Exception
    ) -> AttemptResult:
        """The runtime could not parse the event (RIC ``LambdaMarshaller.unmarshal_request``)."""
        return self._fault(
            request_id, started, ended, "Runtime.UnmarshalError",
            f"Unable to unmarshal input: {_describe(exc)}",
        )  # fmt: skip

    def _fault(
        self, request_id: str, started: float, ended: float, error_type: str, message: str
    ) -> AttemptResult:
        """A runtime ``FaultException``'s error document: no stack trace."""
        document = error_document(error_type, message, request_id, [])
        return AttemptResult(
            request_id, started, ended, "Unhandled", error_type, self.version, _dumps(document)
        )

    def _init_failed(
        self, request_id: str, started: float, ended: float, exc: HandlerImportError
    ) -> AttemptResult:
        """The handler could not be loaded: the runtime's init error document.

        The runtime posts it before any invoke exists, so its ``requestId`` is ``""``
        (reference 2.3); the attempt itself keeps its request id.  A runtime that
        exited during init posts nothing: Lambda reports ``Runtime.ExitError``.
        """
        if exc.error_type == "Runtime.ExitError":
            return self._exited(request_id, started, ended, exc.message)
        document = error_document(exc.error_type, exc.message, "", exc.stack_trace)
        return AttemptResult(
            request_id, started, ended, "Unhandled", exc.error_type, self.version,
            _dumps(document),
        )  # fmt: skip

    def _timed_out(self, request_id: str, started: float) -> AttemptResult:
        document = timeout_document(request_id, self.timeout)
        return AttemptResult(
            request_id, started, on_grid(started + self.timeout), "Unhandled",
            "Sandbox.Timedout", self.version, _dumps(document),
        )  # fmt: skip

    def _exit_error(
        self, request_id: str, started: float, ended: float, exc: BaseException
    ) -> AttemptResult:
        """The runtime process ended with ``exc`` uncaught: ``Runtime.ExitError``."""
        return self._exited(request_id, started, ended, _exit_reason(exc))

    def _exited(self, request_id: str, started: float, ended: float, reason: str) -> AttemptResult:
        """Lambda's document for a runtime process that ended (reference 2.3)."""
        document = exit_document(request_id, reason)
        return AttemptResult(
            request_id, started, ended, "Unhandled", "Runtime.ExitError", self.version,
            _dumps(document),
        )  # fmt: skip


def _exit_reason(exc: BaseException) -> str:
    """Why Lambda says the runtime process ended when ``exc`` went uncaught.

    ``sys.exit`` gives its status (ints, bools too, modulo 256; other values 1),
    an uncaught ``KeyboardInterrupt`` makes Python kill itself with SIGINT
    ("signal: interrupt", as Go's ``os.ProcessState`` prints it), and any other
    exception exits with status 1.
    """
    if isinstance(exc, KeyboardInterrupt):
        return "Runtime exited with error: signal: interrupt"
    if isinstance(exc, SystemExit):
        code = exc.code
        status = 0 if code is None else int(code) & 0xFF if isinstance(code, int) else 1
    else:
        status = 1
    if status == 0:
        return "Runtime exited without providing a reason"
    return f"Runtime exited with error: exit status {status}"
