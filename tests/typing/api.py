"""Static conformance checks: read by mypy (``mypy --strict tests/typing``), never run by pytest.

Each reference implementation is assigned to the protocol it implements; if it
drifts from the protocol, mypy fails.
"""

from __future__ import annotations

from invokemodels import (
    Clock,
    Function,
    Invoker,
    LegacyRetry,
    NoRetry,
    RequestResponseInvoker,
    RetryPolicy,
    StandardRetry,
    SystemClock,
    VirtualClock,
)

clock: Clock = VirtualClock()
real_clock: Clock = SystemClock()

sync_invoker: Invoker = RequestResponseInvoker(Function(name="f", handler=lambda e, c: e))
legacy_retry: RetryPolicy = LegacyRetry()
standard_retry: RetryPolicy = StandardRetry()
no_retry: RetryPolicy = NoRetry()
