"""Registration: the entry point, ``register()``, both launchers' real argument parsing, and the
multi-tokenizer app route. The launchers run as subprocesses, exactly as a user types them (the
accepting side: the real servers of ``test_server_*.py``)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from importlib.metadata import entry_points

import pytest
from qwq_tool_parser import qwq_sglang
from sglang.srt.function_call import parser_names
from sglang.srt.function_call.function_call_parser import FunctionCallParser
from sglang.srt.parser import reasoning_parser_names
from sglang.srt.parser.reasoning_parser import ReasoningParser

ARGS = ["--model-path", "/nonexistent/QwQ-32B", "--tool-call-parser", "qwq",
        "--reasoning-parser", "qwq"]


def test_entry_point_is_installed() -> None:
    (ep,) = [e for e in entry_points(group="sglang.srt.plugins") if e.value.startswith("qwq_")]
    assert ep.value == "qwq_tool_parser.qwq_sglang:register"
    assert ep.load() is qwq_sglang.register


def test_register_is_idempotent() -> None:
    for _ in range(3):
        qwq_sglang.register()
    assert parser_names.TOOL_CALL_PARSER_NAMES.count("qwq") == 1
    assert reasoning_parser_names.REASONING_PARSER_NAMES.count("qwq") == 1
    assert list(FunctionCallParser.ToolCallParserEnum).count("qwq") == 1
    assert ReasoningParser.DetectorMap["qwq"] is qwq_sglang.QwQReasoningDetector


def test_server_args_accept_qwq_in_process() -> None:
    """The argparse choices SGLang computes after load_plugins() (conftest) include qwq."""
    import argparse

    from sglang.srt.server_args import ServerArgs

    parser = argparse.ArgumentParser()
    ServerArgs.add_cli_args(parser)
    ns = parser.parse_args(ARGS)
    assert (ns.tool_call_parser, ns.reasoning_parser) == ("qwq", "qwq")


def _launch(cmd: list[str], plugins: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
           "SGLANG_PLUGINS": plugins}
    return subprocess.run(cmd + ARGS, env=env, capture_output=True, text=True, timeout=300,
                          check=False)


def _sglang_cli() -> str:
    exe = shutil.which("sglang", path=os.path.dirname(sys.executable))
    assert exe, "the sglang console script is installed next to this interpreter"
    return exe


LAUNCHERS = {
    "launch_server": lambda: [sys.executable, "-m", "sglang.launch_server"],
    "sglang_serve": lambda: [_sglang_cli(), "serve"],
}


@pytest.mark.parametrize("launcher", sorted(LAUNCHERS))
def test_launcher_rejects_qwq_without_the_entry_point(launcher: str) -> None:
    """With our entry point filtered out (``SGLANG_PLUGINS``), argparse rejects the name: so the
    real servers of ``test_server_*.py``, started without any plugin flag, got ``qwq`` from it."""
    without = _launch(LAUNCHERS[launcher](), plugins="some_other_plugin")
    assert without.returncode == 2
    assert "argument --tool-call-parser: invalid choice: 'qwq'" in without.stderr


def test_multi_tokenizer_app_route_registers() -> None:
    """``SGLANG_HTTP_SERVER_APP_PATH=qwq_tool_parser.qwq_sglang:app``: a fresh worker process that
    imports the app the way uvicorn does (no load_plugins) gets SGLang's app with qwq registered."""
    code = (
        "from uvicorn.importer import import_from_string\n"
        "app = import_from_string('qwq_tool_parser.qwq_sglang:app')\n"
        "from sglang.srt.entrypoints import http_server\n"
        "from sglang.srt.function_call.function_call_parser import FunctionCallParser as F\n"
        "from sglang.srt.parser.reasoning_parser import ReasoningParser as R\n"
        "import sglang.srt.plugins as p\n"
        "assert not p._plugins_loaded\n"
        "assert app is http_server.app\n"
        "assert F.ToolCallParserEnum['qwq'].__name__ == 'QwQDetector'\n"
        "assert R.DetectorMap['qwq'].__name__ == 'QwQReasoningDetector'\n"
        "print('ok')\n"
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip().endswith("ok")
