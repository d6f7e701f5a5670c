"""Round trip: what the template renders for an assistant turn parses back to that turn's message.

For generated agent conversations ending in an assistant message with tool calls, every assistant turn
of the rendered prompt (the text between ``<|im_start|>assistant\\n`` and ``<|im_end|>``) is parsed by
``qwq_tool_parser.parse(text, start_in_reasoning=False)``, and must give back:

- the same calls, in order: equal names, and ``json.loads(arguments)`` equal to the message's arguments
  (given as a dict or as JSON text in any spelling);
- the same content, where "same" means: the visible text of the turn's content (text parts joined by
  newlines; without the think block, which earlier turns drop and the last turn renders as reasoning)
  with its leading whitespace (space, tab, CR, LF) removed, and its trailing whitespace too when calls
  follow, because the parser treats whitespace at the start of a content segment and right before
  ``<tool_call>`` as framing; and None when only whitespace is left. Whitespace at the very end of a
  turn without calls is content.
- the same reasoning for the last turn, whose content keeps its think block: exactly the text between
  ``<think>`` and ``</think>`` (None if only whitespace); earlier turns render no reasoning at all.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from qwq_tool_parser import parse

from tests.templates import qwq_template_helpers as h


def _expected_content(visible: str, has_calls: bool) -> str | None:
    text = visible.lstrip(h.WHITESPACE)
    if has_calls:
        text = text.rstrip(h.WHITESPACE)
    return text if text.strip(h.WHITESPACE) else None


@st.composite
def assistant_turn(
    draw: Any, names: list[str], with_calls: bool, call_ids: list[int]
) -> dict[str, Any]:
    """An assistant message plus, under ``_expect``, what parsing its rendered turn must give."""
    visible = draw(h.plain_text())
    reasoning = draw(h.plain_text()) if draw(st.booleans()) else None
    text = visible if reasoning is None else "<think>\n" + reasoning + "\n</think>\n\n" + visible
    form = draw(
        st.sampled_from(["string", "parts", "none", "missing"] if not text else ["string", "parts"])
    )
    message: dict[str, Any] = {"role": "assistant"}
    if form == "string":
        message["content"] = text
    elif form == "parts":  # the template joins text parts with newlines, which restores `text`
        message["content"] = [{"type": "text", "text": line} for line in text.split("\n")]
    elif form == "none":
        message["content"] = None
    calls: list[tuple[str, Any]] = []
    if with_calls:
        tool_calls = []
        for _ in range(draw(st.integers(1, 3))):
            name = draw(st.sampled_from(names))
            args = draw(h.json_objects)
            calls.append((name, args))
            call_ids[0] += 1
            wrapped = draw(st.booleans())
            tool_calls.append(
                h.tool_call_message(
                    name, draw(h.arguments_repr(args)), f"call_{call_ids[0]}", wrapped
                )
            )
        message["tool_calls"] = tool_calls
    if draw(st.booleans()):
        message[draw(st.sampled_from(["reasoning_content", "reasoning"]))] = "NOT RENDERED"
    message["_expect"] = {"calls": calls, "visible": visible, "reasoning": reasoning}
    return message


@st.composite
def agent_conversations(draw: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]] | None]:
    names = draw(st.lists(h.tool_names, min_size=1, max_size=4, unique=True))
    tools = [h.tool_schema(n) for n in names] if draw(st.booleans()) else None
    call_ids = [0]
    messages: list[dict[str, Any]] = []
    if draw(st.booleans()):
        messages.append({"role": "system", "content": draw(h.plain_text())})
    messages.append({"role": "user", "content": draw(h.plain_text())})
    for _ in range(draw(st.integers(0, 3))):
        step = draw(assistant_turn(names, with_calls=draw(st.booleans()), call_ids=call_ids))
        messages.append(step)
        if "tool_calls" in step:
            results = [
                {
                    "role": "tool",
                    "tool_call_id": c.get("id"),
                    "content": draw(st.one_of(h.plain_text(), h.json_values)),
                }
                for c in step["tool_calls"]
            ]
            messages.extend(draw(st.permutations(results)))
        else:
            messages.append({"role": "user", "content": draw(h.plain_text())})
    messages.append(draw(assistant_turn(names, with_calls=True, call_ids=call_ids)))
    return messages, tools


@given(conversation=agent_conversations())
def test_rendered_assistant_turns_parse_back(
    conversation: tuple[list[dict[str, Any]], list[dict[str, Any]] | None],
) -> None:
    messages, tools = conversation
    expectations = [m.pop("_expect") for m in messages if m["role"] == "assistant"]
    rendered = h.render(h.fixed_template(), messages, tools)
    bodies = [body for role, body in h.turns(rendered) if role == "assistant"]
    assert len(bodies) == len(expectations)
    assert "NOT RENDERED" not in rendered

    for n, (body, expect) in enumerate(zip(bodies, expectations)):
        last = n == len(bodies) - 1
        result = parse(body, start_in_reasoning=False)
        assert result.malformed == []
        assert [c.name for c in result.tool_calls] == [name for name, _ in expect["calls"]]
        assert [json.loads(c.arguments) for c in result.tool_calls] == [
            args for _, args in expect["calls"]
        ]
        assert result.content == _expected_content(expect["visible"], bool(expect["calls"]))
        if last and expect["reasoning"] is not None:
            # The whitespace the template puts around it inside <think>...</think> is framing.
            think = expect["reasoning"].strip(h.WHITESPACE)
            assert result.reasoning == (think or None)
        else:
            assert result.reasoning is None
