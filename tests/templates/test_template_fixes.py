"""Where the official QwQ-32B template breaks, the fixed one renders exactly these strings.

Each test also pins down the official template's failure, so the fix is shown to be needed.
"""

from __future__ import annotations

import json
from typing import Any

import jinja2
import pytest

from tests.templates import qwq_template_helpers as h

U = "<|im_start|>user\n"
A = "<|im_start|>assistant\n"
END = "<|im_end|>\n"
GEN = "<|im_start|>assistant\n<think>\n"


def call(name: str, arguments: Any, call_id: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "function", "function": {"name": name, "arguments": arguments}}
    if call_id is not None:
        out["id"] = call_id
    return out


def block(name: str, arguments_text: str) -> str:
    return f'\n<tool_call>\n{{"name": "{name}", "arguments": {arguments_text}}}\n</tool_call>'


def response(text: str) -> str:
    return f"\n<tool_response>\n{text}\n</tool_response>"


RENDERERS = {"apply_chat_template": h.render, "keeping_none": h.render_keeping_none}


@pytest.fixture(params=sorted(RENDERERS))
def render(request: pytest.FixtureRequest) -> Any:
    """Both ways a template meets None: dropped keys (transformers 5) or None values (older)."""
    return RENDERERS[request.param]


# --- content None / missing / empty ---------------------------------------------------------------


@pytest.mark.parametrize("content", ["none", "missing", "empty"])
def test_assistant_without_content_before_tool_results(
    fixed: str, render: Any, content: str
) -> None:
    assistant: dict[str, Any] = {
        "role": "assistant",
        "tool_calls": [call("get_weather", {"city": "Paris"}, "call_0")],
    }
    if content != "missing":
        assistant["content"] = None if content == "none" else ""
    messages = [
        {"role": "user", "content": "Weather in Paris?"},
        assistant,
        {"role": "tool", "tool_call_id": "call_0", "content": "rain"},
    ]
    expected = (
        U + "Weather in Paris?" + END
        + "<|im_start|>assistant" + block("get_weather", '{"city": "Paris"}') + END
        + U[:-1] + response("rain") + END
        + GEN
    )  # fmt: skip
    assert render(fixed, messages, add_generation_prompt=True) == expected


@pytest.mark.parametrize("content", [None, "missing"])
def test_official_crashes_on_missing_content(official: str, render: Any, content: Any) -> None:
    assistant: dict[str, Any] = {"role": "assistant", "tool_calls": [call("f", {})]}
    if content != "missing":
        assistant["content"] = content
    messages = [{"role": "user", "content": "x"}, assistant, {"role": "tool", "content": "y"}]
    with pytest.raises(jinja2.exceptions.UndefinedError):
        render(official, messages)


@pytest.mark.parametrize("last", [False, True])
def test_assistant_with_neither_content_nor_calls(fixed: str, render: Any, last: bool) -> None:
    messages: list[dict[str, Any]] = [
        {"role": "user", "content": "x"},
        {"role": "assistant", "content": None, "tool_calls": None},
    ]
    if not last:
        messages.append({"role": "user", "content": "y"})
    expected = U + "x" + END + A + END + ("" if last else U + "y" + END)
    assert render(fixed, messages) == expected


# --- arguments ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "arguments",
    [
        '{"city": "Paris"}',
        '{"city":"東京","days":3}',
        '{\n  "q": "caf\\u00e9 \\"x\\" </tool_call>",\n  "n": [1, 2.5e3, null]\n}',
        "{}",
    ],
)
def test_string_arguments_render_verbatim(fixed: str, official: str, arguments: str) -> None:
    messages = [
        {"role": "user", "content": "q"},
        {"role": "assistant", "content": "", "tool_calls": [call("search", arguments)]},
    ]
    assert (
        h.render(fixed, messages)
        == U + "q" + END + "<|im_start|>assistant" + block("search", arguments) + END
    )
    # The official template double-encodes: the arguments become a JSON *string*.
    assert '"arguments": ' + json.dumps(arguments, ensure_ascii=False) in h.render(
        official, messages
    )


