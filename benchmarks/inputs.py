"""The benchmark inputs: QwQ transcripts, tokenized with the real QwQ tokenizer, cut into deltas.

Every worker (core, vLLM env, SGLang env) rebuilds the same inputs from the same seed with the same
tokenizer (``harness.qwen_tokenizer``), and records their digest; the report refuses to compare
numbers measured on inputs whose digests differ.

Two families of transcripts, as QwQ writes them after the generation prompt's ``<think>\\n``:

- ``args``: a short think block, then one ``write_file`` call whose ``arguments`` JSON object is
  exactly ``size`` characters (a JSON-escaped Python source file in ``content``). The measured
  region is the deltas that carry the arguments object.
- ``reasoning``: a think block of ``size`` tokens (English reasoning with inline code and ``<``
  comparisons), then ``</think>`` and a small call. The measured region is the reasoning deltas.

Delta regimes: one token per delta (what an engine emits when it keeps up), and ``n`` tokens per
delta (what it emits under load: SGLang coalesces queued outputs, ``--stream-interval``,
speculative decoding). Deltas are decoded like an engine's incremental detokenizer: a token that
ends inside a UTF-8 character yields ``""`` and the character arrives with the next one.
"""

from __future__ import annotations

import codecs
import dataclasses
import hashlib
import json
import random

from harness.qwen_tokenizer import encode, token_bytes

SEED = 20260324
ARG_SIZES = [1 << k for k in range(10, 17)] + [1 << 20, 1 << 22]  # 1k .. 64k, 1M, 4M chars
REASONING_SIZES = [1 << k for k in range(10, 17)]  # 1k .. 64k tokens of reasoning
REGIMES = {"1-token": 1, "8-token": 8}
MEMORY_ARG_CHARS = 1 << 20  # the 1 MB argument of the memory figure

EOS_ID = 151645  # <|im_end|>: the last step of a stream carries it, with no text
PROMPT = (
    "<|im_start|>system\nYou are a coding assistant.<|im_end|>\n"
    "<|im_start|>user\nWrite the module, please.<|im_end|>\n"
    "<|im_start|>assistant\n<think>\n"
)
WRITE_FILE_TOOL = {
    "type": "function",
    "function": {
        "name": "write_file",
        "description": "Write a text file.",
        "parameters": {
            "type": "object",
            "properties": {"path": {"type": "string"}, "content": {"type": "string"}},
            "required": ["path", "content"],
        },
    },
}
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather of a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}
TOOLS = [WRITE_FILE_TOOL, WEATHER_TOOL]
SHORT_REASONING = (
    "Okay, the user wants the module written to disk. I have a write_file tool, so I will write "
    "the whole file in one call, with the path and the full source as content.\n"
)
SMALL_CALL_ARGS = '{"city": "Paris"}'


@dataclasses.dataclass(frozen=True)
class Case:
    """One transcript cut into deltas; ``region`` is the measured slice of ``deltas``."""

    scenario: str  # "args" or "reasoning"
    size: int  # characters of arguments, or tokens of reasoning
    regime: str
    text: str
    deltas: list[str]
    ids: list[list[int]]
    region: tuple[int, int]  # [start, stop) indexes into deltas
    expected_args: str  # the call's arguments text

    @property
    def key(self) -> str:
        return f"{self.scenario}/{self.regime}/{self.size}"

    @property
    def digest(self) -> str:
        h = hashlib.sha256()
        for d, i in zip(self.deltas, self.ids):
            h.update(d.encode("utf-8", "surrogatepass"))
            h.update(b"\x00" + ",".join(map(str, i)).encode() + b"\x01")
        return h.hexdigest()[:16]


# -- text generators --------------------------------------------------------------------------------

_WORDS = (
    "so the user asked for this and I need to check whether the value fits the range first "
    "then maybe compare it with the limit because if it does not we should return early wait "
    "let me reconsider the edge case where the list is empty or the input has a negative number "
    "hmm that means the loop runs once and the result is the same as before okay I think the "
    "approach works but the cost grows with the size of the data so a dictionary would be faster "
    "alternatively we could sort the items and scan them once which is simpler to explain"
).split()
_SNIPPETS = ["`x < y`", "`i <= n`", "`a[i] < a[j]`", "`len(xs) < 3`", "<b>", "`f(x) -> int`",
             "`{\"k\": 1}`", "O(n log n)", "`dict[str, int]`", "`while lo < hi:`"]


