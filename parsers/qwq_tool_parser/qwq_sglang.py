"""SGLang adapter: ``--tool-call-parser qwq`` and ``--reasoning-parser qwq``, both on :class:`StreamParser`.

Strategy. No parsing happens here. Each detector owns one core ``StreamParser`` per request (SGLang
builds a fresh detector per request and choice), feeds it only the new text and translates events:
``ContentDelta`` -> ``normal_text``; ``ToolCallStart`` -> ``ToolCallItem(name, parameters="")``;
``ToolCallArgumentsDelta`` -> ``ToolCallItem(name=None, parameters=delta)``, with ``tool_index`` the
call's ordinal, as SGLang's streaming convention wants. ``finish()`` closes the core, so every
held-back character reaches the client at the end of the stream. ``prev_tool_call_arr`` and
``streamed_args_for_tool`` hold exactly what was sent (arguments as the raw JSON text) once a call
ends (its pieces are joined then, not on every delta, so a delta costs the same at 4M characters as
at 1k), so serving_chat's end-of-stream "unstreamed arguments" check finds nothing missing. A call
the core withdraws (``ToolCallMalformed`` with an index: its raw text went to content) is reported
in ``incomplete_tool_call_indices`` when no call survived, so ``finish_reason`` stays ``stop``
instead of ``tool_calls``, as in the non-streaming response.
``detect_and_parse`` is the same translation over one delta plus ``finish()``, so both modes agree.
``--tool-call-parser qwq_whole`` is the same detector in whole-call mode: each call goes out in one
piece (name and complete arguments) once its block has validated, so none is ever withdrawn.

The tool detector sees what the reasoning parser leaves (the text after ``</think>``), so its core
starts in content; a leading ``<think>...</think>`` that still reaches it (no reasoning parser, or
``separate_reasoning=false``, with a model that writes the opening tag) goes back to content with its
tags. Without a reasoning split, a ``<tool_call>`` written inside the think block is parsed like any
other: use ``--reasoning-parser qwq``. Calls to names not in the request's tools are kept as calls
(never leaked into content, never dropped). The reasoning detector runs a second core that starts in
reasoning and only stops at ``</think>`` (``<tool_call>`` inside reasoning is reasoning); once the
core has left reasoning, the raw rest of the text passes through untouched to the tool detector.

Constrained decoding: ``get_structural_tag`` (``tool_choice`` required/named) and
``get_auto_tool_call_structural_tag`` (``auto`` with ``parallel_tool_calls=false``) return the
``qwq`` structural tag (:mod:`qwq_tool_parser._structural_tag`): QwQ's calls with their whitespace,
at least one / exactly one. With ``--reasoning-parser qwq`` SGLang's reasoner grammar lets the think
block through and starts the tag after ``</think>``.

Nothing raises out of a hook: if the core ever failed, the text goes out as content. Registration:
the ``sglang.srt.plugins`` entry point calls the idempotent :func:`register` in every process that
runs ``load_plugins()``. HTTP workers of ``--tokenizer-worker-num > 1`` do not; for those, set
``SGLANG_HTTP_SERVER_APP_PATH=qwq_tool_parser.qwq_sglang:app`` (this module's ``app`` registers, then
hands over SGLang's own app).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from sglang.srt.function_call.base_format_detector import BaseFormatDetector
from sglang.srt.function_call.core_types import StreamingParseResult, StructureInfo, ToolCallItem
from sglang.srt.parser.reasoning_parser import BaseReasoningFormatDetector
from sglang.srt.parser.reasoning_parser import StreamingParseResult as ReasoningResult

from qwq_tool_parser import (
    ContentDelta,
    Event,
    ReasoningDelta,
    StreamParser,
    ToolCallArgumentsDelta,
    ToolCallEnd,
    ToolCallMalformed,
    ToolCallStart,
    starts_in_reasoning,
)
from qwq_tool_parser._structural_tag import tool_calls_tag

NAME = "qwq"
"""The name of both parsers on SGLang's command line."""
WHOLE_CALLS_NAME = "qwq_whole"
"""The tool-call parser in whole-call mode."""
THINK_OPEN, THINK_END, CALL_OPEN = "<think>", "</think>", "<tool_call>"  # QwQ-32B's added tokens

logger = logging.getLogger(__name__)


