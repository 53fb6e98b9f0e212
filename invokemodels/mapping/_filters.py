"""Event filtering (``FilterCriteria``): Lambda's subset of EventBridge patterns, compiled once.

An event source mapping applies its ``FilterCriteria`` to every record before
the record joins a batch.  A record is kept when *any* filter matches it
(filters are ORed); a filter matches when *every* field it names matches
(fields are ANDed); a field matches when *any* of its listed rules matches
(rules are ORed).  Patterns are validated and compiled into matcher closures
when the criteria are created, so matching a record costs a few dictionary
lookups and comparisons.

What a pattern is matched against is a *view* of the record: the record as
AWS sends it, with the source's data key decoded (see `filter_view` and
`parse_data`): ``body`` for SQS (parsed when it is a JSON object or array,
else the raw string), ``data`` for Kinesis (base64-decoded, then the same),
and ``dynamodb`` for DynamoDB Streams (already JSON).

Reference: lambda-semantics 4.3; EventBridge pattern rules for what Lambda's
table leaves implicit.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, Final

import attrs

from invokemodels.core._validate import in_range, one_of
from invokemodels.exceptions import (
    RENDER_LIMIT,
    InvalidParameterValueError,
    clip_text,
    render_value,
)

__all__ = [
    "DEFAULT_MAX_FILTERS",
    "MAX_FILTERS_QUOTA",
    "PATTERN_MAX_LENGTH",
    "FilterCriteria",
    "JsonFloat",
    "filter_view",
    "parse_data",
]

PATTERN_MAX_LENGTH: Final = 4096
"""``FilterCriteria.Filters[].Pattern`` is at most 4096 characters (``BOTO`` ``Pattern`` shape)."""

DEFAULT_MAX_FILTERS: Final = 5
"""Filters per event source mapping under the default quota."""

MAX_FILTERS_QUOTA: Final = 10
"""Filters per event source mapping with the largest quota increase AWS grants."""

Matcher = Callable[[Any], bool]


# --- JSON with exact numbers


class JsonFloat(float):
    """A JSON number parsed as a float that remembers its exact text.

    Lambda compares numbers in equality rules by their string representation
    ("300, 300.0, and 3.0e2 are not considered equal"), so `parse_data` and
    pattern parsing keep the text: ``JsonFloat("3.0e2").text == "3.0e2"``,
    while arithmetic and ``numeric`` rules see the float value 300.0.
    """

    __slots__ = ("text",)
    text: str

    def __new__(cls, text: str) -> JsonFloat:
        self = float.__new__(cls, text)
        self.text = text
        return self


def _parse_int(text: str) -> Any:
    # "-0" is an integer in JSON whose text differs from int("-0"); keep it.
    return JsonFloat(text) if text == "-0" else int(text)


def _reject_constant(name: str) -> Any:
    # Python's json accepts NaN/Infinity; JSON (and AWS) do not.
    msg = f"{name} is not valid JSON"
    raise ValueError(msg)


_DECODER = json.JSONDecoder(
    parse_float=JsonFloat, parse_int=_parse_int, parse_constant=_reject_constant
)


def parse_data(data: str | bytes | bytearray) -> Any:
    """Decode a record's data (SQS ``body``, Kinesis ``data``) the way event filtering sees it.

    Returns the parsed value when ``data`` is a JSON object or array (numbers
    keep their exact text, see `JsonFloat`), else ``data`` unchanged.  A
    plain-text body stays a string, which only rule lists can match
    (``{"body": [{"prefix": "Hello"}]}``); a JSON body is matched by an object
    pattern (``{"body": {"kind": ["order"]}}``).  ``bytes`` are decoded as
    UTF-8 first; bytes that are not UTF-8 are returned unchanged and match no
    value rule.

    A body that is a JSON *scalar* (``123``, ``true``, ``"text"``) is kept as
    the plain string it is: Lambda's format check ("valid JSON" vs "plain
    string") is not documented for scalars, and treating them as text keeps
    ``{"body": ["123"]}`` working. [UNCONFIRMED]
    """
    if isinstance(data, (bytes, bytearray)):
        try:
            text = bytes(data).decode("utf-8")
        except UnicodeDecodeError:
            return data
    else:
        text = data
    start = text.lstrip(" \t\n\r")[:1]
    if start in ("{", "["):
        try:
            return _DECODER.decode(text)
        except ValueError:
            pass
    return data if isinstance(data, str) else text


def filter_view(record: Mapping[str, Any]) -> dict[str, Any]:
    """The view of an event record that ``FilterCriteria`` patterns are matched against.

    - SQS (``eventSource`` ``aws:sqs``): the record with ``body`` replaced by
      ``parse_data(body)``; the metadata keys (``attributes``,
      ``messageAttributes``, ``eventSource``, ...) stay as they are.
    - Kinesis (``aws:kinesis``): the fields of the record's ``kinesis`` object
      (``partitionKey``, ``sequenceNumber``, ``approximateArrivalTimestamp``,
      ``kinesisSchemaVersion``) with ``data`` base64-decoded and parsed, as the
      2022 developer guide's example ``{"partitionKey": ["1"], "data": {...}}``
      filters them.
    - DynamoDB Streams (``aws:dynamodb``): the record as it is (``dynamodb``
      is JSON already; ``eventName`` and the other keys are metadata).

    The current developer guide says SQS and Kinesis mappings "only support
    filtering on the" data key; the metadata stays in the view so patterns
    written for the 2022 behaviour keep working. [UNCONFIRMED]
    Raises `InvalidParameterValueError` for another ``eventSource``.
    """
    source = record.get("eventSource")
    if source == "aws:sqs":
        view = dict(record)
        view["body"] = parse_data(record.get("body", ""))
        return view
    if source == "aws:kinesis":
        view = dict(record.get("kinesis", {}))
        data = view.get("data", "")
        try:
            view["data"] = parse_data(base64.b64decode(data, validate=True))
        except (binascii.Error, ValueError, TypeError):
            view["data"] = data
        return view
    if source == "aws:dynamodb":
        return dict(record)
    raise InvalidParameterValueError(
        "eventSource", source, "must be one of aws:sqs | aws:kinesis | aws:dynamodb"
    )


# --- value helpers

_MISSING: Final = object()
_NO_TOKEN: Final = object()
_EMPTY: Final[dict[str, Any]] = {}
_NULL: Final = ("null",)
_TRUE: Final = ("bool", True)
_FALSE: Final = ("bool", False)


def _token(value: Any) -> Any:
    """A hashable key for exact matching of a non-string leaf by its JSON text."""
    if value is None:
        return _NULL
    if value is True:
        return _TRUE
    if value is False:
        return _FALSE
    if isinstance(value, JsonFloat):
        return ("number", value.text)
    if isinstance(value, float):
        return ("number", float.__repr__(value))
    if isinstance(value, int):
        return ("number", int.__repr__(value))
    return _NO_TOKEN


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


_NUMBER_TYPES: Final = frozenset({int, float, JsonFloat})
"""Exact types of JSON numbers in a view (``bool`` is not one), for the hot ``numeric`` tests."""


def _leaves(values: list[Any]) -> Iterator[Any]:
    """The leaf values of an event array, nested arrays flattened, objects skipped."""
    for value in values:
        if isinstance(value, list):
            yield from _leaves(value)
        elif not isinstance(value, dict):
            yield value


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


# --- the pattern compiler

_DOCUMENTED_OPERATORS: Final = ("anything-but", "exists", "numeric", "prefix")
_EXTENSION_OPERATORS: Final = ("equals-ignore-case", "suffix", "wildcard")
_OPERATOR_NAMES: Final = frozenset(_DOCUMENTED_OPERATORS + _EXTENSION_OPERATORS)
_DATA_KEYS: Final = frozenset({"body", "data", "dynamodb"})
# The data key that only an object pattern may name, per source: streams refuse a rule list.
_OBJECT_ONLY_KEY: Final = {"aws:sqs": None, "aws:kinesis": "data", "aws:dynamodb": "dynamodb"}
_SOURCES: Final = tuple(_OBJECT_ONLY_KEY)
_FLOAT_MAX: Final = 1.7976931348623157e308
_LOWER_BOUNDS: Final = {">": False, ">=": True}
_UPPER_BOUNDS: Final = {"<": False, "<=": True}


class _PatternError(Exception):
    def __init__(self, where: str, problem: str) -> None:
        where = clip_text(where) if where else "the top level"
        super().__init__(f"{clip_text(problem, 2 * RENDER_LIMIT)} (at {where})")


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


@attrs.define
class _Compiler:
    """Turns one parsed pattern into a matcher closure, or raises `_PatternError`."""

    extensions: bool
    object_only_key: str | None = None
    data_keys: frozenset[str] = _DATA_KEYS

    def extension(self, name: str, where: str) -> None:
        if not self.extensions:
            raise _PatternError(
                where,
                f"{render_value(name)} is an EventBridge operator whose support by Lambda event "
                "filtering is unconfirmed, and allow_eventbridge_extensions is False",
            )

    # -- objects: AND over fields, $or groups --------------------------------------------

    def node(
        self, pattern: dict[str, Any], path: str, *, in_or: bool = False, label: str = ""
    ) -> Matcher:
        """An object: every field ANDed with every ``$or`` group.

        ``path`` is the key path of the object (empty at the top level, where
        the data keys live); ``label`` replaces it in messages inside ``$or``.
        """
        if not pattern:
            raise _PatternError(label or path, "empty objects are not allowed")
        fields: list[tuple[str, Matcher]] = []
        groups: list[tuple[Matcher, ...]] = []
        for key, value in pattern.items():
            where = _join(label or path, key)
            if key == "$or":
                self.extension("$or", where)
                groups.append(self.or_group(value, path, where))
                continue
            if in_or and key in _OPERATOR_NAMES:
                raise _PatternError(
                    where,
                    f"{render_value(key)} is an operator name and cannot be a field name "
                    "inside $or",
                )
            if isinstance(value, dict):
                fields.append((key, self.nested(self.node(value, where, in_or=in_or))))
            elif isinstance(value, list):
                data_key = not path and key in self.data_keys
                if data_key and key == self.object_only_key:
                    raise _PatternError(
                        where,
                        f"the pattern for the stream data key {render_value(key)} must be a JSON "
                        "object (Lambda rejects a non-JSON data pattern when the mapping "
                        "is created)",
                    )
                fields.append((key, self.leaf(value, where, plain=data_key)))
            else:
                raise _PatternError(
                    where,
                    f"a field's rules must be an array (or an object for nested fields), "
                    f"not {_json_type(value)}: write [{clip_text(json.dumps(value))}]",
                )
        return _and(tuple(fields), tuple(groups))

    def or_group(self, value: Any, path: str, where: str) -> tuple[Matcher, ...]:
        if not isinstance(value, list) or len(value) < 2:
            raise _PatternError(where, "$or must be an array of at least 2 objects")
        branches = []
        for index, branch in enumerate(value):
            if not isinstance(branch, dict):
                raise _PatternError(
                    f"{where}[{index}]", f"$or entries must be objects, not {_json_type(branch)}"
                )
            branches.append(self.node(branch, path, in_or=True, label=f"{where}[{index}]"))
        return tuple(branches)

    @staticmethod
    def nested(node: Matcher) -> Matcher:
        empty = node(_EMPTY)

        def field(value: Any) -> bool:
            if type(value) is dict:
                return node(value)
            if value is _MISSING:
                return empty
            if isinstance(value, dict):
                return node(value)
            if isinstance(value, list):
                if not value:
                    return empty
                return any(field(item) for item in value if isinstance(item, (dict, list)))
            # A present scalar under a nested pattern is a format mismatch
            # (plain-text body, JSON pattern): Lambda drops such records.
            return False

        return field

    # -- arrays of rules: OR ---------------------------------------------------------------

    def leaf(self, rules: list[Any], where: str, *, plain: bool = False) -> Matcher:
        if not rules:
            raise _PatternError(where, "empty arrays are not allowed: list at least one rule")
        strings: set[str] = set()
        tokens: set[Any] = set()
        tests: list[Matcher] = []
        exists = False
        absent = False
        for index, rule in enumerate(rules):
            at = f"{where}[{index}]"
            if isinstance(rule, str):
                strings.add(rule)
            elif rule is None or isinstance(rule, (bool, int, float)):
                tokens.add(_token(rule))
            elif isinstance(rule, dict):
                test = self.operator(rule, at)
                if test is True:
                    exists = True
                elif test is False:
                    absent = True
                else:
                    tests.append(test)
            else:
                raise _PatternError(
                    at,
                    "a rule must be a string, number, true, false, null or an operator object, "
                    f"not {_json_type(rule)}",
                )
        return _field(frozenset(strings), frozenset(tokens), tuple(tests), exists, absent, plain)

    # -- operator objects -------------------------------------------------------------------

    def operator(self, rule: dict[str, Any], at: str) -> Matcher | bool:
        """A leaf test, or True / False for ``exists: true`` / ``exists: false``."""
        if len(rule) != 1:
            raise _PatternError(
                at, f"an operator object must have exactly one key, got {sorted(rule)}"
            )
        ((name, arg),) = rule.items()
        where = f"{at}.{name}"
        if name == "exists":
            if not isinstance(arg, bool):
                raise _PatternError(where, f"exists must be true or false, not {json.dumps(arg)}")
            return arg
        if name == "prefix":
            if isinstance(arg, dict):
                self.extension("prefix with equals-ignore-case", where)
                text = self.ignore_case_arg(arg, where).lower()
                return lambda v: isinstance(v, str) and v.lower().startswith(text)
            prefix = self.string(arg, where)
            return lambda v: isinstance(v, str) and v.startswith(prefix)
        if name == "suffix":
            self.extension(name, where)
            if isinstance(arg, dict):
                text = self.ignore_case_arg(arg, where).lower()
                return lambda v: isinstance(v, str) and v.lower().endswith(text)
            suffix = self.string(arg, where)
            return lambda v: isinstance(v, str) and v.endswith(suffix)
        if name == "equals-ignore-case":
            self.extension(name, where)
            folded = self.string(arg, where).lower()
            return lambda v: isinstance(v, str) and v.lower() == folded
        if name == "wildcard":
            self.extension(name, where)
            return _wildcard(self.string(arg, where), where)
        if name == "numeric":
            return self.numeric(arg, where)
        if name == "anything-but":
            return self.anything_but(arg, where)
        allowed = ", ".join(_DOCUMENTED_OPERATORS)
        if self.extensions:
            allowed += "; EventBridge extensions: " + ", ".join(_EXTENSION_OPERATORS)
        raise _PatternError(at, f"unknown operator {render_value(name)}; allowed: {allowed}")

    @staticmethod
    def string(arg: Any, where: str) -> str:
        if not isinstance(arg, str):
            raise _PatternError(where, f"must be a string, not {_json_type(arg)}")
        return arg

    def ignore_case_arg(self, arg: dict[str, Any], where: str) -> str:
        if list(arg) != ["equals-ignore-case"]:
            raise _PatternError(
                where,
                "the only operator allowed here is equals-ignore-case, got "
                f"{render_value(sorted(arg))}",
            )
        return self.string(arg["equals-ignore-case"], f"{where}.equals-ignore-case")

    def numeric(self, arg: Any, where: str) -> Matcher:
        shape = 'an array like ["=", 5], [">", 0], ["<=", 9] or [">", 0, "<=", 5]'
        if not isinstance(arg, list) or len(arg) not in (2, 4):
            raise _PatternError(where, f"numeric must be {shape}")
        op = arg[0]
        value = self.number(arg[1], f"{where}[1]")
        if op == "=":
            if len(arg) != 2:
                raise _PatternError(where, f"numeric equality takes one number: {shape}")
            return lambda v: type(v) in _NUMBER_TYPES and v == value
        if op in _UPPER_BOUNDS:
            if len(arg) != 2:
                raise _PatternError(
                    where, f"a range must start with its lower bound ('>' or '>='): {shape}"
                )
            return _range(None, False, value, _UPPER_BOUNDS[op])
        if op not in _LOWER_BOUNDS:
            raise _PatternError(
                f"{where}[0]",
                f"unknown numeric operator {render_value(op)}; allowed: =, <, <=, >, >=",
            )
        if len(arg) == 2:
            return _range(value, _LOWER_BOUNDS[op], None, False)
        top_op = arg[2]
        if top_op not in _UPPER_BOUNDS:
            raise _PatternError(
                f"{where}[2]",
                f"the upper bound operator must be '<' or '<=', not {render_value(top_op)}",
            )
        top = self.number(arg[3], f"{where}[3]")
        if not value < top:
            raise _PatternError(
                where,
                f"the lower bound {render_value(value)} must be less than the upper bound "
                f"{render_value(top)}",
            )
        return _range(value, _LOWER_BOUNDS[op], top, _UPPER_BOUNDS[top_op])

    @staticmethod
    def number(arg: Any, where: str) -> float:
        if not _is_number(arg):
            raise _PatternError(where, f"must be a JSON number, not {_json_type(arg)}")
        if not (-_FLOAT_MAX <= arg <= _FLOAT_MAX):
            raise _PatternError(where, f"{render_value(arg)} is out of range")
        # Keep ints as ints: Python compares int and float exactly, without rounding.
        return arg  # type: ignore[no-any-return]

    def anything_but(self, arg: Any, where: str) -> Matcher:
        if isinstance(arg, dict):
            return _negate(self.anything_but_operator(arg, where))
        values = arg if isinstance(arg, list) else [arg]
        if not values:
            raise _PatternError(where, "anything-but needs at least one value")
        if all(isinstance(v, str) for v in values):
            excluded = frozenset(values)
            return lambda v: v not in excluded
        if all(_is_number(v) for v in values):
            # Like equality, by JSON text: Lambda's docs say 300, 300.0 and 3.0e2 differ
            # (reference 4.3).  EventBridge itself compares these by value.
            tokens = frozenset(_token(v) for v in values)
            return lambda v: not (type(v) in _NUMBER_TYPES and _token(v) in tokens)
        raise _PatternError(
            where,
            "anything-but takes a string, a number, or a non-empty array of only strings "
            "or only numbers (no null, booleans, objects or mixed types)",
        )

    def anything_but_operator(self, arg: dict[str, Any], where: str) -> Matcher:
        if len(arg) != 1:
            raise _PatternError(
                where,
                "an anything-but object must have exactly one key, got "
                f"{render_value(sorted(arg))}",
            )
        ((name, inner),) = arg.items()
        at = f"{where}.{name}"
        self.extension(f"anything-but with {name}", at)
        if name in ("prefix", "suffix"):
            text = self.string(inner, at)
            if not text:
                raise _PatternError(at, f"an anything-but {name} must not be empty")
            if name == "prefix":
                return lambda v: isinstance(v, str) and v.startswith(text)
            return lambda v: isinstance(v, str) and v.endswith(text)
        if name not in ("equals-ignore-case", "wildcard"):
            raise _PatternError(
                at,
                f"unsupported anything-but operator {render_value(name)}; allowed: "
                "prefix, suffix, equals-ignore-case, wildcard",
            )
        items = inner if isinstance(inner, list) else [inner]
        if not items:
            raise _PatternError(at, "needs at least one string")
        texts = [self.string(item, f"{at}[{i}]") for i, item in enumerate(items)]
        if name == "equals-ignore-case":
            folded = frozenset(t.lower() for t in texts)
            return lambda v: isinstance(v, str) and v.lower() in folded
        globs = tuple(_wildcard(t, f"{at}[{i}]") for i, t in enumerate(texts))
        return lambda v: any(glob(v) for glob in globs)


# --- matcher builders


def _and(
    fields: tuple[tuple[str, Matcher], ...], groups: tuple[tuple[Matcher, ...], ...]
) -> Matcher:
    if len(fields) == 1 and not groups:
        ((key, only),) = fields
        return lambda d: only(d.get(key, _MISSING))

    def node(d: Any) -> bool:
        get = d.get
        for key, field in fields:
            if not field(get(key, _MISSING)):
                return False
        for branches in groups:
            for branch in branches:
                if branch(d):
                    break
            else:
                return False
        return True

    return node


def _one(
    strings: frozenset[str], tokens: frozenset[Any], tests: tuple[Matcher, ...], exists: bool
) -> Matcher:
    """Does one leaf value satisfy any of a field's rules?"""
    if exists:
        return lambda _v: True

    def one(v: Any) -> bool:
        if isinstance(v, str):
            if v in strings:
                return True
        elif tokens and _token(v) in tokens:
            return True
        for test in tests:  # noqa: SIM110 - a loop, not a generator: this runs per record
            if test(v):
                return True
        return False

    return one


