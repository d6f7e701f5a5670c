"""Shared setup: SGLang's plugins are loaded once per test process, exactly as its launchers do."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from typing import Any

import pytest

warnings.filterwarnings("ignore", message=".*GGUF.*")
from sglang.srt.plugins import load_plugins

load_plugins()  # the real entry-point route: registers "qwq" through our sglang.srt.plugins entry


@pytest.fixture(scope="session")
def server() -> Iterator[tuple[str, Any]]:
    """One uvicorn server with SGLang's chat serving under three parser configurations."""
    from harness.sglang_serving import serve

    logging.getLogger("sglang").setLevel(logging.ERROR)
    with serve({"qwq": ("qwq", "qwq"), "stock": ("qwen25", "qwen3"),
                "qwq_tools_only": ("qwq", None), "qwq_whole": ("qwq_whole", "qwq")}) as (base, script):
        yield base, script
