"""vLLM adapter: ``--tool-call-parser qwq`` and ``--reasoning-parser qwq``, both on :class:`StreamParser`.

Strategy. No parsing happens here: each parser owns one core ``StreamParser`` per request, feeds it
only ``delta_text`` and translates its events into ``DeltaMessage``s, so per-delta work is O(delta).
Both classes set ``engine_based_streaming`` (vLLM 0.24+): with both of ours (or ours and no reasoning
parser) vLLM stops re-concatenating the text, and it calls ``finish_streaming()`` at the end, where
the core is closed and every held-back byte is flushed. ``supports_required_and_named = False`` sends
``tool_choice="required"``/named through this parser (QwQ keeps its ``<tool_call>`` format), and the
``qwq`` structural tag accepts what QwQ really writes after ``</think>`` (framing whitespace, ``\n``
between calls), plus the think block itself when no reasoning parser cuts it off. Nothing raises out
of a hook: on an internal error the delta goes out as content. The version-dependent imports live in
the one ``try`` block below. Loading: ``--tool-parser-plugin qwq_tool_parser.qwq_vllm`` or the path
of this file (it may be imported twice: registration is idempotent), or the entry point in
``qwq_vllm_register``. ``--tool-call-parser qwq_whole`` is the same parser in whole-call mode: each
call goes out in one delta (id, name and complete arguments) once its block has validated. Serving
``/v1/responses``, messages are shaped so that vLLM's Responses event processor can take them
(``_responses_safe``).
"""

from __future__ import annotations

import functools
import logging
import os
import uuid
import warnings
from collections.abc import Collection, Mapping, Sequence
from typing import Any

import vllm

from qwq_tool_parser import (
    ContentDelta,
    Event,
    ReasoningDelta,
    StreamParser,
    ToolCallArgumentsDelta,
    ToolCallMalformed,
    ToolCallStart,
    parse,
    starts_in_reasoning,
)
from qwq_tool_parser._structural_tag import after_think, tool_calls_tag
from qwq_tool_parser._template_start import template_starts_in_reasoning
from qwq_tool_parser.qwq_vllm_check import log_check

# -- version shim (vLLM 0.10-0.33) -----------------------------------------------------------------
try:  # >= 0.13
    from vllm.tool_parsers import ToolParser, ToolParserManager
except ImportError:  # 0.10-0.12
    from vllm.entrypoints.openai.tool_parsers import ToolParser, ToolParserManager
from vllm.reasoning import ReasoningParser, ReasoningParserManager

try:  # >= 0.29
    from vllm.entrypoints.generate.base import protocol as _protocol
except ImportError:
    try:  # 0.15-0.28
        from vllm.entrypoints.openai.engine import protocol as _protocol
    except ImportError:  # <= 0.14
        from vllm.entrypoints.openai import protocol as _protocol
DeltaMessage: Any = _protocol.DeltaMessage
DeltaToolCall: Any = _protocol.DeltaToolCall
DeltaFunctionCall: Any = _protocol.DeltaFunctionCall
ExtractedToolCallInformation: Any = _protocol.ExtractedToolCallInformation
FunctionCall: Any = _protocol.FunctionCall
ToolCall: Any = _protocol.ToolCall
_REASONING_FIELD = "reasoning" if "reasoning" in DeltaMessage.model_fields else "reasoning_content"

try:  # 0.24+: our own grammar for required/named, accepting QwQ's framing whitespace
    from vllm.tool_parsers import structural_tag_registry as _st
    from xgrammar import structural_tag as _xs

    _register_tag = _st.register_vllm_structural_tag
    # public in 0.29+; 0.24 has the same function under a private name
    _function_parameters: Any = getattr(_st, "get_function_parameters", None)
    _function_parameters = _function_parameters or _st._get_function_parameters
    _STRUCTURAL_TAG: str | None = "qwq"
except (ImportError, AttributeError):
    _STRUCTURAL_TAG = None

