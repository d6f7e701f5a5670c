"""Table tests: the edge cases of the format, each checked one-shot and in every chunking that
matters (single characters and a cut at every position)."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from qwq_tool_parser import (
    ContentDelta,
    ParseResult,
    StreamParser,
    ToolCallArgumentsDelta,
    ToolCallEnd,
    ToolCallMalformed,
    ToolCallParserError,
    ToolCallStart,
    normalize,
    parse,
    parse_stream,
)

TOOLS = [
    {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}},
    {"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}},
]
W = '{"name": "get_weather", "arguments": {"city": "Paris"}}'
WA = '{"city": "Paris"}'

# id, text, options, (reasoning, content, [(name, arguments)], number of malformed blocks)
CASES: list[tuple[str, str, dict[str, Any], tuple[Any, Any, list[tuple[str, str]], int]]] = [
    ("qwq_basic", f"Think.\n</think>\n\n<tool_call>\n{W}\n</tool_call>", {},
     ("Think.", None, [("get_weather", WA)], 0)),
    ("opening_think_is_markup", f"<think>\nThink.</think>\n\n<tool_call>\n{W}\n</tool_call>", {},
     ("Think.", None, [("get_weather", WA)], 0)),
    ("no_think_end_means_all_reasoning", f"Think <tool_call>\n{W}\n</tool_call>", {},
     (f"Think <tool_call>\n{W}\n</tool_call>", None, [], 0)),
    ("call_quoted_in_think_is_reasoning", f"I could write <tool_call>{W}</tool_call>.</think>Hi", {},
     (f"I could write <tool_call>{W}</tool_call>.", "Hi", [], 0)),
    ("content_only", "r</think>\n\nHello there.\n", {}, ("r", "Hello there.\n", [], 0)),
    ("whitespace_only_content_is_none", "r</think>\n\n  \n", {}, ("r", None, [], 0)),
    ("no_newline_around_tags", f"r</think><tool_call>{W}</tool_call>", {},
     ("r", None, [("get_weather", WA)], 0)),
    ("crlf_and_spaces", f"r</think>\r\n\r\n<tool_call> \r\n{W} \r\n</tool_call>\r\n", {},
     ("r", None, [("get_weather", WA)], 0)),
    ("text_before_between_after",
     f"r</think>\n\nSure.\n<tool_call>\n{W}\n</tool_call>\nAnd:\n<tool_call>{W}</tool_call>\nDone.", {},
     ("r", "Sure.And:Done.", [("get_weather", WA), ("get_weather", WA)], 0)),
    ("text_in_same_line_as_call", f"r</think>Sure.<tool_call>{W}</tool_call>", {},
     ("r", "Sure.", [("get_weather", WA)], 0)),
    ("two_calls_back_to_back", f"r</think><tool_call>{W}</tool_call><tool_call>{W}</tool_call>", {},
     ("r", None, [("get_weather", WA), ("get_weather", WA)], 0)),
    ("parameters_alias", 'r</think><tool_call>{"name": "f", "parameters": {"a": 1}}</tool_call>', {},
     ("r", None, [("f", '{"a": 1}')], 0)),
    ("arguments_first", 'r</think><tool_call>{"arguments": {"a": [1, 2]}, "name": "f"}</tool_call>',
     {}, ("r", None, [("f", '{"a": [1, 2]}')], 0)),
    ("arguments_as_json_string",
     'r</think><tool_call>{"name": "f", "arguments": "{\\"a\\": \\"\\u00e9\\ud83d\\ude00\\"}"}</tool_call>',
     {}, ("r", None, [("f", '{"a": "\u00e9\U0001f600"}')], 0)),
    ("missing_arguments", 'r</think><tool_call>{"name": "f"}</tool_call>', {},
     ("r", None, [("f", "{}")], 0)),
    ("null_arguments", 'r</think><tool_call>{"name": "f", "arguments": null}</tool_call>', {},
     ("r", None, [("f", "{}")], 0)),
    ("empty_string_arguments", 'r</think><tool_call>{"name": "f", "arguments": ""}</tool_call>', {},
     ("r", None, [("f", "{}")], 0)),
    ("unicode_kept_as_written",
     'r</think><tool_call>{"name": "f", "arguments": {"city": "\\u5df4\\u9ece", "b": "巴黎"}}</tool_call>',
     {}, ("r", None, [("f", '{"city": "\\u5df4\\u9ece", "b": "巴黎"}')], 0)),
    ("close_tag_inside_json_string",
     'r</think><tool_call>{"name": "f", "arguments": {"html": "</tool_call>{\\"}"}}</tool_call>', {},
     ("r", None, [("f", '{"html": "</tool_call>{\\"}"}')], 0)),
    ("complete_json_without_close_tag", f"r</think>\n<tool_call>\n{W}\n", {},
     ("r", None, [("get_weather", WA)], 0)),
    ("close_tag_cut_by_end_of_output", f"r</think>\n<tool_call>\n{W}\n</tool_", {},
     ("r", None, [("get_weather", WA)], 0)),
    ("cut_off_mid_json", 'r</think>Hi\n<tool_call>\n{"name": "f", "arguments": {"a": ', {},
     ("r", 'Hi\n<tool_call>\n{"name": "f", "arguments": {"a": ', [], 1)),
    ("invalid_json", 'r</think><tool_call>{"name": "f", "arguments": {"a": 1,}}</tool_call>\nok', {},
     ("r", '<tool_call>{"name": "f", "arguments": {"a": 1,}}</tool_call>\nok', [], 1)),
    ("no_name", 'r</think><tool_call>{"arguments": {}}</tool_call>', {},
     ("r", '<tool_call>{"arguments": {}}</tool_call>', [], 1)),
    ("empty_name", 'r</think><tool_call>{"name": "", "arguments": {}}</tool_call>', {},
     ("r", '<tool_call>{"name": "", "arguments": {}}</tool_call>', [], 1)),
    ("duplicate_name", 'r</think><tool_call>{"name": "f", "name": "g"}</tool_call>', {},
     ("r", '<tool_call>{"name": "f", "name": "g"}</tool_call>', [], 1)),
    ("not_json_at_all", "r</think><tool_call>\n<function=f>\n</function>\n</tool_call>", {},
     ("r", "<tool_call>\n<function=f>\n</function>\n</tool_call>", [], 1)),
    ("text_after_json_in_block", 'r</think><tool_call>{"name": "f"} oops</tool_call>', {},
     ("r", '<tool_call>{"name": "f"} oops</tool_call>', [], 1)),
    ("nan_is_not_json", 'r</think><tool_call>{"name": "f", "arguments": {"a": NaN}}</tool_call>', {},
     ("r", '<tool_call>{"name": "f", "arguments": {"a": NaN}}</tool_call>', [], 1)),
    ("huge_integer_is_a_number_like_any_other",
     'r</think><tool_call>{"name": "f", "arguments": {"a": ' + "9" * 5000 + "}}</tool_call>",
     {}, ("r", None, [("f", '{"a": ' + "9" * 5000 + "}")], 0)),
    ("unknown_tool_kept_by_default", 'r</think><tool_call>{"name": "nope", "arguments": {}}</tool_call>',
     {"tools": TOOLS}, ("r", None, [("nope", "{}")], 0)),
    ("unknown_tool_as_content", 'r</think><tool_call>{"name": "nope", "arguments": {}}</tool_call>',
     {"tools": TOOLS, "unknown_tool": "content"},
     ("r", '<tool_call>{"name": "nope", "arguments": {}}</tool_call>', [], 1)),
    ("parallel_false_keeps_first",
     f"r</think><tool_call>{W}</tool_call>\n<tool_call>" + '{"name": "f"}</tool_call>',
     {"parallel_tool_calls": False},
     ("r", '<tool_call>{"name": "f"}</tool_call>', [("get_weather", WA)], 1)),
    ("parallel_false_after_malformed_first",
     'r</think><tool_call>{"name": 1}</tool_call><tool_call>{"name": "f"}</tool_call>',
     {"parallel_tool_calls": False}, ("r", '<tool_call>{"name": 1}</tool_call>', [("f", "{}")], 1)),
    ("start_in_content", f"Sure.\n<tool_call>\n{W}\n</tool_call>", {"start_in_reasoning": False},
     (None, "Sure.", [("get_weather", WA)], 0)),
    ("start_in_content_with_think_block", f"\n<think>\nr\n</think>\n\n<tool_call>{W}</tool_call>",
     {"start_in_reasoning": False}, ("r", None, [("get_weather", WA)], 0)),
    ("think_tag_later_in_content_is_text", "Hi <think>x</think>", {"start_in_reasoning": False},
     (None, "Hi <think>x</think>", [], 0)),
    ("stray_close_tags_in_content_are_text", "r</think>a</think>b</tool_call>c", {},
     ("r", "a</think>b</tool_call>c", [], 0)),
    ("near_miss_tags", "r</think>a<tool_cal b<tool_call c<<tool_call>{\"name\": \"f\"}</tool_call>", {},
     ("r", "a<tool_cal b<tool_call c<", [("f", "{}")], 0)),
    ("whitespace_around_a_non_call_is_text", "r</think>Hm <tool_call>[1]</tool_call> ok\n", {},
     ("r", "Hm <tool_call>[1]</tool_call> ok\n", [], 1)),
    ("long_whitespace_run_is_content", "r</think>a" + " " * 2000 + f"<tool_call>{W}</tool_call>", {},
     ("r", "a" + " " * 2000, [("get_weather", WA)], 0)),
]


def _summary(result: ParseResult) -> tuple[Any, Any, list[tuple[str, str]], int]:
    calls = [(c.name, c.arguments) for c in result.tool_calls]
    return (result.reasoning, result.content, calls, len(result.malformed))


@pytest.mark.parametrize(("text", "options", "expected"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_case(text: str, options: dict[str, Any], expected: tuple[Any, ...]) -> None:
    result = parse(text, **options)
    assert _summary(result) == expected
    assert parse_stream(list(text), **options) == result
    for cut in range(len(text) + 1):
        assert parse_stream([text[:cut], text[cut:]], **options) == result, cut


def test_deep_nesting_never_recurses() -> None:
    for opener in "[{":
        text = 'r</think><tool_call>{"name": "f", "arguments": {"a": ' + opener * 100_000
        for chunks in ([text], [text[i : i + 7] for i in range(0, len(text), 7)]):
            result = parse_stream([*chunks, "</tool_call>"])
            assert result.tool_calls == [] and len(result.malformed) == 1
            assert result.content is not None and result.content.endswith(opener * 10 + "</tool_call>")


def test_events_of_a_streamed_call() -> None:
    p = StreamParser()
    events = []
    for delta in ["Th", "ink</th", "ink>\n\n<tool_", 'call>\n{"name": "get_', 'weather", "argu',
                  'ments": {"city"', ': "Paris"}}\n</tool_call>']:
        events += p.feed(delta)
    events += p.close()
    names = [type(e).__name__ for e in normalize(events)]
    assert names == ["ReasoningDelta", "ToolCallStart", "ToolCallArgumentsDelta", "ToolCallEnd"]
    starts = [e for e in events if isinstance(e, ToolCallStart)]
    assert starts == [ToolCallStart(index=0, name="get_weather")]
    pieces = [e.text for e in events if isinstance(e, ToolCallArgumentsDelta)]
    assert len(pieces) >= 2 and "".join(pieces) == WA  # arguments stream as they arrive
    end = events[-1]
    assert isinstance(end, ToolCallEnd) and end.raw == f'<tool_call>\n{W}\n</tool_call>'


def test_withdrawn_call_is_announced_then_malformed() -> None:
    events = StreamParser().feed('r</think><tool_call>{"name": "f", "arguments": {"a": 1}} x</tool_call>')
    kinds = [type(e) for e in normalize(events)]
    assert kinds == [type(events[0]), ToolCallStart, ToolCallArgumentsDelta, ContentDelta,
                     ToolCallMalformed]
    malformed = events[-1]
    assert isinstance(malformed, ToolCallMalformed)
    assert malformed.index == 0 and malformed.offset == len("r</think>")
    assert "after the JSON object" in malformed.reason


def test_holds_back_only_possible_tags() -> None:
    p = StreamParser(start_in_reasoning=False)
    assert p.feed("Hello <tool_c") == [ContentDelta(text="Hello")]
    assert p.feed("alc") == [ContentDelta(text=" <tool_calc")]
    assert p.feed("\n\n") == []  # maybe framing before a call
    assert p.feed("more") == [ContentDelta(text="\n\nmore")]
    assert p.close() == []


def test_misuse_raises() -> None:
    p = StreamParser()
    p.close()
    assert p.close() == []
    with pytest.raises(ToolCallParserError):
        p.feed("x")
    with pytest.raises(ToolCallParserError):
        StreamParser().feed(b"x")  # type: ignore[arg-type]
    with pytest.raises(ToolCallParserError):
        StreamParser(unknown_tool="drop")  # type: ignore[arg-type]
    with pytest.raises(ToolCallParserError):
        StreamParser([{"type": "function", "function": {}}])


def test_events_are_frozen_and_short_to_print() -> None:
    event = ContentDelta(text="x" * 1000)
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.text = "y"  # type: ignore[misc]
    assert len(repr(event)) < 100


def test_openai_message() -> None:
    message = parse(f"r</think>Sure.<tool_call>{W}</tool_call>").to_openai_message()
    assert message == {
        "role": "assistant",
        "reasoning_content": "r",
        "content": "Sure.",
        "tool_calls": [{"id": "call_0", "type": "function",
                        "function": {"name": "get_weather", "arguments": WA}}],
    }
    assert json.loads(message["tool_calls"][0]["function"]["arguments"]) == {"city": "Paris"}
