"""``--tool-parser-plugin <path to qwq_vllm.py>`` (vLLM imports the file twice, under its bare
basename) and no reasoning parser: the tool parser itself keeps QwQ's reasoning out of content.
``VLLM_PLUGINS`` keeps our entry point from registering anything."""

from __future__ import annotations

from typing import Any

import pytest
import qwq_tool_parser.qwq_vllm

from harness.vllm_client import arguments, chat
from harness.vllm_server import VllmServer
from tests.vllm._shared import FIXTURES, USER, ServerPool, check_parity, transcript

PATH = qwq_tool_parser.qwq_vllm.__file__
ARGS = ["--tool-parser-plugin", PATH, "--enable-auto-tool-choice", "--tool-call-parser", "qwq"]
ENV = {"VLLM_PLUGINS": "no-such-plugin"}
STREAM = pytest.mark.parametrize("stream", [True, False], ids=["stream", "nonstream"])


@pytest.fixture(scope="module")
def server(servers: ServerPool) -> VllmServer:
    return servers.get(ARGS, ENV)


def test_file_imported_twice_registers_idempotently(server: VllmServer) -> None:
    assert server.log_text().count("qwq tool and reasoning parsers registered") >= 2


@STREAM
@pytest.mark.parametrize("path", FIXTURES, ids=[p.stem for p in FIXTURES])
def test_same_message_as_core_parse(client: Any, stream: bool, path: Any) -> None:
    text = path.read_text()
    check_parity(chat(client, USER, text, stream=stream), text, stream=stream,
                 reasoning_parser=None)


def test_streamed_reasoning_goes_to_the_reasoning_field(client: Any) -> None:
    reply = chat(client, USER, transcript("cookbook_glasgow_5_days"), stream=True)
    assert reply.reasoning and "</think>" not in reply.reasoning and reply.content is None
    [call] = reply.tool_calls
    assert arguments(call)["num_days"] == 5


@STREAM
@pytest.mark.parametrize("choice", ["required", {"type": "function", "function": {
    "name": "get_n_day_weather_forecast"}}], ids=["required", "named"])
def test_tool_choice_without_reasoning_parser(client: Any, stream: bool, choice: Any) -> None:
    """Here the grammar starts at the first token: ours lets the think block through first."""
    reply = chat(client, USER, transcript("cookbook_glasgow_5_days"), stream=stream,
                 tool_choice=choice)
    [call] = reply.tool_calls
    assert arguments(call)["num_days"] == 5
