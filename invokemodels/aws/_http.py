"""In-memory HTTP front doors that invoke a function synchronously: an API Gateway REST
API (`RestApi`, Lambda proxy integration, payload 1.0), an API Gateway HTTP API
(`HttpApi`, payload 2.0 or 1.0) and a Lambda function URL (`FunctionUrl`) (reference 2.7).

``api.request(method, url, ...)`` turns an HTTP request into the event the service sends
(the shapes of `invokemodels.core._records`, filled by the functions here, which the event
builders of `invokemodels.testing` use too), invokes the route's function through the
synchronous model (`RequestResponseInvoker`, so a shared `History` records the call), and
turns what the function returned into the `HttpResponse` the service sends back, or
into the service's own error response (`GatewayError`).

Which error response a service sends when the function fails, times out, is throttled
or returns a malformed response is written down in `ErrorResponses`, one instance per
service (`REST_API_ERRORS`, `HTTP_API_ERRORS`, `FUNCTION_URL_ERRORS`); a service takes
another as ``errors``.  The reference (2.5) states only that API Gateway gives 500 for a
Lambda API rejection and 502 for a function error or a malformed response; every other
row is the model this module documents, marked [UNCONFIRMED] where no AWS source backs it.

    from invokemodels import Function
    from invokemodels.aws import RestApi

    def handler(event, context):
        order = event["pathParameters"]["id"]
        return {"statusCode": 200, "body": f'{{"order": "{order}"}}'}

    api = RestApi(Function("orders", handler), routes=["GET /orders/{id}"])
    response = api.request("GET", "/orders/42")
    assert (response.status_code, response.json()) == (200, {"order": "42"})
"""

from __future__ import annotations

import base64
import binascii
import json as _json
import random
import re
import urllib.parse
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

import attrs

from invokemodels.core import _records
from invokemodels.core._function import Function, new_request_id
from invokemodels.core._history import History, new_history
from invokemodels.core._protocols import InvokeResponse
from invokemodels.core._scheduler import Scheduler
from invokemodels.core._validate import (
    ACCOUNT_ID,
    REGION,
    check_range,
    instance_of,
    is_random,
    seeded,
    text,
)
from invokemodels.exceptions import (
    InvalidParameterValueError,
    InvocationError,
    TooManyRequestsError,
)
from invokemodels.sync._invoker import RequestResponseInvoker

__all__ = [
    "FUNCTION_URL_ERRORS",
    "HTTP_API_ERRORS",
    "HTTP_API_INTEGRATION_TIMEOUT",
    "REST_API_ERRORS",
    "REST_API_INTEGRATION_TIMEOUT",
    "ErrorResponses",
    "FunctionUrl",
    "GatewayError",
    "HttpApi",
    "HttpResponse",
    "RestApi",
    "Route",
    "Target",
    "function_url_event_of",
    "http_api_event_of",
    "join_pairs",
    "path_parameters",
    "rest_api_event_of",
    "split_pairs",
    "v1_response",
    "v2_response",
]

REST_API_INTEGRATION_TIMEOUT: Final = 29.0
"""A REST API's default integration timeout, in seconds (API Gateway quota: 50 ms to 29 s;
Regional and private APIs may raise it with a quota increase)."""

HTTP_API_INTEGRATION_TIMEOUT: Final = 30.0
"""An HTTP API's default, and largest, integration timeout, in seconds (50 ms to 30 s)."""

_METHOD: Final = re.compile("[A-Z]+")
_SEGMENT: Final = re.compile(r"\{([A-Za-z0-9_]+)(\+)?\}|[^{}/]*")
_API_ID: Final = re.compile("[a-z0-9]{1,32}")
_STAGE: Final = re.compile(r"\$default|[A-Za-z0-9_-]{1,128}")
_BASE64: Final = re.compile("[A-Za-z0-9+/]*={0,2}")
_MISSING: Final[Any] = object()

Target = Function | RequestResponseInvoker
"""What a route invokes: a `Function` (the service makes a `RequestResponseInvoker` for it
on its own scheduler, history and random source) or a `RequestResponseInvoker` of your own
on the service's scheduler (its qualifier, client context, ``fault`` and ``inject`` apply)."""
_TARGET: Final = "a Function or a RequestResponseInvoker"


# -- the event shapes' values ---------------------------------------------------------------


def split_pairs(pairs: Iterable[tuple[str, str]]) -> tuple[dict[str, str], dict[str, list[str]]]:
    """Payload 1.0's two maps of repeated names: the last value of each name
    (``headers``, ``queryStringParameters``) and all of them (``multiValue...``)."""
    multi: dict[str, list[str]] = {}
    for name, value in pairs:
        multi.setdefault(name, []).append(value)
    return {name: values[-1] for name, values in multi.items()}, multi


def join_pairs(pairs: Iterable[tuple[str, str]], *, lower: bool = False) -> dict[str, str]:
    """Payload 2.0's map of repeated names: the values joined with commas (``"1,2"``);
    ``lower`` lower-cases the names (2.0's header names)."""
    joined: dict[str, str] = {}
    for name, value in pairs:
        key = name.lower() if lower else name
        joined[key] = f"{joined[key]},{value}" if key in joined else value
    return joined


def path_parameters(template: str, path: str) -> dict[str, str] | None:
    """The values of ``{name}`` (one segment) and ``{name+}`` (the rest) of ``template``
    in ``path``; None when the template has none.  A path that does not match raises
    `InvalidParameterValueError` naming ``path``."""
    found = _route_pattern(template)[0].fullmatch(path)
    if found is None:
        raise InvalidParameterValueError("path", path, f"does not match the route {template!r}")
    return found.groupdict() or None


def _route_pattern(template: str) -> tuple[re.Pattern[str], bool, int]:
    """The regular expression of a route's path, whether it ends in a greedy ``{name+}``,
    and its count of literal segments."""
    parts: list[str] = []
    greedy = False
    literals = 0
    segments = template.split("/")[1:]
    for index, segment in enumerate(segments):
        match = _SEGMENT.fullmatch(segment)
        if match is None or (match[2] and index != len(segments) - 1):
            raise InvalidParameterValueError(
                "route",
                template,
                "must be /-separated segments, each literal, {name} or (last only) {name+}",
            )
        if match[1] is None:
            parts.append(re.escape(segment))
            literals += 1
        elif match[2]:
            parts.append(f"(?P<{match[1]}>.+)")
            greedy = True
        else:
            parts.append(f"(?P<{match[1]}>[^/]+)")
    return re.compile("/" + "/".join(parts)), greedy, literals


