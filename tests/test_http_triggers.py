"""The HTTP front doors (`RestApi`, `HttpApi`, `FunctionUrl`): a request becomes the event
the service sends, key for key as AWS's samples; the handler's return value becomes the
response as each payload version maps it, row by row; every failure becomes the
service's error response; each invoke goes through the synchronous model."""

from __future__ import annotations

import base64
import json
import math
import urllib.parse
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import invokemodels
from invokemodels import Function, History, RequestResponseInvoker, Scheduler
from invokemodels.aws import (
    FUNCTION_URL_ERRORS,
    HTTP_API_ERRORS,
    REST_API_ERRORS,
    ErrorResponses,
    FunctionUrl,
    GatewayError,
    HttpApi,
    HttpResponse,
    RestApi,
    Route,
)
from invokemodels.core import Outcome
from invokemodels.exceptions import InvalidParameterValueError, ServiceError
from invokemodels.observe import Timeline
from invokemodels.testing import function_url_event, http_api_event, rest_api_event
from tests.test_testing_events import keys, skeleton
from tests.test_trigger_records import FUNCTION_URL, HTTP_2_0, REST_1_0

QUERY = "parameter1=value1&parameter1=value2&parameter2=value"


def shape(event: Any, view: Any = keys) -> Any:
    """`keys` (or `skeleton`) of an event, its header maps reduced to their value type:
    which headers a request carries is the request's, not the shape's."""
    event = json.loads(json.dumps(event))
    for key, kind in (("headers", "x"), ("multiValueHeaders", ["x"])):
        if event.get(key):
            event[key] = {"name": kind}
    return view(event)


def echo(event: Any, context: Any) -> Any:
    return {"statusCode": 200, "body": json.dumps(event)}


def returning(value: Any) -> Function:
    return Function("fn", lambda event, context: value)


# -- request -> event, key for key ---------------------------------------------------------


def test_a_rest_api_event_is_the_payload_1_0_sample_key_for_key_without_its_version() -> None:
    api = RestApi(Function("fn", echo), routes=["GET /my/{name}"], stage="prod")
    response = api.request(
        "GET",
        f"/my/path?{QUERY}",
        headers={"Header1": "value1", "Header2": ["value1", "value2"], "User-Agent": "agent"},
        body="Hello from Lambda!",
    )
    event = response.json()
    assert event == response.event
    expected = json.loads(json.dumps(REST_1_0))
    del expected["version"], expected["requestContext"]["authorizer"]
    # A REST API's resourceId is a string; its pathParameters are filled by the route.
    expected["requestContext"]["resourceId"] = "string"
    expected["pathParameters"] = {"name": "path"}
    assert shape(event) == shape(expected)
    assert event["resource"] == event["requestContext"]["resourcePath"] == "/my/{name}"
    assert event["multiValueHeaders"]["Header2"] == ["value1", "value2"]
    assert event["headers"]["Header2"] == "value2"
    # The last value of a repeated name, as for headers (the guide's sample shows the
    # first for its query and the last for its headers).
    assert event["queryStringParameters"] == {"parameter1": "value2", "parameter2": "value"}
    assert event["multiValueQueryStringParameters"] == REST_1_0["multiValueQueryStringParameters"]
    assert event["requestContext"]["path"] == "/prod/my/path"
    assert event["requestContext"]["stage"] == "prod"
    assert (event["body"], event["isBase64Encoded"]) == ("Hello from Lambda!", False)


def test_an_http_api_payload_1_0_event_is_the_sample_key_for_key_and_value_for_value() -> None:
    api = HttpApi(
        Function("fn", echo),
        routes=["GET /my/path"],
        payload_format_version="1.0",
        api_id="id",
        authorizer={"claims": None, "scopes": None},
        seed=3,
    )
    event = api.request(
        "GET",
        f"/my/path?{QUERY}",
        headers={"Header1": "value1", "Header2": ["value1", "value2"], "User-Agent": "agent"},
        body="Hello from Lambda!",
        source_ip="IP",
    ).json()
    # The same keys; the guide's sample orders them differently from SAM's (JSON objects
    # are unordered).
    assert shape(event) == shape(REST_1_0)
    context = event["requestContext"]
    assert (context["resourceId"], context["stage"], context["path"]) == (
        None,
        "$default",
        "/my/path",
    )
    for key in ("version", "resource", "path", "httpMethod", "multiValueQueryStringParameters",
                "pathParameters", "stageVariables", "body", "isBase64Encoded"):  # fmt: skip
        assert event[key] == REST_1_0[key], key
    assert event["multiValueHeaders"]["Header2"] == ["value1", "value2"]
    assert context["identity"] == REST_1_0["requestContext"]["identity"] | {"userAgent": "agent"}