def _field(
    strings: frozenset[str],
    tokens: frozenset[Any],
    tests: tuple[Matcher, ...],
    exists: bool,
    absent: bool,
    plain: bool,
) -> Matcher:
    """A field's rules applied to its event value.

    ``exists``/``absent`` are ``exists: true``/``exists: false`` rules; ``plain``
    is Lambda's format check on a data key: a rule list never matches JSON data.
    """
    one = _one(strings, tokens, tests, exists)

    def field(value: Any) -> bool:
        kind = type(value)
        if kind is str:
            # The common case, inlined: a string against string rules.
            if value in strings:
                return True
            for test in tests:
                if test(value):
                    return True
            return exists
        if value is _MISSING:
            return absent
        if kind is list or isinstance(value, list):
            if plain:
                return False
            seen = False
            for leaf in _leaves(value):
                if one(leaf):
                    return True
                seen = True
            return absent and not seen
        if isinstance(value, dict):
            # Exists only sees leaves: an object is not a value of the field.
            return absent and not plain
        if plain and isinstance(value, (bytes, bytearray)):
            return False
        return one(value)

    return field


def _negate(test: Matcher) -> Matcher:
    return lambda v: not test(v)


def _range(low: float | None, low_closed: bool, high: float | None, high_closed: bool) -> Matcher:
    if high is None:
        assert low is not None
        if low_closed:
            return lambda v: type(v) in _NUMBER_TYPES and v >= low
        return lambda v: type(v) in _NUMBER_TYPES and v > low
    if low is None:
        if high_closed:
            return lambda v: type(v) in _NUMBER_TYPES and v <= high
        return lambda v: type(v) in _NUMBER_TYPES and v < high

    def between(v: Any) -> bool:
        if type(v) not in _NUMBER_TYPES:
            return False
        above = v >= low if low_closed else v > low
        below = v <= high if high_closed else v < high
        return bool(above and below)

    return between