class QwQDetector(BaseFormatDetector):  # type: ignore[misc]
    """``<tool_call>{json}</tool_call>`` blocks in QwQ's answer, streamed exactly."""

    whole_calls = False  # see QwQWholeCallDetector

    def __init__(self) -> None:
        super().__init__()
        self.bot_token, self.eot_token, self.tool_call_separator = CALL_OPEN, "</tool_call>", "\n"
        self.withdrawn_tool_call_indices: set[int] = set()  # announced, then not calls after all
        self._calls_ended = 0
        self._pieces: dict[int, list[str]] = {}  # arguments streamed so far, per open call
        self._parser = StreamParser(start_in_reasoning=False, whole_calls=self.whole_calls)
        self._in_think = False  # inside a leading think block that reached this detector
        self._failed = False

    def parse_streaming_increment(self, new_text: str, tools: Any) -> StreamingParseResult:
        if self._failed:
            return StreamingParseResult(normal_text=new_text)
        try:
            return self._translate(self._parser.feed(new_text))
        except Exception:  # the core never raises on text; if it ever does, keep the stream alive
            logger.exception("qwq tool parser failed; streaming the rest as content")
            self._failed = True
            return StreamingParseResult(normal_text=new_text)

    def finish(self, tools: Any) -> StreamingParseResult:
        """End of the stream: flush held-back text and settle an open block."""
        if self._failed or self._parser.closed:
            return StreamingParseResult()
        try:
            return self._translate(self._parser.close())
        except Exception:
            logger.exception("qwq tool parser failed at the end of the stream")
            self._failed = True
            return StreamingParseResult()

    def detect_and_parse(self, text: str, tools: Any) -> StreamingParseResult:
        """One-shot parse: the streaming translation over one delta, folded per call."""
        det = type(self)()
        parts = [det.parse_streaming_increment(text, tools), det.finish(tools)]
        names: dict[int, str] = {}
        args: dict[int, str] = {}
        for item in (c for p in parts for c in p.calls):
            if item.name is not None:
                names[item.tool_index] = item.name
            args[item.tool_index] = args.get(item.tool_index, "") + item.parameters
        calls = [
            ToolCallItem(tool_index=i, name=names[i], parameters=args[i])
            for i in sorted(names)
            if i not in det.withdrawn_tool_call_indices
        ]
        return StreamingParseResult(normal_text="".join(p.normal_text for p in parts), calls=calls)

    def has_tool_call(self, text: str) -> bool:
        return bool(self.detect_and_parse(text, None).calls)

    def structure_info(self) -> Callable[[str], StructureInfo]:
        """The envelope QwQ's template shows (SGLang's generic tag; ours is ``get_structural_tag``)."""
        return lambda name: StructureInfo(
            begin=f'{CALL_OPEN}\n{{"name": "{name}", "arguments": ',
            end="}\n</tool_call>",
            trigger=CALL_OPEN,
        )

    def get_structural_tag(
        self,
        tools: Sequence[Any] | None = None,
        tool_choice: Any = "auto",
        thinking_mode: bool = False,
        parallel_tool_calls: bool = True,
    ) -> Any:
        """``tool_choice`` required/named: QwQ's calls after its think block (see
        :mod:`qwq_tool_parser._structural_tag`). With ``--reasoning-parser qwq`` SGLang starts the
        grammar after ``</think>`` itself and passes ``thinking_mode=False``; a named choice allows
        that one tool, once; ``parallel_tool_calls=false`` allows one call."""
        named = getattr(getattr(tool_choice, "function", None), "name", None)
        return _structural_tag(
            tools, named, required=True, one_call=named is not None or not parallel_tool_calls,
            think=thinking_mode)  # fmt: skip

    def get_auto_tool_call_structural_tag(
        self,
        tools: Sequence[Any] | None = None,
        thinking_mode: bool = False,
        parallel_tool_calls: bool = True,
    ) -> Any:
        """``tool_choice`` auto: unconstrained, except with ``parallel_tool_calls=false``, where
        free text may hold one call (the output ends after it)."""
        if parallel_tool_calls:
            return None
        return _structural_tag(tools, None, required=False, one_call=True, think=thinking_mode)

    def _translate(self, events: Sequence[Event]) -> StreamingParseResult:
        text: list[str] = []
        calls: list[ToolCallItem] = []
        for ev in events:
            if isinstance(ev, ReasoningDelta):
                text.extend((THINK_OPEN, ev.text) if not self._in_think else (ev.text,))
                self._in_think = True
                continue
            if self._in_think:
                text.append(THINK_END)
                self._in_think = False
            if isinstance(ev, ContentDelta):
                text.append(ev.text)
            elif isinstance(ev, ToolCallStart):
                while len(self.prev_tool_call_arr) <= ev.index:  # list position == call index
                    self.prev_tool_call_arr.append({"name": "", "arguments": ""})
                    self.streamed_args_for_tool.append("")
                self.prev_tool_call_arr[ev.index]["name"] = ev.name
                self.current_tool_id, self.current_tool_name_sent = ev.index, True
                self._pieces[ev.index] = []
                calls.append(ToolCallItem(tool_index=ev.index, name=ev.name, parameters=""))
            elif isinstance(ev, ToolCallArgumentsDelta):
                self._pieces[ev.index].append(ev.text)
                last = calls[-1] if calls else None
                if last is not None and last.name is None and last.tool_index == ev.index:
                    last.parameters += ev.text  # one SSE chunk per call per increment
                else:
                    calls.append(ToolCallItem(tool_index=ev.index, name=None, parameters=ev.text))
            elif isinstance(ev, ToolCallEnd):
                self._settle(ev.index)
                self._calls_ended += 1
                self.current_tool_name_sent = False
            elif isinstance(ev, ToolCallMalformed):
                if ev.index is not None:
                    self._settle(ev.index)
                    self.withdrawn_tool_call_indices.add(ev.index)
                logger.warning(
                    "qwq: <tool_call> block at offset %d is not a call (%s); sent as content%s",
                    ev.offset,
                    ev.reason,
                    f", call {ev.index} withdrawn" if ev.index is not None else "",
                )
        if self._in_think and not self._parser.in_reasoning:
            text.append(THINK_END)
            self._in_think = False
        return StreamingParseResult(normal_text="".join(text), calls=calls)

    @property
    def incomplete_tool_call_indices(self) -> set[int]:
        """Read by serving_chat at the end of a stream: when not empty, ``finish_reason`` stays
        ``stop`` instead of ``tool_calls``. That is right when no call survived (every announced
        one was withdrawn), which is what the non-streaming response says too."""
        return set() if self._calls_ended else set(self.withdrawn_tool_call_indices)

    def _settle(self, index: int) -> None:
        """A call is over: record what was streamed for it, where serving_chat looks."""
        streamed = "".join(self._pieces.pop(index, ()))
        self.streamed_args_for_tool[index] = streamed
        self.prev_tool_call_arr[index]["arguments"] = streamed


