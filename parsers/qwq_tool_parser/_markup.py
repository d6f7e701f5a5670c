"""The markup QwQ writes, and the one holdback rule for tags cut by a chunk boundary.

Sources of the tag strings:
- ``<think>`` / ``</think>``: QwQ-32B's chat template ends the generation prompt with
  ``<|im_start|>assistant\\n<think>\\n``; the model closes reasoning with ``</think>``. Both are single
  non-special added tokens (ids 151667 / 151668 in QwQ-32B's ``tokenizer_config.json``).
- ``<tool_call>`` / ``</tool_call>``: QwQ-32B's chat template tells the model to "return a json object
  with function name and arguments within <tool_call></tool_call> XML tags" (added tokens 151657 /
  151658, non-special, so they survive ``skip_special_tokens``).

Holdback: text is emitted as soon as it cannot be the start of a tag. Only the longest suffix of the
text seen so far that is a proper prefix of the awaited tag is held back (at most ``len(tag) - 1``
characters). Every tag starts with ``<`` and contains no other ``<``, so that suffix, if any, starts
at the last ``<`` in the final ``len(tag) - 1`` characters: one ``rfind`` and one ``startswith``.
The ``regex`` package's partial matching (``partial=True``) could answer the same question, but for
four fixed literals this check is exact, allocation-free and keeps the core dependency-free.
"""

from __future__ import annotations

import re

THINK_OPEN = "<think>"
THINK_CLOSE = "</think>"
CALL_OPEN = "<tool_call>"
CALL_CLOSE = "</tool_call>"

WHITESPACE = " \t\r\n"
"""What counts as framing whitespace: JSON's four whitespace characters (also used to trim)."""

_WHITESPACE_RUN = re.compile(r"[ \t\r\n]*")


def skip_whitespace(text: str, i: int) -> int:
    """The index of the first non-``WHITESPACE`` character at or after ``i`` (or ``len(text)``)."""
    match = _WHITESPACE_RUN.match(text, i)
    return match.end() if match else i


def hold_trailing_whitespace(held: str, text: str) -> tuple[str, str]:
    """Split ``held + text`` into what can be emitted now and the trailing whitespace to hold.

    Whitespace at the end of a run of text may turn out to be framing (or, in string arguments,
    trimming), so it waits until a non-whitespace character shows it is part of the text.
    """
    body = text.rstrip(WHITESPACE)
    if body:
        return held + body, text[len(body) :]
    return "", held + text


def partial_tag_start(text: str, start: int, tag: str) -> int:
    """Where a possible cut-off ``tag`` begins at the end of ``text[start:]``, or ``len(text)``.

    ``text[result:]`` is the longest suffix of ``text[start:]`` that is a proper, non-empty prefix
    of ``tag``; it must be held back until more text shows whether it is the tag.
    """
    end = len(text)
    lt = text.rfind("<", max(start, end - len(tag) + 1))
    if lt >= 0 and tag.startswith(text[lt:]):
        return lt
    return end