def test_an_http_api_event_is_the_payload_2_0_sample_key_for_key() -> None:
    api = HttpApi(
        Function("fn", echo),
        routes=["$default"],
        authorizer=HTTP_2_0["requestContext"]["authorizer"],
        stage_variables=HTTP_2_0["stageVariables"],
        api_id="id",
    )
    event = api.request(
        "POST",
        f"/my/path?{QUERY}",
        headers={"Header1": "value1", "Header2": ["value1", "value2"]},
        cookies=["cookie1", "cookie2"],
        body="Hello from Lambda",
        source_ip="IP",
    ).json()
    expected = json.loads(json.dumps(HTTP_2_0))
    del expected["requestContext"]["authentication"]  # no mutual TLS
    del expected["pathParameters"]  # $default has no path parameters
    assert shape(event) == shape(expected)
    assert list(event) == list(expected)
    assert list(event["requestContext"]) == list(expected["requestContext"])
    for key in ("version", "routeKey", "rawPath", "rawQueryString", "cookies",
                "queryStringParameters", "body", "isBase64Encoded", "stageVariables"):  # fmt: skip
        assert event[key] == expected[key], key
    assert event["headers"]["header2"] == "value1,value2"
    assert "cookie" not in event["headers"]
    assert event["requestContext"]["http"]["method"] == "POST"


def test_an_http_api_route_fills_path_parameters_and_the_route_key() -> None:
    api = HttpApi(Function("fn", echo), routes=["POST /orders/{id}", "ANY /files/{path+}"])
    event = api.request("POST", "/orders/7").json()
    assert event["routeKey"] == event["requestContext"]["routeKey"] == "POST /orders/{id}"
    assert event["pathParameters"] == {"id": "7"}
    event = api.request("DELETE", "/files/a/b/c.txt").json()
    assert event["routeKey"] == "DELETE /files/{path+}"
    assert event["pathParameters"] == {"path": "a/b/c.txt"}


def test_a_named_stage_prefixes_an_http_apis_raw_path() -> None:
    api = HttpApi(Function("fn", echo), routes=["GET /orders/{id}"], stage="dev")
    event = api.request("GET", "/orders/1").json()
    assert (event["rawPath"], event["requestContext"]["http"]["path"]) == (
        "/dev/orders/1",
        "/dev/orders/1",
    )
    assert (event["pathParameters"], event["requestContext"]["stage"]) == ({"id": "1"}, "dev")


def test_a_function_url_event_is_the_recorded_event_key_for_key() -> None:
    url = FunctionUrl(returning(None), url_id="abc")
    response = url.request("GET", "/", headers={"User-Agent": "Mozilla/5.0"})
    event = response.event
    assert event is not None
    assert shape(event) == shape(FUNCTION_URL)
    assert list(event) == list(FUNCTION_URL)
    assert event["headers"]["host"] == "abc.lambda-url.us-east-1.on.aws"
    assert event["headers"]["x-forwarded-proto"] == "https"
    assert event["requestContext"]["accountId"] == "anonymous"
    assert url.url == "https://abc.lambda-url.us-east-1.on.aws/"


def test_the_services_and_the_builders_make_one_shape() -> None:
    agent = {"User-Agent": "curl/8.4.0"}
    rest = RestApi(Function("fn", echo)).request("POST", "/path", body="x", headers=agent).json()
    http = HttpApi(Function("fn", echo)).request("POST", "/path/to/resource", body="x").json()
    url = FunctionUrl(returning(None)).request("GET", "/").event
    assert shape(rest, skeleton) == shape(
        rest_api_event(path="/path", resource="/{proxy+}"), skeleton
    )
    assert shape(http) == shape(http_api_event())
    assert shape(url) == shape(function_url_event())


def test_a_binary_body_is_base64_and_text_bodies_are_not() -> None:
    api = RestApi(Function("fn", echo))
    event = api.request("PUT", "/blob", data=b"\x00\xff").json()
    assert (event["body"], event["isBase64Encoded"]) == ("AP8=", True)
    assert event["headers"]["Content-Type"] == "application/octet-stream"
    assert event["headers"]["Content-Length"] == "2"
    event = api.request("PUT", "/doc", json={"a": [1, 2]}).json()
    assert (event["body"], event["isBase64Encoded"]) == ('{"a": [1, 2]}', False)
    assert event["headers"]["Content-Type"] == "application/json"
    event = api.request("GET", "/").json()
    assert event["body"] is None
    assert "Content-Length" not in event["headers"]
    v2 = HttpApi(Function("fn", echo)).request("PUT", "/blob", data=b"\x01").json()
    assert (v2["body"], v2["isBase64Encoded"]) == ("AQ==", True)


