"""Rewrite the golden expectations: ``python -m tests.regen``, then review the diff.

Each ``fixtures/<model>/<case>.txt`` holds a raw model output; ``<case>.json`` beside it holds what it
must parse to (QwQ semantics: the output starts inside the think block).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from qwq_tool_parser import ParseResult, parse

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def fixture_texts() -> list[Path]:
    """Every golden input, sorted."""
    return sorted(FIXTURES.glob("*/*.txt"))


def read_text(path: Path) -> str:
    """A fixture's exact text (no newline translation)."""
    return path.read_bytes().decode("utf-8")


def record(result: ParseResult) -> dict[str, Any]:
    """The JSON-able form of a result that goldens store."""
    return {
        "reasoning": result.reasoning,
        "content": result.content,
        "tool_calls": [{"name": c.name, "arguments": c.arguments} for c in result.tool_calls],
        "malformed": [{"reason": m.reason, "offset": m.offset} for m in result.malformed],
    }


def main() -> None:
    for path in fixture_texts():
        expected = json.dumps(record(parse(read_text(path))), ensure_ascii=False, indent=2) + "\n"
        target = path.with_suffix(".json")
        if not target.exists() or target.read_text(encoding="utf-8") != expected:
            target.write_text(expected, encoding="utf-8")
            print(f"wrote {target.relative_to(FIXTURES.parent)}")


if __name__ == "__main__":
    main()
