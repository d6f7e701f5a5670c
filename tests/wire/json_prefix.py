"""Is a text a prefix of some valid JSON object? The test tree's own check, independent of the core.

Strategy: one left-to-right pass with a container stack and the set of tokens that may come next;
a token cut off by the end of the text (a string, a number, a literal, an escape) only has to be
the beginning of a valid one. Used on what a stream put on the wire for a call the response lacks.
"""

from __future__ import annotations

import re

_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_LITERALS = ("true", "false", "null")
_WS = " \t\r\n"
_ESCAPES = '"\\/bfnrt'


def _number_prefix(token: str, complete: bool) -> bool:
    if _NUMBER.fullmatch(token):
        return True
    return not complete and _NUMBER.fullmatch(token + "0") is not None


def is_object_prefix(text: str) -> bool:
    """True if ``text`` can be continued into one valid JSON object (``""`` and ``"{"`` can)."""
    stack: list[str] = []
    expect = "object"  # object | value | key | key_or_end | value_or_end | colon | comma_or_end | done
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c in _WS:
            i += 1
            continue
        if expect == "done":
            return False
        if expect == "colon":
            if c != ":":
                return False
            expect, i = "value", i + 1
            continue
        if expect == "comma_or_end":
            if c == ",":
                expect = "key" if stack[-1] == "{" else "value"
            elif c == ("}" if stack[-1] == "{" else "]"):
                stack.pop()
                expect = "comma_or_end" if stack else "done"
            else:
                return False
            i += 1
            continue
        if c in "}]" and expect in ("key_or_end", "value_or_end"):
            if c != ("}" if expect == "key_or_end" else "]"):
                return False
            stack.pop()
            expect, i = ("comma_or_end" if stack else "done"), i + 1
            continue
        if expect in ("key", "key_or_end") and c != '"':
            return False
        if expect == "object" and c != "{":
            return False
        is_key = expect in ("key", "key_or_end")
        if c in "{[":
            stack.append(c)
            expect, i = ("key_or_end" if c == "{" else "value_or_end"), i + 1
        elif c == '"':
            i = _string_end(text, i + 1)
            if i < 0:
                return False
            if i > n:
                return True  # cut off inside the string
            expect = "colon" if is_key else "comma_or_end"
        elif c == "-" or c.isdigit():
            j = i
            while j < n and text[j] in "+-.eE0123456789":
                j += 1
            if not _number_prefix(text[i:j], complete=j < n):
                return False
            expect, i = "comma_or_end", j
        elif c.isalpha():
            j = i
            while j < n and text[j].isalpha():
                j += 1
            word = text[i:j]
            if not (word in _LITERALS or (j == n and any(w.startswith(word) for w in _LITERALS))):
                return False
            expect, i = "comma_or_end", j
        else:
            return False
    return True


def _string_end(text: str, i: int) -> int:
    """Index after the closing quote of the string whose body starts at ``i``; ``len + 1`` if the
    text ends inside a valid string prefix; -1 if the string is invalid."""
    n = len(text)
    while i < n:
        c = text[i]
        if c == '"':
            return i + 1
        if c == "\\":
            if i + 1 >= n:
                return n + 1
            e = text[i + 1]
            if e == "u":
                digits = text[i + 2 : i + 6]
                if not all(d in "0123456789abcdefABCDEF" for d in digits):
                    return -1
                if len(digits) < 4:
                    return n + 1
                i += 6
                continue
            if e not in _ESCAPES:
                return -1
            i += 2
            continue
        if ord(c) < 0x20:
            return -1
        i += 1
    return n + 1
