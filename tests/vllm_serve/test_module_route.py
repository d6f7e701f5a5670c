"""``--tool-parser-plugin qwq_tool_parser.qwq_vllm`` (a module name) before vLLM 0.30: vLLM reads the
value as a file path, so nothing registers ``qwq`` and the server refuses to start (the README's
loading-route table). ``VLLM_PLUGINS`` keeps the entry point from registering it instead."""

from __future__ import annotations

import pytest

from harness.vllm_server import VllmServer
from tests.vllm._shared import vllm_version

ARGS = ["--enable-auto-tool-choice", "--tool-parser-plugin", "qwq_tool_parser.qwq_vllm",
        "--tool-call-parser", "qwq", "--reasoning-parser-plugin", "qwq_tool_parser.qwq_vllm",
        "--reasoning-parser", "qwq"]
ENV = {"VLLM_PLUGINS": "no-such-plugin"}


def test_a_module_name_is_refused_before_0_30() -> None:
    assert vllm_version() < (0, 30)  # from 0.30 the module route serves (tests/vllm)
    refused = pytest.raises(RuntimeError, match=r"exited with 1:[\s\S]*invalid tool call parser: qwq")
    with refused, VllmServer(ARGS, ENV):
        pass
