"""The ``qwq`` structural tag's bytes (what SGLang validates and XGrammar compiles), pinned.

``structural_tags.json`` holds ``tool_calls_tag``'s output for every combination of ``required``,
``one_call`` and ``think``, recorded from the code before the think element got its one owner
(``after_think``). Compared as ``json.dumps`` text, key order included: a grammar change shows here
as a diff to review, then a new golden.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qwq_tool_parser._structural_tag import tool_calls_tag

GOLDEN = json.loads(Path(__file__).with_name("structural_tags.json").read_text(encoding="utf-8"))
TOOLS = [
    ("get_weather", {"type": "object", "properties": {"city": {"type": "string"}},
                     "required": ["city"]}),
    ("ping", None),
]  # fmt: skip


def flags(case: str) -> dict[str, bool]:
    """``"required=1 one_call=0 think=1"`` as keyword arguments."""
    return {name: value == "1" for name, value in (part.split("=") for part in case.split())}


@pytest.mark.parametrize("case", GOLDEN)
def test_tag_bytes_are_the_golden(case: str) -> None:
    assert json.dumps(tool_calls_tag(TOOLS, **flags(case))) == json.dumps(GOLDEN[case])


def test_the_golden_covers_every_combination() -> None:
    assert len({tuple(flags(case).items()) for case in GOLDEN}) == len(GOLDEN) == 8
