"""SGLang's real OpenAI chat serving on CPU, with only the model scripted.

Strategy: SGLang cannot run a model here, so :class:`ScriptedTokenizerManager` stands in for the
TokenizerManager: it carries the real QwQ tokenizer (``harness.qwen_tokenizer``, loaded through
transformers) and replays a scripted completion the way the real one streams it: cumulative
``text`` per step, one step per token (or per ``merge`` tokens, as under backlog coalescing). All
the rest is SGLang's own: the real ``TemplateManager`` loads the package's QwQ chat template, the
real ``OpenAIServingChat`` renders and tokenizes the prompt, runs the reasoning and tool-call
parsers, and builds the SSE stream or the JSON response. :func:`serve` mounts one
``OpenAIServingChat`` per parser configuration under ``/<label>/v1`` in a FastAPI app served by
uvicorn on a free 127.0.0.1 port, in a thread, always stopped on exit. (No ``from __future__ import
annotations`` here: FastAPI must see the real types of the locally imported request classes.)
"""


import asyncio
import contextlib
import socket
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from harness import qwen_tokenizer

IM_END_ID = 151645  # QwQ's <|im_end|>: the stop token the scheduler reports as "matched"


@dataclass
class Completion:
    """One scripted model output and how the engine chunks it."""

    text: str
    merge: int = 1  # tokens per streamed step (1: per-token deltas; >1: coalesced backlog)
    finish: str = "stop"  # "stop" (matched <|im_end|>) or "length"
    deltas: list[str] | None = None  # explicit text deltas (they must join to ``text``), or None


@dataclass
class Script:
    """Outputs to replay, in request order, and the prompts SGLang rendered for them."""

    outputs: deque[Completion] = field(default_factory=deque)
    prompts: list[str] = field(default_factory=list)

    def push(self, *outputs: Completion) -> None:
        self.outputs.extend(outputs)


def steps(c: Completion) -> list[str]:
    """The cumulative texts the engine reports, one per step (the last one is the full text)."""
    deltas = c.deltas or (qwen_tokenizer.merged_deltas(c.text, c.merge) if c.text else [""])
    out, acc = [], ""
    for d in deltas:
        acc += d
        out.append(acc)
    if out[-1] != c.text:
        raise AssertionError("tokenizer round trip changed the text")
    return out


class ScriptedTokenizerManager:
    """The attributes of TokenizerManager that OpenAIServingChat reads, and a scripted generator."""

    def __init__(self, script: Script, tokenizer: Any, tool_call_parser: str | None,
                 reasoning_parser: str | None) -> None:
        self.script = script
        self.tokenizer = tokenizer
        self.processor = None
        self.model_path = "Qwen/QwQ-32B"
        self.served_model_name = "QwQ-32B"
        self.model_config = SimpleNamespace(
            is_multimodal=False, context_len=32768, hf_config=SimpleNamespace(model_type="qwen2", architectures=["Qwen2ForCausalLM"]),
            get_default_sampling_params=dict)
        self.server_args = SimpleNamespace(tool_call_parser=tool_call_parser,
                                           reasoning_parser=reasoning_parser)
        self.request_logger = SimpleNamespace(log_requests=False, log_requests_level=0)

    def config_value(self, name: str) -> Any:
        return getattr(self.server_args, name, None)

    def create_abort_task(self, obj: Any) -> None:
        return None

    def generate_request(self, obj: Any, raw_request: Any = None) -> AsyncIterator[dict[str, Any]]:
        prompt = obj.text if obj.text is not None else self.tokenizer.decode(obj.input_ids)
        self.script.prompts.append(prompt)
        completion = self.script.outputs.popleft()
        return self._replay(completion, bool(obj.stream))

    async def _replay(self, c: Completion, stream: bool) -> AsyncIterator[dict[str, Any]]:
        texts = steps(c)
        if not stream:
            texts = texts[-1:]
        n = len(qwen_tokenizer.encode(c.text)) if c.text else 0
        for i, text in enumerate(texts):
            last = i == len(texts) - 1
            finish = None
            if last:
                finish = ({"type": "stop", "matched": IM_END_ID} if c.finish == "stop"
                          else {"type": "length", "length": n})
            yield {"text": text, "index": 0, "output_ids": [],
                   "meta_info": {"id": "chatcmpl-scripted", "prompt_tokens": 10,
                                 "completion_tokens": n if last else min(n, (i + 1) * c.merge),
                                 "cached_tokens": 0, "reasoning_tokens": 0, "weight_version": "default",
                                 "finish_reason": finish}}
            await asyncio.sleep(0)


def load_hf_tokenizer() -> Any:
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(qwen_tokenizer.build_tokenizer_dir()))


Config = tuple[str | None, str | None] | tuple[str | None, str | None, str]
"""(tool parser, reasoning parser[, chat template path: default the package's QwQ template])."""


def make_app(configs: dict[str, Config], script: Script) -> Any:
    """A FastAPI app with ``POST /<label>/v1/chat/completions`` per (tool, reasoning) parser pair."""
    from fastapi import FastAPI
    from qwq_tool_parser._templates import chat_template_path
    from sglang.srt.entrypoints.openai.serving_chat import OpenAIServingChat
    from sglang.srt.parser.template_manager import TemplateManager
    from sglang.srt.runtime_context import publish
    from sglang.srt.server_args import ServerArgs

    publish(ServerArgs(model_path="dummy"), role="tokenizer")
    app = FastAPI()
    for label, (tool_parser, reasoning_parser, *template) in configs.items():
        tm = ScriptedTokenizerManager(script, load_hf_tokenizer(), tool_parser, reasoning_parser)
        templates = TemplateManager()
        templates.initialize_templates(tm, model_path=tm.model_path,
                                       chat_template=template[0] if template else chat_template_path())
        app.add_api_route(f"/{label}/v1/chat/completions",
                          _endpoint(OpenAIServingChat(tm, templates)), methods=["POST"])
    return app


def _endpoint(serving: Any) -> Any:
    from fastapi import Request
    from fastapi.responses import ORJSONResponse
    from sglang.srt.entrypoints.openai.protocol import ChatCompletionRequest, ErrorResponse

    async def chat(request: ChatCompletionRequest, raw_request: Request) -> Any:
        ret = await serving.handle_request(request, raw_request)
        if isinstance(ret, ErrorResponse):
            return ORJSONResponse(ret.model_dump(), status_code=ret.code)
        return ret

    return chat


@contextlib.contextmanager
def serve(configs: dict[str, Config]) -> Iterator[tuple[str, Script]]:
    """Serve the app on a free loopback port; yield (base URL, script); always stop the server."""
    import uvicorn

    script = Script()
    app = make_app(configs, script)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        yield f"http://127.0.0.1:{port}", script
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()
