"""The one home of the hypothesis generators.

``transcripts()`` draws whole QwQ outputs *together with their expected parse*, so each example is its
own oracle: reasoning (possibly quoting tool calls), content pieces, valid calls in many JSON
spellings, malformed blocks, and the framing variants the model produces. ``tag_soup()`` and
``near_misses()`` draw adversarial text; ``chunkings()`` cuts any text into deltas, including cuts
inside every tag and empty deltas.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

WS = " \t\r\n"
TAGS = ("<think>", "</think>", "<tool_call>", "</tool_call>")

# Text that is not whitespace at either end and holds no tag that would change its meaning.
_ALPHABET = st.characters(codec="utf-8", exclude_categories=("Cs",))
_plain = st.text(_ALPHABET, max_size=40) | st.sampled_from(
    ["Sure.", "Let me check the weather.", "巴黎的天气", "🙂 done", "a < b > c", "<tool_c", "</think",
     "x</tool_call>y", "{\"name\": \"f\"}", "<tool_call", "\\", "\"quoted\""]
)


def _clean(text: str, *forbidden: str) -> str:
    """Remove every occurrence of the tags (repeatedly: removal can join a new one)."""
    while any(tag in text for tag in forbidden):
        for tag in forbidden:
            text = text.replace(tag, "")
    return text


framing = st.sampled_from(["", "\n", "\n\n", "\r\n", " ", "\n \n", "\t\n", "\r\n\r\n"])

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**12), max_value=10**12)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(_ALPHABET, max_size=20)
    | st.sampled_from(["</tool_call>", "<tool_call>", "{", "}\"", "\\\"", "</think>", "🙂", "巴黎",
                       "line\nbreak", "\u2028"])
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.text(_ALPHABET, max_size=8), inner, max_size=4),
    max_leaves=12,
)
json_objects = st.dictionaries(st.text(_ALPHABET, max_size=10), json_values, max_size=5)


@st.composite
def json_texts(draw: st.DrawFn, value: Any) -> str:
    """``value`` spelled as the model might: compact, spaced, indented, ASCII-escaped or not."""
    style = draw(st.sampled_from(["default", "compact", "indent", "ascii"]))
    if style == "compact":
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    if style == "indent":
        return json.dumps(value, ensure_ascii=False, indent=draw(st.sampled_from([1, 2, 4])))
    return json.dumps(value, ensure_ascii=style == "ascii")


@dataclass
class Call:
    name: str
    arguments: str  # the expected arguments text


@dataclass
class Transcript:
    """A model output and what it must parse to."""

    text: str
    start_in_reasoning: bool
    reasoning: str | None = None
    content: str | None = None
    calls: list[Call] = field(default_factory=list)
    malformed: int = 0


@st.composite
def tool_calls(draw: st.DrawFn) -> tuple[str, Call]:
    """One valid ``<tool_call>`` block (without framing) and the call it must yield."""
    name = draw(st.text(_ALPHABET, min_size=1, max_size=20) | st.sampled_from(
        ["get_current_weather", "get_n_day_weather_forecast", "f", "名前"]))
    arguments = draw(json_objects)
    form = draw(st.sampled_from(["object", "object", "object", "string", "missing", "null"]))
    members = [("name", draw(json_texts(name)))]
    if form == "object":
        args_text = draw(json_texts(arguments))
        expected = args_text
    elif form == "string":
        inner = draw(json_texts(arguments))
        args_text = json.dumps(draw(framing) + inner + draw(framing), ensure_ascii=draw(st.booleans()))
        expected = inner
    else:
        args_text, expected = ("null", "{}") if form == "null" else ("", "{}")
    if args_text:
        key = draw(st.sampled_from(["arguments", "arguments", "parameters"]))
        members.append((key, args_text))
    if draw(st.booleans()):
        members.append(("id", json.dumps(draw(st.text(_ALPHABET, max_size=5)))))
    members = draw(st.permutations(members))
    colon = draw(st.sampled_from([": ", ":", " : "]))
    comma = draw(st.sampled_from([", ", ",", ",\n  "]))
    body = "{" + comma.join(json.dumps(k) + colon + v for k, v in members) + "}"
    block = "<tool_call>" + draw(framing) + body + draw(framing) + "</tool_call>"
    return block, Call(name, expected)


@st.composite
def malformed_blocks(draw: st.DrawFn) -> str:
    """A closed ``<tool_call>`` block that must not become a call (it has a definite extent)."""
    kind = draw(st.sampled_from(["not_json", "no_name", "bad_json", "name_not_string", "empty",
                                 "args_array", "trailing_text", "string_not_object",
                                 "duplicate_keys", "lone_surrogate"]))
    if kind == "not_json":
        inner = draw(st.sampled_from(["get_weather(city='Paris')", "<function=f>", "[1, 2]",
                                      "name: f"])) + _clean(draw(_plain), "</tool_call>")
    elif kind == "no_name":
        inner = json.dumps({"arguments": draw(json_objects)})
    elif kind == "bad_json":
        inner = '{"name": "f", "arguments": {"a": 1,}}'
    elif kind == "name_not_string":
        inner = json.dumps({"name": draw(st.integers() | st.none()), "arguments": {}})
    elif kind == "empty":
        inner = ""
    elif kind == "string_not_object":  # a JSON-encoded string that holds no (or more than an) object
        inner = json.dumps({"name": "f", "arguments": draw(st.sampled_from(
            ["hello", '{"a": 1} tail text', "[1, 2]", '{"a": ', "null"]))})
    elif kind == "duplicate_keys":  # a tag inside the repeated key's string never ends the block
        inner = draw(st.sampled_from(['{{"name": "f", "name": {s}}}',
                                      '{{"name": "f", "arguments": {{}}, "parameters": {s}}}']))
        inner = inner.format(s=json.dumps(draw(st.sampled_from(
            ["</tool_call>", "</tool_call> <tool_call>", "x"]))))
    elif kind == "lone_surrogate":
        inner = draw(st.sampled_from(['{"name": "\\ud800"}',
                                      '{"name": "f", "arguments": {"a": "x\\udc00"}}']))
    elif kind == "args_array":
        inner = json.dumps({"name": "f", "arguments": draw(st.lists(json_scalars, max_size=3))})
    else:
        inner = '{"name": "f", "arguments": {}} and then ' + _clean(draw(_plain), "</tool_call>")
    return "<tool_call>" + draw(framing) + inner + draw(framing) + "</tool_call>"


@st.composite
def transcripts(draw: st.DrawFn, start_in_reasoning: bool | None = None) -> Transcript:
    """A whole QwQ output with its expected parse (starting in reasoning or not, drawn if None)."""
    if start_in_reasoning is None:
        start_in_reasoning = draw(st.booleans())
    opened = draw(st.booleans())
    text = ""
    reasoning = ""
    if start_in_reasoning or opened:
        parts = [draw(framing), draw(_plain)]  # framing: the "\n" after <think>
        if draw(st.booleans()):  # QwQ quoting a call while thinking: it stays reasoning
            parts += [draw(tool_calls())[0], draw(_plain)]
        parts.append(draw(framing))  # the "\n" before </think>
        reasoning = _clean("".join(parts), "</think>")
        if opened:
            text = draw(st.sampled_from(["", "\n", "  "])) + "<think>"
        elif reasoning.lstrip(WS).startswith("<think>"):
            reasoning = "x" + reasoning
        text += reasoning
        reasoning = reasoning.lstrip(WS)  # whitespace that opens the think block is framing
        if start_in_reasoning and not opened and draw(st.integers(0, 9)) == 0:
            # No </think> at all: everything is reasoning and nothing else happens.
            return Transcript(text, True, reasoning if reasoning.strip(WS) else None)
        reasoning = reasoning.rstrip(WS)  # and so is whitespace right before </think>
        text += "</think>" + draw(framing)
    else:
        text = draw(st.sampled_from(["", "\n"]))

    content = ""
    run = None  # the current run of content as written (None: no content run open)
    calls: list[Call] = []
    malformed = 0
    last = "start"
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from(["content", "call", "call", "malformed"]))
        if kind in ("content", "malformed"):  # a block that is no call is text, like content
            if kind == "content":
                piece = _clean(draw(_plain), "<tool_call>").strip(WS)
            else:
                piece = draw(malformed_blocks())
                malformed += 1
            gap = draw(framing) if run is not None else ""
            junction = (run or "")[-len("<tool_call>") :] + gap + piece
            if (not piece or (kind == "content" and "<tool_call>" in junction)
                    or (last == "start" and not start_in_reasoning and not opened
                        and piece.startswith("<think>"))):
                continue
            text += gap + piece
            content += gap + piece
            run = (run or "") + gap + piece
        else:
            if run is not None:
                text += draw(framing)  # framing before the call
            run = None
            block, call = draw(tool_calls())
            calls.append(call)
            text += block + draw(framing)
        last = kind
    if run is not None:  # whitespace at the very end after content is content
        tail = draw(framing)
        text += tail
        content += tail
    elif last == "call" and draw(st.integers(0, 3)) == 0:
        # The model stopped before its last call's closing tag: it is still a call.
        text = text.rstrip(WS)[: -len("</tool_call>")]
        text += draw(st.sampled_from(["", "\n", "</tool_", "\n</"]))
    return Transcript(
        text=text,
        start_in_reasoning=start_in_reasoning,
        reasoning=reasoning if reasoning.strip(WS) else None,
        content=content if content.strip(WS) else None,
        calls=calls,
        malformed=malformed,
    )


near_misses = st.sampled_from(
    ["<tool_cal", "<tool_call", "</tool_call", "<tool_call>", "</tool_call>", "<think", "</think",
     "<think>", "</think>", "<<tool_call>", "</think>>", "<tool_call >", "{", "}", "[", "]", "\"",
     "\\", ":", ",", "\"name\"", "\"arguments\"", "\"parameters\"", "\"f\"", "null", "\n", " ",
     "\\u", "d83d", "\\ud83d", "\\ude00", "🙂", "é", "x"]
)


@st.composite
def tag_soup(draw: st.DrawFn) -> str:
    """Adversarial text built from tags, near-miss tags, JSON punctuation and plain text."""
    parts = draw(st.lists(near_misses | st.text(_ALPHABET, max_size=5), max_size=40))
    return "".join(parts)


@st.composite
def chunkings(draw: st.DrawFn, text: str) -> list[str]:
    """Cut ``text`` into deltas: single characters, the whole text, random cuts, empty chunks."""
    mode = draw(st.sampled_from(["random", "random", "chars", "whole", "tags"]))
    if mode == "chars":
        return list(text)
    if mode == "whole":
        return [text]
    if mode == "tags":  # cut one character into every tag occurrence
        cuts = sorted({i + k for tag in TAGS for i in _find_all(text, tag)
                       for k in (draw(st.integers(1, len(tag) - 1)),)})
    else:
        cuts = sorted(draw(st.sets(st.integers(0, len(text)), max_size=12)))
    chunks = [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)])]
    if draw(st.booleans()):
        chunks.insert(draw(st.integers(0, len(chunks))), "")
    return chunks


def _find_all(text: str, tag: str) -> list[int]:
    out, i = [], text.find(tag)
    while i >= 0:
        out.append(i)
        i = text.find(tag, i + 1)
    return out
