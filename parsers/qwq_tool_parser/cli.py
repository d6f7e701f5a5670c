"""The ``qwq-tool-parser`` command: look at how a model output parses, one-shot or as a stream.

- ``parse FILE|-``: the non-streaming result as an OpenAI assistant message (JSON).
- ``stream FILE|- [--chunk N | --chunk tokens --tokenizer PATH] [--whole-calls]``: the OpenAI-style
  delta stream as JSON lines, one delta per engine step, as a server would send it, then the finish
  reason (``--whole-calls``: each call in one delta, see ``StreamParser(whole_calls=True)``).
- ``template``: the path of the bundled fixed QwQ chat template (for ``--chat-template``).

Strategy: the command only reads input and prints; all parsing is the library's. Deltas are built
from the events of one ``feed`` call, which is exactly what an engine adapter sees per step.

Bad input is answered with one line on stderr and an exit status per kind (``EXIT_*``); a file and
standard input are read the same way: as bytes, decoded as strict UTF-8, a leading byte-order mark
dropped. A closed output pipe (``| head``) ends the command quietly.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator, Sequence
from typing import Any, NoReturn

from ._events import (
    ContentDelta,
    Event,
    ReasoningDelta,
    ToolCallArgumentsDelta,
    ToolCallMalformed,
    ToolCallStart,
)
from ._parser import StreamParser
from ._result import ResultBuilder, parse
from ._templates import chat_template_path

EXIT_USAGE = 2
"""Bad command line (unknown option, ``--chunk abc``, ``--chunk tokens`` without a tokenizer)."""
EXIT_UNREADABLE = 3
"""The input file cannot be read (missing, a directory, no permission) or a tokenizer is missing."""
EXIT_NOT_UTF8 = 4
"""The input is not valid UTF-8."""

_BOM = "\ufeff"


class _Failure(Exception):
    """One line for stderr and the exit status."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class _ArgumentParser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise _Failure(message, EXIT_USAGE)


def _read(path: str) -> str:
    """The input as text: strict UTF-8, the same from a file and from standard input."""
    try:
        if path == "-":
            data = sys.stdin.buffer.read()
        else:
            with open(path, "rb") as f:
                data = f.read()
    except OSError as error:
        raise _Failure(f"cannot read {path}: {error.strerror or error}", EXIT_UNREADABLE) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        name = "standard input" if path == "-" else path
        raise _Failure(
            f"{name} is not valid UTF-8 (byte {error.start}: {data[error.start]:#04x})",
            EXIT_NOT_UTF8,
        ) from None
    return text.removeprefix(_BOM)  # a file-encoding mark, not model output


def _token_chunks(text: str, tokenizer_path: str | None) -> list[str]:
    """The text deltas of incremental detokenization, token by token (as an engine streams)."""
    if tokenizer_path is None:
        raise _Failure(
            "--chunk tokens needs --tokenizer (tokenizer.json or its folder)", EXIT_USAGE
        )
    try:
        from tokenizers import Tokenizer
    except ImportError:
        raise _Failure("--chunk tokens needs the 'tokenizers' package", EXIT_UNREADABLE) from None
    if not tokenizer_path.endswith(".json"):
        tokenizer_path = tokenizer_path.rstrip("/") + "/tokenizer.json"
    if not os.path.isfile(tokenizer_path):
        raise _Failure(f"cannot read {tokenizer_path}: no such file", EXIT_UNREADABLE)
    tokenizer = Tokenizer.from_file(tokenizer_path)
    ids = tokenizer.encode(text, add_special_tokens=False).ids
    # Engines' incremental detokenization: decode a short window (the previous delta's tokens and
    # the new one), emit what it adds, and wait while a token ends inside a UTF-8 character.
    chunks: list[str] = []
    prefix = read = 0
    for n in range(1, len(ids) + 1):
        before = tokenizer.decode(ids[prefix:read], skip_special_tokens=False)
        after = tokenizer.decode(ids[prefix:n], skip_special_tokens=False)
        if len(after) > len(before) and not after.endswith("\ufffd"):
            chunks.append(after[len(before) :])
            prefix, read = read, n
        else:
            chunks.append("")
    return chunks


