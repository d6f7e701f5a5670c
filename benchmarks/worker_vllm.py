"""vLLM subjects, driven exactly as vLLM 0.32's chat serving drives its parsers.

``OpenAIServingChat`` builds one parser per choice from ``ParserManager.get_parser(tool_parser_name,
reasoning_parser_name, enable_auto_tools)`` (a ``DelegatingParser`` subclass composing the tool and
reasoning parsers), constructs it as ``parser_cls(tokenizer, request.tools,
chat_template_kwargs=..., model_config=...)`` and, for every engine output, calls
``parser.parse_delta(delta_text=output.text, delta_token_ids=as_list(output.token_ids),
request=request, prompt_token_ids=res.prompt_token_ids, finished=output.finish_reason is not
None)`` (``entrypoints/openai/chat_completion/serving.py``). ``parse_delta`` builds
previous/current text and token ids (``StreamState.advance``: full copies unless both parsers are
engine-based), runs the reasoning phase, hands the post-reasoning text to the tool parser and
returns vLLM's own ``DeltaMessage``. We call exactly that, with vLLM's tokenizer loaded from the
real QwQ tokenizer files, a real ``ChatCompletionRequest`` with the tools, and the real prompt ids.
The stream ends like a real one: a last step with the EOS token id, no text, ``finished=True``.

Not included (the same for every parser, so left out): the serving loop's own
``previous_texts[i] += delta_text`` and the JSON serialisation of each chunk.
"""

from __future__ import annotations

from typing import Any

from benchmarks import inputs
from benchmarks.inputs import Case
from benchmarks.measure import Subject, check_one_call


def _setup() -> tuple[Any, Any, list[int]]:
    from vllm.entrypoints.openai.chat_completion.protocol import ChatCompletionRequest
    from vllm.plugins import load_general_plugins
    from vllm.tokenizers import get_tokenizer

    from harness.qwen_tokenizer import build_tokenizer_dir

    load_general_plugins()  # registers `qwq` through the package's vllm.general_plugins entry point
    tokenizer = get_tokenizer(str(build_tokenizer_dir()))
    request = ChatCompletionRequest(
        model="qwq", messages=[{"role": "user", "content": "Write the module, please."}],
        tools=inputs.TOOLS, stream=True,
    )
    prompt = list(tokenizer.encode(inputs.PROMPT, add_special_tokens=False))
    assert prompt == inputs.prompt_ids(), "vLLM's tokenizer differs from the harness tokenizer"
    return tokenizer, request, prompt


def _subject(name: str, kind: str, tool: str | None, reasoning: str | None, tokenizer: Any,
             request: Any, prompt: list[int], max_size: int | None, note: str = "") -> Subject:
    from vllm.parser.parser_manager import ParserManager

    parser_cls = ParserManager.get_parser(tool_parser_name=tool, reasoning_parser_name=reasoning,
                                          enable_auto_tools=True, model_name="qwq")
    assert parser_cls is not None

    def start() -> Any:
        parser = parser_cls(tokenizer, request.tools, chat_template_kwargs={}, model_config=None)
        return parser.parse_delta

    def feed(parse_delta: Any, deltas: list[str], ids: list[list[int]], last: bool) -> None:
        for delta, delta_ids in zip(deltas, ids):  # the prompt ids come with every output
            parse_delta(delta_text=delta, delta_token_ids=delta_ids, request=request,
                        prompt_token_ids=prompt, finished=False)

    def finish(parse_delta: Any) -> None:
        parse_delta(delta_text="", delta_token_ids=[inputs.EOS_ID], request=request,
                 prompt_token_ids=prompt, finished=True)

    def check(case: Case) -> str:
        parser = parser_cls(tokenizer, request.tools, chat_template_kwargs={}, model_config=None)
        reasoning_text, content, args, names = [], [], {}, {}
        steps = list(zip(case.deltas, case.ids, [False] * len(case.ids)))
        steps.append(("", [inputs.EOS_ID], True))
        for delta, delta_ids, fin in steps:
            msg = parser.parse_delta(delta_text=delta, delta_token_ids=delta_ids, request=request,
                                     prompt_token_ids=prompt, finished=fin)
            if msg is None:
                continue
            if getattr(msg, "reasoning", None):
                reasoning_text.append(msg.reasoning)
            if msg.content:
                content.append(msg.content)
            for tc in msg.tool_calls or []:
                if tc.function is not None:
                    if tc.function.name:
                        names[tc.index] = tc.function.name
                    args[tc.index] = args.get(tc.index, "") + (tc.function.arguments or "")
        return check_one_call(case, list(args.values()), "".join(content))

    return Subject(name, "vllm", kind, start, feed, finish, max_size=max_size, check=check,
                   note=note)


