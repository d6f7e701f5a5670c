"""The main configuration: ``pip install qwq-tool-parser[vllm]`` then plain
``vllm serve ... --enable-auto-tool-choice --tool-call-parser qwq --reasoning-parser qwq`` (the
entry point registers both names; no ``--tool-parser-plugin``), with two API-server processes.
The seed's client flows run here, through the real ``openai`` client, streaming and not.
"""

from __future__ import annotations

import concurrent.futures
import json
import re
from typing import Any

import pytest

from qwq_tool_parser import parse

from harness.vllm_client import arguments, chat
from harness.vllm_server import VllmServer
from tests.vllm._shared import (
    FIXTURES,
    USER,
    ServerPool,
    check_parity,
    client_for,
    transcript,
    vllm_version,
)

ARGS = ["--enable-auto-tool-choice", "--tool-call-parser", "qwq", "--reasoning-parser", "qwq",
        "--api-server-count", "2", "--enable-log-requests"]
STREAM = pytest.mark.parametrize("stream", [True, False], ids=["stream", "nonstream"])


@pytest.fixture(scope="module")
def server(servers: ServerPool) -> VllmServer:
    return servers.get(ARGS)


def test_entry_point_registers_in_every_api_server(server: VllmServer) -> None:
    assert not any("plugin" in a for a in server.command())
    log = server.log_text()
    pids = set(re.findall(r"\(ApiServer_\d+ pid=(\d+)\).*qwq tool and reasoning parsers registered",
                          log))
    assert len(pids) == 2, log[-3000:]


def test_single_turn_streaming_loop(client: Any) -> None:
    """The seed's loop: ``for chunk in stream: print(chunk.choices[0].delta.content)``."""
    script = "A greeting; answer briefly.\n</think>\n\nHello! How can I help you today?"
    stream = client.chat.completions.create(
        model="qwq", messages=[{"role": "user", "content": "Hi"}], stream=True,
        extra_body={"vllm_xargs": {"forced_text": script}})
    printed, reasoning = [], []
    for chunk in stream:
        delta = chunk.choices[0].delta
        reasoning.append((delta.model_extra or {}).get("reasoning") or "")
        printed.append(delta.content or "")
    assert "".join(printed) == "Hello! How can I help you today?"
    assert "".join(reasoning) == "A greeting; answer briefly."  # the "\n" before </think>: framing


@STREAM
def test_multi_turn_loop_prints_reasoning(client: Any, stream: bool) -> None:
    messages: list[dict[str, Any]] = []
    turns = [("Which is larger, 9.11 or 9.8?", "Compare 9.11 and 9.80: 0.80 > 0.11.\n", "9.8 is larger."),
             ("And 9.9 or 9.11?", "9.90 vs 9.11: 9.90 is larger.\n", "9.9 is larger."),
             ("Thanks!", "The user thanks me.\n", "You're welcome!")]
    for question, think, answer in turns:
        messages.append({"role": "user", "content": question})
        reply = chat(client, messages, f"{think}</think>\n\n{answer}", stream=stream, tools=None)
        assert (reply.reasoning, reply.content, reply.finish_reason) == (
            think.rstrip("\n"), answer, "stop")
        messages.append(reply.as_message())


