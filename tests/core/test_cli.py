"""The ``qwq-tool-parser`` command: the one-shot message and the delta stream agree."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from harness.qwen_tokenizer import build_tokenizer_dir
from qwq_tool_parser.cli import main

PARALLEL = "fixtures/qwq/cookbook_parallel_sf_glasgow.txt"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert main(list(argv)) == 0
    return capsys.readouterr().out


def fold(lines: list[str]) -> dict[str, object]:
    """Assemble a delta stream the way an OpenAI client does."""
    message: dict[str, object] = {"reasoning_content": "", "content": "", "tool_calls": {}}
    calls: dict[int, dict[str, str]] = message["tool_calls"]  # type: ignore[assignment]
    finish = None
    for line in lines:
        chunk = json.loads(line)
        delta = chunk["delta"]
        finish = chunk.get("finish_reason", finish)
        for key in ("reasoning_content", "content"):
            message[key] = str(message[key]) + delta.get(key, "")
        for call in delta.get("tool_calls", []):
            if "id" in call:
                assert call["index"] not in calls and call["type"] == "function"
                calls[call["index"]] = {"id": call["id"], "name": call["function"]["name"],
                                        "arguments": ""}
            calls[call["index"]]["arguments"] += call["function"].get("arguments", "")
    message["finish_reason"] = finish
    return message


def test_parse_prints_the_openai_message(capsys: pytest.CaptureFixture[str]) -> None:
    message = json.loads(run(capsys, "parse", PARALLEL))
    assert message["content"] is None and message["reasoning_content"].startswith("The user asks")
    assert [c["id"] for c in message["tool_calls"]] == ["call_0", "call_1"]
    args = [json.loads(c["function"]["arguments"]) for c in message["tool_calls"]]
    assert args == [
        {"location": "San Francisco, CA", "format": "fahrenheit", "num_days": 4},
        {"location": "Glasgow, Scotland", "format": "celsius", "num_days": 4},
    ]


@pytest.mark.parametrize("chunk", ["1", "3", "1000"])
def test_stream_reassembles_to_the_parse(capsys: pytest.CaptureFixture[str], chunk: str) -> None:
    lines = run(capsys, "stream", PARALLEL, "--chunk", chunk).splitlines()
    message = json.loads(run(capsys, "parse", PARALLEL))
    folded = fold(lines)
    assert folded["finish_reason"] == "tool_calls"
    assert folded["reasoning_content"] == message["reasoning_content"]
    assert folded["content"] == ""
    calls = folded["tool_calls"]
    assert isinstance(calls, dict)
    assert [(c["name"], c["arguments"]) for c in calls.values()] == [
        (c["function"]["name"], c["function"]["arguments"]) for c in message["tool_calls"]]
    if chunk == "1":
        assert len(lines) > 100  # one delta per step, not one per response


def test_stream_by_real_tokens(capsys: pytest.CaptureFixture[str]) -> None:
    tokenizer = str(build_tokenizer_dir())
    lines = run(capsys, "stream", "fixtures/qwq/cjk_text_before_and_after.txt", "--chunk", "tokens",
                "--tokenizer", tokenizer).splitlines()
    folded = fold(lines)
    assert folded["content"] == "好的，我来查询一下。查询完成后我会告诉你结果 🌤️"
    assert len(folded["tool_calls"]) == 2  # type: ignore[arg-type]


def test_stream_of_a_plain_answer_finishes_with_stop(capsys: pytest.CaptureFixture[str]) -> None:
    folded = fold(run(capsys, "stream", "fixtures/qwq/cookbook_clarifying_question.txt").splitlines())
    assert folded["finish_reason"] == "stop" and str(folded["content"]).startswith("Sure! Could")


def test_console_script_reads_stdin_and_prints_the_template_path() -> None:
    exe = Path(sys.executable).with_name("qwq-tool-parser")
    text = Path("fixtures/qwq/cookbook_glasgow_5_days.txt").read_text(encoding="utf-8")
    out = subprocess.run([str(exe), "parse", "-"], input=text, capture_output=True, text=True,
                         check=True).stdout
    assert json.loads(out)["tool_calls"][0]["function"]["name"] == "get_n_day_weather_forecast"
    path = subprocess.run([str(exe), "template"], capture_output=True, text=True,
                          check=True).stdout.strip()
    assert Path(path).is_file() and "<tool_call>" in Path(path).read_text(encoding="utf-8")
