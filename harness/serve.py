"""``make serve``: a real, scripted QwQ-32B server in the foreground, for the tutorial's programs.

    python -m harness.serve [--engine vllm] [--port 8000]      # make serve [ENGINE=vllm] [PORT=8000]

Strategy: one small table, ``ENGINES``, maps an engine name to a function that returns a server
object (a context manager with ``base_url``, which starts the real server, waits until ``/health``
answers and always stops it). Every engine serves the tiny random-weight model with QwQ-32B's
tokenizer and chat template, this package's ``qwq`` parsers, and conversation-scripted output
(``harness.conversation_scripts``): unchanged clients get QwQ-shaped replies. It binds 127.0.0.1
only, under the tutorial's model name ``path/to/QwQ-32B``. Ctrl-C or SIGTERM stops it cleanly.
Adding an engine = one function and one ``ENGINES`` entry.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from collections.abc import Callable
from typing import Any

TUTORIAL_MODEL = "path/to/QwQ-32B"  # the model name the tutorial's programs send
ANY_MODEL_NAME = {"VLLM_SKIP_MODEL_NAME_VALIDATION": "1"}  # vLLM 0.32+
VLLM_ARGS = ["--enable-auto-tool-choice", "--tool-call-parser", "qwq", "--reasoning-parser", "qwq"]


def vllm_server(port: int) -> Any:
    """``vllm serve`` with ``--tool-call-parser qwq --reasoning-parser qwq`` (entry point)."""
    from harness.vllm_server import VllmServer

    return VllmServer(VLLM_ARGS, ANY_MODEL_NAME, port=port, model_name=TUTORIAL_MODEL)


def sglang_server(port: int) -> Any:
    """``sglang serve`` with ``--tool-call-parser qwq --reasoning-parser qwq`` (entry point), on CPU
    as ``harness.sglang_server`` describes."""
    from harness.sglang_server import PARSERS, SGLangServer

    return SGLangServer(PARSERS, launcher="serve", port=port, model_name=TUTORIAL_MODEL)


ENGINES: dict[str, Callable[[int], Any]] = {"vllm": vllm_server, "sglang": sglang_server}


class Stop(Exception):
    """Ctrl-C or SIGTERM, raised once in the main thread so that ``with`` stops the server."""


def _stop_once(signum: int, frame: Any) -> None:
    for sig in (signal.SIGINT, signal.SIGTERM):  # a second signal must not cut the shutdown short
        signal.signal(sig, signal.SIG_IGN)
    raise Stop


def stop_on_signals() -> None:
    """Turn the first Ctrl-C or SIGTERM into :class:`Stop`; ignore the ones after it."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _stop_once)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--engine", choices=sorted(ENGINES), default="vllm")
    ap.add_argument("--port", type=int, default=8000)
    args = ap.parse_args(argv)
    stop_on_signals()
    print(f"Starting the scripted {args.engine} server on 127.0.0.1:{args.port} ...", flush=True)
    t0 = time.monotonic()
    try:
        with ENGINES[args.engine](args.port) as server:
            print(f"Ready after {time.monotonic() - t0:.0f} s: {server.base_url}  "
                  f"(model {TUTORIAL_MODEL!r}; Ctrl-C stops it)", flush=True)
            while True:
                time.sleep(3600)
    except Stop:
        print("Stopped.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