logger = logging.getLogger("vllm.qwq_tool_parser")  # under vLLM's logger: same format, pid prefix
THINK_END = "</think>"

# -- end of stream and request options across vLLM versions (issue 13) ------------------------------
# vLLM < 0.24 has no ``finish_streaming`` hook: the stream's last delta is recognised by what those
# versions do pass, the end-of-sequence token in ``delta_token_ids`` or the output reaching the
# request's token limit; both parsers then close their core parser in that delta. ``_closed`` makes
# the close happen once, so ``finish_streaming`` (0.24+) after it sends nothing more.
END_TOKENS = ("<|im_end|>", "<|endoftext|>")


@functools.lru_cache(maxsize=8)  # one server has one tokenizer; its vocabulary is read once
def _end_token_ids(tokenizer: Any) -> frozenset[int]:
    vocab = tokenizer.get_vocab()
    ids = {vocab[t] for t in END_TOKENS if t in vocab}
    eos = getattr(tokenizer, "eos_token_id", None)
    return frozenset(ids | ({eos} if isinstance(eos, int) else set()))


def _token_limit(request: Any) -> int | None:
    """The request's ``max_completion_tokens`` or (deprecated, so read quietly) ``max_tokens``, or a
    Responses request's ``max_output_tokens``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        for name in ("max_completion_tokens", "max_tokens", "max_output_tokens"):
            limit = getattr(request, name, None)
            if isinstance(limit, int):
                return limit
    return None


def _is_last_delta(
    end_ids: frozenset[int],
    delta_token_ids: Sequence[int],
    current_token_ids: Sequence[int] = (),
    limit: int | None = None,
) -> bool:
    """The engine's last output: an end-of-sequence token, or ``current_token_ids`` (the tokens
    vLLM shows the parser) reaching the request's token limit."""
    if not end_ids.isdisjoint(delta_token_ids or ()):
        return True
    return limit is not None and len(current_token_ids or ()) >= limit


def _parallel_tool_calls(request: Any) -> bool:
    """The client's ``parallel_tool_calls``; True when it did not set it (vLLM 0.10-0.11 default the
    field to False, and say they ignore it)."""
    if "parallel_tool_calls" not in (getattr(request, "model_fields_set", None) or ()):
        return True
    return getattr(request, "parallel_tool_calls", True) is not False


# -- where the output starts (see README "Where reasoning starts") ---------------------------------
# The rule reads the prompt (``starts_in_reasoning``). vLLM hands it over on the streaming path
# (``is_reasoning_end(prompt_ids)``, every version) and, from 0.33, on both paths
# (``set_prompt_token_ids``; 0.32's serving code calls it too, but on the composed parser, which
# drops it). Where it does not (0.32 and older non-streaming, and the tool parser without a
# reasoning parser), the request and tokenizer say what they can, in this order: a prefilled final
# assistant message ends the prompt with its own text; a template sent with the request
# (``chat_template``) is rendered; ``enable_thinking: false`` means the template closed the block;
# else the tokenizer's own template is rendered (each rendered once per template and kwargs). The
# served ``--chat-template`` is visible to none of the parser's hooks.


def _message_text(content: Any) -> str:
    """A chat message's text: a string, or the text parts of a content list."""
    if isinstance(content, str):
        return content
    parts = content if isinstance(content, list) else []
    return "".join(p.get("text") or "" for p in parts if isinstance(p, Mapping))


