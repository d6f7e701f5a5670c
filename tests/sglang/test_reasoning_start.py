"""Where reasoning starts, through SGLang's real OpenAIServingChat: Qwen3-style templates (thinking
toggle on/off, 2507 Thinking, 2507 Instruct) and prefilled assistant messages. SGLang tells the
reasoning detector what it read from the template and request (``force_reasoning``,
``continue_final_message``); every case streams token by token, in one delta and not at all, and
must give the reasoning, content and calls written here."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from tests.qwen3_fixtures import FIXTURES, expected
from tests.qwen3_templates import QWEN3_TEMPLATES
from tests.sglang.test_serving import TOOLS, Flow, ask

CALL = ('<tool_call>\n{"name": "get_current_weather", "arguments": {"location": "Paris", '
        '"format": "celsius"}}\n</tool_call>')
PARIS = [("get_current_weather", {"location": "Paris", "format": "celsius"})]
USER = [{"role": "user", "content": "Weather in Paris?"}]
OFF = {"chat_template_kwargs": {"enable_thinking": False}}
PREFILL = {"continue_final_message": True}


@pytest.fixture(scope="module")
def qwen3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Any]]:
    from harness.sglang_serving import serve

    root = tmp_path_factory.mktemp("templates")
    configs: dict[str, Any] = {}
    for name, source in QWEN3_TEMPLATES.items():
        (root / f"{name}.jinja").write_text(source)
        configs[name] = ("qwq", "qwq", str(root / f"{name}.jinja"))
    logging.getLogger("sglang").setLevel(logging.ERROR)
    with serve(configs) as running:
        yield running


# id: (template label, messages, request fields, model output, expected (reasoning, content, calls))
CASES: dict[str, tuple[str, list[dict[str, Any]], dict[str, Any], str, tuple[Any, ...]]] = {
    "qwen3_thinking_off": ("hybrid", USER, OFF, f"I'll look it up.\n{CALL}",
                           ("", "I'll look it up.", PARIS)),
    "qwen3_thinking_off_answer_only": ("hybrid", USER, OFF, "It is sunny.", ("", "It is sunny.", [])),
    "qwen3_thinking_on": ("hybrid", USER, {}, f"<think>\nParis, celsius.\n</think>\n\n{CALL}",
                          ("Paris, celsius.", "", PARIS)),
    "qwen3_2507_thinking": ("thinking_2507", USER, {}, f"Paris, celsius.\n</think>\n\n{CALL}",
                            ("Paris, celsius.", "", PARIS)),
    "qwen3_2507_instruct": ("instruct_2507", USER, {}, f"Sure.\n{CALL}", ("", "Sure.", PARIS)),
    "prefilled_open_think": (
        "hybrid", [*USER, {"role": "assistant", "content": "<think>\nThe user wants:"}],
        {**OFF, **PREFILL}, f"Paris in celsius.\n</think>\n\n{CALL}",
        ("Paris in celsius.", "", PARIS)),
    "prefilled_closed_think": (
        "thinking_2507", [*USER, {"role": "assistant", "content": "<think>\nParis.\n</think>\n\n"}],
        PREFILL, f"Checking.\n{CALL}", ("", "Checking.", PARIS)),
}
MODES = {"stream_token": (True, 1), "stream_one_delta": (True, 10**4), "nonstream": (False, 1)}


@pytest.mark.parametrize("mode", sorted(MODES))
@pytest.mark.parametrize("case", sorted(CASES))
def test_start_state_from_the_request(qwen3_server: tuple[str, Any], case: str, mode: str) -> None:
    base, script = qwen3_server
    label, messages, body, output, (reasoning, content, calls) = CASES[case]
    stream, merge = MODES[mode]
    got = ask(base, script, label, Flow(messages, "", "", tools=TOOLS), stream=stream,
              separate=True, merge=merge, text=output, **body)
    assert (got["reasoning"], got["content"], [(n, json.loads(a)) for _, n, a in got["calls"]],
            got["finish"]) == (reasoning, content, calls, "tool_calls" if calls else "stop")


@pytest.mark.parametrize("mode", sorted(MODES))
@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_qwen3_fixture(qwen3_server: tuple[str, Any], name: str, mode: str) -> None:
    """The Qwen3-family fixtures (``fixtures/qwen3``), each template served as its own route:
    reasoning, content and calls equal to the fixture's exactly, on every path."""
    base, script = qwen3_server
    fixture, (stream, merge) = FIXTURES[name], MODES[mode]
    body: dict[str, Any] = {"chat_template_kwargs": fixture["chat_template_kwargs"]}
    if fixture["continue_final_message"]:
        body.update(PREFILL)
    got = ask(base, script, fixture["template"], Flow(fixture["messages"], "", "", tools=TOOLS),
              stream=stream, separate=True, merge=merge, text=fixture["output"], **body)
    reasoning, content, calls = expected(fixture)
    assert (got["reasoning"] or None, got["content"] or None,
            [(n, json.loads(a)) for _, n, a in got["calls"]], got["finish"]) == (
        reasoning, content, calls, "tool_calls" if calls else "stop")


def test_qwq_template_prefilled_with_a_closed_think_block(server: tuple[str, Any]) -> None:
    """QwQ's own template (its generation prompt opens the block) and a prefilled answer."""
    base, script = server
    flow = Flow([*USER, {"role": "assistant", "content": "<think>\nParis.\n</think>\n\n"}], "", "",
                tools=TOOLS)
    for stream in (True, False):
        got = ask(base, script, "qwq", flow, stream=stream, separate=True,
                  text=f"Checking.\n{CALL}", **PREFILL)
        assert (got["reasoning"], got["content"], len(got["calls"])) == ("", "Checking.", 1)
        assert script.prompts[-1].endswith("<think>\nParis.\n</think>\n\n")
