"""The template ships in the wheel, and ``chat_template_path()`` finds it in a non-editable install."""

from __future__ import annotations

import hashlib
import os
import pathlib
import shutil
import subprocess
import sys
import zipfile

from qwq_tool_parser._templates import TEMPLATE_NAME, chat_template, chat_template_path

from tests.templates import qwq_template_helpers as h

REPO = h.REPO
_NOT_SOURCE = shutil.ignore_patterns(
    ".git",
    ".nox",
    ".venvs",
    ".cache",
    ".hypothesis",
    ".*_cache",
    "build",
    "dist",
    "*.egg-info",
    "__pycache__",
)


def test_repo_copy_is_the_package_copy() -> None:
    path = pathlib.Path(chat_template_path())
    assert path.is_absolute() and path.name == TEMPLATE_NAME
    assert path.read_bytes() == h.FIXED_TEMPLATE_FILE.read_bytes()
    assert chat_template() == h.fixed_template()


def test_official_copy_is_verbatim() -> None:
    """chat_templates/qwq-32b.jinja is the Qwen/QwQ-32B template byte for byte (the equality oracle)."""
    digest = hashlib.sha256(h.OFFICIAL_TEMPLATE_FILE.read_bytes()).hexdigest()
    assert digest == "16488ad69d85833e5f66c50174f39834b688343337e9337f018deaa21b354117"


def test_engines_detect_it_as_a_qwq_style_template() -> None:
    """SGLang forces reasoning for a template with the QwQ generation prompt and no "thinking" switch
    (its template detection); vLLM picks the plain-string content format when no loop runs over
    ``message.content``. Both must see the fixed template as they see the official one."""
    fixed, official = h.fixed_template(), h.official_template()
    prompt = "{{- '<|im_start|>assistant\\n<think>\\n' }}"
    assert prompt in fixed and prompt in official
    assert "thinking" not in fixed.lower()
    assert "in message.content" not in fixed and "in message['content']" not in fixed


def test_wheel_contains_template_and_installed_path_works(tmp_path: pathlib.Path) -> None:
    source = tmp_path / "src"
    shutil.copytree(REPO, source, symlinks=True, ignore=_NOT_SOURCE)
    wheels = tmp_path / "wheels"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--quiet",
            "-w",
            str(wheels),
            str(source),
        ],
        check=True,
        env=env,
    )
    (wheel,) = wheels.glob("qwq_tool_parser-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    member = f"qwq_tool_parser/chat_templates/{TEMPLATE_NAME}"
    assert member in names
    assert zipfile.ZipFile(wheel).read(member) == h.FIXED_TEMPLATE_FILE.read_bytes()

    # A real (non-editable) install of the wheel into its own directory, imported from there only.
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--quiet",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
        env=env,
    )
    code = (
        "import qwq_tool_parser, sys; from qwq_tool_parser._templates import chat_template_path as p; "
        "print(qwq_tool_parser.__file__); print(p())"
    )
    out = subprocess.run(
        [sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(target)!r}); {code}"],
        check=True,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
    ).stdout.split("\n")
    assert pathlib.Path(out[0]).is_relative_to(target)
    out = out[1]
    installed = pathlib.Path(out)
    assert installed.is_relative_to(target)
    assert installed.read_bytes() == h.FIXED_TEMPLATE_FILE.read_bytes()