def rest_api_event_of(
    *,
    method: str,
    path: str,
    resource: str,
    header_pairs: Sequence[tuple[str, str]],
    query_pairs: Sequence[tuple[str, str]],
    body: str | None,
    is_base64_encoded: bool,
    stage: str,
    stage_variables: Mapping[str, str] | None,
    account_id: str,
    api_id: str,
    domain_name: str,
    source_ip: str,
    epoch: float,
    authorizer: dict[str, Any] | None,
    request_id: str,
    extended_request_id: str,
    resource_id: str | None,
    version: str | None = None,
) -> dict[str, Any]:
    """A payload 1.0 event (`invokemodels.core._records.rest_api_event`) from a request's
    parts: ``resource`` is the route's path template (its ``{name}`` fill
    ``pathParameters``), ``path`` the path after the stage; every empty map is null.
    ``version`` ``"1.0"`` and ``resource_id`` None make an HTTP API's 1.0 event."""
    headers, multi_headers = split_pairs(header_pairs)
    query, multi_query = split_pairs(query_pairs)
    user_agent = next((v for k, v in reversed(header_pairs) if k.lower() == "user-agent"), None)
    return _records.rest_api_event(
        resource=resource,
        path=path,
        http_method=method,
        headers=headers or None,
        multi_value_headers=multi_headers or None,
        query_string_parameters=query or None,
        multi_value_query_string_parameters=multi_query or None,
        path_parameters=path_parameters(resource, path),
        stage_variables=dict(stage_variables) if stage_variables else None,
        request_context=_records.rest_request_context(
            account_id=account_id,
            api_id=api_id,
            domain_name=domain_name,
            domain_prefix=domain_name.split(".", 1)[0],
            extended_request_id=extended_request_id,
            http_method=method,
            source_ip=source_ip,
            user_agent=user_agent,
            path=path if stage == "$default" else f"/{stage}{path}",
            protocol="HTTP/1.1",
            request_id=request_id,
            epoch=epoch,
            resource_id=resource_id,
            resource_path=resource,
            stage=stage,
            authorizer=authorizer,
        ),
        body=body,
        is_base64_encoded=is_base64_encoded,
        version=version,
    )


def http_api_event_of(
    *,
    method: str,
    path: str,
    route: str | None,
    header_pairs: Sequence[tuple[str, str]],
    raw_query_string: str,
    query_pairs: Sequence[tuple[str, str]],
    cookies: Sequence[str] | None,
    body: str | None,
    is_base64_encoded: bool,
    stage: str,
    stage_variables: Mapping[str, str] | None,
    account_id: str,
    api_id: str,
    domain_name: str,
    source_ip: str,
    epoch: float,
    authorizer: dict[str, Any] | None,
    request_id: str,
    raw_path: str | None = None,
) -> dict[str, Any]:
    """A payload 2.0 event (`invokemodels.core._records.http_api_event`) from a request's
    parts: ``route`` is the route's path template (route key ``"<METHOD> <route>"``) or
    None for ``$default``; header names are lower-cased and repeats joined with commas,
    as are repeated query parameters (``raw_query_string`` keeps them as sent).
    ``raw_path`` is ``rawPath`` and ``requestContext.http.path`` when they differ from
    the ``path`` the route matched (a named stage's prefix)."""
    headers = join_pairs(header_pairs, lower=True)
    route_key = "$default" if route is None else f"{method} {route}"
    shown = path if raw_path is None else raw_path
    return _records.http_api_event(
        route_key=route_key,
        raw_path=shown,
        raw_query_string=raw_query_string,
        cookies=list(cookies) if cookies else None,
        headers=headers,
        query_string_parameters=join_pairs(query_pairs) or None,
        request_context=_records.http_request_context(
            account_id=account_id,
            api_id=api_id,
            domain_name=domain_name,
            domain_prefix=domain_name.split(".", 1)[0],
            method=method,
            path=shown,
            protocol="HTTP/1.1",
            source_ip=source_ip,
            user_agent=headers.get("user-agent", ""),
            request_id=request_id,
            route_key=route_key,
            stage=stage,
            epoch=epoch,
            authentication=None,
            authorizer=authorizer,
        ),
        body=body,
        path_parameters=None if route is None else path_parameters(route, path),
        is_base64_encoded=is_base64_encoded,
        stage_variables=dict(stage_variables) if stage_variables else None,
    )


def function_url_event_of(
    *,
    method: str,
    path: str,
    header_pairs: Sequence[tuple[str, str]],
    raw_query_string: str,
    query_pairs: Sequence[tuple[str, str]],
    cookies: Sequence[str] | None,
    body: str | None,
    is_base64_encoded: bool,
    url_id: str,
    region: str,
    account_id: str,
    source_ip: str,
    epoch: float,
    authorizer: dict[str, Any] | None,
    request_id: str,
) -> dict[str, Any]:
    """A function URL event (`invokemodels.core._records.function_url_event`) from a
    request's parts; headers, query and cookies as `http_api_event_of`."""
    headers = join_pairs(header_pairs, lower=True)
    return _records.function_url_event(
        url_id=url_id,
        region=region,
        account_id=account_id,
        raw_path=path,
        raw_query_string=raw_query_string,
        cookies=list(cookies) if cookies else None,
        headers=headers,
        query_string_parameters=join_pairs(query_pairs) or None,
        method=method,
        protocol="HTTP/1.1",
        source_ip=source_ip,
        user_agent=headers.get("user-agent", ""),
        request_id=request_id,
        epoch=epoch,
        body=body,
        is_base64_encoded=is_base64_encoded,
        authorizer=authorizer,
    )


# -- responses ------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class GatewayError:
    """An error response the service sends itself (API Gateway calls these gateway
    responses), when the function's own response cannot be sent.

    Attributes:
        status_code: the HTTP status.
        body: the response body text.
        content_type: its ``Content-Type`` (default ``application/json``).
    """

    status_code: int = attrs.field()
    body: str = attrs.field(validator=text("body"))
    content_type: str = attrs.field(default="application/json", validator=text("content_type"))

    @status_code.validator
    def _check_status(self, _attribute: Any, value: Any) -> None:
        check_range("status_code", value, 100, 599, integer=True)


