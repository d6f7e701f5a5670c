"""Wire-exact streaming through a real ``vllm serve`` on all three endpoints (issue 9).

The entry-point server (``--tool-call-parser qwq --reasoning-parser qwq``, shared with
``test_vllm_entrypoint``) writes a handful of scripted QwQ transcripts, streamed and not, through
chat completions, ``/v1/responses`` (function_call items, ``function_call_arguments.delta``) and
``/v1/messages`` (Anthropic ``tool_use`` blocks, ``input_json_delta``, ``stop_reason``). What a client
rebuilds from each stream (``tests.wire.rebuild``) must equal the non-streaming response of the same
endpoint, ``finish_reason``/``stop_reason``/``status`` included, but for the documented truncation
rule. Output cut off by max tokens inside a call reports the truncation on every endpoint
(``length``, ``max_tokens``, ``incomplete``); what each endpoint carries then is pinned exactly.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from harness import qwen_tokenizer
from harness.vllm_client import COOKBOOK_TOOLS
from harness.vllm_server import VllmServer
from tests.vllm import test_vllm_entrypoint
from tests.vllm._shared import ServerPool
from tests.wire.cases import ISSUE_TEXTS, check_wire
from tests.wire.rebuild import (
    Message,
    chat_response,
    chat_stream,
    messages_response,
    messages_stream,
    responses_response,
    responses_stream,
    sse_events,
)

pytestmark = pytest.mark.same_server_as("test_vllm_entrypoint")

USER = "What's the weather in Dallas?"
CASES = {  # transcript, max_tokens (None: the script ends with EOS)
    name: (ISSUE_TEXTS[name], None)
    for name in ("valid_call", "string_arguments_object", "string_arguments_not_object",
                 "invalid_mid_object", "two_calls_second_bad", "nested")
} | {"cut_by_max_tokens": (ISSUE_TEXTS["valid_call"], -12)}  # negative: that many tokens short
TRUNCATED = {"chat": "length", "responses": "incomplete", "messages": "max_tokens"}
# vLLM's serving loop, not the parser, decides these once a call delta was on the stream
FINISH_WHEN_DROPPED = {"chat": {"stop": "tool_calls"}, "messages": {"end_turn": "tool_use"},
                       "responses": {}}


@pytest.fixture(scope="module")
def server(servers: ServerPool) -> VllmServer:
    return servers.get(test_vllm_entrypoint.ARGS)


def _chat(text: str, max_tokens: int | None, stream: bool) -> tuple[str, dict[str, Any]]:
    return "chat/completions", {"messages": [{"role": "user", "content": USER}],
                                "tools": COOKBOOK_TOOLS, "max_tokens": max_tokens}


def _responses(text: str, max_tokens: int | None, stream: bool) -> tuple[str, dict[str, Any]]:
    tools = [{"type": "function", **t["function"]} for t in COOKBOOK_TOOLS]
    return "responses", {"input": USER, "tools": tools, "max_output_tokens": max_tokens}


def _messages(text: str, max_tokens: int | None, stream: bool) -> tuple[str, dict[str, Any]]:
    tools = [{"name": t["function"]["name"], "description": t["function"]["description"],
              "input_schema": t["function"]["parameters"]} for t in COOKBOOK_TOOLS]
    return "messages", {"messages": [{"role": "user", "content": USER}], "tools": tools,
                        "max_tokens": max_tokens or 1024}


ENDPOINTS: dict[str, tuple[Callable[..., tuple[str, dict[str, Any]]],
                           Callable[[list[dict[str, Any]]], Message],
                           Callable[[dict[str, Any]], Message]]] = {
    "chat": (_chat, chat_stream, chat_response),
    "responses": (_responses, responses_stream, responses_response),
    "messages": (_messages, messages_stream, messages_response),
}


def _post(server: VllmServer, endpoint: str, text: str, max_tokens: int | None,
          stream: bool) -> Any:
    """The response body (not streaming) or the stream's event payloads."""
    path, body = ENDPOINTS[endpoint][0](text, max_tokens, stream)
    body = {k: v for k, v in body.items() if v is not None}
    body |= {"model": "qwq", "stream": stream, "vllm_xargs": {"forced_text": text}}
    url = f"{server.base_url}/{path}"
    if not stream:
        return httpx.post(url, json=body, timeout=120).raise_for_status().json()
    with httpx.stream("POST", url, json=body, timeout=120) as resp:
        return sse_events(resp.raise_for_status().read().decode())


