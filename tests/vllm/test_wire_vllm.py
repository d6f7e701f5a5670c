"""Wire-exact streaming through vLLM 0.32's real parser path (issue 9), no server.

Each example is a QwQ output (generated, or one of the issue's cases), possibly cut off, streamed
at real QwQ token boundaries (1..8 tokens per delta) through ``DelegatingParser.parse_delta``
exactly as ``OpenAIServingChat`` calls it, each ``DeltaMessage`` serialized as the server puts it in
a chunk. ``tests.wire.rebuild`` merges the chunks as openai-python does (checking the streaming
contract) and the result must equal the non-streaming message the same parser class gives for the
same text (``DelegatingParser.parse``), except the documented truncation case. The same messages
also go through vLLM's own streaming ``/v1/responses`` event processor, whose items must agree (cut
outputs end at the token limit, as the server flushes them). finish_reason is
decided by the serving loop, not the parser: the real-server tests (``test_wire_vllm_server``)
check it.
"""

from __future__ import annotations

from typing import Any

import pydantic
import pytest
from hypothesis import given, settings

from harness import qwen_tokenizer
from harness.vllm_client import COOKBOOK_TOOLS
from tests.vllm.test_vllm_parser_cases import EOS, PROMPT, request, tokenizer  # noqa: F401
from tests.wire.cases import ISSUE_TEXTS, WireStream, check_wire, is_json_object, wire_streams
from tests.wire.rebuild import Message, chat_response, chat_stream, responses_stream

PARSERS = {"qwq": False, "qwq_whole": True}  # registered name -> whole-call mode (no exception to equality)


def _parser(tokenizer: Any, name: str) -> Any:
    from vllm.parser import ParserManager

    cls = ParserManager.get_parser(tool_parser_name=name, reasoning_parser_name="qwq",
                                   enable_auto_tools=True, tokenizer=tokenizer)
    return cls(tokenizer, COOKBOOK_TOOLS)


def _responses_request(max_output_tokens: int | None) -> Any:
    from vllm.entrypoints.openai.responses.protocol import ResponsesRequest

    tools = [{"type": "function", **t["function"]} for t in COOKBOOK_TOOLS]
    return ResponsesRequest(model="qwq", input="Hi", tools=tools,
                            max_output_tokens=max_output_tokens)


def delta_messages(tokenizer: Any, name: str, steps: list[tuple[str, list[int]]],
                   cut: bool = False, responses: bool = False) -> list[Any]:
    """The parser's ``DeltaMessage``s for ``steps``, as the serving code gets them: the output ends
    with EOS (a last step without text), or, ``cut``, at the request's token limit (the last step
    is the last text; vLLM then flushes the parsers in that same step). ``responses``: for a
    ``/v1/responses`` request (else a chat completions one)."""
    parser = _parser(tokenizer, name)
    limit = sum(len(ids) for _, ids in steps) if cut else None
    req = _responses_request(limit) if responses else request(max_tokens=limit)
    steps = steps if cut and steps else [*steps, ("", [EOS])]
    messages = []
    for k, (delta, ids) in enumerate(steps):
        msg = parser.parse_delta(delta, ids, req, PROMPT, finished=k == len(steps) - 1)
        if msg is not None:
            messages.append(msg)
    return messages