@attrs.frozen(kw_only=True)
class ErrorResponses:
    """What a service answers, row by row, when the function's response cannot be sent.

    Attributes:
        function_error: the function failed (``FunctionError`` set: an exception, an
            init error, the function's own timeout ``Sandbox.Timedout``, a response
            over 6 MB).
        malformed_response: the function returned something the payload version
            cannot map to a response.
        timeout: the integration timeout passed before the function returned (the
            function runs on and holds its concurrency slot).
        throttled: Lambda refused the invoke with 429 ``TooManyRequestsException``.
        invocation_error: Lambda refused the invoke otherwise (any other
            `InvocationError`, e.g. an injected 500 ``ServiceException``).
        no_route: no route matches the request's method and path.
    """

    function_error: GatewayError = attrs.field(
        validator=instance_of("function_error", GatewayError, "a GatewayError")
    )
    malformed_response: GatewayError = attrs.field(
        validator=instance_of("malformed_response", GatewayError, "a GatewayError")
    )
    timeout: GatewayError = attrs.field(
        validator=instance_of("timeout", GatewayError, "a GatewayError")
    )
    throttled: GatewayError = attrs.field(
        validator=instance_of("throttled", GatewayError, "a GatewayError")
    )
    invocation_error: GatewayError = attrs.field(
        validator=instance_of("invocation_error", GatewayError, "a GatewayError")
    )
    no_route: GatewayError = attrs.field(
        validator=instance_of("no_route", GatewayError, "a GatewayError")
    )


_REST_INTERNAL: Final = GatewayError(status_code=502, body='{"message": "Internal server error"}')
_REST_REJECTED: Final = GatewayError(status_code=500, body='{"message": "Internal server error"}')
_HTTP_INTERNAL: Final = GatewayError(status_code=500, body='{"message":"Internal Server Error"}')
_URL_INTERNAL: Final = GatewayError(
    status_code=502, body="Internal Server Error", content_type="text/plain"
)

REST_API_ERRORS: Final = ErrorResponses(
    function_error=_REST_INTERNAL,
    malformed_response=_REST_INTERNAL,
    timeout=GatewayError(status_code=504, body='{"message": "Endpoint request timed out"}'),
    throttled=_REST_REJECTED,
    invocation_error=_REST_REJECTED,
    no_route=GatewayError(status_code=403, body='{"message":"Missing Authentication Token"}'),
)
"""A REST API's error responses.  A function error and a malformed response are 502
``{"message": "Internal server error"}`` and a Lambda API rejection (a throttle
included) is 500 with the same body (reference 2.5); the integration timeout is 504
``{"message": "Endpoint request timed out"}`` (the ``INTEGRATION_TIMEOUT`` gateway
response); an unknown resource or method is 403 ``{"message":"Missing Authentication
Token"}`` (the ``MISSING_AUTHENTICATION_TOKEN`` gateway response)."""

HTTP_API_ERRORS: Final = ErrorResponses(
    function_error=_HTTP_INTERNAL,
    malformed_response=_HTTP_INTERNAL,
    timeout=GatewayError(status_code=503, body='{"message":"Service Unavailable"}'),
    throttled=_HTTP_INTERNAL,
    invocation_error=_HTTP_INTERNAL,
    no_route=GatewayError(status_code=404, body='{"message":"Not Found"}'),
)
"""An HTTP API's error responses: 500 ``{"message":"Internal Server Error"}`` for a
function error, a malformed response or a Lambda API rejection, 503
``{"message":"Service Unavailable"}`` for the integration timeout, 404
``{"message":"Not Found"}`` without a matching route.  [UNCONFIRMED]: the reference does
not give an HTTP API's statuses; these are the ones API Gateway's HTTP API
troubleshooting pages describe."""

FUNCTION_URL_ERRORS: Final = ErrorResponses(
    function_error=_URL_INTERNAL,
    malformed_response=_URL_INTERNAL,
    timeout=_URL_INTERNAL,
    throttled=GatewayError(status_code=429, body='{"message":"Rate Exceeded."}'),
    invocation_error=_URL_INTERNAL,
    no_route=GatewayError(status_code=404, body='{"message":"Not Found"}'),
)
"""A function URL's error responses: 502 ``Internal Server Error`` (text) for a function
error or a malformed response, 429 with Lambda's throttle message when the invoke is
throttled.  A function URL has no integration timeout (the function's own timeout is a
function error) and sends every path to the function, so ``timeout`` and ``no_route``
are never used.  [UNCONFIRMED]: the reference gives none of these; the 502 is the one
function URL users report, the 429 is Lambda's own throttle status."""


def _header_items(headers: Mapping[str, Sequence[str]]) -> dict[str, tuple[str, ...]]:
    return {str(name): tuple(values) for name, values in headers.items()}


@attrs.frozen(kw_only=True, eq=False)
class HttpResponse:
    """The HTTP response the service sends back for one request.

    Attributes:
        status_code: the HTTP status.
        multi_value_headers: every response header with all its values, names as the
            function (or the service) wrote them; ``Set-Cookie`` included.
        body: the body bytes (a base64 body of the function's response decoded).
        request_id: the service's request id (``x-amzn-RequestId``; the event's
            ``requestContext.requestId``).
        event: the event the function got, or None when no function was invoked
            (no route).
        invoke_response: the Invoke response of the function's run, or None when
            Lambda refused the invoke or none was made; on a timeout, the response
            the function gave after the service stopped waiting.
        error: which `ErrorResponses` row the service sent (``"function_error"``,
            ``"malformed_response"``, ``"timeout"``, ``"throttled"``,
            ``"invocation_error"``, ``"no_route"``), or None for the function's own
            response.
    """

    status_code: int
    multi_value_headers: Mapping[str, tuple[str, ...]] = attrs.field(converter=_header_items)
    body: bytes = b""
    request_id: str = ""
    event: dict[str, Any] | None = None
    invoke_response: InvokeResponse | None = None
    error: str | None = None

    def __repr__(self) -> str:
        return f"<HttpResponse {self.status_code} {len(self.body)} bytes>"

    @property
    def headers(self) -> dict[str, str]:
        """Each header but ``Set-Cookie`` with its values joined by ``", "`` (as an HTTP
        client folds repeated headers); look cookies up in `cookies`."""
        return {
            name: ", ".join(values)
            for name, values in self.multi_value_headers.items()
            if name.lower() != "set-cookie"
        }

    @property
    def cookies(self) -> list[str]:
        """The ``Set-Cookie`` header values, in order."""
        return [
            value
            for name, values in self.multi_value_headers.items()
            if name.lower() == "set-cookie"
            for value in values
        ]

    def header(self, name: str) -> str | None:
        """The header ``name`` (any case), its values joined by ``", "``, or None."""
        values = [
            value
            for key, found in self.multi_value_headers.items()
            if key.lower() == name.lower()
            for value in found
        ]
        return ", ".join(values) if values else None

    @property
    def text(self) -> str:
        """The body decoded as UTF-8 (invalid bytes replaced)."""
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """The body parsed as JSON."""
        return _json.loads(self.body)


