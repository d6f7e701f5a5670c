"""Gather the workers' JSON files: check the inputs agree, print the targets, write the results.

Outputs ``results.md`` (tables, targets, memory figure, machine and versions) and ``scaling.png``
(log-log CPU time of the measured region against its length, one line per parser).
"""

from __future__ import annotations

import datetime
import json
import math
import os
import pathlib
import platform
from collections import defaultdict
from typing import Any

SCENARIO_UNIT = {"args": "characters of arguments", "reasoning": "tokens of reasoning"}
TARGET_SIZE = 1 << 15  # 32k
LARGE_SIZES = (1 << 20, 1 << 22)  # 1M, 4M: the arguments sizes only our parsers are measured at
FLOOR_RATIO = 1.3  # the vLLM adapter's per-delta cost against vLLM's pass-through floor
MAIN_REGIME = "1-token"


def _k(size: int) -> str:
    if size >= 1 << 20:
        return f"{size >> 20}M"
    return f"{size >> 10}k" if size >= 1024 else str(size)


def _load(directory: pathlib.Path) -> list[dict[str, Any]]:
    out = []
    for name in ("core", "vllm", "sglang"):
        path = directory / f"{name}.json"
        if path.is_file():
            out.append(json.loads(path.read_text()))
    return out


def _fit(points: list[tuple[int, float]]) -> float | None:
    """Least-squares slope of log(time) against log(length)."""
    if len(points) < 2:
        return None
    xs = [math.log(s) for s, _ in points]
    ys = [math.log(t) for _, t in points]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx


def _cpu_model() -> str:
    try:
        for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


class Results:
    def __init__(self, workers: list[dict[str, Any]]) -> None:
        self.workers = workers
        self.rows = [r for w in workers for r in w["rows"]]
        self.parsers: list[str] = []
        self.kind: dict[str, str] = {}
        self.engine: dict[str, str] = {}
        for w in workers:
            for s in w["subjects"]:
                if s["name"] not in self.kind:
                    self.parsers.append(s["name"])
                self.kind[s["name"]] = s["kind"]
                self.engine[s["name"]] = s["engine"]
        self.by: dict[tuple[str, str, str, int], dict[str, Any]] = {
            (r["parser"], r["scenario"], r["regime"], r["size"]): r for r in self.rows}

    def digest_problems(self) -> list[str]:
        seen: dict[tuple[str, str, int], set[str]] = defaultdict(set)
        for r in self.rows:
            seen[(r["scenario"], r["regime"], r["size"])].add(r["digest"])
        return [f"{k}: {sorted(v)}" for k, v in seen.items() if len(v) > 1]

    def get(self, parser: str, scenario: str, regime: str, size: int) -> dict[str, Any] | None:
        return self.by.get((parser, scenario, regime, size))

    def sizes(self, scenario: str, regime: str) -> list[int]:
        return sorted({r["size"] for r in self.rows
                       if r["scenario"] == scenario and r["regime"] == regime})

    def series(self, parser: str, scenario: str, regime: str) -> list[tuple[int, float]]:
        return [(s, self.by[(parser, scenario, regime, s)]["region_ns"])
                for s in self.sizes(scenario, regime) if (parser, scenario, regime, s) in self.by]

    def exponent(self, parser: str, scenario: str, regime: str) -> float | None:
        return _fit(self.series(parser, scenario, regime))

    def last_doubling(self, parser: str, scenario: str, regime: str) -> float | None:
        pts = self.series(parser, scenario, regime)
        if len(pts) < 2:
            return None
        (s0, t0), (s1, t1) = pts[-2], pts[-1]
        return math.log(t1 / t0) / math.log(s1 / s0)

    def ours(self) -> list[str]:
        return [p for p in self.parsers if self.kind[p] == "ours"]

    def stock(self) -> list[str]:
        return [p for p in self.parsers if self.kind[p] == "stock"]


# -- targets ---------------------------------------------------------------------------------------