def test_given_headers_win_over_the_ones_the_service_adds() -> None:
    event = (
        RestApi(Function("fn", echo))
        .request(
            "POST", "/", json={}, headers={"content-type": "application/vnd.x+json", "host": "h"}
        )
        .json()
    )
    assert event["headers"]["content-type"] == "application/vnd.x+json"
    assert event["headers"]["host"] == "h"
    assert "Content-Type" not in event["headers"]
    assert "Host" not in event["headers"]


def test_request_times_come_from_the_virtual_clock() -> None:
    scheduler = Scheduler()
    api = RestApi(Function("fn", echo), scheduler=scheduler)
    scheduler.run(until=90.5)
    context = api.request("GET", "/").json()["requestContext"]
    assert context["requestTimeEpoch"] == int((scheduler.clock.epoch()) * 1000)
    assert context["requestTime"] == "14/Nov/2023:22:14:50 +0000"


def test_the_same_seed_gives_the_same_events() -> None:
    def run() -> list[Any]:
        api = HttpApi(Function("fn", echo), seed=7)
        return [api.request("GET", f"/{n}").json() for n in range(3)]

    first = run()
    assert first == run()
    assert len({event["requestContext"]["requestId"] for event in first}) == 3


SEGMENT = st.text("abcxyz019-_.~", min_size=1, max_size=6)
HEADER_NAME = st.text("abcdefXYZ-", min_size=1, max_size=8).filter(
    lambda name: name.lower() not in ("cookie", "host", "content-type", "content-length")
)
HEADER_VALUE = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=8)


@settings(max_examples=60, deadline=None)
@given(
    kind=st.sampled_from(["rest", "http1", "http2", "url"]),
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH"]),
    segments=st.lists(SEGMENT, min_size=1, max_size=3),
    query=st.lists(st.tuples(SEGMENT, HEADER_VALUE), max_size=3),
    headers=st.dictionaries(HEADER_NAME, HEADER_VALUE | st.lists(HEADER_VALUE, min_size=1,
                                                                   max_size=2), max_size=3),
    cookies=st.lists(st.tuples(SEGMENT, SEGMENT).map("=".join), max_size=2),
    body=st.none() | st.text(max_size=8) | st.binary(max_size=8),
)  # fmt: skip
def test_any_request_gives_an_event_that_parses_with_powertools_model(
    kind: str,
    method: str,
    segments: list[str],
    query: list[tuple[str, str]],
    headers: dict[str, Any],
    cookies: list[str],
    body: str | bytes | None,
) -> None:
    from aws_lambda_powertools.utilities.parser import parse
    from aws_lambda_powertools.utilities.parser.models import (
        APIGatewayProxyEventModel,
        APIGatewayProxyEventV2Model,
        LambdaFunctionUrlModel,
    )

    fn = Function("fn", echo)
    service: RestApi | HttpApi | FunctionUrl
    model: type[Any]
    if kind == "rest":
        service, model = RestApi(fn), APIGatewayProxyEventModel
    elif kind == "url":
        service, model = FunctionUrl(fn), LambdaFunctionUrlModel
    else:
        version = "1.0" if kind == "http1" else "2.0"
        service = HttpApi(fn, payload_format_version=version)
        model = APIGatewayProxyEventModel if kind == "http1" else APIGatewayProxyEventV2Model
    path = "/" + "/".join(segments)
    url = path + ("?" + urllib.parse.urlencode(query) if query else "")
    text, data = (body, None) if isinstance(body, str) or body is None else (None, body)
    response = service.request(method, url, headers=headers, cookies=cookies, body=text, data=data)
    assert response.status_code == 200
    event = response.json()
    assert event == response.event
    parse(event=event, model=model)
    if kind in ("rest", "http1"):
        assert event["path"] == path
        assert event["multiValueQueryStringParameters"] == (
            {name: [v for n, v in query if n == name] for name, _ in query} or None
        )
    else:
        assert (event["rawPath"], event["rawQueryString"]) == (path, url.partition("?")[2])
        assert event.get("cookies", []) == cookies
        assert "cookie" not in event["headers"]
    if isinstance(body, bytes):
        assert base64.b64decode(event["body"]) == body
        assert event["isBase64Encoded"] is True
    else:
        assert event.get("body") == body
        assert event["isBase64Encoded"] is False


# -- routes --------------------------------------------------------------------------------