class _Malformed(Exception):
    """The function's response does not fit the payload version's format."""


def _scalar_text(value: Any) -> str:
    """A response header value: a JSON string, number or boolean as text.  [UNCONFIRMED]
    which non-string values API Gateway accepts; this model takes JSON scalars."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return _json.dumps(value)
    raise _Malformed


def _status(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 100 <= value <= 599:
        raise _Malformed
    return value


def _body_bytes(body: Any, encoded: Any) -> bytes:
    if encoded is None:
        encoded = False
    if not isinstance(encoded, bool) or not (body is None or isinstance(body, str)):
        raise _Malformed
    if body is None:
        return b""
    if not encoded:
        return body.encode("utf-8", errors="surrogatepass")
    if not _BASE64.fullmatch(body):
        raise _Malformed
    try:
        return base64.b64decode(body, validate=True)
    except binascii.Error:
        raise _Malformed from None


def _string_map(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _Malformed
    return value


def v1_response(value: Any) -> tuple[int, dict[str, list[str]], bytes]:
    """Payload 1.0's response format: an object with an integer ``statusCode``; optional
    ``headers`` (name to value), ``multiValueHeaders`` (name to list), a string
    ``body`` and ``isBase64Encoded``.  A name in both header maps gets the
    ``multiValueHeaders`` values plus the ``headers`` value if it is not among them
    (API Gateway merges the two).  Other keys are ignored [UNCONFIRMED].  Raises
    `_Malformed` for anything else."""
    if not isinstance(value, dict):
        raise _Malformed
    status = _status(value.get("statusCode"))
    merged: dict[str, list[str]] = {}
    for name, values in _string_map(value.get("multiValueHeaders")).items():
        if not isinstance(values, list):
            raise _Malformed
        merged[name] = [_scalar_text(one) for one in values]
    for name, one in _string_map(value.get("headers")).items():
        single = _scalar_text(one)
        if single not in merged.setdefault(name, []):
            merged[name].append(single)
    body = _body_bytes(value.get("body"), value.get("isBase64Encoded"))
    return status, merged, body


def v2_response(value: Any, payload: bytes) -> tuple[int, dict[str, list[str]], bytes]:
    """Payload 2.0's response format.  An object with ``statusCode`` is read as in 1.0,
    with ``headers`` (repeated values joined by commas) and ``cookies`` (a list of
    strings, each a ``Set-Cookie`` header); anything else (an object without
    ``statusCode``, a string, any JSON value) is a 200 with ``content-type:
    application/json`` whose body is the response: a string's text, else the JSON the
    function returned (``payload``)."""
    if isinstance(value, dict) and "statusCode" in value:
        status = _status(value["statusCode"])
        headers = {
            name: [_scalar_text(one)] for name, one in _string_map(value.get("headers")).items()
        }
        cookies = value.get("cookies")
        if cookies is not None:
            if not isinstance(cookies, list) or not all(isinstance(c, str) for c in cookies):
                raise _Malformed
            if cookies:
                headers.setdefault("Set-Cookie", []).extend(cookies)
        return status, headers, _body_bytes(value.get("body"), value.get("isBase64Encoded"))
    body = value.encode("utf-8", errors="surrogatepass") if isinstance(value, str) else payload
    return 200, {"content-type": ["application/json"]}, body


# -- routes ---------------------------------------------------------------------------------


@attrs.frozen
class Route:
    """A route: a method (or ``ANY``) and a path template, or an HTTP API's ``$default``.

    Written as its route key: ``"GET /orders/{id}"``, ``"ANY /{proxy+}"``, ``"$default"``.
    ``{name}`` matches one path segment, ``{name+}`` (last segment only) the rest of the
    path; both fill the event's ``pathParameters``.
    """

    key: str = attrs.field()
    method: str = attrs.field(init=False)
    path: str | None = attrs.field(init=False)
    _pattern: re.Pattern[str] | None = attrs.field(init=False, repr=False)
    rank: tuple[int, ...] = attrs.field(init=False, repr=False)
    """Sorts routes most specific first: a request takes the first that matches."""

    @key.validator
    def _check_key(self, _attribute: Any, value: Any) -> None:
        if value == "$default":
            return
        method, _, path = value.partition(" ") if isinstance(value, str) else ("", "", "")
        if not _METHOD.fullmatch(method) or not path.startswith("/"):
            raise InvalidParameterValueError(
                "route", value, "must be '<METHOD> /path' (METHOD upper case or ANY) or '$default'"
            )

    def __attrs_post_init__(self) -> None:
        set_ = object.__setattr__
        if self.key == "$default":
            set_(self, "method", "ANY")
            set_(self, "path", None)
            set_(self, "_pattern", None)
            set_(self, "rank", (2,))
            return
        method, _, path = self.key.partition(" ")
        pattern, greedy, literals = _route_pattern(path)
        set_(self, "method", method)
        set_(self, "path", path)
        set_(self, "_pattern", pattern)
        # The most specific route wins: no greedy variable before one, more literal
        # segments before fewer, a method before ANY.
        set_(self, "rank", (int(greedy), -literals, -path.count("/"), int(method == "ANY")))

    def matches(self, method: str, path: str) -> bool:
        """Whether a request with ``method`` and ``path`` takes this route."""
        if self._pattern is None:
            return True
        return self.method in ("ANY", method) and self._pattern.fullmatch(path) is not None


def _routes(value: Any) -> dict[Route, Target | None]:
    if isinstance(value, (str, Route)):
        value = [value]
    if isinstance(value, Mapping):
        items = list(value.items())
    elif isinstance(value, Iterable):
        items = [(key, None) for key in value]
    else:
        raise InvalidParameterValueError(
            "routes", value, "must be route keys, or a mapping of route key to Function"
        )
    routes: dict[Route, Target | None] = {}
    for key, function in items:
        route = key if isinstance(key, Route) else Route(key)
        if function is not None and not isinstance(function, (Function, RequestResponseInvoker)):
            raise InvalidParameterValueError(f"routes[{key!r}]", function, f"must be {_TARGET}")
        routes[route] = function
    return routes


# -- the services ---------------------------------------------------------------------------


@attrs.frozen
class _Request:
    method: str
    path: str
    raw_query: str
    query_pairs: list[tuple[str, str]]
    header_pairs: list[tuple[str, str]]
    cookies: list[str]
    body: str | None
    encoded: bool
    source_ip: str


def _header_pairs(value: Any) -> list[tuple[str, str]]:
    if value is None:
        return []
    if not isinstance(value, Mapping):
        raise InvalidParameterValueError("headers", value, "must be a mapping of name to value(s)")
    pairs: list[tuple[str, str]] = []
    for name, one in value.items():
        values = one if isinstance(one, (list, tuple)) else [one]
        for item in values:
            if not isinstance(name, str) or not isinstance(item, str):
                raise InvalidParameterValueError(
                    f"headers[{name!r}]", one, "must be a string or a list of strings"
                )
            pairs.append((name, item))
    return pairs


def _cookie_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, Mapping):
        value = [f"{name}={one}" for name, one in value.items()]
    if isinstance(value, str) or not all(isinstance(c, str) and c for c in value):
        raise InvalidParameterValueError(
            "cookies", value, "must be a mapping of name to value or a list of 'name=value'"
        )
    return list(value)


@attrs.define(repr=False, eq=False, on_setattr=attrs.setters.NO_OP)
class _HttpService:
    """What the three services share: the request flow, the invokers, the error rows.
    Each service fills three hooks: `_domain`, `_event`, `_response`."""

    scheduler: Scheduler = attrs.field(
        factory=Scheduler,
        kw_only=True,
        validator=instance_of("scheduler", Scheduler, "a Scheduler"),
    )
    history: History = attrs.field(
        default=None,
        kw_only=True,
        converter=new_history,
        validator=instance_of("history", History, "a History"),
    )
    seed: int | None = attrs.field(default=None, kw_only=True)
    rng: random.Random = attrs.field(
        default=attrs.Factory(lambda self: seeded(self.seed), takes_self=True),
        kw_only=True,
        validator=is_random,
    )
    region: str = attrs.field(
        default="us-east-1",
        kw_only=True,
        validator=text("region", REGION, "must look like 'us-east-1'"),
    )
    _invokers: dict[int, RequestResponseInvoker] = attrs.field(factory=dict, init=False)
    _requests: int = attrs.field(default=0, init=False)

    @property
    def requests(self) -> int:
        """Requests received so far."""
        return self._requests

    def invoker_for(self, function: Target) -> RequestResponseInvoker:
        """The synchronous invoker this service calls ``function`` through: one per
        `Function`, on the service's scheduler, history and random source; a
        `RequestResponseInvoker` given as a route's target is its own."""
        if isinstance(function, RequestResponseInvoker):
            if function.scheduler is not self.scheduler:
                raise InvalidParameterValueError(
                    "function",
                    function,
                    "must run on the service's scheduler (one clock for the service and the "
                    "function: pass scheduler= to both)",
                )
            return function
        invoker = self._invokers.get(id(function))
        if invoker is None:
            invoker = RequestResponseInvoker(
                function, self.scheduler, rng=self.rng, history=self.history
            )
            self._invokers[id(function)] = invoker
        return invoker

    def request(
        self,
        method: str,
        url: str,
        *,
        json: Any = _MISSING,
        body: str | None = None,
        data: bytes | None = None,
        headers: Mapping[str, str | Sequence[str]] | None = None,
        cookies: Mapping[str, str] | Sequence[str] | None = None,
        source_ip: str = "192.0.2.1",
    ) -> HttpResponse:
        """Send one HTTP request and return the service's response.

        Args:
            method: the HTTP method, upper case.
            url: the path (after the stage, for an API with a named stage) and an
                optional query string: ``"/orders/1?x=1&x=2"``.
            json: a JSON body (sent as text with ``Content-Type: application/json``).
            body: a text body.
            data: a binary body: the event carries it base64-encoded with
                ``isBase64Encoded`` true.  (AWS decides by content type: a REST API by
                its binary media types, an HTTP API and a function URL by whether the
                type is text; here the caller says which by passing ``body`` or
                ``data``.)
            headers: request headers, a name to a value or a list of values.
            cookies: cookies, a mapping of name to value or a list of ``name=value``,
                sent as one ``Cookie`` header.
            source_ip: the client's address (``sourceIp``, ``X-Forwarded-For``).

        The service adds ``Host``, ``X-Forwarded-For``, ``X-Forwarded-Port`` and
        ``X-Forwarded-Proto``, and ``Content-Type`` / ``Content-Length`` for a body,
        unless given.  Whatever the function does, the result is a response (the
        function's or the service's error response, see `ErrorResponses`); bad
        arguments raise `InvalidParameterValueError`.
        """
        request = self._parse(method, url, json, body, data, headers, cookies, source_ip)
        self._requests += 1
        return self._handle(request)

    def no_route(self) -> HttpResponse:
        """The response to a request no route takes (the ``no_route`` row), as for a URL
        outside the API's stage; counted as a request."""
        self._requests += 1
        return self._gateway(self._errors().no_route, "no_route", self._request_id(), None, None)

    def _parse(
        self,
        method: Any,
        url: Any,
        json: Any,
        body: Any,
        data: Any,
        headers: Any,
        cookies: Any,
        source_ip: Any,
    ) -> _Request:
        if not isinstance(method, str) or not _METHOD.fullmatch(method):
            raise InvalidParameterValueError("method", method, "must be an upper-case HTTP method")
        if not isinstance(url, str) or not url.startswith("/"):
            raise InvalidParameterValueError("url", url, "must be a path starting with /")
        if not isinstance(source_ip, str):
            raise InvalidParameterValueError("source_ip", source_ip, "must be a string")
        given = [name for name, v in (("json", json is not _MISSING), ("body", body is not None),
                                      ("data", data is not None)) if v]  # fmt: skip
        if len(given) > 1:
            raise InvalidParameterValueError(
                "/".join(given), "<several bodies>", "give at most one of json, body and data"
            )
        content_type: str | None = None
        encoded = False
        text_body: str | None
        if json is not _MISSING:
            try:
                text_body = _json.dumps(json, allow_nan=False)
            except (TypeError, ValueError) as exc:
                raise InvalidParameterValueError("json", json, f"must be JSON: {exc}") from None
            content_type = "application/json"
        elif data is not None:
            if not isinstance(data, (bytes, bytearray, memoryview)):
                raise InvalidParameterValueError("data", data, "must be bytes")
            text_body = base64.b64encode(bytes(data)).decode("ascii")
            encoded = True
            content_type = "application/octet-stream"
        elif body is not None:
            if not isinstance(body, str):
                raise InvalidParameterValueError("body", body, "must be a string")
            text_body = body
            content_type = "text/plain; charset=utf-8"
        else:
            text_body = None
        path, _, raw_query = url.partition("?")
        query_pairs = urllib.parse.parse_qsl(raw_query, keep_blank_values=True)
        header_pairs = _header_pairs(headers)
        cookie_list = _cookie_list(cookies)
        given_names = {name.lower() for name, _ in header_pairs}
        extra: list[tuple[str, str]] = []
        if cookie_list:
            extra.append(("Cookie", "; ".join(cookie_list)))
        if text_body is not None:
            size = len(bytes(data)) if encoded else len(text_body.encode("utf-8", "surrogatepass"))
            if content_type is not None:
                extra.append(("Content-Type", content_type))
            extra.append(("Content-Length", str(size)))
        extra += [
            ("Host", self._domain()),
            ("X-Forwarded-For", source_ip),
            ("X-Forwarded-Port", "443"),
            ("X-Forwarded-Proto", "https"),
        ]
        header_pairs += [(k, v) for k, v in extra if k.lower() not in given_names]
        # A Cookie header given directly counts as the request's cookies too.
        cookie_values = [v for k, v in header_pairs if k.lower() == "cookie"]
        all_cookies = [c.strip() for v in cookie_values for c in v.split(";") if c.strip()]
        return _Request(
            method, path, raw_query, query_pairs, header_pairs, all_cookies, text_body, encoded,
            source_ip,
        )  # fmt: skip

    def _handle(self, request: _Request) -> HttpResponse:
        errors = self._errors()
        found = self._route(request)
        request_id = self._request_id()
        if found is None:
            return self._gateway(errors.no_route, "no_route", request_id, None, None)
        route, function = found
        event = self._event(request, route, request_id)
        invoker = self.invoker_for(function)
        timeout = self._timeout()
        try:
            pending = invoker.call(event, read_timeout=timeout)
        except TooManyRequestsError:
            return self._gateway(errors.throttled, "throttled", request_id, event, None)
        except InvocationError:
            return self._gateway(
                errors.invocation_error, "invocation_error", request_id, event, None
            )
        response = pending.response
        if timeout is not None and pending.ended_at - pending.started_at > timeout:
            return self._gateway(errors.timeout, "timeout", request_id, event, response)
        if response.function_error is not None:
            return self._gateway(
                errors.function_error, "function_error", request_id, event, response
            )
        try:
            status, headers, body = self._response(response.json(), response.payload)
        except _Malformed:
            return self._gateway(
                errors.malformed_response, "malformed_response", request_id, event, response
            )
        if not any(name.lower() == "x-amzn-requestid" for name in headers):
            headers["x-amzn-RequestId"] = [request_id]
        return HttpResponse(
            status_code=status,
            multi_value_headers=headers,
            body=body,
            request_id=request_id,
            event=event,
            invoke_response=response,
        )

    def _gateway(
        self,
        row: GatewayError,
        name: str,
        request_id: str,
        event: dict[str, Any] | None,
        response: InvokeResponse | None,
    ) -> HttpResponse:
        return HttpResponse(
            status_code=row.status_code,
            multi_value_headers={
                "Content-Type": [row.content_type],
                "x-amzn-RequestId": [request_id],
            },
            body=row.body.encode("utf-8"),
            request_id=request_id,
            event=event,
            invoke_response=response,
            error=name,
        )

    # -- hooks ----------------------------------------------------------------------------

    def _domain(self) -> str:
        raise NotImplementedError

    def _errors(self) -> ErrorResponses:
        raise NotImplementedError

    def _timeout(self) -> float | None:
        raise NotImplementedError

    def _request_id(self) -> str:
        return new_request_id(self.rng)

    def _route(self, request: _Request) -> tuple[Route, Target] | None:
        raise NotImplementedError

    def _event(self, request: _Request, route: Route, request_id: str) -> dict[str, Any]:
        raise NotImplementedError

    def _response(self, value: Any, payload: bytes) -> tuple[int, dict[str, list[str]], bytes]:
        raise NotImplementedError


