"""Where the output starts: inside the think block or in content, derived from the prompt.

Strategy. One rule for QwQ and the whole Qwen reasoning family: the output starts in reasoning
exactly when the prompt ends inside an open think block, i.e. when the last think tag of the final
turn (the text after the last ``<|im_start|>``) is ``<think>``. If that tag is ``</think>``, or the
final turn has none, the output starts in content (a ``<think>`` the model writes itself still opens
reasoning: the parser recognises it in either start state). The generation-prompt tails this covers:

- QwQ-32B, Qwen3-2507 Thinking: ``<|im_start|>assistant\\n<think>\\n``            -> reasoning
- Qwen3 hybrid, ``enable_thinking=false``: ``...assistant\\n<think>\\n\\n</think>\\n\\n`` -> content
- Qwen3 hybrid thinking, Qwen3-2507 Instruct: ``<|im_start|>assistant\\n``        -> content
- a prefilled assistant turn: whatever its own text left open or closed.

The prompt is read backwards from its end and only as far as the final turn's start, so the cost is
the length of that turn. Token ids are QwQ's (the whole Qwen3 family shares them); other vocabularies
pass their own ids.
"""

from __future__ import annotations

from collections.abc import Sequence

from ._markup import THINK_CLOSE, THINK_OPEN

TURN_START = "<|im_start|>"
"""ChatML's turn marker: the final turn is the text after the last one."""

THINK_OPEN_ID = 151667
"""``<think>`` in QwQ-32B's and Qwen3's vocabulary."""
THINK_CLOSE_ID = 151668
"""``</think>`` in QwQ-32B's and Qwen3's vocabulary."""
TURN_START_ID = 151644
"""``<|im_start|>`` in QwQ-32B's and Qwen3's vocabulary."""


def starts_in_reasoning(
    prompt: str | Sequence[int],
    *,
    think_open_id: int | None = THINK_OPEN_ID,
    think_close_id: int | None = THINK_CLOSE_ID,
    turn_start_id: int | None = TURN_START_ID,
) -> bool:
    """True when the output that follows ``prompt`` starts inside the think block.

    Args:
        prompt: the rendered prompt, as text or as token ids.
        think_open_id: the id of ``<think>`` (for token ids; None if the vocabulary has none).
        think_close_id: the id of ``</think>``.
        turn_start_id: the id of ``<|im_start|>``.

    Returns:
        Whether the last think tag of the prompt's final turn is ``<think>``. Pass the result as
        ``start_in_reasoning`` to :class:`~qwq_tool_parser.StreamParser` or ``parse``.
    """
    if isinstance(prompt, str):
        turn = prompt.rfind(TURN_START) + 1  # 0 when there is no turn marker: the whole prompt
        return prompt.rfind(THINK_OPEN, turn) > prompt.rfind(THINK_CLOSE, turn)
    for token in reversed(prompt):
        if token == think_open_id:
            return True
        if token == think_close_id or token == turn_start_id:
            return False
    return False
