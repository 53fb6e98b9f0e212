"""attrs validators that fail the way AWS's API does: naming the parameter, value and range."""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Callable, Collection
from typing import Any

import attrs

from .exceptions import InvalidParameterValueError

__all__ = ["check_range", "in_range", "one_of", "seconds", "seconds_or_none"]


def check_range(
    parameter: str,
    value: Any,
    low: float,
    high: float,
    *,
    special: Collection[Any] = (),
    integer: bool = False,
) -> None:
    """Raise `InvalidParameterValueError` unless ``low <= value <= high`` (or in ``special``)."""
    if value in special and not isinstance(value, bool):
        return
    ok = (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and not (isinstance(value, float) and math.isnan(value))
        and low <= value <= high
        and (not integer or float(value).is_integer())
    )
    if not ok:
        kind = "an integer" if integer else "a number"
        extra = f" or {', '.join(map(repr, special))}" if special else ""
        raise InvalidParameterValueError(
            parameter, value, f"must be {kind} between {_show(low)} and {_show(high)}{extra}"
        )


def _show(number: float) -> str:
    """A range bound as AWS writes it: 1209600, not 1.2096e+06."""
    if isinstance(number, int) or (math.isfinite(number) and number.is_integer()):
        return str(int(number))
    return f"{number:g}"


def in_range(
    parameter: str,
    low: float,
    high: float,
    *,
    special: Collection[Any] = (),
    integer: bool = False,
    optional: bool = False,
) -> Callable[[Any, Any, Any], None]:
    """An attrs validator for `check_range`; ``optional`` lets None through (None = no limit)."""

    def validate(_instance: Any, _attribute: Any, value: Any) -> None:
        if optional and value is None:
            return
        check_range(parameter, value, low, high, special=special, integer=integer)

    return validate


def one_of(parameter: str, allowed: Collection[Any]) -> Callable[[Any, Any, Any], None]:
    """An attrs validator: the value must be one of ``allowed``."""

    def validate(_instance: Any, _attribute: Any, value: Any) -> None:
        if value not in allowed:
            choices = " | ".join(map(str, allowed))
            raise InvalidParameterValueError(parameter, value, f"must be one of {choices}")

    return validate


def seconds(value: Any) -> Any:
    """attrs converter: accept `datetime.timedelta` at the boundary, keep numbers as they are."""
    if isinstance(value, _dt.timedelta):
        return value.total_seconds()
    return value


def seconds_or_none(value: Any) -> Any:
    """Like `seconds`, letting None (no limit) through."""
    return None if value is None else seconds(value)


# Re-exported for modules that build validators next to attrs fields.
validators = attrs.validators
