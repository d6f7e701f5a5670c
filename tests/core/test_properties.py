"""Property-based laws of the parser: correctness against self-checking transcripts, chunking
invariance, the streaming concatenation law, conservation of characters, and never raising."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from qwq_tool_parser import (
    ContentDelta,
    Event,
    ReasoningDelta,
    StreamParser,
    ToolCallArgumentsDelta,
    ToolCallEnd,
    ToolCallMalformed,
    ToolCallStart,
    normalize,
    parse,
    parse_stream,
)
from tests.strategies import WS, chunkings, tag_soup, transcripts


def events_of(chunks: list[str], **options: bool) -> list[Event]:
    parser = StreamParser(**options)  # type: ignore[arg-type]
    events: list[Event] = []
    for chunk in chunks:
        events += parser.feed(chunk)
    return events + parser.close()


def summary(result: object) -> tuple[object, ...]:
    r = result
    return (
        r.reasoning,  # type: ignore[attr-defined]
        r.content,  # type: ignore[attr-defined]
        [(c.name, c.arguments) for c in r.tool_calls],  # type: ignore[attr-defined]
    )


@given(transcripts())
def test_transcripts_parse_to_their_expected_result(tr) -> None:  # type: ignore[no-untyped-def]
    result = parse(tr.text, start_in_reasoning=tr.start_in_reasoning)
    assert summary(result) == (tr.reasoning, tr.content, [(c.name, c.arguments) for c in tr.calls])
    assert len(result.malformed) == tr.malformed
    for call in result.tool_calls:
        assert isinstance(json.loads(call.arguments), dict)


@given(st.data(), transcripts())
def test_streaming_equals_non_streaming_for_every_chunking(data, tr) -> None:  # type: ignore[no-untyped-def]
    chunks = data.draw(chunkings(tr.text))
    options = {"start_in_reasoning": tr.start_in_reasoning}
    assert parse_stream(chunks, **options) == parse(tr.text, **options)
    assert normalize(events_of(chunks, **options)) == normalize(events_of([tr.text], **options))


@given(st.data(), tag_soup() | st.text(), st.booleans())
def test_tag_soup_never_raises_and_is_chunking_invariant(data, text, start) -> None:  # type: ignore[no-untyped-def]
    chunks = data.draw(chunkings(text))
    assert normalize(events_of(chunks, start_in_reasoning=start)) == normalize(
        events_of([text], start_in_reasoning=start)
    )


def check_event_stream(events: list[Event]) -> None:
    """The streaming contract a client relies on."""
    started: dict[int, str] = {}
    streamed: dict[int, list[str]] = {}
    settled: set[int] = set()
    for event in events:
        if isinstance(event, ToolCallStart):
            assert event.index not in started, "a call starts once"
            assert all(event.index > i for i in started), "indexes increase"
            assert all(i in settled for i in started), "calls do not overlap"
            started[event.index] = event.name
            streamed[event.index] = []
        elif isinstance(event, ToolCallArgumentsDelta):
            assert event.index in started and event.index not in settled
            assert event.text
            streamed[event.index].append(event.text)
        elif isinstance(event, ToolCallEnd):
            assert event.index in started and event.index not in settled
            assert "".join(streamed[event.index]) == event.arguments, "concatenation law"
            settled.add(event.index)
        elif isinstance(event, ToolCallMalformed):
            if event.index is not None:
                assert event.index in started and event.index not in settled
                settled.add(event.index)
        else:
            assert event.text
    assert set(started) == settled, "every announced call is settled by close()"


@given(st.data(), transcripts() | tag_soup().map(lambda t: None))
def test_streaming_contract(data, tr) -> None:  # type: ignore[no-untyped-def]
    text = tr.text if tr is not None else data.draw(tag_soup())
    start = tr.start_in_reasoning if tr is not None else data.draw(st.booleans())
    check_event_stream(events_of(data.draw(chunkings(text)), start_in_reasoning=start))


def _think_split(text: str, start_in_reasoning: bool) -> tuple[str, str | None] | None:
    """(the think block's text, the text after its ``</think>`` or None) by the markup rules, or None
    if no think block opens (an opening ``<think>`` at the start, or ``start_in_reasoning``)."""
    stripped = text.lstrip(WS)
    if stripped.startswith("<think>"):
        body = stripped[len("<think>") :]
    elif start_in_reasoning:
        body = text
    else:
        return None
    head, sep, tail = body.partition("</think>")
    return head, tail if sep else None


def _markup_removed(text: str, start_in_reasoning: bool) -> str:
    """``text`` without the think tags that act as markup (an opening <think> and its </think>)."""
    split = _think_split(text, start_in_reasoning)
    return text if split is None else split[0] + (split[1] or "")


def _non_ws(text: str) -> str:
    return "".join(c for c in text if c not in WS)


@given(st.data(), transcripts().map(lambda t: (t.text, t.start_in_reasoning))
       | st.tuples(tag_soup(), st.booleans()))
def test_conservation_of_characters(data, case) -> None:  # type: ignore[no-untyped-def]
    """Every non-whitespace character lands, in order, in reasoning, content or a call block; only
    the think markup and framing whitespace are consumed (valid blocks are accounted by ``raw``)."""
    text, start = case
    pieces = []
    for event in events_of(data.draw(chunkings(text)), start_in_reasoning=start):
        if isinstance(event, (ReasoningDelta, ContentDelta)):
            pieces.append(event.text)
        elif isinstance(event, ToolCallEnd):
            pieces.append(event.raw)
    assert _non_ws("".join(pieces)) == _non_ws(_markup_removed(text, start))


@given(st.data(), transcripts())
def test_reasoning_and_content_characters_are_exact(data, tr) -> None:  # type: ignore[no-untyped-def]
    """Outside framing, whitespace is kept too: reasoning is the exact text between the tags."""
    events = events_of(data.draw(chunkings(tr.text)), start_in_reasoning=tr.start_in_reasoning)
    reasoning = "".join(e.text for e in events if isinstance(e, ReasoningDelta))
    assert (reasoning if reasoning.strip(WS) else None) == tr.reasoning


def _rest_after_think(text: str, start_in_reasoning: bool) -> str:
    """What follows the think block, verbatim, minus the framing whitespace that starts it."""
    split = _think_split(text, start_in_reasoning)
    if split is None:
        return text.lstrip(WS)
    return (split[1] or "").lstrip(WS)


@given(st.data(), transcripts().map(lambda t: (t.text, t.start_in_reasoning))
       | st.tuples(tag_soup(), st.booleans()))
def test_reasoning_splitter_passes_the_rest_through_verbatim(data, case) -> None:  # type: ignore[no-untyped-def]
    text, start = case
    events = events_of(data.draw(chunkings(text)), start_in_reasoning=start, parse_tool_calls=False)
    assert not any(isinstance(e, (ToolCallStart, ToolCallMalformed)) for e in events)
    content = "".join(e.text for e in events if isinstance(e, ContentDelta))
    assert content == _rest_after_think(text, start)
    reasoning = [e for e in events if isinstance(e, ReasoningDelta)]
    parsed = events_of([text], start_in_reasoning=start)
    assert normalize(reasoning) == normalize(e for e in parsed if isinstance(e, ReasoningDelta))
