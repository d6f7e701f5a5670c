"""The grammar SGLang builds for ``tool_choice`` and ``parallel_tool_calls`` with the ``qwq`` tool
parser: asked for through SGLang's own ``FunctionCallParser.get_structure_constraint`` (the call
serving_chat makes), compiled by XGrammar, and matched against what QwQ writes after ``</think>``.
The real server runs the same grammar in tests/sglang/test_server_main.py.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import xgrammar
from sglang.srt.entrypoints.openai.protocol import Tool, ToolChoice
from sglang.srt.function_call.function_call_parser import FunctionCallParser
from xgrammar.testing import _is_grammar_accept_string

from harness.vllm_client import COOKBOOK_TOOLS
from tests.vllm._shared import transcript

TOOLS = [Tool.model_validate(t) for t in COOKBOOK_TOOLS]
STRICT = [Tool.model_validate({**t, "function": {**t["function"], "strict": True}})
          for t in COOKBOOK_TOOLS]
NAMED = ToolChoice(type="function", function={"name": "get_current_weather"})
PARALLEL = transcript("cookbook_parallel_sf_glasgow").split("</think>")[1]
ONE = transcript("cookbook_glasgow_5_days").split("</think>")[1]


def _call(name: str, arguments: Any) -> str:
    return f'<tool_call>\n{{"name": "{name}", "arguments": {json.dumps(arguments)}}}\n</tool_call>'


NOW = _call("get_current_weather", {"location": "Oslo", "format": "celsius"})


def grammar(tool_choice: Any, *, parallel: bool = True, tools: list[Tool] = TOOLS,
            thinking: bool = False) -> Any:
    constraint = FunctionCallParser(tools, "qwq").get_structure_constraint(
        tool_choice, parallel_tool_calls=parallel, thinking_mode=thinking)
    assert constraint is not None and constraint[0] == "structural_tag"
    return xgrammar.Grammar.from_structural_tag(constraint[1].model_dump_json(by_alias=True))


def accepts(g: Any, text: str) -> bool:
    return bool(_is_grammar_accept_string(g, text))


def test_required_accepts_qwq_framing_and_any_number_of_calls() -> None:
    g = grammar("required")
    assert accepts(g, ONE) and accepts(g, PARALLEL) and accepts(g, NOW)
    assert accepts(g, "\n\n" + NOW.replace("\n", "") + "\n")  # newlines in the block optional
    for text in ("", "\n\n", "It is sunny.", "It is sunny.\n" + NOW, NOW + "\nDone.",
                 _call("get_current_weather", ["Oslo"]), _call("get_time", {})):
        assert not accepts(g, text), text


def test_one_call_when_parallel_tool_calls_is_false() -> None:
    g = grammar("required", parallel=False)
    assert accepts(g, ONE) and accepts(g, NOW + "\n")
    assert not accepts(g, PARALLEL)


def test_named_choice_allows_that_tool_once() -> None:
    g = grammar(NAMED)
    assert accepts(g, "\n\n" + NOW)
    assert not accepts(g, ONE)  # another tool
    assert not accepts(g, NOW + "\n" + NOW)


def test_strict_tools_keep_their_schema() -> None:
    loose, strict = grammar("required"), grammar("required", tools=STRICT)
    odd = _call("get_current_weather", {"location": "Oslo", "format": "kelvin"})
    assert accepts(loose, odd) and not accepts(strict, odd)
    assert accepts(strict, NOW) and accepts(strict, PARALLEL)


def test_thinking_mode_lets_the_think_block_through() -> None:
    """Without SGLang's reasoner grammar (it passes ``thinking_mode=True`` only then)."""
    g = grammar("required", thinking=True)
    assert accepts(g, "Oslo, so get_current_weather; <tool_call> is the format.\n</think>" + ONE)
    assert not accepts(g, ONE)


def test_auto_is_free_unless_parallel_tool_calls_is_false() -> None:
    assert FunctionCallParser(TOOLS, "qwq").get_structure_constraint("auto") is None
    g = grammar("auto", parallel=False)
    assert accepts(g, "It is sunny.") and accepts(g, ONE) and accepts(g, "Let me check.\n" + NOW)
    assert not accepts(g, PARALLEL)
    assert not accepts(g, "<tool_call>\nnot json\n</tool_call>")


@pytest.mark.parametrize("choice", ["required", NAMED], ids=["required", "named"])
def test_the_tag_keeps_no_think_literal_out(choice: Any) -> None:
    """SGLang strips the think tokens from a tag's excludes; ours has none to strip, and the
    reasoner grammar (not the tag) owns the think block."""
    constraint = FunctionCallParser(TOOLS, "qwq").get_structure_constraint(choice)
    assert constraint is not None
    assert "</think>" not in constraint[1].model_dump_json()