def _wildcard(text: str, where: str) -> Matcher:
    """EventBridge wildcard: ``*`` is any run of characters; ``\\*`` and ``\\\\`` are literal.

    Matching finds the literal pieces left to right with ``str.find``: linear
    in the value for each piece, so no pattern can make it backtrack.
    """
    pieces: list[str] = []
    literal: list[str] = []
    star = False
    i = 0
    while i < len(text):
        char = text[i]
        if char == "\\":
            escaped = text[i + 1] if i + 1 < len(text) else ""
            if escaped not in ("*", "\\"):
                raise _PatternError(
                    where,
                    f"in wildcard {render_value(text)} a backslash may only escape '*' or '\\'",
                )
            literal.append(escaped)
            star = False
            i += 2
            continue
        if char == "*":
            if star:
                raise _PatternError(
                    where, f"wildcard {render_value(text)} has consecutive '*' characters"
                )
            pieces.append("".join(literal))
            literal = []
            star = True
        else:
            literal.append(char)
            star = False
        i += 1
    pieces.append("".join(literal))
    return _glob(tuple(pieces))


def _glob(pieces: tuple[str, ...]) -> Matcher:
    """A matcher for the literal ``pieces`` of a wildcard, a ``*`` between each two."""
    if len(pieces) == 1:
        (exact,) = pieces
        return lambda v: isinstance(v, str) and v == exact
    head, *middle, tail = pieces
    shortest = sum(map(len, pieces))

    def glob(v: Any) -> bool:
        if not isinstance(v, str) or len(v) < shortest:
            return False
        if not (v.startswith(head) and v.endswith(tail)):
            return False
        position = len(head)
        end = len(v) - len(tail)
        for piece in middle:
            found = v.find(piece, position, end)
            if found < 0:
                return False
            position = found + len(piece)
        return True

    return glob


