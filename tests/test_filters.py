"""FilterCriteria: the operator table, validation, record views, and properties of the rules."""

from __future__ import annotations

import base64
import json
import math
import re
from collections import OrderedDict
from typing import Any

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from invokemodels import FilterCriteria
from invokemodels.exceptions import InvalidParameterValueError
from invokemodels.mapping import PATTERN_MAX_LENGTH, JsonFloat, filter_view, parse_data


def matches(pattern: dict[str, Any] | str, view: dict[str, Any], **kwargs: Any) -> bool:
    text = pattern if isinstance(pattern, str) else json.dumps(pattern)
    return FilterCriteria(patterns=(text,), **kwargs).matches(view)


def event(text: str) -> Any:
    """A view parsed from JSON text, numbers keeping their text as records do."""
    return parse_data(text)


# --- the operator table: every operator, a match and a no-match -----------------------------

CASES = [
    # Equals (strings: exact, no case folding)
    ("equals", {"Name": ["Alice"]}, '{"Name": "Alice"}', True),
    ("equals-case", {"Name": ["Alice"]}, '{"Name": "alice"}', False),
    ("equals-case-upper", {"Name": ["alice"]}, '{"Name": "Alice"}', False),
    ("equals-missing", {"Name": ["Alice"]}, '{"Other": "Alice"}', False),
    ("equals-type", {"Code": ["300"]}, '{"Code": 300}', False),
    # Numbers compare by their text: 300, 300.0 and 3.0e2 differ
    ("number-text", {"Price": [300]}, '{"Price": 300}', True),
    ("number-text-float", {"Price": [300]}, '{"Price": 300.0}', False),
    ("number-text-exp", {"Price": [300.0]}, '{"Price": 3.0e2}', False),
    ("number-text-same-exp", {"Price": [300.0]}, '{"Price": 300.0}', True),
    ("true", {"Flag": [True]}, '{"Flag": true}', True),
    ("true-vs-string", {"Flag": [True]}, '{"Flag": "true"}', False),
    ("true-vs-1", {"Flag": [True]}, '{"Flag": 1}', False),
    ("false", {"Flag": [False]}, '{"Flag": false}', True),
    ("false-vs-0", {"Flag": [False]}, '{"Flag": 0}', False),
    # Null and empty
    ("null", {"UserID": [None]}, '{"UserID": null}', True),
    ("null-missing", {"UserID": [None]}, "{}", False),
    ("null-vs-empty", {"UserID": [None]}, '{"UserID": ""}', False),
    ("empty", {"LastName": [""]}, '{"LastName": ""}', True),
    ("empty-vs-null", {"LastName": [""]}, '{"LastName": null}', False),
    # And across fields, or within a list
    (
        "and",
        {"Location": ["New York"], "Day": ["Monday"]},
        '{"Location": "New York", "Day": "Monday"}',
        True,
    ),
    (
        "and-one-wrong",
        {"Location": ["New York"], "Day": ["Monday"]},
        '{"Location": "New York", "Day": "Sunday"}',
        False,
    ),
    (
        "and-one-missing",
        {"Location": ["New York"], "Day": ["Monday"]},
        '{"Location": "New York"}',
        False,
    ),
    ("or", {"PaymentType": ["Credit", "Debit"]}, '{"PaymentType": "Debit"}', True),
    ("or-none", {"PaymentType": ["Credit", "Debit"]}, '{"PaymentType": "Cash"}', False),
    ("or-mixed-rules", {"x": ["a", {"prefix": "b"}]}, '{"x": "bc"}', True),
    # Nested objects recurse
    ("nested", {"a": {"b": {"c": ["d"]}}}, '{"a": {"b": {"c": "d"}}}', True),
    ("nested-wrong", {"a": {"b": {"c": ["d"]}}}, '{"a": {"b": {"c": "e"}}}', False),
    ("nested-under-scalar", {"a": {"b": ["c"]}}, '{"a": "b"}', False),
    # Arrays in the event: any element
    ("array-any", {"tags": ["b"]}, '{"tags": ["a", "b"]}', True),
    ("array-none", {"tags": ["c"]}, '{"tags": ["a", "b"]}', False),
    ("array-nested", {"tags": ["c"]}, '{"tags": [["a"], ["c"]]}', True),
    (
        "array-objects",
        {"emp": {"first": ["Anna"]}},
        '{"emp": [{"first": "John"}, {"first": "Anna"}]}',
        True,
    ),
    (
        "array-consistent",
        {"emp": {"first": ["Anna"], "last": ["Jones"]}},
        '{"emp": [{"first": "Anna", "last": "Smith"}, {"first": "Peter", "last": "Jones"}]}',
        False,
    ),
    # Anything-but
    ("anything-but", {"Weather": [{"anything-but": ["Raining"]}]}, '{"Weather": "Sunny"}', True),
    (
        "anything-but-no",
        {"Weather": [{"anything-but": ["Raining"]}]},
        '{"Weather": "Raining"}',
        False,
    ),
    (
        "anything-but-single",
        {"Weather": [{"anything-but": "Raining"}]},
        '{"Weather": "Raining"}',
        False,
    ),
    ("anything-but-missing", {"Weather": [{"anything-but": ["Raining"]}]}, "{}", False),
    ("anything-but-other-type", {"Weather": [{"anything-but": ["1"]}]}, '{"Weather": 1}', True),
    ("anything-but-number", {"n": [{"anything-but": [100, 200]}]}, '{"n": 150}', True),
    ("anything-but-number-text", {"n": [{"anything-but": [100]}]}, '{"n": 100.0}', True),
    ("anything-but-number-same", {"n": [{"anything-but": [100]}]}, '{"n": 100}', False),
    ("anything-but-array", {"s": [{"anything-but": "a"}]}, '{"s": ["a", "b"]}', True),
    ("anything-but-array-all", {"s": [{"anything-but": "a"}]}, '{"s": ["a", "a"]}', False),
    # Numeric
    ("numeric-eq", {"Price": [{"numeric": ["=", 100]}]}, '{"Price": 100.0}', True),
    ("numeric-eq-no", {"Price": [{"numeric": ["=", 100]}]}, '{"Price": 100.5}', False),
    ("numeric-eq-exp", {"Price": [{"numeric": ["=", 3.0e2]}]}, '{"Price": 300}', True),
    ("numeric-range", {"Price": [{"numeric": [">", 10, "<=", 20]}]}, '{"Price": 20}', True),
    ("numeric-range-open", {"Price": [{"numeric": [">", 10, "<=", 20]}]}, '{"Price": 10}', False),
    (
        "numeric-range-above",
        {"Price": [{"numeric": [">", 10, "<=", 20]}]},
        '{"Price": 20.5}',
        False,
    ),
    ("numeric-ge", {"n": [{"numeric": [">=", 5]}]}, '{"n": 5}', True),
    ("numeric-lt", {"n": [{"numeric": ["<", 5]}]}, '{"n": 5}', False),
    ("numeric-le", {"n": [{"numeric": ["<=", 5]}]}, '{"n": -5e3}', True),
    ("numeric-string", {"n": [{"numeric": [">", 0]}]}, '{"n": "5"}', False),
    ("numeric-bool", {"n": [{"numeric": [">", 0]}]}, '{"n": true}', False),
    ("numeric-big-int", {"n": [{"numeric": ["=", 10**17 + 1]}]}, '{"n": 100000000000000001}', True),
    # Exists
    ("exists", {"ProductName": [{"exists": True}]}, '{"ProductName": "x"}', True),
    ("exists-null", {"ProductName": [{"exists": True}]}, '{"ProductName": null}', True),
    ("exists-missing", {"ProductName": [{"exists": True}]}, "{}", False),
    ("exists-object", {"ProductName": [{"exists": True}]}, '{"ProductName": {"a": 1}}', False),
    ("exists-empty-array", {"ProductName": [{"exists": True}]}, '{"ProductName": []}', False),
    ("not-exists", {"ProductName": [{"exists": False}]}, "{}", True),
    ("not-exists-present", {"ProductName": [{"exists": False}]}, '{"ProductName": "x"}', False),
    ("not-exists-object", {"c": [{"exists": False}]}, '{"c": {"c1": 100}}', True),
    ("not-exists-nested-absent", {"a": {"b": [{"exists": False}]}}, "{}", True),
    ("not-exists-array", {"c": [{"exists": False}]}, '{"c": [1]}', False),
    # Prefix
    ("prefix", {"Region": [{"prefix": "us-"}]}, '{"Region": "us-east-1"}', True),
    ("prefix-no", {"Region": [{"prefix": "us-"}]}, '{"Region": "eu-west-1"}', False),
    ("prefix-case", {"Region": [{"prefix": "us-"}]}, '{"Region": "US-east-1"}', False),
    ("prefix-number", {"n": [{"prefix": "1"}]}, '{"n": 12}', False),
    ("prefix-empty", {"n": [{"prefix": ""}]}, '{"n": "anything"}', True),
    # EventBridge extensions
    ("suffix", {"File": [{"suffix": ".png"}]}, '{"File": "a.png"}', True),
    ("suffix-no", {"File": [{"suffix": ".png"}]}, '{"File": "a.PNG"}', False),
    (
        "suffix-ignore-case",
        {"File": [{"suffix": {"equals-ignore-case": ".png"}}]},
        '{"File": "a.PNG"}',
        True,
    ),
    (
        "prefix-ignore-case",
        {"s": [{"prefix": {"equals-ignore-case": "eventb"}}]},
        '{"s": "EventBridge"}',
        True,
    ),
    (
        "prefix-ignore-case-no",
        {"s": [{"prefix": {"equals-ignore-case": "eventb"}}]},
        '{"s": "Lambda"}',
        False,
    ),
    ("equals-ignore-case", {"s": [{"equals-ignore-case": "alice"}]}, '{"s": "ALICE"}', True),
    ("equals-ignore-case-no", {"s": [{"equals-ignore-case": "alice"}]}, '{"s": "alicia"}', False),
    ("wildcard", {"p": [{"wildcard": "*/lib/*"}]}, '{"p": "/usr/lib/x"}', True),
    ("wildcard-no", {"p": [{"wildcard": "*/lib/*"}]}, '{"p": "/usr/bin/x"}', False),
    ("wildcard-empty-run", {"p": [{"wildcard": "a*b"}]}, '{"p": "ab"}', True),
    ("wildcard-escaped-star", {"p": [{"wildcard": "a\\*b"}]}, '{"p": "a*b"}', True),
    ("wildcard-escaped-star-literal", {"p": [{"wildcard": "a\\*b"}]}, '{"p": "axb"}', False),
    ("wildcard-escaped-backslash", {"p": [{"wildcard": "a\\\\*"}]}, '{"p": "a\\\\bc"}', True),
    ("wildcard-regex-chars", {"p": [{"wildcard": "a.c*"}]}, '{"p": "abc"}', False),
    ("wildcard-newline", {"p": [{"wildcard": "a*c"}]}, '{"p": "a\\nc"}', True),
    ("anything-but-prefix", {"R": [{"anything-but": {"prefix": "us-"}}]}, '{"R": "eu-1"}', True),
    (
        "anything-but-prefix-no",
        {"R": [{"anything-but": {"prefix": "us-"}}]},
        '{"R": "us-1"}',
        False,
    ),
    ("anything-but-suffix", {"F": [{"anything-but": {"suffix": ".png"}}]}, '{"F": "a.png"}', False),
    (
        "anything-but-suffix-yes",
        {"F": [{"anything-but": {"suffix": ".png"}}]},
        '{"F": "a.jpg"}',
        True,
    ),
    (
        "anything-but-ignore-case",
        {"s": [{"anything-but": {"equals-ignore-case": ["initializing", "stopped"]}}]},
        '{"s": "STOPPED"}',
        False,
    ),
    (
        "anything-but-ignore-case-yes",
        {"s": [{"anything-but": {"equals-ignore-case": "initializing"}}]},
        '{"s": "running"}',
        True,
    ),
    (
        "anything-but-wildcard",
        {"p": [{"anything-but": {"wildcard": "*/lib/*"}}]},
        '{"p": "/a/lib/b"}',
        False,
    ),
    (
        "anything-but-wildcard-yes",
        {"p": [{"anything-but": {"wildcard": ["*/lib/*", "*/bin/*"]}}]},
        '{"p": "/a/etc"}',
        True,
    ),
    ("or-operator", {"$or": [{"a": ["1"]}, {"b": ["2"]}]}, '{"b": "2"}', True),
    ("or-operator-none", {"$or": [{"a": ["1"]}, {"b": ["2"]}]}, '{"a": "2", "b": "1"}', False),
    (
        "or-operator-and",
        {"c": ["x"], "$or": [{"a": ["1"]}, {"b": ["2"]}]},
        '{"a": "1", "c": "y"}',
        False,
    ),
    (
        "or-operator-nested",
        {"d": {"$or": [{"a": ["1"]}, {"b": {"c": ["2"]}}]}},
        '{"d": {"b": {"c": "2"}}}',
        True,
    ),
]


