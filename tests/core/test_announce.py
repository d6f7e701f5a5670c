"""When a call goes out: announced late (name complete and arguments started as a JSON object),
streamed only as far as the JSON is valid, withdrawn only on truncation or an invalid character
after the announcement, and never withdrawn in whole-call mode."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from qwq_tool_parser import (
    Event,
    StreamParser,
    ToolCallArgumentsDelta,
    ToolCallEnd,
    ToolCallMalformed,
    ToolCallStart,
    normalize,
    parse,
    parse_stream,
)
from qwq_tool_parser._json_validator import JsonValidator
from tests.strategies import chunkings, tag_soup, transcripts


def steps(chunks: list[str], **options: bool) -> list[list[Event]]:
    options.setdefault("start_in_reasoning", False)
    parser = StreamParser(**options)  # type: ignore[arg-type]
    return [parser.feed(chunk) for chunk in chunks] + [parser.close()]


def flat(chunks: list[str], **options: bool) -> list[Event]:
    return [e for step in steps(chunks, **options) for e in step]


def starts(events: list[Event]) -> list[ToolCallStart]:
    return [e for e in events if isinstance(e, ToolCallStart)]


def test_non_object_string_arguments_never_announce() -> None:
    for args in ['"hello"', '"{\\"a\\": 1} tail text"', '"[1]"', '"{\\"a\\": "']:
        text = '<tool_call>{"name": "do_thing", "arguments": ' + args + "}</tool_call>"
        for chunks in ([text], list(text)):
            events = flat(chunks)
            assert not starts(events), args
            assert [e.index for e in events if isinstance(e, ToolCallMalformed)] == [None]
        assert parse(text, start_in_reasoning=False).content == text


def test_string_arguments_are_announced_when_the_string_closes() -> None:
    text = '<tool_call>{"name": "f", "arguments": " {\\"a\\": [1, \\"\\u00e9\\"]} "}</tool_call>'
    cut = text.index('} "}') + 2  # inside the string, just before its closing quote
    first, second, last = steps([text[:cut], text[cut:]])
    assert first == []
    assert second[:2] == [ToolCallStart(index=0, name="f"),
                          ToolCallArgumentsDelta(index=0, text='{"a": [1, "é"]}')]


def test_announced_once_the_name_is_complete_and_the_object_has_started() -> None:
    parser = StreamParser(start_in_reasoning=False)
    assert parser.feed('<tool_call>{"name": "f"') == []
    assert parser.feed(', "id": 7, "arguments": ') == []
    assert parser.feed(" {") == [ToolCallStart(index=0, name="f"),
                                 ToolCallArgumentsDelta(index=0, text="{")]
    assert parser.feed('"a": tr') == [ToolCallArgumentsDelta(index=0, text='"a": tr')]
    assert parser.feed("ue}}</tool_call>")[-1] == ToolCallEnd(
        index=0, arguments='{"a": true}',
        raw='<tool_call>{"name": "f", "id": 7, "arguments":  {"a": true}}</tool_call>')


def test_arguments_before_the_name_go_out_with_the_name() -> None:
    parser = StreamParser(start_in_reasoning=False)
    assert parser.feed('<tool_call>{"arguments": {"a": [1, 2]}, ') == []
    assert parser.feed('"name": "f"') == [ToolCallStart(index=0, name="f"),
                                          ToolCallArgumentsDelta(index=0, text='{"a": [1, 2]}')]


def test_missing_or_null_arguments_announce_with_the_validated_block() -> None:
    for members in ['"name": "f"', '"name": "f", "arguments": null', '"arguments": "", "name": "f"']:
        parser = StreamParser(start_in_reasoning=False)
        assert parser.feed("<tool_call>{" + members + "}") == []
        assert [type(e) for e in parser.feed("</tool_call>")] == [
            ToolCallStart, ToolCallArgumentsDelta, ToolCallEnd]


def test_streaming_stops_at_the_invalid_character() -> None:
    text = '<tool_call>{"name": "f", "arguments": {"a": [1, 2,], "b": 3}}</tool_call>'
    events = flat(list(text))
    streamed = "".join(e.text for e in events if isinstance(e, ToolCallArgumentsDelta))
    assert streamed == '{"a": [1, 2,'
    withdrawn = events[-1]
    assert isinstance(withdrawn, ToolCallMalformed)
    assert withdrawn.index == 0 and not withdrawn.truncated and "']'" in withdrawn.reason


def test_truncation_is_marked() -> None:
    text = '<tool_call>{"name": "f", "arguments": {"a": "Par'
    events = flat([text])
    assert starts(events) == [ToolCallStart(index=0, name="f")]
    withdrawn = events[-1]
    assert isinstance(withdrawn, ToolCallMalformed) and withdrawn.index == 0 and withdrawn.truncated
    assert parse(text, start_in_reasoning=False).malformed[0].truncated
    for closed in ['<tool_call>{"name": "f", "arguments": {"a": 1</tool_call>',
                   '<tool_call>{"name": "f", x}']:
        assert not parse(closed, start_in_reasoning=False).malformed[0].truncated


def _is_viable_prefix(text: str) -> bool:
    validator = JsonValidator(255)
    return validator.feed(text, 0, len(text)) == len(text) and not validator.problem


def check_announcements(text: str, chunks: list[str], start: bool) -> None:
    """Every announced call is in the one-shot result, or withdrawn for one of the two reasons;
    what was streamed of it is always a viable prefix of a JSON object."""
    events = [e for step in steps(chunks, start_in_reasoning=start) for e in step]
    one_shot = parse(text, start_in_reasoning=start)
    names: dict[int, str] = {}
    streamed: dict[int, str] = {}
    made = []
    for event in events:
        if isinstance(event, ToolCallStart):
            names[event.index] = event.name
            streamed[event.index] = ""
        elif isinstance(event, ToolCallArgumentsDelta):
            streamed[event.index] += event.text
            assert streamed[event.index].startswith("{")
            assert _is_viable_prefix(streamed[event.index])
        elif isinstance(event, ToolCallEnd):
            made.append((names[event.index], event.arguments))
        elif isinstance(event, ToolCallMalformed) and event.index is not None:
            assert (event.truncated or "JSON" in event.reason  # invalid JSON, or a repeated key
                    or event.reason.startswith(("the call has more than one", "the call has both")))
    assert made == [(c.name, c.arguments) for c in one_shot.tool_calls]


@given(st.data(), transcripts())
def test_announced_calls_stand_or_fall_by_the_two_rules(data, tr) -> None:  # type: ignore[no-untyped-def]
    cut = data.draw(st.integers(0, len(tr.text)))  # output cut anywhere, as by max_tokens
    for text in (tr.text, tr.text[:cut]):
        check_announcements(text, data.draw(chunkings(text)), tr.start_in_reasoning)


@given(st.data(), transcripts().map(lambda t: t.text) | tag_soup())
def test_whole_calls_come_in_one_piece_and_are_never_withdrawn(data, text) -> None:  # type: ignore[no-untyped-def]
    chunks = data.draw(chunkings(text))
    assert parse_stream(chunks, whole_calls=True, start_in_reasoning=False) == parse(
        text, start_in_reasoning=False)
    for step in steps(chunks, whole_calls=True):
        for k, event in enumerate(step):
            if isinstance(event, ToolCallStart):
                delta, end = step[k + 1 : k + 3]
                assert isinstance(delta, ToolCallArgumentsDelta) and isinstance(end, ToolCallEnd)
                assert delta.text == end.arguments and json.loads(end.arguments) is not None
            assert not isinstance(event, ToolCallMalformed) or event.index is None
    whole = [e for e in flat(chunks, whole_calls=True) if not isinstance(e, ToolCallMalformed)]
    streamed = [e for e in flat(chunks) if not isinstance(e, ToolCallMalformed)]
    kept = {e.index for e in streamed if isinstance(e, ToolCallEnd)}
    streamed = [e for e in streamed if getattr(e, "index", None) in kept or not hasattr(e, "index")]
    assert len(starts(whole)) == len(kept)
    assert [type(e) for e in normalize(whole)] == [type(e) for e in normalize(streamed)]
