"""Wire-exact streaming through SGLang 0.5.23's real chat serving (issue 9).

Each example is a QwQ output (generated, or one of the issue's cases), possibly cut off
(``finish_reason`` "length"), replayed by the scripted engine at real QwQ token boundaries (1..8
tokens per step) through SGLang's own ``OpenAIServingChat`` with the ``qwq`` detectors, streamed
and not. The SSE chunks are merged as openai-python does (``tests.wire.rebuild``, which checks
the streaming contract) and must equal the non-streaming response, ``finish_reason`` included,
except the documented truncation case.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from hypothesis import given, settings

from harness import qwen_tokenizer
from harness.sglang_serving import Completion
from tests.sglang.test_serving import TOOLS
from tests.wire.cases import ISSUE_TEXTS, WireStream, check_wire, wire_streams
from tests.wire.rebuild import Message, chat_response, chat_stream, sse_events

LABELS = {"qwq": False, "qwq_whole": True}  # server label -> whole-call mode (no exception to equality)


def ask(server: Any, label: str, text: str, deltas: list[str] | None, *, stream: bool,
        cut: bool) -> Message:
    base, script = server
    script.push(Completion(text, deltas=deltas, finish="length" if cut else "stop"))
    body = {"model": "QwQ-32B", "messages": [{"role": "user", "content": "Weather?"}],
            "tools": TOOLS, "stream": stream}
    url = f"{base}/{label}/v1/chat/completions"
    if not stream:
        return chat_response(httpx.post(url, json=body, timeout=60).raise_for_status().json())
    with httpx.stream("POST", url, json=body, timeout=60) as resp:
        return chat_stream(sse_events(resp.raise_for_status().read().decode()))


def check(server: Any, label: str, text: str, deltas: list[str] | None, cut: bool) -> None:
    full = ask(server, label, text, None, stream=False, cut=cut)
    streamed = ask(server, label, text, deltas, stream=True, cut=cut)
    check_wire(streamed, full, exact=LABELS[label])


@pytest.mark.parametrize("cut", [False, True], ids=["eos", "max_tokens"])
@pytest.mark.parametrize("name", ISSUE_TEXTS)
@pytest.mark.parametrize("label", LABELS)
def test_issue_cases(server: Any, label: str, name: str, cut: bool) -> None:
    text = ISSUE_TEXTS[name]
    check(server, label, text, qwen_tokenizer.token_deltas(text), cut)


@settings(max_examples=25)
@given(example=wire_streams())
@pytest.mark.parametrize("label", LABELS)
def test_stream_rebuilds_to_the_response(server: Any, label: str, example: WireStream) -> None:
    check(server, label, example.text, [d for d, _ in example.steps] or None, example.cut)