def test_the_most_specific_route_wins() -> None:
    names = {
        "GET /orders/new": "literal",
        "GET /orders/{id}": "variable",
        "ANY /orders/{id}": "any",
        "ANY /{proxy+}": "greedy",
        "ANY /": "root",
    }
    api = RestApi(routes={key: Function(n, echo) for key, n in names.items()})

    def resource(method: str, path: str) -> str:
        event = api.request(method, path).event
        assert event is not None
        return str(event["resource"])

    assert resource("GET", "/orders/new") == "/orders/new"
    assert resource("GET", "/orders/7") == "/orders/{id}"
    assert resource("POST", "/orders/7") == "/orders/{id}"
    assert api.request("POST", "/orders/7").event["httpMethod"] == "POST"  # type: ignore[index]
    assert resource("GET", "/orders/7/items") == "/{proxy+}"
    assert resource("GET", "/") == "/"


def test_no_matching_route_is_the_services_not_found() -> None:
    rest = RestApi(Function("fn", echo), routes=["GET /orders"])
    response = rest.request("POST", "/orders")
    assert (response.status_code, response.json(), response.error) == (
        403,
        {"message": "Missing Authentication Token"},
        "no_route",
    )
    assert response.event is None
    http = HttpApi(Function("fn", echo), routes=["GET /orders"])
    assert http.request("GET", "/other").status_code == 404
    assert http.request("GET", "/orders").status_code == 200
    assert rest.history.spans() == []


def test_a_route_is_checked() -> None:
    for key in ("get /x", "GET x", "GET /{a+}/b", "GET /a{b}", "/x", 7):
        with pytest.raises(InvalidParameterValueError, match=r"^route="):
            Route(key)  # type: ignore[arg-type]
    assert (Route("ANY /{proxy+}").method, Route("$default").path) == ("ANY", None)
    with pytest.raises(InvalidParameterValueError, match=r"^routes\['GET /'\]="):
        RestApi(routes=["GET /"])


def test_add_route_adds_one() -> None:
    api = RestApi(Function("fn", echo), routes=["GET /a"])
    other = Function("other", returning({"statusCode": 204}).handler)
    api.add_route("GET /b", other)
    assert api.request("GET", "/b").status_code == 204
    assert api.request("GET", "/a").status_code == 200


# -- return value -> response: payload 1.0 (a REST API) ------------------------------------


def rest(value: Any) -> HttpResponse:
    return RestApi(returning(value)).request("GET", "/")


def test_rest_row_status_headers_and_body_as_given() -> None:
    response = rest({"statusCode": 201, "headers": {"X-A": "1"}, "body": "made"})
    assert (response.status_code, response.text, response.error) == (201, "made", None)
    assert response.headers["X-A"] == "1"
    assert response.header("content-type") == "application/json"  # API Gateway's default


def test_rest_row_a_given_content_type_is_kept() -> None:
    response = rest({"statusCode": 200, "headers": {"content-type": "text/html"}, "body": "<p>"})
    assert response.multi_value_headers["content-type"] == ("text/html",)
    assert "Content-Type" not in response.multi_value_headers


def test_rest_row_headers_and_multi_value_headers_merge() -> None:
    response = rest(
        {
            "statusCode": 200,
            "headers": {"X-A": "1", "X-B": "b"},
            "multiValueHeaders": {"X-A": ["1", "2"], "Set-Cookie": ["a=1", "b=2"]},
        }
    )
    assert response.multi_value_headers["X-A"] == ("1", "2")
    assert response.multi_value_headers["X-B"] == ("b",)
    assert response.cookies == ["a=1", "b=2"]
    assert response.headers["X-A"] == "1, 2"
    assert "Set-Cookie" not in response.headers


def test_rest_row_a_base64_body_is_decoded() -> None:
    body = base64.b64encode(b"\x89PNG").decode()
    response = rest({"statusCode": 200, "body": body, "isBase64Encoded": True})
    assert response.body == b"\x89PNG"


def test_rest_row_no_body_is_an_empty_body() -> None:
    assert rest({"statusCode": 204}).body == b""
    assert rest({"statusCode": 200, "body": None, "isBase64Encoded": None}).body == b""


def test_rest_row_header_values_that_are_json_scalars_are_text() -> None:
    headers = rest({"statusCode": 200, "headers": {"X-N": 5, "X-T": True}}).headers
    assert (headers["X-N"], headers["X-T"]) == ("5", "true")


@pytest.mark.parametrize(
    "value",
    [
        {"body": "no status"},
        {"statusCode": "200", "body": "x"},
        {"statusCode": 99},
        {"statusCode": 600},
        {"statusCode": True},
        {"statusCode": 200, "body": {"a": 1}},
        {"statusCode": 200, "headers": ["X-A"]},
        {"statusCode": 200, "headers": {"X-A": None}},
        {"statusCode": 200, "multiValueHeaders": {"X-A": "1"}},
        {"statusCode": 200, "body": "!!", "isBase64Encoded": True},
        {"statusCode": 200, "body": "x", "isBase64Encoded": "yes"},
        "a string",
        ["a", "list"],
        None,
        42,
    ],
)
def test_rest_row_a_malformed_response_is_502(value: Any) -> None:
    response = rest(value)
    assert (response.status_code, response.json(), response.error) == (
        502,
        {"message": "Internal server error"},
        "malformed_response",
    )
    assert response.invoke_response is not None
    assert response.invoke_response.function_error is None


