"""The Qwen3-family fixtures through vLLM's real parser path (no server), both paths as vLLM 0.32's
``OpenAIServingChat`` drives them: the composed ``DelegatingParser`` built with the request's
effective chat template kwargs, streamed by ``parse_delta`` with the rendered prompt's token ids at
real token boundaries, and, non-streaming, ``set_prompt_token_ids`` (which 0.32's composed parser
drops) then ``parse``. The template is the model's own (the tokenizer's), or sent with the request
over a tokenizer that has QwQ's. With ``qwq`` as reasoning parser, and with the tool parser alone.
Each result must equal the fixture's expectation exactly."""

from __future__ import annotations

import json
from typing import Any

import pytest
from transformers import AutoTokenizer
from vllm.entrypoints.openai.chat_completion.protocol import ChatCompletionRequest
from vllm.parser import ParserManager
from vllm.plugins import load_general_plugins
from vllm.tokenizers.hf import get_cached_tokenizer

from harness import qwen_tokenizer
from harness.tiny_model import build_model_dir
from harness.vllm_client import COOKBOOK_TOOLS
from tests.qwen3_fixtures import FIXTURES, check, expected, render, template
from tests.vllm.test_vllm_parser_cases import EOS, Reconstructor, deltas

SOURCES = ["tokenizer", "request"]  # where the template is: the model's own, or the request's


@pytest.fixture(scope="module")
def tokenizers() -> dict[str, Any]:
    """A tokenizer per template name, that template as its own; "qwq": the tiny model's (QwQ's).
    Each is wrapped as vLLM wraps the served one."""
    load_general_plugins()
    out = {}
    for name, fixture in ({f["template"]: f for f in FIXTURES.values()} | {"qwq": None}).items():
        tokenizer = AutoTokenizer.from_pretrained(str(build_model_dir()))
        if fixture is not None:
            tokenizer.chat_template = template(fixture)
        out[name] = get_cached_tokenizer(tokenizer)
    return out


def _setup(tokenizers: dict[str, Any], name: str, source: str,
           reasoning_parser: str | None) -> tuple[Any, Any, list[int]]:
    """The request, the per-request parser as 0.32's serving code builds it, the prompt's ids."""
    fixture = FIXTURES[name]
    tokenizer = tokenizers[fixture["template"] if source == "tokenizer" else "qwq"]
    prefill = fixture["continue_final_message"]
    req = ChatCompletionRequest(
        model="qwq", messages=fixture["messages"], tools=COOKBOOK_TOOLS,
        chat_template_kwargs=fixture["chat_template_kwargs"], continue_final_message=prefill,
        add_generation_prompt=not prefill,
        chat_template=template(fixture) if source == "request" else None)
    kwargs = req.build_chat_params(None, "auto").chat_template_kwargs
    cls = ParserManager.get_parser(tool_parser_name="qwq", reasoning_parser_name=reasoning_parser,
                                   enable_auto_tools=True, tokenizer=tokenizer)
    parser = cls(tokenizer, req.tools, chat_template_kwargs=kwargs, model_config=None)
    return req, parser, qwen_tokenizer.encode(render(tokenizer, fixture))


def _message(reasoning: Any, content: Any, calls: Any) -> tuple[Any, Any, list[tuple[str, Any]]]:
    return reasoning or None, content or None, [(n, json.loads(a)) for n, a in calls]


@pytest.mark.parametrize("interval", [1, 9999])
@pytest.mark.parametrize("reasoning_parser", ["qwq", None])
@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_streaming(tokenizers: dict[str, Any], name: str, source: str,
                   reasoning_parser: str | None, interval: int) -> None:
    req, parser, prompt = _setup(tokenizers, name, source, reasoning_parser)
    rec, steps = Reconstructor(), deltas(FIXTURES[name]["output"], interval)
    for k, (delta, ids) in enumerate(steps):
        rec.add(parser.parse_delta(delta, ids, req, prompt, finished=k == len(steps) - 1))
    got = rec.result()
    check(FIXTURES[name], _message(got["reasoning"], got["content"], got["calls"]), stream=True,
          reasoning_parser=reasoning_parser)


@pytest.mark.parametrize("reasoning_parser", ["qwq", None])
@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_non_streaming(tokenizers: dict[str, Any], name: str, source: str,
                       reasoning_parser: str | None) -> None:
    req, parser, prompt = _setup(tokenizers, name, source, reasoning_parser)
    text = FIXTURES[name]["output"]
    parser.set_prompt_token_ids(prompt)
    reasoning, content, calls = parser.parse(text, req, enable_auto_tools=True,
                                             model_output_token_ids=qwen_tokenizer.encode(text))
    got = _message(reasoning, content, [(c.name, c.arguments) for c in calls or []])
    check(FIXTURES[name], got, stream=False, reasoning_parser=reasoning_parser)
    assert parser.count_reasoning_tokens(qwen_tokenizer.encode(text)) == (
        0 if reasoning_parser is None or expected(FIXTURES[name])[0] is None else
        qwen_tokenizer.encode(text).index(151668))
