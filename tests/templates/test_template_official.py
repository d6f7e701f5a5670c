"""Byte-for-byte equality with QwQ-32B's official template on every conversation it renders correctly.

The official template's domain, as generated here: string contents everywhere, dict arguments, string
tool results, tool results in call order (with or without ids/names), and no assistant turn with tool
calls whose content is only reasoning or newlines (the official template renders a blank line there
that the model never wrote: one of the fixes).
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.templates import qwq_template_helpers as h

WEATHER = h.tool_schema("get_weather")
TIME = h.tool_schema("get_time")


def _call(name: str, args: dict[str, Any], call_id: str | None = None) -> dict[str, Any]:
    return h.tool_call_message(name, args, call_id, wrapped=True)


HAND_CASES: list[tuple[str, list[dict[str, Any]], list[dict[str, Any]] | None]] = [
    ("user only", [{"role": "user", "content": "Hello"}], None),
    ("empty user", [{"role": "user", "content": ""}], None),
    (
        "system + user",
        [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}],
        None,
    ),
    ("tools, no system", [{"role": "user", "content": "Weather?"}], [WEATHER, TIME]),
    (
        "tools + system",
        [{"role": "system", "content": "You are a bot."}, {"role": "user", "content": "Weather?"}],
        [WEATHER],
    ),
    (
        "multi-turn chat with reasoning in history",
        [
            {"role": "user", "content": "2+2?"},
            {"role": "assistant", "content": "<think>\nEasy.\n</think>\n\n4"},
            {"role": "user", "content": "and 3+3?"},
            {"role": "assistant", "content": "<think>\nStill easy.\n</think>\n\n6"},
        ],
        None,
    ),
    (
        "last assistant keeps its reasoning",
        [
            {"role": "user", "content": "2+2?"},
            {"role": "assistant", "content": "<think>\nEasy.\n</think>\n\n4"},
        ],
        None,
    ),
    (
        "tool loop with dict arguments",
        [
            {"role": "system", "content": "sys"},
            {"role": "user", "content": "Weather in 東京?"},
            {
                "role": "assistant",
                "content": "<think>\nI need the tool.\n</think>\n\nLet me check.",
                "tool_calls": [_call("get_weather", {"city": "東京", "unit": "c"}, "call_0")],
            },
            {"role": "tool", "tool_call_id": "call_0", "content": "晴れ, 21°C"},
            {"role": "assistant", "content": "<think>\nok\n</think>\n\nIt is sunny 😀."},
            {"role": "user", "content": "thanks"},
        ],
        [WEATHER],
    ),
    (
        "two calls, two results, in order",
        [
            {"role": "user", "content": "both"},
            {
                "role": "assistant",
                "content": "",
                "tool_calls": [
                    _call("get_weather", {"city": "Paris"}, "a"),
                    _call(
                        "get_time",
                        {"tz": "Europe/Paris", "nested": {"x": [1, 2.5, None, True]}},
                        "b",
                    ),
                ],
            },
            {"role": "tool", "tool_call_id": "a", "content": "rain"},
            {"role": "tool", "tool_call_id": "b", "content": "12:00"},
        ],
        [WEATHER, TIME],
    ),
    (
        "bare function dicts without the 'function' wrapper",
        [
            {"role": "user", "content": "x"},
            {
                "role": "assistant",
                "content": "calling",
                "tool_calls": [{"name": "get_time", "arguments": {}}],
            },
            {"role": "tool", "content": "now"},
        ],
        [TIME],
    ),
    (
        "later system message",
        [
            {"role": "user", "content": "a"},
            {"role": "system", "content": "new rule"},
            {"role": "user", "content": "b"},
        ],
        None,
    ),
    (
        "assistant content with escapes and markup-like text",
        [
            {"role": "user", "content": 'say "hi"\\n'},
            {"role": "assistant", "content": 'He said "hi" \\ <tool_response> {}'},
        ],
        None,
    ),
]


@pytest.mark.parametrize("add_generation_prompt", [False, True])
@pytest.mark.parametrize(
    ("messages", "tools"), [c[1:] for c in HAND_CASES], ids=[c[0] for c in HAND_CASES]
)
def test_hand_cases_match_official(
    official: str,
    fixed: str,
    messages: list[dict[str, Any]],
    tools: list[dict[str, Any]] | None,
    add_generation_prompt: bool,
) -> None:
    expected = h.render(official, messages, tools, add_generation_prompt)
    assert h.render(fixed, messages, tools, add_generation_prompt) == expected


any_text = h.text(markers=h.MARKERS)
simple_names = st.from_regex(r"[a-z_][a-z0-9_]{0,12}", fullmatch=True)


def _visible(content: str) -> str:
    return content.split("</think>")[-1].lstrip("\n")


@st.composite
def assistant_content(draw: Any, with_calls: bool) -> str:
    if draw(st.booleans()):
        content = "<think>\n" + draw(h.plain_text()) + "\n</think>\n\n" + draw(h.plain_text())
    else:
        content = draw(any_text)
    if with_calls and content and not _visible(content):
        # Only reasoning or framing newlines before calls: the official template renders a blank line.
        content += draw(h.plain_text()) + draw(st.sampled_from(["ok", " Let me check.", "东京😀"]))
    return content


@st.composite
def official_conversations(draw: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]] | None]:
    names = draw(st.lists(simple_names, min_size=1, max_size=3, unique=True))
    tools = [h.tool_schema(n) for n in names] if draw(st.booleans()) else None
    messages: list[dict[str, Any]] = []
    if draw(st.booleans()):
        messages.append({"role": "system", "content": draw(any_text)})
    call_no = 0
    for _ in range(draw(st.integers(1, 3))):
        messages.append({"role": "user", "content": draw(any_text)})
        if draw(st.integers(0, 5)) == 0:
            messages.append({"role": "system", "content": draw(any_text)})
        for _ in range(draw(st.integers(0, 2))):
            calls = []
            for _ in range(draw(st.integers(1, 3))):
                call_id = f"call_{call_no}" if draw(st.booleans()) else None
                call_no += 1
                wrapped = call_id is not None or draw(st.booleans())
                calls.append(
                    h.tool_call_message(
                        draw(st.sampled_from(names)), draw(h.json_objects), call_id, wrapped
                    )
                )
            messages.append(
                {
                    "role": "assistant",
                    "content": draw(assistant_content(with_calls=True)),
                    "tool_calls": calls,
                }
            )
            # Results in call order (some may be missing), optionally naming their call.
            answered = draw(st.lists(st.booleans(), min_size=len(calls), max_size=len(calls)))
            for call, keep in zip(calls, answered):
                if not keep:
                    continue
                result: dict[str, Any] = {"role": "tool", "content": draw(any_text)}
                if "id" in call and draw(st.booleans()):
                    result["tool_call_id"] = call["id"]
                if draw(st.booleans()):
                    result["name"] = call.get("function", call)["name"]
                messages.append(result)
        if draw(st.booleans()):
            messages.append(
                {"role": "assistant", "content": draw(assistant_content(with_calls=False))}
            )
    return messages, tools


@given(conversation=official_conversations(), add_generation_prompt=st.booleans())
def test_generated_conversations_match_official(
    conversation: tuple[list[dict[str, Any]], list[dict[str, Any]] | None],
    add_generation_prompt: bool,
) -> None:
    messages, tools = conversation
    expected = h.render(h.official_template(), messages, tools, add_generation_prompt)
    assert h.render(h.fixed_template(), messages, tools, add_generation_prompt) == expected
