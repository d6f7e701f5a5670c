"""Minimal Qwen3-style chat templates for the reasoning-start tests (engine and template sessions).

Each renders ChatML turns and ends the generation prompt the way its model family does; that tail is
all the parser's start rule reads:

- ``hybrid``: Qwen3 (hybrid thinking). ``<|im_start|>assistant\\n``, plus ``<think>\\n\\n</think>\\n\\n``
  when ``enable_thinking`` is false (the model then writes no think block).
- ``thinking_2507``: Qwen3-2507 Thinking. ``<|im_start|>assistant\\n<think>\\n`` (the model writes
  only ``</think>``, like QwQ-32B).
- ``instruct_2507``: Qwen3-2507 Instruct. ``<|im_start|>assistant\\n``, and the model never thinks.

A final assistant message renders as its text, so ``continue_final_message`` ends the prompt with it.
"""

from __future__ import annotations

_TURNS = (
    "{%- for message in messages %}"
    "{{- '<|im_start|>' + message.role + '\\n' + (message.content or '') + '<|im_end|>\\n' }}"
    "{%- endfor %}"
)
_OPEN = "{{- '<|im_start|>assistant\\n' }}"

QWEN3_TEMPLATES = {
    "hybrid": _TURNS + "{%- if add_generation_prompt %}" + _OPEN
    + "{%- if enable_thinking is defined and enable_thinking is false %}"
    + "{{- '<think>\\n\\n</think>\\n\\n' }}{%- endif %}{%- endif %}",
    # One literal, as in the real template (SGLang recognises a QwQ-style prompt by it).
    "thinking_2507": _TURNS
    + "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n<think>\\n' }}{%- endif %}",
    "instruct_2507": _TURNS + "{%- if add_generation_prompt %}" + _OPEN + "{%- endif %}",
}
"""Template name -> Jinja source."""