@pytest.mark.parametrize(
    "arguments",
    [{}, {"city": "東京", "emoji": "😀", "nested": {"a": [1, {"b": None}], "esc": 'q"\\\n\t'}}],
)
def test_string_and_dict_arguments_render_the_same(fixed: str, arguments: dict[str, Any]) -> None:
    def conversation(args: Any) -> list[dict[str, Any]]:
        return [
            {"role": "user", "content": "q"},
            {"role": "assistant", "content": "ok", "tool_calls": [call("f", args, "c1")]},
            {"role": "tool", "tool_call_id": "c1", "content": "done"},
        ]

    as_dict = h.render(fixed, conversation(arguments))
    assert as_dict == h.render(fixed, conversation(json.dumps(arguments, ensure_ascii=False)))
    assert block("f", json.dumps(arguments, ensure_ascii=False)) in as_dict


@pytest.mark.parametrize("arguments", [None, "", "  ", "missing"])
def test_absent_arguments_render_as_empty_object(fixed: str, render: Any, arguments: Any) -> None:
    function: dict[str, Any] = {"name": "now"}
    if arguments != "missing":
        function["arguments"] = arguments
    messages = [
        {"role": "user", "content": "time?"},
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [{"type": "function", "function": function}],
        },
    ]
    assert (
        render(fixed, messages)
        == U + "time?" + END + "<|im_start|>assistant" + block("now", "{}") + END
    )


def test_multiple_calls_with_mixed_argument_forms(fixed: str) -> None:
    messages = [
        {"role": "user", "content": "Paris and Tokyo"},
        {
            "role": "assistant",
            "content": "Checking both.",
            "tool_calls": [
                call("get_weather", '{"city": "Paris"}', "a"),
                call("get_weather", {"city": "東京"}, "b"),
                {"name": "get_time", "arguments": '{"tz":"Asia/Tokyo"}'},
            ],
        },
    ]
    expected = (
        U + "Paris and Tokyo" + END
        + A + "Checking both."
        + block("get_weather", '{"city": "Paris"}')
        + block("get_weather", '{"city": "東京"}')
        + block("get_time", '{"tz":"Asia/Tokyo"}')
        + END
    )  # fmt: skip
    assert h.render(fixed, messages) == expected


def test_function_name_is_json_encoded(fixed: str) -> None:
    messages = [
        {"role": "user", "content": "x"},
        {"role": "assistant", "content": "", "tool_calls": [call('we"ird\\name', {"a": 1})]},
    ]
    rendered = h.render(fixed, messages)
    assert '{"name": "we\\"ird\\\\name", "arguments": {"a": 1}}' in rendered
    body = rendered.split("<tool_call>\n")[1].split("\n</tool_call>")[0]
    assert json.loads(body) == {"name": 'we"ird\\name', "arguments": {"a": 1}}


# --- tool results ---------------------------------------------------------------------------------


def _two_calls(id_a: str | None = "a", id_b: str | None = "b") -> dict[str, Any]:
    return {
        "role": "assistant",
        "content": "",
        "tool_calls": [call("get_weather", {"city": "Paris"}, id_a), call("get_time", {}, id_b)],
    }


TWO_CALLS_TEXT = (
    "<|im_start|>assistant"
    + block("get_weather", '{"city": "Paris"}')
    + block("get_time", "{}")
    + END
)


def test_consecutive_tool_messages_form_one_user_turn(fixed: str) -> None:
    messages = [
        {"role": "user", "content": "go"},
        _two_calls(),
        {"role": "tool", "tool_call_id": "a", "content": "rain"},
        {"role": "tool", "tool_call_id": "b", "content": "noon"},
        {"role": "assistant", "content": "Rain at noon."},
    ]
    expected = (
        U + "go" + END + TWO_CALLS_TEXT
        + U[:-1] + response("rain") + response("noon") + END
        + A + "Rain at noon." + END
    )  # fmt: skip
    assert h.render(fixed, messages) == expected


def _results_turn(fixed: str, results: list[dict[str, Any]], calls: dict[str, Any]) -> str:
    rendered = h.render(fixed, [{"role": "user", "content": "go"}, calls, *results])
    prefix = U + "go" + END
    assert rendered.startswith(prefix)
    rest = rendered[len(prefix) :]
    assert rest.startswith("<|im_start|>assistant")
    return rest.split(END, 1)[1]


