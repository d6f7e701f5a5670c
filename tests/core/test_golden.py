"""Golden transcripts: each fixture parses to its reviewed expectation, one-shot, character by
character, and token by token through the real QwQ tokenizer (as an engine streams it)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.qwen_tokenizer import merged_deltas, token_deltas
from qwq_tool_parser import parse, parse_stream
from tests.regen import fixture_texts, read_text, record

FIXTURES = fixture_texts()


def test_there_are_goldens() -> None:
    assert len(FIXTURES) >= 10
    assert all(p.with_suffix(".json").is_file() for p in FIXTURES)


@pytest.mark.parametrize("path", FIXTURES, ids=[p.stem for p in FIXTURES])
def test_golden(path: Path) -> None:
    text = read_text(path)
    expected = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    result = parse(text)
    assert record(result) == expected
    for chunks in (list(text), token_deltas(text), merged_deltas(text, 3), merged_deltas(text, 17)):
        assert "".join(chunks) == text
        assert parse_stream(chunks) == result


def test_cookbook_expectations_are_what_a_user_wants() -> None:
    """Spot checks of the reviewed goldens, so a careless regen cannot bless a regression."""
    def load(name: str) -> dict:  # type: ignore[type-arg]
        return json.loads((Path("fixtures/qwq") / f"{name}.json").read_text(encoding="utf-8"))

    clarify = load("cookbook_clarifying_question")
    assert clarify["tool_calls"] == [] and clarify["content"].startswith("Sure! Could you tell me")
    parallel = load("cookbook_parallel_sf_glasgow")
    assert parallel["content"] is None
    assert [json.loads(c["arguments"])["location"] for c in parallel["tool_calls"]] == [
        "San Francisco, CA", "Glasgow, Scotland"]
    quoted = load("call_quoted_in_think")
    assert len(quoted["tool_calls"]) == 1 and "<tool_call>" in quoted["reasoning"]
    assert quoted["content"] == "Let me check the weather in Paris for you."
    cut = load("cut_off_by_max_tokens")
    assert cut["tool_calls"] == [] and cut["content"].startswith("<tool_call>")
    no_end = load("call_without_think_end")
    assert no_end["tool_calls"] == [] and no_end["content"] is None