def _register_floor() -> None:
    """``bench_floor``: the least a vLLM tool + reasoning parser pair can do per delta through
    ``parse_delta`` (engine-based, like ours): look for ``<``, wrap the delta in one DeltaMessage
    (reasoning, or one tool-call arguments fragment). It parses nothing: it is vLLM's own fixed
    per-delta cost (``parse_delta``, metrics, pydantic messages), the floor under any parser."""
    from vllm.entrypoints.generate.base import protocol as p
    from vllm.reasoning import ReasoningParser, ReasoningParserManager
    from vllm.tool_parsers import ToolParser, ToolParserManager

    class FloorTool(ToolParser):  # type: ignore[misc]
        engine_based_streaming = True
        supports_required_and_named = False

        def extract_tool_calls(self, model_output: str, request: Any) -> Any:
            return p.ExtractedToolCallInformation(tools_called=False, tool_calls=[],
                                                  content=model_output)

        def extract_tool_calls_streaming(self, previous_text: str, current_text: str,
                                         delta_text: str, *args: Any) -> Any:
            if not delta_text:
                return None
            if "<" in delta_text:
                return p.DeltaMessage(content=delta_text)
            return p.DeltaMessage(tool_calls=[p.DeltaToolCall(
                index=0, function=p.DeltaFunctionCall(arguments=delta_text))])

        def finish_streaming(self) -> Any:
            return None

    class FloorReasoning(ReasoningParser):  # type: ignore[misc]
        engine_based_streaming = True

        def __init__(self, tokenizer: Any, *args: Any, **kwargs: Any) -> None:
            super().__init__(tokenizer, *args, **kwargs)
            self.ended = False

        def is_reasoning_end(self, input_ids: Any) -> bool:
            return False

        def is_reasoning_end_streaming(self, input_ids: Any, delta_ids: Any) -> bool:
            return self.ended

        def has_engine_confirmed_reasoning_end(self) -> bool:
            return self.ended

        def extract_content_ids(self, input_ids: list[int]) -> list[int]:
            return []

        def extract_reasoning(self, model_output: str, request: Any) -> Any:
            return model_output, None

        def extract_reasoning_streaming(self, previous_text: str, current_text: str,
                                        delta_text: str, *args: Any) -> Any:
            if "<" in delta_text and "</think>" in delta_text:
                self.ended = True
                before, after = delta_text.split("</think>", 1)
                return p.DeltaMessage(reasoning=before or None, content=after or None)
            return p.DeltaMessage(reasoning=delta_text)

        def finish_streaming(self) -> Any:
            return None

    ToolParserManager.register_module("bench_floor", force=True, module=FloorTool)
    ReasoningParserManager.register_module("bench_floor", force=True, module=FloorReasoning)


def subjects(stock_max: int, notes: list[str]) -> list[Subject]:
    tokenizer, request, prompt = _setup()
    out = []
    try:
        _register_floor()
        out.append(_subject("vLLM pass-through floor", "floor", "bench_floor", "bench_floor",
                            tokenizer, request, prompt, None,
                            note="parses nothing: vLLM's own per-delta cost through parse_delta"))
        out[-1].check = None
    except Exception as error:  # noqa: BLE001
        notes.append(f"the vLLM floor could not be registered: {error!r}")
    try:
        out.append(_subject("qwq vLLM (tool+reasoning)", "ours", "qwq", "qwq", tokenizer, request,
                            prompt, None))
        out.append(_subject("qwq vLLM (tool only)", "ours", "qwq", None, tokenizer, request,
                            prompt, None, note="no reasoning parser: the qwq tool parser splits "
                            "the think block itself"))
    except Exception as error:  # noqa: BLE001 - report, still measure the stock parsers
        notes.append(f"the qwq vLLM adapter could not be loaded: {error!r}")
    out.append(_subject("vLLM hermes + deepseek_r1", "stock", "hermes", "deepseek_r1", tokenizer,
                        request, prompt, stock_max))
    out.append(_subject("vLLM hermes (no reasoning parser)", "stock", "hermes", None, tokenizer,
                        request, prompt, stock_max,
                        note="hermes sees the whole output, think block included"))
    for s in out[-2:]:  # hermes' arguments phase costs ~3 s at 64k characters: measure it too
        s.max_size_by_scenario = {"args": 2 * stock_max}
    return out
