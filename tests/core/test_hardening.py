"""Regressions of the adversarial review (issue 14): each promise of the README holds literally."""

from __future__ import annotations

import json
import sys
import tracemalloc
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qwq_tool_parser import (
    StreamParser,
    ToolCallParserError,
    ToolCallStart,
    parse,
    parse_stream,
)
from qwq_tool_parser import _call_block, _parser
from qwq_tool_parser._json_validator import JsonValidator
from tests.strategies import chunkings


def calls(text: str, **options: Any) -> list[tuple[str, str]]:
    return [(c.name, c.arguments) for c in parse(text, **options).tool_calls]


class WorkCounter:
    """Counts the characters that the parser's text-touching steps receive: block scans (carried
    text included), validator runs, joins of kept text and merges of held whitespace."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.work = 0
        scan, join = _call_block.CallBlock.scan, _call_block._Text.text
        feed, hold = JsonValidator.feed, _parser.hold_trailing_whitespace

        def counted_feed(validator: JsonValidator, text: str, i: int, n: int) -> int:
            self.work += n - i
            return feed(validator, text, i, n)

        def counted_hold(held: str, text: str) -> tuple[str, str]:
            self.work += len(held) + len(text)
            return hold(held, text)

        def counted_scan(block: Any, text: str, i: int, *rest: Any) -> int:
            self.work += len(text) - i
            return scan(block, text, i, *rest)

        def counted_join(pieces: Any) -> str:
            joined = join(pieces)
            self.work += len(joined)
            return joined

        monkeypatch.setattr(_call_block.CallBlock, "scan", counted_scan)
        monkeypatch.setattr(_call_block._Text, "text", counted_join)
        monkeypatch.setattr(JsonValidator, "feed", counted_feed)
        monkeypatch.setattr(_parser, "hold_trailing_whitespace", counted_hold)


@given(run=st.sampled_from([" ", "\\n", "\\t", "\\\\", " \\r\\n", "\\u0020", "x"]),
       length=st.integers(1, 3000), delta=st.sampled_from([1, 4, 7]),
       inside=st.sampled_from(["{}", '{"a": "', ""]))
def test_runs_inside_string_arguments_cost_linear_work(run, length, delta, inside) -> None:  # type: ignore[no-untyped-def]
    with pytest.MonkeyPatch.context() as monkeypatch:
        counter = WorkCounter(monkeypatch)
        body = inside + run * length + ('"}' if inside.startswith('{"') else "")
        text = '</think><tool_call>{"name":"f","arguments":"' + body.replace('"', '\\"') + '"}</tool_call>'
        parse_stream([text[i : i + delta] for i in range(0, len(text), delta)])
    assert counter.work <= 8 * len(text) + 200


def test_large_integers_are_numbers_whatever_the_process_limit() -> None:
    text = 'r</think><tool_call>{"name": "f", "arguments": {"n": ' + "1" * 10_000 + "}}</tool_call>"
    before = sys.get_int_max_str_digits()
    try:
        verdicts = []
        for limit in (0, 640, 4300):
            sys.set_int_max_str_digits(limit)
            verdicts.append(calls(text))
    finally:
        sys.set_int_max_str_digits(before)
    assert verdicts[0] == verdicts[1] == verdicts[2] == [("f", '{"n": ' + "1" * 10_000 + "}")]


def test_framing_cap_is_a_rule_of_the_text() -> None:
    call = '<tool_call>{"name": "f"}</tool_call>'
    # Before a call, a run of up to 1,024 whitespace characters is framing; a longer one is content.
    assert parse("r</think>a" + " " * 1024 + call).content == "a"
    assert parse("r</think>a" + " " * 1025 + call).content == "a" + " " * 1025
    # After a call (and after </think>), whitespace of any length is framing: it is never held.
    assert parse("r</think>" + call + " " * 5000 + "b").content == "b"
    assert parse("r</think>" + " " * 5000 + "b").content == "b"


_DUPLICATES = ['"name": "f", "name": "{s}"', '"name": "f", "arguments": {{}}, "parameters": "{s}"',
               '"arguments": {{"a": "{s}"}}, "name": "f", "arguments": "{s}"',
               '"name": "{s}", "name": "g"']


@given(st.data(), st.sampled_from(_DUPLICATES),
       st.sampled_from(["</tool_call>", "</tool_call> <tool_call>", "x</tool_call>{", '\\"}']))
def test_duplicate_keys_never_let_a_tag_in_a_string_end_the_block(data, members, inner) -> None:  # type: ignore[no-untyped-def]
    block = "<tool_call>{" + members.format(s=inner) + "}</tool_call>"
    text = "r</think>" + block + "\nafter"
    result = parse_stream(data.draw(chunkings(text)))
    assert result.tool_calls == []
    assert [m.raw for m in result.malformed] == [block]
    assert result.content == block + "\nafter"


def test_duplicate_key_reasons_name_the_keys() -> None:
    reasons = [parse(f"r</think><tool_call>{{{m}}}</tool_call>").malformed[0].reason for m in [
        '"name": "f", "name": "g"', '"name": "f", "arguments": {}, "parameters": {}',
        '"name": "f", "parameters": {}, "parameters": {}']]
    assert reasons == ["the call has more than one 'name' key",
                       "the call has both 'arguments' and 'parameters'",
                       "the call has more than one 'parameters' key"]


@pytest.mark.parametrize("block", [
    '{"name": "\\ud800"}', '{"name": "f\\udc00"}', '{"name": "f", "arguments": {"a": "\\ud800"}}',
    '{"name": "f", "arguments": "{\\"a\\": \\"\\\\ud800\\"}"}', '{"name": "f\ud800"}'])
def test_lone_surrogates_are_never_calls(block: str) -> None:
    result = parse(f"r</think><tool_call>{block}</tool_call>")
    assert result.tool_calls == [] and "lone surrogate" in result.malformed[0].reason
    assert calls('r</think><tool_call>{"name": "\\ud83d\\ude00"}</tool_call>') == [("😀", "{}")]


def _nested(levels: int) -> str:
    return '{"a": ' * levels + "1" + "}" * levels


def _at_depth(frames: int, work: Any) -> Any:
    return work() if frames == 0 else _at_depth(frames - 1, work)


def test_verdict_does_not_depend_on_the_callers_stack_depth() -> None:
    ok, deep = _nested(255), _nested(256)  # with the outer object: 256 and 257 levels
    texts = [f'r</think><tool_call>{{"name": "f", "arguments": {args}}}</tool_call>'
             for args in (ok, deep)]
    texts += [f'r</think><tool_call>{{"name": "f", "arguments": {json.dumps(args)}}}</tool_call>'
              for args in (ok, deep)]  # string-encoded arguments count as if written in place

    def verdicts() -> list[list[tuple[str, str]]]:
        return [calls(text) for text in texts]

    expected = [[("f", ok)], [], [("f", ok)], []]
    assert verdicts() == expected
    assert _at_depth(sys.getrecursionlimit() - 80, verdicts) == expected


def _peak(deltas: list[str]) -> int:
    tracemalloc.start()
    try:
        parser = StreamParser()
        for delta in deltas:
            parser.feed(delta)
        parser.close()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_arguments_before_the_name_keep_memory_small() -> None:
    value = json.dumps("巴黎" * 50_000, ensure_ascii=False)
    name_first = f'r</think><tool_call>{{"name": "f", "arguments": {{"a": {value}}}}}</tool_call>'
    args_first = f'r</think><tool_call>{{"arguments": {{"a": {value}}}, "name": "f"}}</tool_call>'
    peaks = [_peak(list(text)) for text in (name_first, args_first)]
    size = len(name_first.encode())
    assert peaks[1] < 2 * peaks[0] + size and peaks[1] < 8 * size, (peaks, size)


def test_a_tool_call_tag_after_a_complete_object_ends_the_block() -> None:
    text = 'r</think><tool_call>{"name":"a"}\n<tool_call>{"name":"b"}</tool_call>'
    for chunks in ([text], list(text)):
        result = parse_stream(chunks)
        assert [(c.name, c.arguments) for c in result.tool_calls] == [("a", "{}"), ("b", "{}")]
        assert result.content is None and result.malformed == []
    cut = parse('r</think><tool_call>{"name":"a"}\n<tool_c')
    assert [c.name for c in cut.tool_calls] == ["a"] and cut.content == "<tool_c"
    inside = parse('r</think><tool_call>{"name":"a", <tool_call>{"name":"b"}</tool_call>')
    assert inside.tool_calls == [] and len(inside.malformed) == 1


def test_text_after_a_complete_object_without_closing_tag_is_not_a_call() -> None:
    result = parse('r</think><tool_call>{"name": "f"} and more')
    assert result.tool_calls == [] and result.content == '<tool_call>{"name": "f"} and more'
    assert not result.malformed[0].truncated


def test_empty_names_and_unicode_whitespace() -> None:
    assert calls('r</think><tool_call>{"name": ""}</tool_call>') == []
    assert calls('r</think><tool_call>{"name": " "}</tool_call>') == [(" ", "{}")]
    assert parse("r</think>\u3000").content == "\u3000"  # only space, tab, CR and LF are whitespace
    assert parse("r</think> \t\r\n").content is None


def test_api_misuse_raises_the_package_error() -> None:
    with pytest.raises(ToolCallParserError):
        StreamParser(tools=5)  # type: ignore[arg-type]
    with pytest.raises(ToolCallParserError):
        parse_stream(None)  # type: ignore[arg-type]
    with pytest.raises(ToolCallParserError):
        parse_stream([b"x"])  # type: ignore[list-item]
    with pytest.raises(ToolCallParserError):
        parse(None)  # type: ignore[arg-type]


def test_whole_calls_option_reaches_every_entry_point() -> None:
    text = 'r</think><tool_call>{"name": "f", "arguments": {"a": 1}}</tool_call>'
    parser = StreamParser(whole_calls=True)
    assert not any(isinstance(e, ToolCallStart) for e in parser.feed(text[:-15]))
    events = parser.feed(text[-15:])
    assert isinstance(events[0], ToolCallStart) and len(events) == 3
    assert parse(text, whole_calls=True) == parse_stream(list(text), whole_calls=True) == parse(text)