def _ratio(res: Results, num: str, den: str, scenario: str, size: int,
           regime: str = MAIN_REGIME) -> float | None:
    a, b = res.get(num, scenario, regime, size), res.get(den, scenario, regime, size)
    if a is None or b is None:
        return None
    return a["region_ns"] / b["region_ns"]


MEMORY_LIMIT = 5.0  # "a small multiple" of the input, made concrete


def targets(res: Results, memory: dict[str, Any] | None) -> list[tuple[str, bool | None, str]]:
    """(description, passed or None if not measurable, measured numbers)."""
    out: list[tuple[str, bool | None, str]] = []
    lo = 1 << 10
    for p in res.ours():
        for hi in (1 << 16, *LARGE_SIZES):
            a, b = res.get(p, "args", MAIN_REGIME, lo), res.get(p, "args", MAIN_REGIME, hi)
            if a and b:
                r = b["per_delta_ns"] / a["per_delta_ns"]
                out.append((f"flat per-delta cost, {p}: {_k(hi)} vs 1k chars of arguments "
                            "<= 1.5x", r <= 1.5, f"{b['per_delta_ns'] / 1e3:.2f} us vs "
                                                 f"{a['per_delta_ns'] / 1e3:.2f} us = {r:.2f}x"))
    out += floor_targets(res)
    pairs = [
        ("SGLang qwen25 + deepseek-r1", "args", 300.0, ["qwq SGLang (tool+reasoning)",
                                                         "qwq core StreamParser"]),
        ("vLLM hermes + deepseek_r1", "args", 10.0, ["qwq vLLM (tool+reasoning)",
                                                      "qwq core StreamParser"]),
        ("vLLM hermes (no reasoning parser)", "args", 10.0, ["qwq vLLM (tool only)"]),
        ("vLLM hermes + deepseek_r1", "reasoning", 20.0, ["qwq vLLM (tool+reasoning)",
                                                           "qwq core StreamParser"]),
    ]
    for stock, scenario, need, ours in pairs:
        for p in ours:
            r = _ratio(res, stock, p, scenario, TARGET_SIZE)
            what = (f"at 32k {SCENARIO_UNIT[scenario]}: {p} uses >= {need:g}x less CPU than "
                    f"{stock}")
            if r is None:
                out.append((what, None, "not measured (parser missing from this run)"))
                continue
            s, o = (res.get(stock, scenario, MAIN_REGIME, TARGET_SIZE),
                    res.get(p, scenario, MAIN_REGIME, TARGET_SIZE))
            assert s and o
            numbers = f"{s['region_ns'] / 1e6:.1f} ms vs {o['region_ns'] / 1e6:.2f} ms = {r:.0f}x"
            floor_name = {"vllm": "vLLM pass-through floor"}.get(res.engine[stock])
            fl = res.get(floor_name, scenario, MAIN_REGIME, TARGET_SIZE) if floor_name else None
            if fl and res.engine[p] == res.engine[stock]:
                f_ns = fl["region_ns"]
                numbers += (f"; a parser that does nothing ({floor_name}, {f_ns / 1e6:.1f} ms) "
                            f"gets {s['region_ns'] / f_ns:.1f}x")
                if o["region_ns"] > f_ns:
                    net = (s["region_ns"] - f_ns) / (o["region_ns"] - f_ns)
                    numbers += f"; net of that floor: {net:.0f}x"
            r64 = _ratio(res, stock, p, scenario, 2 * TARGET_SIZE)
            if r64 is not None:
                numbers += f"; at 64k: {r64:.1f}x"
            out.append((what, r >= need, numbers))
    for scenario in ("args", "reasoning"):
        r = _ratio(res, "qwq core StreamParser", "pass-through floor", scenario, TARGET_SIZE)
        what = f"core per-delta cost within 3x of the pass-through floor ({scenario}, 32k)"
        if r is None:
            out.append((what, None, "not measured"))
            continue
        c = res.get("qwq core StreamParser", scenario, MAIN_REGIME, TARGET_SIZE)
        f = res.get("pass-through floor", scenario, MAIN_REGIME, TARGET_SIZE)
        assert c and f
        out.append((what, r <= 3.0, f"{c['per_delta_ns'] / 1e3:.2f} us vs "
                                    f"{f['per_delta_ns'] / 1e3:.2f} us = {r:.2f}x"))
    what = (f"memory: peak while streaming a 1 MB argument <= {MEMORY_LIMIT:g}x the input "
            "(the limit is this benchmark's reading of 'a small multiple')")
    if memory is None:
        out.append((what, None, "not measured"))
    else:
        out.append((what, memory["ratio"] <= MEMORY_LIMIT,
                    f"{memory['peak_bytes'] / 2**20:.1f} MB for "
                    f"{memory['transcript_bytes'] / 2**20:.2f} MB = {memory['ratio']:.1f}x"))
    return out