def test_results_follow_call_order_by_tool_call_id(fixed: str, official: str) -> None:
    results = [
        {"role": "tool", "tool_call_id": "b", "content": "noon"},
        {"role": "tool", "tool_call_id": "a", "content": "rain"},
    ]
    expected = U[:-1] + response("rain") + response("noon") + END
    assert _results_turn(fixed, results, _two_calls()) == expected
    # The official template pairs results with calls by position only.
    assert (
        _results_turn(official, results, _two_calls())
        == U[:-1] + response("noon") + response("rain") + END
    )


def test_results_follow_call_order_by_name(fixed: str) -> None:
    results = [
        {"role": "tool", "name": "get_time", "content": "noon"},
        {"role": "tool", "name": "get_weather", "content": "rain"},
    ]
    assert (
        _results_turn(fixed, results, _two_calls(None, None))
        == U[:-1] + response("rain") + response("noon") + END
    )


@pytest.mark.parametrize(
    "results",
    [
        # an id no call has
        [
            {"role": "tool", "tool_call_id": "b", "content": "1"},
            {"role": "tool", "tool_call_id": "zz", "content": "2"},
        ],
        # one result without any key
        [{"role": "tool", "tool_call_id": "b", "content": "1"}, {"role": "tool", "content": "2"}],
        # two results claiming the same call
        [
            {"role": "tool", "tool_call_id": "b", "content": "1"},
            {"role": "tool", "tool_call_id": "b", "content": "2"},
        ],
    ],
    ids=["unknown id", "missing id", "duplicate id"],
)
def test_ambiguous_results_keep_message_order(fixed: str, results: list[dict[str, Any]]) -> None:
    assert (
        _results_turn(fixed, results, _two_calls()) == U[:-1] + response("1") + response("2") + END
    )


def test_same_name_twice_keeps_message_order(fixed: str) -> None:
    calls = {
        "role": "assistant",
        "content": "",
        "tool_calls": [call("get_weather", {"city": "A"}), call("get_weather", {"city": "B"})],
    }
    results = [
        {"role": "tool", "name": "get_weather", "content": "2"},
        {"role": "tool", "name": "get_weather", "content": "1"},
    ]
    assert _results_turn(fixed, results, calls) == U[:-1] + response("2") + response("1") + END


@pytest.mark.parametrize(
    ("content", "text"),
    [
        (
            {"temp": 21, "city": "東京", "ok": True, "none": None},
            '{"temp": 21, "city": "東京", "ok": true, "none": null}',
        ),
        ([1, "a", {"b": [False]}], '[1, "a", {"b": [false]}]'),
        (42, "42"),
        (2.5, "2.5"),
        (True, "true"),
        ("already text", "already text"),
        (
            [{"type": "text", "text": "part 1"}, {"type": "text", "text": "part 2"}],
            "part 1\npart 2",
        ),
        # Records that merely have a "type" field are data, not content parts.
        ([{"type": "file", "name": "a.txt"}], '[{"type": "file", "name": "a.txt"}]'),
        (
            [{"type": "text", "text": "x"}, {"type": "row", "v": 1}],
            '[{"type": "text", "text": "x"}, {"type": "row", "v": 1}]',
        ),
        ([], "[]"),
    ],
)
def test_tool_content_that_is_not_a_string_is_json(fixed: str, content: Any, text: str) -> None:
    messages = [
        {"role": "user", "content": "go"},
        _two_calls(),
        {"role": "tool", "tool_call_id": "a", "content": content},
    ]
    assert h.render(fixed, messages).endswith(U[:-1] + response(text) + END)


def test_official_renders_python_repr_for_dict_results(official: str) -> None:
    messages = [
        {"role": "user", "content": "go"},
        _two_calls(),
        {"role": "tool", "content": {"ok": True}},
    ]
    assert "{'ok': True}" in h.render(official, messages)


def test_none_tool_content_renders_empty(fixed: str, render: Any) -> None:
    messages = [{"role": "user", "content": "go"}, _two_calls(), {"role": "tool", "content": None}]
    assert render(fixed, messages).endswith(U[:-1] + response("") + END)


