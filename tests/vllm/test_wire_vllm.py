"""Wire-exact streaming through vLLM 0.32's real parser path (issue 9), no server.

Each example is a QwQ output (generated, or one of the issue's cases), possibly cut off, streamed
at real QwQ token boundaries (1..8 tokens per delta) through ``DelegatingParser.parse_delta``
exactly as ``OpenAIServingChat`` calls it, each ``DeltaMessage`` serialized as the server puts it in
a chunk. ``tests.wire.rebuild`` merges the chunks as openai-python does (checking the streaming
contract) and the result must equal the non-streaming message the same parser class gives for the
same text (``DelegatingParser.parse``), except the documented truncation case. finish_reason is
decided by the serving loop, not the parser: the real-server tests (``test_wire_vllm_server``)
check it.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness import qwen_tokenizer
from harness.vllm_client import COOKBOOK_TOOLS
from tests.vllm.test_vllm_parser_cases import EOS, PROMPT, request, tokenizer  # noqa: F401
from tests.wire.cases import ISSUE_TEXTS, check_wire, token_steps, wire_texts
from tests.wire.rebuild import Message, chat_response, chat_stream

PARSERS = {"qwq": False, "qwq_whole": True}  # registered name -> whole-call mode (no exception to equality)


def _parser(tokenizer: Any, name: str) -> Any:
    from vllm.parser import ParserManager

    cls = ParserManager.get_parser(tool_parser_name=name, reasoning_parser_name="qwq",
                                   enable_auto_tools=True, tokenizer=tokenizer)
    return cls(tokenizer, COOKBOOK_TOOLS)


def streamed(tokenizer: Any, name: str, steps: list[tuple[str, list[int]]]) -> Message:
    parser, req = _parser(tokenizer, name), request()
    steps = [*steps, ("", [EOS])]
    chunks = []
    for k, (delta, ids) in enumerate(steps):
        msg = parser.parse_delta(delta, ids, req, PROMPT, finished=k == len(steps) - 1)
        if msg is not None:
            delta_json = msg.model_dump(mode="json", exclude_unset=True)
            chunks.append({"choices": [{"index": 0, "delta": delta_json, "finish_reason": None}]})
    chunks.append({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    return chat_stream(chunks)


def non_streamed(tokenizer: Any, name: str, text: str) -> Message:
    parser = _parser(tokenizer, name)
    parser.set_prompt_token_ids(PROMPT)
    reasoning, content, calls = parser.parse(text, request(), enable_auto_tools=True,
                                             model_output_token_ids=qwen_tokenizer.encode(text))
    message = {"reasoning": reasoning, "content": content, "tool_calls": [
        {"function": {"name": c.name, "arguments": c.arguments}} for c in calls or []]}
    return chat_response({"choices": [{"message": message, "finish_reason": "stop"}]})


@pytest.mark.parametrize("whole", [1, 9999], ids=["per-token", "one-delta"])
@pytest.mark.parametrize("name", ISSUE_TEXTS)
@pytest.mark.parametrize("parser", PARSERS)
def test_issue_cases(tokenizer: Any, parser: str, name: str, whole: int) -> None:
    text = ISSUE_TEXTS[name]
    ids = qwen_tokenizer.encode(text)
    steps = list(zip(qwen_tokenizer.merged_deltas(text, whole),
                     [ids[i:i + whole] for i in range(0, len(ids), whole)]))
    check_wire(streamed(tokenizer, parser, steps), non_streamed(tokenizer, parser, text),
               exact=PARSERS[parser])


@settings(max_examples=50)
@given(data=st.data())
@pytest.mark.parametrize("parser", PARSERS)
def test_stream_rebuilds_to_the_response(tokenizer: Any, parser: str, data: st.DataObject) -> None:
    text, _ = data.draw(wire_texts(), label="text")
    steps = data.draw(token_steps(text), label="steps")
    check_wire(streamed(tokenizer, parser, steps), non_streamed(tokenizer, parser, text),
               exact=PARSERS[parser])


def test_prebuilt_argument_deltas_serialize_like_validated_ones() -> None:
    """The adapter's hot path skips pydantic validation: its messages must be the same on the wire."""
    from vllm.entrypoints.openai.chat_completion.protocol import (
        ChatCompletionResponseStreamChoice,
        ChatCompletionStreamResponse,
    )

    from qwq_tool_parser import qwq_vllm as q

    def chunk(delta: Any) -> Any:
        choice = ChatCompletionResponseStreamChoice(index=0, delta=delta, finish_reason=None)
        return ChatCompletionStreamResponse(id="x", created=0, model="qwq", choices=[choice])

    built = q._arguments_message(
        tool_calls=[q._arguments_call(index=2, function=q._arguments(arguments='{"a": "é'))])
    validated = q.DeltaMessage(tool_calls=[q.DeltaToolCall(
        index=2, function=q.DeltaFunctionCall(arguments='{"a": "é'))])
    for kw in ({}, {"exclude_unset": True}, {"exclude_none": True}):
        assert built.model_dump_json(**kw) == validated.model_dump_json(**kw)
        assert chunk(built).model_dump_json(**kw) == chunk(validated).model_dump_json(**kw)
    assert q.DeltaMessage.model_validate_json(built.model_dump_json()) == validated
