"""Engine-free subjects: our core ``StreamParser`` and the pass-through floor; the memory figure."""

from __future__ import annotations

import gc
import tracemalloc
from typing import Any

from qwq_tool_parser import ContentDelta, StreamParser, ToolCallEnd, parse, parse_stream

from benchmarks.inputs import Case, memory_case
from benchmarks.measure import Subject


class PassThrough:
    """The least a streaming parser must do: look at each delta for a tag start, emit one event."""

    __slots__ = ("seen_lt",)

    def __init__(self) -> None:
        self.seen_lt = 0

    def feed(self, delta: str) -> list[ContentDelta]:
        if "<" in delta:
            self.seen_lt += 1  # a real parser would look closer here
        return [ContentDelta(text=delta)]

    def close(self) -> list[ContentDelta]:
        return []


def _feed(parser: Any, deltas: list[str], ids: list[list[int]], last: bool) -> None:
    feed = parser.feed
    for delta in deltas:
        feed(delta)


def _close(parser: Any) -> None:
    parser.close()


def _check_core(case: Case) -> str:
    result = parse_stream(case.deltas)
    if result != parse(case.text):
        return "streamed result differs from parse(text)"
    if len(result.tool_calls) != 1 or result.tool_calls[0].arguments != case.expected_args:
        return "arguments differ"
    return "ok"


def subjects() -> list[Subject]:
    return [
        Subject("qwq core StreamParser", "core", "ours", StreamParser, _feed, _close,
                check=_check_core),
        Subject("pass-through floor", "core", "floor", PassThrough, _feed, _close,
                note="checks each delta for '<', returns one ContentDelta"),
    ]


def memory_figure() -> dict[str, Any]:
    """Peak traced memory while streaming a 1 MB argument through ``StreamParser``, one token per
    delta; events are dropped after each feed, as a server sends them on."""
    case = memory_case()
    deltas = case.deltas
    encoded = [d.encode() for d in deltas]  # each delta is decoded afresh, as a detokenizer does,
    gc.collect()  # so whatever the parser keeps of it is counted
    tracemalloc.start()
    try:
        parser = StreamParser()
        feed = parser.feed
        ends = []
        for raw in encoded:
            events = feed(raw.decode())
            if events and type(events[-1]) is ToolCallEnd:
                ends.append(events[-1])
        ends += [e for e in parser.close() if type(e) is ToolCallEnd]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    arguments = ends[0].arguments
    assert arguments == case.expected_args
    input_bytes = len(case.text.encode())
    return {
        "argument_chars": len(case.expected_args),
        "transcript_bytes": input_bytes,
        "deltas": len(deltas),
        "peak_bytes": peak,
        "ratio": peak / input_bytes,
    }
