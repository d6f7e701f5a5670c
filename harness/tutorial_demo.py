"""``make demo``: start the scripted server (``harness.serve``), run the tutorial's three programs in
``examples/`` against it as a user would, print what they print, then the package's own conversation
(``harness.demo_vllm``), and stop the server.

    python -m harness.tutorial_demo [--engine vllm]

Strategy: each program is a separate ``python`` process that gets only the server URL and model
name on its command line, exactly as ``python examples/<program>.py URL MODEL`` would from a shell;
program 2 reads its turns from standard input. Programs 1 and 2 run in their ``_fixed`` versions,
which differ from the tutorial's by the lines vLLM 0.32 itself needs, whatever the parser (marked in
each file): they crash on the empty ``{}`` delta that ends every stream (OpenAI sends one too).
Program 3 runs as the tutorial has it. See the README, "The tutorial's programs".
"""

from __future__ import annotations

import argparse
import pathlib
import subprocess
import sys
import time

from harness.serve import ENGINES, TUTORIAL_MODEL, Stop, stop_on_signals

EXAMPLES = pathlib.Path(__file__).resolve().parent.parent / "examples"
# (program, what the user types into it)
PROGRAMS: list[tuple[str, str]] = [
    ("single_turn_stream_fixed.py", ""),
    ("multi_turn_reasoning_fixed.py", "你好\nWhich is larger, 9.11 or 9.8?\n"),
    ("cookbook_weather.py", ""),
]


def run_program(name: str, stdin: str, base_url: str, model: str = TUTORIAL_MODEL,
                timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """``python examples/<name> <base_url> <model>``, as a user runs it."""
    return subprocess.run([sys.executable, str(EXAMPLES / name), base_url, model], input=stdin,
                          capture_output=True, text=True, timeout=timeout, check=False)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--engine", choices=sorted(ENGINES), default="vllm")
    args = ap.parse_args(argv)
    stop_on_signals()
    print(f"Starting the scripted {args.engine} server (make serve) ...", flush=True)
    try:
        failed = _run_all(args.engine)
    except Stop:
        print("Interrupted; the server is stopped.")
        return 130
    return 1 if failed else 0


def _run_all(engine: str) -> int:
    """Start the server, run every program, the package's conversation; the failures count."""
    failed = 0
    t0 = time.monotonic()
    with ENGINES[engine](0) as server:
        print(f"Ready after {time.monotonic() - t0:.0f} s at {server.base_url}", flush=True)
        for name, stdin in PROGRAMS:
            print(f"\n$ python examples/{name} {server.base_url} {TUTORIAL_MODEL}", flush=True)
            if stdin:
                print("  (typed: " + " ⏎ ".join(stdin.splitlines()) + ")")
            done = run_program(name, stdin, server.base_url)
            print(done.stdout + done.stderr, end="", flush=True)
            if done.returncode:
                print(f"  exit status {done.returncode}")
                failed += 1
        if engine == "vllm":
            from harness import demo_vllm

            print("\nThe package's own conversation (reasoning, calls, tool results), streamed:")
            demo_vllm.play(server.base_url, stream=True)
        print("\nStopping the server.", flush=True)
    return failed


if __name__ == "__main__":
    sys.exit(main())
