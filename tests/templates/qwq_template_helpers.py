"""Rendering and conversation strategies shared by the chat-template tests.

Rendering goes through transformers' ``apply_chat_template(tokenize=False)`` on the real QwQ-32B
tokenizer rebuilt by ``harness.qwen_tokenizer`` — the same Jinja environment vLLM and SGLang use.
That path drops keys whose value is None before rendering, so ``render_keeping_none`` renders through
transformers' lower-level ``render_jinja_template`` (same environment, None values kept), which is what
older transformers versions, and so older engines, hand the template.
"""

from __future__ import annotations

import functools
import json
import pathlib
from typing import Any

from hypothesis import strategies as st

REPO = pathlib.Path(__file__).resolve().parents[2]
OFFICIAL_TEMPLATE_FILE = REPO / "chat_templates" / "qwq-32b.jinja"
FIXED_TEMPLATE_FILE = REPO / "chat_templates" / "qwq-32b-tools.jinja"

WHITESPACE = " \t\r\n"  # the core parser's framing whitespace

MARKERS = ("<think>", "</think>", "<tool_call>", "</tool_call>", "<|im_start|>", "<|im_end|>")


@functools.cache
def official_template() -> str:
    return OFFICIAL_TEMPLATE_FILE.read_text(encoding="utf-8")


@functools.cache
def fixed_template() -> str:
    return FIXED_TEMPLATE_FILE.read_text(encoding="utf-8")


@functools.cache
def tokenizer() -> Any:
    from transformers import AutoTokenizer

    from harness.qwen_tokenizer import build_tokenizer_dir

    return AutoTokenizer.from_pretrained(str(build_tokenizer_dir()))


def render(
    template: str,
    messages: list[dict[str, Any]],
    tools: list[dict[str, Any]] | None = None,
    add_generation_prompt: bool = False,
) -> str:
    """Render like an engine does: ``tokenizer.apply_chat_template(..., tokenize=False)``."""
    out = tokenizer().apply_chat_template(
        messages,
        tools=tools,
        chat_template=template,
        add_generation_prompt=add_generation_prompt,
        tokenize=False,
    )
    assert isinstance(out, str)
    return out


def render_keeping_none(
    template: str,
    messages: list[dict[str, Any]],
    tools: list[dict[str, Any]] | None = None,
    add_generation_prompt: bool = False,
) -> str:
    """Render in the same Jinja environment, but with None-valued keys passed to the template."""
    from transformers.utils.chat_template_utils import render_jinja_template

    rendered, _ = render_jinja_template(
        conversations=[messages],
        tools=tools,
        chat_template=template,
        add_generation_prompt=add_generation_prompt,
        **tokenizer().special_tokens_map,
    )
    return str(rendered[0])


def turns(rendered: str) -> list[tuple[str, str]]:
    """Split a rendered prompt into (role, body) turns; body is the text up to ``<|im_end|>``."""
    out = []
    for chunk in rendered.split("<|im_start|>")[1:]:
        role, _, rest = chunk.partition("\n")
        body = rest.split("<|im_end|>")[0]
        out.append((role, body))
    return out


# --- strategies ----------------------------------------------------------------------------------

_chars = st.characters(exclude_categories=["Cs"])  # no lone surrogates: not encodable text
_tricky = st.sampled_from(
    [
        "\n",
        "\n\n",
        " ",
        "\t",
        '"',
        "\\",
        "\\n",
        "\\u00e9",
        "{",
        "}",
        '"}',
        "}}",
        "东京",
        "日本語のテキスト",
        "😀",
        "👩‍👩‍👧",
        "\u2028",
        "\x00",
        "\x7f",
        "é",
        "<",
        "<tool_",
        "<tool_response>",
        "</tool_response>",
    ]
)


def text(min_size: int = 0, max_pieces: int = 8, *, markers: tuple[str, ...] = ()) -> Any:
    """Text mixing arbitrary characters with JSON/markup-hostile pieces; ``markers`` may appear too."""
    extra = [st.sampled_from(markers)] if markers else []
    pieces = st.one_of(st.text(_chars, max_size=6), _tricky, *extra)
    return st.lists(pieces, max_size=max_pieces).map("".join).filter(lambda s: len(s) >= min_size)


def plain_text(min_size: int = 0, max_pieces: int = 8) -> Any:
    """Text with none of the markup tags (safe as message content anywhere)."""
    return text(min_size, max_pieces).filter(lambda s: not any(m in s for m in MARKERS))


json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63),
    st.floats(allow_nan=False, allow_infinity=False),
    text(markers=MARKERS[:4]),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(text(max_pieces=3), inner, max_size=4)
    ),
    max_leaves=12,
)
json_objects = st.dictionaries(text(max_pieces=3), json_values, max_size=5)


@st.composite
def arguments_repr(draw: Any, args: dict[str, Any]) -> Any:
    """The arguments as a dict, or as JSON text in one of the ways clients serialise it."""
    kind = draw(st.sampled_from(["dict", "dumps", "compact", "ascii", "indent"]))
    if kind == "dict":
        return args
    if kind == "dumps":
        return json.dumps(args, ensure_ascii=False)
    if kind == "compact":
        return json.dumps(args, ensure_ascii=False, separators=(",", ":"))
    if kind == "ascii":
        return json.dumps(args)
    return json.dumps(args, ensure_ascii=False, indent=2)


tool_names = st.one_of(
    st.from_regex(r"[A-Za-z_][A-Za-z0-9_\-.]{0,20}", fullmatch=True),
    plain_text(min_size=1, max_pieces=3),
)


def tool_call_message(
    name: str, arguments: Any, call_id: str | None, wrapped: bool
) -> dict[str, Any]:
    function = {"name": name, "arguments": arguments}
    if not wrapped:
        return function
    call: dict[str, Any] = {"type": "function", "function": function}
    if call_id is not None:
        call["id"] = call_id
    return call


def tool_schema(name: str) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {
            "name": name,
            "description": f"Tool {name}.",
            "parameters": {"type": "object", "properties": {"q": {"type": "string"}}},
        },
    }