def _chunks(text: str, chunk: str, tokenizer: str | None) -> list[str]:
    if chunk == "tokens":
        return _token_chunks(text, tokenizer)
    if not chunk.isdigit() or int(chunk) < 1:
        raise _Failure(f"--chunk must be a positive number or 'tokens', not {chunk!r}", EXIT_USAGE)
    size = int(chunk)
    return [text[i : i + size] for i in range(0, len(text), size)]


def _delta(events: list[Event]) -> dict[str, Any] | None:
    """One OpenAI chat-completion ``delta`` for the events of one step."""
    delta: dict[str, Any] = {}
    calls: dict[int, dict[str, Any]] = {}
    for event in events:
        if isinstance(event, ReasoningDelta):
            delta["reasoning_content"] = delta.get("reasoning_content", "") + event.text
        elif isinstance(event, ContentDelta):
            delta["content"] = delta.get("content", "") + event.text
        elif isinstance(event, ToolCallStart):
            calls[event.index] = {
                "index": event.index,
                "id": f"call_{event.index}",
                "type": "function",
                "function": {"name": event.name, "arguments": ""},
            }
        elif isinstance(event, ToolCallArgumentsDelta):
            call = calls.setdefault(event.index, {"index": event.index, "function": {}})
            function = call["function"]
            function["arguments"] = function.get("arguments", "") + event.text
        elif isinstance(event, ToolCallMalformed):
            print(f"# malformed block at {event.offset}: {event.reason}", file=sys.stderr)
    if calls:
        delta["tool_calls"] = list(calls.values())
    return delta or None


def _stream_lines(chunks: Sequence[str], whole_calls: bool) -> Iterator[str]:
    parser = StreamParser(whole_calls=whole_calls)
    builder = ResultBuilder()
    for step in [*(parser.feed(c) for c in chunks), parser.close()]:
        builder.add(step)
        delta = _delta(step)
        if delta is not None:
            yield json.dumps({"delta": delta}, ensure_ascii=False)
    finish = "tool_calls" if builder.result().tool_calls else "stop"
    yield json.dumps({"delta": {}, "finish_reason": finish})


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``qwq-tool-parser`` console script; returns the exit status."""
    try:
        _run(argv)
        sys.stdout.flush()
    except _Failure as failure:
        print(f"qwq-tool-parser: error: {failure}", file=sys.stderr)
        return failure.status
    except BrokenPipeError:  # the reader went away (| head): stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so the interpreter's final flush stays quiet
    return 0


def _run(argv: Sequence[str] | None) -> None:
    ap = _ArgumentParser(prog="qwq-tool-parser", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="command", required=True)
    p_parse = sub.add_parser("parse", help="print the one-shot result as an OpenAI message")
    p_parse.add_argument("file", help="model output file, or - for standard input")
    p_stream = sub.add_parser("stream", help="print the OpenAI delta stream as JSON lines")
    p_stream.add_argument("file", help="model output file, or - for standard input")
    p_stream.add_argument("--chunk", default="4", help="characters per delta, or 'tokens'")
    p_stream.add_argument("--tokenizer", help="tokenizer.json (or its folder) for --chunk tokens")
    p_stream.add_argument(
        "--whole-calls", action="store_true", help="each call in one delta, once it validated"
    )
    sub.add_parser("template", help="print the path of the bundled QwQ tool-calling template")
    args = ap.parse_args(argv)

    if args.command == "template":
        print(chat_template_path())
    elif args.command == "parse":
        message = parse(_read(args.file)).to_openai_message()
        print(json.dumps(message, ensure_ascii=False, indent=2))
    else:
        chunks = _chunks(_read(args.file), args.chunk, args.tokenizer)
        for line in _stream_lines(chunks, args.whole_calls):
            print(line)


if __name__ == "__main__":
    raise SystemExit(main())
