"""The transcripts and chunkings of the wire tests, and the one rule that compares the two paths.

Strategy: ``ISSUE_CASES`` are the issue's own examples (a string-valued ``arguments``, a string with
text after its object, output cut off mid-arguments) plus the reordered-key, nested and bare-string
variants; ``wire_texts()`` draws them and the core's generated transcripts (``tests.strategies``),
each possibly cut off at any character (max_tokens). ``token_steps()`` cuts a text at real QwQ
token boundaries into deltas of 1..8 tokens each; ``wire_streams()`` draws a text and its steps
together, the example of every engine's wire property. ``check_wire()`` is the acceptance rule: the
rebuilt stream equals the non-streaming message, except (not in whole-call mode) for calls the
stream announced and the response lacks, which must carry only the model's own bytes of a block the
response shows as content: a call cut off by the end of the output, or one whose JSON went invalid
after its announcement.
"""

from __future__ import annotations

import json
import unicodedata
from typing import NamedTuple

from hypothesis import assume
from hypothesis import strategies as st

from harness import qwen_tokenizer
from tests.strategies import transcripts
from tests.wire.json_prefix import is_object_prefix
from tests.wire.rebuild import Message

THINK = "Let me call the tool.\n</think>\n\n"
_W = '{"name": "get_current_weather", "arguments": '
ISSUE_CASES = {
    "string_arguments_not_object": f'<tool_call>\n{{"name": "do_thing", "arguments": "hello"}}\n</tool_call>',
    "string_arguments_tail": '<tool_call>\n{"name": "f", "arguments": "{\\"a\\": 1} tail text"}\n</tool_call>',
    "string_arguments_object": '<tool_call>\n{"name": "f", "arguments": "{\\"a\\": [1, {\\"b\\": null}]}"}\n</tool_call>',
    "bare_string_arguments": '<tool_call>\n{"name": "f", "arguments": "just words"}\n</tool_call>',
    "number_arguments": '<tool_call>\n{"name": "f", "arguments": 42}\n</tool_call>',
    "cut_mid_arguments": f'<tool_call>\n{_W}{{"location": "Dall',
    "cut_mid_number": f'<tool_call>\n{_W}{{"days": 12',
    "cut_after_name": f'<tool_call>\n{_W}',
    "reordered_keys": '<tool_call>\n{"arguments": {"location": "Paris"}, "name": "get_current_weather"}\n</tool_call>',
    "nested": '<tool_call>\n{"name": "f", "arguments": {"a": {"b": [1, {"c": "}"}]}, "d": "</tool_call>"}}\n</tool_call>',
    "invalid_mid_object": f'<tool_call>\n{_W}{{"a": tru}}}}\n</tool_call>',
    "bad_escape": f'<tool_call>\n{_W}{{"a": "\\x"}}}}\n</tool_call>',
    "trailing_comma": f'<tool_call>\n{_W}{{"a": 1,}}}}\n</tool_call>',
    "two_calls_second_bad": f'<tool_call>\n{_W}{{"a": 1}}}}\n</tool_call>\n<tool_call>\n{_W}{{"a": 1 2}}}}\n</tool_call>',
    "valid_call": f'<tool_call>\n{_W}{{"location": "Dallas", "format": "celsius"}}}}\n</tool_call>',
}
ISSUE_TEXTS = {name: THINK + body for name, body in ISSUE_CASES.items()}


@st.composite
def wire_texts(draw: st.DrawFn) -> tuple[str, bool]:
    """A QwQ output (think block first, as the tutorial's prompts open it) and whether it was cut
    off (max_tokens). Texts are NFC, as a detokenizer's output is."""
    if draw(st.booleans()):
        text = draw(st.sampled_from(sorted(ISSUE_TEXTS.values())))
    else:
        t = draw(transcripts().filter(lambda t: t.start_in_reasoning))
        text = t.text
    cut = draw(st.integers(0, 3)) == 0
    if cut:
        text = text[: draw(st.integers(0, len(text)))]
    assume(unicodedata.normalize("NFC", text) == text)
    return text, cut


@st.composite
def token_steps(draw: st.DrawFn, text: str) -> list[tuple[str, list[int]]]:
    """``text`` as an engine streams it: real QwQ tokens, 1..8 per delta (backlog coalescing)."""
    ids = qwen_tokenizer.encode(text)
    groups: list[list[int]] = []
    i = 0
    while i < len(ids):
        n = draw(st.integers(1, 8))
        groups.append(ids[i : i + n])
        i += n
    texts = qwen_tokenizer.grouped_deltas(groups)
    return list(zip(texts, groups))


class WireStream(NamedTuple):
    """One wire example: the model's output, whether it was cut off, and its deltas with their
    token ids."""

    text: str
    cut: bool
    steps: list[tuple[str, list[int]]]


@st.composite
def wire_streams(draw: st.DrawFn) -> WireStream:
    """``wire_texts()``, then that text's ``token_steps()``."""
    text, cut = draw(wire_texts())
    return WireStream(text, cut, draw(token_steps(text)))


def is_json_object(text: str) -> bool:
    try:
        return isinstance(json.loads(text), dict)
    except ValueError:
        return False


def check_wire(streamed: Message, full: Message, *, exact: bool,
               finish_when_dropped: dict[str, str] | None = None) -> None:
    """The acceptance rule. Exact (whole-call mode): the rebuilt stream equals the response.
    Otherwise it equals it but for calls the stream announced and the response lacks: a block
    cut off inside an announced call, or one that went invalid after its announcement. Each such
    call must be what a client could not have told apart from a call in progress: its arguments
    are a prefix of a JSON object, and the model's own bytes, verbatim, from a block the response
    shows as content. ``finish_when_dropped`` maps the response's finish reason to the one the
    engine's serving loop puts on a stream that carried such a call (vLLM: a call delta was sent,
    so ``tool_calls``), where the adapter cannot influence it."""
    assert (streamed.reasoning, streamed.content) == (full.reasoning, full.content), (streamed, full)
    for _, arguments in full.calls:
        assert is_json_object(arguments), full
    if exact or streamed.calls == full.calls:
        assert (streamed.calls, streamed.finish) == (full.calls, full.finish), (streamed, full)
        return
    assert streamed.finish in (full.finish, (finish_when_dropped or {}).get(full.finish)), (
        streamed, full)
    rest = iter(streamed.calls)
    extra = []
    for want in full.calls:  # full's calls, in order, with the announced-then-dropped ones between
        for got in rest:
            if got == want:
                break
            extra.append(got)
        else:
            raise AssertionError(f"call {want} missing from the stream: {streamed}")
    extra += list(rest)
    blocks = (full.content or "").count("<tool_call>")
    assert len(extra) <= blocks, (extra, full)
    for name, arguments in extra:
        assert is_object_prefix(arguments) and arguments.startswith("{"), (name, arguments)
        assert arguments in (full.content or ""), (name, arguments)
