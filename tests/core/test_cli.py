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


def test_whole_calls_stream_each_call_in_one_delta(capsys: pytest.CaptureFixture[str]) -> None:
    lines = run(capsys, "stream", PARALLEL, "--chunk", "1", "--whole-calls").splitlines()
    with_calls = [json.loads(line)["delta"]["tool_calls"] for line in lines
                  if "tool_calls" in json.loads(line)["delta"]]
    message = json.loads(run(capsys, "parse", PARALLEL))
    assert [call for delta in with_calls for call in delta] == [
        {"index": n, "id": c["id"], "type": "function", "function": c["function"]}
        for n, c in enumerate(message["tool_calls"])]
    assert all(len(delta) == 1 for delta in with_calls)


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


def _cli(*argv: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    exe = Path(sys.executable).with_name("qwq-tool-parser")
    return subprocess.run([str(exe), *argv], input=stdin, capture_output=True, check=False)


@pytest.mark.parametrize(("argv", "status"), [
    (["parse", "no/such/file.txt"], 3),
    (["parse", "fixtures"], 3),
    (["stream", PARALLEL, "--chunk", "abc"], 2),
    (["stream", PARALLEL, "--chunk", "0"], 2),
    (["stream", PARALLEL, "--chunk", "tokens"], 2),
    (["parse", PARALLEL, "--nope"], 2),
])
def test_bad_input_is_one_line_and_a_distinct_status(argv: list[str], status: int) -> None:
    done = _cli(*argv)
    assert done.returncode == status and done.stdout == b""
    lines = done.stderr.decode().splitlines()
    assert len(lines) == 1 and lines[0].startswith("qwq-tool-parser: error: "), lines


def test_invalid_utf8_and_bom_read_the_same_from_a_file_and_stdin(tmp_path: Path) -> None:
    text = Path(PARALLEL).read_bytes()
    for data, status in [(b"r</think>ok \xff\xfe", 4), (b"\xef\xbb\xbf<think>r</think>ok", 0),
                         (b"\xef\xbb\xbf" + text, 0)]:
        path = tmp_path / "input.txt"
        path.write_bytes(data)
        from_file, from_stdin = _cli("parse", str(path)), _cli("parse", "-", stdin=data)
        assert from_file.returncode == from_stdin.returncode == status
        assert from_file.stdout == from_stdin.stdout
        if status:
            assert b"not valid UTF-8" in from_file.stderr and len(from_file.stderr.splitlines()) == 1
        else:
            message = json.loads(from_file.stdout)
            assert message["reasoning_content"] is not None  # the <think> after the BOM is markup
            assert message["content"] != "\ufeff"


def test_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    exe = Path(sys.executable).with_name("qwq-tool-parser")
    big = tmp_path / "big.txt"
    big.write_text("r</think>" + "word " * 200_000, encoding="utf-8")
    with subprocess.Popen([str(exe), "stream", str(big), "--chunk", "1"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.readline()
        proc.stdout.close()
        err = proc.stderr.read()
        assert proc.wait() == 0 and err == b"", err


def test_a_lone_surrogate_never_reaches_the_output() -> None:
    for block in ['{"name": "\\ud800"}', '{"name": "f", "arguments": "{\\"a\\": \\"\\\\udc00\\"}"}',
                  '{"name": "f", "arguments": {"a": "\\ud800"}}']:
        data = f"r</think><tool_call>{block}</tool_call>".encode()
        for command in ("parse", "stream"):
            done = _cli(command, "-", stdin=data)
            assert done.returncode == 0 and done.stderr.count(b"\n") <= 1  # the malformed note
            assert done.stdout.decode("utf-8")  # encodable: no raw surrogate anywhere
        assert json.loads(_cli("parse", "-", stdin=data).stdout)["tool_calls"] == []
