"""Real ``vllm serve`` tests. Each test module names its server configuration; ``servers`` keeps one
server running at a time, shared by the modules that use the same configuration (the tutorial
programs' tests run on the three route modules' servers), and ``VllmServer`` stops it even when
tests fail. Tests marked ``same_server_as(module)`` run right after that module's tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from harness.vllm_server import VllmServer
from tests.vllm._shared import ServerPool, client_for


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "same_server_as(module): run after that test module's tests")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Move each ``same_server_as`` test behind the last test of its module (so no server restarts)."""
    guests = [item for item in items if item.get_closest_marker("same_server_as")]
    order = [item for item in items if not item.get_closest_marker("same_server_as")]
    for guest in guests:
        host = guest.get_closest_marker("same_server_as").args[0]  # type: ignore[union-attr]
        at = [k for k, item in enumerate(order) if item.module.__name__.endswith(host)  # type: ignore[attr-defined]
              or getattr(item, "_host", None) == host]
        guest._host = host  # type: ignore[attr-defined]
        order.insert(at[-1] + 1 if at else len(order), guest)
    items[:] = order


@pytest.fixture(scope="session")
def servers() -> Iterator[ServerPool]:
    """The session's one running server, handed from module to module."""
    pool = ServerPool()
    try:
        yield pool
    finally:
        pool.close()


@pytest.fixture()
def client(server: VllmServer) -> Any:
    """An ``openai`` client for the module's ``server`` fixture."""
    return client_for(server)
