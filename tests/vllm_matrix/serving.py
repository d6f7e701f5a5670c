"""Drive the installed vLLM's own ``OpenAIServingChat`` with a scripted model output.

Strategy: vLLM 0.10-0.33 moved and re-signed everything around chat serving, so this module looks
things up by what the installed version has rather than by version number. The serving object is
built by its real ``__init__`` (which resolves ``qwq`` through vLLM's own parser managers); its real
``chat_completion_stream_generator`` / ``chat_completion_full_generator`` consume an async stream of
real ``RequestOutput`` objects, one QwQ token per output, as the engine client's ``generate()``
yields them (``RequestOutputKind.DELTA``): the end-of-sequence token arrives last with empty text,
or the last token carries ``finish_reason="length"``. Only the model output is scripted; the
engine client and model config are plain objects carrying the configuration the serving code
reads. Where ``create_chat_completion`` builds the per-request parser before handing it to the
generator (0.20+), :func:`_request_parser` builds it the same way. Streams are rebuilt through the
``openai`` client's chunk model (``harness.vllm_client.assemble``), so the wire contract is checked.
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
import inspect
import json
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import vllm
from openai.types.chat import ChatCompletion, ChatCompletionChunk
from vllm.outputs import CompletionOutput, RequestOutput

from harness.qwen_tokenizer import build_tokenizer_dir, encode, token_deltas
from harness.vllm_client import COOKBOOK_TOOLS, Reply, assemble, reply_of

EOS_ID = 151645  # <|im_end|>
MODEL = "qwq"
USER = [{"role": "user", "content": "What's the weather like?"}]
QWQ_PROMPT = "<|im_start|>user\nWhat's the weather like?<|im_end|>\n<|im_start|>assistant\n<think>\n"
VERSION = tuple(int(p) for p in vllm.__version__.split("+")[0].split(".")[:2])


def _first_module(*names: str) -> Any:
    """The first of ``names`` this vLLM has (a missing dependency is reported, not skipped)."""
    for name in names:
        parent = name.rpartition(".")[0]
        if importlib.util.find_spec(parent) is not None and importlib.util.find_spec(name):
            return importlib.import_module(name)
    raise ImportError(f"none of {names}")


_SERVING = _first_module(
    "vllm.entrypoints.openai.chat_completion.serving",  # >= 0.15
    "vllm.entrypoints.openai.serving_chat",  # <= 0.14
)
_PROTOCOL = _first_module(
    "vllm.entrypoints.openai.chat_completion.protocol",  # >= 0.15
    "vllm.entrypoints.openai.protocol",  # <= 0.14
)
OpenAIServingChat: Any = _SERVING.OpenAIServingChat
ChatCompletionRequest: Any = _PROTOCOL.ChatCompletionRequest
RequestResponseMetadata: Any = getattr(_SERVING, "RequestResponseMetadata", None) or getattr(
    _first_module("vllm.entrypoints.openai.engine.protocol", "vllm.entrypoints.openai.protocol"),
    "RequestResponseMetadata",
)


def load_tokenizer() -> Any:
    """The real QwQ tokenizer as the serving code gets it (a transformers fast tokenizer)."""
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(build_tokenizer_dir()))


class _ModelConfig(SimpleNamespace):
    """The model configuration the chat serving code reads (a tiny Qwen2 served as ``qwq``)."""

    def __init__(self) -> None:
        super().__init__(
            model=MODEL,
            served_model_name=MODEL,
            max_model_len=4096,
            hf_config=SimpleNamespace(model_type="qwen2", architectures=["Qwen2ForCausalLM"]),
            hf_text_config=SimpleNamespace(model_type="qwen2"),
            generation_config="auto",
            override_generation_config={},
            logits_processor_pattern=None,
            allowed_local_media_path="",
            allowed_media_domains=None,
            skip_tokenizer_init=False,
            tokenizer=MODEL,
            trust_remote_code=False,
            multimodal_config=None,
            runner_type="generate",
            is_multimodal_model=False,
            enable_return_routed_experts=False,
            io_processor_plugin=None,
            logits_processors=None,
        )

    def get_diff_sampling_param(self) -> dict[str, Any]:
        return {}


def _outputs(text: str, finish: str) -> list[tuple[str, list[int], str | None]]:
    """One (delta_text, delta_token_ids, finish_reason) per engine step."""
    ids, texts = encode(text), token_deltas(text)
    steps: list[tuple[str, list[int], str | None]] = [(t, [i], None) for t, i in zip(texts, ids)]
    if finish == "stop":
        steps.append(("", [EOS_ID], "stop"))
    else:
        last_text, last_ids, _ = steps[-1]
        steps[-1] = (last_text, last_ids, "length")
    return steps


def _kwargs(fn: Any, available: dict[str, Any]) -> dict[str, Any]:
    params = inspect.signature(fn).parameters
    return {k: v for k, v in available.items() if k in params}


def _request_output(request_id: str, prompt_ids: list[int], step: Any) -> Any:
    text, ids, finish = step
    out = CompletionOutput(
        **_kwargs(
            CompletionOutput,
            {
                "index": 0,
                "text": text,
                "token_ids": ids,
                "cumulative_logprob": None,
                "logprobs": None,
                "finish_reason": finish,
                "stop_reason": None,
            },
        )
    )
    return RequestOutput(
        **_kwargs(
            RequestOutput,
            {
                "request_id": request_id,
                "prompt": None,
                "prompt_token_ids": prompt_ids,
                "prompt_logprobs": None,
                "outputs": [out],
                "finished": finish is not None,
                "num_cached_tokens": 0,
            },
        )
    )


class ScriptedEngine:
    """The engine client: configuration, and a ``generate()`` that yields the scripted output."""

    def __init__(self) -> None:
        self.model_config = _ModelConfig()
        self.vllm_config = SimpleNamespace(model_config=self.model_config)
        self.errored = False
        self.dead_error = RuntimeError("engine dead")
        self.renderer = SimpleNamespace(tokenizer=None)
        self.input_processor = SimpleNamespace(tokenizer=None)
        self.io_processor = None

    async def generate(
        self, text: str, finish: str, prompt_ids: list[int], *, stream: bool
    ) -> AsyncIterator[Any]:
        """``RequestOutputKind.DELTA`` for a stream (one output per step), ``FINAL_ONLY`` else."""
        steps = _outputs(text, finish)
        if not stream:
            ids = [i for _, step_ids, _ in steps for i in step_ids]
            steps = [("".join(t for t, _, _ in steps), ids, steps[-1][2])]
        for step in steps:
            yield _request_output("chatcmpl-matrix", prompt_ids, step)
            await asyncio.sleep(0)


def _models(engine: Any) -> Any:
    return SimpleNamespace(
        model_config=engine.model_config,
        input_processor=engine.input_processor,
        io_processor=engine.io_processor,
        renderer=engine.renderer,
        model_name=lambda lora_request=None: MODEL,
        base_model_paths=[SimpleNamespace(name=MODEL, model_path=MODEL)],
        is_base_model=lambda name: name == MODEL,
        lora_requests={},
    )


def serving_chat(*, reasoning_parser: str | None = "qwq", tool_parser: str = "qwq") -> Any:
    """vLLM's ``OpenAIServingChat`` as ``vllm serve --enable-auto-tool-choice`` builds it."""
    engine = ScriptedEngine()
    available = {
        "engine_client": engine,
        "model_config": engine.model_config,
        "models": _models(engine),
        "response_role": "assistant",
        "request_logger": None,
        "chat_template": None,
        "chat_template_content_format": "auto",
        "reasoning_parser": reasoning_parser or "",
        "enable_auto_tools": True,
        "tool_parser": tool_parser,
        "online_renderer": None,
        "openai_serving_render": None,
    }
    return OpenAIServingChat(**_kwargs(OpenAIServingChat.__init__, available))


