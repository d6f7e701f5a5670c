"""What a client rebuilds from a stream, and the same view of a non-streaming response.

Strategy: every function takes the JSON a client receives (SSE event payloads, or the response
body, as plain dicts) and returns one :class:`Message`, so a streamed and a non-streamed answer
compare with ``==``. The chat rebuilder merges chunks the way openai-python's accumulator does
(``openai.lib.streaming.chat``: strings of one tool call concatenated by ``index``); the Anthropic
one folds ``/v1/messages`` events into content blocks as the Anthropic SDK does; the Responses one
folds ``/v1/responses`` events into output items. While folding, each checks the streaming
contract and raises :class:`ContractError`: a call's id and name come once, in its first delta;
call (block, item) indexes count from 0 without gaps; exactly one finish reason, at the end. Whether
each call's argument pieces concatenate to a JSON object is the caller's check
(``tests.wire.cases.check_wire``): a stream cut off inside a call legitimately ends without one.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any


class ContractError(AssertionError):
    """The stream broke its endpoint's streaming contract."""


@dataclass(frozen=True)
class Message:
    """One assistant turn as a client sees it."""

    reasoning: str | None
    content: str | None
    calls: list[tuple[str, str]] = field(default_factory=list)
    """(name, arguments JSON text) per call, in order."""
    finish: str | None = None
    """finish_reason (chat), stop_reason (messages) or status (responses)."""


def sse_events(body: str) -> list[dict[str, Any]]:
    """The JSON payloads of a server-sent-events body (``data:`` lines; ``[DONE]`` skipped). Lines
    end with ``\n`` only: ``str.splitlines`` would also split at a U+2028 inside the JSON."""
    return [json.loads(line[len("data: "):]) for line in body.split("\n")
            if line.startswith("data: ") and line != "data: [DONE]"]


def _text(parts: list[str]) -> str | None:
    text = "".join(parts)
    return text or None


def _reasoning(obj: dict[str, Any]) -> str | None:
    value = obj.get("reasoning")
    return value if value is not None else obj.get("reasoning_content")


# -- OpenAI chat completions -----------------------------------------------------------------------


def chat_stream(chunks: Iterable[dict[str, Any]]) -> Message:
    """Merge ``chat.completion.chunk`` payloads (choice 0) as openai-python accumulates them."""
    reasoning: list[str] = []
    content: list[str] = []
    calls: list[dict[str, Any]] = []
    finish: str | None = None
    for n, chunk in enumerate(chunks):
        for choice in chunk.get("choices") or []:
            if finish is not None:
                raise ContractError(f"chunk {n} after finish_reason {finish!r}")
            finish = choice.get("finish_reason")
            delta = choice.get("delta") or {}
            if (text := _reasoning(delta)) is not None:
                reasoning.append(text)
            if delta.get("content") is not None:
                content.append(delta["content"])
            for tc in delta.get("tool_calls") or []:
                _merge_call_delta(calls, tc)
    if finish is None:
        raise ContractError("the stream has no finish_reason")
    return Message(_text(reasoning), _text(content),
                   [(c["name"], c["arguments"]) for c in calls], finish)


def _merge_call_delta(calls: list[dict[str, Any]], tc: dict[str, Any]) -> None:
    index = tc.get("index")
    function = tc.get("function") or {}
    if index == len(calls):  # a new call: id, type and name come first
        if not (tc.get("id") and tc.get("type") == "function" and function.get("name")):
            raise ContractError(f"first delta of call {index} lacks id/type/name: {tc}")
        calls.append({"index": index, "id": tc["id"], "name": function["name"],
                      "arguments": function.get("arguments") or ""})
    elif isinstance(index, int) and 0 <= index < len(calls):
        if tc.get("id") or function.get("name"):  # the accumulator would concatenate them
            raise ContractError(f"call {index} sent its id or name again: {tc}")
        calls[index]["arguments"] += function.get("arguments") or ""
    else:
        raise ContractError(f"call index {index} out of order ({len(calls)} calls so far)")


def chat_response(body: dict[str, Any]) -> Message:
    """A non-streaming ``chat.completion`` (choice 0)."""
    choice = body["choices"][0]
    msg = choice["message"]
    calls = [(tc["function"]["name"], tc["function"]["arguments"])
             for tc in msg.get("tool_calls") or []]
    return Message(_reasoning(msg) or None, msg.get("content") or None, calls,
                   choice.get("finish_reason"))


# -- Anthropic /v1/messages ------------------------------------------------------------------------


