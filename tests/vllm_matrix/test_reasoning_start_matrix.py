"""The Qwen3-family fixtures through each vLLM version's own chat serving code: the model's own
template (the tokenizer's) renders the prompt the engine hands the serving code; streamed and
non-streamed replies, with ``qwq`` as reasoning parser and with the tool parser alone, must equal
the fixture's expectation exactly (README "Where reasoning starts", version notes)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from qwq_tool_parser import qwq_vllm  # noqa: F401  (registers "qwq" with this vLLM)

from tests.qwen3_fixtures import FIXTURES, check, render, template
from tests.vllm_matrix.serving import VERSION, load_tokenizer, run, serving_chat

# The tool parser alone is claimed from 0.30 (README "vLLM versions": no "no reasoning parser"
# signal before); it runs on 0.33 here (on 0.32 through tests/vllm). Before 0.20 this module is not
# collected (conftest.py, README version note).
PARSERS = {"qwq": "qwq", "tools_only": None} if VERSION >= (0, 33) else {"qwq": "qwq"}


@pytest.fixture(scope="module")
def tokenizers() -> dict[str, Any]:
    """A tokenizer per template name, with that template as its own (copies of one loaded)."""
    loaded, out = load_tokenizer(), {}
    for fixture in FIXTURES.values():
        if fixture["template"] not in out:
            out[fixture["template"]] = tokenizer = copy.copy(loaded)
            tokenizer.chat_template = template(fixture)
    return out


@pytest.fixture(scope="module", params=list(PARSERS))
def serving(request: pytest.FixtureRequest) -> tuple[Any, str | None]:
    reasoning_parser = PARSERS[request.param]
    return serving_chat(reasoning_parser=reasoning_parser), reasoning_parser


@pytest.mark.parametrize("stream", [True, False], ids=["stream", "nonstream"])
@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_qwen3_fixture(serving: tuple[Any, str | None], tokenizers: dict[str, Any], name: str,
                       stream: bool) -> None:
    chat, reasoning_parser = serving
    fixture = FIXTURES[name]
    tokenizer = tokenizers[fixture["template"]]
    prefill = fixture["continue_final_message"]
    reply = run(chat, tokenizer, fixture["output"], stream=stream,
                prompt=render(tokenizer, fixture), messages=fixture["messages"],
                chat_template_kwargs=fixture["chat_template_kwargs"],
                continue_final_message=prefill, add_generation_prompt=not prefill)
    got = (reply.reasoning or None, reply.content or None,
           [(c.name, json.loads(c.arguments)) for c in reply.tool_calls])
    check(fixture, got, stream=stream, reasoning_parser=reasoning_parser)
    assert reply.finish_reason == ("tool_calls" if got[2] else "stop")