def test_rest_row_a_function_error_is_502() -> None:
    response = RestApi(Function("fn", lambda e, c: 1 / 0)).request("GET", "/")
    assert (response.status_code, response.json(), response.error) == (
        502,
        {"message": "Internal server error"},
        "function_error",
    )
    assert response.invoke_response is not None
    assert response.invoke_response.json()["errorType"] == "ZeroDivisionError"


def test_rest_row_the_functions_own_timeout_is_a_function_error() -> None:
    fn = Function("fn", echo, timeout=3, duration=10)
    response = RestApi(fn).request("GET", "/")
    assert (response.status_code, response.error) == (502, "function_error")
    assert response.invoke_response is not None
    assert response.invoke_response.json()["errorType"] == "Sandbox.Timedout"


def test_rest_row_the_integration_timeout_is_504_and_the_function_runs_on() -> None:
    fn = Function("fn", echo, timeout=60, duration=40, reserved_concurrency=1)
    api = RestApi(fn)
    response = api.request("GET", "/")
    assert (response.status_code, response.json(), response.error) == (
        504,
        {"message": "Endpoint request timed out"},
        "timeout",
    )
    assert api.scheduler.now == 29.0
    # The function still holds its one slot: the next request is throttled, a 500.
    assert (api.request("GET", "/").status_code, api.scheduler.now) == (500, 29.0)
    api.scheduler.run(until=40.0)
    assert api.request("GET", "/").status_code == 504


def test_rest_row_an_integration_timeout_is_configurable() -> None:
    fn = Function("fn", echo, timeout=60, duration=5)
    assert RestApi(fn, integration_timeout=4).request("GET", "/").status_code == 504
    assert RestApi(fn, integration_timeout=6).request("GET", "/").status_code == 200
    for bad in (0.01, 901, math.nan, "29"):
        with pytest.raises(InvalidParameterValueError, match=r"^integration_timeout="):
            RestApi(fn, integration_timeout=bad)  # type: ignore[arg-type]


def test_rest_row_a_throttle_is_500() -> None:
    response = RestApi(Function("fn", echo, reserved_concurrency=0)).request("GET", "/")
    assert (response.status_code, response.json(), response.error) == (
        500,
        {"message": "Internal server error"},
        "throttled",
    )
    assert response.invoke_response is None


def test_rest_row_another_lambda_refusal_is_500() -> None:
    fn = Function("fn", echo)
    api = RestApi(fn)
    api.invoker_for(fn).inject(ServiceError("Internal error"))
    response = api.request("GET", "/")
    assert (response.status_code, response.error) == (500, "invocation_error")
    assert api.request("GET", "/").status_code == 200


# -- payload 2.0 (an HTTP API, a function URL) ---------------------------------------------


def http(value: Any, **options: Any) -> HttpResponse:
    return HttpApi(returning(value), **options).request("GET", "/")


def test_http_row_an_object_without_status_code_is_a_200_json_body() -> None:
    response = http({"message": "Hello from Lambda!"})
    assert (response.status_code, response.json()) == (200, {"message": "Hello from Lambda!"})
    assert response.header("content-type") == "application/json"


def test_http_row_a_string_is_a_200_body() -> None:
    response = http("Hello from Lambda!")
    assert (response.status_code, response.text) == (200, "Hello from Lambda!")
    assert response.header("content-type") == "application/json"


@pytest.mark.parametrize(("value", "body"), [(None, b"null"), (7, b"7"), ([1, "a"], b'[1, "a"]')])
def test_http_row_any_other_json_value_is_a_200_json_body(value: Any, body: bytes) -> None:
    assert (http(value).status_code, http(value).body) == (200, body)


def test_http_row_a_status_code_is_read_as_given_with_cookies() -> None:
    response = http(
        {
            "statusCode": 302,
            "headers": {"Location": "/next", "X-A": "1,2"},
            "cookies": ["a=1; Secure", "b=2"],
            "body": "",
        }
    )
    assert (response.status_code, response.headers["Location"]) == (302, "/next")
    assert response.headers["X-A"] == "1,2"
    assert response.cookies == ["a=1; Secure", "b=2"]
    assert response.header("content-type") is None
    assert response.body == b""


def test_http_row_a_base64_body_is_decoded() -> None:
    response = http({"statusCode": 200, "body": "AAE=", "isBase64Encoded": True})
    assert response.body == b"\x00\x01"


