"""The events a :class:`~qwq_tool_parser.StreamParser` emits: the package's public vocabulary.

Strategy: every event is a frozen, slotted, keyword-only dataclass, so events are cheap to create on
the per-delta hot path, hashable, comparable in tests, and cannot be mutated by a consumer.
Text-carrying events hold exactly the characters of the model output they stand for; concatenating
the ``text`` of all deltas of one kind gives that part of the output. ``normalize`` merges adjacent
deltas of the same kind, which makes the events of two different chunkings of one text comparable.

Don't subclass these: consumers dispatch on the exact type.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


def _short(text: str, limit: int = 40) -> str:
    return repr(text) if len(text) <= limit else repr(text[:limit]) + f"...(+{len(text) - limit})"


@dataclass(frozen=True, slots=True, kw_only=True)
class ReasoningDelta:
    """A piece of the model's reasoning (the think block), markup excluded."""

    text: str
    """The reasoning characters, exactly as the model wrote them."""

    def __repr__(self) -> str:
        return f"ReasoningDelta(text={_short(self.text)})"


@dataclass(frozen=True, slots=True, kw_only=True)
class ContentDelta:
    """A piece of the visible answer; framing whitespace around markup is not included."""

    text: str
    """The content characters, exactly as the model wrote them."""

    def __repr__(self) -> str:
        return f"ContentDelta(text={_short(self.text)})"


@dataclass(frozen=True, slots=True, kw_only=True)
class ToolCallStart:
    """A tool call is announced: its name is complete and its arguments have started as a JSON
    object (or its block ended and validated); they follow as :class:`ToolCallArgumentsDelta`."""

    index: int
    """Position of this call among the calls of the response, counting from 0."""
    name: str
    """The function name, decoded from its JSON string."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ToolCallArgumentsDelta:
    """A piece of a call's arguments text; all pieces of one call concatenate to its arguments."""

    index: int
    """The call this piece belongs to."""
    text: str
    """Characters of the arguments JSON object text, as the model wrote them. Together, the pieces
    of a call so far are always a prefix of a valid JSON object."""

    def __repr__(self) -> str:
        return f"ToolCallArgumentsDelta(index={self.index}, text={_short(self.text)})"


@dataclass(frozen=True, slots=True, kw_only=True)
class ToolCallEnd:
    """A call is complete and valid."""

    index: int
    """The call that ended."""
    arguments: str
    """The complete arguments: a JSON object text, equal to the concatenated argument deltas."""
    raw: str
    """The whole block as the model wrote it, tags included (for logs and loss checks)."""

    def __repr__(self) -> str:
        return f"ToolCallEnd(index={self.index}, arguments={_short(self.arguments)})"


@dataclass(frozen=True, slots=True, kw_only=True)
class ToolCallMalformed:
    """A ``<tool_call>`` block yielded no call; its raw text was emitted as content just before.

    If the block had already been announced with :class:`ToolCallStart`, ``index`` names that call,
    which is withdrawn: it is not part of the result. That happens only when the output ends inside
    the announced call (``truncated``), or when what follows the announcement cannot continue it:
    invalid JSON, or a repeated ``name``/``arguments`` key. Otherwise (and always with
    ``whole_calls``) ``index`` is None.
    """

    index: int | None
    """The withdrawn call's index, or None if the block was never announced as a call."""
    raw: str
    """The block's text, tags included, exactly as it went to content."""
    reason: str
    """Why the block is not a call, in words a person can act on."""
    offset: int
    """Character offset of the block's ``<tool_call>`` in the whole model output."""
    truncated: bool = False
    """The output ended inside the block before its JSON object was complete, with nothing invalid
    before that (e.g. ``max_tokens``): the call was cut off, not written wrongly."""

    def __repr__(self) -> str:
        return (
            f"ToolCallMalformed(index={self.index}, raw={_short(self.raw)}, "
            f"reason={self.reason!r}, offset={self.offset}, truncated={self.truncated})"
        )


Event = (
    ReasoningDelta
    | ContentDelta
    | ToolCallStart
    | ToolCallArgumentsDelta
    | ToolCallEnd
    | ToolCallMalformed
)
"""Any event a parser emits."""


def normalize(events: Iterable[Event]) -> list[Event]:
    """Merge adjacent deltas of the same kind (and call) and drop empty ones.

    Two chunkings of one text give equal normalized events; that is the chunking-invariance law.
    """
    out: list[Event] = []
    for event in events:
        if isinstance(event, (ReasoningDelta, ContentDelta, ToolCallArgumentsDelta)):
            if not event.text:
                continue
            last = out[-1] if out else None
            if isinstance(event, ToolCallArgumentsDelta):
                if isinstance(last, ToolCallArgumentsDelta) and last.index == event.index:
                    out[-1] = ToolCallArgumentsDelta(index=event.index, text=last.text + event.text)
                    continue
            elif isinstance(last, ReasoningDelta) and isinstance(event, ReasoningDelta):
                out[-1] = ReasoningDelta(text=last.text + event.text)
                continue
            elif isinstance(last, ContentDelta) and isinstance(event, ContentDelta):
                out[-1] = ContentDelta(text=last.text + event.text)
                continue
        out.append(event)
    return out
