"""Where the installed chat template lives: the fixed QwQ-32B tool-calling template ships in the wheel.

``chat_template_path()`` gives a real file path, so engines can take it on the command line:
``vllm serve Qwen/QwQ-32B --chat-template "$(qwq-tool-parser template)"``.
"""

from __future__ import annotations

import atexit
import contextlib
from importlib import resources
from pathlib import Path

TEMPLATE_NAME = "qwq-32b-tools.jinja"
"""File name of the fixed QwQ-32B tool-calling template inside the package's ``chat_templates/``."""

_extracted = contextlib.ExitStack()
atexit.register(_extracted.close)


def chat_template_path() -> str:
    """The absolute path of the installed ``qwq-32b-tools.jinja`` chat template.

    From a normal (wheel or editable) install this is the file inside the package. If the package is
    imported from a zip archive, the template is extracted to a temporary file that lives until exit.
    """
    ref = resources.files("qwq_tool_parser").joinpath("chat_templates", TEMPLATE_NAME)
    if isinstance(ref, Path):
        return str(ref.resolve())
    return str(_extracted.enter_context(resources.as_file(ref)))


def chat_template() -> str:
    """The text of the fixed QwQ-32B tool-calling chat template (for ``apply_chat_template``)."""
    return (
        resources.files("qwq_tool_parser")
        .joinpath("chat_templates", TEMPLATE_NAME)
        .read_text(encoding="utf-8")
    )
