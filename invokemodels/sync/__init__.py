"""The synchronous model (``RequestResponse``, ``DryRun``) and the SDK client that calls it,
with botocore's retry modes.
"""

from __future__ import annotations

from invokemodels.sync._client import (
    LEGACY_RETRYABLE_CODES,
    LEGACY_RETRYABLE_STATUS,
    STANDARD_THROTTLING_CODES,
    STANDARD_TRANSIENT_CODES,
    STANDARD_TRANSIENT_STATUS,
    ClientAttempt,
    LambdaClient,
    LegacyRetry,
    NoRetry,
    RetryQuota,
    StandardRetry,
)
from invokemodels.sync._invoker import (
    CLIENT_CONTEXT_LIMIT,
    LOG_RESULT_LIMIT,
    PendingInvoke,
    RequestResponseInvoker,
)

__all__ = [
    "CLIENT_CONTEXT_LIMIT",
    "LEGACY_RETRYABLE_CODES",
    "LEGACY_RETRYABLE_STATUS",
    "LOG_RESULT_LIMIT",
    "STANDARD_THROTTLING_CODES",
    "STANDARD_TRANSIENT_CODES",
    "STANDARD_TRANSIENT_STATUS",
    "ClientAttempt",
    "LambdaClient",
    "LegacyRetry",
    "NoRetry",
    "PendingInvoke",
    "RequestResponseInvoker",
    "RetryQuota",
    "StandardRetry",
]
