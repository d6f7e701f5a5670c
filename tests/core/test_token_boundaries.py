"""Outputs fed the way engines feed them: one delta per token of the real QwQ tokenizer (including
empty deltas where a token ends inside a UTF-8 character), and several tokens merged per delta."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from harness.qwen_tokenizer import encode, merged_deltas, token_deltas
from qwq_tool_parser import parse, parse_stream
from tests.strategies import transcripts


def test_tags_are_single_tokens_in_the_qwq_stream() -> None:
    text = 'Hmm.</think>\n\n<tool_call>\n{"name": "f", "arguments": {}}\n</tool_call>'
    ids = encode(text)
    assert {151668, 151657, 151658} <= set(ids)
    deltas = token_deltas(text)
    assert "<tool_call>" in deltas and "</think>" in deltas and "</tool_call>" in deltas


@given(transcripts(), st.integers(1, 9))
def test_token_deltas_parse_like_the_whole_text(tr, merge) -> None:  # type: ignore[no-untyped-def]
    deltas = token_deltas(tr.text)
    text = "".join(deltas)  # the NFC form the tokenizer round-trips
    options = {"start_in_reasoning": tr.start_in_reasoning}
    expected = parse(text, **options)
    assert parse_stream(deltas, **options) == expected
    assert parse_stream(merged_deltas(text, merge), **options) == expected