def request(*, stream: bool, max_tokens: int | None = None, **fields: Any) -> Any:
    body: dict[str, Any] = {
        "model": MODEL,
        "messages": USER,
        "tools": COOKBOOK_TOOLS,
        "stream": stream,
        **fields,
    }
    if max_tokens is not None:
        body["max_tokens"] = max_tokens
    if stream:
        body.setdefault("stream_options", {"include_usage": False})
    return ChatCompletionRequest(**body)


def _request_parser(serving: Any, tokenizer: Any, req: Any, chat_kwargs: dict[str, Any]) -> Any:
    """The per-request parser that ``create_chat_completion`` hands to the generators (0.20+)."""
    if getattr(serving, "parser_cls", None) is not None and VERSION >= (0, 24):
        cls = serving.parser_cls
        return cls(
            tokenizer,
            req.tools,
            **_kwargs(cls.__init__, {"chat_template_kwargs": chat_kwargs,
                                     "model_config": serving.model_config}),
        )
    if getattr(serving, "reasoning_parser_cls", None) is not None:
        return serving.reasoning_parser_cls(tokenizer, chat_template_kwargs=chat_kwargs)
    return None


async def _collect(agen: AsyncIterator[str]) -> list[Any]:
    chunks = []
    async for line in agen:
        payload = line.removeprefix("data: ").strip()
        if payload == "[DONE]":
            break
        data = json.loads(payload)
        if "error" in data:
            raise AssertionError(f"the stream sent an error: {data}")
        chunks.append(ChatCompletionChunk.model_validate(data))
    return chunks


def run(
    serving: Any,
    tokenizer: Any,
    text: str,
    *,
    stream: bool,
    finish: str = "stop",
    prepare: Any = None,
    prompt: str = QWQ_PROMPT,
    **fields: Any,
) -> Reply:
    """One request through the serving code; the engine rendered ``prompt``, the model writes
    ``text`` then ends with ``finish``."""
    max_tokens = len(encode(text)) if finish == "length" else None
    req = request(stream=stream, max_tokens=max_tokens, **fields)
    prompt_ids = encode(prompt)
    engine = serving.engine_client
    chat_kwargs: dict[str, Any] = {}
    available: dict[str, Any] = {
        "request": req,
        "result_generator": engine.generate(text, finish, prompt_ids, stream=stream),
        "request_id": "chatcmpl-matrix",
        "model_name": MODEL,
        "conversation": [],
        "tokenizer": tokenizer,
        "request_metadata": RequestResponseMetadata(request_id="chatcmpl-matrix"),
        "enable_force_include_usage": False,
        "chat_template_kwargs": chat_kwargs,
    }
    parser = _request_parser(serving, tokenizer, req, chat_kwargs)
    if prepare is not None:
        prepare(parser)
    available["parser"] = available["reasoning_parser"] = parser

    async def go() -> Reply:
        if stream:
            gen = serving.chat_completion_stream_generator
            return assemble(await _collect(gen(**_kwargs(gen, available))))
        full = serving.chat_completion_full_generator
        response = await full(**_kwargs(full, available))
        data = response.model_dump(exclude_unset=False)
        if "error" in data and "choices" not in data:
            raise AssertionError(f"the response is an error: {data}")
        return reply_of(ChatCompletion.model_validate(data))

    return asyncio.run(go())