def _structural_tag(
    tools: Sequence[Any] | None, named: str | None, *, required: bool, one_call: bool, think: bool
) -> Any:
    """SGLang's ``Tool`` objects (strict ones keep their schema) as an XGrammar ``StructuralTag``;
    None (SGLang then falls back to its generic tag) if that ever fails."""
    try:
        from xgrammar import StructuralTag

        grammar_tools = [
            (t.function.name, t.function.parameters if t.function.strict else None)
            for t in tools or ()
            if named is None or t.function.name == named
        ]
        tag = tool_calls_tag(grammar_tools, required=required, one_call=one_call, think=think)
        return StructuralTag.model_validate(tag)
    except Exception:
        logger.exception("qwq structural tag failed; SGLang's generic constraint applies")
        return None


class QwQWholeCallDetector(QwQDetector):
    """``qwq_whole``: every call in one piece, once its block validated; none is ever withdrawn."""

    whole_calls = True


_TEMPLATE_OPENS: dict[str, bool] = {}  # chat template -> its generation prompt opens <think>


def _template_opens_think(tokenizer: Any) -> bool:
    """Whether the served chat template's generation prompt leaves a think block open (rendered
    once per template; True, QwQ's, if there is no template or it does not render)."""
    template = getattr(tokenizer, "chat_template", None)
    if not isinstance(template, str):
        return True
    if template not in _TEMPLATE_OPENS:
        try:
            prompt = tokenizer.apply_chat_template(
                [{"role": "user", "content": "."}], add_generation_prompt=True, tokenize=False
            )
            _TEMPLATE_OPENS[template] = starts_in_reasoning(str(prompt))
        except Exception:
            logger.exception("qwq: the chat template did not render; assuming QwQ's open block")
            _TEMPLATE_OPENS[template] = True
    return _TEMPLATE_OPENS[template]