@pytest.mark.parametrize(
    "value",
    [
        {"statusCode": "200"},
        {"statusCode": 200, "body": {"a": 1}},
        {"statusCode": 200, "cookies": "a=1"},
        {"statusCode": 200, "cookies": [1]},
        {"statusCode": 200, "headers": {"X": [1]}},
        {"statusCode": 200, "body": "%%", "isBase64Encoded": True},
    ],
)
def test_http_row_a_malformed_response_is_500(value: Any) -> None:
    response = http(value)
    assert (response.status_code, response.json(), response.error) == (
        500,
        {"message": "Internal Server Error"},
        "malformed_response",
    )


def test_http_row_payload_1_0_needs_a_status_code() -> None:
    assert http({"message": "hi"}, payload_format_version="1.0").status_code == 500
    response = http({"statusCode": 200, "body": "ok"}, payload_format_version="1.0")
    assert (response.status_code, response.text) == (200, "ok")


def test_http_row_function_error_timeout_throttle_and_refusal() -> None:
    assert HttpApi(Function("f", lambda e, c: 1 / 0)).request("GET", "/").status_code == 500
    slow = HttpApi(Function("f", echo, timeout=60, duration=31))
    response = slow.request("GET", "/")
    assert (response.status_code, response.json(), slow.scheduler.now) == (
        503,
        {"message": "Service Unavailable"},
        30.0,
    )
    assert (
        HttpApi(Function("f", echo, reserved_concurrency=0)).request("GET", "/").status_code == 500
    )
    fn = Function("f", echo)
    api = HttpApi(fn)
    api.invoker_for(fn).inject(ServiceError("x"))
    assert api.request("GET", "/").error == "invocation_error"
    with pytest.raises(InvalidParameterValueError, match=r"^integration_timeout="):
        HttpApi(fn, integration_timeout=31)
    with pytest.raises(InvalidParameterValueError, match=r"^payload_format_version="):
        HttpApi(fn, payload_format_version="3.0")


def test_function_url_rows() -> None:
    def url(handler: Any, **options: Any) -> HttpResponse:
        return FunctionUrl(Function("f", handler, **options)).request("POST", "/any/path")

    assert (url(lambda e, c: {"a": 1}).json(), url(lambda e, c: "hi").text) == ({"a": 1}, "hi")
    response = url(lambda e, c: {"statusCode": 201, "cookies": ["c=1"]})
    assert (response.status_code, response.cookies) == (201, ["c=1"])
    failed = url(lambda e, c: 1 / 0)
    assert (failed.status_code, failed.text, failed.header("content-type")) == (
        502,
        "Internal Server Error",
        "text/plain",
    )
    # No integration timeout: the function's own (up to 900 s) applies.
    slow = FunctionUrl(Function("f", echo, timeout=900, duration=600))
    assert (slow.request("GET", "/").status_code, slow.scheduler.now) == (200, 600.0)
    assert url(echo, timeout=1, duration=2).error == "function_error"
    assert url(echo, reserved_concurrency=0).status_code == 429
    assert url(lambda e, c: {"statusCode": 1}).status_code == 502
    fn = Function("f", echo)
    refused = FunctionUrl(fn)
    refused.invoker_for(fn).inject(ServiceError("x"))
    response = refused.request("GET", "/")
    assert (response.status_code, response.error) == (502, "invocation_error")


def test_every_response_carries_the_request_id() -> None:
    api = RestApi(Function("f", echo))
    ok = api.request("GET", "/")
    missing = RestApi(Function("f", echo), routes=["GET /x"]).request("GET", "/")
    failed = RestApi(Function("f", lambda e, c: 1 / 0)).request("GET", "/")
    for response in (ok, missing, failed):
        assert response.header("x-amzn-requestid") == response.request_id
    assert ok.request_id == ok.json()["requestContext"]["requestId"]
    own = rest({"statusCode": 200, "headers": {"x-amzn-RequestId": "mine"}})
    assert own.multi_value_headers["x-amzn-RequestId"] == ("mine",)


def test_each_service_takes_other_error_responses() -> None:
    teapot = GatewayError(status_code=418, body="tea", content_type="text/plain")
    errors = ErrorResponses(
        function_error=teapot, malformed_response=teapot, timeout=teapot, throttled=teapot,
        invocation_error=teapot, no_route=teapot,
    )  # fmt: skip
    for api in (
        RestApi(Function("f", lambda e, c: 1 / 0), errors=errors),
        HttpApi(Function("f", lambda e, c: 1 / 0), errors=errors),
        FunctionUrl(Function("f", lambda e, c: 1 / 0), errors=errors),
    ):
        response = api.request("GET", "/")
        assert (response.status_code, response.text) == (418, "tea")
    assert REST_API_ERRORS.function_error.status_code == 502
    assert HTTP_API_ERRORS.timeout.status_code == 503
    assert FUNCTION_URL_ERRORS.throttled.status_code == 429
    with pytest.raises(InvalidParameterValueError, match=r"^status_code="):
        GatewayError(status_code=700, body="")


