"""QwQ's tool calls as a structural tag: the grammar an engine enforces for ``tool_choice`` required
or named, and for ``parallel_tool_calls=false``.

Strategy. The tag is plain JSON in XGrammar's structural-tag format (``{"type": "structural_tag",
"format": ...}``), built from tool names and argument schemas only, so it needs no engine or
XGrammar import; an adapter validates it into its engine's model. It describes what QwQ writes
after ``</think>``, not a generic envelope: the ``\\n\\n`` (any whitespace) before the first call,
``<tool_call>\\n{"name": "...", "arguments": {...}}\\n</tool_call>`` (the newlines inside the block
optional), ``\\n`` between calls. Arguments are a JSON object: the schema the adapter passes (vLLM
its own choice, SGLang a strict tool's), any object otherwise (a block whose arguments are not an
object is not a call, so "required" must not allow one). The think block (any text up to
``</think>``) goes in front where the engine starts the grammar at the output's first token rather
than after the reasoning; ``after_think`` alone writes it, for ``tool_calls_tag(think=True)``
(SGLang) and around a tag the engine built (vLLM, which then validates it into XGrammar's model).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

CALL_OPEN, CALL_CLOSE, THINK_CLOSE = "<tool_call>", "</tool_call>", "</think>"
ANY_OBJECT: Mapping[str, Any] = {"type": "object"}

GrammarTool = tuple[str, Mapping[str, Any] | None]
"""A tool as the grammar sees it: its name and the schema its arguments must follow (None: any
object)."""


def _call_tags(tools: Sequence[GrammarTool]) -> list[dict[str, Any]]:
    return [
        {
            "type": "tag",
            "begin": f'{CALL_OPEN}{nl}{{"name": "{name}", "arguments": ',
            "content": {"type": "json_schema", "json_schema": dict(schema or ANY_OBJECT)},
            "end": f"}}{nl}{CALL_CLOSE}",
        }
        for name, schema in tools
        for nl in ("\n", "")
    ]


def tool_calls_tag(
    tools: Sequence[GrammarTool], *, required: bool, one_call: bool, think: bool = False
) -> dict[str, Any]:
    """``required``: the answer is whitespace and calls only, at least one; otherwise free text in
    which a ``<tool_call>`` must be a whole call. ``one_call``: the output ends after the first
    call (whitespace may follow it). ``think``: the think block first (``after_think``)."""
    tags = _call_tags(tools)
    whitespace = {"type": "regex", "pattern": r"[ \t\r\n]*"}
    elements: list[dict[str, Any]]
    if required:
        calls = {"type": "tags_with_separator", "tags": tags, "separator": "\n",
                 "at_least_one": True, "stop_after_first": one_call}  # fmt: skip
        elements = [whitespace, calls, whitespace]
    else:
        elements = [{"type": "triggered_tags", "triggers": [CALL_OPEN], "tags": tags,
                     "stop_after_first": one_call}]  # fmt: skip
        if one_call:
            elements.append(whitespace)
    if think:
        fmt = after_think(*elements)
    else:
        fmt = elements[0] if len(elements) == 1 else {"type": "sequence", "elements": elements}
    return {"type": "structural_tag", "format": fmt}


def after_think(*elements: Mapping[str, Any]) -> dict[str, Any]:
    """A sequence format: QwQ's think block (any text up to ``</think>``), then ``elements``."""
    think = {"type": "tag", "begin": "", "content": {"type": "any_text"}, "end": THINK_CLOSE}
    return {"type": "sequence", "elements": [think, *elements]}
