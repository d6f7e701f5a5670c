"""Startup check: does the installed vLLM call the hooks the qwq adapter implements?

Strategy. A hook vLLM renames or stops calling fails silently (the method is simply never called), so
at registration the adapter compares the installed vLLM with what it relies on and logs one line
naming the version and what will not work. Two kinds of evidence, neither depending on a version
number: (1) the parameters of the base classes' streaming methods must be ones our overrides accept;
(2) the name of each optional hook must appear in vLLM's chat parsing code (the chat serving module
and ``vllm/parser``), read as text without importing it. Each missing hook maps to a plain
consequence. ``check()`` returns the findings; ``log_check()`` writes the line.
"""

from __future__ import annotations

import inspect
import logging
import pathlib
from collections.abc import Iterable
from typing import Any

# The files (relative to the vllm package) where vLLM calls parser hooks, across 0.10-0.33.
_CALLER_FILES = (
    "entrypoints/openai/serving_chat.py",  # <= 0.14
    "entrypoints/openai/chat_completion/serving.py",  # >= 0.15
    "parser/abstract_parser.py",  # >= 0.20
    "parser/engine/adapters.py",  # >= 0.24
)
# hook name -> what does not work when vLLM never calls it
OPTIONAL_HOOKS = {
    "finish_streaming": "no end-of-stream hook: a stream is flushed only when its last delta carries "
    "the end-of-sequence token or reaches max_tokens without a reasoning parser",
    "skip_reasoning_parsing": "no skip_reasoning_parsing signal: --reasoning-parser qwq is required "
    "(without it the think block streams as content and calls quoted in it become calls)",
}
_REASONING_STREAM_HOOKS = ("extract_reasoning_streaming", "extract_reasoning_content_streaming")
_STREAM_METHODS = {  # base class attribute -> method names whose parameters we must accept
    "tool": ("extract_tool_calls_streaming", "extract_tool_calls"),
    "reasoning": _REASONING_STREAM_HOOKS + ("is_reasoning_end", "extract_content_ids"),
}


def _caller_source(vllm_dir: pathlib.Path) -> str:
    texts = []
    for rel in _CALLER_FILES:
        try:
            texts.append((vllm_dir / rel).read_text(encoding="utf-8"))
        except OSError:
            continue
    return "\n".join(texts)


def _accepts(ours: Any, theirs: Any) -> bool:
    """Our override can be called the way the base class declares its method."""
    try:
        mine = inspect.signature(ours).parameters
        base = inspect.signature(theirs).parameters
    except (TypeError, ValueError):
        return True
    if any(p.kind is p.VAR_KEYWORD for p in mine.values()):
        return True
    names = [n for n, p in base.items() if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    return all(n in mine for n in names)


def _signature_findings(pairs: Iterable[tuple[type, type]]) -> list[str]:
    found = []
    for ours, base in pairs:
        kind = "tool" if "Tool" in ours.__name__ else "reasoning"
        for name in _STREAM_METHODS[kind]:
            theirs = getattr(base, name, None)
            mine = getattr(ours, name, None)
            if theirs is not None and mine is not None and not _accepts(mine, theirs):
                found.append(f"{name} changed its parameters: the {kind} parser may fail")
        missing = sorted(getattr(base, "__abstractmethods__", frozenset()) - set(dir(ours)))
        if missing:
            found.append(f"the {kind} parser lacks hooks vLLM requires: {', '.join(missing)}")
    return found


def check(vllm_module: Any, pairs: Iterable[tuple[type, type]]) -> list[str]:
    """What will not work with this vLLM: one phrase per finding (empty: everything is wired)."""
    source = _caller_source(pathlib.Path(vllm_module.__file__).parent)
    found = _signature_findings(pairs)
    if source and not any(h in source for h in _REASONING_STREAM_HOOKS):
        found.append("vLLM calls no reasoning streaming hook we know: streamed reasoning is lost")
    found += [why for hook, why in OPTIONAL_HOOKS.items() if source and hook not in source]
    if not source:
        found.append("vLLM's chat serving code was not found: the hooks could not be checked")
    return found


def log_check(
    logger: logging.Logger, vllm_module: Any, pairs: Iterable[tuple[type, type]]
) -> list[str]:
    """Log one line: the vLLM version and either "all hooks found" or what will not work."""
    version = getattr(vllm_module, "__version__", "?")
    found = check(vllm_module, pairs)
    if found:
        logger.warning("qwq parsers on vLLM %s: %s", version, "; ".join(found))
    else:
        logger.info("qwq parsers on vLLM %s: all hooks found", version)
    return found
