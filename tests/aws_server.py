"""A local AWS API server for the adapter tests: moto's server mode on 127.0.0.1.

`aws_endpoint` starts one ``ThreadedMotoServer`` on a free port for the session and
yields its URL; boto3 finds fake credentials and a Region in the environment.  The
tests skip (with the reason) only when moto's server extra is not installed.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

REGION = "us-east-1"
_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
}


@pytest.fixture(scope="session")
def aws_endpoint() -> Iterator[str]:
    """The URL of a moto server on 127.0.0.1 (a free port), for the whole session."""
    server_module = pytest.importorskip(
        "moto.server", reason="moto[server] is not installed (pip install '.[test]')"
    )
    saved = {key: os.environ.get(key) for key in _ENV}
    os.environ.update(_ENV)
    server = server_module.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def client(service: str, endpoint: str) -> Any:
    """A boto3 client for ``service`` on the local server."""
    import boto3

    return boto3.client(service, endpoint_url=endpoint, region_name=REGION)
