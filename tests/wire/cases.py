"""The transcripts and chunkings of the wire tests, and the one rule that compares the two paths.

Strategy: ``ISSUE_CASES`` are the issue's own examples (a string-valued ``arguments``, a string with
text after its object, output cut off mid-arguments) plus the reordered-key, nested and bare-string
variants; ``wire_texts()`` draws them and the core's generated transcripts (``tests.strategies``),
each possibly cut off at any character (max_tokens). ``token_steps()`` cuts a text at real QwQ
token boundaries into deltas of 1..8 tokens each. ``check_wire()`` is the acceptance rule: the
rebuilt stream equals the non-streaming message, except when the output ends inside a call the
stream had already announced (then the one extra, last call is what the client saw before the
stream ended; everything else, the raw block as content included, must still be equal).
"""

from __future__ import annotations

import json
import unicodedata

from hypothesis import assume
from hypothesis import strategies as st

from harness import qwen_tokenizer
from tests.strategies import transcripts
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


def ends_inside_call(text: str, full: Message) -> bool:
    """The output stops inside a ``<tool_call>`` block, whose raw text ends the content."""
    k = text.find("</think>")
    answer = text[k + len("</think>"):] if k >= 0 else ""
    start = answer.rfind("<tool_call>")
    return start >= 0 and (full.content or "").rstrip().endswith(answer[start:].rstrip())


def check_wire(streamed: Message, full: Message, text: str, *, exact: bool) -> None:
    """The acceptance rule: equal, or (not ``exact``) the one documented truncation exception."""
    if streamed == full or exact or not ends_inside_call(text, full):
        assert streamed == full
        return
    extra = streamed.calls[len(full.calls):]
    assert streamed.calls[: len(full.calls)] == full.calls and len(extra) == 1, (streamed, full)
    assert (streamed.reasoning, streamed.content, streamed.finish) == (
        full.reasoning, full.content, full.finish)
    name, arguments = extra[0]
    assert json.dumps(name)[1:-1] in text[text.rfind("<tool_call>"):]
    assert arguments.startswith("{") or arguments == ""
