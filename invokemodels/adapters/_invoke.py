"""`RemoteInvoker`: the `Invoker` protocol over the real Invoke API (boto3 ``lambda.invoke``).

It returns the same `InvokeResponse` as the in-process invokers and raises the same
exception tree for the API's refusals:

====================================  ===================================
AWS error (HTTP status)               raised
====================================  ===================================
``TooManyRequestsException`` (429)    `TooManyRequestsError`, with ``.reason`` (AWS's
                                      ``Reason``) and ``.retry_after``
``RequestEntityTooLargeException``    `RequestEntityTooLargeError`
(413; the model's
``RequestTooLargeException`` too)
``InvalidRequestContentException``    `InvalidRequestContentError`
(400)
``ResourceNotFoundException`` (404)   `ResourceNotFoundError`
``ServiceException`` (500)            `ServiceError`
any other code                        an `InvocationError` (a `ServiceError` for a
                                      5xx) whose ``code`` and ``status_code`` are AWS's
====================================  ===================================

Retries: the client-side retries are the library's SDK retry policies (`StandardRetry` by
default; `LegacyRetry`, `NoRetry`, a `CombinedPolicy` or your own `RetryPolicy`), decided
exactly as `LambdaClient` decides them in the models, and botocore's own retries are
switched off on the client the invoker makes, so what was tested is what runs.  With
``retry=None`` the invoker makes one call and leaves retrying to botocore (the client's
``retries`` configuration).  A function error (200 with ``FunctionError``) is a response,
never retried, as the SDKs do.  A call that gets no response at all (connection refused,
read timeout) is retried as botocore's modes retry socket errors and then raises
botocore's own exception, or `ReadTimeoutError` for a read timeout.
"""

from __future__ import annotations

import base64
import collections
import importlib
import json
import math
import random
from collections.abc import Mapping
from typing import Any, Final

import attrs

from invokemodels.adapters._boto import aws_errors, make_client, require_boto3
from invokemodels.core._clock import Clock, SystemClock, on_grid
from invokemodels.core._combine import check_retry_policy
from invokemodels.core._context import ClientContext
from invokemodels.core._function import encode_payload
from invokemodels.core._protocols import InvokeResponse, RetryPolicy
from invokemodels.core._retry import Failure, FailureKind, checked_decision, past_the_clock
from invokemodels.core._validate import in_range, is_random, one_of, seeded
from invokemodels.exceptions import (
    InvalidParameterValueError,
    InvalidRequestContentError,
    InvocationError,
    ReadTimeoutError,
    RequestEntityTooLargeError,
    ResourceNotFoundError,
    ServiceError,
    TooManyRequestsError,
)
from invokemodels.sync._client import StandardRetry

__all__ = ["RemoteAttempt", "RemoteInvoker", "invocation_error"]

_INVOCATION_TYPES: Final = ("RequestResponse", "Event", "DryRun")
_LOG_TYPES: Final = ("None", "Tail")
_MODELLED: Final[dict[str, type[InvocationError]]] = {
    "TooManyRequestsException": TooManyRequestsError,
    "RequestEntityTooLargeException": RequestEntityTooLargeError,
    "RequestTooLargeException": RequestEntityTooLargeError,
    "InvalidRequestContentException": InvalidRequestContentError,
    "ResourceNotFoundException": ResourceNotFoundError,
    "ServiceException": ServiceError,
}
_OTHER: dict[tuple[str, int], type[InvocationError]] = {}


def _other(code: str, status: int) -> type[InvocationError]:
    """An `InvocationError` class for a code the tree does not name (cached): a
    `ServiceError` for a 5xx, so that ``except ServiceError`` catches every 5xx."""
    key = (code, status)
    kind = _OTHER.get(key)
    if kind is None:
        name = "".join(ch for ch in code if ch.isalnum()) or "InvocationError"
        base = ServiceError if status >= 500 else InvocationError
        kind = type(name, (base,), {"code": code, "status_code": status})
        _OTHER[key] = kind
    return kind


def invocation_error(response: Mapping[str, Any]) -> InvocationError:
    """The library's error for the ``response`` of a botocore ``ClientError``.

    Reads ``Error.Code``, ``Error.Message``, the HTTP status and, for a 429, ``Reason``
    and ``retryAfterSeconds`` (botocore puts the modelled fields at the top level).
    """
    error = response.get("Error") or {}
    code = str(error.get("Code", "ServiceException"))
    message = str(error.get("Message", response.get("message", "")))
    status = int((response.get("ResponseMetadata") or {}).get("HTTPStatusCode", 500))
    if code == "TooManyRequestsException":
        retry_after = response.get("retryAfterSeconds")
        try:
            after = None if retry_after in (None, "") else float(retry_after)
        except (TypeError, ValueError):
            after = None
        return TooManyRequestsError(str(response.get("Reason", "")), message, after)
    kind = _MODELLED.get(code)
    if kind is None:
        kind = _other(code, status)
    return kind(message)


