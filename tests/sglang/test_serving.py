"""The seed's flows through SGLang's real OpenAIServingChat, received by the real ``openai`` client.

Only the model is scripted (``harness.sglang_serving``): SGLang renders the prompt with the package's
QwQ template and the real QwQ tokenizer, and the scripted engine streams QwQ transcripts as cumulative
text per token, or per 4 tokens, or all at once (backlog coalescing). Expectations come from the
transcripts themselves, not from the parser.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import openai
import pytest

from harness.sglang_serving import Completion

WEATHER = {"type": "function", "function": {
    "name": "get_current_weather", "description": "Get the current weather",
    "parameters": {"type": "object", "properties": {
        "location": {"type": "string", "description": "The city and state, e.g. San Francisco, CA"},
        "format": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
        "required": ["location", "format"]}}}
FORECAST = {"type": "function", "function": {
    "name": "get_n_day_weather_forecast", "description": "Get an N-day weather forecast",
    "parameters": {"type": "object", "properties": {
        "location": {"type": "string"}, "format": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        "num_days": {"type": "integer"}}, "required": ["location", "format", "num_days"]}}}
TOOLS = [WEATHER, FORECAST]
SYSTEM = {"role": "system", "content": "Don't make assumptions about what values to plug into "
          "functions. Ask for clarification if a user request is ambiguous."}


def call(name: str, args: dict[str, Any]) -> str:
    return "<tool_call>\n" + json.dumps({"name": name, "arguments": args}) + "\n</tool_call>"


@dataclass
class Flow:
    messages: list[dict[str, Any]]
    reasoning: str
    content: str
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    tools: list[dict[str, Any]] | None = None

    @property
    def text(self) -> str:
        body = "\n".join(call(n, a) for n, a in self.calls)
        return self.reasoning + "</think>\n\n" + "\n\n".join(p for p in (self.content, body) if p)


GLASGOW = {"location": "Glasgow, Scotland", "format": "celsius", "num_days": 5}
FLOWS = {
    "single_turn": Flow([{"role": "user", "content": "What is 17 * 23?"}],
                        "Okay, 17 * 23: 17 * 20 = 340, plus 17 * 3 = 51, so 391.\n",
                        "17 × 23 = **391**."),
    "clarify": Flow([SYSTEM, {"role": "user", "content": "What's the weather like today"}],
                    "The user didn't say where. The instructions say to ask, so no "
                    "<tool_call> yet.\n", "Which city and country are you asking about?",
                    tools=TOOLS),
    "glasgow_5_days": Flow([SYSTEM, {"role": "user", "content": "what is the weather going to be "
                                     "like in Glasgow, Scotland over the next x days"},
                            {"role": "assistant", "content": "How many days?"},
                            {"role": "user", "content": "5 days"}],
                           "They want a 5-day forecast for Glasgow; celsius fits Scotland.\n", "",
                           [("get_n_day_weather_forecast", GLASGOW)], tools=TOOLS),
    "parallel": Flow([SYSTEM, {"role": "user", "content": "what is the weather going to be like "
                               "in San Francisco and Glasgow over the next 4 days"}],
                     "Two cities, 4 days each: two forecast calls.\n", "Checking both cities.",
                     [("get_n_day_weather_forecast", {"location": "San Francisco, CA",
                                                      "format": "fahrenheit", "num_days": 4}),
                      ("get_n_day_weather_forecast", {"location": "Glasgow, Scotland",
                                                      "format": "celsius", "num_days": 4})],
                     tools=TOOLS),
}


def client(base: str, label: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{base}/{label}/v1", api_key="x", max_retries=0)


def ask(base: str, script: Any, label: str, flow: Flow, *, stream: bool, separate: bool,
        merge: int = 1, text: str | None = None, **body: Any) -> dict[str, Any]:
    """One request (``body``: more request fields); returns what the client received, folded
    (streamed deltas reassembled)."""
    script.push(Completion(flow.text if text is None else text, merge=merge))
    kw: dict[str, Any] = {"model": "QwQ-32B", "messages": flow.messages, "stream": stream,
                          "extra_body": {"separate_reasoning": separate, **body}}
    if flow.tools:
        kw["tools"] = flow.tools
    resp = client(base, label).chat.completions.create(**kw)
    if not stream:
        msg = resp.choices[0].message
        return {"reasoning": getattr(msg, "reasoning_content", None) or "",
                "content": msg.content or "", "finish": resp.choices[0].finish_reason,
                "calls": [(c.id, c.function.name, c.function.arguments) for c in msg.tool_calls or []]}
    out: dict[str, Any] = {"reasoning": "", "content": "", "finish": None, "calls": {}}
    for chunk in resp:
        if not chunk.choices:
            continue
        ch = chunk.choices[0]
        d = ch.delta
        out["reasoning"] += getattr(d, "reasoning_content", None) or ""
        out["content"] += d.content or ""
        for tc in d.tool_calls or []:
            slot = out["calls"].setdefault(tc.index, [None, None, ""])
            if tc.id:
                assert slot[0] is None, "id sent once"
                slot[0] = tc.id
            if tc.function and tc.function.name:
                assert slot[1] is None, "name sent once"
                slot[1] = tc.function.name
            slot[2] += (tc.function.arguments or "") if tc.function else ""
        if ch.finish_reason:
            assert out["finish"] is None
            out["finish"] = ch.finish_reason
    assert sorted(out["calls"]) == list(range(len(out["calls"]))), "indexes 0..n-1"
    out["calls"] = [tuple(out["calls"][i]) for i in sorted(out["calls"])]
    return out


def check(got: dict[str, Any], flow: Flow, separate: bool) -> None:
    assert [(n, json.loads(a)) for _, n, a in got["calls"]] == flow.calls
    assert all(i and i.startswith("call_") for i, _, _ in got["calls"])
    assert len({i for i, _, _ in got["calls"]}) == len(flow.calls)
    assert got["finish"] == ("tool_calls" if flow.calls else "stop")
    if separate:
        # The "\n" before </think> is framing, not reasoning.
        assert (got["reasoning"], got["content"]) == (flow.reasoning.rstrip("\n"), flow.content)
    else:  # no split: the think block stays in content, as text
        assert got["reasoning"] == ""
        think = flow.reasoning + "</think>"
        expected = think + ("\n\n" + flow.content if flow.content else "")
        # Without a reasoning split the tool parser reads the think block as content, so the
        # "<tool_call>" that "clarify" mentions while thinking is a (malformed) block: text, kept
        # exactly, with the whitespace around it.
        assert got["content"] == (expected if flow.calls else flow.text)


MODES = {"stream_token": (True, 1), "stream_merged4": (True, 4), "stream_one_delta": (True, 10**4),
         "nonstream": (False, 1)}


@pytest.mark.parametrize("separate", [True, False], ids=["separate", "inline"])
@pytest.mark.parametrize("mode", sorted(MODES))
@pytest.mark.parametrize("flow", sorted(FLOWS))
def test_flow(server: Any, flow: str, mode: str, separate: bool) -> None:
    base, script = server
    stream, merge = MODES[mode]
    got = ask(base, script, "qwq", FLOWS[flow], stream=stream, separate=separate, merge=merge)
    check(got, FLOWS[flow], separate)


def test_multi_turn_history_goes_through_the_real_template(server: Any) -> None:
    base, script = server
    first = FLOWS["glasgow_5_days"]
    got = ask(base, script, "qwq", first, stream=True, separate=True)
    (call_id, name, args), = got["calls"]
    follow = Flow(first.messages + [
        {"role": "assistant", "content": "", "tool_calls": [
            {"id": call_id, "type": "function", "function": {"name": name, "arguments": args}}]},
        {"role": "tool", "tool_call_id": call_id, "content": "Rain all week, 8-11°C."}],
        "The tool says rain, 8-11°C.\n", "Expect rain all week in Glasgow, 8–11 °C.", tools=TOOLS)
    check(ask(base, script, "qwq", follow, stream=True, separate=True), follow, True)
    prompt = script.prompts[-1]
    assert call(name, json.loads(args)) in prompt  # the call was rendered back in QwQ's format
    assert "<tool_response>\nRain all week, 8-11°C.\n</tool_response>" in prompt
    assert prompt.endswith("<|im_start|>assistant\n<think>\n")


def test_stock_parsers_fail_where_qwq_does_not(server: Any) -> None:
    """The same two transcripts through stock qwen25 + qwen3 and through qwq + qwq."""
    base, script = server
    thinking = Flow([{"role": "user", "content": "weather?"}],
                    "I might answer with " + call("get_current_weather",
                                                  {"location": "Paris", "format": "celsius"})
                    + " but first I ask.\n", "Which city?", tools=TOOLS)
    stock = ask(base, script, "stock", thinking, stream=True, separate=True)
    assert stock["finish"] == "tool_calls"  # qwen3 ended reasoning at <tool_call>: call executed
    check(ask(base, script, "qwq", thinking, stream=True, separate=True), thinking, True)

    whole = FLOWS["glasgow_5_days"]  # whole answer in one delta after the reasoning
    text = whole.text
    stock = ask(base, script, "stock", whole, stream=True, separate=True, merge=10_000, text=text)
    assert [(n, a) for _, n, a in stock["calls"]] == [("get_n_day_weather_forecast", "")]
    check(ask(base, script, "qwq", whole, stream=True, separate=True, merge=10_000), whole, True)


def test_tool_parser_without_reasoning_parser(server: Any) -> None:
    """``--tool-call-parser qwq`` alone (the seed's launch line, with qwq instead of qwen25)."""
    base, script = server
    flow = FLOWS["parallel"]
    for stream in (True, False):
        check(ask(base, script, "qwq_tools_only", flow, stream=stream, separate=True), flow, False)
