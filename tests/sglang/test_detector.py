"""The registered ``qwq`` detectors, looked up through SGLang's own FunctionCallParser/ReasoningParser.

Three groups: SGLang's Qwen25 detector unit cases adapted to ``qwq`` (has_tool_call, one-shot,
streaming by chunk list); streaming parity and fuzzed chunkings (the strategies of SGLang's
test_streaming_parity / test_streaming_tool_call_fuzzer, rewritten here); and the stock
``qwen25``/``qwen3`` failures from the issue, each shown failing on stock and fixed by ``qwq``.
"""

from __future__ import annotations

import itertools
import json
import random
import time
from typing import Any

import pytest
from qwq_tool_parser.qwq_sglang import QwQDetector, QwQReasoningDetector
from sglang.srt.entrypoints.openai.protocol import Tool
from sglang.srt.function_call.function_call_parser import FunctionCallParser
from sglang.srt.parser.reasoning_parser import ReasoningParser

TOOLS = [
    Tool(type="function", function={"name": name, "parameters": {"type": "object", "properties": {
        "city": {"type": "string"}, "location": {"type": "string"}, "unit": {"type": "string"}}}})
    for name in ("get_weather", "get_current_weather", "search")
]
MARKERS = ("<tool_call>", "</tool_call>", "<think>", "</think>")


def stream(parser: str, chunks: list[str], tools: list[Tool] = TOOLS,
           pad: bool = True) -> tuple[str, list[Any]]:
    """Feed chunks like serving_chat (plus two empty increments), reassemble like a client.

    A call the detector withdrew (announced, then its block turned out bad and went to content) is
    left out: the client saw its start, but finish_reason stays "stop" and the text is in content.
    """
    p = FunctionCallParser(tools, parser)
    text, names, args = "", {}, {}
    padding = ["", ""] if pad else []  # test_streaming_parity's two trailing empty increments
    results = [p.parse_stream_chunk(c) for c in [*chunks, *padding]] + [p.parse_stream_end()]
    for normal, calls in results:
        text += normal
        for c in calls:
            if c.name:
                assert c.tool_index not in names, "a call's name is sent once"
                names[c.tool_index] = c.name
            args[c.tool_index] = args.get(c.tool_index, "") + c.parameters
    withdrawn = getattr(p.detector, "withdrawn_tool_call_indices", set())  # sent as text too
    return text, [(names.get(i), args[i]) for i in sorted(args) if i not in withdrawn]


def one_shot(parser: str, text: str, tools: list[Tool] = TOOLS) -> tuple[str, list[Any]]:
    normal, calls = FunctionCallParser(tools, parser).parse_non_stream(text)
    return normal, [(c.name, c.parameters) for c in calls]


# -- registration as SGLang sees it ----------------------------------------------------------------


def test_registered_classes() -> None:
    assert FunctionCallParser.ToolCallParserEnum["qwq"] is QwQDetector
    assert ReasoningParser.DetectorMap["qwq"] is QwQReasoningDetector
    assert isinstance(FunctionCallParser(TOOLS, "qwq").detector, QwQDetector)


# -- SGLang's test_qwen25_detector cases, adapted --------------------------------------------------

SINGLE = '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Beijing"}}\n</tool_call>'
SECOND = '<tool_call>\n{"name": "search", "arguments": {"city": "Shanghai"}}\n</tool_call>'


def test_has_tool_call() -> None:
    det = FunctionCallParser(TOOLS, "qwq").detector
    assert det.has_tool_call(SINGLE)
    assert det.has_tool_call("Sure. " + SINGLE)
    assert not det.has_tool_call("plain text")
    # Unlike qwen25 (whose marker includes the newline), <tool_call>{ is a call.
    assert det.has_tool_call('<tool_call>{"name": "search", "arguments": {}}</tool_call>')
    assert not det.has_tool_call("<tool_call>")


def test_detect_and_parse_single() -> None:
    assert one_shot("qwq", SINGLE) == ("", [("get_weather", '{"city": "Beijing"}')])


