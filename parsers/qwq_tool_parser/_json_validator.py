"""An incremental JSON validator: one value, fed in pieces, checked character by character.

Strategy. ``JsonValidator`` is a pushdown automaton with an explicit stack (no recursion, so its
verdict never depends on the caller's stack depth) that never builds values (so no number is ever
converted, and no ``int`` digit limit applies). ``feed(text, i, n)`` consumes ``text[i:n]`` as far as
it stays a prefix of a valid value and returns where it stopped: at ``n``, just after the value
(``done``), or *at* the first character that cannot continue it (``problem`` says why). It consumes
nothing of that character and keeps its state, so a caller may look at it (a ``<`` may start a
tag), and even feed it again later. Runs of string characters (with the escapes that need no
surrogate check), digits and whitespace are skipped with compiled regexes; everything else costs a
few Python operations per character: linear time.

It accepts exactly what ``json.loads(text, parse_constant=reject)`` accepts, with two deliberate
differences, both so that what it accepts can always be encoded as UTF-8 and read by any process:

- strings must not hold surrogate code points, raw or escaped, other than a well-formed escaped
  pair (``\\ud83d\\ude00``): a lone surrogate is rejected where it is detected;
- containers nest at most ``max_depth`` levels (``json.loads`` has no fixed limit but recurses, so
  its verdict on deep input depends on the caller's stack).

Because every consumed character keeps the text a viable prefix, the consumed text of an unfinished
value is always a prefix of some valid value: only the text the validator consumed is ever streamed.
"""

from __future__ import annotations

import re

from ._markup import WHITESPACE

_WS_RUN = re.compile(r"[ \t\r\n]*")
_DIGITS = re.compile(r"[0-9]*")
# What continues a string body as it is: plain characters, simple escapes and \u escapes of
# non-surrogates (everything but "d" first, or "d" and then 0-7). Its alternatives start with
# different characters and nothing follows the run, so ``match`` never needs to backtrack: the
# repetition is possessive (Python 3.11+), so the regex engine keeps no state per repetition (with a
# plain ``*`` it keeps a growing backtrack stack, whose size makes a long run of escapes several
# times slower per character once it outgrows the CPU caches). Linear time either way.
_STRING_BODY = (
    r'(?:[^"\\\x00-\x1f\ud800-\udfff]+|\\["\\/bfnrt]'
    r"|\\u(?:[0-9a-cA-CefEF][0-9a-fA-F]{3}|[dD][0-7][0-9a-fA-F]{2}))"
)
try:
    _STRING_RUN = re.compile(_STRING_BODY + "*+")
except re.error:  # Python 3.10: no possessive repetition
    _STRING_RUN = re.compile(_STRING_BODY + "*")
_HEX = frozenset("0123456789abcdefABCDEF")
_SIMPLE_ESCAPES = frozenset('"\\/bfnrt')
_LOW_SECOND = frozenset("cdefCDEF")  # second hex digit of \uDC00-\uDFFF
_HIGH_SECOND = frozenset("89abAB")  # second hex digit of \uD800-\uDBFF

# Where the automaton is (``_state``).
_VALUE = 0  # a value must start
_ARRAY_FIRST = 1  # after "[": a value or "]"
_OBJECT_FIRST = 2  # after "{": a key or "}"
_KEY = 3  # after "," in an object: a key
_COLON = 4  # after a key
_AFTER = 5  # after a value inside a container: "," or the closing bracket
_STRING = 6  # inside a string body
_ESCAPE = 7  # after a backslash
_UNICODE = 8  # inside the four hex digits of \\u (``_hex`` of them read)
_LOW_BACKSLASH = 9  # after a high surrogate escape: "\\" must follow
_LOW_U = 10  # ... then "u"
_LITERAL = 11  # inside true / false / null (``_literal`` is what remains)
_DONE = 12  # the value is complete
# Numbers: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
_MINUS = 13
_ZERO = 14
_INT = 15
_DOT = 16
_FRACTION = 17
_E = 18
_E_SIGN = 19
_EXPONENT = 20

_NUMBER_ENDS = frozenset((_ZERO, _INT, _FRACTION, _EXPONENT))  # states where a number may end
_LITERALS = {"t": "rue", "f": "alse", "n": "ull"}