def _check_timeout(parameter: str, value: Any, high: float) -> None:
    check_range(parameter, value, 0.05, high)


@attrs.define(repr=False, eq=False, on_setattr=attrs.setters.NO_OP)
class _Api(_HttpService):
    """An API Gateway API: routes, a stage, an integration timeout."""

    function: Target | None = attrs.field(
        default=None,
        validator=instance_of(
            "function", (Function, RequestResponseInvoker), _TARGET, optional=True
        ),
    )
    routes: Any = attrs.field(default=None, kw_only=True)
    stage: str = attrs.field(default="", kw_only=True)
    stage_variables: Mapping[str, str] | None = attrs.field(default=None, kw_only=True)
    api_id: str = attrs.field(
        default="1234567890",
        kw_only=True,
        validator=text("api_id", _API_ID, "must be 1-32 lower-case letters and digits"),
    )
    account_id: str = attrs.field(
        default="123456789012",
        kw_only=True,
        validator=text("account_id", ACCOUNT_ID, "must be 12 digits"),
    )
    integration_timeout: float = attrs.field(default=0.0, kw_only=True)
    errors: ErrorResponses | None = attrs.field(
        default=None,
        kw_only=True,
        validator=instance_of("errors", ErrorResponses, "an ErrorResponses", optional=True),
    )
    authorizer: dict[str, Any] | None = attrs.field(default=None, kw_only=True)

    def __attrs_post_init__(self) -> None:
        routes = _routes(self._default_routes() if self.routes is None else self.routes)
        for route, function in routes.items():
            if function is None:
                if self.function is None:
                    raise InvalidParameterValueError(
                        f"routes[{route.key!r}]", None, "needs a Function (or give function=)"
                    )
                routes[route] = self.function
        for target in routes.values():
            assert target is not None
            self.invoker_for(target)  # a given invoker must share the service's scheduler
        object.__setattr__(self, "routes", routes)
        if not isinstance(self.stage, str) or not _STAGE.fullmatch(self.stage):
            raise InvalidParameterValueError(
                "stage", self.stage, "must be 1-128 of a-z, A-Z, 0-9, - and _, or $default"
            )
        if self.stage_variables is not None and not (
            isinstance(self.stage_variables, Mapping)
            and all(
                isinstance(k, str) and isinstance(v, str) for k, v in self.stage_variables.items()
            )
        ):
            raise InvalidParameterValueError(
                "stage_variables", self.stage_variables, "must map names to strings"
            )

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.api_id} stage={self.stage} routes={len(self.routes)}>"

    def _default_routes(self) -> list[str]:
        raise NotImplementedError

    def add_route(self, route: str | Route, function: Target | None = None) -> Route:
        """Add a route (a route key such as ``"GET /orders/{id}"``) to ``function``
        (default: the API's ``function``); returns the `Route`."""
        added = _routes({route: function})
        ((key, target),) = added.items()
        target = target or self.function
        if target is None:
            raise InvalidParameterValueError("function", None, f"must be {_TARGET}")
        self.invoker_for(target)
        self.routes[key] = target
        return key

    def _domain(self) -> str:
        return f"{self.api_id}.execute-api.{self.region}.amazonaws.com"

    def _errors(self) -> ErrorResponses:
        return self.errors or self._default_errors()

    def _default_errors(self) -> ErrorResponses:
        raise NotImplementedError

    def _timeout(self) -> float | None:
        return self.integration_timeout

    def _route(self, request: _Request) -> tuple[Route, Target] | None:
        best: tuple[Route, Target] | None = None
        for route, function in self.routes.items():
            if route.matches(request.method, request.path) and (
                best is None or route.rank < best[0].rank
            ):
                assert function is not None
                best = (route, function)
        return best


