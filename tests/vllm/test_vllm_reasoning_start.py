"""Where reasoning starts, through the real ``vllm serve``: a Qwen3-style template (``--chat-template``)
whose prompts open, close or never open the think block, a prefilled assistant message, and the
Qwen3-2507 templates sent per request. Every case streams and not; both must give the same
reasoning, content and calls, equal to the expectation written here."""

from __future__ import annotations

import json
from typing import Any

import pytest

from harness.vllm_client import chat
from harness.vllm_server import VllmServer
from tests.qwen3_templates import QWEN3_TEMPLATES
from tests.vllm._shared import ServerPool, client_for

CALL = '<tool_call>\n{"name": "get_current_weather", "arguments": {"location": "Paris", "format": "celsius"}}\n</tool_call>'
PARIS = [("get_current_weather", {"location": "Paris", "format": "celsius"})]
USER = [{"role": "user", "content": "Weather in Paris?"}]
STREAM = pytest.mark.parametrize("stream", [True, False], ids=["stream", "nonstream"])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, servers: ServerPool) -> VllmServer:
    template = tmp_path_factory.mktemp("templates") / "qwen3_hybrid.jinja"
    template.write_text(QWEN3_TEMPLATES["hybrid"])
    args = ["--enable-auto-tool-choice", "--tool-call-parser", "qwq", "--reasoning-parser", "qwq",
            "--chat-template", str(template), "--trust-request-chat-template"]
    return servers.get(args)  # stops the previous module's server first


def ask(server: VllmServer, messages: list[dict[str, Any]], output: str, *, stream: bool,
        **body: Any) -> tuple[str | None, str | None, list[tuple[str, Any]], str | None]:
    reply = chat(client_for(server), messages, output, stream=stream, extra_body=body)
    calls = [(c.name, json.loads(c.arguments)) for c in reply.tool_calls]
    return reply.reasoning or None, reply.content, calls, reply.finish_reason


# id: (messages, request body, forced output, expected (reasoning, content, calls))
CASES: dict[str, tuple[list[dict[str, Any]], dict[str, Any], str, tuple[Any, ...]]] = {
    "qwen3_thinking_off": (  # the prompt ends <think>\n\n</think>\n\n: no think block in the output
        USER, {"chat_template_kwargs": {"enable_thinking": False}},
        f"I'll look it up.\n{CALL}", (None, "I'll look it up.", PARIS)),
    "qwen3_thinking_off_answer_only": (
        USER, {"chat_template_kwargs": {"enable_thinking": False}},
        "It is sunny in Paris.", (None, "It is sunny in Paris.", [])),
    "qwen3_thinking_on": (  # the prompt ends assistant\n; the model opens the block itself
        USER, {"chat_template_kwargs": {"enable_thinking": True}},
        f"<think>\nParis, celsius.\n</think>\n\n{CALL}", ("Paris, celsius.", None, PARIS)),
    "prefilled_closed_think": (
        [*USER, {"role": "assistant", "content": "<think>\nParis, celsius.\n</think>\n\n"}],
        {"continue_final_message": True, "add_generation_prompt": False},
        f"Checking.\n{CALL}", (None, "Checking.", PARIS)),
    "prefilled_open_think": (
        [*USER, {"role": "assistant", "content": "<think>\nThe user wants:"}],
        {"continue_final_message": True, "add_generation_prompt": False},
        f"Paris in celsius.\n</think>\n\n{CALL}", ("Paris in celsius.", None, PARIS)),
    "qwen3_2507_thinking": (  # the prompt opens the block: the output has only </think>
        USER, {"chat_template": QWEN3_TEMPLATES["thinking_2507"]},
        f"Paris, celsius.\n</think>\n\n{CALL}", ("Paris, celsius.", None, PARIS)),
    # A template that never opens a think block, no hint. Streaming reads the prompt; on vLLM 0.32
    # non-streaming the parser renders the request's template (it is given no prompt there).
    "qwen3_2507_instruct": (
        USER, {"chat_template": QWEN3_TEMPLATES["instruct_2507"]},
        f"Sure.\n{CALL}", (None, "Sure.", PARIS)),
    "qwen3_2507_instruct_answer_only": (
        USER, {"chat_template": QWEN3_TEMPLATES["instruct_2507"]},
        "It is sunny in Paris.", (None, "It is sunny in Paris.", [])),
}


@STREAM
@pytest.mark.parametrize("case", sorted(CASES))
def test_start_state_from_the_prompt(server: VllmServer, case: str, stream: bool) -> None:
    messages, body, output, (reasoning, content, calls) = CASES[case]
    got = ask(server, messages, output, stream=stream, **body)
    assert got == (reasoning, content, calls, "tool_calls" if calls else "stop")


@pytest.mark.parametrize(("prompt", "reasoning", "content"), [
    ("<|im_start|>assistant\n", None, "Sure."),
    ("<|im_start|>assistant\n<think>\n", "Sure.", None),
    ("<|im_start|>assistant\n<think>\n\n</think>\n\n", None, "Sure."),
])
def test_prompt_set_before_the_non_streaming_parse_decides(prompt: str, reasoning: str | None,
                                                           content: str | None) -> None:
    """vLLM 0.33's order (``set_prompt_token_ids``, then ``extract_reasoning``), on the parser class
    vLLM 0.32 loads; the request's hint (enable_thinking: true) loses to the prompt."""
    from transformers import AutoTokenizer
    from vllm.entrypoints.openai.chat_completion.protocol import ChatCompletionRequest

    from harness.tiny_model import build_model_dir
    from qwq_tool_parser.qwq_vllm import QwQReasoningParser

    tokenizer = AutoTokenizer.from_pretrained(str(build_model_dir()))
    parser = QwQReasoningParser(tokenizer, chat_template_kwargs={"enable_thinking": True})
    parser.set_prompt_token_ids(tokenizer.encode(prompt, add_special_tokens=False))
    request = ChatCompletionRequest(model="qwq", messages=USER)
    assert parser.extract_reasoning("Sure.", request) == (reasoning, content)
    assert parser.is_reasoning_end(tokenizer.encode(prompt, add_special_tokens=False)) is (
        reasoning is None)
