"""Timing: CPU time of the measuring thread, garbage collector off, best of N fresh runs.

A parser under test is a ``Subject``: ``start()`` makes a fresh per-request parser (not timed),
``feed(state, deltas, ids)`` runs the serving loop over a slice of the stream, ``finish(state)`` is
the end of the stream. A run times three slices separately (before the measured region, the region,
the rest plus the end of stream); the region's time divided by its number of deltas is the per-delta
cost. CPU time is ``time.thread_time_ns`` (this thread only: the machine is shared and engines may
keep idle helper threads), wall time is recorded alongside.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from benchmarks.inputs import Case

thread_ns = time.thread_time_ns
wall_ns = time.perf_counter_ns


@dataclass
class Subject:
    name: str  # shown in tables
    engine: str  # "core", "vllm", "sglang"
    kind: str  # "ours", "stock", "floor"
    start: Callable[[], Any]
    feed: Callable[[Any, list[str], list[list[int]], bool], None]  # (state, deltas, ids, last)
    finish: Callable[[Any], None]
    max_size: int | None = None  # larger inputs are not measured (quadratic stock parsers)
    max_size_by_scenario: dict[str, int] | None = None  # overrides max_size per scenario
    check: Callable[[Case], str] | None = None  # untimed output check: "ok" or what differs
    note: str = ""


@dataclass
class Policy:
    min_reps: int = 5
    max_reps: int = 25
    min_time_s: float = 0.3  # keep repeating (up to max_reps) until this much was spent
    budget_s: float = 4.0  # ... but stop once a point has cost this much (after >= 1 run)


def check_one_call(case: Case, arguments: list[str], content: str) -> str:
    """"ok", or what is wrong with a stream that should hold exactly the case's one call."""
    problems = []
    if arguments != [case.expected_args]:
        problems.append(f"arguments differ ({len(arguments)} calls, "
                        f"{[len(a) for a in arguments]} chars vs {len(case.expected_args)})")
    if content.strip():
        problems.append(f"{len(content)} chars of content (expected none)")
    return "ok" if not problems else "; ".join(problems)


def run_once(subject: Subject, case: Case) -> tuple[int, int, int]:
    """One fresh run: (CPU ns of the region, CPU ns of the whole stream, wall ns of the whole)."""
    a, b = case.region
    d, i = case.deltas, case.ids
    d0, i0, d1, i1, d2, i2 = d[:a], i[:a], d[a:b], i[a:b], d[b:], i[b:]
    feed = subject.feed
    state = subject.start()
    gc.collect()
    gc.disable()
    try:
        w0 = wall_ns()
        t0 = thread_ns()
        feed(state, d0, i0, False)
        t1 = thread_ns()
        feed(state, d1, i1, False)
        t2 = thread_ns()
        feed(state, d2, i2, True)
        subject.finish(state)
        t3 = thread_ns()
        w1 = wall_ns()
    finally:
        gc.enable()
    return t2 - t1, t3 - t0, w1 - w0


def measure(subject: Subject, case: Case, policy: Policy) -> dict[str, Any]:
    best_region = best_total = best_wall = None
    reps = 0
    spent = time.perf_counter()
    while True:
        region, total, wall = run_once(subject, case)
        reps += 1
        best_region = region if best_region is None else min(best_region, region)
        best_total = total if best_total is None else min(best_total, total)
        best_wall = wall if best_wall is None else min(best_wall, wall)
        elapsed = time.perf_counter() - spent
        if reps >= policy.max_reps or elapsed >= policy.budget_s:
            break
        if reps >= policy.min_reps and elapsed >= policy.min_time_s:
            break
    n_region = case.region[1] - case.region[0]
    return {
        "parser": subject.name,
        "engine": subject.engine,
        "kind": subject.kind,
        "scenario": case.scenario,
        "regime": case.regime,
        "size": case.size,
        "digest": case.digest,
        "deltas": len(case.deltas),
        "region_deltas": n_region,
        "region_ns": best_region,
        "total_ns": best_total,
        "wall_ns": best_wall,
        "per_delta_ns": best_region / n_region,
        "reps": reps,
    }


def measure_all(subjects: list[Subject], cases: list[Case], policy: Policy,
                log: Callable[[str], None] = print) -> list[dict[str, Any]]:
    gc.collect()
    gc.freeze()  # the engines' millions of long-lived objects: keep them out of every collection
    rows = []
    for subject in subjects:
        for case in cases:
            cap = (subject.max_size_by_scenario or {}).get(case.scenario, subject.max_size)
            if cap is not None and case.size > cap:
                continue
            row = measure(subject, case, policy)
            rows.append(row)
            log(f"  {subject.name:<34} {case.key:<22} region {row['region_ns'] / 1e6:10.2f} ms "
                f"{row['per_delta_ns'] / 1e3:8.2f} us/delta  x{row['reps']}")
    return rows
