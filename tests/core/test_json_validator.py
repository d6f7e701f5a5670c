"""The incremental JSON validator agrees with ``json.loads`` (less its documented differences: lone
surrogates and a nesting cap) on generated and mutated texts, in every chunking, and its verdict
depends on neither the int digit limit nor the caller's stack depth."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from qwq_tool_parser._json_validator import JsonValidator, check_json_object
from tests.strategies import json_texts, json_values

_WS = re.compile(r"[ \t\r\n]*")
_SURROGATE = re.compile("[\ud800-\udfff]")
DEPTH = 64


@contextmanager
def unlimited_int_digits() -> Iterator[None]:
    before = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)
    try:
        yield
    finally:
        sys.set_int_max_str_digits(before)


def _reject(name: str) -> Any:
    raise ValueError(name)


def _strings(value: Any) -> Iterator[str]:
    todo = [value]
    while todo:
        item = todo.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            for key, inner in item.items():
                todo += [key, inner]
        elif isinstance(item, list):
            todo += item


def reference(text: str) -> bool:
    """json.loads, minus surrogates in any decoded string; generated texts nest < DEPTH levels."""
    try:
        with unlimited_int_digits():
            value = json.loads(text, parse_constant=_reject)
    except (ValueError, RecursionError):
        return False
    return not any(_SURROGATE.search(s) for s in _strings(value))


def validate(text: str, cuts: list[int], hot: bool = False) -> bool:
    """Feed ``text`` cut at ``cuts``; True if it is one JSON value with whitespace around it. With
    ``hot``, each piece that starts inside a string is first offered to ``take_string_piece``, as
    the parser's hot path does."""
    validator = JsonValidator(DEPTH)
    pos = _WS.match(text).end()  # type: ignore[union-attr]
    for cut in [*sorted(cuts), len(text)]:
        if cut <= pos:
            continue
        if hot and validator.in_string and validator.take_string_piece(text[pos:cut]):
            pos = cut
            continue
        pos = validator.feed(text, pos, cut)
        if validator.problem:
            return False
        if validator.done:
            break
    if not validator.done and not validator.end():
        return False
    return _WS.match(text, pos).end() == len(text)  # type: ignore[union-attr]


_PIECES = list('{}[]",:-+.0123456789eEtrufalsn \n\\/bu') + ["\\u", "d83d", "\\ud83d", "\\ude00",
                                                           "\\udc00", "\x01", "\ud800", "é"]


@st.composite
def mutated(draw: st.DrawFn) -> str:
    text = draw(json_texts(draw(json_values)))
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(text)))
        piece = draw(st.sampled_from(_PIECES))
        op = draw(st.sampled_from(["insert", "delete", "replace"]))
        if op == "insert":
            text = text[:at] + piece + text[at:]
        elif op == "delete":
            text = text[:at] + text[at + 1 :]
        else:
            text = text[:at] + piece + text[at + 1 :]
    return text


@given(st.data(), mutated() | st.lists(st.sampled_from(_PIECES), max_size=12).map("".join))
def test_agrees_with_json_loads_in_every_chunking(data: st.DataObject, text: str) -> None:
    cuts = data.draw(st.lists(st.integers(0, len(text)), max_size=4))
    expected = reference(text)
    assert validate(text, []) == validate(text, cuts) == validate(text, cuts, hot=True) == expected


@given(json_values)
def test_accepts_every_generated_value(value: Any) -> None:
    text = json.dumps(value, ensure_ascii=False)
    assert reference(text) and validate(text, list(range(len(text))))


def test_string_pieces_take_the_hot_path_only_when_they_continue_the_string() -> None:
    # Every one- and two-character chunking: pieces ending in a backslash, or starting an escape.
    for text in ['"a\\nb"', '"\\\\\\""', '"\\u00e9\\/"', '"\\ud83d\\ude00"', '"x\\q"',
                 '"\\ud800\\u0041"', '"a\x01b"', '"ab\ud800c"', '"ab\tc"', '"a\x7fb"']:
        for step in (1, 2):
            cuts = list(range(0, len(text) + 1, step))
            assert validate(text, cuts, hot=True) == validate(text, cuts) == reference(text), text
    validator = JsonValidator(DEPTH)
    assert validator.feed('"', 0, 1) == 1 and validator.in_string
    assert validator.take_string_piece("ab\\")  # a backslash at the end: its escape comes next
    assert not validator.take_string_piece("x")  # not an escape: the full feed reports it
    assert validator.take_string_piece("n\\\\") and validator.in_string
    assert not validator.take_string_piece('a"')  # the string ends: the full feed reads on
    assert validator.feed('a"', 0, 2) == 2 and validator.done


def test_surrogates_only_as_escaped_pairs() -> None:
    assert validate('"\\ud83d\\ude00"', [])
    for text in ['"\\ud83d"', '"\\ude00"', '"\\ud83dx"', '"\\ud83d\\n"', '"\\ud83d\\u0041"',
                 '"\\ud83d\\ud83d"', '"\ud800"', '"\ud83d\ude00"']:
        assert not validate(text, []), text


def test_stops_at_the_first_character_that_cannot_continue() -> None:
    for text, at in [('{"a": [1, 2,]}', 12), ('{"a": tru }', 9), ('{"a": 01}', 7),
                     ('["\\x"]', 3), ('["\\ud800\\u0041"]', 10), ("[1e+]", 4), ('{"a" 1}', 5)]:
        validator = JsonValidator(DEPTH)
        assert validator.feed(text, 0, len(text)) == at and validator.problem, text
        assert validator.feed(text, at, len(text)) == at  # the stopping character stays unread


def test_numbers_of_any_length_whatever_the_int_digit_limit() -> None:
    text = '{"a": -' + "7" * 100_000 + ".5e" + "9" * 5000 + "}"
    before = sys.get_int_max_str_digits()
    try:
        for limit in (0, 640, 4300):
            sys.set_int_max_str_digits(limit)
            assert check_json_object(text, DEPTH) is None
    finally:
        sys.set_int_max_str_digits(before)


def _at_depth(frames: int, check: Any) -> Any:
    return check() if frames == 0 else _at_depth(frames - 1, check)


def test_nesting_cap_whatever_the_callers_stack_depth() -> None:
    def verdicts() -> tuple[bool, bool]:
        fits = '{"a": [' * 64 + "{}" + "]}" * 64  # 129 levels
        return check_json_object(fits, 129) is None, check_json_object(fits, 128) is None

    assert verdicts() == (True, False)
    assert _at_depth(sys.getrecursionlimit() - 100, verdicts) == (True, False)
    deep = "[" * 1_000_000
    assert not validate(deep, [])  # no RecursionError, just no value
