"""The partial batch response (``ReportBatchItemFailures``), read once for every source.

SQS and stream mappings read a function's ``{"batchItemFailures": [{"itemIdentifier": ...}]}``
by the same table (reference 4.1, 4.2); `batch_item_failures` is that table.  What a source
does with the identifiers differs (SQS keeps those messages, a stream checkpoints before
the lowest sequence number) and stays in its poller.
"""

from __future__ import annotations

from collections.abc import Container
from typing import Any

__all__ = ["batch_item_failures"]


def batch_item_failures(response: Any, identifiers: Container[str]) -> set[str] | None:
    """Read a partial batch response: the reported identifiers, or None for a complete failure.

    ``identifiers`` are the batch's item identifiers (SQS ``messageId`` s, stream sequence
    numbers); anything that answers ``in`` will do.

    Complete success (an empty set): ``None`` / ``{}`` / a missing or null
    ``batchItemFailures`` / an empty list, and an empty string or empty array as the
    whole response.  Complete failure (None): a list item without ``itemIdentifier`` (a
    bad key name), a null, empty or non-string identifier, an identifier not in the
    batch, a ``batchItemFailures`` that is not a list, or any other response that is not
    a JSON object (the reference's "invalid JSON response").  For SQS the documentation
    lists only "empty" and "null" ``EventResponse`` as success; reading ``""`` and ``[]``
    as empty follows what Lambda was observed to do for streams (reference 4.1)
    [UNCONFIRMED for SQS].
    """
    if response is None or response in ("", []):
        return set()
    if not isinstance(response, dict):
        return None
    failures = response.get("batchItemFailures")
    if failures is None:
        return set()
    if not isinstance(failures, list):
        return None
    out: set[str] = set()
    for item in failures:
        if not isinstance(item, dict) or "itemIdentifier" not in item:
            return None
        identifier = item["itemIdentifier"]
        if not isinstance(identifier, str) or not identifier or identifier not in identifiers:
            return None
        out.add(identifier)
    return out
