"""One ``<tool_call>`` block: its top-level object read member by member, every value validated.

Strategy. A block is ``<tool_call>`` ws ``{ "name": str, "arguments": object }`` ws ``</tool_call>``.
This module reads the outer object itself (keys in any order, so it knows which member is the name
and which the arguments) and hands every key and value to a
:class:`~qwq_tool_parser._json_validator.JsonValidator`, the single authority on JSON validity. So:

- every character is checked where it occurs; ``</tool_call>`` only ends a block outside JSON
  strings, in every state, including after a repeated key;
- the verdict depends on the text alone: no number is converted, nothing recurses;
- a call is announced (:class:`ToolCallStart`) only once its name is complete *and* its arguments
  have started as a JSON object (``{``), or a JSON-encoded string argument has closed and holds an
  object; otherwise at the end of the block, once it validated. Object arguments then stream exactly
  as far as the validator accepted them, so a streamed prefix is always a prefix of a valid object;
- with ``whole_calls``, nothing is announced early: a valid block comes out as one start, one
  arguments delta and one end, when it ends.

After an announcement a block can still fail in two ways only: text that cannot continue it (a
character that is not JSON, or a repeated name/arguments key; then the call is withdrawn:
:class:`ToolCallMalformed` with its index), or the end of the output inside the block (the same,
with ``truncated=True``).

The block's text is kept once (``_raw``); the arguments are a slice of it, never a second copy. Work
per character is constant (regex runs for strings, digits, whitespace); the raw text is joined at
most three times per block (a late announcement, a string argument, the verdict).
"""

from __future__ import annotations

import json
from collections.abc import Callable

from ._events import (
    ContentDelta,
    Event,
    ToolCallArgumentsDelta,
    ToolCallEnd,
    ToolCallMalformed,
    ToolCallStart,
)
from ._json_validator import JsonValidator, check_json_object
from ._markup import CALL_CLOSE, CALL_OPEN, WHITESPACE, partial_tag_start, skip_whitespace

MAX_NESTING = 256
"""Deepest bracket nesting of a block's JSON, counting its outer object as level 1. Arguments written
as a JSON-encoded string count as if written in place (their object is level 2). Real tool
arguments nest a handful of levels; the cap keeps every consumer's ``json.loads`` (which recurses
once per level) far from Python's recursion limit."""

_ARGUMENT_KEYS = ("arguments", "parameters")
_LONGEST_KEY = 64  # raw characters; "name"/"arguments"/"parameters" fit even fully \\u-escaped

# Scanner states (of the outer object).
_PRE = 0  # before the opening "{"
_KEY_OR_END = 1  # after "{": a key or "}"
_KEY_NEXT = 2  # after ",": a key
_KEY = 3  # inside a key string
_COLON = 4
_VALUE = 5  # before a member value
_MEMBER = 6  # inside a member value
_AFTER_VALUE = 7
_POST = 8  # after the closing "}"
_BROKEN = 9  # not a well-formed block: only looking for </tool_call>

# What the member being read is.
_OTHER, _NAME, _ARGS = 0, 1, 2

# How the block ended.
_OPEN, _BY_CLOSE_TAG, _BY_NEXT_CALL, _BY_END = 0, 1, 2, 3


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
        joined = "".join(self._chunks) + "".join(self._pieces)
        self._chunks = [joined]  # later appends continue it; a second join costs one copy
        self._pieces.clear()
        return joined