def ask(server: VllmServer, endpoint: str, text: str, max_tokens: int | None,
        stream: bool) -> Message:
    _, from_stream, from_body = ENDPOINTS[endpoint]
    answer = _post(server, endpoint, text, max_tokens, stream)
    return from_stream(answer) if stream else from_body(answer)


PAIRS = [(c, e) for c in CASES for e in ENDPOINTS]


@pytest.mark.parametrize(("case", "endpoint"), PAIRS)
def test_stream_rebuilds_to_the_response(server: VllmServer, case: str, endpoint: str) -> None:
    text, short = CASES[case]
    max_tokens = None if short is None else len(qwen_tokenizer.encode(text)) + short
    full = ask(server, endpoint, text, max_tokens, stream=False)
    streamed = ask(server, endpoint, text, max_tokens, stream=True)
    check_wire(streamed, full, exact=False, finish_when_dropped=FINISH_WHEN_DROPPED[endpoint])
    if short is not None:
        assert full.finish == TRUNCATED[endpoint] and not full.calls
        assert "<tool_call>" in (full.content or "")  # the raw block follows as content


CUT_TEXT = ISSUE_TEXTS["valid_call"]  # cut 12 tokens short: inside the arguments' "format" value


def test_cut_inside_a_call_on_each_endpoint(server: VllmServer) -> None:
    """What each endpoint carries when max tokens cut the output inside an announced call, pinned
    exactly (README "On the wire"). Non-streaming: no call, the block's raw text as content, and the
    truncation reported. Streaming: the call's start and a valid prefix of its arguments (the wire
    cannot withdraw them), the same content and the same truncation report."""
    max_tokens = len(qwen_tokenizer.encode(CUT_TEXT)) - 12
    after_think = CUT_TEXT.split("</think>\n\n")[1]
    for endpoint in ENDPOINTS:
        full = ask(server, endpoint, CUT_TEXT, max_tokens, stream=False)
        streamed = ask(server, endpoint, CUT_TEXT, max_tokens, stream=True)
        assert full.finish == streamed.finish == TRUNCATED[endpoint], endpoint
        assert not full.calls and full.content and after_think.startswith(full.content)
        assert full.content.startswith("<tool_call>") and streamed.content == full.content
        [(name, arguments)] = streamed.calls
        assert name == "get_current_weather" and arguments.startswith("{")
        assert arguments in full.content
    body = _post(server, "messages", CUT_TEXT, max_tokens, stream=False)
    assert [b["type"] for b in body["content"]] == ["thinking", "text"]  # no tool_use block
    assert body["stop_reason"] == "max_tokens"
    events = _post(server, "messages", CUT_TEXT, max_tokens, stream=True)
    starts = [e["content_block"]["type"] for e in events if e["type"] == "content_block_start"]
    assert starts == ["thinking", "tool_use", "text"]  # the call's block, then the raw text
    events = _post(server, "responses", CUT_TEXT, max_tokens, stream=True)
    last = events[-1]
    # vLLM 0.32 ends an incomplete response with a "response.completed" event (OpenAI's API sends
    # "response.incomplete"); its status says incomplete, and so does the non-streaming body.
    assert (last["type"], last["response"]["status"]) == ("response.completed", "incomplete")
    assert last["response"]["incomplete_details"] == _post(
        server, "responses", CUT_TEXT, max_tokens, stream=False)["incomplete_details"]
    done = [e["item"] for e in events if e["type"] == "response.output_item.done"]
    assert [(i["type"], i["status"]) for i in done if i["type"] == "function_call"] == [
        ("function_call", "completed")]  # vLLM marks the cut call's item completed
