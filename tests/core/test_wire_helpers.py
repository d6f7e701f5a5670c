"""The wire tests' own JSON-prefix check (``tests.wire.json_prefix``) agrees with ``json``."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.strategies import json_objects, json_texts
from tests.wire.json_prefix import is_object_prefix


@given(st.data())
def test_every_prefix_of_an_object_is_accepted(data: st.DataObject) -> None:
    text = data.draw(json_texts(data.draw(json_objects)))
    assert all(is_object_prefix(text[:k]) for k in range(len(text) + 1))


@given(st.text(alphabet='{}[]",:\\ -.0123456789eEtrufalsn', max_size=30))
def test_what_json_accepts_as_an_object_is_accepted(text: str) -> None:
    try:
        is_object = isinstance(json.loads(text), dict)
    except ValueError:
        is_object = False
    assert is_object <= is_object_prefix(text)
    if is_object:  # and nothing may follow a complete object
        assert not is_object_prefix(text + " 1")


@pytest.mark.parametrize("text", ['{"a": tru}', '{"a": 1} tail', "hello", '{"a": 01}', '{"a" 1}',
                                  '{"a": 1,}', "[1]", '{"a": "\\x"}', '{"a": 1 2}', '{"a": -}'])
def test_invalid_texts_are_rejected(text: str) -> None:
    assert not is_object_prefix(text)
