"""Where the output starts, read from a chat template: its generation prompt, rendered once.

Strategy. Where an engine gives the parser no prompt but does give the chat template that renders it
(a tokenizer's own, or a request's ``chat_template``), render that template's generation prompt for
a one-message conversation with the request's template kwargs and apply the one rule,
:func:`starts_in_reasoning`, to it. For ChatML templates of the Qwen family the tail of a generation
prompt does not depend on the conversation, only on the template and kwargs such as
``enable_thinking``; so each (template, kwargs) pair is rendered once and remembered (a bounded
table). Nothing is imported: the tokenizer only needs transformers' ``apply_chat_template``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from ._reasoning_start import starts_in_reasoning

CACHE_SIZE = 64
"""Rendered (template, kwargs) pairs kept; a server has a few templates and a few kwargs sets."""

_SET_HERE = frozenset(
    {"add_generation_prompt", "continue_final_message", "tokenize", "tools", "documents",
     "conversation", "chat_template", "return_dict"}
)  # fmt: skip
"""Template kwargs this module sets itself (engines pass some of them with the request's kwargs)."""

_rendered: dict[tuple[str, str], bool | None] = {}
logger = logging.getLogger(__name__)


def template_starts_in_reasoning(
    tokenizer: Any,
    chat_template: str | None = None,
    template_kwargs: Mapping[str, Any] | None = None,
) -> bool | None:
    """Whether the output starts in reasoning after ``chat_template``'s generation prompt.

    Args:
        tokenizer: has ``apply_chat_template`` (and ``chat_template``, used when none is given).
        chat_template: the template text; None for the tokenizer's own.
        template_kwargs: the request's chat template kwargs (``enable_thinking``, ...).

    Returns:
        :func:`starts_in_reasoning` of the rendered generation prompt, or None when there is no
        template or it does not render.
    """
    template = chat_template or getattr(tokenizer, "chat_template", None)
    if not isinstance(template, str):
        return None
    kwargs = {k: v for k, v in (template_kwargs or {}).items() if k not in _SET_HERE}
    key = (template, json.dumps(kwargs, sort_keys=True, default=repr))
    if key not in _rendered:
        if len(_rendered) >= CACHE_SIZE:
            del _rendered[next(iter(_rendered))]  # the oldest
        _rendered[key] = _render(tokenizer, template, kwargs)
    return _rendered[key]


def _render(tokenizer: Any, template: str, kwargs: dict[str, Any]) -> bool | None:
    try:
        prompt = tokenizer.apply_chat_template(
            [{"role": "user", "content": "."}],
            chat_template=template,
            add_generation_prompt=True,
            tokenize=False,
            **kwargs,
        )
    except Exception:
        logger.exception("qwq: the chat template did not render; its start state is unknown")
        return None
    return starts_in_reasoning(prompt) if isinstance(prompt, str) else None
