"""A vLLM v1 logits processor that makes each request write a script: a scripted QwQ transcript.

Load it with ``--logits-processors harness.forced_logits:ForcedScriptLogitsProcessor`` (the repo
root on ``PYTHONPATH``). A request opts in through ``vllm_xargs`` (``SamplingParams.extra_args``):

- ``forced_text``: a string, tokenized in the worker by the model's own tokenizer, or
- ``forced_token_ids``: a list of ints (to test non-canonical token splits);
- ``forced_eos`` (default 1): after the script, force ``<|im_end|>``.

With ``QWQ_SCRIPT_FROM_CONVERSATION=1`` in the server's environment, a request without those keys
plays the script ``harness.conversation_scripts`` picks from its prompt (the conversation as the
chat template rendered it), so unchanged clients get QwQ-shaped replies too.

Strategy: at each step the request's row becomes -inf except 0.0 at ``script[len(output)]``. The
processor is not argmax-invariant, so vLLM applies it before temperature, top-k/p and penalties,
and the output is the script whatever the sampling parameters. It runs after the structured-output
bitmask: if the grammar forbids the scripted token (e.g. a second call under
``parallel_tool_calls=false``), the model "gives up" and ends the turn with EOS when the grammar
allows it, as a real model constrained by the same grammar would; requests without the keys run
untouched (in conversation mode: none do).
"""

from __future__ import annotations

import os
from typing import Any

import torch
from vllm.v1.sample.logits_processor import BatchUpdate, LogitsProcessor
from vllm.v1.sample.logits_processor.builtin import process_dict_updates

EOS_ID = 151645  # <|im_end|>


def _script(extra: dict[str, Any] | None, prompt_ids: list[int] | None = None) -> list[int] | None:
    if not extra or not ({"forced_text", "forced_token_ids"} & extra.keys()):
        return _conversation_script(prompt_ids)
    if "forced_token_ids" in extra:
        ids = extra["forced_token_ids"]
        if not isinstance(ids, list) or not all(isinstance(i, int) for i in ids):
            raise ValueError("vllm_xargs.forced_token_ids must be a list of ints")
        return list(ids)
    text = extra["forced_text"]
    if not isinstance(text, str):
        raise ValueError("vllm_xargs.forced_text must be a string")
    return _tokenizer().encode(text, add_special_tokens=False).ids


def _conversation_script(prompt_ids: list[int] | None) -> list[int] | None:
    if prompt_ids is None or os.environ.get("QWQ_SCRIPT_FROM_CONVERSATION") != "1":
        return None
    from harness.conversation_scripts import script_for

    prompt = _tokenizer().decode(list(prompt_ids), skip_special_tokens=False)
    return _tokenizer().encode(script_for(prompt), add_special_tokens=False).ids


_TOKENIZER: Any = None


def _tokenizer() -> Any:
    global _TOKENIZER
    if _TOKENIZER is None:
        from tokenizers import Tokenizer

        _TOKENIZER = Tokenizer.from_file(os.path.join(_MODEL_DIR, "tokenizer.json"))
    return _TOKENIZER


_MODEL_DIR = ""


class ForcedScriptLogitsProcessor(LogitsProcessor):  # type: ignore[misc]
    @classmethod
    def validate_params(cls, sampling_params: Any) -> None:
        extra = sampling_params.extra_args
        if extra and "forced_token_ids" in extra:
            _script({"forced_token_ids": extra["forced_token_ids"]})
        if extra and "forced_text" in extra and not isinstance(extra["forced_text"], str):
            raise ValueError("vllm_xargs.forced_text must be a string")

    def __init__(self, vllm_config: Any, device: torch.device, is_pin_memory: bool) -> None:
        global _MODEL_DIR
        _MODEL_DIR = vllm_config.model_config.tokenizer
        # row -> [script, output ids (live reference), forced EOS after script, gave up]
        self.rows: dict[int, list[Any]] = {}

    def is_argmax_invariant(self) -> bool:
        return False

    def update_state(self, batch_update: BatchUpdate | None) -> None:
        def new(params: Any, prompt: Any, output: list[int]) -> list[Any] | None:
            extra = params.extra_args or {}
            script = _script(extra, prompt)
            if script is None:
                return None
            return [script, output, bool(extra.get("forced_eos", 1)), False]

        process_dict_updates(self.rows, batch_update, new)

    def apply(self, logits: torch.Tensor) -> torch.Tensor:
        vocab = logits.shape[1]
        for row, state in self.rows.items():
            script, output, force_eos, gave_up = state
            pos = len(output)
            target = script[pos] if pos < len(script) and not gave_up else None
            if target is None and not force_eos:
                continue
            if target is None or target >= vocab:
                target = EOS_ID
            if torch.isneginf(logits[row, target]):  # the grammar forbids it: end the turn
                state[3] = True
                target = EOS_ID
                if torch.isneginf(logits[row, target]):
                    continue
            logits[row, :] = float("-inf")
            logits[row, target] = 0.0
        return logits
