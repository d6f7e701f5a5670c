"""The start rule on real prompt tails: rendered by transformers from QwQ-32B's official template and
from the minimal Qwen3-style templates, then read as text and as QwQ token ids."""

from __future__ import annotations

from typing import Any

import pytest

from qwq_tool_parser import starts_in_reasoning
from tests.qwen3_templates import QWEN3_TEMPLATES
from tests.templates import qwq_template_helpers as h

USER = [{"role": "user", "content": "What's the weather in Paris?"}]
EARLIER = [  # a finished earlier exchange whose think block is closed
    {"role": "user", "content": "Hi"},
    {"role": "assistant", "content": "<think>\nGreet back.\n</think>\n\nHello!"},
    *USER,
]


def _prefill(text: str) -> list[dict[str, Any]]:
    return [*USER, {"role": "assistant", "content": text}]


# id, template name ("qwq" = the official QwQ-32B template), messages, chat_template_kwargs,
# continue_final_message, the expected start (True: reasoning), the prompt's expected tail.
CASES = [
    ("qwq", "qwq", USER, {}, False, True, "<|im_start|>assistant\n<think>\n"),
    ("qwq_history", "qwq", EARLIER, {}, False, True, "<|im_start|>assistant\n<think>\n"),
    ("qwq_prefilled_answer", "qwq", _prefill("Sure, "), {}, True, False, "assistant\nSure, "),
    ("qwq_prefilled_open_think", "qwq", _prefill("<think>\nFirst, "), {}, True, True,
     "assistant\n<think>\nFirst, "),
    ("qwen3_thinking_default", "hybrid", USER, {}, False, False, "<|im_start|>assistant\n"),
    ("qwen3_thinking_on", "hybrid", USER, {"enable_thinking": True}, False, False,
     "<|im_start|>assistant\n"),
    ("qwen3_thinking_off", "hybrid", USER, {"enable_thinking": False}, False, False,
     "<|im_start|>assistant\n<think>\n\n</think>\n\n"),
    ("qwen3_thinking_off_history", "hybrid", EARLIER, {"enable_thinking": False}, False, False,
     "<|im_start|>assistant\n<think>\n\n</think>\n\n"),
    ("qwen3_prefilled_closed_think", "hybrid", _prefill("<think>\nok\n</think>\n\nIt is"), {}, True,
     False, "</think>\n\nIt is"),
    ("qwen3_prefilled_open_think", "hybrid", _prefill("<think>\nHmm"), {}, True, True,
     "<think>\nHmm"),
    ("2507_thinking", "thinking_2507", USER, {}, False, True, "<|im_start|>assistant\n<think>\n"),
    ("2507_thinking_history", "thinking_2507", EARLIER, {}, False, True,
     "<|im_start|>assistant\n<think>\n"),
    ("2507_instruct", "instruct_2507", USER, {}, False, False, "<|im_start|>assistant\n"),
    ("2507_instruct_history", "instruct_2507", EARLIER, {}, False, False,
     "<|im_start|>assistant\n"),
]


def _render(template: str, messages: list[dict[str, Any]], kwargs: dict[str, Any],
            prefilled: bool) -> str:
    source = h.official_template() if template == "qwq" else QWEN3_TEMPLATES[template]
    out = h.tokenizer().apply_chat_template(
        messages,
        chat_template=source,
        add_generation_prompt=not prefilled,
        continue_final_message=prefilled,
        tokenize=False,
        **kwargs,
    )
    assert isinstance(out, str)
    return out


@pytest.mark.parametrize(("template", "messages", "kwargs", "prefilled", "expected", "tail"),
                         [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_start_rule_on_rendered_prompts(template: str, messages: list[dict[str, Any]],
                                        kwargs: dict[str, Any], prefilled: bool, expected: bool,
                                        tail: str) -> None:
    prompt = _render(template, messages, kwargs, prefilled)
    assert prompt.endswith(tail)  # the template really produced the tail this case is about
    assert starts_in_reasoning(prompt) is expected
    ids = h.tokenizer().encode(prompt, add_special_tokens=False)
    assert starts_in_reasoning(ids) is expected
    assert starts_in_reasoning(ids[-40:]) is expected  # only the final turn is read


def test_every_template_family_is_covered() -> None:
    assert {c[1] for c in CASES} == {"qwq", *QWEN3_TEMPLATES}
    assert {c[5] for c in CASES} == {True, False}
