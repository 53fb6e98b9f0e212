"""The Lambda context object, as the Python runtime builds it (reference section 6)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import attrs

from invokemodels.core._clock import Clock
from invokemodels.core._validate import instance_of, mapping, render_value, text

__all__ = ["Client", "ClientContext", "CognitoIdentity", "LambdaContext"]


@attrs.frozen
class CognitoIdentity:
    """``context.identity``: set only by the AWS Mobile SDK; both attributes are None otherwise."""

    cognito_identity_id: str | None = attrs.field(
        default=None, validator=text("cognito_identity_id", optional=True)
    )
    cognito_identity_pool_id: str | None = attrs.field(
        default=None, validator=text("cognito_identity_pool_id", optional=True)
    )


@attrs.frozen
class Client:
    """``context.client_context.client``: the mobile app that made the call."""

    installation_id: str | None = attrs.field(
        default=None, validator=text("client.installation_id", optional=True)
    )
    app_title: str | None = attrs.field(
        default=None, validator=text("client.app_title", optional=True)
    )
    app_version_name: str | None = attrs.field(
        default=None, validator=text("client.app_version_name", optional=True)
    )
    app_version_code: str | None = attrs.field(
        default=None, validator=text("client.app_version_code", optional=True)
    )
    app_package_name: str | None = attrs.field(
        default=None, validator=text("client.app_package_name", optional=True)
    )


@attrs.frozen
class ClientContext:
    """``context.client_context``: sent on synchronous invokes only (``ClientContext`` header)."""

    client: Client | None = attrs.field(
        default=None, validator=instance_of("client", Client, "a Client", optional=True)
    )
    custom: dict[str, Any] | None = attrs.field(
        default=None, validator=mapping("custom", optional=True)
    )
    env: dict[str, Any] | None = attrs.field(default=None, validator=mapping("env", optional=True))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ClientContext:
        """Build from the decoded ``ClientContext`` JSON (``client``, ``custom``, ``env`` keys).

        Other keys are ignored, in ``client`` too, as the Python runtime does.
        """
        client = data.get("client")
        return cls(
            client=Client(**{k: client.get(k) for k in _CLIENT_FIELDS})
            if isinstance(client, dict)
            else None,
            custom=data.get("custom"),
            env=data.get("env"),
        )


_CLIENT_FIELDS = tuple(field.name for field in attrs.fields(Client))
_NO_IDENTITY = CognitoIdentity()


class LambdaContext:
    """The ``context`` argument a handler receives.

    Every documented attribute is here, with the runtime's types
    (``memory_limit_in_mb`` is a *string*).  `get_remaining_time_in_millis` is
    consistent with the clock the attempt runs on and clamped at 0.

    On a virtual clock a handler can spend modelled time with `spend`
    (``context.spend(2.5)``); the attempt's duration grows by that much and a
    handler that spends past its timeout ends with ``Sandbox.Timedout``.  On
    the real clock `spend` really sleeps.  With ``Scheduler(handler_time=True)`` a plain
    ``time.sleep(2.5)`` in the handler spends the same way (docs/reference/handler-time.md).
    """

    __slots__ = (
        "_clock",
        "_deadline",
        "_listener",
        "_spent",
        "_started",
        "aws_request_id",
        "client_context",
        "function_name",
        "function_version",
        "identity",
        "invoked_function_arn",
        "log_group_name",
        "log_stream_name",
        "memory_limit_in_mb",
        "tenant_id",
    )

    def __init__(
        self,
        function_name: str,
        function_version: str,
        invoked_function_arn: str,
        memory_limit_in_mb: str,
        aws_request_id: str,
        log_group_name: str,
        log_stream_name: str,
        clock: Clock,
        started: float,
        timeout: float,
        client_context: ClientContext | None = None,
        identity: CognitoIdentity | None = None,
        tenant_id: str | None = None,
    ) -> None:
        self.function_name = function_name
        self.function_version = function_version
        self.invoked_function_arn = invoked_function_arn
        self.memory_limit_in_mb = memory_limit_in_mb
        self.aws_request_id = aws_request_id
        self.log_group_name = log_group_name
        self.log_stream_name = log_stream_name
        self.client_context = client_context
        self.identity = identity if identity is not None else _NO_IDENTITY
        self.tenant_id = tenant_id
        self._clock = clock
        self._started = started
        self._deadline = started + timeout
        self._spent = 0.0
        self._listener: Callable[[], object] | None = None

    def __repr__(self) -> str:
        return (
            f"<LambdaContext function_name={self.function_name!r} "
            f"aws_request_id={self.aws_request_id!r}>"
        )

    @property
    def elapsed(self) -> float:
        """Seconds this attempt has used so far (clock time plus `spend`)."""
        return self._clock.now() - self._started + self._spent

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the function times out, clamped at 0 (as the runtime does)."""
        remaining = self._deadline - (self._clock.now() + self._spent)
        return int(remaining * 1000) if remaining > 0 else 0

    def spend(self, seconds: float) -> None:
        """Spend ``seconds`` of the attempt's time (virtual: modelled; real clock: sleeps).

        ``seconds`` must be a finite number >= 0: anything else raises `TypeError`
        or `ValueError` in the handler (a function error like any other).
        """
        if not isinstance(seconds, (int, float)) or isinstance(seconds, bool):
            msg = f"context.spend() takes seconds as a number, got {type(seconds).__name__}"
            raise TypeError(msg)
        try:
            finite = 0 <= float(seconds) < math.inf
        except OverflowError:
            finite = False
        if not finite:
            shown = render_value(seconds)
            msg = f"context.spend() takes a finite number of seconds >= 0, got {shown}"
            raise ValueError(msg)
        seconds = float(seconds)
        if self._clock.virtual:
            self._spent += seconds
            listener = self._listener
            if listener is not None:
                listener()
        else:
            self._clock.sleep_until(self._clock.now() + seconds)

    @property
    def spent(self) -> float:
        """Virtual seconds spent through `spend` (and, with handler time, ``time.sleep``)."""
        return self._spent

    def _listen(self, listener: Callable[[], object] | None) -> None:
        """Call ``listener()`` after each `spend` (handler time moves its clocks along)."""
        self._listener = listener