def _start_from_request(request: Any, tokenizer: Any, chat_template_kwargs: Any = None) -> bool:
    """Whether the output starts in reasoning, from what the request and tokenizer tell of the
    prompt (QwQ's open block when they tell nothing)."""
    messages = getattr(request, "messages", None) or []
    if getattr(request, "continue_final_message", False) and messages:
        last = messages[-1]
        role = last.get("role") if isinstance(last, Mapping) else getattr(last, "role", None)
        if role == "assistant":
            content = last.get("content") if isinstance(last, Mapping) else last.content
            return starts_in_reasoning(_message_text(content))
    kwargs = chat_template_kwargs or getattr(request, "chat_template_kwargs", None)
    kwargs = kwargs if isinstance(kwargs, Mapping) else {}
    template = getattr(request, "chat_template", None)
    start = template_starts_in_reasoning(tokenizer, template, kwargs) if template else None
    if start is None and kwargs.get("enable_thinking") is False:
        return False
    if start is None:
        start = template_starts_in_reasoning(tokenizer, None, kwargs)
    return True if start is None else start


def _prebuilt(cls: Any) -> Any:
    """A constructor for a vLLM protocol model whose values are already valid: what validation
    produces (fields in declaration order, defaults, fresh ``default_factory`` values, extra fields
    apart, the set fields recorded for ``exclude_unset``) without pydantic's validation and the wrap
    validator every ``OpenAIBaseModel`` runs: several times cheaper on the per-delta hot path. The
    wire tests check that its messages serialize exactly like validated ones. ``build(values,
    extra)`` takes the declared fields, and the extra ones (kept only where the model allows them,
    as validation does). It writes the four slots every pydantic v2 model has through their own
    descriptors, the cheapest way in."""
    declared = cls.model_fields  # in declaration order, which ``{**defaults, ...}`` keeps
    defaults = {k: None if f.default_factory else f.get_default() for k, f in declared.items()}
    factories = [(k, f.default_factory) for k, f in declared.items() if f.default_factory]
    allows_extra = cls.model_config.get("extra") == "allow"
    new = cls.__new__
    set_dict, set_fields_set, set_extra, set_private = (
        next(vars(k)[slot] for k in cls.__mro__ if slot in vars(k)).__set__  # BaseModel's
        for slot in (
            "__dict__",
            "__pydantic_fields_set__",
            "__pydantic_extra__",
            "__pydantic_private__",
        )
    )

    def build(values: dict[str, Any], extra: dict[str, Any] | None = None) -> Any:
        obj = new(cls)
        fields = {**defaults, **values}
        for name, factory in factories:
            if name not in values:
                fields[name] = factory()
        set_dict(obj, fields)
        extra = (extra or {}) if allows_extra else None
        set_fields_set(obj, {*values, *extra} if extra else set(values))
        set_extra(obj, extra)
        set_private(obj, None)
        return obj

    return build


_delta_message, _delta_tool_call, _delta_function = map(
    _prebuilt, (DeltaMessage, DeltaToolCall, DeltaFunctionCall)
)


# -- wire field names (issue 11) --------------------------------------------------------------------
REASONING_CONTENT_ENV = "QWQ_TOOL_PARSER_REASONING_CONTENT"
_ECHO_DECLARED = "reasoning_content" in DeltaMessage.model_fields


def _echo_reasoning_content() -> bool:
    """Whether reasoning also goes out as ``reasoning_content`` (read once per request)."""
    return os.environ.get(REASONING_CONTENT_ENV, "1") != "0"


def _text_message(reasoning: str, content: str, echo: bool, tool_calls: Any = None) -> Any:
    """A DeltaMessage with each text field only when it has text (as vLLM's own parsers send them:
    no ``"content": null`` beside reasoning). Reasoning goes under vLLM's own field name
    (``reasoning`` in current releases) and, with ``echo``, also as ``reasoning_content``, the name
    DeepSeek's API, SGLang and DashScope send and their clients read, unless the server runs with
    ``QWQ_TOOL_PARSER_REASONING_CONTENT=0``. ``DeltaMessage`` keeps extra fields and vLLM
    serializes them into the chunk."""
    values: dict[str, Any] = {} if tool_calls is None else {"tool_calls": tool_calls}
    extra = None
    if reasoning:
        values[_REASONING_FIELD] = reasoning
        if echo:
            if _ECHO_DECLARED:
                values["reasoning_content"] = reasoning
            else:
                extra = {"reasoning_content": reasoning}
    if content:
        values["content"] = content
    return _delta_message(values, extra)


