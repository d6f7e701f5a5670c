"""Engine-free subjects: our core ``StreamParser`` and the pass-through floor; the memory figure;
the core scaling figure (every core shape, one-shot and 1-character deltas, 10k to 1M characters)."""

from __future__ import annotations

import gc
import math
import pathlib
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

from qwq_tool_parser import ContentDelta, StreamParser, ToolCallEnd, parse, parse_stream

from benchmarks.inputs import SCALING_SIZES, Case, memory_case, scaling_shapes
from benchmarks.measure import Subject


class PassThrough:
    """The least a streaming parser must do: look at each delta for a tag start, emit one event."""

    __slots__ = ("seen_lt",)

    def __init__(self) -> None:
        self.seen_lt = 0

    def feed(self, delta: str) -> list[ContentDelta]:
        if "<" in delta:
            self.seen_lt += 1  # a real parser would look closer here
        return [ContentDelta(text=delta)]

    def close(self) -> list[ContentDelta]:
        return []


def _feed(parser: Any, deltas: list[str], ids: list[list[int]], last: bool) -> None:
    feed = parser.feed
    for delta in deltas:
        feed(delta)


def _close(parser: Any) -> None:
    parser.close()


def _check_core(case: Case) -> str:
    result = parse_stream(case.deltas)
    if result != parse(case.text):
        return "streamed result differs from parse(text)"
    if len(result.tool_calls) != 1 or result.tool_calls[0].arguments != case.expected_args:
        return "arguments differ"
    return "ok"


def subjects() -> list[Subject]:
    return [
        Subject("qwq core StreamParser", "core", "ours", StreamParser, _feed, _close,
                check=_check_core),
        Subject("pass-through floor", "core", "floor", PassThrough, _feed, _close,
                note="checks each delta for '<', returns one ContentDelta"),
    ]


def memory_figure() -> dict[str, Any]:
    """Peak traced memory while streaming a 1 MB argument through ``StreamParser``, one token per
    delta; events are dropped after each feed, as a server sends them on."""
    case = memory_case()
    deltas = case.deltas
    encoded = [d.encode() for d in deltas]  # each delta is decoded afresh, as a detokenizer does,
    gc.collect()  # so whatever the parser keeps of it is counted
    tracemalloc.start()
    try:
        parser = StreamParser()
        feed = parser.feed
        ends = []
        for raw in encoded:
            events = feed(raw.decode())
            if events and type(events[-1]) is ToolCallEnd:
                ends.append(events[-1])
        ends += [e for e in parser.close() if type(e) is ToolCallEnd]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    arguments = ends[0].arguments
    assert arguments == case.expected_args
    input_bytes = len(case.text.encode())
    return {
        "argument_chars": len(case.expected_args),
        "transcript_bytes": input_bytes,
        "deltas": len(deltas),
        "peak_bytes": peak,
        "ratio": peak / input_bytes,
    }


def _fit_exponent(points: list[tuple[int, float]]) -> float:
    """Least-squares slope of log(time) against log(size)."""
    xs = [math.log(n) for n, _ in points]
    ys = [math.log(t) for _, t in points]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)


def _best_cpu_s(run: Callable[[], object], reps: int) -> float:
    best = math.inf
    gc.disable()
    try:
        for _ in range(reps):
            t0 = time.thread_time()
            run()
            best = min(best, time.thread_time() - t0)
    finally:
        gc.enable()
    return best


def _stream(chars: list[str]) -> None:
    parser = StreamParser()
    feed = parser.feed
    for c in chars:
        feed(c)
    parser.close()


def scaling_figure(sizes: list[int] | None = None, reps: int = 3) -> dict[str, Any]:
    """CPU seconds of every core shape, one-shot ``parse`` and 1-character deltas, 10k to 1M
    characters, and the fitted exponents (1 = linear)."""
    out: dict[str, Any] = {}
    for name, (about, make) in scaling_shapes().items():
        rows = []
        for n in sizes or SCALING_SIZES:
            text = make(n)  # type: ignore[operator]
            chars = list(text)
            expected = parse(text)
            if parse_stream(chars) != expected:
                raise AssertionError(f"{name}/{n}: streaming differs from parse")
            if ("args" in name) != (len(expected.tool_calls) == 1) or expected.malformed:
                raise AssertionError(f"{name}/{n}: not the expected parse")
            one_shot = _best_cpu_s(lambda: parse(text), reps)
            deltas = _best_cpu_s(lambda: _stream(chars), reps)
            rows.append({"size": n, "chars": len(text), "one_shot_s": one_shot,
                         "deltas_s": deltas, "us_per_delta": deltas / len(chars) * 1e6})
            print(f"[core scaling] {name} {n}: one-shot {one_shot * 1e3:.1f} ms, "
                  f"1-char deltas {deltas * 1e3:.0f} ms", flush=True)
        out[name] = {
            "about": about,
            "rows": rows,
            "exponent_one_shot": _fit_exponent([(r["chars"], r["one_shot_s"]) for r in rows]),
            "exponent_deltas": _fit_exponent([(r["chars"], r["deltas_s"]) for r in rows]),
        }
    return out


def scaling_table(figure: dict[str, Any]) -> str:
    """The figure as a Markdown table."""
    sizes = [r["size"] for r in next(iter(figure.values()))["rows"]]
    head = ["shape", *(f"1-char µs/delta {n // 1000}k" for n in sizes), "exponent 1-char",
            f"one-shot ms {sizes[-1] // 1000}k", "exponent one-shot"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, shape in figure.items():
        rows = shape["rows"]
        cells = [name, *(f"{r['us_per_delta']:.2f}" for r in rows),
                 f"{shape['exponent_deltas']:.2f}", f"{rows[-1]['one_shot_s'] * 1e3:.0f}",
                 f"{shape['exponent_one_shot']:.2f}"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # python -m benchmarks.worker_core [--quick]: the core scaling table
    import sys

    quick = "--quick" in sys.argv
    figure = scaling_figure([10_000, 31_623, 100_000] if quick else None, reps=1 if quick else 3)
    table = scaling_table(figure)
    print(table)
    if not quick:
        results = pathlib.Path(__file__).parent / "results" / "core_scaling.md"
        results.write_text("# Core scaling: every shape, 10k to 1M characters\n\n" + table)
    worst = max(max(s["exponent_deltas"], s["exponent_one_shot"]) for s in figure.values())
    print(f"worst exponent {worst:.2f}: {'PASS' if worst <= 1.15 else 'FAIL'} (target <= 1.15)")
