"""Whatever a handler does is a function outcome: every exception kind, broken objects, bad time."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from invokemodels import (
    BackgroundEventInvoker,
    EventInvokeConfig,
    EventInvoker,
    EventOutcomeKind,
    Function,
    QueueTarget,
    RequestResponseInvoker,
    Scheduler,
    VirtualClock,
)
from invokemodels.core import encode_payload
from invokemodels.exceptions import (
    InvalidParameterValueError,
    InvalidRequestContentError,
    render_value,
)

HUGE = pytest.param(10**400, id="10**400")
RID = "8f0e5b52-0c8e-4d6a-9a43-1a2b3c4d5e6f"


class Custom(BaseException):
    """A BaseException that is neither an Exception nor SystemExit."""


class UnprintableError(Exception):
    def __str__(self) -> str:
        raise RuntimeError("__str__ failed")


class UnprintableExit(Exception):
    def __str__(self) -> str:
        raise SystemExit(9)


class BrokenItems(dict):  # type: ignore[type-arg]
    def items(self) -> Any:
        raise RuntimeError("items() failed")


class ItemsInterrupt(dict):  # type: ignore[type-arg]
    def items(self) -> Any:
        raise KeyboardInterrupt


def attempt(handler: Any, event: Any = None, **kwargs: Any) -> Any:
    fn = Function(name="f", handler=handler, **kwargs)
    return fn.run_attempt(encode_payload(event), request_id=RID, clock=VirtualClock())


def raising(exc: BaseException) -> Any:
    def handler(event: Any, context: Any) -> Any:
        raise exc

    return handler


def returning(value: Any) -> Any:
    return lambda event, context: value


def exit_document(reason: str) -> dict[str, str]:
    return {"errorType": "Runtime.ExitError", "errorMessage": f"RequestId: {RID} Error: {reason}"}


# -- the Python runtime's answer, case by case -------------------------------------------------


@pytest.mark.parametrize(
    ("exc", "reason"),
    [
        (KeyboardInterrupt(), "Runtime exited with error: signal: interrupt"),
        (GeneratorExit(), "Runtime exited with error: exit status 1"),
        (Custom("boom"), "Runtime exited with error: exit status 1"),
        (SystemExit(3), "Runtime exited with error: exit status 3"),
        (UnprintableError(), "Runtime exited with error: exit status 1"),
        (UnprintableExit(), "Runtime exited with error: exit status 9"),
    ],
)
def test_a_base_exception_or_an_unprintable_one_ends_the_runtime(
    exc: BaseException, reason: str
) -> None:
    result = attempt(raising(exc))
    assert (result.function_error, result.error_type) == ("Unhandled", "Runtime.ExitError")
    assert result.response() == exit_document(reason)


@pytest.mark.parametrize(
    ("value", "document"),
    [
        (
            BrokenItems(a=1),
            {
                "errorMessage": "Unable to marshal response: items() failed",
                "errorType": "Runtime.MarshalError",
                "requestId": RID,
                "stackTrace": [],
            },
        ),
        (ItemsInterrupt(a=1), exit_document("Runtime exited with error: signal: interrupt")),
    ],
)
def test_a_return_value_whose_serialization_raises(value: Any, document: Any) -> None:
    result = attempt(returning(value))
    assert result.function_error == "Unhandled"
    assert result.response() == document


def deep(depth: int) -> Any:
    value: Any = {}
    for _ in range(depth):
        value = {"a": value}
    return value


def test_a_deeply_nested_return_value_is_a_marshal_error_not_a_cycle() -> None:
    result = attempt(returning(deep(5000)))
    document = result.response()
    assert document["errorType"] == "Runtime.MarshalError"
    message = document["errorMessage"]
    assert message.startswith("Unable to marshal response: maximum recursion depth")


def test_a_circular_return_value_is_still_a_circular_reference() -> None:
    cycle: list[Any] = []
    cycle.append([cycle])
    result = attempt(returning(cycle))
    assert result.response()["errorMessage"] == (
        "Unable to marshal response: Circular reference detected"
    )


def test_a_request_too_deep_for_the_runtime_parser_is_an_unmarshal_error() -> None:
    fn = Function(name="f", handler=returning(1))
    text = '{"a": ' * 5000 + "{}" + "}" * 5000
    result = fn.run_attempt(text, request_id=RID, clock=VirtualClock())
    document = result.response()
    assert (result.error_type, document["errorType"]) == ("Runtime.UnmarshalError",) * 2
    assert document["errorMessage"].startswith("Unable to unmarshal input: maximum recursion depth")
    assert (document["requestId"], document["stackTrace"]) == (RID, [])


# -- deep payloads at the Invoke boundary -------------------------------------------------------


@pytest.mark.parametrize("payload", [deep(1000), ("[" * 1000 + "]" * 1000).encode()])
def test_a_payload_nested_too_deeply_is_a_400_that_says_so(payload: Any) -> None:
    with pytest.raises(InvalidRequestContentError) as info:
        encode_payload(payload)
    assert "nested too deeply" in info.value.message
    assert "Circular" not in info.value.message


def test_a_shared_but_acyclic_deep_payload_is_not_called_circular() -> None:
    shared: Any = []
    for _ in range(1200):
        shared = [shared, shared]  # a DAG: walking it without memory would never end
    with pytest.raises(InvalidRequestContentError, match="nested too deeply"):
        encode_payload(shared)


def test_a_circular_payload_is_a_circular_reference() -> None:
    cycle: dict[str, Any] = {}
    cycle["self"] = {"again": cycle}
    with pytest.raises(InvalidRequestContentError, match="Circular reference detected"):
        encode_payload(cycle)


def test_a_payload_whose_items_raise_is_a_400() -> None:
    with pytest.raises(InvalidRequestContentError, match="items\\(\\) failed"):
        encode_payload(BrokenItems(a=1))


def test_a_deep_payload_is_refused_by_the_sync_invoker_and_logged() -> None:
    fn = Function(name="f", handler=returning(1))
    invoker = RequestResponseInvoker(fn, seed=1)
    with pytest.raises(InvalidRequestContentError):
        invoker.invoke(deep(1000))
    assert (fn.in_flight, [i.status_code for i in invoker.history]) == (0, [400])


# -- duration and context.spend ------------------------------------------------------------------


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, -1, HUGE, True, "1"])
def test_a_duration_the_model_cannot_run_is_refused_at_construction(value: Any) -> None:
    with pytest.raises(InvalidParameterValueError) as info:
        Function(name="f", handler=returning(1), duration=value)
    assert info.value.parameter == "duration"
    assert str(info.value).startswith(
        f"duration={render_value(value)} is invalid: must be a finite number"
    )


@pytest.mark.parametrize("value", [math.inf, HUGE, 1e300])
def test_a_duration_callable_past_any_timeout_is_a_timeout(value: Any) -> None:
    result = attempt(returning(1), duration=lambda event: value, timeout=2)
    assert (result.error_type, result.duration) == ("Sandbox.Timedout", 2.0)


@pytest.mark.parametrize("value", [math.nan, -0.5, "3", None, True])
def test_a_duration_callable_returning_garbage_names_duration_and_the_value(value: Any) -> None:
    ran: list[Any] = []
    fn = Function(name="f", handler=lambda e, c: ran.append(e), duration=lambda event: value)
    with pytest.raises(InvalidParameterValueError) as info:
        fn.run_attempt("{}", request_id=RID, clock=VirtualClock())
    assert (info.value.parameter, info.value.value is value or math.isnan(value)) == (
        "duration",
        True,
    )
    assert ran == []  # refused before the handler runs


def test_a_duration_callable_that_raises_names_duration() -> None:
    fn = Function(name="f", handler=returning(1), duration=lambda event: event["missing"])
    with pytest.raises(InvalidParameterValueError, match="duration callable raised KeyError"):
        fn.run_attempt("{}", request_id=RID, clock=VirtualClock())


@pytest.mark.parametrize(
    ("seconds", "error_type"),
    [(math.nan, "ValueError"), (math.inf, "ValueError"), (-1.0, "ValueError"),
     pytest.param(10**400, "ValueError", id="10**400"), ("1", "TypeError"), (None, "TypeError")],
)  # fmt: skip
def test_bad_spend_values_are_the_handlers_error(seconds: Any, error_type: str) -> None:
    result = attempt(lambda event, context: context.spend(seconds))
    assert result.error_type == error_type
    assert "context.spend()" in result.response()["errorMessage"]


def test_remaining_time_stays_at_zero_after_huge_spends() -> None:
    def handler(event: Any, context: Any) -> Any:
        context.spend(1e308)
        context.spend(1e308)  # the total is inf
        return context.get_remaining_time_in_millis()

    result = attempt(handler, timeout=900)
    assert result.error_type == "Sandbox.Timedout"


def test_a_bad_duration_mid_run_gives_back_the_slot_and_the_event() -> None:
    broken = {"on": True}

    def duration(event: Any) -> float:
        return math.nan if broken["on"] else 1.0

    sched = Scheduler()
    fn = Function(name="f", handler=returning("ok"), duration=duration)
    invoker = EventInvoker(fn, scheduler=sched, seed=1)
    rid = invoker.invoke({}).request_id
    with pytest.raises(InvalidParameterValueError, match="duration=nan"):
        sched.run_until_idle()
    assert (fn.in_flight, invoker.pending, invoker.metrics.invocations) == (0, 1, 0)
    broken["on"] = False
    sched.run_until_idle()
    outcome = invoker.outcome(rid)
    assert (outcome.kind, outcome.approximate_invoke_count) == (EventOutcomeKind.SUCCEEDED, 1)


# -- both clocks agree -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "exc", [KeyboardInterrupt(), GeneratorExit(), Custom(), SystemExit(4), UnprintableError()]
)
def test_the_virtual_and_the_real_clock_report_the_same_outcome(exc: BaseException) -> None:
    virtual = EventInvoker(
        Function(name="f", handler=raising(exc)),
        seed=1,
        config=EventInvokeConfig(maximum_retry_attempts=0),
    )
    virtual.invoke({})
    virtual.scheduler.run_until_idle()
    with BackgroundEventInvoker(
        Function(name="f", handler=raising(exc)),
        time_scale=0.001,
        seed=1,
        config=EventInvokeConfig(maximum_retry_attempts=0),
    ) as real:
        real.invoke({})
    (v,), (r,) = virtual.outcomes, real.outcomes
    assert v.last is not None
    assert r.last is not None
    assert (v.kind, v.last.error_type) == (r.kind, r.last.error_type)
    assert (
        json.loads(v.last.payload)["errorMessage"].split(" Error: ")[1]
        == (json.loads(r.last.payload)["errorMessage"].split(" Error: ")[1])
    )


# -- the property: any exception kind, one outcome each, the slot always comes back ------------


def _exception_kinds() -> st.SearchStrategy[BaseException]:
    return st.one_of(
        st.sampled_from([ValueError, KeyError, RuntimeError, RecursionError, MemoryError]).map(
            lambda kind: kind("x")
        ),
        st.one_of(st.none(), st.integers(-300, 300), st.booleans(), st.text(max_size=4)).map(
            SystemExit
        ),
        st.sampled_from([KeyboardInterrupt(), GeneratorExit(), Custom(), UnprintableError()]),
        st.just(UnprintableExit()),
        st.text(max_size=6).map(ValueError),
    )


behaviours = st.one_of(
    st.none(),
    _exception_kinds(),
    st.sampled_from(["broken-items", "interrupting-items", "nan", math.inf]),
)


def _handler_for(behaviour: Any) -> Any:
    def handler(event: Any, context: Any) -> Any:
        if isinstance(behaviour, BaseException):
            raise behaviour
        if behaviour == "broken-items":
            return BrokenItems(a=1)
        if behaviour == "interrupting-items":
            return ItemsInterrupt(a=1)
        if behaviour == "nan":
            return float(behaviour)
        if behaviour == math.inf:
            context.spend(math.inf)  # a ValueError in the handler
        return {"ok": True}

    return handler


@settings(max_examples=60)
@given(st.lists(behaviours, min_size=1, max_size=6), st.integers(1, 3))
def test_every_event_ends_in_exactly_one_outcome_and_the_slot_comes_back(
    plan: list[Any], reserved: int
) -> None:
    sched = Scheduler()
    calls = iter(plan)

    def handler(event: Any, context: Any) -> Any:
        return _handler_for(next(calls, None))(event, context)

    fn = Function(name="f", handler=handler, reserved_concurrency=reserved, duration=0.5)
    events = EventInvoker(
        fn, scheduler=sched, seed=1, config=EventInvokeConfig(maximum_retry_attempts=0)
    )
    ids = [events.invoke({"n": n}).request_id for n in range(len(plan))]
    sched.run_until_idle()
    assert sorted(o.request_id for o in events.outcomes) == sorted(ids)
    assert (events.pending, fn.in_flight) == (0, 0)
    # A later event still runs: nothing was left holding a slot.
    last = events.invoke({"n": "after"}).request_id
    sched.run_until_idle()
    assert events.outcome(last).kind is EventOutcomeKind.SUCCEEDED
    assert fn.in_flight == 0


@settings(max_examples=60)
@given(behaviours)
def test_every_sync_call_is_answered_and_the_slot_comes_back(behaviour: Any) -> None:
    plan = [behaviour]

    def handler(event: Any, context: Any) -> Any:
        return _handler_for(plan.pop() if plan else "after")(event, context)

    fn = Function(name="f", handler=handler, reserved_concurrency=1)
    invoker = RequestResponseInvoker(fn, seed=1)
    response = invoker.invoke({})
    assert response.status_code == 200
    document = response.json()
    if response.function_error is not None:
        assert isinstance(document["errorType"], str)
        assert isinstance(document["errorMessage"], str)
    assert fn.in_flight == 0
    after = invoker.invoke({})  # the slot came back: a second call is not throttled
    assert (after.function_error, after.json(), fn.in_flight) == (None, {"ok": True}, 0)


def test_a_dead_letter_queue_failure_does_not_lose_the_outcome() -> None:
    dlq = QueueTarget(name="dlq")
    fn = Function(name="f", handler=raising(Custom()))
    invoker = EventInvoker(
        fn, seed=1, dead_letter=dlq, config=EventInvokeConfig(maximum_retry_attempts=0)
    )
    invoker.invoke({})
    invoker.scheduler.run_until_idle()
    (message,) = dlq.messages
    assert message.attributes["ErrorMessage"]["StringValue"].endswith(
        "Error: Runtime exited with error: exit status 1"
    )
