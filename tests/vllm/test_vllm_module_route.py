"""``--tool-parser-plugin qwq_tool_parser.qwq_vllm`` (a module name) with the seed's
``--reasoning-parser deepseek_r1``. ``VLLM_PLUGINS`` is set to an allow-list without our entry
point, so only the plugin flag can have registered ``qwq``.

This server also serves the fixed chat template (``--chat-template``, issue 5). It renders the same
bytes as the official one for the single-turn requests of the other tests here; the agent-loop test
sends tool results back and checks the prompt the server rendered, token for token."""

from __future__ import annotations

import json
import pathlib
from typing import Any

import pytest
from qwq_tool_parser import chat_template_path

from harness.qwen_tokenizer import build_tokenizer_dir, encode, load_tokenizer
from harness.vllm_client import COOKBOOK_TOOLS, Reply, arguments, chat
from harness.vllm_server import VllmServer
from tests.vllm._shared import FIXTURES, USER, ServerPool, check_parity, transcript

TEMPLATE = str(chat_template_path())
ARGS = ["--tool-parser-plugin", "qwq_tool_parser.qwq_vllm", "--enable-auto-tool-choice",
        "--tool-call-parser", "qwq", "--reasoning-parser", "deepseek_r1",
        "--chat-template", TEMPLATE]
ENV = {"VLLM_PLUGINS": "no-such-plugin"}
STREAM = pytest.mark.parametrize("stream", [True, False], ids=["stream", "nonstream"])


@pytest.fixture(scope="module")
def server(servers: ServerPool) -> VllmServer:
    return servers.get(ARGS, ENV)


def test_registered_by_the_plugin_flag_alone(server: VllmServer) -> None:
    log = server.log_text()
    assert "qwq tool and reasoning parsers registered" in log


@STREAM
@pytest.mark.parametrize("path", FIXTURES, ids=[p.stem for p in FIXTURES])
def test_same_message_as_core_parse(client: Any, stream: bool, path: Any) -> None:
    text = path.read_text()
    check_parity(chat(client, USER, text, stream=stream), text, stream=stream,
                 reasoning_parser="deepseek_r1")


@STREAM
@pytest.mark.parametrize("choice", ["required", {"type": "function", "function": {
    "name": "get_n_day_weather_forecast"}}], ids=["required", "named"])
def test_tool_choice_with_deepseek_r1(client: Any, stream: bool, choice: Any) -> None:
    reply = chat(client, USER, transcript("cookbook_glasgow_5_days"), stream=stream,
                 tool_choice=choice)
    [call] = reply.tool_calls
    assert arguments(call)["num_days"] == 5 and not reply.content


# -- a real agent loop through the fixed template ----------------------------------------------

CALLS = ('<tool_call>\n{"name": "get_current_weather", "arguments": {"location": "Paris", '
         '"format": "celsius"}}\n</tool_call>\n'
         '<tool_call>\n{"name": "get_current_weather", "arguments": {"location": "東京", '
         '"format": "celsius"}}\n</tool_call>')
TURN_1 = ("Two cities: Paris and 東京. I call get_current_weather for each, in parallel.\n"
          "</think>\n\n" + CALLS)
TURN_2 = ("Paris: 12 °C and rain; 東京: 18 °C, mostly sunny.\n</think>\n\n"
          "In Paris it is 12 °C and raining; in 東京 it is 18 °C and mostly sunny.")
TURN_3 = ("Tomorrow in Paris: a one-day forecast.\n</think>\n\n"
          '<tool_call>\n{"name": "get_n_day_weather_forecast", "arguments": {"location": "Paris", '
          '"format": "celsius", "num_days": 1}}\n</tool_call>')
RESULTS = {  # tool results as the client serialises them: a dict and a list, both JSON strings
    "Paris": json.dumps({"location": "Paris", "temperature": 12, "unit": "celsius", "sky": "rain"}),
    "東京": json.dumps([{"location": "東京", "temperature": 18, "sky": "mostly sunny"}],
                      ensure_ascii=False),
}
GENERATION_PROMPT = "<|im_start|>assistant\n<think>\n"


def _sent_back(reply: Reply, stream: bool) -> dict[str, Any]:
    """The assistant message exactly as the client received it, for the next request."""
    if not stream:  # what the README's loop does: None fields (here content) are left out
        message = reply.raw[0].choices[0].message
        return message.model_dump(exclude_none=True)  # type: ignore[no-any-return]
    # a streaming client's accumulated message: content None is sent as None
    msg: dict[str, Any] = {"role": "assistant", "content": reply.content,
                           "reasoning": reply.reasoning}
    if reply.tool_calls:
        msg["tool_calls"] = [{"id": c.id, "type": "function", "function": {
            "name": c.name, "arguments": c.arguments}} for c in reply.tool_calls]
    return msg


