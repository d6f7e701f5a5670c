"""The README's loading routes on the installed vLLM, through vLLM's own registration code: the plugin
loader every vLLM process runs (entry point), and the import ``vllm serve`` does for
``--tool-parser-plugin`` / ``--reasoning-parser-plugin`` with a module name, then with a file path.
A fresh process per kind (vLLM's parser registries are process-wide); the module each resolved class
comes from tells the routes apart (the file is imported as ``qwq_vllm``). Real servers on 0.29.0
and 0.32.0 (tests/vllm_serve, tests/vllm) check the same routes end to end."""

from __future__ import annotations

import json
import subprocess
import sys

import qwq_tool_parser.qwq_vllm

from tests.vllm_matrix.serving import VERSION

PROBE = """
import json, sys
from vllm.reasoning import ReasoningParserManager
try:
    from vllm.tool_parsers import ToolParserManager
except ImportError:
    from vllm.entrypoints.openai.tool_parsers import ToolParserManager

def resolved():
    found = []
    for get in (ToolParserManager.get_tool_parser, ReasoningParserManager.get_reasoning_parser):
        try:
            cls = get("qwq")
        except KeyError:
            cls = None
        found.append(cls and f"{cls.__module__}.{cls.__qualname__}")
    return found

if sys.argv[1:] == ["entry_point"]:
    from vllm.plugins import load_general_plugins
    load_general_plugins()
    print(json.dumps({"entry_point": resolved()}))
else:
    seen = {}
    for route, value in zip(("module_name", "file_path"), sys.argv[1:]):
        ToolParserManager.import_tool_parser(value)
        ReasoningParserManager.import_reasoning_parser(value)
        seen[route] = resolved()
    print(json.dumps(seen))
"""
MODULE = "qwq_tool_parser.qwq_vllm"
PARSERS = ["QwQToolParser", "QwQReasoningParser"]


def probe(*args: str) -> dict[str, list[str | None]]:
    out = subprocess.run([sys.executable, "-c", PROBE, *args], check=True, capture_output=True,
                         text=True, timeout=600).stdout
    return json.loads(out.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_the_entry_point_registers_qwq() -> None:
    assert probe("entry_point") == {"entry_point": [f"{MODULE}.{c}" for c in PARSERS]}


def test_a_file_path_registers_qwq_and_a_module_name_only_from_0_30() -> None:
    """Before 0.30 vLLM reads a plugin value as a path: for a module name nothing is imported."""
    by_module = [f"{MODULE}.{c}" for c in PARSERS] if VERSION >= (0, 30) else [None, None]
    assert probe(MODULE, qwq_tool_parser.qwq_vllm.__file__) == {
        "module_name": by_module,
        "file_path": [f"qwq_vllm.{c}" for c in PARSERS],
    }
