"""What the services that invoke asynchronously share: the `Notification` they record and
the `EventInvoker` each subscribed function is invoked through (reference 3.11).

S3, SNS and EventBridge invoke a function with ``InvocationType=Event``: the event joins
the function's asynchronous queue and Lambda's retries, destinations and dead-letter queue
apply (reference section 3).  An AWS service is not held to the asynchronous invoke rate
(reference 1.3), so the invokers made here have no acceptance throttle.
"""

from __future__ import annotations

import random
from typing import Any

import attrs

from invokemodels.core._chain import done, outside
from invokemodels.core._function import Function
from invokemodels.core._history import History
from invokemodels.core._scheduler import Scheduler
from invokemodels.event._invoker import EventInvoker
from invokemodels.exceptions import InvalidParameterValueError

__all__ = ["Notification", "Subscriber"]

Subscriber = Function | EventInvoker
"""What a trigger invokes: a `Function` (the service makes an `EventInvoker` for it on its
own scheduler) or an `EventInvoker` of your own (its config, destinations and dead-letter
queue apply)."""


@attrs.frozen(kw_only=True)
class Notification:
    """One asynchronous invoke a service made: which source, which function, which event.

    Attributes:
        source_arn: the bucket, topic subscription or rule that fired.
        function_arn: the invoked function's ARN.
        request_id: the invoke's request id: ``invoker.outcome(request_id)`` is its fate.
        event: the event the function received (the parsed JSON payload).
        at: the clock time of the invoke.
    """

    source_arn: str
    function_arn: str
    request_id: str
    event: Any = attrs.field(eq=False, repr=False)
    at: float


@attrs.define(eq=False)
class Invokers:
    """The `EventInvoker` of every function a service invokes, one per function."""

    scheduler: Scheduler
    rng: random.Random
    _by_function: dict[int, EventInvoker] = attrs.field(factory=dict)

    def resolve(self, target: Any, parameter: str, history: History | None) -> EventInvoker:
        """The invoker for ``target`` (a `Function` or an `EventInvoker`)."""
        if isinstance(target, EventInvoker):
            if target.scheduler is not self.scheduler:
                raise InvalidParameterValueError(
                    parameter,
                    target,
                    "must run on the service's scheduler (one clock for the service and the "
                    "function: pass scheduler= to both)",
                )
            return target
        if not isinstance(target, Function):
            raise InvalidParameterValueError(
                parameter, target, "must be a Function or an EventInvoker"
            )
        invoker = self._by_function.get(id(target))
        if invoker is None:
            invoker = EventInvoker(
                target,
                scheduler=self.scheduler,
                rng=random.Random(self.rng.getrandbits(64)),
                history=history,
                invoke_rate_factor=None,
            )
            self._by_function[id(target)] = invoker
        return invoker


def invoke(
    invoker: EventInvoker, source_arn: str, event: Any, *, chained: bool = True
) -> Notification:
    """Invoke ``invoker`` with ``event`` and record it as a `Notification`.

    With ``chained`` (S3, SNS) the event belongs to the chain of requests of the handler
    that sent to the service, for recursive loop detection; without (EventBridge, whose
    loops Lambda does not detect) it starts a new chain.
    """
    if chained:
        response = invoker.invoke(event)
    else:
        token = outside()
        try:
            response = invoker.invoke(event)
        finally:
            done(token)
    return Notification(
        source_arn=source_arn,
        function_arn=invoker.function.arn,
        request_id=response.request_id,
        event=event,
        at=invoker.scheduler.now,
    )
