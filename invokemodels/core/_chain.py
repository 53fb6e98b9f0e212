"""Chains of requests, for Lambda's recursive loop detection (reference 3.10).

Lambda follows each event through the services it passes (its X-Ray trace header, active
tracing or not): an SQS message, an SNS notification, an S3 event or an asynchronous
invoke sent by a function's code belongs to the chain of the event that function was
handling.  "When your function is invoked approximately 16 times in the same chain of
requests, Lambda stops the next invocation" (`RecursiveInvocationsDropped`), unless the
function's ``RecursiveLoop`` is ``Allow``.

Here a chain is the tuple of the ARNs of the functions it has reached, oldest first.  A
model runs each try with `running` set to the chain of what it delivers and the function;
what the handler sends while it runs takes `current()` as its own chain.  Loops
through EventBridge (its deliveries start a new chain, `outside`) or through a DynamoDB or
Kinesis stream are not detected (as on Lambda), nor are loops of synchronous invokes
[UNCONFIRMED]: a synchronous call made by a handler leaves the chain
as it is, so what the callee sends belongs to the caller's chain.
"""

from __future__ import annotations

import threading
from typing import Final, Protocol

__all__ = [
    "RECURSION_LIMIT",
    "RUNNING",
    "Chain",
    "current",
    "done",
    "outside",
    "running",
    "stops",
]

Chain = tuple[str, ...]
"""The ARNs of the functions a chain of requests has reached, oldest first."""

RECURSION_LIMIT: Final = 16
"""Invocations of one function in one chain after which Lambda stops the next (reference
3.10: "approximately 16 times"; boto/boto3#3899 observed "stops after 16 (sixteen) calls")."""

_EMPTY: Final[Chain] = ()


class HasArn(Protocol):
    """The running function (a `Function`): its ARN is read only when something is sent."""

    @property
    def arn(self) -> str: ...


class Looping(HasArn, Protocol):
    """A function as the rule reads it: its ARN and its ``RecursiveLoop`` setting."""

    @property
    def recursive_loop(self) -> str: ...


Running = tuple[Chain, HasArn]
"""``(the chain being delivered, the function handling it)`` while a try runs."""


class _Running(threading.local):
    """Per thread: `Running` while a try runs, else None.

    A thread-local attribute: a `contextvars.ContextVar` costs a new context mapping per
    set, on the path of every try.
    """

    value: Running | None = None


RUNNING: Final = _Running()
"""The running try's chain, for this thread; the models' hot paths read and write
``RUNNING.value`` directly (save, set, restore), as `running` and `done` do."""


def running(value: Running | None) -> Running | None:
    """Mark a try of ``function`` delivering ``chain`` (``value = (chain, function)``);
    returns what to give `done` when it ends."""
    previous = RUNNING.value
    RUNNING.value = value
    return previous


def done(previous: Running | None) -> None:
    """The try has ended: put back what `running` (or `outside`) returned."""
    RUNNING.value = previous


def outside() -> Running | None:
    """Start a new chain for what is sent until `done`: a service loop Lambda does not
    detect (EventBridge) delivers outside the chain of the handler that sent to it."""
    return running(None)


def current() -> Chain:
    """The chain what is sent now belongs to: the running try's chain and its function."""
    value = RUNNING.value
    if value is None:
        return _EMPTY
    chain, function = value
    return (*chain, function.arn)


def stops(chain: Chain, function: Looping) -> bool:
    """True when recursive loop detection stops delivering ``chain`` to ``function``: it has
    been invoked `RECURSION_LIMIT` times in it and its ``RecursiveLoop`` is ``Terminate``."""
    return (
        bool(chain)
        and function.recursive_loop == "Terminate"
        and chain.count(function.arn) >= RECURSION_LIMIT
    )