def reasoning_text(rng: random.Random, chars: int) -> str:
    """QwQ-like thinking: sentences of plain words, numbers, inline code and '<' comparisons."""
    out: list[str] = []
    total = 0
    while total < chars:
        n = rng.randint(8, 24)
        words = [rng.choice(_WORDS) for _ in range(n)]
        if rng.random() < 0.35:
            words.insert(rng.randrange(len(words)), rng.choice(_SNIPPETS))
        if rng.random() < 0.2:
            words.insert(rng.randrange(len(words)), str(rng.randint(0, 99999)))
        sentence = " ".join(words)
        sentence = sentence[0].upper() + sentence[1:] + rng.choice([". ", ". ", "? ", ".\n\n"])
        out.append(sentence)
        total += len(sentence)
    return "".join(out)


def code_text(rng: random.Random, chars: int) -> str:
    """A plausible Python module: functions, docstrings, comments, strings with quotes."""
    out = ['"""Generated module."""\n\nfrom __future__ import annotations\n\nimport json\n\n']
    total = len(out[0])
    k = 0
    while total < chars:
        k += 1
        a, b = rng.randint(1, 999), rng.randint(1, 99)
        block = (
            f"\ndef handler_{k}(items: list[dict[str, int]], limit: int = {a}) -> dict[str, int]:\n"
            f'    """Sum the "value" field of items whose weight is below {b}."""\n'
            f"    total = 0\n"
            f"    for item in items:\n"
            f"        if item.get(\"weight\", 0) < {b} and total <= limit:  # keep it small\n"
            f"            total += item[\"value\"] * {k}\n"
            f"    print(f\"handler_{k}: {{total}}\\t(limit={{limit}})\")\n"
            f"    return {{\"total\": total, \"id\": {k}}}\n"
        )
        out.append(block)
        total += len(block)
    return "".join(out)


def arguments_of_size(size: int, seed: int = SEED) -> str:
    """A ``write_file`` arguments object of exactly ``size`` characters."""
    rng = random.Random(seed * 7 + size)
    code = code_text(rng, size + 64)
    head = '{"path": "src/app/generated.py", "content": '

    def build(k: int) -> str:
        return head + json.dumps(code[:k], ensure_ascii=False) + "}"

    lo, hi = 0, len(code)
    while lo < hi:  # largest k with len(build(k)) <= size
        mid = (lo + hi + 1) // 2
        if len(build(mid)) <= size:
            lo = mid
        else:
            hi = mid - 1
    text = build(lo)
    pad = size - len(text)  # spaces at the end of the source: one character each
    text = head + json.dumps(code[:lo] + " " * pad, ensure_ascii=False) + "}"
    assert len(text) == size, (len(text), size)
    return text


def call_block(name: str, args: str) -> str:
    return f'<tool_call>\n{{"name": "{name}", "arguments": {args}}}\n</tool_call>'


def args_transcript(size: int) -> tuple[str, str, int]:
    """(transcript, arguments, offset of the arguments in the transcript)."""
    args = arguments_of_size(size)
    head = SHORT_REASONING + "</think>\n\n"
    block = call_block("write_file", args)
    return head + block, args, len(head) + block.index(args)


def reasoning_transcript(tokens: int) -> tuple[str, str, int]:
    """(transcript, arguments, length of the reasoning) with ``tokens`` tokens of reasoning."""
    rng = random.Random(SEED * 13 + tokens)
    ids = encode(reasoning_text(rng, tokens * 6))
    assert len(ids) >= tokens
    reasoning = b"".join(token_bytes(t) for t in ids[:tokens]).decode("utf-8", "replace")
    reasoning = reasoning.rstrip("\n") + "\n"  # QwQ ends its thinking with a newline
    tail = "</think>\n\n" + call_block("get_weather", SMALL_CALL_ARGS)
    return reasoning + tail, SMALL_CALL_ARGS, len(reasoning)