def _message(
    events: Sequence[Event],
    ids: dict[int, str],
    pieces: dict[int, list[str]],
    arr: list[dict[str, Any]],
    streamed: list[str],
    echo: bool,
) -> Any:
    """Translate core events into one DeltaMessage (None if there is nothing to send); ``echo``:
    see :func:`_text_message`.

    ``arr``/``streamed`` are vLLM's ``prev_tool_call_arr``/``streamed_args_for_tool`` (read by
    vLLM <= 0.23 at the end of a stream); they are kept equal, and are joined only when a call
    ends, so long arguments cost linear time."""
    if len(events) == 1 and type(ev := events[0]) is ToolCallArgumentsDelta:  # the hot path
        pieces[ev.index].append(ev.text)
        function = _delta_function({"arguments": ev.text})
        return _delta_message(
            {"tool_calls": [_delta_tool_call({"index": ev.index, "function": function})]}
        )
    reasoning: list[str] = []
    content: list[str] = []
    calls: dict[int, Any] = {}
    for ev in events:
        if isinstance(ev, ReasoningDelta):
            reasoning.append(ev.text)
        elif isinstance(ev, ContentDelta):
            content.append(ev.text)
        elif isinstance(ev, ToolCallStart):
            ids[ev.index], pieces[ev.index] = f"chatcmpl-tool-{uuid.uuid4().hex}", []
            while len(arr) <= ev.index:  # list position == index (withdrawn calls keep theirs)
                arr.append({"name": "", "arguments": ""})
                streamed.append("")
            arr[ev.index]["name"] = ev.name
            calls[ev.index] = DeltaToolCall(
                index=ev.index,
                id=ids[ev.index],
                type="function",
                function=DeltaFunctionCall(name=ev.name, arguments=""),
            )
        elif isinstance(ev, ToolCallArgumentsDelta):
            pieces[ev.index].append(ev.text)
            call = calls.setdefault(
                ev.index, DeltaToolCall(index=ev.index, function=DeltaFunctionCall(arguments=""))
            )
            call.function.arguments += ev.text
        elif (i := getattr(ev, "index", None)) is not None and i in pieces:  # End or withdrawn
            arr[i]["arguments"] = streamed[i] = "".join(pieces.pop(i))
    if not (reasoning or content or calls):
        return None
    return _text_message("".join(reasoning), "".join(content), echo, list(calls.values()))


def _responses_safe(
    events: list[Event], open_calls: Collection[int], last: bool
) -> tuple[list[Event], list[Event]]:
    """For a ``/v1/responses`` request (chat completions and ``/v1/messages`` carry any message):
    ``events`` cut into what goes out now and what waits for the next delta, so that no message
    carries text after argument bytes of a call an earlier message opened. vLLM 0.32's streaming
    ``/v1/responses`` splits a message into reasoning, then content, then tool calls, and then takes
    the argument bytes of an already open call for a new call without a name: a pydantic error that
    drops the connection. So the text waits for the next delta; on the last delta nothing can wait,
    and the argument bytes of a call withdrawn in the same delta are dropped instead (what was sent
    stays a prefix of the block's text, which follows as content). Left: the last delta closing a
    valid call with text after it (README "On the wire")."""
    if len(events) < 2 or not open_calls:  # the hot path: one event, or no call open
        return events, []
    before = set(open_calls)
    first = next(
        (
            k
            for k, ev in enumerate(events)
            if type(ev) is ToolCallArgumentsDelta and ev.index in before
        ),
        None,
    )
    text = (ContentDelta, ReasoningDelta)
    cut = (
        None
        if first is None
        else next((k for k in range(first, len(events)) if isinstance(events[k], text)), None)
    )
    if cut is None:
        return events, []
    if not last:
        return events[:cut], events[cut:]
    dropped = {ev.index for ev in events if isinstance(ev, ToolCallMalformed)}
    return [
        ev
        for ev in events
        if not (type(ev) is ToolCallArgumentsDelta and ev.index in dropped & before)
    ], []


