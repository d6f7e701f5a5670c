"""Real ``vllm serve`` runs in the version matrix (``nox -s vllm_matrix``, its serve versions): one
server per module."""

from __future__ import annotations

from typing import Any

import pytest

from harness.vllm_server import VllmServer
from tests.vllm._shared import client_for


@pytest.fixture()
def client(server: VllmServer) -> Any:
    """An ``openai`` client for the module's ``server`` fixture."""
    return client_for(server)
