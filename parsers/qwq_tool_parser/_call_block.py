"""One ``<tool_call>`` block: an incremental JSON *structure* scanner plus a single final validation.

Strategy. A block is ``<tool_call>`` ws ``{ "name": str, "arguments": object }`` ws ``</tool_call>``.
The scanner follows the top-level object member by member (keys in any order) and, inside values,
tracks only strings, escapes and bracket depth; it never builds values. That is enough to:

- find the ``name`` string and announce the call as soon as it is complete;
- find the span of the ``arguments`` (or ``parameters``) value and stream that raw text as the model
  writes it (byte-faithful: no re-serialisation), or decode it incrementally when the arguments are a
  JSON-encoded string;
- find where the block ends: ``</tool_call>`` only counts outside JSON strings.

Each character is examined a constant number of times: runs without structural characters are
skipped with one compiled-regex ``search`` or ``str.find`` (C speed), and no accumulated text is
ever re-scanned. When the block ends (closing tag, or end of output), the JSON text is validated once
with ``json.loads``; that single check is the authority on validity. Nesting deeper than
``MAX_NESTING`` is rejected by the scanner before ``json.loads`` could recurse, so no input can
raise ``RecursionError``.

Theory of operation: ``scan(text, i, final)`` consumes ``text[i:]`` and returns where it stopped and
whether the block ended. A possible partial ``</tool_call>`` at the end is left unconsumed (the
caller carries it into the next delta). ``finish(closed)`` gives the verdict.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from ._events import (
    ContentDelta,
    Event,
    ToolCallArgumentsDelta,
    ToolCallEnd,
    ToolCallMalformed,
    ToolCallStart,
)
from ._json_string import StringDecoder
from ._markup import (
    CALL_CLOSE,
    CALL_OPEN,
    WHITESPACE,
    hold_trailing_whitespace,
    partial_tag_start,
    skip_whitespace,
)

MAX_NESTING = 256
"""Deepest bracket nesting accepted inside a call. Real tool arguments nest a handful of levels; this
bound keeps the final ``json.loads`` (which recurses once per level, against Python's recursion
limit of 1000 shared with the caller's stack) far from ``RecursionError`` in any engine."""

_ARGUMENT_KEYS = ("arguments", "parameters")

_STRING_SPECIAL = re.compile(r'["\\]')
_NESTED_SPECIAL = re.compile(r'["{}\[\]<]')
_SCALAR_RUN = re.compile(r"[^ \t\r\n,}\]<]*")

# Scanner states.
_PRE = 0  # before the opening "{"
_KEY_OR_END = 1  # after "{": a key or "}"
_KEY_NEXT = 2  # after ",": a key
_KEY = 3  # inside a key string
_COLON = 4
_VALUE = 5  # before a member value
_STRING = 6  # inside a member value that is a string
_NESTED = 7  # inside a member value that is an object or array
_SCALAR = 8  # inside a member value that is a number or literal
_AFTER_VALUE = 9
_POST = 10  # after the closing "}"
_BROKEN = 11  # not a well-formed block: only looking for </tool_call>

# What the member being read is.
_OTHER, _NAME, _ARGS = 0, 1, 2


class _Text:
    """Text kept as pieces, joined 64 at a time: a long call streamed one token per delta keeps a
    few thousand strings alive instead of a million (memory stays a small multiple of the text)."""

    __slots__ = ("_chunks", "_pieces")

    def __init__(self, first: str = "") -> None:
        self._chunks: list[str] = []
        self._pieces: list[str] = [first] if first else []

    def append(self, piece: str) -> None:
        pieces = self._pieces
        pieces.append(piece)
        if len(pieces) >= 64:
            self._chunks.append("".join(pieces))
            pieces.clear()

    def text(self) -> str:
        return "".join(self._chunks) + "".join(self._pieces)


def _reject_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


class CallBlock:
    """The state of one ``<tool_call>`` block, from just after the opening tag."""

    def __init__(
        self,
        offset: int,
        claim_index: Callable[[str], int | str],
        rejection: str | None,
    ) -> None:
        """Args:
        offset: where the block's ``<tool_call>`` starts in the whole output.
        claim_index: called with the decoded name; returns the call's index, or a reason to reject.
        rejection: a reason this block cannot become a call whatever it holds, or None.
        """
        self.offset = offset
        self._out: list[Event] = []  # where events go; set by each scan() and finish()
        self._claim_index = claim_index
        self._rejection = rejection
        self._raw = _Text(CALL_OPEN)
        self._raw_len = len(CALL_OPEN)
        self._state = _PRE
        self._broken_reason = ""
        self._json_start = -1
        self._json_end = -1
        # Member being read.
        self._role = _OTHER
        self._seen_keys: set[str] = set()
        self._key_parts: list[str] = []
        self._name_parts: list[str] = []
        self._escape = False  # a backslash ended the previous piece of a string
        self._in_string = False  # inside a string nested in an object/array value
        self._depth = 0
        # The call.
        self._name: str | None = None
        self.index: int | None = None
        self._args_kind = ""  # "object", "string", "other" or "" (absent)
        self._args_unsent: list[str] = []  # arguments text not yet emitted (no name yet)
        self._args_start = self._args_end = -1  # raw span of object arguments
        self._decoded = _Text()  # string arguments, decoded and trimmed
        self._decoder: StringDecoder | None = None
        self._args_ws = ""  # trailing whitespace of decoded string arguments, held back
        self._args_started = False  # a non-whitespace character of string arguments was seen
        self._scan_origin = 0  # index in the scanned text of the first character of this scan
        self._hold = 0  # where a possible partial closing tag starts in the scanned text

    # -- scanning ---------------------------------------------------------------------------------

    def scan(self, text: str, i: int, final: bool, out: list[Event]) -> tuple[int, bool]:
        """Consume ``text[i:]``, appending events to ``out``; return (stop position, block ended)."""
        self._out = out
        start = i
        n = len(text)
        self._scan_origin = start
        self._hold = n
        ended = False
        handlers = self._HANDLERS
        while i < n:
            i = handlers[self._state](self, text, i, n, final)
            if i < 0:  # the closing tag ends at -i
                i = -i
                ended = True
                break
        stop = min(i, self._hold)
        self._raw.append(text[start:stop])
        self._raw_len += stop - start
        if self.index is not None:
            self._emit_args()
        return stop, ended

    def _break(self, reason: str) -> None:
        if self._state != _BROKEN:
            self._broken_reason = reason
            self._state = _BROKEN

    def _close_tag(self, text: str, i: int, n: int, final: bool) -> int:
        """At ``text[i] == '<'`` outside JSON strings: the closing tag, a partial one, or an error."""
        if text.startswith(CALL_CLOSE, i):
            return -(i + len(CALL_CLOSE))
        if not final and partial_tag_start(text, i, CALL_CLOSE) == i:
            self._hold = i
            return n
        if final and self._state == _POST and CALL_CLOSE.startswith(text[i:]):
            return -n  # output cut inside the closing tag: the markup was on its way
        self._break(f"'<' in the JSON that does not start {CALL_CLOSE}")
        return i

    def _st_pre(self, text: str, i: int, n: int, final: bool) -> int:
        i = skip_whitespace(text, i)
        if i >= n:
            return n
        c = text[i]
        if c == "{":
            self._json_start = self._raw_len + i - self._scan_origin
            self._state = _KEY_OR_END
            return i + 1
        if c == "<":
            return self._close_tag(text, i, n, final)
        self._break("the block does not start with a JSON object")
        return i

    def _st_key_or_end(self, text: str, i: int, n: int, final: bool) -> int:
        i = skip_whitespace(text, i)
        if i >= n:
            return n
        c = text[i]
        if c == '"':
            self._state = _KEY
            self._key_parts = []
            return i + 1
        if c == "}" and self._state == _KEY_OR_END:
            return self._object_end(text, i)
        if c == "<":
            return self._close_tag(text, i, n, final)
        self._break("expected a key in the JSON object")
        return i

    def _st_key(self, text: str, i: int, n: int, final: bool) -> int:
        j = self._string_body(text, i, n)
        if j < 0:
            self._key_parts.append(text[i:])
            return n
        self._key_parts.append(text[i:j])
        try:
            key = json.loads('"' + "".join(self._key_parts) + '"')
        except ValueError:
            self._break("a key is not a valid JSON string")
            return j + 1
        role = _NAME if key == "name" else _ARGS if key in _ARGUMENT_KEYS else _OTHER
        if role != _OTHER:
            group = "name" if role == _NAME else "arguments"
            if group in self._seen_keys:
                self._break(f"the call has more than one {key!r} key")
                return j + 1
            self._seen_keys.add(group)
        self._role = role
        self._state = _COLON
        return j + 1

    def _string_body(self, text: str, i: int, n: int) -> int:
        """Find the closing quote of the string being read from ``text[i]``; -1 if not in text."""
        if self._escape:
            if i >= n:
                return -1
            self._escape = False
            i += 1
        while True:
            m = _STRING_SPECIAL.search(text, i)
            if m is None:
                return -1
            j = m.start()
            if text[j] == '"':
                return j
            if j + 1 >= n:
                self._escape = True
                return -1
            i = j + 2

    def _st_colon(self, text: str, i: int, n: int, final: bool) -> int:
        i = skip_whitespace(text, i)
        if i >= n:
            return n
        if text[i] == ":":
            self._state = _VALUE
            return i + 1
        if text[i] == "<":
            return self._close_tag(text, i, n, final)
        self._break("expected ':' after a key")
        return i

    def _st_value(self, text: str, i: int, n: int, final: bool) -> int:
        i = skip_whitespace(text, i)
        if i >= n:
            return n
        c = text[i]
        if c == "<":
            return self._close_tag(text, i, n, final)
        role = self._role
        if c == '"':
            self._state = _STRING
            if role == _NAME:
                self._name_parts = []
            elif role == _ARGS:
                self._args_kind = "string"
                self._decoder = StringDecoder()
            return i + 1
        if c in "{[":
            self._state = _NESTED
            self._depth = 1
            self._in_string = False
            if role == _ARGS:
                if c == "{":
                    self._args_kind = "object"
                    self._args_unsent.append("{")
                    self._args_start = self._raw_len + i - self._scan_origin
                else:
                    self._args_kind = "other"
            return i + 1
        if role == _ARGS:
            self._args_kind = "other"
        self._state = _SCALAR
        return i

    def _st_string(self, text: str, i: int, n: int, final: bool) -> int:
        j = self._string_body(text, i, n)
        end = n if j < 0 else j
        role = self._role
        if role == _NAME:
            self._name_parts.append(text[i:end])
        elif role == _ARGS:
            self._decoded_args(text[i:end], final=j >= 0)
        if j < 0:
            return n
        if role == _NAME:
            self._name_complete()
        self._state = _AFTER_VALUE
        return j + 1

    def _st_nested(self, text: str, i: int, n: int, final: bool) -> int:
        capture = self._role == _ARGS and self._args_kind == "object"
        start = i
        while i < n:
            if self._in_string:
                j = self._string_body(text, i, n)
                if j < 0:
                    i = n
                    break
                self._in_string = False
                i = j + 1
                continue
            m = _NESTED_SPECIAL.search(text, i)
            if m is None:
                i = n
                break
            j = m.start()
            c = text[j]
            i = j + 1
            if c == '"':
                self._in_string = True
            elif c in "{[":
                self._depth += 1
                if self._depth >= MAX_NESTING:
                    self._break(f"the JSON nests deeper than {MAX_NESTING} levels")
                    i = j
                    break
            elif c in "}]":
                self._depth -= 1
                if self._depth == 0:
                    self._state = _AFTER_VALUE
                    if capture:
                        self._args_end = self._raw_len + i - self._scan_origin
                    break
            else:  # "<" outside a string is not JSON: maybe our closing tag
                if capture and j > start:
                    self._args_unsent.append(text[start:j])
                return self._close_tag(text, j, n, final)
        if capture and i > start:
            self._args_unsent.append(text[start:i])
        return i

    def _st_scalar(self, text: str, i: int, n: int, final: bool) -> int:
        match = _SCALAR_RUN.match(text, i)
        j = match.end() if match else i
        if j < n:
            self._state = _AFTER_VALUE
        return j

    def _st_after_value(self, text: str, i: int, n: int, final: bool) -> int:
        i = skip_whitespace(text, i)
        if i >= n:
            return n
        c = text[i]
        if c == ",":
            self._state = _KEY_NEXT
            return i + 1
        if c == "}":
            return self._object_end(text, i)
        if c == "<":
            return self._close_tag(text, i, n, final)
        self._break("expected ',' or '}' after a value")
        return i

    def _object_end(self, text: str, i: int) -> int:
        self._json_end = self._raw_len + i + 1 - self._scan_origin
        self._state = _POST
        return i + 1

    def _st_post(self, text: str, i: int, n: int, final: bool) -> int:
        i = skip_whitespace(text, i)
        if i >= n:
            return n
        if text[i] == "<":
            return self._close_tag(text, i, n, final)
        self._break(f"text after the JSON object before {CALL_CLOSE}")
        return i

    def _st_broken(self, text: str, i: int, n: int, final: bool) -> int:
        k = text.find(CALL_CLOSE, i)
        if k >= 0:
            return -(k + len(CALL_CLOSE))
        if not final:
            self._hold = partial_tag_start(text, i, CALL_CLOSE)
        return n

    _HANDLERS: tuple[Callable[[CallBlock, str, int, int, bool], int], ...] = ()

    # -- the call ---------------------------------------------------------------------------------

    def _name_complete(self) -> None:
        try:
            name = json.loads('"' + "".join(self._name_parts) + '"')
        except ValueError:
            self._break("the name is not a valid JSON string")
            return
        self._name = name
        if self._rejection is not None:
            return
        if not name:
            self._rejection = "the name is empty"
            return
        claimed = self._claim_index(name)
        if isinstance(claimed, str):
            self._rejection = claimed
            return
        self.index = claimed
        self._out.append(ToolCallStart(index=claimed, name=name))
        self._emit_args()

    def _decoded_args(self, piece: str, final: bool) -> None:
        decoder = self._decoder
        assert decoder is not None
        text = decoder.feed(piece, final=final)
        if not self._args_started:
            text = text.lstrip(WHITESPACE)
            if not text:
                return
            self._args_started = True
        ready, self._args_ws = hold_trailing_whitespace(self._args_ws, text)
        if ready:
            self._decoded.append(ready)
            self._args_unsent.append(ready)

    def _emit_args(self) -> None:
        if self._args_unsent and self.index is not None:
            pending = "".join(self._args_unsent)
            self._args_unsent.clear()
            self._out.append(ToolCallArgumentsDelta(index=self.index, text=pending))

    def stream_string_piece(self, text: str) -> ToolCallArgumentsDelta | None:
        """The hot path of a long argument: ``text`` continues a string inside streamed object
        arguments and does not end it. Then all it needs is the escape state at its end, and it
        is emitted whole. Returns None where the full :meth:`scan` is needed."""
        if (
            not self._in_string
            or self._state != _NESTED
            or self.index is None
            or self._args_kind != "object"
            or self._role != _ARGS
        ):
            return None
        n = len(text)
        if '"' in text:  # escaped quotes are common in code; an unescaped one ends the string
            escape = self._escape
            if self._string_body(text, 0, n) >= 0:
                self._escape = escape
                return None
        elif "\\" in text:
            backslashes = n - len(text.rstrip("\\"))  # the final run pairs off; odd escapes
            escaped_first = 1 if self._escape else 0  # a backslash ended the previous piece
            self._escape = min(backslashes, n - escaped_first) % 2 == 1
        else:
            self._escape = False
        self._raw.append(text)
        self._raw_len += n
        return ToolCallArgumentsDelta(index=self.index, text=text)

    def finish(self, closed: bool, out: list[Event], text_before: str = "") -> bool:
        """The block ended (``closed``: by ``</tool_call>``; else by the end of output): settle it.

        Appends the call's last events to ``out`` and returns True if the block is a valid call.
        If it is not, its raw text goes out as content, after ``text_before`` (the whitespace that
        preceded the block, which only a call turns into framing).
        """
        self._out = out
        raw = self._raw.text()
        reason = self._verdict(closed, raw)
        if reason is None:
            assert self.index is not None
            if self._args_kind == "object":
                arguments = raw[self._args_start : self._args_end]
            else:
                arguments = self._decoded.text() if self._args_kind == "string" else ""
            if not arguments:
                arguments = "{}"
                self._out.append(ToolCallArgumentsDelta(index=self.index, text=arguments))
            else:
                self._emit_args()
            self._out.append(ToolCallEnd(index=self.index, arguments=arguments, raw=raw))
            return True
        self._out.append(ContentDelta(text=text_before + raw))
        self._out.append(
            ToolCallMalformed(index=self.index, raw=raw, reason=reason, offset=self.offset)
        )
        return False

    def _verdict(self, closed: bool, raw: str) -> str | None:
        """None if the block is a valid call, else why not."""
        if self._state == _BROKEN:
            return self._broken_reason
        if self._state != _POST:
            if self._state == _PRE:
                return "the block holds no JSON object"
            where = f"before {CALL_CLOSE}" if closed else "before the end of the output"
            return f"the JSON object is not complete {where}"
        try:
            obj = json.loads(
                raw[self._json_start : self._json_end], parse_constant=_reject_constant
            )
        except (ValueError, RecursionError) as error:
            return f"invalid JSON: {error}"
        if not isinstance(obj.get("name"), str):
            return "the call has no string 'name'"
        if self._rejection is not None:
            return self._rejection
        value = obj.get("arguments", obj.get("parameters"))
        if self._args_kind == "string":
            try:
                decoded = json.loads(value)
            except (ValueError, RecursionError):
                decoded = None if value.strip(WHITESPACE) else {}
            if not isinstance(decoded, dict):
                return "the arguments string does not hold a JSON object"
        elif value is not None and not isinstance(value, dict):
            return "the arguments are not a JSON object"
        return None


CallBlock._HANDLERS = (
    CallBlock._st_pre,
    CallBlock._st_key_or_end,
    CallBlock._st_key_or_end,
    CallBlock._st_key,
    CallBlock._st_colon,
    CallBlock._st_value,
    CallBlock._st_string,
    CallBlock._st_nested,
    CallBlock._st_scalar,
    CallBlock._st_after_value,
    CallBlock._st_post,
    CallBlock._st_broken,
)