def test_detect_and_parse_multiple() -> None:
    assert one_shot("qwq", SINGLE + "\n" + SECOND) == (
        "", [("get_weather", '{"city": "Beijing"}'), ("search", '{"city": "Shanghai"}')])


def test_detect_and_parse_preceding_text() -> None:
    assert one_shot("qwq", "Let me check the weather.\n\n" + SINGLE) == (
        "Let me check the weather.", [("get_weather", '{"city": "Beijing"}')])


def test_detect_and_parse_malformed_json_is_content() -> None:
    bad = '<tool_call>\n{"name": "get_weather", "arguments": {"city": }\n</tool_call>'
    det = FunctionCallParser(TOOLS, "qwq").detector
    res = det.detect_and_parse(bad + "\n" + SINGLE, TOOLS)
    assert [(c.name, c.parameters) for c in res.calls] == [("get_weather", '{"city": "Beijing"}')]
    assert res.normal_text == bad  # qwen25 drops the bad block; ours keeps it visible


def test_detect_and_parse_whitespace() -> None:
    text = '<tool_call>\n  {"name": "get_weather", "arguments": {"city": "Beijing"}}  \n</tool_call>'
    assert one_shot("qwq", text) == ("", [("get_weather", '{"city": "Beijing"}')])


def test_streaming_chunks() -> None:
    chunks = ["<tool_call>\n", '{"name": "get_weather",', ' "arguments": {"city": "Beijing"}}',
              "\n</tool_call>"]
    text, calls = stream("qwq", chunks)
    assert text == ""
    assert calls == [("get_weather", '{"city": "Beijing"}')]
    assert json.loads(calls[0][1]) == {"city": "Beijing"}


def test_streaming_normal_text_then_call() -> None:
    text, calls = stream("qwq", ["The weather ", "tool: ", "<tool_call>\n", SINGLE[12:]])
    assert (text, calls) == ("The weather tool:", [("get_weather", '{"city": "Beijing"}')])


# -- streaming parity and fuzzed chunkings ---------------------------------------------------------

CORPUS = {
    "single": SINGLE,
    "two_calls": SINGLE + "\n" + SECOND,
    "text_around": "I'll look.\n\n" + SINGLE + "\n\nDone, anything else?",
    "no_newlines": 'x<tool_call>{"name": "search", "arguments": {"city": "</tool_call> <x>"}}'
                   "</tool_call>y",
    "escapes": '<tool_call>\n{"name": "search", "arguments": {"city": "a\\"b\\\\c\\u00e9 \\n {[",'
               ' "unit": "\U0001f600"}}\n</tool_call>',
    "params_key": '<tool_call>\n{"name": "search", "parameters": {"city": "Oslo"}}\n</tool_call>',
    "malformed": 'Hm <tool_call>\n{"name": "search", "arguments": {"city": \n</tool_call> end',
    "unclosed": 'ok <tool_call>\n{"name": "get_weather", "arguments": {"city": "Ro',
    "near_miss": "a <tool_c b </tool_call> c <tool_call2> d <",
    "plain": "No tools needed: 2 + 2 = 4.",
}


