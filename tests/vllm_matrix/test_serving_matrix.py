"""The installed vLLM's own chat serving code, our parsers, the golden transcripts one QwQ token per
engine step: streamed and non-streamed replies equal ``parse()``, end of stream included.

``nox -s vllm_matrix`` runs this module once per vLLM version (0.10.2 ... 0.33.0). Where a version's
own serving code changes the reply, ``vllm_differs`` says so and the README's version table lists it.
"""

from __future__ import annotations

from typing import Any
from unittest.mock import ANY

import pytest
from qwq_tool_parser import parse

from harness.vllm_client import Reply
from tests.vllm._shared import FIXTURES, expected
from tests.vllm_matrix.serving import VERSION, load_tokenizer, run, serving_chat

STREAM = pytest.mark.parametrize("stream", [True, False], ids=["stream", "nonstream"])
CUT_OFF = "cut_off_by_max_tokens"  # the one transcript that ends at max_tokens, not at EOS


@pytest.fixture(scope="module")
def tokenizer() -> Any:
    return load_tokenizer()


@pytest.fixture(scope="module")
def serving() -> Any:
    return serving_chat(reasoning_parser="qwq")


def got(reply: Reply) -> dict[str, Any]:
    return {
        "reasoning": reply.reasoning or None,
        "content": reply.content or None,
        "calls": [(c.name, c.arguments) for c in reply.tool_calls],
        "finish_reason": reply.finish_reason,
    }


def want(text: str, *, stream: bool, finish: str) -> dict[str, Any]:
    exp = expected(text)
    calls = exp["streamed_calls"] if stream else exp["calls"]
    return {
        "reasoning": exp["reasoning"],
        "content": exp["content"],
        "calls": calls,
        "finish_reason": "tool_calls" if calls else finish,
    }


def vllm_differs(name: str, stream: bool, message: dict[str, Any]) -> dict[str, Any]:
    """vLLM's own end-of-stream behaviour on a length cut (README, "vLLM versions")."""
    if name == CUT_OFF and stream and VERSION < (0, 24):
        # No finish_streaming, and with a reasoning parser the tool parser may not see the output
        # reach max_tokens (0.20 passes only the tokens after the think block); vLLM <= 0.22 also
        # "completes" the cut call's arguments from prev_tool_call_arr. Measured: the reasoning,
        # the call's name and finish_reason hold; its arguments and the raw text vary by version.
        [(call, _)] = message["calls"]
        return {**message, "content": ANY, "calls": [(call, ANY)]}
    if name == CUT_OFF and stream and VERSION >= (0, 32):
        # 0.32+ report the length cut even when a call's name was streamed (0.29: tool_calls).
        return {**message, "finish_reason": "length"}
    return message


@STREAM
@pytest.mark.parametrize("path", FIXTURES, ids=[p.stem for p in FIXTURES])
def test_same_message_as_core_parse(serving: Any, tokenizer: Any, stream: bool, path: Any) -> None:
    text = path.read_text()
    finish = "length" if path.stem == CUT_OFF else "stop"
    reply = run(serving, tokenizer, text, stream=stream, finish=finish)
    assert got(reply) == vllm_differs(path.stem, stream, want(text, stream=stream, finish=finish))


@pytest.mark.parametrize(
    "text",
    [
        "Thinking.\n</think>\n\nThe answer is x <",
        "Thinking.\n</think>\n\nLine one.\n",
        "Thinking.\n</think>\n\nAbout to call <tool",
        "Still thinking, 3 <",
    ],
    ids=["content_lt", "content_newline", "content_partial_tag", "unclosed_think_lt"],
)
def test_end_of_stream_flushes_what_the_core_held_back(
    serving: Any, tokenizer: Any, text: str
) -> None:
    """The core holds these endings back until it knows they are not a tag; the EOS step ends the
    stream, and every character arrives (0.24+: ``finish_streaming``; before: the EOS token id)."""
    streamed = got(run(serving, tokenizer, text, stream=True))
    assert streamed == got(run(serving, tokenizer, text, stream=False))
    result = parse(text)
    assert (streamed["reasoning"], streamed["content"]) == (result.reasoning, result.content or None)


def test_default_request_gets_every_parallel_call(serving: Any, tokenizer: Any) -> None:
    """vLLM 0.10-0.11 default ``parallel_tool_calls`` to False; a client that did not set it still
    gets both calls."""
    text = (FIXTURES[0].parent / "cookbook_parallel_sf_glasgow.txt").read_text()
    for stream in (True, False):
        reply = run(serving, tokenizer, text, stream=stream)
        assert [c.name for c in reply.tool_calls] == ["get_n_day_weather_forecast"] * 2
        assert reply.content is None


@STREAM
def test_parallel_tool_calls_false_keeps_the_core_rule(
    serving: Any, tokenizer: Any, stream: bool
) -> None:
    """Set by the client, it is honoured: the second call stays text (no grammar runs here)."""
    text = (FIXTURES[0].parent / "cookbook_parallel_sf_glasgow.txt").read_text()
    reply = run(serving, tokenizer, text, stream=stream, parallel_tool_calls=False)
    result = parse(text, parallel_tool_calls=False)
    assert [(c.name, c.arguments) for c in reply.tool_calls] == [
        (c.name, c.arguments) for c in result.tool_calls
    ]
    assert len(reply.tool_calls) == 1 and (reply.content or None) == (result.content or None)