@attrs.define(repr=False, eq=False, on_setattr=attrs.setters.NO_OP)
class RestApi(_Api):
    """An API Gateway REST API with Lambda proxy integrations (payload format 1.0).

    Args:
        function: the `Function` of every route that names none (the default routes
            ``ANY /`` and ``ANY /{proxy+}`` included), or a `RequestResponseInvoker` of
            your own on the service's scheduler (see `Target`).
        routes: route keys (``"GET /orders/{id}"``, ``"ANY /{proxy+}"``), or a mapping of
            route key to `Function` (or `RequestResponseInvoker`).  Default: ``ANY /``
            and ``ANY /{proxy+}``.  The most specific route wins (literal segments over
            ``{name}`` over ``{name+}``, a method over ``ANY``); none matching is 403
            ``Missing Authentication Token``.
            Once made, ``api.routes`` is a dict of `Route` to its target.
        stage: the stage name (default ``"prod"``): ``requestContext.stage`` and the
            path prefix in ``requestContext.path``.
        stage_variables: the stage's variables (``stageVariables``).
        integration_timeout: seconds API Gateway waits for the function, 0.05-900
            (default 29, `REST_API_INTEGRATION_TIMEOUT`; above 29 needs a quota increase
            on AWS).  When it passes, the client gets 504 and the function runs on.
        errors: the error responses (default `REST_API_ERRORS`).
        api_id, region, account_id: the API's id (``1234567890``), Region and account.
        authorizer: the ``requestContext.authorizer`` object (absent by default).
        scheduler, history, seed, rng: the scheduler to run on, the `History` that
            records each invoke (share it for one timeline), the random source of the
            request ids.

    The function's response must be an object with an integer ``statusCode`` and
    optional ``headers``, ``multiValueHeaders``, string ``body`` and ``isBase64Encoded``
    (see `v1_response`); anything else is 502.  A response without ``Content-Type``
    gets ``application/json``, as API Gateway's default.
    """

    stage: str = attrs.field(default="prod", kw_only=True)
    integration_timeout: float = attrs.field(default=REST_API_INTEGRATION_TIMEOUT, kw_only=True)

    def __attrs_post_init__(self) -> None:
        _check_timeout("integration_timeout", self.integration_timeout, 900)
        if self.stage == "$default":
            raise InvalidParameterValueError("stage", self.stage, "must be a named stage")
        super().__attrs_post_init__()

    def _default_routes(self) -> list[str]:
        return ["ANY /", "ANY /{proxy+}"]

    def _default_errors(self) -> ErrorResponses:
        return REST_API_ERRORS

    def _event(self, request: _Request, route: Route, request_id: str) -> dict[str, Any]:
        assert route.path is not None
        rng = self.rng
        return rest_api_event_of(
            method=request.method,
            path=request.path,
            resource=route.path,
            header_pairs=request.header_pairs,
            query_pairs=request.query_pairs,
            body=request.body,
            is_base64_encoded=request.encoded,
            stage=self.stage,
            stage_variables=self.stage_variables,
            account_id=self.account_id,
            api_id=self.api_id,
            domain_name=self._domain(),
            source_ip=request.source_ip,
            epoch=self.scheduler.clock.epoch(),
            authorizer=self.authorizer,
            request_id=request_id,
            extended_request_id=base64.b64encode(rng.randbytes(11)).decode(),
            resource_id="".join(
                rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in "123456"
            ),
        )

    def _response(self, value: Any, payload: bytes) -> tuple[int, dict[str, list[str]], bytes]:
        status, headers, body = v1_response(value)
        if not any(name.lower() == "content-type" for name in headers):
            headers["Content-Type"] = ["application/json"]
        return status, headers, body