class JsonValidator:
    """Validates one JSON value (any type) fed in pieces; see the module docstring."""

    __slots__ = (
        "_hex",
        "_high",
        "_key",
        "_literal",
        "_low",
        "_stack",
        "_state",
        "_surrogate_first",
        "max_depth",
        "problem",
    )

    def __init__(self, max_depth: int) -> None:
        self.max_depth = max_depth
        """Deepest container nesting accepted (the value itself counts as level 1)."""
        self.problem = ""
        """Why ``feed`` stopped before the end of its text (empty while it has not)."""
        self._state = _VALUE
        self._stack: list[str] = []  # "}" or "]" per open container
        self._key = False  # the string being read is an object key
        self._hex = 0  # hex digits of the current \\u escape read so far
        self._low = False  # the current \\u escape must be a low surrogate
        self._high = False  # the current \\u escape is a high surrogate
        self._surrogate_first = False  # the current \\u escape started with "d" or "D"
        self._literal = ""

    @property
    def done(self) -> bool:
        """The value is complete (nothing more may be fed)."""
        return self._state == _DONE

    @property
    def in_string(self) -> bool:
        """Inside a string body (possibly just after a backslash): where :meth:`take_string_piece`
        may apply."""
        return self._state == _STRING or self._state == _ESCAPE

    def take_string_piece(self, text: str) -> bool:
        """The hot path of a long string: consume all of ``text`` if it only continues the string
        body as it is (characters, whole escapes, and at most one backslash at its very end, whose
        escape the next piece completes). Otherwise consume nothing and return False: ``feed``
        then reads the text character by character. No per-character Python work: most pieces are
        printable text without a quote or a backslash (printable excludes control characters and
        surrogates), the others take one regex match."""
        start = 0
        state = self._state
        if state == _STRING:
            if text.isprintable() and '"' not in text and "\\" not in text:
                return True
        elif state == _ESCAPE and text and text[0] in _SIMPLE_ESCAPES:
            start = 1  # the escape the last piece's backslash began
        else:
            return False
        end = _STRING_RUN.match(text, start).end()  # type: ignore[union-attr]
        n = len(text)
        if end == n:
            self._state = _STRING
            return True
        if end == n - 1 and text[end] == "\\":
            self._state = _ESCAPE
            return True
        return False

    def end(self) -> bool:
        """The text ended: True if it held one complete value (a number may end only here)."""
        if self._state in _NUMBER_ENDS and not self._stack:
            self._state = _DONE
        return self._state == _DONE

    def _fail(self, text: str, i: int, why: str = "") -> int:
        self.problem = why or f"unexpected {text[i]!r} in the JSON"
        return i

    def feed(self, text: str, i: int, n: int) -> int:
        """Consume ``text[i:n]``; return the stop position (see the module docstring)."""
        self.problem = ""
        stack = self._stack
        while i < n:
            state = self._state
            if state == _STRING:
                i = _STRING_RUN.match(text, i, n).end()  # type: ignore[union-attr]
                if i == n:
                    return n
                c = text[i]
                if c == '"':
                    i += 1
                    if self._key:
                        self._key = False
                        self._state = _COLON
                    else:
                        self._value_end()
                    continue
                if c != "\\":
                    what = "a control character" if c < " " else "a lone surrogate"
                    return self._fail(text, i, f"{what} in a JSON string")
                self._state = _ESCAPE  # cut off at n, a surrogate's \u escape, or invalid
                i += 1
                continue
            c = text[i]
            if state == _AFTER:
                if c in WHITESPACE:
                    i = _WS_RUN.match(text, i, n).end()  # type: ignore[union-attr]
                    continue
                if c == ",":
                    self._state = _KEY if stack[-1] == "}" else _VALUE
                    i += 1
                    continue
                if c == stack[-1]:
                    stack.pop()
                    self._value_end()
                    i += 1
                    continue
                return self._fail(text, i)
            if state <= _ARRAY_FIRST:  # _VALUE or _ARRAY_FIRST
                if c in WHITESPACE:
                    i = _WS_RUN.match(text, i, n).end()  # type: ignore[union-attr]
                    continue
                if c == '"':
                    self._state = _STRING
                elif c == "{" or c == "[":
                    if len(stack) >= self.max_depth:
                        return self._fail(
                            text, i, f"the JSON nests deeper than {self.max_depth} levels"
                        )
                    stack.append("}" if c == "{" else "]")
                    self._state = _OBJECT_FIRST if c == "{" else _ARRAY_FIRST
                elif c == "]" and state == _ARRAY_FIRST:
                    stack.pop()
                    self._value_end()
                elif c == "-":
                    self._state = _MINUS
                elif c == "0":
                    self._state = _ZERO
                elif "1" <= c <= "9":
                    self._state = _INT
                elif c in _LITERALS:
                    self._state = _LITERAL
                    self._literal = _LITERALS[c]
                else:
                    return self._fail(text, i)
                i += 1
                continue
            if state == _OBJECT_FIRST or state == _KEY:
                if c in WHITESPACE:
                    i = _WS_RUN.match(text, i, n).end()  # type: ignore[union-attr]
                    continue
                if c == '"':
                    self._state = _STRING
                    self._key = True
                elif c == "}" and state == _OBJECT_FIRST:
                    stack.pop()
                    self._value_end()
                else:
                    return self._fail(text, i)
                i += 1
                continue
            if state == _COLON:
                if c in WHITESPACE:
                    i = _WS_RUN.match(text, i, n).end()  # type: ignore[union-attr]
                    continue
                if c != ":":
                    return self._fail(text, i)
                self._state = _VALUE
                i += 1
                continue
            if state == _ESCAPE:
                if c == "u":
                    self._state = _UNICODE
                    self._hex = 0
                elif c in _SIMPLE_ESCAPES:
                    self._state = _STRING
                else:
                    return self._fail(text, i, f"invalid escape '\\{c}' in a JSON string")
                i += 1
                continue
            if state == _UNICODE:
                if c not in _HEX:
                    return self._fail(text, i, "invalid \\u escape in a JSON string")
                k = self._hex
                if self._low:  # must be \uDC00-\uDFFF
                    if (k == 0 and c not in "dD") or (k == 1 and c not in _LOW_SECOND):
                        return self._fail(text, i, "a lone surrogate in a JSON string")
                elif k == 1 and self._surrogate_first and c in _LOW_SECOND:
                    return self._fail(text, i, "a lone surrogate in a JSON string")
                if k == 0:
                    self._surrogate_first = c in "dD"
                elif k == 1:
                    self._high = not self._low and self._surrogate_first and c in _HIGH_SECOND
                self._hex = k + 1
                i += 1
                if self._hex == 4:
                    if self._high:
                        self._high = False
                        self._low = True
                        self._state = _LOW_BACKSLASH
                    else:
                        self._low = False
                        self._state = _STRING
                continue
            if state == _LOW_BACKSLASH or state == _LOW_U:
                if c != ("\\" if state == _LOW_BACKSLASH else "u"):
                    return self._fail(text, i, "a lone surrogate in a JSON string")
                self._state = _LOW_U if state == _LOW_BACKSLASH else _UNICODE
                self._hex = 0
                i += 1
                continue
            if state == _LITERAL:
                rest = self._literal
                if c != rest[0]:
                    return self._fail(text, i)
                if len(rest) == 1:
                    self._value_end()
                else:
                    self._literal = rest[1:]
                i += 1
                continue
            if state == _DONE:
                return i
            i = self._number(text, i, n, c, state)
            if self.problem:
                return i
        return n

    def _number(self, text: str, i: int, n: int, c: str, state: int) -> int:
        """One step inside a number at ``text[i] == c``; returns the next position."""
        digit = "0" <= c <= "9"
        if state == _INT or state == _FRACTION or state == _EXPONENT:
            if digit:
                return _DIGITS.match(text, i, n).end()  # type: ignore[union-attr]
        elif state == _MINUS:
            if digit:
                self._state = _ZERO if c == "0" else _INT
                return i + 1
            return self._fail(text, i)
        elif state == _DOT or state == _E_SIGN:
            if digit:
                self._state = _FRACTION if state == _DOT else _EXPONENT
                return i + 1
            return self._fail(text, i)
        elif state == _E:
            if digit or c in "+-":
                self._state = _EXPONENT if digit else _E_SIGN
                return i + 1
            return self._fail(text, i)
        # _ZERO, _INT, _FRACTION or _EXPONENT at a non-digit.
        if c == "." and state in (_ZERO, _INT):
            self._state = _DOT
            return i + 1
        if c in "eE" and state != _EXPONENT:
            self._state = _E
            return i + 1
        self._value_end()  # the number ended just before c, which the next state reads
        return i

    def _value_end(self) -> None:
        self._state = _AFTER if self._stack else _DONE


def check_json_object(text: str, max_depth: int) -> str | None:
    """Why ``text`` (whitespace allowed around it) is not one JSON object; None if it is one."""
    i = _WS_RUN.match(text).end()  # type: ignore[union-attr]
    if not text.startswith("{", i):
        return "it does not hold a JSON object"
    validator = JsonValidator(max_depth)
    n = len(text)
    j = validator.feed(text, i, n)
    if validator.problem:
        return validator.problem
    if not validator.done:
        return "the JSON object is not complete"
    if _WS_RUN.match(text, j).end() != n:  # type: ignore[union-attr]
        return "text follows the JSON object"
    return None
