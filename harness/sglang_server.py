"""Start a real SGLang server on CPU with the tiny QwQ-format model and the qwq parsers.

Strategy: :class:`SGLangServer` is :class:`harness.vllm_server.VllmServer` (free loopback port, own
process group, temporary directory, waits for ``/health``, always stops the group) with SGLang's
command line and environment. SGLang runs unmodified on CPU with:

- ``SGLANG_USE_CPU_ENGINE=1`` (its CPU engine; the device becomes ``cpu``);
- ``harness/sgl_kernel_stub`` first on ``PYTHONPATH``: an import-only ``sgl_kernel`` whose every
  name refuses to run and logs to ``stub_log`` (tests assert it was imported and never called);
- ``--attention-backend torch_native`` (the x86 default needs AMX); ``--max-total-tokens 131072``
  (128 MB of KV cache for the tiny model; without it the cache takes most of free memory, and
  SGLang reserves each request's whole ``max_tokens`` budget, so a small one serializes requests);
- ``OMP_NUM_THREADS=1``: the tiny model gains nothing from threads, which spin on a busy machine;
- ``--enable-custom-logit-processor --disable-overlap-schedule`` for ``harness.sglang_script``
  (a script per request);
- ``SGLANG_EXTERNAL_MODEL_PACKAGE=harness.sglang_conversation_model`` and ``--disable-radix-cache``
  for requests that carry no processor (unchanged clients, ``/v1/messages``, ``/v1/responses``):
  the script ``harness.conversation_scripts`` picks from the conversation, as on vLLM.

The plugin is loaded the way users get it: through its ``sglang.srt.plugins`` entry point. In the
foreground (``make serve ENGINE=sglang``, ``make demo ENGINE=sglang``): ``harness.serve``.
"""

from __future__ import annotations

import os
import pathlib
import sys

from harness.tiny_model import ROOT, build_model_dir
from harness.vllm_server import MODEL_NAME, VllmServer, _dtype

STUB_DIR = ROOT / "harness" / "sgl_kernel_stub"
PARSERS = ["--tool-call-parser", "qwq", "--reasoning-parser", "qwq"]
LAUNCHERS = ("launch_server", "serve")  # python -m sglang.launch_server | sglang serve


class SGLangServer(VllmServer):
    """``with SGLangServer(PARSERS) as s: s.base_url`` (``launcher``: one of ``LAUNCHERS``)."""

    NAME = "sglang server"

    def __init__(self, args: list[str], env: dict[str, str] | None = None, *,
                 launcher: str = "launch_server", port: int | None = None,
                 model_name: str = MODEL_NAME, startup_timeout: float = 300.0) -> None:
        if launcher not in LAUNCHERS:
            raise ValueError(f"launcher must be one of {LAUNCHERS}")
        super().__init__(args, env, startup_timeout, port=port, model_name=model_name)
        self.launcher = launcher
        self.stub_log = self.dir / "sgl_kernel_stub.log"
        self.saved_stub_events: list[str] = []

    def command(self) -> list[str]:
        exe = pathlib.Path(sys.executable)
        start = ([str(exe), "-m", "sglang.launch_server"] if self.launcher == "launch_server"
                 else [str(exe.with_name("sglang")), "serve"])
        return [*start, "--model-path", str(build_model_dir()), "--host", "127.0.0.1",
                "--port", str(self.port), "--served-model-name", self.model_name,
                "--dtype", _dtype(),
                "--attention-backend", "torch_native", "--max-total-tokens", "131072",
                "--context-length", "4096", "--enable-custom-logit-processor",
                "--disable-overlap-schedule", "--disable-radix-cache", *self.args]

    def environment(self) -> dict[str, str]:
        env = super().environment()
        env["PYTHONPATH"] = os.pathsep.join([str(STUB_DIR), env["PYTHONPATH"]])
        env.setdefault("OMP_NUM_THREADS", "1")
        env.update({"SGLANG_USE_CPU_ENGINE": "1", "QWQ_SGL_KERNEL_STUB_LOG": str(self.stub_log),
                    "SGLANG_EXTERNAL_MODEL_PACKAGE": "harness.sglang_conversation_model"})
        env.pop("SGLANG_PLUGINS", None)
        env.update(self.extra_env)
        return env

    def stub_events(self) -> list[str]:
        """The kernel stand-in's log: ``import <pid> <file>``, and (never, we assert) ``call``."""
        try:
            return self.stub_log.read_text().splitlines()
        except OSError:
            return self.saved_stub_events

    def stop(self) -> None:
        self.saved_stub_events = self.stub_events()
        super().stop()
