"""The folded result of a whole response, and the two one-call entry points ``parse``/``parse_stream``.

Strategy: there is exactly one parser. ``parse(text)`` is ``parse_stream([text])``: the same state
machine fed the whole text at once. That makes "streaming equals non-streaming" a property of one
machine under different chunkings, which the property tests check, rather than an agreement between
two implementations that could drift. ``ResultBuilder`` folds events into a ``ParseResult``; engine
adapters use it too, so every consumer folds events the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ._errors import ToolCallParserError
from ._events import (
    ContentDelta,
    Event,
    ReasoningDelta,
    ToolCallEnd,
    ToolCallMalformed,
    ToolCallStart,
)
from ._markup import WHITESPACE
from ._parser import StreamParser, UnknownToolPolicy


@dataclass(frozen=True, slots=True)
class ToolCall:
    """One complete tool call."""

    name: str
    """The function name."""
    arguments: str
    """The arguments as the model wrote them: a JSON object text."""


@dataclass(frozen=True, slots=True)
class Malformed:
    """A ``<tool_call>`` block that yielded no call (its raw text is part of ``content``)."""

    raw: str
    reason: str
    offset: int
    truncated: bool = False
    """The output ended inside the block (see :attr:`ToolCallMalformed.truncated`)."""


@dataclass(frozen=True, slots=True)
class ParseResult:
    """What one response means: reasoning, visible content and tool calls."""

    reasoning: str | None
    """The think block's text, or None if there was none (or only whitespace)."""
    content: str | None
    """The visible answer, or None if it is empty or only whitespace."""
    tool_calls: list[ToolCall] = field(default_factory=list)
    """The valid calls, in order."""
    malformed: list[Malformed] = field(default_factory=list)
    """Blocks that looked like calls but were not; their text is in ``content``."""

    def to_openai_message(self) -> dict[str, Any]:
        """Render as an OpenAI chat-completion assistant message (ids are ``call_<n>``)."""
        return {
            "role": "assistant",
            "reasoning_content": self.reasoning,
            "content": self.content,
            "tool_calls": [
                {
                    "id": f"call_{n}",
                    "type": "function",
                    "function": {"name": call.name, "arguments": call.arguments},
                }
                for n, call in enumerate(self.tool_calls)
            ],
        }


def _text_or_none(parts: list[str]) -> str | None:
    text = "".join(parts)
    return text if text.strip(WHITESPACE) else None


class ResultBuilder:
    """Folds events, in order, into a :class:`ParseResult`."""

    def __init__(self) -> None:
        self._reasoning: list[str] = []
        self._content: list[str] = []
        self._names: dict[int, str] = {}
        self._ended: dict[int, str] = {}
        self._malformed: list[Malformed] = []

    def add(self, events: Iterable[Event]) -> None:
        """Fold more events."""
        for event in events:
            if isinstance(event, ReasoningDelta):
                self._reasoning.append(event.text)
            elif isinstance(event, ContentDelta):
                self._content.append(event.text)
            elif isinstance(event, ToolCallStart):
                self._names[event.index] = event.name
            elif isinstance(event, ToolCallEnd):
                self._ended[event.index] = event.arguments
            elif isinstance(event, ToolCallMalformed):
                if event.index is not None:
                    del self._names[event.index]
                self._malformed.append(
                    Malformed(event.raw, event.reason, event.offset, event.truncated)
                )
            # ToolCallArgumentsDelta needs no folding: ToolCallEnd carries the whole arguments.

    def result(self) -> ParseResult:
        """The result of everything folded so far (calls that have not ended are left out)."""
        calls = [
            ToolCall(self._names[index], arguments)
            for index, arguments in sorted(self._ended.items())
            if index in self._names
        ]
        return ParseResult(
            reasoning=_text_or_none(self._reasoning),
            content=_text_or_none(self._content),
            tool_calls=calls,
            malformed=list(self._malformed),
        )


def parse_stream(
    chunks: Iterable[str],
    *,
    tools: Sequence[Mapping[str, Any]] | None = None,
    start_in_reasoning: bool = True,
    parallel_tool_calls: bool = True,
    unknown_tool: UnknownToolPolicy = "call",
    parse_tool_calls: bool = True,
    whole_calls: bool = False,
) -> ParseResult:
    """Run a :class:`StreamParser` over ``chunks`` (the deltas of one response) and fold the events.

    Args:
        chunks: the response text, in any chunking (empty chunks are fine).
        tools: OpenAI tool dicts; see :class:`StreamParser`.
        start_in_reasoning: see :class:`StreamParser`.
        parallel_tool_calls: see :class:`StreamParser`.
        unknown_tool: see :class:`StreamParser`.
        parse_tool_calls: see :class:`StreamParser`.
        whole_calls: see :class:`StreamParser`.

    Returns:
        The folded result; equal to ``parse("".join(chunks), ...)`` for every chunking.
    """
    parser = StreamParser(
        tools,
        start_in_reasoning=start_in_reasoning,
        parallel_tool_calls=parallel_tool_calls,
        unknown_tool=unknown_tool,
        parse_tool_calls=parse_tool_calls,
        whole_calls=whole_calls,
    )
    builder = ResultBuilder()
    try:
        chunks = iter(chunks)
    except TypeError:
        raise ToolCallParserError(f"chunks must be an iterable of str, got {chunks!r}") from None
    for chunk in chunks:
        builder.add(parser.feed(chunk))
    builder.add(parser.close())
    return builder.result()


def parse(
    text: str,
    *,
    tools: Sequence[Mapping[str, Any]] | None = None,
    start_in_reasoning: bool = True,
    parallel_tool_calls: bool = True,
    unknown_tool: UnknownToolPolicy = "call",
    parse_tool_calls: bool = True,
    whole_calls: bool = False,
) -> ParseResult:
    """Parse one whole response (non-streaming).

    Args:
        text: the model's complete output for one response.
        tools: OpenAI tool dicts; see :class:`StreamParser`.
        start_in_reasoning: see :class:`StreamParser`.
        parallel_tool_calls: see :class:`StreamParser`.
        unknown_tool: see :class:`StreamParser`.
        parse_tool_calls: see :class:`StreamParser`.
        whole_calls: see :class:`StreamParser`.

    Returns:
        Reasoning, content and tool calls. Never raises on any text.
    """
    return parse_stream(
        [text],
        tools=tools,
        start_in_reasoning=start_in_reasoning,
        parallel_tool_calls=parallel_tool_calls,
        unknown_tool=unknown_tool,
        parse_tool_calls=parse_tool_calls,
        whole_calls=whole_calls,
    )
