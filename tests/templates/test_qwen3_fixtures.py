"""The Qwen3-family fixtures through the core: the start state read from the prompt their template
renders (transformers), then the output parsed at once, character by character and at real token
boundaries, each equal to the fixture's expectation exactly."""

from __future__ import annotations

import json
from typing import Any

import pytest

from harness.qwen_tokenizer import merged_deltas, token_deltas
from qwq_tool_parser import parse, parse_stream, starts_in_reasoning
from tests.qwen3_fixtures import FIXTURES, expected, render


def test_every_start_state_has_fixtures() -> None:
    assert {f["template"] for f in FIXTURES.values()} == {"hybrid", "thinking_2507",
                                                           "instruct_2507"}
    assert any(f["continue_final_message"] for f in FIXTURES.values())
    assert any(f["chat_template_kwargs"].get("enable_thinking") is False for f in FIXTURES.values())


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_fixture_parses_to_its_expectation(tokenizer: Any, name: str) -> None:
    fixture = FIXTURES[name]
    start = starts_in_reasoning(render(tokenizer, fixture))
    text = fixture["output"]
    for chunks in ([text], list(text), token_deltas(text), merged_deltas(text, 5)):
        result = parse_stream(chunks, start_in_reasoning=start)
        calls = [(c.name, json.loads(c.arguments)) for c in result.tool_calls]
        assert (result.reasoning, result.content, calls) == expected(fixture)
        assert result == parse(text, start_in_reasoning=start)
