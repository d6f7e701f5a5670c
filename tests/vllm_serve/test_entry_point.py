"""The entry-point route: ``pip install qwq-tool-parser[vllm]``, then plain ``--tool-call-parser qwq
--reasoning-parser qwq`` (no plugin flag). The tutorial's client flows of ``tests/vllm`` run here
through the real ``openai`` client, streaming and not, on this server (one API server: the matrix
keeps its servers cheap)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from harness.vllm_server import VllmServer
from tests.vllm._shared import serve
from tests.vllm.test_vllm_entrypoint import (  # noqa: F401  (collected here, on this server)
    test_call_quoted_in_think_block_stays_reasoning,
    test_cookbook_weather_flow,
    test_multi_turn_loop_prints_reasoning,
    test_single_turn_streaming_loop,
    test_tool_choice_with_qwq_framing,
)

ARGS = ["--enable-auto-tool-choice", "--tool-call-parser", "qwq", "--reasoning-parser", "qwq"]


@pytest.fixture(scope="module")
def server() -> Iterator[VllmServer]:
    with serve(ARGS) as s:
        yield s


def test_the_entry_point_registers_in_the_api_server_and_the_engine(server: VllmServer) -> None:
    assert not any("plugin" in a for a in server.command())
    pids = set(re.findall(r"qwq tool and reasoning parsers registered \(pid (\d+)\)",
                          server.log_text()))
    assert len(pids) >= 2, server.log_text()[-3000:]  # the API server and the engine core