def _compile(
    text: str,
    extensions: bool,
    object_only_key: str | None = None,
    *,
    data_keys: frozenset[str] = _DATA_KEYS,
) -> Matcher:
    """Parse and compile one pattern; `_PatternError` says what is wrong and where."""
    if len(text) > PATTERN_MAX_LENGTH:
        raise _PatternError(
            "", f"the pattern is {len(text)} characters; the maximum is {PATTERN_MAX_LENGTH}"
        )
    try:
        pattern = _DECODER.decode(text)
    except json.JSONDecodeError as exc:
        raise _PatternError(
            "", f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    except ValueError as exc:
        raise _PatternError("", f"not valid JSON: {exc}") from None
    if not isinstance(pattern, dict):
        raise _PatternError("", f"a pattern must be a JSON object, not {_json_type(pattern)}")
    return _Compiler(extensions, object_only_key, data_keys).node(pattern, "")


def compile_pattern(pattern: str | Mapping[str, Any], parameter: str) -> tuple[str, Matcher]:
    """Validate and compile an EventBridge-style pattern matched against a whole document.

    For the services that filter with the same rules as ``FilterCriteria`` (an SNS
    subscription's filter policy, an EventBridge rule's event pattern): every operator
    (the EventBridge extensions included) and no data-key format check.  Returns the
    pattern's JSON text and its matcher; an invalid pattern raises
    `InvalidParameterValueError` naming ``parameter``, the pattern and the problem.
    """
    if isinstance(pattern, Mapping):
        try:
            text = json.dumps(pattern, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise InvalidParameterValueError(parameter, pattern, f"not JSON: {exc}") from None
    elif isinstance(pattern, str):
        text = pattern
    else:
        raise InvalidParameterValueError(
            parameter, pattern, "must be a JSON string (or a dict, serialized with json.dumps)"
        )
    try:
        return text, _compile(text, True, data_keys=frozenset())
    except _PatternError as exc:
        raise InvalidParameterValueError(parameter, text, str(exc)) from None


def _compile_filter(
    index: int, text: str, extensions: bool, object_only_key: str | None
) -> Matcher:
    try:
        return _compile(text, extensions, object_only_key)
    except _PatternError as exc:
        raise InvalidParameterValueError(
            f"FilterCriteria.Filters[{index}].Pattern", text, str(exc)
        ) from None


# --- the public value


def _to_patterns(value: Any) -> tuple[str, ...]:
    if isinstance(value, (str, Mapping)):
        value = (value,)
    if not isinstance(value, (list, tuple)):
        raise InvalidParameterValueError(
            "FilterCriteria.Filters", value, "must be a list of patterns (JSON strings or dicts)"
        )
    out = []
    for index, item in enumerate(value):
        if isinstance(item, str):
            out.append(item)
        elif isinstance(item, Mapping):
            try:
                out.append(json.dumps(item, allow_nan=False))
            except (TypeError, ValueError) as exc:
                raise InvalidParameterValueError(
                    f"FilterCriteria.Filters[{index}].Pattern", item, f"not JSON: {exc}"
                ) from None
        else:
            raise InvalidParameterValueError(
                f"FilterCriteria.Filters[{index}].Pattern",
                item,
                "must be a JSON string (or a dict, serialized with json.dumps)",
            )
    return tuple(out)


def _check_bool(_instance: Any, attribute: Any, value: Any) -> None:
    if not isinstance(value, bool):
        raise InvalidParameterValueError(attribute.name, value, "must be True or False")


@attrs.frozen(kw_only=True)
class FilterCriteria:
    """An event source mapping's ``FilterCriteria``: up to 5 (or 10) patterns, ORed.

    Args:
        patterns: the ``Filters[].Pattern`` strings (a dict is accepted and
            serialized with ``json.dumps``).  Default: none, which matches every record.
        max_filters: the filters-per-mapping quota, 1-10 (default 5; AWS grants
            up to 10 on request).
        allow_eventbridge_extensions: accept the newer EventBridge operators
            (``suffix``, ``equals-ignore-case``, ``wildcard``, ``anything-but``
            with ``prefix``/``suffix``/``equals-ignore-case``/``wildcard``,
            ``prefix``/``suffix`` with ``equals-ignore-case``, and ``$or``).
            Whether Lambda accepts them is [UNCONFIRMED] (reference 8.5);
            default True.  With False only the operators Lambda documents
            are accepted: equals, null, empty, and, or, anything-but (values),
            numeric, exists, prefix (string).
        event_source: ``"aws:sqs"``, ``"aws:kinesis"`` or ``"aws:dynamodb"``
            when the criteria belong to a mapping of that source (default
            None: any).  For streams a rule list on the data key
            (``{"data": ["x"]}``) is rejected at creation, as Lambda does.

    Every pattern is validated and compiled at creation; an invalid one raises
    `InvalidParameterValueError` naming ``FilterCriteria.Filters[i].Pattern``,
    the pattern, and what is wrong where (e.g. ``... (at body.kind[0].numeric)``).

    Matching rules (`matches`), from Lambda's documentation and EventBridge's:

    - a string, number, ``true``/``false`` or ``null`` rule equals the value
      exactly, character by character; numbers compare by their JSON text, so
      ``300``, ``300.0`` and ``3.0e2`` differ (use ``numeric`` for values);
    - every field a filter names must be present (except under ``exists: false``);
      nested objects recurse;
    - when the value is an array, a field matches if any element matches;
      a nested pattern matches if any object element matches it entirely;
    - ``exists`` sees leaf values only: an object or an empty array is "absent";
    - a nested pattern never matches a present string, number, boolean or null
      (a plain-text body under a JSON pattern: Lambda drops the record), and a
      rule list on a data key (``body``, ``data``, ``dynamodb``) never matches
      JSON data (a JSON body under a plain-string pattern: dropped too);
    - ``anything-but X`` matches any present leaf that ``X`` does not match;
      its numbers compare by JSON text, like equality;
    - ``numeric`` compares JSON numbers exactly (EventBridge documents a
      ±5e9 range with 6 decimal places; this model does not round).
    """

    patterns: tuple[str, ...] = attrs.field(default=(), converter=_to_patterns)
    max_filters: int = attrs.field(
        default=DEFAULT_MAX_FILTERS,
        validator=in_range("max_filters", 1, MAX_FILTERS_QUOTA, integer=True),
    )
    allow_eventbridge_extensions: bool = attrs.field(default=True, validator=_check_bool)
    event_source: str | None = attrs.field(
        default=None, validator=attrs.validators.optional(one_of("event_source", _SOURCES))
    )
    _matchers: tuple[Matcher, ...] = attrs.field(
        init=False, repr=False, eq=False, hash=False, default=()
    )

    def __attrs_post_init__(self) -> None:
        if len(self.patterns) > self.max_filters:
            raise InvalidParameterValueError(
                "FilterCriteria.Filters",
                list(self.patterns),
                f"{len(self.patterns)} filters exceed the quota of {self.max_filters} "
                f"(default {DEFAULT_MAX_FILTERS}; a quota increase allows up to "
                f"{MAX_FILTERS_QUOTA})",
            )
        extensions = self.allow_eventbridge_extensions
        data_key = None if self.event_source is None else _OBJECT_ONLY_KEY[self.event_source]
        matchers = tuple(
            _compile_filter(index, text, extensions, data_key)
            for index, text in enumerate(self.patterns)
        )
        object.__setattr__(self, "_matchers", matchers)

    @classmethod
    def from_dict(
        cls,
        criteria: Mapping[str, Any] | None,
        *,
        max_filters: int = DEFAULT_MAX_FILTERS,
        allow_eventbridge_extensions: bool = True,
        event_source: str | None = None,
    ) -> FilterCriteria:
        """Build from the API shape ``{"Filters": [{"Pattern": "<json>"}, ...]}``.

        ``None`` or ``{}`` means no filtering.
        """
        if criteria is None:
            return cls(
                max_filters=max_filters,
                allow_eventbridge_extensions=allow_eventbridge_extensions,
                event_source=event_source,
            )
        if not isinstance(criteria, Mapping) or set(criteria) - {"Filters"}:
            raise InvalidParameterValueError(
                "FilterCriteria", criteria, 'must be {"Filters": [{"Pattern": "<json>"}, ...]}'
            )
        filters = criteria.get("Filters", [])
        if not isinstance(filters, (list, tuple)):
            raise InvalidParameterValueError(
                "FilterCriteria.Filters", filters, 'must be a list of {"Pattern": "<json>"}'
            )
        patterns = []
        for index, item in enumerate(filters):
            if not isinstance(item, Mapping) or set(item) != {"Pattern"}:
                raise InvalidParameterValueError(
                    f"FilterCriteria.Filters[{index}]", item, 'must be {"Pattern": "<json>"}'
                )
            patterns.append(item["Pattern"])
        return cls(
            patterns=tuple(patterns),
            max_filters=max_filters,
            allow_eventbridge_extensions=allow_eventbridge_extensions,
            event_source=event_source,
        )

    def to_dict(self) -> dict[str, Any]:
        """The API shape, as ``GetEventSourceMapping`` returns it."""
        return {"Filters": [{"Pattern": text} for text in self.patterns]}

    def matches(self, view: Mapping[str, Any]) -> bool:
        """True when any filter matches the record ``view`` (always True without filters).

        ``view`` is the record with its data key decoded: see `filter_view`.
        """
        matchers = self._matchers
        if not matchers:
            return True
        if type(view) is not dict and not isinstance(view, Mapping):
            msg = f"a filter view must be a mapping, not {type(view).__name__}"
            raise TypeError(msg)
        for matcher in matchers:  # noqa: SIM110 - a loop, not a generator: this runs per record
            if matcher(view):
                return True
        return False

    def select(self, views: Iterable[Mapping[str, Any]]) -> list[int]:
        """Indexes of the views that match, in order (a batch's kept records)."""
        return [index for index, view in enumerate(views) if self.matches(view)]