def _arguments_of(value: Any) -> str:
    """A tool_use ``input`` as canonical JSON text (the non-streaming body has it decoded)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _canonical(text: str) -> str:
    """Streamed ``input_json_delta`` pieces, canonical if they are JSON (else as they came)."""
    try:
        return _arguments_of(json.loads(text))
    except ValueError:
        return text


def messages_stream(events: Iterable[dict[str, Any]]) -> Message:
    """Fold ``/v1/messages`` stream events into content blocks, as the Anthropic SDK does."""
    blocks: list[dict[str, Any]] = []
    open_block: int | None = None
    stop: str | None = None
    for ev in events:
        kind = ev.get("type")
        if kind == "content_block_start":
            if ev["index"] != len(blocks) or open_block is not None:
                raise ContractError(f"block {ev['index']} starts out of order or inside another")
            block = dict(ev["content_block"])
            if block["type"] == "tool_use":
                if not (block.get("id") and block.get("name")):
                    raise ContractError(f"tool_use block without id or name: {block}")
                block["partial_json"] = ""
            blocks.append(block)
            open_block = ev["index"]
        elif kind == "content_block_delta":
            if ev["index"] != open_block:
                raise ContractError(f"delta for block {ev['index']}, open is {open_block}")
            _apply_block_delta(blocks[ev["index"]], ev["delta"])
        elif kind == "content_block_stop":
            if ev["index"] != open_block:
                raise ContractError(f"stop for block {ev['index']}, open is {open_block}")
            open_block = None
        elif kind == "message_delta":
            stop = (ev.get("delta") or {}).get("stop_reason") or stop
    if open_block is not None or stop is None:
        raise ContractError(f"stream ended with block {open_block} open or no stop_reason")
    return _message_of(blocks, stop)


def _apply_block_delta(block: dict[str, Any], delta: dict[str, Any]) -> None:
    kind = delta.get("type")
    if kind == "text_delta" and block["type"] == "text":
        block["text"] = block.get("text", "") + delta["text"]
    elif kind == "thinking_delta" and block["type"] == "thinking":
        block["thinking"] = block.get("thinking", "") + delta["thinking"]
    elif kind == "input_json_delta" and block["type"] == "tool_use":
        block["partial_json"] += delta["partial_json"]
    elif kind != "signature_delta":
        raise ContractError(f"{kind} inside a {block['type']} block")


def messages_response(body: dict[str, Any]) -> Message:
    """A non-streaming ``/v1/messages`` response."""
    return _message_of(body["content"], body.get("stop_reason"))


def _message_of(blocks: list[dict[str, Any]], stop: str | None) -> Message:
    return Message(
        _text([b.get("thinking") or "" for b in blocks if b["type"] == "thinking"]),
        _text([b.get("text") or "" for b in blocks if b["type"] == "text"]),
        [(b["name"], _canonical(b.pop("partial_json") or "{}") if "partial_json" in b
          else _arguments_of(b["input"])) for b in blocks if b["type"] == "tool_use"],
        stop,
    )


# -- OpenAI /v1/responses --------------------------------------------------------------------------


def responses_stream(events: Iterable[dict[str, Any]]) -> Message:
    """Fold ``/v1/responses`` stream events into output items."""
    items: list[dict[str, Any]] = []
    args: dict[int, str] = {}
    status: str | None = None
    final: list[dict[str, Any]] | None = None
    for ev in events:
        kind = ev.get("type", "")
        if kind == "response.output_item.added":
            if ev["output_index"] != len(items):
                raise ContractError(f"item {ev['output_index']} added out of order")
            item = dict(ev["item"])
            if item["type"] == "function_call":
                if not (item.get("name") and item.get("call_id")):
                    raise ContractError(f"function_call item without name or call_id: {item}")
                args[ev["output_index"]] = ""
            items.append(item)
        elif kind == "response.function_call_arguments.delta":
            args[ev["output_index"]] += ev["delta"]
        elif kind == "response.function_call_arguments.done":
            if ev["arguments"] != args[ev["output_index"]]:
                raise ContractError("function_call_arguments.done differs from its deltas")
        elif kind in ("response.output_text.delta", "response.reasoning_text.delta"):
            key = "text" if kind == "response.output_text.delta" else "reasoning"
            items[ev["output_index"]][f"_{key}"] = (
                items[ev["output_index"]].get(f"_{key}", "") + ev["delta"])
        elif kind in ("response.completed", "response.incomplete", "response.failed"):
            status = ev["response"]["status"]
            final = ev["response"].get("output")
    if status is None:
        raise ContractError("the stream has no final response event")
    calls = [(item["name"], args[i]) for i, item in enumerate(items)
             if item["type"] == "function_call"]
    streamed = Message(
        _text([it.get("_reasoning", "") for it in items if it["type"] == "reasoning"]),
        _text([it.get("_text", "") for it in items if it["type"] == "message"]),
        calls, status)
    if final is not None and final and responses_response({"output": final, "status": status}) != streamed:
        raise ContractError("the final response event differs from the streamed items")
    return streamed


def responses_response(body: dict[str, Any]) -> Message:
    """A non-streaming ``/v1/responses`` response."""
    reasoning: list[str] = []
    content: list[str] = []
    calls: list[tuple[str, str]] = []
    for item in body.get("output") or []:
        if item["type"] == "reasoning":
            reasoning += [c.get("text") or "" for c in item.get("content") or []]
        elif item["type"] == "message":
            content += [c.get("text") or "" for c in item.get("content") or []]
        elif item["type"] == "function_call":
            calls.append((item["name"], item["arguments"]))
    return Message(_text(reasoning), _text(content), calls, body.get("status"))