def chunkings(text: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {"all": [text], "char": list(text)}
    for n in (2, 3, 5, 8, 13):
        out[f"fixed{n}"] = [text[i : i + n] for i in range(0, len(text), n)]
    cuts = set()
    for token in (*MARKERS, "{", "}", "[", "]", '"', "\\", "</", "<", ">"):
        start = text.find(token)
        while start != -1:
            cuts.update(c for c in (start - 1, start, start + 1, start + len(token) - 1,
                                    start + len(token), start + len(token) + 1) if 0 < c < len(text))
            start = text.find(token, start + 1)
    bounds = [0, *sorted(cuts), len(text)]
    out["markers"] = [text[a:b] for a, b in itertools.pairwise(bounds)]
    for seed in range(5):
        rng, i, pieces = random.Random(seed), 0, []
        while i < len(text):
            n = rng.randint(1, 17)
            pieces.append(text[i : i + n])
            i += n
        out[f"random{seed}"] = pieces
    return out


@pytest.mark.parametrize("case", sorted(CORPUS))
def test_streaming_matches_one_shot_for_every_chunking(case: str) -> None:
    text = CORPUS[case]
    res = FunctionCallParser(TOOLS, "qwq").detector.detect_and_parse(text, TOOLS)
    expected_text, expected_calls = res.normal_text, [(c.name, c.parameters) for c in res.calls]
    for name, chunks in chunkings(text).items():
        got_text, got_calls = stream("qwq", chunks)
        assert got_calls == expected_calls, name
        for _, args in got_calls:
            json.loads(args)
        assert got_text == expected_text, name


@pytest.mark.parametrize("case", sorted(CORPUS))
def test_every_split_point(case: str) -> None:
    text = CORPUS[case]
    whole = stream("qwq", [text])
    for i in range(len(text) + 1):
        assert stream("qwq", [text[:i], text[i:]]) == whole, i


@pytest.mark.parametrize("case", ["single", "two_calls", "text_around", "no_newlines", "escapes"])
def test_no_marker_leaks_into_content(case: str) -> None:
    for name, chunks in chunkings(CORPUS[case]).items():
        text, _ = stream("qwq", chunks)
        assert not any(m in text for m in ("<tool_call>", "</tool_call>")), name


def test_withdrawn_call_keeps_finish_reason_honest() -> None:
    p = FunctionCallParser(TOOLS, "qwq")
    p.parse_stream_chunk('<tool_call>\n{"name": "search", "arguments": {"city": ')
    normal, _ = p.parse_stream_end()
    assert normal.startswith("<tool_call>")  # the raw block reaches the client as text
    assert p.detector.incomplete_tool_call_indices == {0}


def test_serving_state_is_consistent() -> None:
    p = FunctionCallParser(TOOLS, "qwq")
    for ch in SINGLE + "\n" + SECOND:
        p.parse_stream_chunk(ch)
    p.parse_stream_end()
    det = p.detector
    assert det.prev_tool_call_arr == [
        {"name": "get_weather", "arguments": '{"city": "Beijing"}'},
        {"name": "search", "arguments": '{"city": "Shanghai"}'}]
    assert det.streamed_args_for_tool == ['{"city": "Beijing"}', '{"city": "Shanghai"}']
    assert det.incomplete_tool_call_indices == set()


def test_core_failure_never_raises_and_keeps_text(monkeypatch: pytest.MonkeyPatch) -> None:
    p = FunctionCallParser(TOOLS, "qwq")

    def boom(delta: str) -> list[Any]:
        raise RuntimeError("bug")

    monkeypatch.setattr(p.detector._parser, "feed", boom)
    assert p.parse_stream_chunk("Hello <tool_call>") == ("Hello <tool_call>", [])
    assert p.parse_stream_chunk(" world") == (" world", [])
    assert p.parse_stream_end() == ("", [])


def test_argument_streaming_is_linear() -> None:
    """qwen25 re-parses the whole call per increment (seconds for 16k chars); ours is O(delta)."""
    value = "x" * 64_000
    text = '<tool_call>\n{"name": "search", "arguments": {"city": "' + value + '"}}\n</tool_call>'
    chunks = [text[i : i + 3] for i in range(0, len(text), 3)]
    t = time.process_time()
    _, calls = stream("qwq", chunks)
    ours = time.process_time() - t
    assert calls == [("search", json.dumps({"city": value}))]
    assert ours < 2.0, ours  # ~21k increments; stock needs ~30 s for half this length


# -- the stock failures of the issue, fixed --------------------------------------------------------

CALL = '{"name": "get_weather", "arguments": {"city": "Paris"}}'
PARIS = [("get_weather", '{"city": "Paris"}')]
STOCK_FAILURES = {
    # id: (chunks, what stock qwen25 gives, what qwq gives)
    "no_newline_after_tag": (["<tool_call>", CALL, "</tool_call>"],
                             ("<tool_call>" + CALL, []), ("", PARIS)),
    "crlf_after_tag": (["<tool_call>\r\n", CALL, "\r\n</tool_call>"],
                       ("<tool_call>\r\n" + CALL + "\r", []), ("", PARIS)),
    "text_in_same_delta": (["Let me check.<tool_call>\n", CALL, "\n</tool_call>"],
                           ("", PARIS), ("Let me check.", PARIS)),
    "text_after_call": (["<tool_call>\n", CALL, "\n</tool_call>", "\nAnything else?"],
                        ("", PARIS), ("Anything else?", PARIS)),
    "whole_call_in_one_delta": (["<tool_call>\n" + CALL + "\n</tool_call>"],
                                ("", [("get_weather", "")]), ("", PARIS)),
    "tag_split_across_deltas": (["Hi <tool", "_call>\n", CALL, "\n</tool_call>"],
                                ("", PARIS), ("Hi", PARIS)),
    "partial_tag_at_end": (["Done <tool_ca"], ("", []), ("Done <tool_ca", [])),
    "unknown_tool_json_leak": (list('<tool_call>\n{"name": "get_time", "arguments": {"tz": "UTC"}}'
                                    "\n</tool_call>"),
                               (', "arguments": {"tz": "UTC"}}\n', []),
                               ("", [("get_time", '{"tz": "UTC"}')])),
}


@pytest.mark.parametrize("case", sorted(STOCK_FAILURES))
def test_stock_failure_fixed(case: str) -> None:
    chunks, stock, ours = STOCK_FAILURES[case]
    assert stream("qwen25", chunks, pad=False) == stock  # the bug, as SGLang 0.5.23 has it
    assert stream("qwq", chunks, pad=False) == ours


def _reason_then_tools(reasoning_parser: str, chunks: list[str]) -> tuple[str, str, list[Any]]:
    """serving_chat's order: the reasoning parser first, its normal text into the tool parser."""
    rp = ReasoningParser(reasoning_parser, True, True)
    reasoning, normal_parts = "", []
    for c in chunks:
        r, n = rp.parse_stream_chunk(c)
        reasoning += r or ""
        normal_parts.append(n or "")
    r, n = rp.parse_stream_end()
    reasoning += r or ""
    normal_parts.append(n or "")
    text, calls = stream("qwq", normal_parts)
    return reasoning, text, calls


def test_tool_call_mentioned_while_thinking() -> None:
    thought = ("Should I emit <tool_call>\n" + CALL + "\n</tool_call> now? No, first I answer.\n")
    chunks = [thought[:30], thought[30:], "</think>\n\nParis is sunny."]
    # qwen3 ends reasoning at the first <tool_call>: the drafted call gets executed.
    reasoning, text, calls = _reason_then_tools("qwen3", chunks)
    assert calls == PARIS
    assert reasoning == "Should I emit "
    # qwq: only </think> ends reasoning.
    reasoning, text, calls = _reason_then_tools("qwq", chunks)
    assert (reasoning, text, calls) == (thought.rstrip("\n"), "Paris is sunny.", [])


@pytest.mark.parametrize("stream_reasoning", [True, False])
def test_reasoning_detector(stream_reasoning: bool) -> None:
    text = "<think>Let me think. <think> is fine.</think>\n\nAnswer <tool_call>"
    for chunks in ([text], list(text), [text[:5], text[5:40], text[40:]]):
        rp = ReasoningParser("qwq", stream_reasoning, None)
        out = [rp.parse_stream_chunk(c) for c in chunks] + [rp.parse_stream_end()]
        assert "".join(r or "" for r, _ in out) == "Let me think. <think> is fine."
        assert "".join(n or "" for _, n in out) == "Answer <tool_call>"
    assert ReasoningParser("qwq", False, True).parse_non_stream("cut off <tool_call>") == (
        "cut off <tool_call>", "")