# -- whatever the handler does is a response -----------------------------------------------


def containers(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Lists and objects of ``inner`` (JSON's containers)."""
    return st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3)


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    containers,
    max_leaves=8,
)
RESPONSE_KEYS = st.sampled_from(
    ["statusCode", "headers", "multiValueHeaders", "cookies", "body", "isBase64Encoded"]
)
RESPONSE_VALUES = (
    JSON
    | st.integers(100, 599)
    | st.dictionaries(st.text(max_size=3), JSON | st.lists(JSON, max_size=2), max_size=2)
    | st.lists(st.text(max_size=4), max_size=2)
    | st.binary(max_size=4).map(lambda b: base64.b64encode(b).decode())
)
RESPONSES = st.dictionaries(RESPONSE_KEYS, RESPONSE_VALUES, max_size=6) | JSON


@settings(max_examples=150)
@given(RESPONSES, st.sampled_from(["rest", "http1", "http2", "url"]))
def test_any_returned_value_maps_to_a_response_or_the_malformed_row(value: Any, kind: str) -> None:
    fn = returning(value)
    service: RestApi | HttpApi | FunctionUrl
    if kind == "rest":
        service = RestApi(fn)
    elif kind == "url":
        service = FunctionUrl(fn)
    else:
        service = HttpApi(fn, payload_format_version="1.0" if kind == "http1" else "2.0")
    response = service.request("GET", "/")
    assert 100 <= response.status_code <= 599
    assert response.error in (None, "malformed_response")
    if response.error is None:
        if isinstance(value, dict) and "statusCode" in value:
            assert response.status_code == value["statusCode"]
        else:
            assert kind in ("http2", "url")
            assert response.status_code == 200
    else:
        malformed = {"rest": 502, "http1": 500, "http2": 500, "url": 502}[kind]
        assert response.status_code == malformed
    assert response.request_id
    assert isinstance(response.body, bytes)


class Weird:
    pass


@pytest.mark.parametrize(
    "handler",
    [
        lambda e, c: Weird(),
        lambda e, c: {"statusCode": 200, "body": b"bytes"},
        lambda e, c: {1, 2},
        lambda e, c: float("nan"),
        lambda e, c: {"statusCode": 200, "body": "x" * 6_300_000},
        lambda e, c: (_ for _ in ()).throw(SystemExit(3)),
        lambda e, c: (_ for _ in ()).throw(KeyboardInterrupt()),
    ],
)
def test_a_handler_returning_or_raising_anything_is_a_function_error(handler: Any) -> None:
    for service in (RestApi, HttpApi, FunctionUrl):
        response = service(Function("f", handler)).request("GET", "/")
        assert response.error == "function_error"
        assert response.status_code in (500, 502)


# -- the synchronous model records every invoke --------------------------------------------


def test_each_request_is_a_request_response_invoke_in_the_shared_history() -> None:
    scheduler = Scheduler()
    history = History()
    fn = Function("orders", echo, timeout=60, duration=1)
    api = RestApi(fn, scheduler=scheduler, history=history, seed=1)
    url = FunctionUrl(Function("hook", lambda e, c: 1 / 0), scheduler=scheduler, history=history)
    direct = RequestResponseInvoker(fn, scheduler, history=history, seed=2)
    api.request("GET", "/a")
    url.request("POST", "/")
    direct.invoke({})
    spans = history.spans()
    assert [(s.function, s.model.value, s.outcome, s.started_at) for s in spans] == [
        ("orders", "RequestResponse", Outcome.SUCCESS, 0.0),
        ("hook", "RequestResponse", Outcome.FUNCTION_ERROR, 1.0),
        ("orders", "RequestResponse", Outcome.SUCCESS, 1.0),
    ]
    assert isinstance(api.invoker_for(fn), RequestResponseInvoker)
    assert api.invoker_for(fn) is api.invoker_for(fn)
    assert api.requests == 1
    timeline = Timeline.from_history(history)
    assert timeline.functions() == ["hook", "orders"]
    lines = timeline.text().splitlines()[1:]
    assert [line.split()[:5] for line in lines] == [
        ["0.000s", "orders", "invocations", "RequestResponse", spans[0].request_id[:8]],
        ["1.000s", "hook", "invocations", "RequestResponse", spans[1].request_id[:8]],
        ["1.000s", "orders", "invocations", "RequestResponse", spans[2].request_id[:8]],
    ]


