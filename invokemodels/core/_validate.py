"""attrs validators that fail the way AWS's API does: naming the parameter, value and range."""

from __future__ import annotations

import datetime as _dt
import math
import random
import re
from collections.abc import Callable, Collection, Mapping
from typing import Any, Final

import attrs

from invokemodels.exceptions import InvalidParameterValueError, clip_text, render_value

__all__ = [
    "ACCOUNT_ID",
    "REGION",
    "attribute_of",
    "boolean",
    "callable_value",
    "check_implements",
    "check_range",
    "clip_text",
    "implements",
    "in_range",
    "instance_of",
    "is_random",
    "mapping",
    "one_of",
    "render_value",
    "seconds",
    "seconds_or_none",
    "seeded",
    "text",
]

Validator = Callable[[Any, Any, Any], None]

REGION: Final = re.compile(r"[a-z]{2}(-gov)?-[a-z]+-[0-9]")
"""A Region name such as ``us-east-1`` or ``us-gov-west-1`` (`text` matches it whole)."""

ACCOUNT_ID: Final = re.compile(r"[0-9]{12}")
"""A 12-digit AWS account id."""

# The largest float is below 2 ** 1024: a longer int cannot be used as seconds or a count.
_FLOAT_BITS: Final = 1024


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
        and not (isinstance(value, int) and value.bit_length() > _FLOAT_BITS)
        and low <= value <= high
        and (not integer or float(value).is_integer())
    )
    if not ok:
        kind = "an integer" if integer else "a number"
        extra = f" or {', '.join(map(render_value, special))}" if special else ""
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


def boolean(parameter: str) -> Validator:
    """An attrs validator: the value must be a real bool (a string ``"false"`` is not)."""

    def validate(_instance: Any, _attribute: Any, value: Any) -> None:
        if not isinstance(value, bool):
            raise InvalidParameterValueError(parameter, value, "must be True or False")

    return validate


def text(
    parameter: str,
    pattern: re.Pattern[str] | None = None,
    allowed: str = "must be a string",
    *,
    optional: bool = False,
) -> Validator:
    """An attrs validator: a string (all of it matching ``pattern``); ``allowed`` says what."""

    def validate(_instance: Any, _attribute: Any, value: Any) -> None:
        if optional and value is None:
            return
        if not isinstance(value, str) or (pattern is not None and not pattern.fullmatch(value)):
            raise InvalidParameterValueError(
                parameter, value, f"{allowed} or None" if optional else allowed
            )

    return validate


def instance_of(
    parameter: str, kind: type | tuple[type, ...], what: str, *, optional: bool = False
) -> Validator:
    """An attrs validator: an instance of ``kind`` (``what`` names it in the message)."""

    def validate(_instance: Any, _attribute: Any, value: Any) -> None:
        if optional and value is None:
            return
        if not isinstance(value, kind):
            raise InvalidParameterValueError(
                parameter, value, f"must be {what}{' or None' if optional else ''}"
            )

    return validate


def callable_value(parameter: str, what: str, *, optional: bool = False) -> Validator:
    """An attrs validator: a callable (``what`` describes its signature)."""

    def validate(_instance: Any, _attribute: Any, value: Any) -> None:
        if optional and value is None:
            return
        if not callable(value):
            raise InvalidParameterValueError(
                parameter, value, f"must be {what}{' or None' if optional else ''}"
            )

    return validate


def mapping(parameter: str, *, optional: bool = False) -> Validator:
    """An attrs validator: a mapping (a dict)."""
    return instance_of(parameter, Mapping, "a mapping", optional=optional)


def attribute_of(value: Any, name: str) -> Any:
    """``getattr(value, name, None)``, also None when the attribute itself raises."""
    try:
        return getattr(value, name, None)
    except Exception:
        return None


def check_implements(
    parameter: str,
    value: Any,
    protocol: str,
    methods: Collection[str],
    attributes: Collection[str] = (),
) -> None:
    """Raise `InvalidParameterValueError` unless ``value`` has the protocol's members.

    ``methods`` must be callable; ``attributes`` (properties such as ``arn``) present.
    """
    missing = [name for name in methods if not callable(attribute_of(value, name))]
    missing += [name for name in attributes if attribute_of(value, name) is None]
    if missing:
        members = ", ".join([*attributes, *(f"{name}()" for name in methods)])
        raise InvalidParameterValueError(
            parameter, value, f"must implement {protocol} ({members}); missing {', '.join(missing)}"
        )


def implements(
    parameter: str,
    protocol: str,
    methods: Collection[str],
    attributes: Collection[str] = (),
    *,
    optional: bool = False,
) -> Validator:
    """An attrs validator for `check_implements`; ``optional`` lets None through."""

    def validate(_instance: Any, _attribute: Any, value: Any) -> None:
        if optional and value is None:
            return
        check_implements(parameter, value, protocol, methods, attributes)

    return validate


def seeded(value: Any) -> random.Random:
    """``random.Random(value)``, refusing what it cannot take as a seed with a named error.

    For the default factory of an ``rng`` field: attrs computes defaults before any
    validator runs, so the ``seed`` must be checked here.
    """
    if value is not None and not isinstance(value, (int, float, str, bytes, bytearray)):
        raise InvalidParameterValueError(
            "seed", value, "must be None, an int, a float, a str or bytes"
        )
    return random.Random(value)


def is_random(_instance: Any, attribute: Any, value: Any) -> None:
    """An attrs validator: a `random.Random` (seeded by the caller)."""
    if not isinstance(value, random.Random):
        raise InvalidParameterValueError(attribute.name, value, "must be a random.Random")


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
