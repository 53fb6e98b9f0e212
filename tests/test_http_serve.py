"""`ApiServer` and ``invokemodels serve --api``: the HTTP front doors over real HTTP on
127.0.0.1, called with the standard library's HTTP clients."""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import textwrap
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from invokemodels import Function, HttpApi, RestApi, Scheduler, SystemClock
from invokemodels.aws import FunctionUrl
from invokemodels.exceptions import InvalidParameterValueError
from invokemodels.serve import ApiServer, is_text_type


def describe(event: Any, context: Any) -> Any:
    return {
        "statusCode": 201,
        "headers": {"X-Path": event["path"]},
        "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]},
        "body": json.dumps(
            {
                "body": event["body"],
                "base64": event["isBase64Encoded"],
                "query": event["multiValueQueryStringParameters"],
                "cookie": event["headers"].get("Cookie"),
                "source": event["requestContext"]["identity"]["sourceIp"],
                "stage": event["requestContext"]["stage"],
            }
        ),
    }


def test_a_rest_api_answers_a_real_http_request_under_its_stage() -> None:
    api = RestApi(Function("orders", describe), scheduler=Scheduler(clock=SystemClock()))
    with ApiServer(api) as server:
        assert server.url == f"http://127.0.0.1:{server.bound_port}/prod/"
        request = urllib.request.Request(
            server.url + "orders/1?x=1&x=2",
            data=b'{"a": 1}',
            headers={"Content-Type": "application/json", "Cookie": "s=1"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 201
            assert response.headers["X-Path"] == "/orders/1"
            assert response.headers.get_all("Set-Cookie") == ["a=1", "b=2"]
            assert response.headers["Content-Type"] == "application/json"
            body = json.loads(response.read())
        assert body == {
            "body": '{"a": 1}',
            "base64": False,
            "query": {"x": ["1", "2"]},
            "cookie": "s=1",
            "source": "127.0.0.1",
            "stage": "prod",
        }
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"http://127.0.0.1:{server.bound_port}/orders/1", timeout=10)
        assert (refused.value.code, json.loads(refused.value.read())) == (
            403,
            {"message": "Missing Authentication Token"},
        )
    assert api.requests == 2


def test_a_binary_body_reaches_the_function_base64_encoded() -> None:
    api = RestApi(Function("orders", describe))
    with ApiServer(api) as server:
        request = urllib.request.Request(
            server.url + "blob",
            data=b"\x00\xff",
            headers={"Content-Type": "application/octet-stream"},
            method="PUT",
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            body = json.loads(response.read())
    assert (body["body"], body["base64"]) == ("AP8=", True)


def test_an_http_api_keeps_a_connection_alive_and_maps_its_failures() -> None:
    def handler(event: Any, context: Any) -> Any:
        if event["rawPath"] == "/boom":
            raise RuntimeError("boom")
        return {"route": event["routeKey"], "cookies": event.get("cookies", [])}

    api = HttpApi(routes={"GET /items/{id}": Function("items", handler),
                          "$default": Function("other", handler)})  # fmt: skip
    with ApiServer(api) as server:
        connection = http.client.HTTPConnection("127.0.0.1", server.bound_port, timeout=10)
        connection.request("GET", "/items/7", headers={"Cookie": "a=1; b=2"})
        response = connection.getresponse()
        assert (response.status, json.loads(response.read())) == (
            200,
            {"route": "GET /items/{id}", "cookies": ["a=1", "b=2"]},
        )
        assert response.getheader("content-type") == "application/json"
        connection.request("GET", "/boom")
        response = connection.getresponse()
        assert (response.status, json.loads(response.read())) == (
            500,
            {"message": "Internal Server Error"},
        )
        connection.request("HEAD", "/items/8")
        response = connection.getresponse()
        assert (response.status, response.read()) == (200, b"")
        connection.close()
    # HEAD does not take the GET route: $default got it.
    assert [span.function for span in api.history.spans()] == ["items", "other", "other"]


def test_a_function_url_serves_every_path() -> None:
    url = FunctionUrl(Function("hook", lambda event, context: event["rawPath"]))
    with ApiServer(url) as server:
        assert server.url == f"http://127.0.0.1:{server.bound_port}/"
        with urllib.request.urlopen(server.url + "any/path?q=1", timeout=10) as response:
            assert response.read() == b"/any/path"


def test_text_types_are_the_textual_ones() -> None:
    for kind in ("text/plain", "application/json; charset=utf-8", "application/vnd.x+json",
                 "application/xml", "application/x-www-form-urlencoded", "TEXT/HTML"):  # fmt: skip
        assert is_text_type(kind), kind
    for binary in (None, "application/octet-stream", "image/png", "multipart/form-data"):
        assert not is_text_type(binary), binary


def test_bad_server_arguments_are_named() -> None:
    with pytest.raises(InvalidParameterValueError, match=r"^service="):
        ApiServer("api")  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterValueError, match=r"^port="):
        ApiServer(RestApi(Function("f", describe)), port=70000)
    server = ApiServer(RestApi(Function("f", describe)))
    assert (server.bound_port, repr(server)) == (0, "<ApiServer RestApi stopped>")
    server.close()  # closing a server never started is a no-op


APP = """
import json

def handler(event, context):
    print("got", event["routeKey"])
    return {"statusCode": 200, "body": json.dumps(event["pathParameters"])}
"""


def test_serve_api_serves_a_handler_over_http_until_a_signal(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(textwrap.dedent(APP), encoding="utf-8")
    server = subprocess.Popen(
        [
            sys.executable, "-m", "invokemodels", "serve", "--handler", "app:handler",
            "--function-name", "orders", "--port", "0", "--api", "http",
            "--route", "GET /orders/{id}", "--stage", "dev",
        ],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(tmp_path)},
    )  # fmt: skip
    try:
        assert server.stdout is not None
        url = server.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        assert url.endswith("/dev/")
        with urllib.request.urlopen(url + "orders/42", timeout=10) as response:
            assert (response.status, json.loads(response.read())) == (200, {"id": "42"})
    finally:
        server.send_signal(signal.SIGTERM)
        _, err = server.communicate(timeout=30)
    assert server.returncode == 0
    assert "got GET /orders/{id}" in err
    assert err.endswith("stopped; 1 request(s) served\n")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--api", "url", "--route", "GET /"], "--route="),
        (["--api", "rest", "--payload-format-version", "2.0"], "--payload-format-version="),
        (["--api", "http", "--route", "get /"], "route="),
        (["--api", "http", "--integration-timeout", "31"], "integration_timeout="),
        (["--api", "rest", "--stage", "a b"], "stage="),
    ],
)
def test_serve_api_bad_input_is_one_line(
    capsys: pytest.CaptureFixture[str], options: list[str], message: str
) -> None:
    from invokemodels._cli import _main as cli

    code = cli.main(["serve", "--handler", "invokemodels.examples:hello", *options])
    out, err = capsys.readouterr()
    assert (code, out, err.count("\n")) == (2, "", 1)
    assert message in err