def _split(events: Sequence[Event], echo: bool) -> Any:
    """The reasoning splitter's events as one DeltaMessage: reasoning, then the content after it;
    ``echo``: see :func:`_text_message`."""
    if len(events) == 1 and type(ev := events[0]) is ReasoningDelta:  # the hot path
        return _text_message(ev.text, "", echo)
    reasoning = "".join(e.text for e in events if isinstance(e, ReasoningDelta))
    content = "".join(e.text for e in events if isinstance(e, ContentDelta))
    if not (reasoning or content):
        return None
    return _text_message(reasoning, content, echo)


class QwQToolParser(ToolParser):  # type: ignore[misc]
    """``<tool_call>{json}</tool_call>`` blocks after QwQ's think block, streamed exactly."""

    supports_required_and_named = False
    structural_tag_model = _STRUCTURAL_TAG
    engine_based_streaming = True
    skip_reasoning_parsing = False  # vLLM sets True when no reasoning parser runs: then we split it
    whole_calls = False  # see QwQWholeCallToolParser

    def __init__(self, tokenizer: Any, tools: list[Any] | None = None) -> None:
        try:  # >= 0.19
            super().__init__(tokenizer, tools)
        except TypeError:  # <= 0.18
            super().__init__(tokenizer)
        self.supports_required_and_named = False  # even if VLLM_ENFORCE_STRICT_TOOL_CALLING=0
        self._parser: StreamParser | None = None
        self._ids: dict[int, str] = {}
        self._pieces: dict[int, list[str]] = {}  # arguments of calls still open
        self._carry: list[Event] = []  # text held for the next delta (see _responses_safe)
        self._responses = False  # serving /v1/responses: see _responses_safe
        self._last: Any = None  # the message the latest delta returned
        self._failed = False
        self._closed = False
        self._end_ids = _end_token_ids(tokenizer)
        self._echo = _echo_reasoning_content()
        self._limit: int | None = None
        self._tokenizer = tokenizer

    def adjust_request(self, request: Any) -> Any:
        """``"tool_choice": null`` with tools is ``"auto"`` (issue 11), as in OpenAI's API, where null
        is the default. vLLM 0.32 takes null as "no tool choice" in its non-streaming branch and
        drops the calls this parser found. vLLM runs this hook on the request it then serves, for
        every ``tool_choice`` but "none"; where it does not, nothing changes. vLLM decides its tool
        grammar just before: null gets none, like "auto" unless the request or server asks for
        strict calls (see README "Wire fields")."""
        try:
            if getattr(request, "tools", None) and getattr(request, "tool_choice", "") is None:
                request.tool_choice = "auto"
        except Exception:  # never fail a request over this
            logger.exception("qwq tool parser could not read tool_choice=null as auto")
        return super().adjust_request(request)

    def _options(self, request: Any) -> dict[str, Any]:
        none = getattr(request, "tool_choice", None) == "none"  # engine-based "none": calls -> text
        return {
            "tools": [] if none else None,
            "unknown_tool": "content" if none else "call",
            "start_in_reasoning": self._starts_in_reasoning(request),
            "parallel_tool_calls": _parallel_tool_calls(request),
            "whole_calls": self.whole_calls,
        }

    def _starts_in_reasoning(self, request: Any) -> bool:
        """With a reasoning parser, this parser sees the text after the think block (or all of it,
        when the prompt closed the block: a leading ``<think>`` still opens one). Without one, the
        request and tokenizer decide, on both paths alike (vLLM gives this parser no prompt)."""
        if not self.skip_reasoning_parsing:
            return False
        return _start_from_request(request, self._tokenizer)

    def extract_tool_calls(self, model_output: str, request: Any) -> Any:
        try:
            result = parse(model_output, **self._options(request))
        except Exception:  # never raise out of a hook: all text stays content
            logger.exception("qwq tool parser failed; returning the output as content")
            return ExtractedToolCallInformation(
                tools_called=False, tool_calls=[], content=model_output
            )
        calls = [
            ToolCall(
                id=f"chatcmpl-tool-{uuid.uuid4().hex}",
                type="function",
                function=FunctionCall(name=c.name, arguments=c.arguments),
            )
            for c in result.tool_calls
        ]
        content = result.content
        if result.reasoning is not None:
            # No reasoning parser, and vLLM's non-streaming API has no reasoning slot for a tool
            # parser: the think block stays in content, as text (streaming splits it properly).
            k = model_output.find(THINK_END)
            content = (
                model_output
                if k < 0
                else (model_output[: k + len(THINK_END)] + ("\n\n" + content if content else ""))
            )
        return ExtractedToolCallInformation(
            tools_called=bool(calls), tool_calls=calls, content=content
        )

    def extract_tool_calls_streaming(
        self,
        previous_text: str,
        current_text: str,
        delta_text: str,
        previous_token_ids: Sequence[int],
        current_token_ids: Sequence[int],
        delta_token_ids: Sequence[int],
        request: Any,
    ) -> Any:
        try:
            if self._failed:
                return DeltaMessage(content=delta_text) if delta_text else None
            if self._parser is None:
                self._parser = StreamParser(**self._options(request))
                self._limit = _token_limit(request)
                self._responses = hasattr(request, "max_output_tokens")  # a /v1/responses request
            events = self._parser.feed(delta_text)
            if self._carry:
                events = self._carry + events
            last = _is_last_delta(self._end_ids, delta_token_ids, current_token_ids, self._limit)
            if last:
                events += self._close()
            if self._responses:
                events, self._carry = _responses_safe(events, self._pieces, last)
            return self._emit(events)
        except Exception:
            logger.exception("qwq tool parser failed; streaming the rest as content")
            self._failed = True
            return DeltaMessage(content=delta_text) if delta_text else None

    def finish_streaming(self) -> Any:
        """End of the stream (vLLM 0.24+): flush what the core held back."""
        try:
            if self._parser is None or self._failed:
                return None
            events = self._carry + self._close()
            if self._responses:
                events, self._carry = _responses_safe(events, self._pieces, True)
                self._drop_withdrawn_arguments(events)
            return self._emit(events)
        except Exception:
            logger.exception("qwq tool parser failed at the end of the stream")
            return None

    def _drop_withdrawn_arguments(self, events: list[Event]) -> None:
        """vLLM merges this flush into the message the same step's delta returned (``_last``): the
        argument bytes it carries for a call the flush withdraws come out (see _responses_safe)."""
        last = self._last
        withdrawn = {ev.index for ev in events if isinstance(ev, ToolCallMalformed)}
        if last is not None and withdrawn and getattr(last, "tool_calls", None):
            last.tool_calls = [c for c in last.tool_calls if c.id or c.index not in withdrawn]

    def _close(self) -> list[Event]:
        """The core's held-back text, once (the last delta or ``finish_streaming``)."""
        if self._closed or self._parser is None:
            return []
        self._closed = True
        return self._parser.close()

    def _emit(self, events: list[Event]) -> Any:
        msg = _message(
            events,
            self._ids,
            self._pieces,
            self.prev_tool_call_arr,
            self.streamed_args_for_tool,
            self._echo,
        )
        self._last = msg
        self.current_tool_id = len(self.prev_tool_call_arr) - 1  # kept for vLLM <= 0.22
        self.current_tool_name_sent = bool(self.prev_tool_call_arr)
        return msg

    def get_structural_tag(self, request: Any, *, reasoning: bool = False, **kw: Any) -> Any:
        try:
            tag = super().get_structural_tag(request, reasoning=reasoning, **kw)
            if tag is not None and self.skip_reasoning_parsing:  # the grammar must pass the think
                tag = _xs.StructuralTag(format=after_think(tag.format.model_dump()))
        except Exception:  # no grammar is better than a failed request
            logger.exception("qwq structural tag failed; tool calls are not constrained")
            return None
        return tag


