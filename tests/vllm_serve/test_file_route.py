"""The file route on every vLLM: ``--tool-parser-plugin`` and ``--reasoning-parser-plugin`` with the
path of ``qwq_vllm.py`` and ``--reasoning-parser qwq`` (required before 0.30, where vLLM has no
signal for "no reasoning parser" and reads a plugin value as a file path, never a module name).
``VLLM_PLUGINS`` keeps the entry point from registering anything, so the file alone serves."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import qwq_tool_parser.qwq_vllm

from harness.vllm_client import chat
from harness.vllm_server import VllmServer
from tests.vllm._shared import FIXTURES, USER, check_parity, serve

PATH = qwq_tool_parser.qwq_vllm.__file__
ARGS = ["--enable-auto-tool-choice", "--tool-parser-plugin", PATH, "--tool-call-parser", "qwq",
        "--reasoning-parser-plugin", PATH, "--reasoning-parser", "qwq"]
ENV = {"VLLM_PLUGINS": "no-such-plugin"}


@pytest.fixture(scope="module")
def server() -> Iterator[VllmServer]:
    with serve(ARGS, ENV) as s:
        yield s


def test_the_startup_check_names_this_version(server: VllmServer) -> None:
    assert "qwq parsers on vLLM " in server.log_text()


@pytest.mark.parametrize("stream", [True, False], ids=["stream", "nonstream"])
@pytest.mark.parametrize("path", FIXTURES, ids=[p.stem for p in FIXTURES])
def test_same_message_as_core_parse(client: Any, stream: bool, path: Any) -> None:
    text = path.read_text()
    check_parity(chat(client, USER, text, stream=stream), text, stream=stream,
                 reasoning_parser="qwq")
