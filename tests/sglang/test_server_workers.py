"""``python -m sglang.launch_server ... --tokenizer-worker-num 2`` with
``SGLANG_HTTP_SERVER_APP_PATH=qwq_tool_parser.qwq_sglang:app``, as the README documents: SGLang's
HTTP worker processes do not run ``load_plugins()``, and this app path registers ``qwq`` in each.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from typing import Any

import pytest
from qwq_tool_parser import parse

from harness.conversation_scripts import reply_to
from harness.sglang_server import PARSERS, SGLangServer
from harness.vllm_client import COOKBOOK_TOOLS
from tests.sglang._server import (
    USER,
    ask,
    check_kernel_stub,
    check_parity,
    client_for,
    concurrently,
    result,
    serve,
)
from tests.vllm._shared import transcript

APP = "qwq_tool_parser.qwq_sglang:app"
PARALLEL = transcript("cookbook_parallel_sf_glasgow")


@pytest.fixture(scope="module")
def server() -> Iterator[SGLangServer]:
    # uvicorn restarts a worker not up after SGLANG_UVICORN_WORKER_HEALTHCHECK_TIMEOUT (10 s);
    # importing SGLang's app takes longer than that on a busy 2-core machine.
    env = {"SGLANG_HTTP_SERVER_APP_PATH": APP, "SGLANG_UVICORN_WORKER_HEALTHCHECK_TIMEOUT": "300"}
    with serve([*PARSERS, "--tokenizer-worker-num", "2"], env, launcher="launch_server") as s:
        yield s


def test_launch_server_with_two_tokenizer_workers(server: SGLangServer) -> None:
    assert server.command()[1:3] == ["-m", "sglang.launch_server"]
    assert server.environment()["SGLANG_HTTP_SERVER_APP_PATH"] == APP


@pytest.mark.parametrize("stream", [True, False], ids=["stream", "nonstream"])
def test_concurrent_parallel_calls_through_the_workers(server: SGLangServer, stream: bool) -> None:
    """8 concurrent requests through the HTTP workers; each reply is ``parse()`` of its script."""

    client = client_for(server)
    got = concurrently({str(i): functools.partial(ask, client, USER, PARALLEL, stream=stream)
                        for i in range(8)})
    for reply in got.values():
        check_parity(result(reply), PARALLEL, stream=stream)


# -- /v1/messages (Anthropic) and /v1/responses: scripted by the conversation ------------------
# These endpoints build their engine requests without a custom logit processor, so the script
# comes from the conversation (``harness.sglang_conversation_model``): the tutorial's table.

QUESTIONS = [
    "What's the weather like today",  # a clarifying question, no call
    "what is the weather going to be like in San Francisco and Glasgow over the next 4 days",
]


def _want(question: str) -> tuple[str | None, str | None, list[tuple[str, Any]]]:
    r = parse(reply_to(question))
    return (r.reasoning or None, r.content or None,
            [(c.name, json.loads(c.arguments)) for c in r.tool_calls])


RESPONSES_TOOLS = [{"type": "function", **t["function"]} for t in COOKBOOK_TOOLS]
ANTHROPIC_TOOLS = [{"name": t["function"]["name"], "description": t["function"]["description"],
                    "input_schema": t["function"]["parameters"]} for t in COOKBOOK_TOOLS]


def _anthropic_message(msg: Any) -> tuple[str | None, str | None, list[tuple[str, Any]]]:
    kinds = [b.type for b in msg.content]
    assert kinds == sorted(kinds, key=["thinking", "text", "tool_use"].index), kinds
    thinking = "".join(b.thinking for b in msg.content if b.type == "thinking") or None
    text = "".join(b.text for b in msg.content if b.type == "text") or None
    return thinking, text, [(b.name, b.input) for b in msg.content if b.type == "tool_use"]


def _anthropic(server: SGLangServer, question: str, stream: bool) -> Any:
    import anthropic

    client = anthropic.Anthropic(base_url=server.base_url.removesuffix("/v1"), api_key="-",
                                 max_retries=0, timeout=300)
    kw: dict[str, Any] = {"model": "qwq", "max_tokens": 1024, "tools": ANTHROPIC_TOOLS,
                          "messages": [{"role": "user", "content": question}]}
    if not stream:
        return client.messages.create(**kw)
    with client.messages.stream(**kw) as events:  # the SDK rebuilds the content blocks
        return events.get_final_message()


def _responses(server: SGLangServer, question: str, stream: bool) -> Any:
    client = client_for(server)
    kw: dict[str, Any] = {"model": "qwq", "input": question, "tools": RESPONSES_TOOLS}
    if not stream:
        return client.responses.create(**kw)
    with client.responses.stream(**kw) as events:  # the SDK's event accumulator
        return events.get_final_response()


@pytest.fixture(scope="module")
def endpoint_replies(server: SGLangServer) -> dict[str, Any]:
    return concurrently({f"{name}-{q}-{s}": functools.partial(fn, server, q, s)
                         for name, fn in (("messages", _anthropic), ("responses", _responses))
                         for q in QUESTIONS for s in (True, False)})


STREAM = pytest.mark.parametrize("stream", [True, False], ids=["stream", "nonstream"])
QUESTION = pytest.mark.parametrize("question", QUESTIONS, ids=["clarify", "parallel"])


@STREAM
@QUESTION
def test_anthropic_messages(endpoint_replies: dict[str, Any], question: str, stream: bool) -> None:
    """The thinking, text and tool_use blocks are ``parse()``'s reasoning, content and calls."""
    msg = result(endpoint_replies[f"messages-{question}-{stream}"])
    want = _want(question)
    assert _anthropic_message(msg) == want
    assert msg.stop_reason == ("tool_use" if want[2] else "end_turn")
    assert len({b.id for b in msg.content if b.type == "tool_use"}) == len(want[2])


def _responses_output(resp: Any) -> tuple[str | None, str | None, list[tuple[str, Any]]]:
    reasoning = "".join(c.text for i in resp.output if i.type == "reasoning"
                        for c in (i.content or [])) or None
    text = "".join(c.text for i in resp.output if i.type == "message" for c in i.content
                   if c.type == "output_text") or None
    calls = [(i.name, json.loads(i.arguments)) for i in resp.output if i.type == "function_call"]
    return reasoning, text, calls


@STREAM
@QUESTION
def test_responses(endpoint_replies: dict[str, Any], question: str, stream: bool) -> None:
    """Reasoning, message and function_call items are ``parse()``'s reasoning, content, calls."""
    resp = result(endpoint_replies[f"responses-{question}-{stream}"])
    assert _responses_output(resp) == _want(question)


def test_kernel_stub_imported_and_never_called(server: SGLangServer) -> None:
    """After all of this module's traffic (``serve()`` checks again when the server stops)."""
    check_kernel_stub(server)