def floor_targets(res: Results) -> list[tuple[str, bool | None, str]]:
    """The vLLM adapters' per-delta cost against vLLM's pass-through floor, arguments phase: the
    ratio of their total CPU over all sizes measured for both (short runs are noisy on a shared
    machine; the long ones dominate the sum)."""
    floor = "vLLM pass-through floor"
    out: list[tuple[str, bool | None, str]] = []
    for p in (p for p in res.ours() if res.engine[p] == "vllm"):
        pairs = [(res.get(p, "args", MAIN_REGIME, s), res.get(floor, "args", MAIN_REGIME, s))
                 for s in res.sizes("args", MAIN_REGIME)]
        pairs = [(a, b) for a, b in pairs if a and b]
        what = f"{p} per-delta cost within {FLOOR_RATIO:g}x of the {floor} (arguments, all sizes)"
        if not pairs:
            out.append((what, None, "not measured"))
            continue
        r = sum(a["region_ns"] for a, _ in pairs) / sum(b["region_ns"] for _, b in pairs)
        each = ", ".join(f"{_k(a['size'])} {a['per_delta_ns'] / b['per_delta_ns']:.2f}x"
                         for a, b in pairs)
        out.append((what, r <= FLOOR_RATIO, f"{r:.2f}x ({each})"))
    return out


# -- tables ----------------------------------------------------------------------------------------


def _fmt_ms(ns: float) -> str:
    ms = ns / 1e6
    return f"{ms:.0f}" if ms >= 100 else f"{ms:.1f}" if ms >= 1 else f"{ms:.2f}"