class QwQWholeCallToolParser(QwQToolParser):
    """``qwq_whole``: every call in one delta, once its block validated; no call is ever withdrawn."""

    whole_calls = True


class QwQReasoningParser(ReasoningParser):  # type: ignore[misc]
    """The think block: the output starts inside it when the prompt leaves it open; the first
    ``</think>`` ends it."""

    engine_based_streaming = True

    def __init__(self, tokenizer: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(tokenizer, *args, **kwargs)
        vocab = self.vocab
        self.start_token_id = vocab.get("<think>")
        self.end_token_id = vocab.get(THINK_END)
        self._turn_start_id = vocab.get("<|im_start|>")
        self._chat_template_kwargs = kwargs.get("chat_template_kwargs")  # vLLM 0.32+ passes them
        self._tokenizer = tokenizer
        self._prompt_start: bool | None = None  # from set_prompt_token_ids (vLLM 0.33+)
        self._request_start: bool | None = None  # from the request, where the prompt is not given
        self._stream: StreamParser | None = None  # created on the first delta
        self._ended = False
        self._closed = False
        self._end_ids = _end_token_ids(tokenizer)
        self._echo = _echo_reasoning_content()
        self._counted = 0  # count_reasoning_tokens' scan state
        self._end_at: int | None = None

    @property
    def reasoning_start_str(self) -> str:
        return "<think>"

    @property
    def reasoning_end_str(self) -> str:
        return THINK_END

    def _prompt_rule(self, prompt_ids: Sequence[int]) -> bool:
        return starts_in_reasoning(
            prompt_ids,
            think_open_id=self.start_token_id,
            think_close_id=self.end_token_id,
            turn_start_id=self._turn_start_id,
        )

    def is_reasoning_end(self, input_ids: Sequence[int]) -> bool:
        """On the prompt: reasoning is over unless the prompt's final turn leaves a block open.
        vLLM 0.20-0.23 also ask it about the output so far, which has no turn marker: there, no
        think tag at all means the block is still open (issue 13's matrix)."""
        marks = (self.start_token_id, self.end_token_id, self._turn_start_id)
        if not any(tok in marks for tok in input_ids):
            return False
        return not self._prompt_rule(input_ids)

    def set_prompt_token_ids(self, prompt_token_ids: Sequence[int]) -> None:
        """vLLM 0.33+: the prompt, before either path parses the output."""
        self._prompt_start = self._prompt_rule(prompt_token_ids)

    adjust_initial_state_from_prompt = set_prompt_token_ids  # 0.32+ streaming, prompt left open

    def _start(self, request: Any) -> bool:
        """The prompt if vLLM gave it, else what the request and tokenizer tell of it."""
        if self._prompt_start is not None:
            return self._prompt_start
        self._request_start = _start_from_request(
            request, self._tokenizer, self._chat_template_kwargs
        )
        return self._request_start

    def is_reasoning_end_streaming(self, input_ids: Sequence[int], delta_ids: Any) -> bool:
        return self._ended or self.end_token_id in delta_ids

    def has_engine_confirmed_reasoning_end(self) -> bool:
        return self._ended

    def extract_content_ids(self, input_ids: list[int]) -> list[int]:
        if self.end_token_id in input_ids[:-1]:
            return input_ids[input_ids.index(self.end_token_id) + 1 :]
        return []

    def count_reasoning_tokens(self, token_ids: Sequence[int]) -> int:
        """Tokens before ``</think>``; vLLM may pass the growing output each delta: scan only news."""
        n = len(token_ids)
        start = self._request_start if self._prompt_start is None else self._prompt_start
        if start is False and (not n or token_ids[0] != self.start_token_id):
            return 0  # the prompt closed the block and the model opened none
        if n < self._counted:
            self._counted, self._end_at = 0, None
        for i in range(self._counted, n) if self._end_at is None else ():
            if token_ids[i] == self.end_token_id:
                self._end_at = i
                break
        self._counted = n
        return n if self._end_at is None else self._end_at

    def extract_reasoning(self, model_output: str, request: Any) -> tuple[str | None, str | None]:
        start = self._start(request)
        result = parse(model_output, start_in_reasoning=start, parse_tool_calls=False)
        return result.reasoning, result.content

    def extract_reasoning_streaming(
        self,
        previous_text: str,
        current_text: str,
        delta_text: str,
        previous_token_ids: Sequence[int],
        current_token_ids: Sequence[int],
        delta_token_ids: Sequence[int],
    ) -> Any:
        # vLLM streams through this parser only after is_reasoning_end(prompt) said the prompt
        # left the block open (or could not tell): start inside it unless the prompt said otherwise.
        if self._stream is None:
            start = True if self._prompt_start is None else self._prompt_start
            self._stream = StreamParser(start_in_reasoning=start, parse_tool_calls=False)
        try:
            events = self._stream.feed(delta_text)
            if not self._ended and _is_last_delta(self._end_ids, delta_token_ids):
                events += self._close()
        except Exception:
            logger.exception("qwq reasoning parser failed; passing the delta through")
            events = [
                ContentDelta(text=delta_text) if self._ended else ReasoningDelta(text=delta_text)
            ]
        self._ended = self._ended or self._stream.after_reasoning  # the rest is content
        return _split(events, self._echo)

    def finish_streaming(self) -> Any:
        """End of the stream: flush a held-back partial tag."""
        try:
            return _split(self._close(), self._echo)
        except Exception:
            logger.exception("qwq reasoning parser failed at the end of the stream")
            return None

    def _close(self) -> list[Event]:
        if self._closed or self._stream is None:
            return []
        self._closed = True
        return self._stream.close()

    # vLLM <= 0.11 calls these names
    extract_reasoning_content = extract_reasoning
    extract_reasoning_content_streaming = extract_reasoning_streaming


def _qwq_structural_tag(
    tools: list[Any],
    builtin_tools: list[Any],
    tool_choice: str,
    reasoning: bool,
    token_suffix: str = "",
) -> Any:
    """QwQ's call grammar (``_structural_tag``): ``auto`` constrains only what follows a
    ``<tool_call>``; ``required`` and named (``forced``, one call) allow calls and whitespace only."""
    schemas = [(t.function.name, _function_parameters(t.function)) for t in tools]
    # vLLM says ``true`` for a tool without parameters; the arguments must still be an object
    grammar_tools = [(name, s if isinstance(s, Mapping) else None) for name, s in schemas]
    tag = tool_calls_tag(
        grammar_tools, required=tool_choice != "auto", one_call=tool_choice == "forced"
    )
    return _xs.StructuralTag.model_validate(tag)


def register() -> None:
    """Register both parsers as ``qwq``, and the tool parser in whole-call mode as ``qwq_whole``
    (idempotent: the file-path route imports this twice)."""
    ToolParserManager.register_module("qwq", force=True, module=QwQToolParser)
    ToolParserManager.register_module("qwq_whole", force=True, module=QwQWholeCallToolParser)
    ReasoningParserManager.register_module("qwq", force=True, module=QwQReasoningParser)
    if _STRUCTURAL_TAG is not None:
        _register_tag(_STRUCTURAL_TAG)(_qwq_structural_tag)
    logger.info("qwq tool and reasoning parsers registered (pid %d)", os.getpid())
    log_check(logger, vllm, [(QwQToolParser, ToolParser), (QwQReasoningParser, ReasoningParser)])


register()
