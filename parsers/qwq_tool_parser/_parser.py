"""``StreamParser``: the sans-IO, push-style streaming parser (``feed(delta) -> events``, ``close()``).

Strategy. The output of a QwQ response is read once, left to right, by a four-phase machine:

    START ──<think>──▶ REASONING ──</think>──▶ CONTENT ──<tool_call>──▶ CALL ──</tool_call>──▶ CONTENT
      └─(no <think>)─▶ REASONING (start_in_reasoning) or CONTENT (not)

- START: optional whitespace, then an optional ``<think>`` (markup, not reasoning).
- REASONING: everything up to ``</think>`` is reasoning; ``<tool_call>`` here is just text.
  Whitespace at the start of the think block (after ``<think>``, or at the start of an output that
  starts in reasoning) and right before ``</think>`` is framing, not reasoning, as for content.
- CONTENT: text up to ``<tool_call>``. Whitespace at the start of a content segment (after
  ``</think>``, after a call, at the start of the output) and right before a call is framing, not
  content. A block that yields no call is text, like the whitespace around it.
- CALL: a :class:`~qwq_tool_parser._call_block.CallBlock` reads the block until its closing tag (or,
  once its JSON is complete, the next ``<tool_call>``, or the end of the output) and settles it as a
  call or as content with a ``ToolCallMalformed`` event.

Each phase handler consumes ``text[i:]`` and returns how far it got; the only text ever kept between
deltas is a possible cut-off tag (at most 11 characters, ``_carry``), pending framing whitespace
of content or reasoning (each capped by ``MAX_FRAMING_WHITESPACE``), and the open call block (which must be kept whole to validate
it once when it ends). So work per ``feed`` is proportional to the delta, amortized. The deltas of the
long runs skip the machine: reasoning or content with no ``<`` and no whitespace to hold back goes
out whole, and so does a piece of an argument string that only continues it (the open block's
``stream_string_piece``); each is a few checks and one event.

Conservation law (tested): every input character ends up in exactly one place: a reasoning delta, a
content delta (a malformed block's raw text included), a call's name or arguments (inside the block
JSON), or markup and framing whitespace. Nothing is ever dropped silently.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

from ._call_block import CallBlock
from ._errors import ToolCallParserError
from ._events import ContentDelta, Event, ReasoningDelta
from ._markup import (
    CALL_OPEN,
    THINK_CLOSE,
    THINK_OPEN,
    WHITESPACE,
    hold_trailing_whitespace,
    partial_tag_start,
    skip_whitespace,
)

UnknownToolPolicy = Literal["call", "content"]
"""What to do with a call whose name is not among ``tools``: keep it as a call, or make it content."""

MAX_FRAMING_WHITESPACE = 1024
"""Longest whitespace run that is held back as possible framing (before ``<tool_call>``, or before
``</think>``). Framing is a few newlines; a longer run cannot be framing, so it is emitted as
text instead of growing a buffer without bound. The rule depends only on the text, never on how it
was chunked, so streaming and one-shot parsing agree."""

_START, _REASONING, _CONTENT, _CALL = range(4)


def _tool_names(tools: Sequence[Mapping[str, Any]] | None) -> frozenset[str] | None:
    if tools is None:
        return None
    names = set()
    try:
        tools = list(tools)
    except TypeError:
        raise ToolCallParserError(f"tools must be a list of tool dicts, got {tools!r}") from None
    for tool in tools:
        if not isinstance(tool, Mapping):
            raise ToolCallParserError(f"a tool must be a mapping, got {type(tool).__name__}")
        function = tool.get("function", tool)
        name = function.get("name") if isinstance(function, Mapping) else None
        if not isinstance(name, str):
            raise ToolCallParserError(f"tool without a string function name: {tool!r}")
        names.add(name)
    return frozenset(names)


class StreamParser:
    """Parses one response, delta by delta. Create one per response (per choice).

    Example:
        >>> p = StreamParser()
        >>> events = p.feed("I should call f.</think>\\n\\n<tool_call>\\n{\\"name\\": \\"f\\", ")
        >>> events += p.feed('"arguments": {"x": 1}}\\n</tool_call>')
        >>> events += p.close()
    """

    def __init__(
        self,
        tools: Sequence[Mapping[str, Any]] | None = None,
        *,
        start_in_reasoning: bool = True,
        parallel_tool_calls: bool = True,
        unknown_tool: UnknownToolPolicy = "call",
        parse_tool_calls: bool = True,
        whole_calls: bool = False,
    ) -> None:
        """Args:
            tools: the request's OpenAI tool dicts (``{"type": "function", "function": {"name":
                ...}}``). Only the names are used, by ``unknown_tool="content"``.
            start_in_reasoning: the output starts inside the think block, as with QwQ's template
                (whose generation prompt ends with ``<think>\\n``). Text up to ``</think>`` is
                reasoning; with no ``</think>`` at all, everything is reasoning. With False, a
                leading ``<think>...</think>`` is still recognised. Derive it from the prompt with
                :func:`~qwq_tool_parser.starts_in_reasoning`.
            parallel_tool_calls: with False, only the first valid call is kept; every later block
                becomes content, with a ``ToolCallMalformed`` event saying why.
            unknown_tool: ``"call"`` keeps calls to names not in ``tools``; ``"content"`` turns them
                into content with a ``ToolCallMalformed`` event. Ignored when ``tools`` is None.
            parse_tool_calls: with False, only the think block is parsed: everything after it is
                content, verbatim but for the framing whitespace right after ``</think>``. This is
                the reasoning splitter engines run before their tool parser.
            whole_calls: emit each call in one piece when its block has ended and validated:
                ``ToolCallStart``, one ``ToolCallArgumentsDelta`` with the complete arguments and
                ``ToolCallEnd``, back to back. A block that is no call is content with a
                ``ToolCallMalformed(index=None)``: nothing announced is ever withdrawn.

        Raises:
            ToolCallParserError: a bad argument.
        """
        if unknown_tool not in ("call", "content"):
            raise ToolCallParserError(f"unknown_tool must be 'call' or 'content': {unknown_tool!r}")
        self._tool_names = _tool_names(tools)
        self._reject_unknown = unknown_tool == "content" and self._tool_names is not None
        self._start_in_reasoning = bool(start_in_reasoning)
        self._parallel = bool(parallel_tool_calls)
        self._parse_calls = bool(parse_tool_calls)
        self._whole_calls = bool(whole_calls)
        self._phase = _START
        self._carry = ""  # unconsumed end of the previous delta: a possible cut-off tag
        self._fed = 0  # characters fed so far
        self._closed = False
        self._reasoning_open = False  # the think block's text has started (leading framing over)
        self._reasoning_ws = ""  # trailing whitespace of reasoning: framing if </think> follows
        self._reasoning_ws_overflow = False  # that run outgrew the framing cap: it is reasoning
        self._segment_open = False  # a content segment has started (leading framing is over)
        self._pending_ws = ""  # trailing whitespace of content: framing if a call follows
        self._ws_overflow = False  # the current whitespace run outgrew the framing cap
        self._call: CallBlock | None = None
        # The open block's hot path while its arguments stream (a string, nothing carried), or None.
        self._stream_piece: Callable[[str], Event | None] | None = None
        self._next_index = 0
        self._calls_made = 0
        self._out: list[Event] = []

    # -- public API -------------------------------------------------------------------------------

    def feed(self, delta: str) -> list[Event]:
        """Parse the next piece of output.

        Args:
            delta: the new text (any length, possibly empty, cut anywhere, even inside a tag).

        Returns:
            The events this text completes, in order. Text that may be a cut-off tag or framing
            whitespace is held back until later text (or :meth:`close`) settles it.

        Raises:
            ToolCallParserError: called after :meth:`close`, or with a non-string.
        """
        stream_piece = self._stream_piece
        if stream_piece is not None and type(delta) is str and delta:
            event = stream_piece(delta)
            if event is not None:
                self._fed += len(delta)
                return [event]
        if self._closed:
            raise ToolCallParserError("feed() called after close()")
        if not isinstance(delta, str):
            raise ToolCallParserError(f"feed() takes str, got {type(delta).__name__}")
        if not delta:
            return []
        if not self._carry and "<" not in delta:  # fast paths of the other long runs: text
            phase = self._phase
            if phase == _REASONING and self._reasoning_open:
                self._fed += len(delta)
                if not self._reasoning_ws and delta[-1] not in WHITESPACE:  # nothing to hold
                    self._reasoning_ws_overflow = False
                    return [ReasoningDelta(text=delta)]
                events: list[Event] = []
                self._out = events
                self._reasoning(delta)
                return events
            if (
                phase == _CONTENT
                and self._segment_open
                and (
                    not self._parse_calls or (not self._pending_ws and delta[-1] not in WHITESPACE)
                )
            ):  # content that holds back nothing (no framing whitespace to wait for)
                self._fed += len(delta)
                self._ws_overflow = False
                return [ContentDelta(text=delta)]
        text = self._carry + delta if self._carry else delta
        origin = self._fed - len(self._carry)
        self._carry = ""
        self._fed += len(delta)
        out = self._run(text, origin, final=False)
        call = self._call
        streaming = call is not None and call.streaming and not self._carry
        self._stream_piece = call.stream_string_piece if streaming else None  # type: ignore[union-attr]
        return out

    def close(self) -> list[Event]:
        """End of output: flush held-back text and settle an open block (idempotent).

        Returns:
            The last events. A block whose JSON is complete is a call even without
            ``</tool_call>``; any other unfinished block becomes content.
        """
        if self._closed:
            return []
        self._closed = True
        self._stream_piece = None
        text, self._carry = self._carry, ""
        out = self._run(text, self._fed - len(text), final=True)
        if self._phase == _REASONING and self._reasoning_ws:
            out.append(ReasoningDelta(text=self._reasoning_ws))  # no </think>: it is reasoning
            self._reasoning_ws = ""
        elif self._phase == _CONTENT and self._pending_ws:
            out.append(ContentDelta(text=self._pending_ws))
            self._pending_ws = ""
        elif self._phase == _CALL:
            self._end_call()
        return out

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called."""
        return self._closed

    @property
    def in_reasoning(self) -> bool:
        """True while the parser is inside the think block (or before it, at the start)."""
        return self._phase == _REASONING or (self._phase == _START and self._start_in_reasoning)

    @property
    def after_reasoning(self) -> bool:
        """True once the text is past the think block (or past the start, with no block)."""
        return self._phase > _REASONING

    # -- the machine ------------------------------------------------------------------------------

    def _run(self, text: str, origin: int, final: bool) -> list[Event]:
        out: list[Event] = []
        self._out = out
        self._origin = origin
        i, n = 0, len(text)
        handlers = self._HANDLERS
        while i < n:
            i = handlers[self._phase](self, text, i, n, final)
        return out

    def _hold(self, text: str, at: int) -> int:
        self._carry = text[at:]
        return len(text)

    def _on_start(self, text: str, i: int, n: int, final: bool) -> int:
        # Leading whitespace is framing in both start states: of the think block or of content.
        j = skip_whitespace(text, i)
        if j >= n:
            return n
        if text.startswith(THINK_OPEN, j):
            self._phase = _REASONING
            return j + len(THINK_OPEN)
        if not final and partial_tag_start(text, j, THINK_OPEN) == j:
            return self._hold(text, j)
        self._phase = _REASONING if self._start_in_reasoning else _CONTENT
        return j

    def _on_reasoning(self, text: str, i: int, n: int, final: bool) -> int:
        k = text.find(THINK_CLOSE, i)
        if k >= 0:
            self._reasoning(text[i:k])
            self._reasoning_ws = ""  # right before </think>: framing
            self._reasoning_ws_overflow = False
            self._phase = _CONTENT
            self._segment_open = False
            return k + len(THINK_CLOSE)
        end = n if final else partial_tag_start(text, i, THINK_CLOSE)
        self._reasoning(text[i:end])
        return self._hold(text, end)

    def _reasoning(self, text: str) -> None:
        """Emit think-block text, minus its leading whitespace and holding back its trailing run
        (framing if ``</think>`` follows; a run longer than the framing cap is reasoning)."""
        if not self._reasoning_open:
            text = text.lstrip(WHITESPACE)
            if not text:
                return
            self._reasoning_open = True
        piece, self._reasoning_ws = hold_trailing_whitespace(self._reasoning_ws, text)
        if piece:
            self._reasoning_ws_overflow = False
        if self._reasoning_ws_overflow or len(self._reasoning_ws) > MAX_FRAMING_WHITESPACE:
            self._reasoning_ws_overflow = True
            piece += self._reasoning_ws
            self._reasoning_ws = ""
        if piece:
            self._out.append(ReasoningDelta(text=piece))

    def _on_content(self, text: str, i: int, n: int, final: bool) -> int:
        if not self._parse_calls:
            if not self._segment_open:
                i = skip_whitespace(text, i)
                self._segment_open = i < n
            if i < n:
                self._out.append(ContentDelta(text=text[i:]))
            return n
        k = text.find(CALL_OPEN, i)
        end = k if k >= 0 else n if final else partial_tag_start(text, i, CALL_OPEN)
        if end > i:
            self._content(text[i:end])
        if k < 0:
            return self._hold(text, end)
        self._ws_overflow = False  # _pending_ws stays held: framing if the block is a call
        self._start_call(self._origin + k)
        return k + len(CALL_OPEN)

    def _content(self, text: str) -> None:
        if not self._segment_open:
            text = text.lstrip(WHITESPACE)
            if not text:
                return
            self._segment_open = True
        piece, self._pending_ws = hold_trailing_whitespace(self._pending_ws, text)
        if piece:
            self._ws_overflow = False
        if self._ws_overflow or len(self._pending_ws) > MAX_FRAMING_WHITESPACE:
            self._ws_overflow = True
            piece += self._pending_ws
            self._pending_ws = ""
        if piece:
            self._out.append(ContentDelta(text=piece))

    def _start_call(self, offset: int) -> None:
        rejection = None
        if not self._parallel and self._calls_made:
            rejection = "parallel_tool_calls is false and a call was already made"
        self._call = CallBlock(offset, self._claim_index, rejection, self._whole_calls)
        self._phase = _CALL

    def _claim_index(self, name: str) -> int | str:
        if self._reject_unknown and name not in self._tool_names:  # type: ignore[operator]
            return f"{name!r} is not one of the request's tools"
        index = self._next_index
        self._next_index += 1
        return index

    def _on_call(self, text: str, i: int, n: int, final: bool) -> int:
        call = self._call
        assert call is not None
        j = call.scan(text, self._origin, i, final, self._out)
        if call.ended:  # at its closing tag, or before the <tool_call> of the next block
            self._end_call()
            return j
        return self._hold(text, j) if j < n else n

    def _end_call(self) -> None:
        call = self._call
        assert call is not None
        # A block that is a call is framed by whitespace; one that is not is just text, so the
        # whitespace before it and after it is text too.
        called = call.finish(self._out, text_before=self._pending_ws)
        self._calls_made += called
        self._pending_ws = ""
        self._segment_open = not called
        self._call = None
        self._phase = _CONTENT

    _HANDLERS: tuple[Callable[[StreamParser, str, int, int, bool], int], ...] = (
        _on_start,
        _on_reasoning,
        _on_content,
        _on_call,
    )
