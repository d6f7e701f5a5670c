"""The registered ``qwq`` ToolParser, run directly with vLLM's own classes (no server), under many
chunkings of real QwQ token deltas.

Layer 1 adapts vLLM's hermes parser tests (``tests/tool_parsers/test_hermes_tool_parser.py``: plain
text, a call between tags, a call cut off at EOS, invalid JSON, the #19056 regression, content and a
call in one chunk, two calls, stream intervals 1/2/3/5/8/9999) to ``qwq``: the tool parser alone,
fed post-reasoning text as vLLM feeds it, and checked the way vLLM's ``StreamingToolReconstructor``
checks (id, type and name exactly once, on a call's first delta; indexes in order; argument pieces
that concatenate to the call's JSON; content never inside a call).
Layer 2 runs whole QwQ transcripts (the golden real-world set in ``fixtures/qwq`` and the hermes
cases behind a think block) through vLLM's ``DelegatingParser`` exactly as the server composes it,
with each reasoning-parser setting (``deepseek_r1``, ``qwq``, none), streaming and not.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from qwq_tool_parser import parse
from vllm.entrypoints.openai.chat_completion.protocol import ChatCompletionRequest
from vllm.parser import ParserManager
from vllm.plugins import load_general_plugins
from vllm.tokenizers import get_tokenizer
from vllm.tool_parsers import ToolParserManager

from harness import qwen_tokenizer
from harness.tiny_model import build_model_dir
from harness.vllm_client import COOKBOOK_TOOLS
from tests.vllm._shared import FIXTURES, expected, final_message

INTERVALS = [1, 2, 3, 5, 8, 9999]
EOS = 151645
PROMPT = qwen_tokenizer.encode("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think>\n")
HERMES_CASES = {
    "no_tool_call": "This is a test response without any tool calls",
    "just_forward_text": "This is some prior text that has nothing to do with tool calling.",
    "tool_call_between_tags": '<tool_call>\n{"name": "get_current_weather", "arguments": '
                              '{"location": "Dallas", "format": "fahrenheit"}}\n</tool_call>',
    "tool_call_until_eos": '<tool_call>\n{"name": "get_current_weather", "arguments": '
                           '{"location": "Dallas", "format": "fahrenheit"}}',
    "invalid_json": '<tool_call>\n{"name": "get_current_weather", "arguments": {"location": '
                    '"Dallas", "format": "fahrenheit"\n</tool_call>',
    "streaming_temperature": '<tool_call>\n{"name": "get_current_temperature", "arguments": '
                             '{"location": "San Francisco, California, United States", '
                             '"unit": "celsius"}}\n</tool_call>',
    "bug_19056": '<tool_call>\n{"name": "final_answer", "arguments": {"trigger": true}}\n'
                 "</tool_call>",
    "content_and_call": 'Hello, I will check.\n<tool_call>\n{"name": "get_current_weather", '
                        '"arguments": {"location": "巴黎", "format": "celsius"}}\n</tool_call>',
    "two_calls": '<tool_call>\n{"name": "get_current_weather", "arguments": {"location": "A", '
                 '"format": "celsius"}}\n</tool_call>\n<tool_call>\n{"name": '
                 '"get_n_day_weather_forecast", "arguments": {"location": "B", "format": '
                 '"celsius", "num_days": 3}}\n</tool_call>',
    "nested_arguments": '<tool_call>\n{"name": "f", "arguments": {"a": {"b": [1, {"c": "}"}]}, '
                        '"d": "</tool_call>"}}\n</tool_call>',
    "content_then_call_no_newline": 'Sure, let me check the weather.<tool_call>{"name": '
                                    '"get_weather", "arguments": {"city": "NYC"}}</tool_call>',
    "adjacent_calls": '<tool_call>{"name": "search", "arguments": {"q": "cats"}}</tool_call>'
                      '<tool_call>{"name": "search", "arguments": {"q": "dogs"}}</tool_call>',
    "content_and_call_single_chunk": 'Hi!<tool_call>{"name": "f", "arguments": {"x": 1}}'
                                     "</tool_call>",
    "serialized_arguments": '<tool_call>\n{"name": "get_db_config", "arguments": '
                            '"{\\"param\\": \\"max_connections\\"}"}\n</tool_call>',
    "bare_string_arguments": '<tool_call>\n{"name": "do_thing", "arguments": "hello"}\n'
                             "</tool_call>",
}
# vLLM's newest hermes test (string-valued ``arguments``): streaming must return exactly what
# non-streaming returns, and valid JSON. qwq's rule: a string holding a JSON object is that
# object's text; any other string is no call, and the block stays content, on both paths.
STRING_ARGUMENTS = ['{"param": "max_connections"}', "hello", "{hello world}", "[oops",
                    '{"a": 1} tail text']


@pytest.fixture(scope="module")
def tokenizer() -> Any:
    load_general_plugins()  # our entry point registers "qwq", as in every vLLM process
    return get_tokenizer(str(build_model_dir()))


def request(**kw: Any) -> Any:
    return ChatCompletionRequest(model="qwq", messages=[{"role": "user", "content": "Hi"}],
                                 tools=COOKBOOK_TOOLS, **kw)


def deltas(text: str, n: int) -> list[tuple[str, list[int]]]:
    """Real QwQ token deltas, ``n`` tokens each, then vLLM's final EOS step (no text)."""
    ids = qwen_tokenizer.encode(text)
    texts = qwen_tokenizer.merged_deltas(text, n)
    return [(t, ids[i * n:(i + 1) * n]) for i, t in enumerate(texts)] + [("", [EOS])]