# -- tokenization into deltas -------------------------------------------------------------------------


def token_deltas(text: str, n: int) -> tuple[list[str], list[list[int]]]:
    """Deltas of ``n`` tokens each, as (text, token ids), decoded incrementally like an engine."""
    ids = encode(text)
    dec = codecs.getincrementaldecoder("utf-8")(errors="replace")
    texts: list[str] = []
    groups: list[list[int]] = []
    for start in range(0, len(ids), n):
        group = ids[start : start + n]
        texts.append(dec.decode(b"".join(token_bytes(t) for t in group), final=start + n >= len(ids)))
        groups.append(group)
    if "".join(texts) != text:
        raise RuntimeError("tokenizer round trip changed the transcript")
    return texts, groups


def region_of(deltas: list[str], lo: int, hi: int) -> tuple[int, int]:
    """The deltas whose first character lies in ``[lo, hi)`` of the text."""
    pos = 0
    first = last = None
    for k, d in enumerate(deltas):
        if d and lo <= pos < hi:
            if first is None:
                first = k
            last = k
        pos += len(d)
    assert first is not None and last is not None
    return first, last + 1


def make_case(scenario: str, size: int, regime: str) -> Case:
    if scenario == "args":
        text, args, at = args_transcript(size)
        lo, hi = at, at + len(args)
    elif scenario == "reasoning":
        text, args, hi = reasoning_transcript(size)
        lo = 0
    else:
        raise ValueError(scenario)
    deltas, ids = token_deltas(text, REGIMES[regime])
    return Case(scenario, size, regime, text, deltas, ids, region_of(deltas, lo, hi), args)


def all_cases(max_size: int | None = None) -> list[Case]:
    cases = []
    for regime in REGIMES:
        for size in ARG_SIZES:
            if max_size is None or size <= max_size:
                cases.append(make_case("args", size, regime))
        for size in REASONING_SIZES:
            if max_size is None or size <= max_size:
                cases.append(make_case("reasoning", size, regime))
    return cases


def memory_case() -> Case:
    """The 1 MB argument, one token per delta (the most pieces)."""
    text, args, at = args_transcript(MEMORY_ARG_CHARS)
    deltas, ids = token_deltas(text, 1)
    region = region_of(deltas, at, at + len(args))
    return Case("args", MEMORY_ARG_CHARS, "1-token", text, deltas, ids, region, args)


def prompt_ids() -> list[int]:
    return encode(PROMPT)


# -- core scaling shapes (character-level, no tokenizer): every state of the core to 1M ------------

SCALING_SIZES = [10_000, 31_623, 100_000, 316_228, 1_000_000]  # characters of the varying part
_CJK = "巴黎東京天气预报的城市温度风速"


def _string_arguments(decoded: str) -> str:
    return '</think>\n\n<tool_call>{"name": "f", "arguments": ' + json.dumps(decoded) + "}</tool_call>"


def scaling_shapes() -> dict[str, tuple[str, object]]:
    """name -> (what it stresses, function(size) -> transcript with ``size`` varying characters)."""
    return {
        "object-args": ("one call, object arguments: a JSON-escaped code string",
                        lambda n: "</think>\n\n" + call_block("write_file", arguments_of_size(n))),
        "reasoning": ("a think block of plain reasoning with '<' comparisons",
                      lambda n: reasoning_text(random.Random(SEED + n), n)[:n] + "</think>ok"),
        "content": ("plain visible content after the think block",
                    lambda n: "r</think>" + reasoning_text(random.Random(SEED - n), n)[:n]),
        "string-args-whitespace": ("issue 14's reproducer: a whitespace run in string arguments",
                                   lambda n: _string_arguments("{}" + " " * n)),
        "string-args-escapes": ("escaped newlines in a string inside string arguments",
                                lambda n: _string_arguments('{"a": "' + "\\n" * (n // 2) + '"}')),
        "args-before-name": ("object arguments (CJK text) written before the name",
                             lambda n: '</think><tool_call>{"arguments": {"a": "'
                             + (_CJK * (n // len(_CJK) + 1))[:n] + '"}, "name": "f"}</tool_call>'),
    }