@attrs.define(repr=False, eq=False, on_setattr=attrs.setters.NO_OP)
class HttpApi(_Api):
    """An API Gateway HTTP API with Lambda integrations (payload format 2.0, or 1.0).

    Args:
        function: the `Function` of every route that names none (the default route
            ``$default`` included).
        routes: route keys (``"GET /orders/{id}"``, ``"ANY /{proxy+}"``, ``"$default"``),
            or a mapping of route key to `Function` (or `RequestResponseInvoker`).
            Default: ``$default``, which takes
            every request no other route matches; none matching is 404.
        payload_format_version: ``"2.0"`` (default) or ``"1.0"`` (the REST API's event
            with ``"version": "1.0"`` and its response format).
        stage: the stage name (default ``"$default"``, served at the root).  A named
            stage prefixes ``rawPath`` and ``requestContext.http.path`` (``/dev/orders``);
            routes and ``url`` are without it.
        integration_timeout: seconds API Gateway waits, 0.05-30 (default 30,
            `HTTP_API_INTEGRATION_TIMEOUT`); when it passes, the client gets 503.
        errors: the error responses (default `HTTP_API_ERRORS`).
        the rest: as `RestApi`.

    With payload 2.0, a response object with ``statusCode`` is read as it says;
    anything else is a 200 JSON body (see `v2_response`).
    """

    stage: str = attrs.field(default="$default", kw_only=True)
    integration_timeout: float = attrs.field(default=HTTP_API_INTEGRATION_TIMEOUT, kw_only=True)
    payload_format_version: str = attrs.field(default="2.0", kw_only=True)

    def __attrs_post_init__(self) -> None:
        _check_timeout("integration_timeout", self.integration_timeout, 30)
        if self.payload_format_version not in ("1.0", "2.0"):
            raise InvalidParameterValueError(
                "payload_format_version", self.payload_format_version, "must be one of 1.0 | 2.0"
            )
        super().__attrs_post_init__()

    def _default_routes(self) -> list[str]:
        return ["$default"]

    def _default_errors(self) -> ErrorResponses:
        return HTTP_API_ERRORS

    def _request_id(self) -> str:
        # An HTTP API's request id is the short base64 form (SAM's HttpApi sample).
        return base64.b64encode(self.rng.randbytes(11)).decode()

    def _event(self, request: _Request, route: Route, request_id: str) -> dict[str, Any]:
        epoch = self.scheduler.clock.epoch()
        if self.payload_format_version == "1.0":
            return rest_api_event_of(
                method=request.method,
                path=request.path,
                resource=request.path if route.path is None else route.path,
                header_pairs=request.header_pairs,
                query_pairs=request.query_pairs,
                body=request.body,
                is_base64_encoded=request.encoded,
                stage=self.stage,
                stage_variables=self.stage_variables,
                account_id=self.account_id,
                api_id=self.api_id,
                domain_name=self._domain(),
                source_ip=request.source_ip,
                epoch=epoch,
                authorizer=self.authorizer,
                request_id=request_id,
                extended_request_id=request_id,
                resource_id=None,
                version="1.0",
            )
        return http_api_event_of(
            method=request.method,
            path=request.path,
            route=route.path,
            header_pairs=[(k, v) for k, v in request.header_pairs if k.lower() != "cookie"],
            raw_query_string=request.raw_query,
            query_pairs=request.query_pairs,
            cookies=request.cookies,
            body=request.body,
            is_base64_encoded=request.encoded,
            stage=self.stage,
            stage_variables=self.stage_variables,
            account_id=self.account_id,
            api_id=self.api_id,
            domain_name=self._domain(),
            source_ip=request.source_ip,
            epoch=epoch,
            authorizer=self.authorizer,
            request_id=request_id,
            # A named stage is part of an HTTP API's raw path (the routes match without it).
            raw_path=None if self.stage == "$default" else f"/{self.stage}{request.path}",
        )

    def _response(self, value: Any, payload: bytes) -> tuple[int, dict[str, list[str]], bytes]:
        if self.payload_format_version == "1.0":
            return v1_response(value)
        return v2_response(value, payload)