@STREAM
def test_cookbook_weather_flow(client: Any, stream: bool) -> None:
    """OpenAI cookbook: clarifying question, Glasgow now, Glasgow 5 days, SF + Glasgow at once."""
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": "Don't make assumptions about what values to plug into "
         "functions. Ask for clarification if a user request is ambiguous."},
        {"role": "user", "content": "What's the weather like today"}]
    reply = chat(client, messages, transcript("cookbook_clarifying_question"), stream=stream)
    assert reply.tool_calls == [] and reply.finish_reason == "stop"
    assert reply.content and reply.content.startswith("Sure! Could you tell me which city")
    messages += [reply.as_message(), {"role": "user", "content": "I'm in Glasgow, Scotland."}]

    reply = chat(client, messages, transcript("cookbook_current_weather_glasgow"), stream=stream)
    assert reply.finish_reason == "tool_calls" and reply.content is None
    [call] = reply.tool_calls
    assert (call.name, arguments(call)) == (
        "get_current_weather", {"location": "Glasgow, Scotland", "format": "celsius"})
    messages += [reply.as_message(), {"role": "tool", "tool_call_id": call.id,
                                      "content": json.dumps({"temperature": 14, "sky": "rain"})}]
    reply = chat(client, messages, "I have the weather.\n</think>\n\nIt is 14 °C and raining in "
                 "Glasgow.", stream=stream)
    assert (reply.content, reply.tool_calls, reply.finish_reason) == (
        "It is 14 °C and raining in Glasgow.", [], "stop")
    messages += [reply.as_message(), {"role": "user", "content": "what is the weather going to "
                                      "be like in Glasgow, Scotland over the next 5 days"}]

    reply = chat(client, messages, transcript("cookbook_glasgow_5_days"), stream=stream)
    [call] = reply.tool_calls
    assert (call.name, arguments(call)) == ("get_n_day_weather_forecast", {
        "location": "Glasgow, Scotland", "format": "celsius", "num_days": 5})
    assert reply.finish_reason == "tool_calls"

    messages = [{"role": "user", "content": "what is the weather going to be like in San "
                 "Francisco and Glasgow over the next 4 days"}]
    reply = chat(client, messages, transcript("cookbook_parallel_sf_glasgow"), stream=stream)
    assert [(c.index, c.name, arguments(c)["location"]) for c in reply.tool_calls] == [
        (0, "get_n_day_weather_forecast", "San Francisco, CA"),
        (1, "get_n_day_weather_forecast", "Glasgow, Scotland")]
    assert reply.content is None and reply.finish_reason == "tool_calls"
    assert len({c.id for c in reply.tool_calls}) == 2
    messages.append(reply.as_message())
    for c in reply.tool_calls:
        messages.append({"role": "tool", "tool_call_id": c.id, "content": '{"forecast": "mild"}'})
    reply = chat(client, messages, "Both mild.\n</think>\n\nMild in both cities.", stream=stream)
    assert (reply.content, reply.finish_reason) == ("Mild in both cities.", "stop")


@STREAM
def test_text_before_and_after_calls(client: Any, stream: bool) -> None:
    text = ("Look it up.\n</think>\n\nLet me check both.\n<tool_call>\n{\"name\": "
            "\"get_current_weather\", \"arguments\": {\"location\": \"Paris\", \"format\": "
            "\"celsius\"}}\n</tool_call>\nOne moment, please.")
    reply = chat(client, USER, text, stream=stream)
    assert reply.content  # framing whitespace around the block is dropped, as in the core
    assert reply.content.startswith("Let me check both.")
    assert reply.content.endswith("One moment, please.")
    assert [c.name for c in reply.tool_calls] == ["get_current_weather"]
    check_parity(reply, text, stream=stream, reasoning_parser="qwq")


@STREAM
def test_call_quoted_in_think_block_stays_reasoning(client: Any, stream: bool) -> None:
    text = transcript("call_quoted_in_think")
    reply = chat(client, USER, text, stream=stream)
    assert reply.reasoning and "<tool_call>" in reply.reasoning
    assert [arguments(c)["location"] for c in reply.tool_calls] == ["Paris, France"]
    check_parity(reply, text, stream=stream, reasoning_parser="qwq")


GLASGOW = transcript("cookbook_glasgow_5_days")
NAMED = {"type": "function", "function": {"name": "get_n_day_weather_forecast"}}


@STREAM
@pytest.mark.parametrize("choice,finish", [("auto", "tool_calls"), ("required", "tool_calls"),
                                           (NAMED, "stop")], ids=["auto", "required", "named"])
def test_tool_choice_with_qwq_framing(client: Any, stream: bool, choice: Any, finish: str) -> None:
    """``</think>\\n\\n<tool_call>\\n...``: required/named run under our grammar, which accepts it."""
    reply = chat(client, USER, GLASGOW, stream=stream, tool_choice=choice)
    [call] = reply.tool_calls
    assert (call.name, arguments(call)["num_days"]) == ("get_n_day_weather_forecast", 5)
    assert reply.finish_reason == finish and not reply.content


@STREAM
def test_tool_choice_required_parallel_calls(client: Any, stream: bool) -> None:
    reply = chat(client, USER, transcript("cookbook_parallel_sf_glasgow"), stream=stream,
                 tool_choice="required")
    assert [c.index for c in reply.tool_calls] == [0, 1] and reply.finish_reason == "tool_calls"