class Reconstructor:
    """vLLM's StreamingToolReconstructor checks, plus reasoning and content."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self.content = ""
        self.reasoning = ""

    def add(self, msg: Any) -> None:
        if msg is None:
            return
        self.content += msg.content or ""
        self.reasoning += msg.reasoning or ""
        for tc in msg.tool_calls:
            if tc.index == len(self.calls):
                assert tc.id and tc.type == "function" and tc.function.name, tc
                self.calls.append({"id": tc.id, "name": tc.function.name,
                                   "arguments": tc.function.arguments or ""})
            else:
                assert tc.index < len(self.calls), "indexes must be 0..n-1, in order"
                assert tc.id is None and tc.type is None and tc.function.name is None, tc
                self.calls[tc.index]["arguments"] += tc.function.arguments or ""
        assert len({c["id"] for c in self.calls}) == len(self.calls)

    def result(self) -> dict[str, Any]:
        return {"reasoning": self.reasoning or None, "content": self.content or None,
                "calls": [(c["name"], c["arguments"]) for c in self.calls]}


def _want_tool_only(text: str) -> dict[str, Any]:
    """What the tool parser alone (post-reasoning text) should give: the core, not in reasoning."""
    r = parse(text, start_in_reasoning=False)
    return {"reasoning": None, "content": r.content,
            "calls": [(c.name, c.arguments) for c in r.tool_calls]}


# -- layer 1: the ToolParser alone, as vLLM's hermes tests drive hermes -----------------------------

@pytest.mark.parametrize("name", HERMES_CASES)
def test_hermes_case_non_streaming(tokenizer: Any, name: str) -> None:
    text = HERMES_CASES[name]
    parser = ToolParserManager.get_tool_parser("qwq")(tokenizer, COOKBOOK_TOOLS)
    info = parser.extract_tool_calls(text, request())
    want = _want_tool_only(text)
    assert info.tools_called == bool(want["calls"])
    assert [(c.function.name, c.function.arguments) for c in info.tool_calls] == want["calls"]
    assert all(c.id.startswith("chatcmpl-tool-") and c.type == "function" for c in info.tool_calls)
    assert (info.content or None) == want["content"]
    for _, args in want["calls"]:
        assert isinstance(json.loads(args), dict)


def stream_tool_parser(parser: Any, text: str, interval: int) -> Reconstructor:
    """Feed ``text`` to the tool parser alone, ``interval`` tokens per delta, as vLLM does."""
    rec, previous, prev_ids, req = Reconstructor(), "", [], request()
    for delta, ids in deltas(text, interval):
        rec.add(parser.extract_tool_calls_streaming(previous, previous + delta, delta, prev_ids,
                                                    prev_ids + ids, ids, req))
        previous, prev_ids = previous + delta, prev_ids + ids
    rec.add(parser.finish_streaming())
    return rec


@pytest.mark.parametrize("interval", INTERVALS)
@pytest.mark.parametrize("name", HERMES_CASES)
def test_hermes_case_streaming(tokenizer: Any, name: str, interval: int) -> None:
    text = HERMES_CASES[name]
    parser = ToolParserManager.get_tool_parser("qwq")(tokenizer, COOKBOOK_TOOLS)
    rec = stream_tool_parser(parser, text, interval)
    want = expected(text, start_in_reasoning=False)
    assert rec.result() == {"reasoning": None, "content": want["content"],
                            "calls": want["streamed_calls"]}
    # vLLM <= 0.22 reads these to finish the stream: they must equal what was streamed
    assert [a["arguments"] for a in parser.prev_tool_call_arr] == parser.streamed_args_for_tool
    assert parser.get_remaining_unstreamed_args() == ""


@pytest.mark.parametrize("interval", [1, 2, 3, 5])
@pytest.mark.parametrize("value", STRING_ARGUMENTS)
def test_hermes_string_arguments_match_non_streaming(tokenizer: Any, value: str,
                                                     interval: int) -> None:
    text = "<tool_call>" + json.dumps({"name": "f", "arguments": value}) + "</tool_call>"
    cls = ToolParserManager.get_tool_parser("qwq")
    info = cls(tokenizer, COOKBOOK_TOOLS).extract_tool_calls(text, request())
    got = stream_tool_parser(cls(tokenizer, COOKBOOK_TOOLS), text, interval).result()
    assert got["calls"] == [(c.function.name, c.function.arguments) for c in info.tool_calls]
    assert got["content"] == (info.content or None)
    assert info.tools_called == (value == STRING_ARGUMENTS[0])  # only the serialized object
    for _, arguments in got["calls"]:
        assert json.loads(arguments) == json.loads(value)


# -- layer 2: whole transcripts through vLLM's DelegatingParser, per reasoning-parser setting ------

TRANSCRIPTS = {p.stem: p.read_text() for p in FIXTURES} | {
    f"hermes_{k}": f"Let me think.\n</think>\n\n{v}" for k, v in HERMES_CASES.items()}


def _parser(tokenizer: Any, reasoning_parser: str | None) -> Any:
    cls = ParserManager.get_parser(tool_parser_name="qwq", reasoning_parser_name=reasoning_parser,
                                   enable_auto_tools=True, tokenizer=tokenizer)
    return cls(tokenizer, COOKBOOK_TOOLS)


@pytest.mark.parametrize("interval", [1, 3, 9999])
@pytest.mark.parametrize("reasoning_parser", ["qwq", "deepseek_r1", None])
@pytest.mark.parametrize("name", TRANSCRIPTS)
def test_transcript_streaming(tokenizer: Any, name: str, reasoning_parser: str | None,
                              interval: int) -> None:
    text = TRANSCRIPTS[name]
    parser, rec, req = _parser(tokenizer, reasoning_parser), Reconstructor(), request()
    steps = deltas(text, interval)
    for k, (delta, ids) in enumerate(steps):
        rec.add(parser.parse_delta(delta, ids, req, PROMPT, finished=k == len(steps) - 1))
    assert rec.result() == final_message(text, stream=True, reasoning_parser=reasoning_parser)


@pytest.mark.parametrize("reasoning_parser", ["qwq", "deepseek_r1", None])
@pytest.mark.parametrize("name", TRANSCRIPTS)
def test_transcript_non_streaming(tokenizer: Any, name: str, reasoning_parser: str | None) -> None:
    text = TRANSCRIPTS[name]
    parser = _parser(tokenizer, reasoning_parser)
    parser.set_prompt_token_ids(PROMPT)
    reasoning, content, calls = parser.parse(text, request(), enable_auto_tools=True,
                                             model_output_token_ids=qwen_tokenizer.encode(text))
    want = final_message(text, stream=False, reasoning_parser=reasoning_parser)
    assert {"reasoning": reasoning or None, "content": content or None,
            "calls": [(c.name, c.arguments) for c in calls or []]} == want


def test_linear_time_through_delegating_parser(tokenizer: Any) -> None:
    """With both ``qwq`` parsers vLLM keeps no growing text: 4x the output costs ~4x the time."""
    import time

    def cost(n: int) -> float:
        parser, req = _parser(tokenizer, "qwq"), request()
        step = [("abcd", [1]), ] * n + [("</think>", [151668])] + [("xyzw ", [2])] * n
        t = time.perf_counter()
        for k, (d, ids) in enumerate(step):
            parser.parse_delta(d, ids, req, PROMPT, finished=k == len(step) - 1)
        return time.perf_counter() - t

    cost(2000)
    small, big = min(cost(4000) for _ in range(2)), min(cost(16000) for _ in range(2))
    assert big < 8 * small, (small, big)  # quadratic would be ~16x


def test_reasoning_token_count(tokenizer: Any) -> None:
    """usage.completion_tokens_details.reasoning_tokens: the tokens before ``</think>`` (QwQ's
    output has no ``<think>``, so ``deepseek_r1`` counts 0); vLLM may ask on every delta."""
    ids = qwen_tokenizer.encode(TRANSCRIPTS["cookbook_glasgow_5_days"]) + [EOS]
    end = ids.index(151668)
    parser = _parser(tokenizer, "qwq")
    assert [parser.count_reasoning_tokens(tuple(ids[:n])) for n in range(len(ids) + 1)] == [
        min(n, end) for n in range(len(ids) + 1)]
    assert _parser(tokenizer, "qwq").count_reasoning_tokens(ids) == end
    assert _parser(tokenizer, "deepseek_r1").count_reasoning_tokens(ids) == 0
