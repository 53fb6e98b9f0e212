"""Hot-path helpers of the core's runtime: building small frozen values without attrs' ``__init__``.

An ``attrs.frozen`` class with slots sets every field through ``object.__setattr__`` and
parses its arguments on each call; a model that builds one per event (the 202 response of
an ``Event`` invoke, a retry policy's `Failure`) pays that each time.  `positional_maker`
generates, once, a constructor that stores the fields straight into their slots.  It is
only for classes whose fields have no validator, converter or ``__attrs_post_init__``
(checked when the maker is made), so the value it builds is the one ``cls(*values)`` builds.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import attrs

__all__ = ["positional_maker"]

T = TypeVar("T")


def positional_maker(cls: type[T]) -> Callable[..., T]:
    """A constructor taking every field of ``cls`` positionally, in declaration order.

    ``cls`` must be a slotted attrs class whose fields have no validator, no converter
    and no ``__attrs_post_init__`` (`TypeError` otherwise): the maker skips ``__init__``
    and would skip them too.  ``maker(*values) == cls(*values)`` for every value.
    """
    fields = attrs.fields(cls)  # type: ignore[arg-type]  # any attrs class
    if (
        "__slots__" not in cls.__dict__
        or hasattr(cls, "__attrs_post_init__")
        or hasattr(cls, "__attrs_pre_init__")
        or any(f.validator is not None or f.converter is not None for f in fields)
    ):
        msg = f"{cls.__name__}: a positional maker needs slots and fields without checks"
        raise TypeError(msg)
    names = [f.name for f in fields]
    namespace: dict[str, Any] = {"new": object.__new__, "cls": cls}
    lines = [f"def make({', '.join(names)}):", "    obj = new(cls)"]
    for index, name in enumerate(names):
        namespace[f"set{index}"] = cls.__dict__[name].__set__
        lines.append(f"    set{index}(obj, {name})")
    lines.append("    return obj")
    # Generated from the class's own field names, as attrs generates its __init__.
    exec("\n".join(lines), namespace)
    make: Callable[..., T] = namespace["make"]
    make.__doc__ = f"``{cls.__name__}(*values)`` without attrs' ``__init__``."
    return make
