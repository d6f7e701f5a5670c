"""``Qwen2ForCausalLM`` whose next-token logits play the script its conversation selects.

Strategy: SGLang's model runs as usual; after it, each request's row of ``next_token_logits`` is
overwritten: 0 at the scripted token, -5e3 at ``<|im_end|>`` and -1e4 everywhere else (finite, so a
grammar mask applied later (``tool_choice``) can still forbid the scripted token; the model then
ends its turn, as a real model held by the grammar would). The prompt is collected from the
prefill batches (keyed by request id; the server runs with ``--disable-radix-cache`` so a prefill
holds the whole prompt, or its chunks in order), decoded, and handed to
:func:`harness.conversation_scripts.script_for`, the table the vLLM servers use too. Only with
``QWQ_SCRIPT_FROM_CONVERSATION=1`` in the environment (``harness.vllm_server`` sets it); a request
that sends its own script (``harness.sglang_script``) overrides this one. The position in the
script is ``seq_len - prompt_len``: the tokens this request has generated so far.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import torch
from sglang.srt.layers.logits_processor import LogitsProcessorOutput
from sglang.srt.models.qwen2 import Qwen2ForCausalLM as _SGLangQwen2

from harness.conversation_scripts import script_for
from harness.sglang_script import qwq_tokenizer

EOS_ID = 151645  # <|im_end|>
_MAX_REQUESTS = 512  # bounded: the oldest finished requests' state is dropped


@dataclass
class _Request:
    prompt: list[int] = field(default_factory=list)
    prompt_len: int = 0
    script: tuple[int, ...] | None = None


_REQUESTS: OrderedDict[str, _Request] = OrderedDict()
_ENABLED = os.environ.get("QWQ_SCRIPT_FROM_CONVERSATION") == "1"


def _script_ids(prompt_ids: list[int]) -> tuple[int, ...]:
    script = script_for(qwq_tokenizer().decode(prompt_ids, skip_special_tokens=False))
    return tuple(qwq_tokenizer().encode(script, add_special_tokens=False).ids)


def _seq_lens(batch: Any) -> list[int]:
    lens = batch.seq_lens_cpu if batch.seq_lens_cpu is not None else batch.seq_lens
    return [int(n) for n in lens.tolist()]


def _collect_prompts(input_ids: torch.Tensor, batch: Any, seq_lens: list[int]) -> None:
    ids, start = input_ids.tolist(), 0
    for rid, n, prefix, seq_len in zip(batch.rids, batch.extend_seq_lens_cpu,
                                       batch.extend_prefix_lens_cpu, seq_lens, strict=True):
        req = _REQUESTS.get(rid) if prefix else None
        if req is None:
            req = _REQUESTS[rid] = _Request()
            while len(_REQUESTS) > _MAX_REQUESTS:
                _REQUESTS.popitem(last=False)
        req.prompt.extend(ids[start:start + n])
        req.prompt_len, req.script = seq_len, None
        start += n


def _force(logits: torch.Tensor, batch: Any, seq_lens: list[int]) -> None:
    for row, (rid, seq_len) in enumerate(zip(batch.rids, seq_lens, strict=True)):
        req = _REQUESTS.get(rid)
        if req is None:
            continue
        if req.script is None:
            req.script = _script_ids(req.prompt)
        pos = seq_len - req.prompt_len
        target = req.script[pos] if pos < len(req.script) else EOS_ID
        logits[row].fill_(-1e4)
        logits[row, EOS_ID] = -5e3
        logits[row, target] = 0.0


class Qwen2ForCausalLM(_SGLangQwen2):  # type: ignore[misc]
    """The name SGLang's registry looks up for the tiny model's architecture."""

    def forward(self, input_ids: torch.Tensor, positions: torch.Tensor, forward_batch: Any,
                *args: Any, **kwargs: Any) -> Any:
        out = super().forward(input_ids, positions, forward_batch, *args, **kwargs)
        if _ENABLED and isinstance(out, LogitsProcessorOutput) and forward_batch.rids:
            seq_lens = _seq_lens(forward_batch)
            if forward_batch.forward_mode.is_extend():
                _collect_prompts(input_ids, forward_batch, seq_lens)
            _force(out.next_token_logits, forward_batch, seq_lens)
        return out


EntryClass = Qwen2ForCausalLM
