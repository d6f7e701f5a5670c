"""The Qwen3-family fixtures (``fixtures/qwen3/*.json``), shared by the engines' replay tests.

Each fixture is one request and one model output in a given start state: the template (a name in
``QWEN3_TEMPLATES``), its kwargs, the messages (a prefilled final assistant message when
``continue_final_message``), the output, and the reviewed expectation (reasoning, content and calls,
exactly: whitespace included). The expectations are written by hand, not produced by the parser.
"""

from __future__ import annotations

import json
import pathlib
from typing import Any

from tests.qwen3_templates import QWEN3_TEMPLATES

ROOT = pathlib.Path(__file__).resolve().parents[1]
PATHS = sorted((ROOT / "fixtures" / "qwen3").glob("*.json"))
FIXTURES: dict[str, dict[str, Any]] = {
    p.stem: json.loads(p.read_text(encoding="utf-8")) for p in PATHS
}
"""Fixture name -> its fields."""


def template(fixture: dict[str, Any]) -> str:
    """The fixture's chat template source."""
    return QWEN3_TEMPLATES[fixture["template"]]


def render(tokenizer: Any, fixture: dict[str, Any]) -> str:
    """The prompt the fixture's template renders for its request (as the engine would)."""
    prefill = fixture["continue_final_message"]
    prompt = tokenizer.apply_chat_template(
        fixture["messages"], chat_template=template(fixture), tokenize=False,
        add_generation_prompt=not prefill, continue_final_message=prefill,
        **fixture["chat_template_kwargs"])
    return str(prompt)


def expected(fixture: dict[str, Any]) -> tuple[Any, Any, list[tuple[str, Any]]]:
    """(reasoning, content, [(name, parsed arguments)]); None for an empty text field."""
    calls = [(c["name"], json.loads(c["arguments"])) for c in fixture["tool_calls"]]
    return fixture["reasoning"], fixture["content"], calls


def check(fixture: dict[str, Any], got: tuple[Any, Any, list[tuple[str, Any]]], *,
          stream: bool, reasoning_parser: str | None) -> None:
    """``got`` (reasoning, content, [(name, parsed arguments)]; None for empty text) is the
    fixture's expectation. One vLLM corner: non-streaming gives a tool parser with no reasoning
    parser no reasoning slot, so the think block stays in content as text (README "Wire fields");
    there the calls and the content after the block must still match."""
    want = expected(fixture)
    if not stream and reasoning_parser is None and want[0] is not None:
        assert got[0] is None and got[2] == want[2]
        assert got[1] is not None and got[1].endswith(want[1] or "")
    else:
        assert got == want
