"""Start a real ``vllm serve`` on 127.0.0.1 with the tiny model and the forcing logits processor.

Strategy: one process group per server (``start_new_session``), a free loopback port, and every
socket, temp file and cache vLLM writes contained in a temporary directory (caches that only speed
up the next start live under ``$QWQ_TOOL_PARSER_CACHE``). ``VllmServer`` is a context manager that
waits for ``/health`` and always stops the server: SIGTERM to the group, then SIGKILL after 20 s,
then removes the directory. The log stays readable (``server.log_text()``) until then. Requests
that name no script get one picked from their conversation (``harness.conversation_scripts``).
"""

from __future__ import annotations

import os
import pathlib
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from types import TracebackType

from harness.tiny_model import ROOT, build_model_dir

MODEL_NAME = "qwq"
LOGITS_PROCESSOR = "harness.forced_logits:ForcedScriptLogitsProcessor"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _dtype() -> str:
    try:
        flags = pathlib.Path("/proc/cpuinfo").read_text()
    except OSError:
        return "float32"
    return "bfloat16" if "avx512_bf16" in flags or "amx_bf16" in flags else "float32"


class VllmServer:
    """``with VllmServer(["--tool-call-parser", "qwq"]) as s: s.base_url``"""

    NAME = "vllm serve"  # in error messages

    def __init__(self, args: list[str], env: dict[str, str] | None = None,
                 startup_timeout: float = 300.0, port: int | None = None,
                 model_name: str = MODEL_NAME) -> None:
        self.args = args
        self.extra_env = env or {}
        self.timeout = startup_timeout
        self.port = port or _free_port()
        self.model_name = model_name
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self.proc: subprocess.Popen[bytes] | None = None
        self.dir = pathlib.Path(tempfile.mkdtemp(prefix="qwq-vllm-"))
        self.log_path = self.dir / "server.log"
        self.saved_log = ""

    def command(self) -> list[str]:
        # the `vllm` console script's code, also where a version lives in a `pip --target` directory
        return [sys.executable, "-m", "vllm.entrypoints.cli.main", "serve", str(build_model_dir()),
                "--host", "127.0.0.1", "--port", str(self.port), "--served-model-name", self.model_name,
                "--dtype", _dtype(), "--enforce-eager", "--max-model-len", "4096",
                "--max-num-seqs", "16", "--kv-cache-memory-bytes", "64M",
                "--logits-processors", LOGITS_PROCESSOR, *self.args]

    def environment(self) -> dict[str, str]:
        cache = pathlib.Path(os.environ.get("QWQ_TOOL_PARSER_CACHE")
                             or "~/.cache/qwq-tool-parser").expanduser() / "vllm-cache"
        tmp = self.dir / "tmp"
        tmp.mkdir(exist_ok=True)
        env = dict(os.environ)
        env.update({
            "PYTHONPATH": os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep),
            "TMPDIR": str(tmp), "VLLM_RPC_BASE_PATH": str(tmp),
            "VLLM_CACHE_ROOT": str(cache), "XDG_CACHE_HOME": str(self.dir / "xdg"),
            "HF_HOME": str(self.dir / "hf"), "TORCHINDUCTOR_CACHE_DIR": str(self.dir / "inductor"),
            "TRITON_CACHE_DIR": str(self.dir / "triton"), "TIKTOKEN_CACHE_DIR": str(self.dir / "tt"),
            "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "VLLM_NO_USAGE_STATS": "1",
            "DO_NOT_TRACK": "1", "VLLM_LOGGING_LEVEL": "INFO", "PYTHONUNBUFFERED": "1",
            "QWQ_SCRIPT_FROM_CONVERSATION": "1",  # requests without a script: picked from the prompt
        })
        env.update(self.extra_env)
        return env

    def __enter__(self) -> VllmServer:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, t: type[BaseException] | None, e: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def start(self) -> None:
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(self.command(), env=self.environment(), cwd=self.dir,
                                         stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.NAME} exited with {self.proc.returncode}:\n"
                                   + self.log_text()[-6000:])
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.5)
        raise TimeoutError(f"{self.NAME} not healthy after {self.timeout} s:\n"
                           + self.log_text()[-6000:])

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return self.saved_log

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            for sig, wait in ((signal.SIGTERM, 20.0), (signal.SIGKILL, 10.0)):
                try:
                    os.killpg(proc.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    proc.wait(timeout=wait)
                    break
                except subprocess.TimeoutExpired:
                    continue
        if proc is not None:  # the group may outlive its leader
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        self.saved_log = self.log_text()
        shutil.rmtree(self.dir, ignore_errors=True)