def chat_rebuilt(messages: list[Any]) -> Message:
    """The chunks of ``OpenAIServingChat`` for ``messages``, merged as openai-python does."""
    chunks = [{"choices": [{"index": 0, "delta": msg.model_dump(mode="json", exclude_unset=True),
                            "finish_reason": None}]} for msg in messages]
    chunks.append({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    return chat_stream(chunks)


def responses_rebuilt(messages: list[Any]) -> Message:
    """The events vLLM 0.32's streaming ``/v1/responses`` makes of ``messages``: its own
    ``split_delta`` and ``SimpleStreamingEventProcessor``, driven as
    ``OpenAIServingResponses._process_simple_streaming_events`` drives them, then folded into items
    as a client does. (A message with text after argument bytes of an open call raised here: a
    dropped connection on the server; see qwq_vllm._responses_safe.)"""
    from vllm.entrypoints.openai.responses.streaming_events import (
        SimpleStreamingEventProcessor,
        _StateType,
        split_delta,
    )

    processor, events = SimpleStreamingEventProcessor(), []
    for msg in messages:
        for part in split_delta(msg):
            state, call = processor.resolve_target_state(part)
            if state == _StateType.NONE:
                continue
            if processor.needs_transition(state, call):
                events += processor.close_current() + processor.open(state, call)
            events += processor.emit_delta(part, None, None)
    events += processor.close_current()
    payloads = [ev.model_dump(mode="json") for ev in events]
    payloads.append({"type": "response.completed", "response": {"status": "completed"}})
    return responses_stream(payloads)


def streamed(tokenizer: Any, name: str, steps: list[tuple[str, list[int]]],
             cut: bool = False) -> Message:
    """What a chat client rebuilds; the Responses rebuild of the same output must agree (but for
    argument bytes of a withdrawn call, which a Responses stream may carry fewer of)."""
    chat = chat_rebuilt(delta_messages(tokenizer, name, steps, cut))
    messages = delta_messages(tokenizer, name, steps, cut, responses=True)
    if cut and _text_after_open_call(messages):
        with pytest.raises(pydantic.ValidationError, match="ResponseFunctionToolCallItem"):
            responses_rebuilt(messages)  # vLLM's own bug; README "On the wire"
        return chat
    responses = responses_rebuilt(messages)
    assert (responses.reasoning, responses.content) == (chat.reasoning, chat.content)
    assert [n for n, _ in responses.calls] == [n for n, _ in chat.calls]
    for (_, got), (_, sent) in zip(responses.calls, chat.calls):
        assert got == sent or (sent.startswith(got) and not is_json_object(sent))
    return chat


def _text_after_open_call(messages: list[Any]) -> bool:
    """The one stream vLLM 0.32's ``/v1/responses`` cannot take and the parser cannot avoid: the
    last message (nothing can wait for a later one) carries argument bytes of a call an earlier
    message opened, and text (after them: the call closed and text followed in one delta)."""
    last = messages[-1] if messages else None
    return bool(last is not None and last.content
                and any(c.id is None for c in last.tool_calls or []))


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


@pytest.mark.parametrize("whole", [1, 3, 9999], ids=["per-token", "3-token", "one-delta"])
@pytest.mark.parametrize("name", [n for n in ISSUE_TEXTS if n.startswith("cut_")])
def test_cut_by_the_token_limit(tokenizer: Any, name: str, whole: int) -> None:
    """Output cut off inside a call by max_tokens: vLLM flushes the parsers in the last text step
    (no EOS step). The stream must stay one a Responses stream can carry (it dropped the connection
    when that step held argument bytes and the withdrawn block's text)."""
    text = ISSUE_TEXTS[name]
    ids = qwen_tokenizer.encode(text)
    steps = list(zip(qwen_tokenizer.merged_deltas(text, whole),
                     [ids[i:i + whole] for i in range(0, len(ids), whole)]))
    messages = delta_messages(tokenizer, "qwq", steps, cut=True, responses=True)
    assert not _text_after_open_call(messages)
    check_wire(streamed(tokenizer, "qwq", steps, cut=True), non_streamed(tokenizer, "qwq", text),
               exact=False)


def test_responses_cannot_take_a_call_closed_with_text_after_in_the_last_delta(
        tokenizer: Any) -> None:
    """Pins vLLM 0.32's bug the parser cannot avoid: the last delta (cut by max_tokens) closes a
    call and has text after it. ``split_delta`` puts the text first, then the processor opens the
    call's last argument bytes as a new item with no name: pydantic raises and the server drops the
    connection. Chat completions carry the same message. Fails when vLLM changes this."""
    text = ISSUE_TEXTS["valid_call"] + "\n\nDone, that is all."
    ids = qwen_tokenizer.encode(text)
    groups = [[i] for i in ids[:-12]] + [ids[-12:]]
    steps = list(zip(qwen_tokenizer.grouped_deltas(groups), groups))
    messages = delta_messages(tokenizer, "qwq", steps, cut=True, responses=True)
    assert _text_after_open_call(messages)
    assert messages[-1].content == "Done, that is all."  # the newlines after a call are framing
    with pytest.raises(pydantic.ValidationError, match="ResponseFunctionToolCallItem"):
        responses_rebuilt(messages)
    check_wire(chat_rebuilt(delta_messages(tokenizer, "qwq", steps, cut=True)),
               non_streamed(tokenizer, "qwq", text), exact=False)
    # the same delta one step before the end: its text waits for the last step
    early = delta_messages(tokenizer, "qwq", steps, cut=False, responses=True)
    assert not _text_after_open_call(early) and responses_rebuilt(early).calls


@settings(max_examples=50)
@given(example=wire_streams())
@pytest.mark.parametrize("parser", PARSERS)
def test_stream_rebuilds_to_the_response(tokenizer: Any, parser: str, example: WireStream) -> None:
    check_wire(streamed(tokenizer, parser, example.steps, example.cut),
               non_streamed(tokenizer, parser, example.text), exact=PARSERS[parser])


def test_prebuilt_messages_serialize_like_validated_ones() -> None:
    """The adapter's messages skip pydantic validation: they must be the same on the wire."""
    from vllm.entrypoints.openai.chat_completion.protocol import (
        ChatCompletionResponseStreamChoice,
        ChatCompletionStreamResponse,
    )

    from qwq_tool_parser import ToolCallArgumentsDelta
    from qwq_tool_parser import qwq_vllm as q

    def chunk(delta: Any) -> Any:
        choice = ChatCompletionResponseStreamChoice(index=0, delta=delta, finish_reason=None)
        return ChatCompletionStreamResponse(id="x", created=0, model="qwq", choices=[choice])

    reasoning = q._REASONING_FIELD
    call = q.DeltaToolCall(index=1, id="chatcmpl-tool-1", type="function",
                           function=q.DeltaFunctionCall(name="f", arguments=""))
    pairs = [  # (built by the adapter, the same message validated)
        (q._message([ToolCallArgumentsDelta(index=2, text='{"a": "é')], {}, {2: []}, [], [], True),
         q.DeltaMessage(tool_calls=[q.DeltaToolCall(
             index=2, function=q.DeltaFunctionCall(arguments='{"a": "é'))])),
        (q._text_message("Hmm.", "", True), q.DeltaMessage(**{reasoning: "Hmm.",
                                                              "reasoning_content": "Hmm."})),
        (q._text_message("Hmm.", "", False), q.DeltaMessage(**{reasoning: "Hmm."})),
        (q._text_message("", "Hi", True), q.DeltaMessage(content="Hi")),
        (q._text_message("a", "b", True), q.DeltaMessage(**{reasoning: "a", "reasoning_content": "a",
                                                            "content": "b"})),
        (q._text_message("", "b", True, [call]), q.DeltaMessage(content="b", tool_calls=[call])),
        (q._text_message("", "b", True, []), q.DeltaMessage(content="b", tool_calls=[])),
    ]
    for built, validated in pairs:
        assert built.model_fields_set == validated.model_fields_set
        for kw in ({}, {"exclude_unset": True}, {"exclude_none": True}):
            assert built.model_dump_json(**kw) == validated.model_dump_json(**kw)
            assert chunk(built).model_dump_json(**kw) == chunk(validated).model_dump_json(**kw)
            assert built.model_dump(**kw) == validated.model_dump(**kw)
        assert q.DeltaMessage.model_validate_json(built.model_dump_json()) == validated
    fresh = [q._text_message("a", "", True).tool_calls for _ in range(2)]
    assert fresh == [[], []] and fresh[0] is not fresh[1]  # default_factory: never shared