@attrs.define(repr=False, eq=False, on_setattr=attrs.setters.NO_OP)
class FunctionUrl(_HttpService):
    """A Lambda function URL (auth type ``NONE``): every method and path goes to the
    function, with a payload 2.0 event (route and stage ``$default``) and the 2.0
    response format (see `v2_response`).

    Args:
        function: the `Function` behind the URL, or a `RequestResponseInvoker` of your
            own on the service's scheduler (see `Target`).
        url_id: the URL id, the first label of ``<url-id>.lambda-url.<region>.on.aws``.
        account_id: ``requestContext.accountId`` (``"anonymous"`` for auth type
            ``NONE``, as recorded).
        errors: the error responses (default `FUNCTION_URL_ERRORS`).
        scheduler, history, seed, rng, region: as `RestApi`.

    There is no integration timeout: the client waits up to the function's own timeout,
    whose ``Sandbox.Timedout`` is a function error.
    """

    function: Target = attrs.field(
        validator=instance_of("function", (Function, RequestResponseInvoker), _TARGET)
    )
    url_id: str = attrs.field(
        default="a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p6",
        kw_only=True,
        validator=text("url_id", _API_ID, "must be 1-32 lower-case letters and digits"),
    )
    account_id: str = attrs.field(default="anonymous", kw_only=True, validator=text("account_id"))
    errors: ErrorResponses = attrs.field(
        default=FUNCTION_URL_ERRORS,
        kw_only=True,
        validator=instance_of("errors", ErrorResponses, "an ErrorResponses"),
    )
    authorizer: dict[str, Any] | None = attrs.field(default=None, kw_only=True)

    def __attrs_post_init__(self) -> None:
        self.invoker_for(self.function)  # a given invoker must share the service's scheduler

    def __repr__(self) -> str:
        target = self.function
        name = target.function.name if isinstance(target, RequestResponseInvoker) else target.name
        return f"<FunctionUrl {self._domain()} {name}>"

    @property
    def url(self) -> str:
        """``https://<url-id>.lambda-url.<region>.on.aws/``."""
        return f"https://{self._domain()}/"

    def _domain(self) -> str:
        return f"{self.url_id}.lambda-url.{self.region}.on.aws"

    def _errors(self) -> ErrorResponses:
        return self.errors

    def _timeout(self) -> float | None:
        return None

    def _route(self, request: _Request) -> tuple[Route, Target] | None:
        return Route("$default"), self.function

    def _event(self, request: _Request, route: Route, request_id: str) -> dict[str, Any]:
        return function_url_event_of(
            method=request.method,
            path=request.path,
            header_pairs=[(k, v) for k, v in request.header_pairs if k.lower() != "cookie"],
            raw_query_string=request.raw_query,
            query_pairs=request.query_pairs,
            cookies=request.cookies,
            body=request.body,
            is_base64_encoded=request.encoded,
            url_id=self.url_id,
            region=self.region,
            account_id=self.account_id,
            source_ip=request.source_ip,
            epoch=self.scheduler.clock.epoch(),
            authorizer=self.authorizer,
            request_id=request_id,
        )

    def _response(self, value: Any, payload: bytes) -> tuple[int, dict[str, list[str]], bytes]:
        return v2_response(value, payload)
