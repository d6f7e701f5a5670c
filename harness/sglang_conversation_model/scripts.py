"""Which script a conversation plays: its last user turn looked up in a JSON table.

``$QWQ_SGLANG_SCRIPTS`` names a JSON object ``{last user message: script text}`` (re-read when it
changes, so a test can add entries to a running server). The last user turn is the text between the
last ``<|im_start|>user\\n`` and its ``<|im_end|>`` in the prompt the chat template rendered (tool
results are user turns in QwQ's template).
"""

from __future__ import annotations

import functools
import json
import os
from typing import Any

TABLE_ENV = "QWQ_SGLANG_SCRIPTS"
USER_TURN, TURN_END = "<|im_start|>user\n", "<|im_end|>"


def last_user_turn(prompt: str) -> str | None:
    head, sep, tail = prompt.rpartition(USER_TURN)
    return tail.split(TURN_END, 1)[0] if sep else None


@functools.lru_cache(maxsize=8)
def _table(path: str, mtime_ns: int) -> dict[str, str]:
    with open(path, encoding="utf-8") as f:
        table: Any = json.load(f)
    return {str(k): str(v) for k, v in table.items()}


def script_for(prompt: str) -> str | None:
    path = os.environ.get(TABLE_ENV)
    turn = last_user_turn(prompt)
    if not path or turn is None:
        return None
    return _table(path, os.stat(path).st_mtime_ns).get(turn)


@functools.cache
def qwq_tokenizer() -> Any:
    from harness import qwen_tokenizer

    return qwen_tokenizer.load_tokenizer()


def script_ids_for(prompt_ids: list[int]) -> tuple[int, ...]:
    """The script's token ids (QwQ's tokenizer), or ``()`` when the conversation has none."""
    script = script_for(qwq_tokenizer().decode(prompt_ids, skip_special_tokens=False))
    return tuple(qwq_tokenizer().encode(script, add_special_tokens=False).ids) if script else ()
