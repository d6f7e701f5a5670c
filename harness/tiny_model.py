"""A tiny random-weight Qwen2ForCausalLM that vLLM serves like QwQ-32B: real QwQ vocabulary, added
tokens and chat template, 2 layers of hidden size 128 (4 heads, 2 KV heads: head size 32, the
smallest the CPU attention backend takes). Its outputs are meaningless; tests force them with
``harness.forced_logits``.

Strategy: built once into ``$QWQ_TOOL_PARSER_CACHE`` (default ``~/.cache/qwq-tool-parser``) under a
name that hashes this file, the tokenizer builder and the chat template, in a temporary directory
renamed into place (atomic; concurrent builders are safe). Needs torch and transformers (the vLLM
environment has both).

    python -m harness.tiny_model        # prints the model directory
"""

from __future__ import annotations

import hashlib
import json
import os
import pathlib
import shutil
import tempfile

from harness import qwen_tokenizer

ROOT = pathlib.Path(__file__).resolve().parent.parent
CHAT_TEMPLATE = ROOT / "chat_templates" / "qwq-32b.jinja"  # the official QwQ-32B template
VOCAB_SIZE = 151_680  # 151,669 ids padded to a multiple of 128
EOS_IDS = [151645, 151643]  # <|im_end|>, <|endoftext|>


def _cache_dir() -> pathlib.Path:
    root = os.environ.get("QWQ_TOOL_PARSER_CACHE") or "~/.cache/qwq-tool-parser"
    h = hashlib.sha256()
    for f in (pathlib.Path(__file__), pathlib.Path(qwen_tokenizer.__file__), CHAT_TEMPLATE):
        h.update(f.read_bytes())
    return pathlib.Path(root).expanduser().resolve() / f"tiny-qwq-{h.hexdigest()[:16]}"


def _write(out: pathlib.Path) -> None:
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    config = Qwen2Config(
        vocab_size=VOCAB_SIZE, hidden_size=128, intermediate_size=256, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=4096,
        tie_word_embeddings=True, bos_token_id=151643, eos_token_id=151645, torch_dtype="bfloat16",
    )
    torch.manual_seed(0)
    Qwen2ForCausalLM(config).to(torch.bfloat16).save_pretrained(out, safe_serialization=True)
    (out / "generation_config.json").write_text(json.dumps(
        {"eos_token_id": EOS_IDS, "pad_token_id": 151643, "temperature": 0.6, "top_p": 0.95,
         "top_k": 40, "do_sample": True}, indent=2))
    tok = qwen_tokenizer.build_tokenizer_dir()
    for name in ("tokenizer.json", "special_tokens_map.json"):
        shutil.copyfile(tok / name, out / name)
    config_json = json.loads((tok / "tokenizer_config.json").read_text())
    config_json["chat_template"] = CHAT_TEMPLATE.read_text()
    (out / "tokenizer_config.json").write_text(json.dumps(config_json, indent=2))


def build_model_dir() -> pathlib.Path:
    """Return the model directory, building it on first use."""
    final = _cache_dir()
    if (final / "config.json").is_file():
        return final
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = pathlib.Path(tempfile.mkdtemp(prefix=".build-", dir=final.parent))
    try:
        tmp.chmod(0o755)
        _write(tmp)
        try:
            os.rename(tmp, final)
        except OSError:  # another process won the race
            if not (final / "config.json").is_file():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final


if __name__ == "__main__":
    print(build_model_dir())