def summary_table(res: Results) -> list[str]:
    t = TARGET_SIZE
    head = ["parser", "args: us/delta 1k", "32k", "64k", "1M", "4M", "args 32k total ms",
            "exponent", "reasoning: us/delta 1k", "32k", "64k", "reasoning 32k total ms",
            "exponent"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for p in res.parsers:
        cells = [p]
        for scenario in ("args", "reasoning"):
            for size in (1 << 10, t, 1 << 16, *(LARGE_SIZES if scenario == "args" else ())):
                r = res.get(p, scenario, MAIN_REGIME, size)
                cells.append(f"{r['per_delta_ns'] / 1e3:.2f}" if r else "-")
            r = res.get(p, scenario, MAIN_REGIME, t)
            cells.append(_fmt_ms(r["region_ns"]) if r else "-")
            e = res.exponent(p, scenario, MAIN_REGIME)
            cells.append(f"{e:.2f}" if e is not None else "-")
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def ratio_table(res: Results) -> list[str]:
    lines = ["| ours \\ stock (CPU ratio at 32k, 1-token deltas) | " +
             " | ".join(f"{s}: args" + " | " + f"{s}: reasoning" for s in res.stock()) + " |",
             "|" + "---|" * (1 + 2 * len(res.stock()))]
    for p in res.ours():
        cells = [p]
        for s in res.stock():
            for scenario in ("args", "reasoning"):
                same = res.engine[p] in ("core", res.engine[s])  # adapters: their own engine only
                r = _ratio(res, s, p, scenario, TARGET_SIZE) if same else None
                cells.append(f"{r:.0f}x" if r is not None else "-")
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def detail_table(res: Results, scenario: str, regime: str) -> list[str]:
    sizes = res.sizes(scenario, regime)
    head = ["parser"] + [_k(s) for s in sizes] + ["fit exponent", "last doubling"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for p in res.parsers:
        cells = [p]
        for s in sizes:
            r = res.get(p, scenario, regime, s)
            cells.append(f"{_fmt_ms(r['region_ns'])} ({r['per_delta_ns'] / 1e3:.1f})" if r else "-")
        e, d = res.exponent(p, scenario, regime), res.last_doubling(p, scenario, regime)
        cells += [f"{e:.2f}" if e is not None else "-", f"{d:.2f}" if d is not None else "-"]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def plot(res: Results, path: pathlib.Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    regimes = sorted({r["regime"] for r in res.rows}, key=lambda g: int(g.split("-")[0]))
    fig, axes = plt.subplots(len(regimes), 2, figsize=(13, 5.2 * len(regimes)), squeeze=False)
    style = {"ours": "-", "stock": "--", "floor": ":"}
    for i, regime in enumerate(regimes):
        for j, scenario in enumerate(("args", "reasoning")):
            ax = axes[i][j]
            for p in res.parsers:
                pts = res.series(p, scenario, regime)
                if pts:
                    ax.plot([s for s, _ in pts], [t / 1e6 for _, t in pts],
                            style.get(res.kind[p], "-"), marker="o", ms=3, label=p)
            ax.set_xscale("log", base=2)
            ax.set_yscale("log")
            ax.set_xlabel(SCENARIO_UNIT[scenario])
            ax.set_ylabel("CPU ms (best of N), measured region")
            ax.set_title(f"{scenario}, {regime} deltas")
            ax.grid(True, which="both", alpha=0.3)
            ax.legend(fontsize=7)
    fig.suptitle("Streaming parse CPU time vs length (log-log; slope 1 = linear, 2 = quadratic)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def report(directory: pathlib.Path, results: pathlib.Path) -> int:
    workers = _load(directory)
    if not workers:
        print(f"no worker results in {directory}")
        return 2
    res = Results(workers)
    problems = res.digest_problems()
    if problems:
        print("the workers measured different inputs:\n  " + "\n  ".join(problems))
        return 2
    results.mkdir(parents=True, exist_ok=True)
    plot(res, results / "scaling.png")
    memory = next((w["memory"] for w in workers if "memory" in w), None)
    tg = targets(res, memory)
    versions: dict[str, str] = {}
    for w in workers:
        versions.update(w["versions"])
    started = directory / "started"
    run_time = None
    if started.is_file():  # until the last worker finished (the report itself takes seconds)
        last = max(p.stat().st_mtime for p in directory.glob("*.json"))
        run_time = last - float(started.read_text())

    md: list[str] = ["# Benchmark results", ""]
    md += [
        f"Generated by `nox -s bench` on {datetime.date.today().isoformat()}. CPU time of the "
        "measuring thread (`time.thread_time_ns`), garbage collector off, best of N fresh runs "
        "(N adapts: at least 5 runs or 0.3 s for fast parsers, at least one run and at most ~4 s "
        "per point for slow ones). Inputs: QwQ transcripts cut at real QwQ token boundaries "
        "(the real tokenizer), one token per delta (`1-token`) or eight (`8-token`). `args`: one "
        "`write_file` call whose arguments JSON object has the given number of characters "
        "(JSON-escaped Python source), after a short think block; `reasoning`: a think block of "
        "the given number of tokens, then a small call. Times are for the measured region only "
        "(the argument deltas, or the reasoning deltas); the whole stream is in the JSON files.",
        "",
        "Engine parsers run through the engines' own per-request composition: vLLM "
        "`DelegatingParser.parse_delta` (what `OpenAIServingChat` calls, with vLLM's "
        "`DeltaMessage`s), SGLang `ReasoningParser.parse_stream_chunk` then "
        "`FunctionCallParser.parse_stream_chunk` (what `serving_chat` calls). Stock parsers are "
        f"quadratic, so they are measured up to {_k(TARGET_SIZE)} only (vLLM hermes' arguments "
        "phase: up to 64k, about 3 s a run); nothing is extrapolated. Our parsers and the "
        "floors also run 1M and 4M characters of arguments (one run each at 4M).",
        "",
        "## Machine and versions",
        "",
        f"- CPU: {_cpu_model()}, {os.cpu_count()} logical cores (shared with other work; CPU "
        "time, not wall time, is reported)",
        f"- Python {versions.get('python', platform.python_version())}, "
        + ", ".join(f"{k} {v}" for k, v in sorted(versions.items()) if k != "python"),
    ]
    if run_time is not None:
        md.append(f"- whole `nox -s bench` run, environment installs included: "
                  f"{run_time / 60:.1f} min")
    md += ["", "## Targets", ""]
    for what, ok, numbers in tg:
        flag = "PASS" if ok else "n/a" if ok is None else "FAIL"
        md.append(f"- **{flag}** {what}: {numbers}")
    md += ["", f"## Summary ({MAIN_REGIME} deltas)", "",
           "Per-delta cost in microseconds; totals in ms of CPU for the measured region; "
           "exponent: least-squares slope of log(time) against log(length) over the measured "
           "sizes (1 = linear, 2 = quadratic).", ""]
    md += summary_table(res)
    md += ["", "## Stock CPU / our CPU at 32k", "",
           "Each adapter against the stock parsers of its own engine; the core against all.",
           ""] + ratio_table(res)
    if memory:
        md += ["", "## Memory", "",
               f"Streaming a {memory['argument_chars'] / 2**20:.0f} MB argument "
               f"({memory['deltas']} one-token deltas, every delta a fresh string as from a "
               f"detokenizer) through `StreamParser`: peak traced memory "
               f"{memory['peak_bytes'] / 2**20:.1f} MB = {memory['ratio']:.1f}x the "
               f"{memory['transcript_bytes'] / 2**20:.2f} MB transcript."]
    for scenario in ("args", "reasoning"):
        for regime in sorted({r["regime"] for r in res.rows}, key=lambda g: int(g.split("-")[0])):
            md += ["", f"## {scenario}, {regime} deltas: CPU ms of the region (us per delta)", ""]
            md += detail_table(res, scenario, regime)
    checks = {k: v for w in workers for k, v in w.get("checks", {}).items()}
    md += ["", "## Output checks (untimed run at 2k, does the path produce the expected call?)", ""]
    md += [f"- {k}: {v}" for k, v in checks.items()]
    notes = [n for w in workers for n in w.get("notes", [])]
    if notes:
        md += ["", "## Notes", ""] + [f"- {n}" for n in notes]
    md += ["", "![scaling](scaling.png)", ""]
    (results / "results.md").write_text("\n".join(md))

    print("\n".join(summary_table(res)))
    print()
    print("\n".join(ratio_table(res)))
    print("\nTargets:")
    for what, ok, numbers in tg:
        flag = "PASS" if ok else "n/a " if ok is None else "FAIL"
        print(f"  {flag}  {what}: {numbers}")
    if memory:
        print(f"\nMemory: 1 MB argument -> peak {memory['peak_bytes'] / 2**20:.1f} MB "
              f"({memory['ratio']:.1f}x the input)")
    if run_time is not None:
        print(f"Whole run: {run_time / 60:.1f} min")
    print(f"\nWrote {results / 'results.md'} and {results / 'scaling.png'}")
    return 0
