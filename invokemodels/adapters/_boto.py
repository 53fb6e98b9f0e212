"""boto3 behind a lazy import, the client factory, and the bounded backoff the adapters share.

boto3 is the optional extra ``invokemodels[aws]``: nothing here imports it until a client is
made, so ``import invokemodels.adapters`` works without it and the first client names the
extra in its error.
"""

from __future__ import annotations

import importlib
from collections import deque
from typing import Any, Final

import attrs

from invokemodels.core._validate import in_range
from invokemodels.exceptions import describe_error

__all__ = [
    "Backoff",
    "ErrorLog",
    "aws_error_code",
    "aws_errors",
    "make_client",
    "require_boto3",
]

_EXTRA_HINT: Final = (
    "the boto3 adapters need boto3: install the extra with `pip install 'invokemodels[aws]'`"
)


def require_boto3() -> Any:
    """The ``boto3`` module, or an `ImportError` naming the ``aws`` extra."""
    try:
        return importlib.import_module("boto3")
    except ImportError as exc:
        raise ImportError(_EXTRA_HINT) from exc


def make_client(
    service: str,
    client: Any = None,
    *,
    endpoint_url: str | None = None,
    region_name: str | None = None,
) -> Any:
    """``client`` as given, or a new boto3 client for ``service``.

    Credentials and Region come through boto3's usual chain (environment, shared config,
    instance roles); ``endpoint_url`` points the client at a local server (moto, LocalStack,
    ``invokemodels serve``).
    """
    if client is not None:
        if endpoint_url is not None or region_name is not None:
            msg = "pass either a client or endpoint_url / region_name, not both"
            raise ValueError(msg)
        return client
    boto3 = require_boto3()
    kwargs: dict[str, Any] = {}
    if endpoint_url is not None:
        kwargs["endpoint_url"] = endpoint_url
    if region_name is not None:
        kwargs["region_name"] = region_name
    return boto3.client(service, **kwargs)


def aws_errors() -> tuple[type[BaseException], ...]:
    """What a failed AWS call raises: botocore's ``ClientError`` (an error response) and
    ``BotoCoreError`` (no response: connection refused, read timeout, ...)."""
    exceptions = importlib.import_module("botocore.exceptions")
    return (exceptions.ClientError, exceptions.BotoCoreError)


def aws_error_code(exc: BaseException) -> str | None:
    """The AWS error code of a botocore ``ClientError`` (``Error.Code``), else None."""
    response = getattr(exc, "response", None)
    if not isinstance(response, dict):
        return None
    error = response.get("Error")
    code = error.get("Code") if isinstance(error, dict) else None
    return code if isinstance(code, str) else None


@attrs.frozen(kw_only=True)
class Backoff:
    """Bounded exponential backoff after failed AWS calls (a receive, a ``GetRecords``).

    The n-th consecutive failure waits ``min(maximum, initial * 2**(n-1))`` seconds before
    the source is asked again; a success resets the count.  No jitter: one process polls
    one source, so there is no herd to spread.

    Attributes:
        initial: the first delay, 0.001-3600 s (default 0.5).
        maximum: the largest delay, 0.001-3600 s (default 20).
    """

    initial: float = attrs.field(default=0.5, validator=in_range("initial", 0.001, 3600))
    maximum: float = attrs.field(default=20.0, validator=in_range("maximum", 0.001, 3600))

    def delay(self, failures: int) -> float:
        """Seconds to wait after ``failures`` (>= 1) consecutive failures."""
        return min(self.maximum, self.initial * 2.0 ** min(max(failures, 1) - 1, 60))


@attrs.define(repr=False, eq=False)
class ErrorLog:
    """The AWS errors an adapter met: counted, the last ``keep`` described, and backed off."""

    backoff: Backoff = attrs.field(factory=Backoff)
    keep: int = 100
    count: int = attrs.field(default=0, init=False)
    streak: int = attrs.field(default=0, init=False)
    recent: deque[str] = attrs.field(init=False)
    retry_at: float = attrs.field(default=float("-inf"), init=False)

    def __attrs_post_init__(self) -> None:
        self.recent = deque(maxlen=self.keep)

    def __repr__(self) -> str:
        return f"<ErrorLog count={self.count} streak={self.streak}>"

    def failed(self, exc: BaseException, now: float) -> float:
        """Note ``exc`` at clock time ``now``; returns when to try again."""
        self.count += 1
        self.streak += 1
        self.recent.append(describe_error(exc))
        self.retry_at = now + self.backoff.delay(self.streak)
        return self.retry_at

    def succeeded(self) -> None:
        """A call went through: the next failure starts the backoff afresh."""
        self.streak = 0
        self.retry_at = float("-inf")