class CallBlock:
    """The state of one ``<tool_call>`` block, from just after the opening tag."""

    def __init__(
        self,
        offset: int,
        claim_index: Callable[[str], int | str],
        rejection: str | None,
        whole_calls: bool = False,
    ) -> None:
        """Args:
        offset: where the block's ``<tool_call>`` starts in the whole output.
        claim_index: called once, when the call is about to be announced, with its name; returns
            the call's index, or a reason to reject it.
        rejection: a reason this block cannot become a call whatever it holds, or None.
        whole_calls: announce a call only when its block has ended and validated.
        """
        self.offset = offset
        self._out: list[Event] = []  # where events go; set by each scan() and finish()
        self._claim_index = claim_index
        self._rejection = rejection
        self._whole = whole_calls
        self._raw = _Text(CALL_OPEN)
        self._state = _PRE
        self._ended = _OPEN
        self._broken_reason = ""
        self._problem = ""  # the first reason the (well-formed) JSON is not a call
        # Member being read.
        self._role = _OTHER
        self._seen_keys: set[str] = set()
        self._key_parts: list[str] = []
        self._key_len = 0
        self._validator = JsonValidator(MAX_NESTING - 1)
        # The call.
        self._name_parts = _Text()
        self._name: str | None = None
        self.index: int | None = None
        self._args_kind = ""  # "object", "string", "null", "other" or "" (absent)
        self._args_start = self._args_end = -1  # raw span of the arguments value
        self._args_text = ""  # decoded string arguments, trimmed, once their string closed
        self._args_unsent: list[str] = []  # argument text announced but not yet emitted
        self._streaming = False  # inside a string in announced object arguments: the hot path
        self._scan_origin = 0  # index in the scanned text of the first character of this scan
        self._text_offset = 0  # output offset of the scanned text's first character, minus offset
        self._hold = 0  # where a possible partial tag starts in the scanned text

    @property
    def ended(self) -> bool:
        """The block ended at a closing tag or at the next ``<tool_call>``."""
        return self._ended != _OPEN

    # -- scanning ---------------------------------------------------------------------------------

    def scan(self, text: str, origin: int, i: int, final: bool, out: list[Event]) -> int:
        """Consume ``text[i:]`` (``text[0]`` is at ``origin`` in the whole output), appending events
        to ``out``; return where it stopped.

        It stops at the end of the text, after the closing tag, before a ``<tool_call>`` that ends
        the block (``ended`` tells these apart), or at a possible partial tag (the caller carries
        the rest into the next delta).
        """
        self._out = out
        start = i
        n = len(text)
        self._scan_origin = start
        self._text_offset = origin - self.offset
        self._hold = n
        handlers = self._HANDLERS
        while i < n and self._ended == _OPEN:
            i = handlers[self._state](self, text, i, n, final)
        stop = min(i, self._hold)
        self._raw.append(text[start:stop])
        self._emit_args()
        return stop

    def _raw_offset(self, i: int) -> int:
        """The block offset of the scanned ``text[i]``."""
        return self._text_offset + i

    def _raw_until(self, text: str, i: int) -> str:
        """The block's text up to ``text[i]`` during a scan (a join: called O(1) times a block)."""
        return self._raw.text() + text[self._scan_origin : i]

    def _break(self, reason: str) -> None:
        self._broken_reason = reason
        self._state = _BROKEN
        self._streaming = False

    def _at_tag(self, text: str, i: int, n: int, final: bool, reason: str) -> int:
        """At ``text[i] == '<'`` where JSON cannot continue: a tag that ends the block, a partial
        one to wait for, or the error ``reason``."""
        after_json = self._state == _POST
        if text.startswith(CALL_CLOSE, i):
            self._ended = _BY_CLOSE_TAG
            return i + len(CALL_CLOSE)
        if after_json and text.startswith(CALL_OPEN, i):
            self._ended = _BY_NEXT_CALL  # a new block begins: this one ended with its JSON
            return i
        rest = text[i:]
        if not final:
            if partial_tag_start(text, i, CALL_CLOSE) == i or (
                after_json and partial_tag_start(text, i, CALL_OPEN) == i
            ):
                self._hold = i
                return n
        elif CALL_CLOSE.startswith(rest):
            self._ended = _BY_END  # output cut inside the closing tag: the markup was on its way
            return n
        elif after_json and CALL_OPEN.startswith(rest):
            self._ended = _BY_NEXT_CALL  # a cut-off opening tag: text after the call
            return i
        self._break(reason)
        return i

    def _st_pre(self, text: str, i: int, n: int, final: bool) -> int:
        i = skip_whitespace(text, i)
        if i >= n:
            return n
        c = text[i]
        if c == "{":
            self._state = _KEY_OR_END
            return i + 1
        if c == "<":
            return self._at_tag(
                text, i, n, final, f"'<' before the JSON that does not start {CALL_CLOSE}"
            )
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
            self._key_len = 0
            self._validator = JsonValidator(1)
            return i
        if c == "}" and self._state == _KEY_OR_END:
            self._state = _POST
            return i + 1
        if c == "<":
            return self._at_tag(text, i, n, final, "expected a key in the JSON object")
        self._break("expected a key in the JSON object")
        return i

    def _st_key(self, text: str, i: int, n: int, final: bool) -> int:
        validator = self._validator
        j = validator.feed(text, i, n)
        if self._key_len <= _LONGEST_KEY:
            self._key_parts.append(text[i:j])
            self._key_len += j - i
        if validator.problem:
            self._break(validator.problem)
            return j
        if not validator.done:
            return j
        key = json.loads("".join(self._key_parts)) if self._key_len <= _LONGEST_KEY else ""
        self._role = self._role_of(key)
        self._state = _COLON
        return j

    def _role_of(self, key: str) -> int:
        if key == "name":
            if "name" in self._seen_keys:
                self._fail("the call has more than one 'name' key")
                return _OTHER
            self._seen_keys.add("name")
            return _NAME
        if key in _ARGUMENT_KEYS:
            for earlier in _ARGUMENT_KEYS:
                if earlier in self._seen_keys:
                    self._fail(
                        f"the call has more than one {key!r} key"
                        if earlier == key
                        else "the call has both 'arguments' and 'parameters'"
                    )
                    return _OTHER
            self._seen_keys.add(key)
            return _ARGS
        return _OTHER

    def _fail(self, reason: str) -> None:
        """The JSON may still be well-formed, but it is not a call; keep reading it to its end."""
        if not self._problem:
            self._problem = reason

    def _st_colon(self, text: str, i: int, n: int, final: bool) -> int:
        i = skip_whitespace(text, i)
        if i >= n:
            return n
        if text[i] == ":":
            self._state = _VALUE
            return i + 1
        if text[i] == "<":
            return self._at_tag(text, i, n, final, "expected ':' after a key")
        self._break("expected ':' after a key")
        return i

    def _st_value(self, text: str, i: int, n: int, final: bool) -> int:
        i = skip_whitespace(text, i)
        if i >= n:
            return n
        c = text[i]
        if c == "<":
            return self._at_tag(text, i, n, final, "expected a value after ':'")
        self._validator = JsonValidator(MAX_NESTING - 1)
        self._state = _MEMBER
        role = self._role
        if role == _NAME and c != '"':
            self._fail("the call's 'name' is not a string")
            self._role = _OTHER
        elif role == _ARGS:
            self._args_start = self._raw_offset(i)
            kind = {"{": "object", '"': "string", "n": "null"}.get(c, "other")
            self._args_kind = kind
            if kind == "other":
                self._fail("the arguments are not a JSON object")
        return i

    def _st_member(self, text: str, i: int, n: int, final: bool) -> int:
        validator = self._validator
        j = validator.feed(text, i, n)
        role = self._role
        if role == _ARGS and self._args_kind == "object":
            if self.index is not None:
                if j > i:
                    self._args_unsent.append(text[i:j])
            elif self._name is not None:
                self._announce(text[i:j])
            self._streaming = self.index is not None and validator.in_string
        elif role == _NAME and self._name is None:
            self._name_parts.append(text[i:j])
        if validator.done:
            self._state = _AFTER_VALUE
            if role == _NAME:
                self._name_complete(text, j)
            elif role == _ARGS:
                self._args_end = self._raw_offset(j)
                if self._args_kind == "string":
                    self._string_args_complete(text, j)
            return j
        if j < n:  # a character the JSON cannot take
            if text[j] == "<":
                return self._at_tag(text, j, n, final, validator.problem)
            self._break(validator.problem)
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
            self._state = _POST
            return i + 1
        if c == "<":
            return self._at_tag(text, i, n, final, "expected ',' or '}' after a value")
        self._break("expected ',' or '}' after a value")
        return i

    def _st_post(self, text: str, i: int, n: int, final: bool) -> int:
        i = skip_whitespace(text, i)
        if i >= n:
            return n
        reason = f"text after the JSON object before {CALL_CLOSE}"
        if text[i] == "<":
            return self._at_tag(text, i, n, final, reason)
        self._break(reason)
        return i

    def _st_broken(self, text: str, i: int, n: int, final: bool) -> int:
        k = text.find(CALL_CLOSE, i)
        if k >= 0:
            self._ended = _BY_CLOSE_TAG
            return k + len(CALL_CLOSE)
        if not final:
            self._hold = partial_tag_start(text, i, CALL_CLOSE)
        return n

    _HANDLERS: tuple[Callable[[CallBlock, str, int, int, bool], int], ...] = ()

    # -- the call ---------------------------------------------------------------------------------

    def _name_complete(self, text: str, j: int) -> None:
        name = json.loads(self._name_parts.text())  # a validated string: cannot fail
        self._name = name
        if not name:
            self._fail("the name is empty")
        elif self._args_kind == "object" and self._args_end >= 0:
            raw = self._raw_until(text, j)
            self._announce(raw[self._args_start : self._args_end])
        elif self._args_kind == "string" and self._args_text:
            self._announce(self._args_text)

    def _string_args_complete(self, text: str, j: int) -> None:
        raw = self._raw_until(text, j)
        decoded = json.loads(raw[self._args_start : self._args_end]).strip(WHITESPACE)
        if not decoded:
            return  # "" means {}: decided with the block
        problem = check_json_object(decoded, MAX_NESTING - 1)
        if problem is not None:
            self._fail(f"the arguments string does not hold a JSON object: {problem}")
            return
        self._args_text = decoded
        if self._name is not None:
            self._announce(decoded)

    def _announce(self, arguments: str) -> None:
        """The call may go out now, with the argument text seen so far (if nothing forbids it)."""
        if self._whole or self._problem or self._rejection is not None or self._name is None:
            return
        if self._args_kind not in ("object", "string"):
            return
        claimed = self._claim_index(self._name)
        if isinstance(claimed, str):
            self._fail(claimed)
            return
        self.index = claimed
        self._out.append(ToolCallStart(index=claimed, name=self._name))
        if arguments:
            self._args_unsent.append(arguments)

    def _emit_args(self) -> None:
        if self._args_unsent:
            assert self.index is not None
            pending = "".join(self._args_unsent)
            self._args_unsent.clear()
            self._out.append(ToolCallArgumentsDelta(index=self.index, text=pending))

    @property
    def streaming(self) -> bool:
        """Inside a string of announced object arguments: :meth:`stream_string_piece` may apply."""
        return self._streaming

    def stream_string_piece(self, text: str) -> ToolCallArgumentsDelta | None:
        """The hot path of a long argument (only while :attr:`streaming`): ``text`` only continues
        the string (see :meth:`JsonValidator.take_string_piece`), so it goes out whole. Returns None
        where the full :meth:`scan` is needed."""
        if self._validator.take_string_piece(text):
            self._raw.append(text)
            return ToolCallArgumentsDelta(index=self.index, text=text)  # type: ignore[arg-type]
        return None

    def finish(self, out: list[Event], text_before: str = "") -> bool:
        """The block ended (closing tag, next ``<tool_call>``, or end of output): settle it.

        Appends the call's last events to ``out`` and returns True if the block is a valid call.
        If it is not, its raw text goes out as content, after ``text_before`` (the whitespace that
        preceded the block, which only a call turns into framing).
        """
        self._out = out
        raw = self._raw.text()
        reason, truncated = self._verdict()
        if reason is None and self.index is None:
            assert self._name is not None
            claimed = self._claim_index(self._name)
            if isinstance(claimed, str):
                reason = claimed
            else:
                self.index = claimed
                self._out.append(ToolCallStart(index=claimed, name=self._name))
                self._args_unsent.append(self._arguments(raw))
        if reason is None:
            assert self.index is not None
            self._emit_args()
            arguments = self._arguments(raw)
            self._out.append(ToolCallEnd(index=self.index, arguments=arguments, raw=raw))
            return True
        self._out.append(ContentDelta(text=text_before + raw))
        self._out.append(
            ToolCallMalformed(
                index=self.index, raw=raw, reason=reason, offset=self.offset, truncated=truncated
            )
        )
        return False

    def _arguments(self, raw: str) -> str:
        if self._args_kind == "object":
            return raw[self._args_start : self._args_end]
        return self._args_text or "{}"

    def _verdict(self) -> tuple[str | None, bool]:
        """(None if the block is a valid call, else why not; whether the output ended inside it)."""
        if self._state == _BROKEN:
            return self._broken_reason, False
        if self._state != _POST:
            truncated = self._ended != _BY_CLOSE_TAG
            if self._state == _PRE:
                return "the block holds no JSON object", truncated
            where = f"before {CALL_CLOSE}" if not truncated else "before the end of the output"
            return f"the JSON object is not complete {where}", truncated
        if self._problem:
            return self._problem, False
        if self._name is None:
            return "the call has no 'name'", False
        if self._rejection is not None:
            return self._rejection, False
        return None, False


CallBlock._HANDLERS = (
    CallBlock._st_pre,
    CallBlock._st_key_or_end,
    CallBlock._st_key_or_end,
    CallBlock._st_key,
    CallBlock._st_colon,
    CallBlock._st_value,
    CallBlock._st_member,
    CallBlock._st_after_value,
    CallBlock._st_post,
    CallBlock._st_broken,
)
