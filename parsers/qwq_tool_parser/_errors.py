"""The one exception family: raised for API misuse only, never for anything the model wrote."""

from __future__ import annotations


class ToolCallParserError(Exception):
    """The parser was used wrongly (e.g. ``feed`` after ``close``, or a bad constructor argument).

    Model output never raises: bad output comes back as content with a ``ToolCallMalformed`` event.
    """
