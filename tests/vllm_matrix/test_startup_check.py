"""The startup check on the installed vLLM: the one line it logs names the version and exactly the
hooks this version lacks; a vLLM that renamed a hook is reported, not silently accepted."""

from __future__ import annotations

import logging
import pathlib
import shutil
from types import SimpleNamespace
from typing import Any

import pytest
import vllm
from qwq_tool_parser import qwq_vllm
from qwq_tool_parser.qwq_vllm_check import OPTIONAL_HOOKS, check, log_check

from tests.vllm_matrix.serving import VERSION

PAIRS = [
    (qwq_vllm.QwQToolParser, qwq_vllm.ToolParser),
    (qwq_vllm.QwQReasoningParser, qwq_vllm.ReasoningParser),
]


def expected_findings() -> list[str]:
    """Measured by this matrix: the end-of-stream hook arrived in 0.24, the no-reasoning-parser
    signal in 0.30."""
    found = []
    if VERSION < (0, 24):
        found.append(OPTIONAL_HOOKS["finish_streaming"])
    if VERSION < (0, 30):
        found.append(OPTIONAL_HOOKS["skip_reasoning_parsing"])
    return found


def test_findings_match_this_version() -> None:
    assert check(vllm, PAIRS) == expected_findings()


def test_one_line_names_the_version(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("test.qwq_vllm_check")
    with caplog.at_level(logging.INFO, logger=logger.name):
        log_check(logger, vllm, PAIRS)
    [record] = caplog.records
    assert vllm.__version__ in record.getMessage()
    assert record.levelno == (logging.WARNING if expected_findings() else logging.INFO)


def _renamed_copy(tmp_path: pathlib.Path, old: str, new: str) -> Any:
    """This vLLM's parser-calling files with one hook renamed, as a future version might."""
    root = pathlib.Path(vllm.__file__).parent
    fake = tmp_path / "vllm"
    for rel in ("entrypoints/openai/serving_chat.py", "entrypoints/openai/chat_completion/serving.py",
                "parser/abstract_parser.py", "parser/engine/adapters.py"):
        if (root / rel).is_file():
            (fake / rel).parent.mkdir(parents=True, exist_ok=True)
            (fake / rel).write_text((root / rel).read_text().replace(old, new))
    (fake / "__init__.py").write_text("")
    return SimpleNamespace(__file__=str(fake / "__init__.py"), __version__="9.9.9")


def test_a_renamed_reasoning_hook_is_reported(tmp_path: pathlib.Path) -> None:
    fake = _renamed_copy(tmp_path, "extract_reasoning", "parse_reasoning")
    assert any("reasoning streaming hook" in f for f in check(fake, PAIRS))
    shutil.rmtree(tmp_path / "vllm")


def test_a_changed_signature_is_reported() -> None:
    class Base:
        def extract_tool_calls_streaming(self, delta_text: str, new_argument: int) -> None: ...

    class QwQToolParser:
        def extract_tool_calls_streaming(self, delta_text: str) -> None: ...

    assert any("extract_tool_calls_streaming changed" in f
               for f in check(vllm, [(QwQToolParser, Base)]))


def test_a_missing_vllm_tree_is_reported(tmp_path: pathlib.Path) -> None:
    fake = SimpleNamespace(__file__=str(tmp_path / "__init__.py"), __version__="9.9.9")
    assert check(fake, PAIRS)[-1].startswith("vLLM's chat serving code was not found")
