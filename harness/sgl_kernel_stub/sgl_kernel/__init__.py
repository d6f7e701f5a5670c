"""An import-only stand-in for SGLang's native kernel package ``sgl_kernel`` (test harness only).

Why: SGLang's CPU engine (``SGLANG_USE_CPU_ENGINE=1``) imports names from ``sgl_kernel`` when its
modules load, but no published wheel provides a CPU ``sgl_kernel`` (PyPI's are CUDA builds that
cannot load here). On a CPU without AMX, with ``--attention-backend torch_native``, SGLang calls
none of them: norms, activations, rotary and attention run in plain torch. ``harness.sglang_server``
puts this directory on the server's ``PYTHONPATH`` (never the test venv's), so the real server runs
unmodified.

Strategy: every name, in this package and in any ``sgl_kernel.*`` submodule, is a :class:`_Stub`;
calling one appends ``call <pid> <name>`` to the file named by ``$QWQ_SGL_KERNEL_STUB_LOG`` and
raises ``NotImplementedError``; importing the package appends ``import <pid> <this file>``. The
tests read that log: the stub was what got imported, and nothing was ever called.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import os
import sys
import types
from typing import Any, NoReturn

LOG_ENV = "QWQ_SGL_KERNEL_STUB_LOG"


def _log(line: str) -> None:
    path = os.environ.get(LOG_ENV)
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(f"{line}\n")


class _Stub:
    """A kernel name: attributes are further stubs; a call is logged and refused."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str) -> _Stub:
        if attr.startswith("__"):
            raise AttributeError(attr)
        return _Stub(f"{self._name}.{attr}")

    def __call__(self, *args: Any, **kwargs: Any) -> NoReturn:
        _log(f"call {os.getpid()} {self._name}")
        raise NotImplementedError(f"{self._name}: the sgl_kernel stand-in has no kernels")

    def __repr__(self) -> str:
        return f"<sgl_kernel stand-in {self._name}>"


class _StubModule(types.ModuleType):
    def __getattr__(self, attr: str) -> _Stub:
        if attr.startswith("__"):
            raise AttributeError(attr)
        return _Stub(f"{self.__name__}.{attr}")


class _SubmoduleFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """``import sgl_kernel.<anything>``: a stub module."""

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if name.startswith(__name__ + "."):
            return importlib.machinery.ModuleSpec(name, self, is_package=True)
        return None

    def create_module(self, spec: Any) -> types.ModuleType:
        module = _StubModule(spec.name)
        module.__path__ = []
        return module

    def exec_module(self, module: types.ModuleType) -> None:
        return None


sys.modules[__name__].__class__ = _StubModule
sys.meta_path.append(_SubmoduleFinder())
_log(f"import {os.getpid()} {os.path.abspath(__file__)}")