# --- reasoning ------------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["reasoning_content", "reasoning", "thinking"])
def test_reasoning_fields_are_never_rendered(fixed: str, field: str) -> None:
    messages = [
        {"role": "user", "content": "q1"},
        {"role": "assistant", "content": "a1", field: "SECRET-1"},
        {"role": "user", "content": "q2"},
        {"role": "assistant", "content": "", field: "SECRET-2", "tool_calls": [call("f", {}, "c")]},
        {"role": "tool", "tool_call_id": "c", "content": "r"},
        {"role": "assistant", "content": "a2", field: "SECRET-3"},
    ]
    expected = (
        U + "q1" + END + A + "a1" + END + U + "q2" + END
        + "<|im_start|>assistant" + block("f", "{}") + END
        + U[:-1] + response("r") + END
        + A + "a2" + END
    )  # fmt: skip
    assert h.render(fixed, messages) == expected


@pytest.mark.parametrize(
    "content",
    [
        "<think>\nI should call f.\n</think>\n\n",
        "I should call f.\n</think>\n\n",
        "<think>\nx\n</think>",
    ],
    ids=["think block", "no opening tag (generation prompt had it)", "no trailing newlines"],
)
def test_think_only_turn_renders_no_blank_line(fixed: str, official: str, content: str) -> None:
    messages = [
        {"role": "user", "content": "go"},
        {"role": "assistant", "content": content, "tool_calls": [call("f", {"a": 1}, "c")]},
        {"role": "tool", "tool_call_id": "c", "content": "r"},
    ]
    expected = (
        U + "go" + END
        + "<|im_start|>assistant" + block("f", '{"a": 1}') + END
        + U[:-1] + response("r") + END
    )  # fmt: skip
    assert h.render(fixed, messages) == expected
    assert "<|im_start|>assistant\n\n<tool_call>" in h.render(official, messages)


def test_reasoning_dropped_from_earlier_turns_with_content(fixed: str) -> None:
    messages = [
        {"role": "user", "content": "go"},
        {
            "role": "assistant",
            "content": "<think>\nplan\n</think>\n\nCalling f.",
            "tool_calls": [call("f", {}, "c")],
        },
        {"role": "tool", "tool_call_id": "c", "content": "r"},
        {"role": "assistant", "content": "<think>\nsum up\n</think>\n\nDone."},
        {"role": "user", "content": "again"},
    ]
    expected = (
        U + "go" + END
        + A + "Calling f." + block("f", "{}") + END
        + U[:-1] + response("r") + END
        + A + "Done." + END
        + U + "again" + END + GEN
    )  # fmt: skip
    assert h.render(fixed, messages, add_generation_prompt=True) == expected


def test_last_turn_with_only_reasoning_renders_as_the_model_wrote_it(
    fixed: str, tokenizer: Any
) -> None:
    messages = [
        {"role": "user", "content": "go"},
        {
            "role": "assistant",
            "content": "<think>\nplan\n</think>\n\n",
            "tool_calls": [call("f", {"a": 1})],
        },
    ]
    rendered = h.render(fixed, messages)
    assert (
        rendered == U + "go" + END + A + "<think>\nplan\n</think>\n" + block("f", '{"a": 1}') + END
    )
    # What QwQ generates between </think> and a call, token for token.
    ids = tokenizer.encode(rendered, add_special_tokens=False)
    # </think> "\n\n" <tool_call> "\n" '{"' name '":' ' "'
    framing = [151668, 271, 151657, 198, 4913, 606, 788, 330]
    assert any(ids[i : i + len(framing)] == framing for i in range(len(ids)))


# --- content parts, system and developer messages, generation prompt ------------------------------

TOOLS_HEADER = (
    "\n\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\n"
    "You are provided with function signatures within <tools></tools> XML tags:\n<tools>\n"
    '{"type": "function", "function": {"name": "get_weather", "description": "Tool get_weather.", '
    '"parameters": {"type": "object", "properties": {"q": {"type": "string"}}}}}\n</tools>\n\n'
    "For each function call, return a json object with function name and arguments within "
    "<tool_call></tool_call> XML tags:\n<tool_call>\n"
    '{"name": <function-name>, "arguments": <args-json-object>}\n</tool_call><|im_end|>\n'
)

PARTS = [
    {"type": "text", "text": "first"},
    {"type": "image_url", "image_url": {"url": "data:,"}},
    {"type": "text", "text": "second"},
]