def test_a_route_takes_a_request_response_invoker_of_your_own() -> None:
    scheduler = Scheduler()
    fn = Function(
        "orders",
        lambda event, context: {"statusCode": 200, "body": context.function_version},
        version="3",
    )
    invoker = RequestResponseInvoker(fn, scheduler, qualifier="live", seed=5)
    api = RestApi(invoker, scheduler=scheduler)
    assert api.invoker_for(invoker) is invoker
    assert api.request("GET", "/").text == "3"
    assert invoker.calls == 1
    invoker.inject(ServiceError("down"))
    assert api.request("GET", "/").error == "invocation_error"
    other = HttpApi(routes={"GET /a": invoker, "$default": fn}, scheduler=scheduler)
    assert other.invoker_for(invoker) is invoker
    assert other.invoker_for(fn) is not invoker
    url = FunctionUrl(invoker, scheduler=scheduler)
    assert url.request("GET", "/").status_code == 200
    assert repr(url).endswith(" orders>")
    assert invoker.calls == 3
    elsewhere = RequestResponseInvoker(fn, Scheduler())
    for make in (
        lambda: RestApi(elsewhere, scheduler=scheduler),
        lambda: HttpApi(routes={"$default": elsewhere}, scheduler=scheduler),
        lambda: FunctionUrl(elsewhere, scheduler=scheduler),
        lambda: RestApi(fn, scheduler=scheduler).add_route("GET /x", elsewhere),
    ):
        with pytest.raises(InvalidParameterValueError, match=r"^function=.*service's scheduler"):
            make()


def test_a_throttled_request_is_in_the_history_too() -> None:
    api = HttpApi(Function("f", echo, reserved_concurrency=0))
    api.request("GET", "/")
    (span,) = api.history.spans()
    assert (span.outcome, span.status_code) == (Outcome.THROTTLED, 429)


# -- bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "parameter"),
    [
        (lambda api: api.request("get", "/"), "method"),
        (lambda api: api.request("GET", "x"), "url"),
        (lambda api: api.request("GET", "/", json={}, body="x"), "json/body"),
        (lambda api: api.request("GET", "/", json=math.nan), "json"),
        (lambda api: api.request("GET", "/", data="text"), "data"),
        (lambda api: api.request("GET", "/", body=b"x"), "body"),
        (lambda api: api.request("GET", "/", headers={"a": 1}), "headers['a']"),
        (lambda api: api.request("GET", "/", headers=["a"]), "headers"),
        (lambda api: api.request("GET", "/", cookies="a=1"), "cookies"),
        (lambda api: api.request("GET", "/", source_ip=1), "source_ip"),
    ],
)
def test_bad_request_arguments_name_the_parameter(call: Any, parameter: str) -> None:
    api = RestApi(Function("f", echo))
    with pytest.raises(InvalidParameterValueError) as raised:
        call(api)
    assert raised.value.parameter == parameter
    assert api.requests == 0


@pytest.mark.parametrize(
    ("make", "parameter"),
    [
        (lambda: RestApi(Function("f", echo), stage="bad stage"), "stage"),
        (lambda: RestApi(Function("f", echo), stage="$default"), "stage"),
        (lambda: RestApi(Function("f", echo), api_id="UPPER"), "api_id"),
        (lambda: RestApi(Function("f", echo), region="mars"), "region"),
        (lambda: RestApi(Function("f", echo), account_id="1"), "account_id"),
        (lambda: RestApi("not a function"), "function"),  # type: ignore[arg-type]
        (lambda: RestApi(Function("f", echo), routes=7), "routes"),
        (lambda: RestApi(routes={"GET /": "fn"}), "routes['GET /']"),
        (lambda: RestApi(Function("f", echo), stage_variables={"a": 1}), "stage_variables"),  # type: ignore[dict-item]
        (lambda: RestApi(Function("f", echo), errors="x"), "errors"),  # type: ignore[arg-type]
        (lambda: FunctionUrl(Function("f", echo), url_id="-"), "url_id"),
        (lambda: FunctionUrl("f"), "function"),  # type: ignore[arg-type]
    ],
)
def test_bad_configuration_names_the_parameter(make: Any, parameter: str) -> None:
    with pytest.raises(InvalidParameterValueError) as raised:
        make()
    assert raised.value.parameter == parameter


def test_the_services_are_exported_at_the_top_level() -> None:
    assert (invokemodels.RestApi, invokemodels.HttpApi, invokemodels.FunctionUrl) == (
        RestApi,
        HttpApi,
        FunctionUrl,
    )
    assert repr(RestApi(Function("f", echo))) == "<RestApi 1234567890 stage=prod routes=2>"
    assert repr(rest({"statusCode": 200, "body": "ab"})) == "<HttpResponse 200 2 bytes>"