def _start_in_reasoning(
    force_reasoning: bool | None,
    continue_final_message: bool,
    previous_content: Any,
    tokenizer: Any,
) -> bool:
    """Where the output starts, from what SGLang's serving code tells the reasoning detector.

    ``force_reasoning`` is False when SGLang found the template's thinking toggle off
    (``enable_thinking: false``); then the prompt closed the block. Otherwise (True, or None
    outside serving) the served template's own generation prompt decides: SGLang's template
    detection cannot see a QwQ-style prompt in a ``--chat-template`` file, and reports True for
    templates that never open a block (Qwen3-2507 Instruct). A prefilled final assistant message
    (``continue_final_message``) is appended after the generation prompt, so its last think tag,
    if it has one, decides instead."""
    opened = force_reasoning is not False and _template_opens_think(tokenizer)
    if continue_final_message and isinstance(previous_content, str):
        return starts_in_reasoning((THINK_OPEN if opened else "") + previous_content)
    return opened


class QwQReasoningDetector(BaseReasoningFormatDetector):  # type: ignore[misc]
    """The think block: the output starts inside it when the prompt leaves it open (see
    :func:`_start_in_reasoning`); an opening ``<think>`` is markup, and only ``</think>`` ends it."""

    def __init__(
        self,
        stream_reasoning: bool = True,
        force_reasoning: bool | None = None,
        continue_final_message: bool = False,
        previous_content: Any = "",
        tokenizer: Any = None,
        **_ignored: Any,
    ) -> None:
        start = _start_in_reasoning(
            force_reasoning, continue_final_message, previous_content, tokenizer
        )
        super().__init__(
            THINK_OPEN, THINK_END, force_reasoning=start, stream_reasoning=stream_reasoning
        )
        self._ended = False
        self._parser = StreamParser(start_in_reasoning=start, parse_tool_calls=False)
        self._held: list[str] = []  # reasoning kept for stream_reasoning=False

    def parse_streaming_increment(self, new_text: str) -> ReasoningResult:
        try:
            events = self._parser.feed(new_text)
        except Exception:
            logger.exception("qwq reasoning parser failed; streaming the rest as content")
            events = [ContentDelta(text=new_text)]
        self._ended = self._ended or self._parser.after_reasoning
        return self._result(events)

    def finish(self) -> ReasoningResult:
        """End of the stream: flush what the core held back (a cut-off tag, leading whitespace)."""
        self._ended = True
        try:
            events = self._parser.close()
        except Exception:
            logger.exception("qwq reasoning parser failed at the end of the stream")
            events = []
        return self._result(events)

    def detect_and_parse(self, text: str) -> ReasoningResult:
        first, last = self.parse_streaming_increment(text), self.finish()
        return ReasoningResult(
            normal_text=first.normal_text + last.normal_text,
            reasoning_text=first.reasoning_text + last.reasoning_text,
        )

    def _result(self, events: Sequence[Event]) -> ReasoningResult:
        reasoning = "".join(e.text for e in events if isinstance(e, ReasoningDelta))
        rest = "".join(e.text for e in events if isinstance(e, ContentDelta))
        if not self.stream_reasoning:  # the whole think block in one piece, once it is over
            self._held.append(reasoning)
            reasoning = ""
            if self._ended:
                reasoning, self._held = "".join(self._held), []
        return ReasoningResult(normal_text=rest, reasoning_text=reasoning)


def register() -> None:
    """Add ``qwq`` to SGLang's tool-call and reasoning parsers and ``qwq_whole`` to its tool-call
    parsers, and to their CLI choices (idempotent).

    A built-in parser of the same name, if SGLang ever ships one, is left in place.
    """
    from sglang.srt.function_call import parser_names
    from sglang.srt.function_call.function_call_parser import FunctionCallParser
    from sglang.srt.parser import reasoning_parser_names
    from sglang.srt.parser.reasoning_parser import ReasoningParser

    tools, tool_names = FunctionCallParser.ToolCallParserEnum, parser_names.TOOL_CALL_PARSER_NAMES
    for table, name, cls, names in (
        (tools, NAME, QwQDetector, tool_names),
        (tools, WHOLE_CALLS_NAME, QwQWholeCallDetector, tool_names),
        (
            ReasoningParser.DetectorMap,
            NAME,
            QwQReasoningDetector,
            reasoning_parser_names.REASONING_PARSER_NAMES,
        ),
    ):
        if table.setdefault(name, cls) is not cls:
            logger.warning("SGLang already has a %r parser (%s); keeping it", name, table[name])
        if name not in names:
            names.append(name)


def __getattr__(name: str) -> Any:
    """``app``: SGLang's HTTP app, after :func:`register` (for multi-tokenizer HTTP workers)."""
    if name == "app":
        register()
        from sglang.srt.entrypoints.http_server import app

        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
