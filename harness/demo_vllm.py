"""Main job: a real ``vllm serve`` with ``--tool-call-parser qwq --reasoning-parser qwq``, driven by
the ``openai`` client through the OpenAI cookbook's weather conversation, printed as a user sees it.

The model is a tiny random-weight Qwen2 with QwQ-32B's tokenizer and chat template, whose output is
forced, turn by turn, to a QwQ-32B-style transcript (``fixtures/qwq``); everything after the model
(vLLM's serving code, our plugin, the HTTP stream, the client) is the real thing. Tool calls are
executed by local stand-in weather functions, and their results go back as ``tool`` messages.

    nox -s demo                       # or: python -m harness.demo_vllm [--no-stream]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

import openai

from harness.vllm_client import COOKBOOK_TOOLS, Reply, chat
from harness.vllm_server import VllmServer
from harness.tiny_model import ROOT

SERVE_ARGS = ["--enable-auto-tool-choice", "--tool-call-parser", "qwq", "--reasoning-parser", "qwq"]
SYSTEM = ("Don't make assumptions about what values to plug into functions. "
          "Ask for clarification if a user request is ambiguous.")


def _fixture(name: str) -> str:
    return (ROOT / "fixtures" / "qwq" / f"{name}.txt").read_text()


def get_current_weather(location: str, format: str) -> dict[str, Any]:
    return {"location": location, "temperature": 14 if format == "celsius" else 57,
            "unit": format, "sky": "light rain"}


def get_n_day_weather_forecast(location: str, format: str, num_days: int) -> dict[str, Any]:
    return {"location": location, "unit": format,
            "days": [{"day": d + 1, "high": (60 if format == "fahrenheit" else 15) + d % 3,
                      "sky": "showers"} for d in range(num_days)]}


FUNCTIONS = {"get_current_weather": get_current_weather,
             "get_n_day_weather_forecast": get_n_day_weather_forecast}

# (what the user says, or None for "send the tool results back", what the model writes)
CONVERSATION: list[tuple[str | None, str]] = [
    ("What's the weather like today", _fixture("cookbook_clarifying_question")),
    ("I'm in Glasgow, Scotland.", _fixture("cookbook_current_weather_glasgow")),
    (None, "I got the current weather for Glasgow: 14 degrees Celsius with light rain.\n</think>\n\n"
           "It's currently 14 °C in Glasgow, Scotland, with light rain. Take an umbrella!"),
    ("what is the weather going to be like in Glasgow, Scotland over the next 5 days",
     _fixture("cookbook_glasgow_5_days")),
    (None, "Five days of forecast: highs of 15-17 °C with showers.\n</think>\n\n"
           "Over the next 5 days Glasgow will see highs of 15-17 °C with showers every day."),
    ("what is the weather going to be like in San Francisco and Glasgow over the next 4 days",
     _fixture("cookbook_parallel_sf_glasgow")),
    (None, "I have both forecasts.\n</think>\n\nBoth cities get showers over the next 4 days: "
           "San Francisco with highs of 60-62 °F, Glasgow with highs of 15-17 °C."),
]


def _show(reply: Reply, stream: bool) -> None:
    if reply.reasoning:
        print("  reasoning  │ " + reply.reasoning.rstrip("\n").replace("\n", "\n             │ "))
    if reply.content:
        print("  assistant  │ " + reply.content.replace("\n", "\n             │ "))
    for call in reply.tool_calls:
        print(f"  tool call  │ [{call.index}] {call.name}({call.arguments})  id={call.id}")
    print(f"  finish     │ {reply.finish_reason}"
          + (f"   ({reply.chunks} streamed chunks)" if stream else ""))


def play(base_url: str, stream: bool) -> None:
    client = openai.OpenAI(base_url=base_url, api_key="-", max_retries=0, timeout=120)
    messages: list[dict[str, Any]] = [{"role": "system", "content": SYSTEM}]
    pending: list[Any] = []
    for said, script in CONVERSATION:
        if said is None:
            for call in pending:
                result = FUNCTIONS[call.name](**json.loads(call.arguments))
                print(f"\n» tool result for {call.name} ({call.id[:22]}…): {json.dumps(result)[:90]}")
                messages.append({"role": "tool", "tool_call_id": call.id,
                                 "content": json.dumps(result)})
        else:
            print(f"\n» user: {said}")
            messages.append({"role": "user", "content": said})
        reply = chat(client, messages, script, stream=stream, tools=COOKBOOK_TOOLS)
        _show(reply, stream)
        messages.append(reply.as_message())
        pending = reply.tool_calls


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--no-stream", action="store_true", help="use non-streaming requests")
    args = ap.parse_args(argv)
    print("Starting: vllm serve <tiny QwQ-format model> " + " ".join(SERVE_ARGS))
    t0 = time.monotonic()
    with VllmServer(SERVE_ARGS) as server:
        print(f"Server up at {server.base_url} after {time.monotonic() - t0:.0f} s "
              f"(plugin loaded through its entry point; no --tool-parser-plugin)")
        play(server.base_url, stream=not args.no_stream)
        print("\nStopping the server.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
