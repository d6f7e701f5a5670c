"""qwq-tool-parser: turn the streamed text of QwQ-32B (and Qwen/Hermes-style reasoning models) into
reasoning, content and OpenAI tool calls, exactly, losslessly and in linear time.

The core is engine-free and uses only the standard library. Engine adapters live in
``qwq_tool_parser.qwq_vllm`` and ``qwq_tool_parser.qwq_sglang`` and import their engine lazily.
"""

from __future__ import annotations

from ._errors import ToolCallParserError
from ._events import (
    ContentDelta,
    Event,
    ReasoningDelta,
    ToolCallArgumentsDelta,
    ToolCallEnd,
    ToolCallMalformed,
    ToolCallStart,
    normalize,
)
from ._parser import StreamParser, UnknownToolPolicy
from ._reasoning_start import starts_in_reasoning
from ._result import Malformed, ParseResult, ResultBuilder, ToolCall, parse, parse_stream
from ._templates import chat_template, chat_template_path

__version__ = "0.1.0"

__all__ = [
    "ContentDelta",
    "Event",
    "Malformed",
    "ParseResult",
    "ReasoningDelta",
    "ResultBuilder",
    "StreamParser",
    "ToolCall",
    "ToolCallArgumentsDelta",
    "ToolCallEnd",
    "ToolCallMalformed",
    "ToolCallParserError",
    "ToolCallStart",
    "UnknownToolPolicy",
    "__version__",
    "chat_template",
    "chat_template_path",
    "normalize",
    "parse",
    "parse_stream",
    "starts_in_reasoning",
]
