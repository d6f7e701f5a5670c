"""``--tool-parser-plugin qwq_tool_parser.qwq_vllm`` (a module name) with the seed's
``--reasoning-parser deepseek_r1``. ``VLLM_PLUGINS`` is set to an allow-list without our entry
point, so only the plugin flag can have registered ``qwq``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from harness.vllm_client import arguments, chat
from harness.vllm_server import VllmServer
from tests.vllm._shared import FIXTURES, USER, check_parity, client_for, serve, transcript

ARGS = ["--tool-parser-plugin", "qwq_tool_parser.qwq_vllm", "--enable-auto-tool-choice",
        "--tool-call-parser", "qwq", "--reasoning-parser", "deepseek_r1"]
ENV = {"VLLM_PLUGINS": "no-such-plugin"}
STREAM = pytest.mark.parametrize("stream", [True, False], ids=["stream", "nonstream"])


@pytest.fixture(scope="module")
def server() -> Iterator[VllmServer]:
    with serve(ARGS, ENV) as s:
        yield s


@pytest.fixture()
def client(server: VllmServer) -> Any:
    return client_for(server)


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
