"""Real ``vllm serve`` tests. Each test module starts its own server configuration (module-scoped
fixture), so at most one server runs at a time; ``VllmServer`` stops it even when tests fail."""

from __future__ import annotations

from typing import Any

import pytest

from harness.vllm_server import VllmServer
from tests.vllm._shared import client_for


@pytest.fixture()
def client(server: VllmServer) -> Any:
    """An ``openai`` client for the module's ``server`` fixture."""
    return client_for(server)