def _prompt_ids(reply: Reply) -> list[int]:
    """``prompt_token_ids`` (``return_token_ids``): on the response, or on the first chunk."""
    for obj in reply.raw:
        ids = getattr(obj, "prompt_token_ids", None)
        if ids is None and obj.model_extra:
            ids = obj.model_extra.get("prompt_token_ids")
        if ids is not None:
            return list(ids)
    raise AssertionError("no prompt_token_ids in the response")


def _rendered_by_transformers(messages: list[dict[str, Any]]) -> str:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(build_tokenizer_dir()))
    out = tokenizer.apply_chat_template(
        messages, tools=COOKBOOK_TOOLS, chat_template=pathlib.Path(TEMPLATE).read_text(),
        add_generation_prompt=True, tokenize=False)
    assert isinstance(out, str)
    return out


def _check_prompt(reply: Reply, messages: list[dict[str, Any]]) -> str:
    """The prompt the server rendered is what transformers renders with the fixed template."""
    ids = _prompt_ids(reply)
    prompt = load_tokenizer().decode(ids, skip_special_tokens=False)
    want = _rendered_by_transformers(messages)
    assert prompt == want
    assert ids == encode(want)
    assert prompt.endswith(GENERATION_PROMPT)
    return prompt


@STREAM
def test_agent_loop_with_the_fixed_template(client: Any, stream: bool) -> None:
    """Three requests of one conversation: two parallel calls, their results sent back (out of call
    order) with the assistant message as received, an answer; then a follow-up question."""
    messages: list[dict[str, Any]] = [
        {"role": "user", "content": "What's the weather like in Paris and in 東京?"}]
    extra = {"return_token_ids": True}

    # 1. the model calls get_current_weather twice
    reply = chat(client, messages, TURN_1, stream=stream, extra_body=extra)
    check_parity(reply, TURN_1, stream=stream, reasoning_parser="deepseek_r1")
    sent = _sent_back(reply, stream)
    assert sent.get("content") is None and sent["reasoning"]
    assert [json.loads(tc["function"]["arguments"])["location"] for tc in sent["tool_calls"]] == [
        "Paris", "東京"]
    messages.append(sent)
    call_ids = {arguments(c)["location"]: c.id for c in reply.tool_calls}
    for city in ("東京", "Paris"):  # not in call order: tool_call_id pairs them
        messages.append({"role": "tool", "tool_call_id": call_ids[city], "content": RESULTS[city]})

    # 2. the results go back; the model answers
    reply = chat(client, messages, TURN_2, stream=stream, extra_body=extra)
    check_parity(reply, TURN_2, stream=stream, reasoning_parser="deepseek_r1")
    assert reply.content and reply.content.strip() == TURN_2.split("</think>")[1].strip()
    prompt = _check_prompt(reply, messages)
    # the calls as the model wrote them (arguments not double-encoded), without its reasoning,
    # then the results in call order, then the generation prompt
    assert prompt.endswith(
        "<|im_start|>assistant\n" + CALLS + "<|im_end|>\n"
        "<|im_start|>user\n<tool_response>\n" + RESULTS["Paris"] + "\n</tool_response>\n"
        "<tool_response>\n" + RESULTS["東京"] + "\n</tool_response><|im_end|>\n" + GENERATION_PROMPT)
    assert "Two cities" not in prompt and '\\"' not in prompt

    # 3. the answer goes back with a follow-up question; the model calls again
    messages.append(_sent_back(reply, stream))
    messages.append({"role": "user", "content": "And tomorrow in Paris?"})
    reply = chat(client, messages, TURN_3, stream=stream, extra_body=extra)
    check_parity(reply, TURN_3, stream=stream, reasoning_parser="deepseek_r1")
    assert [(c.name, arguments(c)) for c in reply.tool_calls] == [
        ("get_n_day_weather_forecast", {"location": "Paris", "format": "celsius", "num_days": 1})]
    prompt = _check_prompt(reply, messages)
    answer = TURN_2.split("</think>")[1].lstrip("\n")
    assert prompt.endswith("</tool_response><|im_end|>\n<|im_start|>assistant\n" + answer
                           + "<|im_end|>\n<|im_start|>user\nAnd tomorrow in Paris?<|im_end|>\n"
                           + GENERATION_PROMPT)
    assert "Two cities" not in prompt and "Paris: 12 °C and rain;" not in prompt
