"""Fixtures for the chat-template tests (hypothesis profiles come from tests/conftest.py)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.templates import qwq_template_helpers as h


@pytest.fixture(scope="session")
def official() -> str:
    """QwQ-32B's official chat template, verbatim."""
    return h.official_template()


@pytest.fixture(scope="session")
def fixed() -> str:
    """Our fixed template, read from the repo's chat_templates/qwq-32b-tools.jinja."""
    return h.fixed_template()


@pytest.fixture(scope="session")
def tokenizer() -> Any:
    """The rebuilt QwQ-32B tokenizer (built once per machine, then cached)."""
    return h.tokenizer()