@pytest.mark.parametrize("role", ["system", "developer"])
def test_system_message_with_tools_and_content_parts(fixed: str, role: str) -> None:
    messages = [{"role": role, "content": PARTS}, {"role": "user", "content": PARTS}]
    expected = "<|im_start|>system\nfirst\nsecond" + TOOLS_HEADER + U + "first\nsecond" + END + GEN
    assert (
        h.render(fixed, messages, tools=[h.tool_schema("get_weather")], add_generation_prompt=True)
        == expected
    )


def test_system_string_with_tools_matches_header(fixed: str, official: str) -> None:
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"}]
    tools = [h.tool_schema("get_weather")]
    expected = "<|im_start|>system\nBe brief." + TOOLS_HEADER + U + "hi" + END
    assert (
        h.render(fixed, messages, tools=tools)
        == expected
        == h.render(official, messages, tools=tools)
    )


def test_developer_message_is_a_system_message(fixed: str) -> None:
    messages = [
        {"role": "developer", "content": "rules"},
        {"role": "user", "content": "hi"},
        {"role": "developer", "content": "more rules"},
    ]
    expected = (
        "<|im_start|>system\nrules" + END + U + "hi" + END + "<|im_start|>system\nmore rules" + END
    )
    assert h.render(fixed, messages) == expected


def test_assistant_content_parts(fixed: str) -> None:
    messages = [
        {"role": "user", "content": "x"},
        {
            "role": "assistant",
            "content": [{"type": "text", "text": "Let me"}, {"type": "text", "text": "check."}],
            "tool_calls": [call("f", {})],
        },
        {
            "role": "tool",
            "content": [{"type": "text", "text": "r1"}, {"type": "text", "text": "r2"}],
        },
    ]
    expected = (
        U
        + "x"
        + END
        + A
        + "Let me\ncheck."
        + block("f", "{}")
        + END
        + U[:-1]
        + response("r1\nr2")
        + END
    )
    assert h.render(fixed, messages) == expected


@pytest.mark.parametrize(
    "messages",
    [
        [{"role": "user", "content": "hi"}],
        [
            {"role": "user", "content": "go"},
            _two_calls(),
            {"role": "tool", "tool_call_id": "a", "content": "r"},
        ],
        [
            {"role": "system", "content": "s"},
            {"role": "user", "content": "a"},
            {"role": "assistant", "content": "b"},
        ],
    ],
)
def test_generation_prompt_opens_a_think_block(fixed: str, messages: list[dict[str, Any]]) -> None:
    assert h.render(fixed, messages, add_generation_prompt=True).endswith(END + GEN)
    assert h.render(fixed, messages, add_generation_prompt=False).endswith(END)


def test_full_agent_loop(fixed: str) -> None:
    """Two rounds of calls as an OpenAI client sends them back (content None, string arguments)."""
    tools = [h.tool_schema("get_weather")]
    messages = [
        {"role": "system", "content": "You are a weather bot."},
        {"role": "user", "content": "Paris and 東京?"},
        {
            "role": "assistant",
            "content": None,
            "reasoning_content": "Two cities, two calls.",
            "tool_calls": [
                call("get_weather", '{"city": "Paris"}', "call_1"),
                call("get_weather", '{"city": "東京"}', "call_2"),
            ],
        },
        {"role": "tool", "tool_call_id": "call_2", "content": {"temp": 25, "sky": "晴れ"}},
        {"role": "tool", "tool_call_id": "call_1", "content": "rain, 12°C"},
        {
            "role": "assistant",
            "content": "Paris: rain. 東京: sunny 😀",
            "reasoning_content": "Summarise.",
        },
        {"role": "user", "content": "Thanks!"},
    ]
    expected = (
        "<|im_start|>system\nYou are a weather bot." + TOOLS_HEADER
        + U + "Paris and 東京?" + END
        + "<|im_start|>assistant"
        + block("get_weather", '{"city": "Paris"}')
        + block("get_weather", '{"city": "東京"}')
        + END
        + U[:-1] + response("rain, 12°C") + response('{"temp": 25, "sky": "晴れ"}') + END
        + A + "Paris: rain. 東京: sunny 😀" + END
        + U + "Thanks!" + END
        + GEN
    )  # fmt: skip
    for render in RENDERERS.values():
        assert render(fixed, messages, tools=tools, add_generation_prompt=True) == expected