@pytest.mark.parametrize(
    ("pattern", "text", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_operator_table(pattern: dict[str, Any], text: str, expected: bool) -> None:
    assert matches(pattern, event(text)) is expected


def test_every_operator_has_a_match_and_a_no_match() -> None:
    by_operator: dict[str, set[bool]] = {}
    for name, _pattern, _text, expected in CASES:
        by_operator.setdefault(name.split("-")[0], set()).add(expected)
    assert all(outcomes == {True, False} for outcomes in by_operator.values()), by_operator


def test_views_built_in_python_compare_numbers_by_their_json_text() -> None:
    assert matches({"Price": [300.0]}, {"Price": 300.0})
    assert not matches({"Price": [300]}, {"Price": 300.0})
    assert matches({"Price": [300]}, {"Price": 300})
    assert not matches({"a": [1, "1", None]}, {"a": b"1"})
    assert matches({"a": {"b": [{"exists": False}]}}, {"a": []})
    assert matches({"a": {"b": ["c"]}}, {"a": OrderedDict(b="c")})
    assert matches({"a": {"b": ["c"]}}, OrderedDict(a={"b": "c"}))
    assert not matches({"a": {"b": [{"exists": False}]}}, {"a": [1]})


def test_duplicate_keys_last_one_wins() -> None:
    criteria = FilterCriteria(patterns=('{"a": ["x"], "a": ["y"]}',))
    assert [criteria.matches({"a": "x"}), criteria.matches({"a": "y"})] == [False, True]


# --- validation: every bad pattern is refused at creation, saying what and where ------------

INVALID = [
    (
        "not JSON",
        "{body: 1}",
        "not valid JSON: Expecting property name enclosed in double quotes"
        " at line 1 column 2 (at the top level)",
    ),
    ("empty string", "", "not valid JSON"),
    ("NaN", '{"a": [NaN]}', "not valid JSON"),
    ("array", '["a"]', "a pattern must be a JSON object, not an array"),
    ("string", '"a"', "a pattern must be a JSON object, not a string"),
    (
        "leaf not list",
        '{"body": {"kind": "order"}}',
        'not a string: write ["order"] (at body.kind)',
    ),
    ("leaf number", '{"a": 5}', "write [5] (at a)"),
    ("empty object", "{}", "empty objects are not allowed (at the top level)"),
    ("empty nested object", '{"a": {}}', "empty objects are not allowed (at a)"),
    ("empty array", '{"a": []}', "empty arrays are not allowed"),
    (
        "nested array",
        '{"a": [["x"]]}',
        "a rule must be a string, number, true, false, null or an operator object,"
        " not an array (at a[0])",
    ),
    (
        "unknown operator",
        '{"a": {"b": [{"contains": "x"}]}}',
        "unknown operator 'contains'; allowed: anything-but, exists, numeric, prefix;"
        " EventBridge extensions: equals-ignore-case, suffix, wildcard (at a.b[0])",
    ),
    ("cidr", '{"ip": [{"cidr": "10.0.0.0/24"}]}', "unknown operator 'cidr'"),
    (
        "two keys",
        '{"a": [{"prefix": "x", "suffix": "y"}]}',
        "exactly one key, got ['prefix', 'suffix'] (at a[0])",
    ),
    ("empty operator", '{"a": [{}]}', "exactly one key, got [] (at a[0])"),
    (
        "exists not bool",
        '{"a": [{"exists": "true"}]}',
        'exists must be true or false, not "true" (at a[0].exists)',
    ),
    (
        "prefix not string",
        '{"a": [{"prefix": 1}]}',
        "must be a string, not a number (at a[0].prefix)",
    ),
    (
        "prefix object",
        '{"a": [{"prefix": {"suffix": "x"}}]}',
        "only operator allowed here is equals-ignore-case",
    ),
    ("numeric not list", '{"a": [{"numeric": 5}]}', "numeric must be an array like"),
    ("numeric empty", '{"a": [{"numeric": []}]}', "numeric must be an array like"),
    ("numeric 3 items", '{"a": [{"numeric": [">", 1, "<"]}]}', "numeric must be an array like"),
    (
        "numeric string operand",
        '{"a": [{"numeric": [">", "10"]}]}',
        "must be a JSON number, not a string (at a[0].numeric[1])",
    ),
    (
        "numeric bool operand",
        '{"a": [{"numeric": ["=", true]}]}',
        "must be a JSON number, not a boolean",
    ),
    ("numeric huge", '{"a": [{"numeric": ["<", 1e400]}]}', "is out of range (at a[0].numeric[1])"),
    (
        "numeric bad op",
        '{"a": [{"numeric": ["!=", 1]}]}',
        "unknown numeric operator '!='; allowed: =, <, <=, >, >= (at a[0].numeric[0])",
    ),
    (
        "numeric = range",
        '{"a": [{"numeric": ["=", 1, "<", 2]}]}',
        "numeric equality takes one number",
    ),
    (
        "numeric upper first",
        '{"a": [{"numeric": ["<", 5, ">", 1]}]}',
        "a range must start with its lower bound",
    ),
    (
        "numeric bad upper op",
        '{"a": [{"numeric": [">", 1, ">", 2]}]}',
        "upper bound operator must be '<' or '<=', not '>' (at a[0].numeric[2])",
    ),
    (
        "numeric inverted",
        '{"a": [{"numeric": [">", 5, "<", 1]}]}',
        "the lower bound 5 must be less than the upper bound 1",
    ),
    (
        "numeric empty range",
        '{"a": [{"numeric": [">=", 5, "<=", 5]}]}',
        "must be less than the upper bound",
    ),
    (
        "anything-but empty",
        '{"a": [{"anything-but": []}]}',
        "anything-but needs at least one value",
    ),
    ("anything-but mixed", '{"a": [{"anything-but": ["x", 1]}]}', "only strings or only numbers"),
    ("anything-but null", '{"a": [{"anything-but": null}]}', "no null, booleans"),
    ("anything-but bool", '{"a": [{"anything-but": [true]}]}', "no null, booleans"),
    (
        "anything-but bad op",
        '{"a": [{"anything-but": {"numeric": [">", 1]}}]}',
        "unsupported anything-but operator 'numeric'",
    ),
    (
        "anything-but two ops",
        '{"a": [{"anything-but": {"prefix": "a", "suffix": "b"}}]}',
        "anything-but object must have exactly one key",
    ),
    (
        "anything-but empty prefix",
        '{"a": [{"anything-but": {"prefix": ""}}]}',
        "an anything-but prefix must not be empty",
    ),
    (
        "anything-but eic empty",
        '{"a": [{"anything-but": {"equals-ignore-case": []}}]}',
        "needs at least one string",
    ),
    (
        "anything-but eic number",
        '{"a": [{"anything-but": {"equals-ignore-case": [1]}}]}',
        "must be a string, not a number (at a[0].anything-but.equals-ignore-case[0])",
    ),
    (
        "wildcard double star",
        '{"a": [{"wildcard": "a**b"}]}',
        "has consecutive '*' characters (at a[0].wildcard)",
    ),
    ("wildcard bad escape", '{"a": [{"wildcard": "a\\\\b"}]}', "a backslash may only escape"),
    (
        "wildcard trailing backslash",
        '{"a": [{"wildcard": "a\\\\"}]}',
        "a backslash may only escape",
    ),
    (
        "ignore-case object",
        '{"a": [{"equals-ignore-case": {"x": 1}}]}',
        "must be a string, not an object",
    ),
    ("wildcard list", '{"a": [{"wildcard": ["a*"]}]}', "must be a string, not an array"),
    ("or not list", '{"$or": {"a": ["x"]}}', "$or must be an array of at least 2 objects (at $or)"),
    ("or one branch", '{"$or": [{"a": ["x"]}]}', "$or must be an array of at least 2 objects"),
    (
        "or not object",
        '{"$or": [{"a": ["x"]}, "b"]}',
        "$or entries must be objects, not a string (at $or[1])",
    ),
    ("or branch leaf", '{"$or": [{"a": ["x"]}, {"b": "y"}]}', 'write ["y"] (at $or[1].b)'),
    (
        "or empty branch",
        '{"x": {"$or": [{"a": ["x"]}, {}]}}',
        "empty objects are not allowed (at x.$or[1])",
    ),
    (
        "or reserved name",
        '{"$or": [{"numeric": ["x"]}, {"b": ["y"]}]}',
        "'numeric' is an operator name and cannot be a field name inside $or",
    ),
]


@pytest.mark.parametrize(("text", "problem"), [c[1:] for c in INVALID], ids=[c[0] for c in INVALID])
def test_invalid_patterns_are_refused_at_creation(text: str, problem: str) -> None:
    with pytest.raises(InvalidParameterValueError) as info:
        FilterCriteria.from_dict({"Filters": [{"Pattern": '{"ok": ["x"]}'}, {"Pattern": text}]})
    assert info.value.parameter == "FilterCriteria.Filters[1].Pattern"
    assert info.value.value == text
    assert problem in str(info.value)
    assert str(info.value).startswith(f"FilterCriteria.Filters[1].Pattern={text!r} is invalid: ")


EXTENSIONS = [
    ('{"a": [{"suffix": "x"}]}', "'suffix'"),
    ('{"a": [{"equals-ignore-case": "x"}]}', "'equals-ignore-case'"),
    ('{"a": [{"wildcard": "x*"}]}', "'wildcard'"),
    ('{"a": [{"prefix": {"equals-ignore-case": "x"}}]}', "'prefix with equals-ignore-case'"),
    ('{"a": [{"anything-but": {"prefix": "x"}}]}', "'anything-but with prefix'"),
    ('{"a": [{"anything-but": {"wildcard": "x*"}}]}', "'anything-but with wildcard'"),
    ('{"$or": [{"a": ["x"]}, {"b": ["y"]}]}', "'$or'"),
]


@pytest.mark.parametrize(("text", "name"), EXTENSIONS)
def test_eventbridge_extensions_can_be_refused(text: str, name: str) -> None:
    assert FilterCriteria(patterns=(text,)).patterns == (text,)
    with pytest.raises(InvalidParameterValueError, match=re.escape(name)) as info:
        FilterCriteria(patterns=(text,), allow_eventbridge_extensions=False)
    assert "allow_eventbridge_extensions is False" in str(info.value)


def test_documented_operators_pass_without_extensions() -> None:
    documented = {
        "Null": [None],
        "Empty": [""],
        "Name": ["Alice"],
        "PaymentType": ["Credit", "Debit"],
        "Weather": [{"anything-but": ["Raining"]}],
        "Price": [{"numeric": [">", 10, "<=", 20]}],
        "Count": [{"numeric": ["=", 100]}],
        "ProductName": [{"exists": True}],
        "Gone": [{"exists": False}],
        "Region": [{"prefix": "us-"}],
    }
    criteria = FilterCriteria(
        patterns=(json.dumps(documented),), allow_eventbridge_extensions=False
    )
    view = {
        "Null": None,
        "Empty": "",
        "Name": "Alice",
        "PaymentType": "Debit",
        "Weather": "Sunny",
        "Price": 15,
        "Count": 100,
        "ProductName": "x",
        "Region": "us-west-2",
    }
    assert criteria.matches(view)
    assert not criteria.matches({**view, "Gone": 1})
    with pytest.raises(
        InvalidParameterValueError,
        match="unknown operator 'contains'; allowed: anything-but, exists, numeric, prefix \\(at",
    ):
        FilterCriteria(patterns=('{"a": [{"contains": "x"}]}',), allow_eventbridge_extensions=False)


# --- limits and the API shape ------------------------------------------------------------------


def test_five_filters_by_default_ten_with_a_quota_increase() -> None:
    patterns = tuple(json.dumps({"n": [i]}) for i in range(10))
    assert len(FilterCriteria(patterns=patterns[:5]).patterns) == 5
    with pytest.raises(InvalidParameterValueError) as info:
        FilterCriteria(patterns=patterns[:6])
    assert info.value.parameter == "FilterCriteria.Filters"
    assert "6 filters exceed the quota of 5 (default 5; a quota increase allows up to 10)" in str(
        info.value
    )
    assert FilterCriteria(patterns=patterns, max_filters=10).matches({"n": 9})
    with pytest.raises(
        InvalidParameterValueError,
        match="max_filters=11 is invalid: must be an integer between 1 and 10",
    ):
        FilterCriteria(max_filters=11)
    with pytest.raises(InvalidParameterValueError, match="max_filters=0"):
        FilterCriteria(max_filters=0)


def test_pattern_length_limit_is_4096_characters() -> None:
    def of_length(n: int) -> str:
        head = '{"a": ["'
        return head + "x" * (n - len(head) - 3) + '"]}'

    assert len(of_length(PATTERN_MAX_LENGTH)) == 4096
    assert FilterCriteria(patterns=(of_length(4096),)).matches({"a": "x" * (4096 - 11)})
    with pytest.raises(
        InvalidParameterValueError, match="the pattern is 4097 characters; the maximum is 4096"
    ):
        FilterCriteria(patterns=(of_length(4097),))


def test_from_dict_and_to_dict_use_the_api_shape() -> None:
    shape = {"Filters": [{"Pattern": '{"body": {"kind": ["order"]}}'}, {"Pattern": '{"a": [1]}'}]}
    criteria = FilterCriteria.from_dict(shape)
    assert criteria.to_dict() == shape
    assert criteria == FilterCriteria(patterns=tuple(f["Pattern"] for f in shape["Filters"]))
    assert FilterCriteria.from_dict(None).to_dict() == {"Filters": []}
    assert FilterCriteria.from_dict({}).matches({"anything": 1})
    assert FilterCriteria.from_dict({"Filters": []}).matches({})


@pytest.mark.parametrize(
    ("criteria", "parameter"),
    [
        ({"Filter": []}, "FilterCriteria"),
        (["x"], "FilterCriteria"),
        ({"Filters": "x"}, "FilterCriteria.Filters"),
        ({"Filters": [{"pattern": "{}"}]}, "FilterCriteria.Filters[0]"),
        ({"Filters": [{}]}, "FilterCriteria.Filters[0]"),
        ({"Filters": [{"Pattern": 5}]}, "FilterCriteria.Filters[0].Pattern"),
    ],
)
def test_from_dict_refuses_other_shapes(criteria: Any, parameter: str) -> None:
    with pytest.raises(InvalidParameterValueError) as info:
        FilterCriteria.from_dict(criteria)
    assert info.value.parameter == parameter


def test_patterns_may_be_dicts_and_options_are_checked() -> None:
    criteria = FilterCriteria(patterns=({"a": ["x"]},))
    assert criteria.patterns == ('{"a": ["x"]}',)
    assert FilterCriteria(patterns='{"a": ["x"]}').patterns == ('{"a": ["x"]}',)
    with pytest.raises(InvalidParameterValueError, match="not JSON"):
        FilterCriteria(patterns=({"a": [float("nan")]},))
    with pytest.raises(InvalidParameterValueError, match="allow_eventbridge_extensions=1"):
        FilterCriteria(allow_eventbridge_extensions=1)  # type: ignore[arg-type]
    with pytest.raises(
        InvalidParameterValueError, match="event_source='aws:sns' is invalid: must be one of"
    ):
        FilterCriteria(event_source="aws:sns")
    with pytest.raises(TypeError, match="a filter view must be a mapping, not list"):
        criteria.matches([{"a": "x"}])  # type: ignore[arg-type]


def test_or_between_filters_and_select() -> None:
    criteria = FilterCriteria(patterns=('{"a": ["1"]}', '{"b": ["2"]}'))
    views = [{"a": "1"}, {"b": "2"}, {"a": "2", "b": "1"}, {"a": "1", "b": "2"}, {}]
    assert criteria.select(views) == [0, 1, 3]


# --- record views per source ---------------------------------------------------------------

SQS_RECORD = {
    "messageId": "059f36b4-87a3-44ab-83d2-661975830a7d",
    "receiptHandle": "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a...",
    "body": '{"kind": "order", "total": 99.50, "items": [{"sku": "A1"}, {"sku": "B2"}]}',
    "attributes": {
        "ApproximateReceiveCount": "1",
        "SentTimestamp": "1545082649183",
        "SenderId": "AIDAIENQZJOLO23YVJ4VO",
        "ApproximateFirstReceiveTimestamp": "1545082649185",
    },
    "messageAttributes": {},
    "md5OfBody": "e4e68fb7bd0e697a0ae8f1bb342846b3",
    "eventSource": "aws:sqs",
    "eventSourceARN": "arn:aws:sqs:us-east-2:123456789012:my-queue",
    "awsRegion": "us-east-2",
}


def kinesis_record(data: bytes) -> dict[str, Any]:
    return {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": "1",
            "sequenceNumber": "49590338271490256608559692538361571095921575989136588898",
            "data": base64.b64encode(data).decode(),
            "approximateArrivalTimestamp": 1545084650.987,
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": "shardId-000000000006:49590338271490256608559692538361571095921575989136588898",
        "eventName": "aws:kinesis:record",
        "awsRegion": "us-east-2",
    }


DDB_RECORD = {
    "eventID": "1",
    "eventVersion": "1.0",
    "dynamodb": {
        "Keys": {"Id": {"N": "101"}},
        "NewImage": {"Message": {"S": "New item!"}, "Id": {"N": "101"}},
        "StreamViewType": "NEW_AND_OLD_IMAGES",
        "SequenceNumber": "111",
        "SizeBytes": 26,
    },
    "awsRegion": "us-west-2",
    "eventName": "INSERT",
    "eventSource": "aws:dynamodb",
}


def test_sqs_view_parses_a_json_body_and_keeps_metadata() -> None:
    view = filter_view(SQS_RECORD)
    assert view["body"]["kind"] == "order"
    assert view["attributes"] == SQS_RECORD["attributes"]
    assert SQS_RECORD["body"].startswith("{")  # the record itself is untouched
    kept = [
        ({"body": {"kind": ["order"]}}, True),
        ({"body": {"items": {"sku": ["B2"]}}}, True),
        ({"body": {"total": [99.5]}}, False),  # the body says 99.50
        ({"body": {"total": [99.50]}}, False),  # json.dumps writes 99.5: text differs
        ({"body": {"total": [{"numeric": [">", 99]}]}}, True),
        ({"attributes": {"ApproximateReceiveCount": ["1"]}}, True),
        ({"attributes": {"ApproximateReceiveCount": [{"numeric": ["=", 1]}]}}, False),
        ({"body": ["order"]}, False),  # a plain-string rule never matches a JSON body
        ({"body": [{"exists": True}]}, False),
    ]
    assert [matches(p, view) for p, _ in kept] == [e for _, e in kept]
    assert matches('{"body": {"total": [99.50]}}', {"body": parse_data('{"total": 99.50}')})
    json_array = filter_view({**SQS_RECORD, "body": '["order"]'})
    assert json_array["body"] == ["order"]
    assert not matches({"body": ["order"]}, json_array)
    assert not matches({"body": [{"exists": False}]}, view)
    assert matches({"body": [{"exists": False}]}, {"messageId": "1"})


def test_sqs_plain_text_body_matches_rule_lists_only() -> None:
    view = filter_view({**SQS_RECORD, "body": "Test message."})
    assert view["body"] == "Test message."
    assert matches({"body": ["Test message."]}, view)
    assert matches({"body": [{"prefix": "Test"}]}, view)
    assert not matches({"body": {"kind": ["order"]}}, view)
    assert not matches({"body": {"kind": [{"exists": False}]}}, view)
    assert matches({"eventSource": ["aws:sqs"]}, view)


def test_kinesis_view_decodes_data() -> None:
    view = filter_view(kinesis_record(b'{"Location": "Los Angeles", "Temperature": 55}'))
    assert view["data"] == {"Location": "Los Angeles", "Temperature": 55}
    assert matches({"partitionKey": ["1"], "data": {"Location": ["Los Angeles"]}}, view)
    assert matches({"data": {"Temperature": [{"numeric": [">", 50, "<=", 60]}]}}, view)
    assert not matches({"partitionKey": ["2"], "data": {"Location": ["Los Angeles"]}}, view)
    plain = filter_view(kinesis_record(b"Hello, this is a test."))
    assert plain["data"] == "Hello, this is a test."
    assert not matches({"data": {"Location": ["Los Angeles"]}}, plain)
    assert matches({"partitionKey": ["1"]}, plain)
    binary = filter_view(kinesis_record(b"\xff\xfe"))
    assert binary["data"] == b"\xff\xfe"
    assert not matches({"data": [{"anything-but": "x"}]}, binary)
    broken = filter_view({"eventSource": "aws:kinesis", "kinesis": {"data": "***"}})
    assert broken == {"data": "***"}


def test_dynamodb_view_is_the_record() -> None:
    view = filter_view(DDB_RECORD)
    assert view == DDB_RECORD
    assert matches({"dynamodb": {"Keys": {"Id": {"N": ["101"]}}}}, view)
    assert matches(
        {
            "eventName": ["INSERT"],
            "dynamodb": {"NewImage": {"Message": {"S": [{"prefix": "New"}]}}},
        },
        view,
    )
    assert not matches({"dynamodb": {"Keys": {"Id": {"N": [101]}}}}, view)
    assert not matches({"dynamodb": {"Keys": {"Id": {"N": [{"numeric": ["=", 101]}]}}}}, view)


def test_other_sources_have_no_view() -> None:
    with pytest.raises(InvalidParameterValueError, match="eventSource='aws:sns'"):
        filter_view({"eventSource": "aws:sns"})


def test_stream_sources_refuse_a_plain_data_pattern() -> None:
    for source, key in [("aws:kinesis", "data"), ("aws:dynamodb", "dynamodb")]:
        with pytest.raises(
            InvalidParameterValueError, match=f"the stream data key '{key}' must be a JSON object"
        ):
            FilterCriteria(patterns=(json.dumps({key: ["x"]}),), event_source=source)
        assert FilterCriteria(patterns=(json.dumps({key: {"a": ["x"]}}),), event_source=source)
    sqs = FilterCriteria.from_dict(
        {"Filters": [{"Pattern": '{"body": ["x"]}'}]}, event_source="aws:sqs"
    )
    assert sqs.matches({"body": "x"})


def test_parse_data_keeps_number_text() -> None:
    values = [parse_data(f'{{"n": {t}}}')["n"] for t in ("300", "300.0", "3.0e2", "-0")]
    assert values == [300, 300.0, 300.0, 0]
    assert [getattr(v, "text", None) for v in values] == [None, "300.0", "3.0e2", "-0"]
    assert isinstance(values[1], JsonFloat)
    assert json.dumps(values[2]) == "300.0"
    assert parse_data("123") == "123"
    assert parse_data('"quoted"') == '"quoted"'
    assert parse_data("{not json") == "{not json"
    assert parse_data(b'[1, "a"]') == [1, "a"]
    assert parse_data(b"plain") == "plain"
    assert parse_data('{"a": NaN}') == '{"a": NaN}'
    assert parse_data("  \n[]") == []


# --- properties ---------------------------------------------------------------------------

KEYS = st.text(alphabet="abcxyz", min_size=1, max_size=3)
STRINGS = st.text(max_size=8)
NUMBERS = st.integers(-(10**6), 10**6) | st.floats(allow_nan=False, allow_infinity=False, width=64)
LEAVES = st.none() | st.booleans() | NUMBERS | STRINGS
JSON = st.recursive(
    LEAVES,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(KEYS, children, max_size=3),
    max_leaves=12,
)
OBJECTS = st.dictionaries(KEYS, JSON, min_size=1, max_size=4)


def from_text(value: Any) -> Any:
    """The value as a record would carry it: through JSON text, numbers keeping their text."""
    return parse_data(json.dumps({"v": value}))["v"]


@st.composite
def own_pattern(draw: st.DrawFn, obj: dict[str, Any]) -> dict[str, Any] | None:
    """A pattern built from some of ``obj``'s own fields (None when nothing is usable)."""
    pattern: dict[str, Any] = {}
    for key, value in obj.items():
        if not draw(st.booleans()):
            continue
        if isinstance(value, dict):
            sub = draw(own_pattern(value)) if value else None
            if sub:
                pattern[key] = sub
        elif isinstance(value, list):
            leaves = [v for v in value if not isinstance(v, (dict, list))]
            if leaves:
                pattern[key] = [draw(st.sampled_from(leaves))]
        else:
            pattern[key] = [value]
    return pattern or None


@given(data=st.data(), obj=OBJECTS)
def test_a_pattern_built_from_an_event_matches_it(data: st.DataObject, obj: dict[str, Any]) -> None:
    view = from_text(obj)
    pattern = data.draw(own_pattern(view))
    assume(pattern is not None)
    assert matches(pattern, view)


@given(value=NUMBERS | STRINGS, other=LEAVES)
@example(value=0, other=0.0)  # different JSON text: anything-but 0 matches 0.0
def test_anything_but_x_never_matches_x(value: Any, other: Any) -> None:
    value = from_text(value)
    other = from_text(other)
    criteria = FilterCriteria(patterns=(json.dumps({"f": [{"anything-but": value}]}),))
    assert not criteria.matches({"f": value})
    assert not criteria.matches({"f": [value, value]})
    # Equal by JSON text, as the filter compares (Lambda's docs: 300, 300.0 and 3.0e2 differ).
    same = (
        type(other) is not bool
        and (isinstance(other, str) == isinstance(value, str))
        and json.dumps(other) == json.dumps(value)
    )
    assert criteria.matches({"f": other}) is not same
    assert criteria.matches({"f": [value, other]}) is not same
    assert not criteria.matches({})


@given(
    low=NUMBERS,
    width=st.floats(min_value=1e-6, max_value=1e6),
    value=NUMBERS,
    low_op=st.sampled_from([">", ">="]),
    high_op=st.sampled_from(["<", "<="]),
)
def test_numeric_ranges_agree_with_python(
    low: float, width: float, value: float, low_op: str, high_op: str
) -> None:
    high = low + width
    assume(low < high and math.isfinite(high))
    ops = {
        ">": lambda a, b: a > b,
        ">=": lambda a, b: a >= b,
        "<": lambda a, b: a < b,
        "<=": lambda a, b: a <= b,
    }
    for rule, expected in [
        ([low_op, low, high_op, high], ops[low_op](value, low) and ops[high_op](value, high)),
        ([low_op, low], ops[low_op](value, low)),
        ([high_op, high], ops[high_op](value, high)),
        (["=", low], value == low),
    ]:
        assert matches({"n": [{"numeric": rule}]}, {"n": from_text(value)}) is expected, rule
        assert not matches({"n": [{"numeric": rule}]}, {"n": str(value)})


@given(text=STRINGS, prefix=STRINGS, suffix=STRINGS)
def test_string_operators_agree_with_python(text: str, prefix: str, suffix: str) -> None:
    view = {"s": text}
    assert matches({"s": [{"prefix": prefix}]}, view) is text.startswith(prefix)
    assert matches({"s": [{"suffix": suffix}]}, view) is text.endswith(suffix)
    assert matches({"s": [{"equals-ignore-case": prefix}]}, view) is (
        text.lower() == prefix.lower()
    )
    assert matches({"s": [text]}, view)
    assert matches({"s": [{"prefix": text[:2]}]}, view)
    if prefix:
        assert matches({"s": [{"anything-but": {"prefix": prefix}}]}, view) is not text.startswith(
            prefix
        )


def glob(pattern: str, text: str) -> bool:
    """A reference wildcard matcher without escapes: ``*`` is any run of characters."""
    if not pattern:
        return not text
    if pattern[0] == "*":
        return any(glob(pattern[1:], text[i:]) for i in range(len(text) + 1))
    return bool(text) and text[0] == pattern[0] and glob(pattern[1:], text[1:])


@given(pattern=st.text(alphabet="ab*.", max_size=6), text=st.text(alphabet="ab.*", max_size=6))
def test_wildcard_agrees_with_a_reference_glob(pattern: str, text: str) -> None:
    assume("**" not in pattern)
    assert matches({"w": [{"wildcard": pattern}]}, {"w": text}) is glob(pattern, text)
    assert matches({"w": [{"anything-but": {"wildcard": pattern}}]}, {"w": text}) is not glob(
        pattern, text
    )
    literal = pattern.replace("*", "\\*")
    assert matches({"w": [{"wildcard": literal}]}, {"w": text}) is (text == pattern)


@given(views=st.lists(OBJECTS, min_size=1, max_size=3), data=st.data())
@settings(max_examples=40)
def test_or_of_filters_is_any(views: list[dict[str, Any]], data: st.DataObject) -> None:
    views = [from_text(v) for v in views]
    patterns = [data.draw(own_pattern(v)) for v in views]
    patterns = [p for p in patterns if p]
    assume(patterns)
    criteria = FilterCriteria(patterns=tuple(json.dumps(p) for p in patterns))
    singles = [FilterCriteria(patterns=(json.dumps(p),)) for p in patterns]
    for view in views:
        assert criteria.matches(view) is any(s.matches(view) for s in singles)


@given(values=st.lists(LEAVES, max_size=4), rule=LEAVES)
def test_an_array_matches_when_any_element_does(values: list[Any], rule: Any) -> None:
    values = from_text(values)
    pattern = {"f": [rule, {"prefix": "a"}, {"numeric": [">", 0]}]}
    expected = any(matches(pattern, {"f": v}) for v in values)
    assert matches(pattern, {"f": values}) is expected


@given(value=JSON | st.just(None), present=st.booleans())
def test_exists_true_and_false_split_every_event(value: Any, present: bool) -> None:
    view = {"f": from_text(value)} if present else {}
    yes = matches({"f": [{"exists": True}]}, view)
    no = matches({"f": [{"exists": False}]}, view)
    assert yes is not no
    if isinstance(value, list):
        has_leaf = any(not isinstance(v, dict) for v in _flat(value))
    else:
        has_leaf = not isinstance(value, dict)
    assert yes is (present and has_leaf)


def _flat(values: list[Any]) -> list[Any]:
    out: list[Any] = []
    for v in values:
        out.extend(_flat(v) if isinstance(v, list) else [v])
    return out


@given(pattern=JSON, view=OBJECTS)
@settings(max_examples=100)
def test_any_json_is_a_valid_pattern_or_a_clear_error(pattern: Any, view: dict[str, Any]) -> None:
    error = None
    try:
        criteria = FilterCriteria(patterns=(json.dumps(pattern),))
    except InvalidParameterValueError as exc:
        error = exc
    if error is not None:
        assert error.parameter == "FilterCriteria.Filters[0].Pattern"
        assert "(at " in str(error)
    else:
        assert isinstance(criteria.matches(from_text(view)), bool)


@given(body=OBJECTS, text=STRINGS, data=st.data())
@settings(max_examples=40)
def test_sqs_body_patterns_need_a_json_body(
    body: dict[str, Any], text: str, data: st.DataObject
) -> None:
    view = filter_view({**SQS_RECORD, "body": json.dumps(body)})
    assert view["body"] == body
    pattern = data.draw(own_pattern(view["body"]))
    assume(pattern is not None)
    assert matches({"body": pattern}, view)
    plain = filter_view({**SQS_RECORD, "body": text})
    assume(not isinstance(plain["body"], (dict, list)))
    assert plain["body"] == text
    assert not matches({"body": pattern}, plain)
    assert matches({"body": [text]}, plain)
    assert not matches({"body": [text]}, view)


@given(value=JSON)
def test_parse_data_round_trips_objects_and_arrays(value: Any) -> None:
    text = json.dumps(value)
    parsed = parse_data(text)
    if isinstance(value, (dict, list)):
        assert parsed == value
        assert json.dumps(parsed) == text
    else:
        assert parsed == text


def test_compile_pattern_matches_whole_documents_without_the_data_key_format_check() -> None:
    from invokemodels.mapping._filters import compile_pattern

    text, matcher = compile_pattern({"data": ["x"], "n": [{"numeric": [">", 1]}]}, "FilterPolicy")
    assert json.loads(text) == {"data": ["x"], "n": [{"numeric": [">", 1]}]}
    document = {"data": ["x", "y"], "n": 2}
    assert matcher(document)
    # FilterCriteria treats "data" as a stream's data key: a rule list never matches JSON data.
    assert not FilterCriteria(patterns=[text]).matches(document)
    with pytest.raises(InvalidParameterValueError, match=r"^EventPattern=.*empty arrays"):
        compile_pattern({"a": []}, "EventPattern")
    with pytest.raises(InvalidParameterValueError, match=r"^EventPattern=3 .*JSON string"):
        compile_pattern(3, "EventPattern")  # type: ignore[arg-type]