def _body(payload: Any) -> bytes:
    """The request body: ``bytes`` as they are (the service judges them, as AWS does), any
    other value as JSON through the models' own encoder (a value that is no JSON at all is
    `InvalidRequestContentError` before anything is sent)."""
    if isinstance(payload, (bytes, bytearray)):
        return bytes(payload)
    return encode_payload(payload, limit=None).encode("utf-8")


def _optional_policy(_instance: Any, _attribute: Any, value: Any) -> None:
    if value is not None:
        check_retry_policy("retry", value)


def _client_context(value: ClientContext | Mapping[str, Any] | str | None) -> str | None:
    """The ``ClientContext`` header value: base64 of the JSON object."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, ClientContext):
        data: Any = attrs.asdict(value)
    elif isinstance(value, Mapping):
        data = dict(value)
    else:
        raise InvalidParameterValueError(
            "client_context", value, "must be a ClientContext, a mapping or base64 JSON text"
        )
    return base64.b64encode(json.dumps(data).encode("utf-8")).decode("ascii")


@attrs.frozen
class RemoteAttempt:
    """One HTTP call of a `RemoteInvoker` call.

    ``outcome`` is ``"Success"``, ``"Unhandled"`` (a function error), or the error code;
    ``retry_delay`` the policy's backoff before the next attempt (None: no retry) and
    ``reason`` why it stopped.
    """

    call: int
    attempt: int
    request_id: str
    sent_at: float
    answered_at: float
    outcome: str
    retry_delay: float | None = None
    reason: str = ""


def _new_client(endpoint_url: str | None, region_name: str | None, read_timeout: float) -> Any:
    boto3 = require_boto3()
    config = importlib.import_module("botocore.config").Config(
        retries={"total_max_attempts": 1}, read_timeout=read_timeout
    )
    kwargs: dict[str, Any] = {"config": config}
    if endpoint_url is not None:
        kwargs["endpoint_url"] = endpoint_url
    if region_name is not None:
        kwargs["region_name"] = region_name
    return boto3.client("lambda", **kwargs)


@attrs.define(repr=False, eq=False)
class RemoteInvoker:
    """An `Invoker` over the real Invoke API: ``invoke(payload)`` -> `InvokeResponse`.

    Args:
        function_name: ``FunctionName`` (a name, an ARN, or ``name:qualifier``).
        client: a boto3 Lambda client (default: a new one, through boto3's chain of
            credentials and Region, with botocore's retries off and ``read_timeout``).
        endpoint_url: for a new client, the endpoint of a local server
            (``invokemodels serve``, moto).
        region_name: for a new client, the Region.
        qualifier: ``Qualifier``, a version or alias (default None: ``$LATEST``).
        invocation_type: ``InvocationType``: ``RequestResponse`` (default), ``Event``
            or ``DryRun``.
        log_type: ``LogType``: ``"Tail"`` returns the last 4 KB of the log in
            ``log_result``; default None (``"None"``).
        client_context: ``ClientContext``: a `ClientContext`, its JSON as a mapping, or
            the base64 text; default None.
        retry: the `RetryPolicy` for client-side retries (default `StandardRetry`);
            None leaves them to botocore (see the module docstring).
        read_timeout: botocore's ``read_timeout`` for a new client, 0.001-86400 s
            (default 60).
        clock: the clock that times the attempts and their backoff (default a
            `SystemClock`).
        seed: seeds the backoff jitter (or pass ``rng``).

    ``attempts`` lists every HTTP call as a `RemoteAttempt`.  Per-call overrides:
    ``invoke(payload, qualifier=..., invocation_type=..., log_type=...,
    client_context=...)``.
    """

    function_name: str
    client: Any = None
    endpoint_url: str | None = None
    region_name: str | None = None
    qualifier: str | None = None
    invocation_type: str = attrs.field(
        default="RequestResponse", validator=one_of("InvocationType", _INVOCATION_TYPES)
    )
    log_type: str | None = attrs.field(
        default=None, validator=attrs.validators.optional(one_of("LogType", _LOG_TYPES))
    )
    client_context: ClientContext | Mapping[str, Any] | str | None = None
    retry: RetryPolicy | None = attrs.field(factory=StandardRetry, validator=_optional_policy)
    read_timeout: float = attrs.field(
        default=60.0, validator=in_range("read_timeout", 0.001, 86400)
    )
    clock: Clock = attrs.field(factory=SystemClock)
    seed: int | None = None
    rng: random.Random = attrs.field(
        default=attrs.Factory(lambda self: seeded(self.seed), takes_self=True),
        validator=is_random,
    )
    attempts: list[RemoteAttempt] = attrs.field(factory=list, init=False)
    _calls: int = attrs.field(default=0, init=False)

    def __attrs_post_init__(self) -> None:
        if self.client is None:
            self.client = _new_client(self.endpoint_url, self.region_name, self.read_timeout)
        else:
            make_client("lambda", self.client, endpoint_url=self.endpoint_url,
                        region_name=self.region_name)  # fmt: skip
        _client_context(self.client_context)

    def __repr__(self) -> str:
        return f"<RemoteInvoker {self.function_name} calls={self._calls}>"

    def invoke(
        self,
        payload: Any = None,
        *,
        qualifier: str | None = None,
        invocation_type: str | None = None,
        log_type: str | None = None,
        client_context: ClientContext | Mapping[str, Any] | str | None = None,
    ) -> InvokeResponse:
        """``lambda.invoke``, with the retry policy's retries; see the class docstring."""
        kwargs: dict[str, Any] = {
            "FunctionName": self.function_name,
            "Payload": _body(payload),
        }
        kind = invocation_type or self.invocation_type
        one_of("InvocationType", _INVOCATION_TYPES)(None, None, kind)
        kwargs["InvocationType"] = kind
        logs = log_type or self.log_type
        if logs is not None:
            one_of("LogType", _LOG_TYPES)(None, None, logs)
            kwargs["LogType"] = logs
        name = qualifier or self.qualifier
        if name is not None:
            kwargs["Qualifier"] = name
        context = _client_context(client_context or self.client_context)
        if context is not None:
            kwargs["ClientContext"] = context
        self._calls += 1
        return self._call(kwargs)

    def _call(self, kwargs: dict[str, Any]) -> InvokeResponse:
        call = self._calls
        clock = self.clock
        first = clock.now()
        counts: collections.Counter[FailureKind] = collections.Counter()
        attempt = 0
        while True:
            attempt += 1
            sent = clock.now()
            try:
                raw = self.client.invoke(**kwargs)
            except aws_errors() as exc:
                error, status, request_id = self._failure(exc)
            else:
                response = self._response(raw)
                succeeded = getattr(self.retry, "succeeded", None)
                if callable(succeeded):
                    succeeded(attempt)
                outcome = response.function_error or "Success"
                self.attempts.append(
                    RemoteAttempt(call, attempt, response.request_id, sent, clock.now(), outcome)
                )
                return response
            code = error.code if isinstance(error, (InvocationError, ReadTimeoutError)) else (
                type(error).__name__
            )  # fmt: skip
            if self.retry is None:
                self.attempts.append(
                    RemoteAttempt(call, attempt, request_id, sent, clock.now(), code)
                )
                raise error
            kind = _kind(error, status)
            counts[kind] += 1
            failure = Failure(
                attempt=attempt, kind=kind, kind_count=counts[kind], code=code,
                status_code=status, first_attempt_at=first, failed_at=clock.now(),
            )  # fmt: skip
            policy = self.retry
            decision = checked_decision("retry", policy, policy.decide(failure, self.rng))
            self.attempts.append(
                RemoteAttempt(
                    call, attempt, request_id, sent, clock.now(), code, decision.delay,
                    decision.reason,
                )
            )  # fmt: skip
            if decision.delay is None:
                raise error
            wake = clock.now() + decision.delay
            if on_grid(wake) == math.inf:
                raise past_the_clock("retry", policy, decision.delay, f"attempt {attempt + 1}")
            clock.sleep_until(wake)

    def _failure(self, exc: BaseException) -> tuple[BaseException, int | None, str]:
        response = getattr(exc, "response", None)
        if isinstance(response, dict):
            error = invocation_error(response)
            metadata = response.get("ResponseMetadata") or {}
            return error, error.status_code, str(metadata.get("RequestId", ""))
        if type(exc).__name__ == "ReadTimeoutError":
            endpoint = str(getattr(exc, "kwargs", {}).get("endpoint_url", ""))
            timeout = ReadTimeoutError(endpoint, self.read_timeout)
            timeout.__cause__ = exc
            return timeout, None, ""
        return exc, None, ""

    @staticmethod
    def _response(raw: Mapping[str, Any]) -> InvokeResponse:
        body = raw.get("Payload")
        payload = body.read() if body is not None else b""
        metadata = raw.get("ResponseMetadata") or {}
        headers = metadata.get("HTTPHeaders") or {}
        return InvokeResponse(
            status_code=int(raw["StatusCode"]),
            payload=payload,
            function_error=raw.get("FunctionError"),
            executed_version=raw.get("ExecutedVersion"),
            request_id=str(metadata.get("RequestId") or headers.get("x-amzn-requestid", "")),
            log_result=raw.get("LogResult"),
        )


def _kind(error: BaseException, status: int | None) -> FailureKind:
    if isinstance(error, ReadTimeoutError):
        return FailureKind.CLIENT_TIMEOUT
    if status is None or status >= 500:
        return FailureKind.SERVICE_ERROR
    if status == 429:
        return FailureKind.THROTTLE
    return FailureKind.INVALID_REQUEST
