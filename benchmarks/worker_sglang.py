"""SGLang subjects, driven exactly as SGLang 0.5.23's chat serving drives its parsers.

``OpenAIServingChat._generate_stream_content`` takes each new piece of text and, with a reasoning
parser configured and ``separate_reasoning`` on (the default), calls
``_process_reasoning_stream``: one ``ReasoningParser(name, request.stream_reasoning,
is_force_reasoning, request, tokenizer=..., tool_call_parser_active=...)`` per choice,
``parse_stream_chunk(delta)`` and, on the finishing step, ``parse_stream_end()``. The normal text it
returns goes to ``_process_tool_call_stream``: one ``FunctionCallParser(tools=..., tool_call_parser=
name, tokenizer=..., prefix=..., constrained=...)`` per choice, ``parse_stream_chunk(text)`` on every
step (also when the text is empty) and ``parse_stream_end()`` on the finishing step. We call exactly
those, with SGLang's own request and ``Tool`` objects and an HF tokenizer for the real QwQ files.
``is_force_reasoning`` is True, as SGLang's template manager decides for QwQ's chat template.

Not included (the same for every parser, so left out): building the SSE chunks (one pydantic
``ChatCompletionStreamResponse`` and ``model_dump_json`` per piece of output) and the final
"unstreamed arguments" check.
"""

from __future__ import annotations

from typing import Any

from benchmarks import inputs
from benchmarks.inputs import Case
from benchmarks.measure import Subject, check_one_call


def _setup() -> tuple[Any, Any, list[Any]]:
    from sglang.srt.entrypoints.openai.protocol import ChatCompletionRequest, Tool
    from sglang.srt.plugins import load_plugins
    from transformers import AutoTokenizer

    from harness.qwen_tokenizer import build_tokenizer_dir

    load_plugins()  # registers `qwq` through the package's sglang.srt.plugins entry point
    tokenizer = AutoTokenizer.from_pretrained(str(build_tokenizer_dir()))
    request = ChatCompletionRequest(
        model="qwq", messages=[{"role": "user", "content": "Write the module, please."}],
        tools=inputs.TOOLS, stream=True,
    )
    tools = [Tool.model_validate(t) for t in inputs.TOOLS]
    return tokenizer, request, tools


def _subject(name: str, kind: str, tool: str, reasoning: str, tokenizer: Any, request: Any,
             tools: list[Any], max_size: int | None, note: str = "") -> Subject:
    from sglang.srt.function_call.function_call_parser import FunctionCallParser
    from sglang.srt.parser.reasoning_parser import ReasoningParser

    if tool not in FunctionCallParser.ToolCallParserEnum:
        raise LookupError(f"SGLang has no tool-call parser {tool!r}")
    if reasoning.lower() not in ReasoningParser.DetectorMap:
        raise LookupError(f"SGLang has no reasoning parser {reasoning!r}")
    prefix = getattr(request, "_response_parser_prefix", "") or ""

    def start() -> Any:
        rp = ReasoningParser(reasoning, request.stream_reasoning, True, request,
                             tokenizer=tokenizer, tool_call_parser_active=True)
        fp = FunctionCallParser(tools=tools, tool_call_parser=tool, tokenizer=tokenizer,
                                prefix=prefix, constrained=False)
        return rp, fp

    def step(rp: Any, fp: Any, delta: str, final: bool) -> tuple[Any, str, list[Any]]:
        reasoning_text, normal = rp.parse_stream_chunk(delta)
        if final:
            end_reasoning, end_normal = rp.parse_stream_end()
            if end_reasoning:
                reasoning_text = (reasoning_text or "") + end_reasoning
            if end_normal:
                normal = (normal or "") + end_normal
        text, calls = fp.parse_stream_chunk(normal or "")
        if final:
            end_text, end_calls = fp.parse_stream_end()
            text = (text or "") + end_text
            calls = list(calls) + end_calls
        return reasoning_text, text, calls

    def feed(state: Any, deltas: list[str], ids: list[list[int]], last: bool) -> None:
        rp, fp = state
        parse_reasoning, parse_tools = rp.parse_stream_chunk, fp.parse_stream_chunk
        for delta in deltas:
            _, normal = parse_reasoning(delta)
            parse_tools(normal or "")

    def finish(state: Any) -> None:
        step(state[0], state[1], "", True)  # the finishing step: no new text, flush both

    def check(case: Case) -> str:
        rp, fp = start()
        content, args = [], {}
        steps = [(d, False) for d in case.deltas] + [("", True)]
        for delta, final in steps:
            _, text, calls = step(rp, fp, delta, final)
            if text:
                content.append(text)
            for c in calls:
                args[c.tool_index] = args.get(c.tool_index, "") + (c.parameters or "")
        return check_one_call(case, list(args.values()), "".join(content))

    return Subject(name, "sglang", kind, start, feed, finish, max_size=max_size, check=check,
                   note=note)


def subjects(stock_max: int, notes: list[str]) -> list[Subject]:
    tokenizer, request, tools = _setup()
    out = []
    try:
        out.append(_subject("qwq SGLang (tool+reasoning)", "ours", "qwq", "qwq", tokenizer,
                            request, tools, None))
    except Exception as error:  # noqa: BLE001 - report, still measure the stock parsers
        try:  # not registered by the entry point (older checkout): register by hand
            from qwq_tool_parser import qwq_sglang

            qwq_sglang.register()
            out.append(_subject("qwq SGLang (tool+reasoning)", "ours", "qwq", "qwq", tokenizer,
                                request, tools, None))
            notes.append("qwq was registered by calling qwq_sglang.register() directly")
        except Exception as error2:  # noqa: BLE001
            notes.append(f"the qwq SGLang adapter is not available: {error!r}; {error2!r}")
    out.append(_subject("SGLang qwen25 + deepseek-r1", "stock", "qwen25", "deepseek-r1", tokenizer,
                        request, tools, stock_max,
                        note="deepseek-r1 is what SGLang auto-detects for QwQ's template"))
    return out