@STREAM
def test_tool_choice_none_makes_no_call(client: Any, stream: bool) -> None:
    reply = chat(client, USER, GLASGOW, stream=stream, tool_choice="none")
    assert reply.tool_calls == [] and reply.finish_reason == "stop"
    assert reply.content and reply.content.startswith("<tool_call>\n{\"name\": \"get_n_day")


@STREAM
def test_parallel_tool_calls_false(client: Any, stream: bool) -> None:
    """0.32+: the grammar stops after one call; the scripted model then ends its turn. Before,
    no grammar limits the calls: the model writes both, and the core's rule keeps the second as
    content."""
    text = transcript("cookbook_parallel_sf_glasgow")
    reply = chat(client, USER, text, stream=stream, parallel_tool_calls=False)
    [call] = reply.tool_calls
    assert arguments(call)["location"] == "San Francisco, CA"
    assert reply.finish_reason == "tool_calls"
    if vllm_version() >= (0, 32):
        assert not reply.content
    else:
        assert reply.content == parse(text, parallel_tool_calls=False).content


@STREAM
@pytest.mark.parametrize("path", FIXTURES, ids=[p.stem for p in FIXTURES])
def test_same_message_as_core_parse(client: Any, stream: bool, path: Any) -> None:
    text = path.read_text()
    check_parity(chat(client, USER, text, stream=stream), text, stream=stream,
                 reasoning_parser="qwq")


def test_32_concurrent_streams_each_get_their_own_calls(server: VllmServer) -> None:
    def one(i: int) -> tuple[int, list[tuple[str, Any]]]:
        calls = "\n".join(
            '<tool_call>\n{"name": "get_n_day_weather_forecast", "arguments": {"location": '
            f'"City {i}-{k}", "format": "celsius", "num_days": {i}}}}}\n</tool_call>'
            for k in range(1 + i % 3))
        reply = chat(client_for(server), USER, f"Request {i}.\n</think>\n\n{calls}", stream=True)
        assert reply.reasoning == f"Request {i}." and reply.finish_reason == "tool_calls"
        return i, [(c.name, arguments(c)) for c in reply.tool_calls]

    with concurrent.futures.ThreadPoolExecutor(32) as pool:
        results = list(pool.map(one, range(32)))
    for i, calls in results:
        assert [a for _, a in calls] == [
            {"location": f"City {i}-{k}", "format": "celsius", "num_days": i}
            for k in range(1 + i % 3)]
    served_by = re.findall(r"\(ApiServer_\d+ pid=(\d+)\).*Added request", server.log_text())
    assert len(set(served_by[-32:])) == 2, "both API-server processes served these requests"


@STREAM
def test_demo_conversation(server: VllmServer, stream: bool, capsys: Any) -> None:
    """The main job's conversation (``nox -s demo``), against this server."""
    from harness import demo_vllm

    demo_vllm.play(server.base_url, stream=stream)
    out = capsys.readouterr().out
    assert out.count("» user:") == 4 and out.count("» tool result") == 4
    assert out.count("tool call  │") == 4
    assert 'get_n_day_weather_forecast({"location": "Glasgow, Scotland", "format": "celsius", ' \
           '"num_days": 5})' in out
    assert out.count("finish     │ tool_calls") == 3 and out.count("finish     │ stop") == 4


@STREAM
def test_markup_spelled_with_ordinary_tokens(client: Any, stream: bool) -> None:
    """Forced token ids where ``</think>`` and ``<tool_call>`` are not their added tokens but
    ordinary pieces (``</`` ``think`` ``>``): both ``qwq`` parsers read text, so it still parses."""
    from harness.qwen_tokenizer import encode

    pieces = ["Spelled out.\n", "</", "think", ">", "\n\n", "<", "tool", "_call", ">",
              '\n{"name": "get_current_weather", "arguments": {"location": "Oslo", '
              '"format": "celsius"}}\n', "</", "tool", "_call", ">"]
    ids = [i for p in pieces for i in encode(p)]
    assert 151668 not in ids and 151657 not in ids
    reply = chat(client, USER, ids, stream=stream)
    check_parity(reply, "".join(pieces), stream=stream, reasoning_parser="qwq")
    assert [arguments(c)["location"] for c in reply.tool_calls] == ["Oslo"]
