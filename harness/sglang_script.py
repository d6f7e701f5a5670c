"""Scripted model output for a real SGLang server: a ``CustomLogitProcessor`` sent with the request.

A request opts in with SGLang's own fields (the server runs with ``--enable-custom-logit-processor``
and ``--disable-overlap-schedule``; with overlap scheduling the first scripted token came out
twice)::

    client.chat.completions.create(..., extra_body=script_fields("...</think>\\n\\n<tool_call>..."))

``script_fields`` returns ``custom_logit_processor`` (this class, serialized by SGLang's
``to_str``: a reference to this module, which the server imports from the repo root on its
``PYTHONPATH``) and ``custom_params`` holding the script, as text (tokenized in the scheduler by the
model's own QwQ tokenizer) or as token ids (to test non-canonical token splits).

Strategy: at each step the request's row becomes -inf except 0.0 at ``script[len(output_ids)]``,
then ``<|im_end|>``. SGLang applies the grammar mask (``tool_choice`` required/named) before custom
processors: if the grammar forbids the scripted token, the model "gives up" and ends the turn with
EOS when the grammar allows it, as a real model held by the same grammar would.
"""

from __future__ import annotations

import functools
from typing import Any

import torch
from sglang.srt.sampling.custom_logit_processor import CustomLogitProcessor

EOS_ID = 151645  # <|im_end|>
TEXT, IDS, GAVE_UP = "qwq_script_text", "qwq_script_ids", "qwq_gave_up"


@functools.cache
def qwq_tokenizer() -> Any:
    """The model's tokenizer (the tiny model's is QwQ-32B's), loaded once per process."""
    from harness import qwen_tokenizer

    return qwen_tokenizer.load_tokenizer()


@functools.lru_cache(maxsize=256)
def _encode(text: str) -> tuple[int, ...]:
    return tuple(qwq_tokenizer().encode(text, add_special_tokens=False).ids)


def _script(params: dict[str, Any]) -> tuple[int, ...] | None:
    if IDS in params:
        return tuple(params[IDS])
    if TEXT in params:
        return _encode(params[TEXT])
    return None


class ScriptedOutput(CustomLogitProcessor):  # type: ignore[misc]
    """Forces each opted-in request's output to its script, then ``<|im_end|>``."""

    def __call__(self, logits: torch.Tensor,
                 custom_param_list: list[dict[str, Any]] | None = None) -> torch.Tensor:
        for row, params in enumerate(custom_param_list or []):
            script = _script(params) if params else None
            if script is None:
                continue
            pos = len(params["__req__"].output_ids)
            target = script[pos] if pos < len(script) and not params.get(GAVE_UP) else EOS_ID
            if torch.isneginf(logits[row, target]):  # the grammar forbids it: end the turn
                params[GAVE_UP] = True
                target = EOS_ID
                if torch.isneginf(logits[row, target]):
                    continue
            logits[row, :] = float("-inf")
            logits[row, target] = 0.0
        return logits


def script_fields(script: str | list[int]) -> dict[str, Any]:
    """The request fields (``extra_body`` of the ``openai`` client) that force ``script``."""
    key = IDS if isinstance(script, list) else TEXT
    return {"custom_logit_processor": ScriptedOutput.to_str(), "custom_params": {key: script}}
