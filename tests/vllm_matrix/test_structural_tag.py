"""``tool_choice`` grammars: from 0.24 vLLM asks the tool parser for a structural tag, and ours is
``qwq`` (QwQ's whitespace around and between calls). 0.33 adds a server strict level whose default,
AUTO, leaves ``tool_choice="auto"`` unconstrained unless a tool is ``strict`` or
``parallel_tool_calls`` is false; and ``set_history_tool_call_count()`` on the parser."""

from __future__ import annotations

import json
from typing import Any

import pytest
from qwq_tool_parser import parse, qwq_vllm

from tests.vllm._shared import transcript
from tests.vllm_matrix.serving import VERSION, load_tokenizer, request, run, serving_chat

NAMED = {"type": "function", "function": {"name": "get_current_weather"}}
ENVELOPE = '<tool_call>\\n{\\"name\\": \\"get_current_weather\\", \\"arguments\\": '


def adjusted(reasoning_parser: str | None = "qwq", **fields: Any) -> Any:
    """The request after the real ``DelegatingParser.adjust_request`` with our parsers (our tool
    parser alone with ``reasoning_parser=None``)."""
    serving = serving_chat(reasoning_parser=reasoning_parser)
    parser = serving.parser_cls(load_tokenizer(), None)
    req = request(stream=False, **fields)
    return parser.adjust_request(req)


def tag_of(req: Any) -> str | None:
    so = getattr(req, "structured_outputs", None)
    return None if so is None else so.structural_tag


def test_the_qwq_tag_exists_exactly_where_vllm_has_a_tag_registry() -> None:
    assert (qwq_vllm._STRUCTURAL_TAG == "qwq") == (VERSION >= (0, 24))


if VERSION >= (0, 24):
    from xgrammar import structural_tag as xs

    def test_required_gets_the_qwq_grammar() -> None:
        tag = tag_of(adjusted(tool_choice="required"))
        assert tag is not None and ENVELOPE in tag and "[ \\\\t\\\\r\\\\n]*" in tag
        assert json.loads(tag)["format"]["type"] == "sequence"

    def test_a_tool_without_parameters_still_needs_object_arguments() -> None:
        """vLLM's schema for it is ``true`` (any value); a block whose arguments are not an
        object is not a call, so the grammar asks for an object."""
        bare = {"type": "function", "function": {"name": "ping"}}
        tag = json.loads(tag_of(adjusted(tool_choice="required", tools=[bare])) or "null")
        calls = tag["format"]["elements"][1]
        assert {t["content"]["json_schema"]["type"] for t in calls["tags"]} == {"object"}
        assert {t["begin"] for t in calls["tags"]} == {
            '<tool_call>\n{"name": "ping", "arguments": ', '<tool_call>{"name": "ping", "arguments": '
        }

    @pytest.mark.parametrize("fields", [{"tool_choice": "required"}, {"tool_choice": NAMED},
                                        {"tool_choice": "auto", "parallel_tool_calls": False}],
                             ids=["required", "named", "auto_one_call"])
    def test_without_a_reasoning_parser_the_think_block_goes_first(fields: dict[str, Any]) -> None:
        """0.32+ tell the tool parser that no reasoning parser runs (the grammar then starts at the
        output's first token): the tag is the one with a reasoning parser, behind XGrammar's own
        "any text up to ``</think>``" element, byte for byte as vLLM puts it in the request.
        Earlier versions never say so: the tag stays the same."""
        with_parser, alone = tag_of(adjusted(**fields)), tag_of(adjusted(None, **fields))
        if VERSION < (0, 32):
            assert alone == with_parser
            return
        assert with_parser is not None
        think = xs.TagFormat(begin="", content=xs.AnyTextFormat(), end="</think>").model_dump()
        behind = [think, json.loads(with_parser)["format"]]
        assert alone == json.dumps(
            {"type": "structural_tag", "format": {"type": "sequence", "elements": behind}})


if VERSION >= (0, 33):

    def test_auto_is_unconstrained_at_the_default_strict_level() -> None:
        assert qwq_vllm.QwQToolParser.default_tool_strict_level.name == "AUTO"
        assert tag_of(adjusted(tool_choice="auto")) is None

    def test_auto_with_parallel_tool_calls_false_stops_after_one_call() -> None:
        tag = tag_of(adjusted(tool_choice="auto", parallel_tool_calls=False))
        assert tag is not None and ENVELOPE in tag
        assert '"stop_after_first": true' in tag

    def test_history_tool_call_count_leaves_our_calls_alone() -> None:
        serving, tokenizer = serving_chat(), load_tokenizer()
        text = transcript("cookbook_parallel_sf_glasgow")
        reply = run(serving, tokenizer, text, stream=False,
                    prepare=lambda parser: parser.set_history_tool_call_count(3))
        assert [(c.name, c.arguments) for c in reply.tool_calls] == [
            (c.name, c.arguments) for c in parse(text).tool_calls
        ]
        assert all(c.id.startswith("chatcmpl-tool-") for c in reply.tool_calls)
