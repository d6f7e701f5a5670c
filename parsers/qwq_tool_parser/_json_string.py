"""Incremental decoding of one JSON string's body, for arguments sent as a JSON-encoded string.

Some models write ``"arguments": "{\\"city\\": \\"Paris\\"}"``. The call's arguments are then the
*decoded* string, and they must still stream as the model writes them. ``StringDecoder`` turns raw
string-body pieces into decoded text as soon as each escape is complete, holding back at most one
unfinished escape (a lone ``\\``, a partial ``\\uXXXX``, or a high surrogate waiting for its low
half: at most 11 characters). Its output equals ``json.loads('"' + body + '"')`` for every valid
body, in any chunking. An invalid escape stops decoding and sets ``invalid``; the caller's final
``json.loads`` of the whole block then rejects the call, so nothing here needs to raise.
"""

from __future__ import annotations

_SIMPLE_ESCAPES = {
    '"': '"',
    "\\": "\\",
    "/": "/",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
}
_HEX = frozenset("0123456789abcdefABCDEF")


def _hex4(text: str, at: int) -> int | None:
    digits = text[at : at + 4]
    if len(digits) == 4 and all(c in _HEX for c in digits):
        return int(digits, 16)
    return None


class StringDecoder:
    """Decodes a JSON string body fed in pieces (without the surrounding quotes)."""

    __slots__ = ("_held", "invalid")

    def __init__(self) -> None:
        self._held = ""
        self.invalid = False

    def feed(self, piece: str, *, final: bool = False) -> str:
        """Decode ``piece``; with ``final`` the body is complete and nothing is held back."""
        if self.invalid:
            return ""
        text = self._held + piece if self._held else piece
        self._held = ""
        out: list[str] = []
        i, n = 0, len(text)
        while i < n:
            k = text.find("\\", i)
            if k < 0:
                out.append(text[i:])
                break
            out.append(text[i:k])
            used = self._escape(text, k, final, out)
            if used == 0:  # unfinished escape: wait for more text
                self._held = text[k:]
                break
            if used < 0:
                self.invalid = True
                break
            i = k + used
        return "".join(out)

    def _escape(self, text: str, k: int, final: bool, out: list[str]) -> int:
        """Decode the escape at ``text[k]``; return its length, 0 if unfinished, -1 if invalid."""
        n = len(text)
        if k + 1 >= n:
            return -1 if final else 0
        kind = text[k + 1]
        if kind != "u":
            if kind not in _SIMPLE_ESCAPES:
                return -1
            out.append(_SIMPLE_ESCAPES[kind])
            return 2
        if k + 6 > n:
            return -1 if final else 0
        code = _hex4(text, k + 2)
        if code is None:
            return -1
        if 0xD800 <= code < 0xDC00:
            # A high surrogate pairs with an immediately following \uDC00-\uDFFF, as json.loads does.
            tail = text[k + 6 : k + 12]
            if len(tail) < 6 and not final and "\\u".startswith(tail[:2]):
                return 0
            low = _hex4(text, k + 8) if tail.startswith("\\u") else None
            if low is not None and 0xDC00 <= low < 0xE000:
                out.append(chr(0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)))
                return 12
        out.append(chr(code))
        return 6
