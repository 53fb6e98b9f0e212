"""`ApiServer`: an in-memory API Gateway API or function URL on a loopback port.

A real HTTP client (a browser, ``curl``, ``urllib``, ``httpx``, a front end under
development) sends requests to ``http://127.0.0.1:PORT/...``; each becomes
``service.request(...)`` on the `RestApi`, `HttpApi` or `FunctionUrl` given, and the
`HttpResponse` goes back as the HTTP response, status, headers, cookies and body.

Requests are served one at a time (the services and their models are not shared between
threads), on whichever clock the service's scheduler has: `invokemodels serve` gives it
the real clock, so request times are real; a virtual clock serves as well.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Final

import attrs
from typing_extensions import Self

from invokemodels.aws._http import FunctionUrl, HttpApi, HttpResponse, RestApi
from invokemodels.core._validate import in_range, instance_of, text
from invokemodels.exceptions import InvalidParameterValueError

__all__ = ["ApiServer"]

# The hop-by-hop headers of one connection (RFC 9110 7.6.1): API Gateway does not pass
# them on, and this server sets its own.
_HOP_BY_HOP: Final = frozenset(
    {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade",
     "proxy-connection"}
)  # fmt: skip
_TEXT_TYPE: Final = re.compile(
    r"^(text/[^;]*|application/(json|xml|javascript|x-www-form-urlencoded|[^;]*\+(json|xml)))"
    r"\s*(;.*)?$",
    re.IGNORECASE,
)
_BODY_LIMIT: Final = 10 * 1024 * 1024  # API Gateway's payload quota: 10 MB


def is_text_type(content_type: str | None) -> bool:
    """Whether a request body of ``content_type`` reaches the function as text (else it is
    base64-encoded): ``text/*``, JSON, XML, JavaScript, form data, ``*+json`` and
    ``*+xml``.  The model of an HTTP API and a function URL, and of a REST API whose
    binary media types are the other types."""
    return content_type is not None and _TEXT_TYPE.match(content_type.strip()) is not None


@attrs.define(repr=False, eq=False, on_setattr=attrs.setters.NO_OP)
class ApiServer:
    """Serves a `RestApi`, `HttpApi` or `FunctionUrl` over HTTP on ``host:port``.

    Args:
        service: the service whose ``request`` each HTTP request becomes.
        host: the address to bind (default ``127.0.0.1``).
        port: the TCP port, 0-65535 (default 0: any free port; see `url`).

    The URL path is the service's: an API with a named stage (a REST API's ``prod``)
    serves under ``/<stage>/``, as on AWS (``https://<api>.execute-api.../prod/orders``);
    a path outside the stage gets the service's ``no_route`` response.  A body is text when
    its ``Content-Type`` is textual (`is_text_type`) and valid UTF-8, else binary (base64
    in the event).  Use it as a context manager, or `start` and `close`.
    """

    service: RestApi | HttpApi | FunctionUrl = attrs.field(
        validator=instance_of(
            "service", (RestApi, HttpApi, FunctionUrl), "a RestApi, HttpApi or FunctionUrl"
        )
    )
    host: str = attrs.field(default="127.0.0.1", validator=text("host"))
    port: int = attrs.field(default=0, validator=in_range("port", 0, 65535, integer=True))
    _http: _Server | None = attrs.field(default=None, init=False)
    _thread: threading.Thread | None = attrs.field(default=None, init=False)
    _lock: threading.Lock = attrs.field(factory=threading.Lock, init=False)

    def __repr__(self) -> str:
        state = "serving" if self._http is not None else "stopped"
        return f"<ApiServer {type(self.service).__name__} {state}>"

    def start(self) -> Self:
        """Bind and serve on a background thread (``OSError`` if the port is taken)."""
        if self._http is not None:
            return self
        server = _Server((self.host, self.port), self)
        self._http = server
        self._thread = threading.Thread(
            target=server.serve_forever, name="invokemodels-api", daemon=True
        )
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving (requests in progress finish)."""
        server, thread = self._http, self._thread
        self._http = self._thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join()

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
    def bound_port(self) -> int:
        """The port served (the one chosen for ``port=0``); 0 before `start`."""
        return 0 if self._http is None else int(self._http.server_address[1])

    @property
    def url(self) -> str:
        """The base URL, with the stage of an API that has a named one:
        ``http://127.0.0.1:PORT/prod/`` for a REST API's ``prod``."""
        return f"http://{self.host}:{self.bound_port}{self._prefix()}/"

    def _prefix(self) -> str:
        service = self.service
        if isinstance(service, FunctionUrl) or service.stage == "$default":
            return ""
        return f"/{service.stage}"

    def handle(
        self,
        method: str,
        target: str,
        headers: Mapping[str, list[str]],
        body: bytes,
        client: str,
    ) -> HttpResponse:
        """One HTTP request (``target`` as the request line has it) to the service."""
        prefix = self._prefix()
        path = target
        if prefix:
            head, sep, rest = target.partition("?")
            if head == prefix or head.startswith(prefix + "/"):
                path = (head[len(prefix) :] or "/") + sep + rest
            else:
                path = ""  # outside the stage: no route
        content_type = next(
            (values[-1] for name, values in headers.items() if name.lower() == "content-type"),
            None,
        )
        text_body: str | None = None
        data: bytes | None = None
        if body:
            if is_text_type(content_type):
                try:
                    text_body = body.decode("utf-8")
                except UnicodeDecodeError:
                    data = body
            else:
                data = body
        passed = {
            name: values
            for name, values in headers.items()
            if name.lower() not in _HOP_BY_HOP and name.lower() != "content-length"
        }
        with self._lock:
            service = self.service
            if not path:
                return service.no_route()
            return service.request(
                method, path, body=text_body, data=data, headers=passed, source_ip=client
            )


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], app: ApiServer) -> None:
        self.app = app
        super().__init__(address, _Handler)


class _Handler(BaseHTTPRequestHandler):
    """One connection: HTTP/1.1 keep-alive, any method."""

    protocol_version = "HTTP/1.1"
    server: _Server
    server_version = "invokemodels"

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the functions' logs say what happened."""

    def _answer(self) -> None:
        length_text = self.headers.get("Content-Length", "0") or "0"
        try:
            length = int(length_text)
        except ValueError:
            length = -1
        if not 0 <= length <= _BODY_LIMIT:
            self.close_connection = True
            self._send(413 if length > 0 else 400, [("Content-Type", "application/json")],
                       b'{"message":"Request Entity Too Large"}' if length > 0
                       else b'{"message":"Bad Request"}')  # fmt: skip
            return
        body = self.rfile.read(length) if length else b""
        headers: dict[str, list[str]] = {}
        for name, value in self.headers.items():
            headers.setdefault(name, []).append(value)
        try:
            response = self.server.app.handle(
                self.command, self.path, headers, body, self.client_address[0]
            )
        except InvalidParameterValueError as exc:
            # A request the service cannot take (a method or header it refuses).
            message = str(exc).replace("\\", "\\\\").replace('"', '\\"')
            self._send(400, [("Content-Type", "application/json")],
                       f'{{"message":"{message}"}}'.encode())  # fmt: skip
            return
        pairs = [
            (name, value)
            for name, values in response.multi_value_headers.items()
            if name.lower() not in _HOP_BY_HOP and name.lower() != "content-length"
            for value in values
        ]
        self._send(response.status_code, pairs, response.body)

    def _send(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        try:
            phrase = HTTPStatus(status).phrase
        except ValueError:
            phrase = ""
        self.send_response(status, phrase)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _answer
