"""The main configuration on a real SGLang server: ``pip install qwq-tool-parser[sglang]`` then
``sglang serve --tool-call-parser qwq --reasoning-parser qwq --chat-template <fixed template>``
(the entry point registers both names), on CPU with the tiny QwQ-format model. Each request's output
is scripted (``harness.sglang_script``); everything else is SGLang's own serving code.
"""

from __future__ import annotations

import functools
import json
import pathlib
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from qwq_tool_parser import chat_template_path, parse

from harness.conversation_scripts import reply_to
from harness.qwen_tokenizer import encode, load_tokenizer
from harness.sglang_script import script_fields
from harness.sglang_server import PARSERS, SGLangServer
from harness.tutorial_demo import run_program
from harness.vllm_client import COOKBOOK_TOOLS, arguments
from tests.sglang._server import (
    USER,
    ask,
    check_kernel_stub,
    check_parity,
    client_for,
    concurrently,
    result,
    serve,
)
from tests.vllm._shared import FIXTURES, final_message, transcript
from tests.wire.cases import check_wire
from tests.wire.rebuild import Message, chat_response, chat_stream, sse_events

ARGS = [*PARSERS, "--chat-template", str(chat_template_path())]
STREAM = pytest.mark.parametrize("stream", [True, False], ids=["stream", "nonstream"])
MODES = {"stream": True, "nonstream": False}
GLASGOW = transcript("cookbook_glasgow_5_days")
PARALLEL = transcript("cookbook_parallel_sf_glasgow")


@pytest.fixture(scope="module")
def server() -> Iterator[SGLangServer]:
    with serve(ARGS, launcher="serve") as s:
        yield s


@pytest.fixture()
def client(server: SGLangServer) -> Any:
    return client_for(server)


def _mode(stream: bool) -> str:
    return "stream" if stream else "nonstream"


def test_sglang_serve_loads_the_plugin_by_entry_point(server: SGLangServer) -> None:
    cmd = server.command()
    assert cmd[1] == "serve" and cmd[0].endswith("sglang")
    assert not any("plugin" in a for a in cmd)
    assert "SGLANG_PLUGINS" not in server.environment()


def test_single_turn_streaming_loop(client: Any) -> None:
    """The tutorial's loop: ``for chunk in stream: print(chunk.choices[0].delta.content)``."""
    script = "A greeting; answer briefly.\n</think>\n\nHello! How can I help you today?"
    stream = client.chat.completions.create(
        model="qwq", messages=[{"role": "user", "content": "Hi"}], stream=True,
        extra_body=script_fields(script))
    printed, reasoning = [], []
    for chunk in stream:
        if chunk.choices:
            delta = chunk.choices[0].delta
            reasoning.append((delta.model_extra or {}).get("reasoning_content") or "")
            printed.append(delta.content or "")
    want = parse(script)
    assert ("".join(reasoning), "".join(printed)) == (want.reasoning, want.content)
    assert want.content == "Hello! How can I help you today?"


# The tutorial's programs, run as a user runs them (``python examples/<p>.py URL MODEL``, nothing
# special in the requests: the server picks the transcript from the conversation), all at once.
PROGRAMS = {"single_turn_stream.py": "", "single_turn_stream_fixed.py": "",
            "multi_turn_reasoning.py": "你好\n",
            "multi_turn_reasoning_fixed.py": "你好\nWhich is larger, 9.11 or 9.8?\n",
            "cookbook_weather.py": ""}
BANNER = "=" * 20 + " {} " + "=" * 20


@pytest.fixture(scope="module")
def programs(server: SGLangServer) -> dict[str, Any]:
    return concurrently({name: functools.partial(run_program, name, typed, server.base_url,
                                                 server.model_name, timeout=240)
                         for name, typed in PROGRAMS.items()})


def test_tutorial_programs_1_and_2_unchanged_crash_on_sglangs_last_chunk(
        programs: dict[str, Any]) -> None:
    """As on vLLM: SGLang 0.5.23 ends the stream with a delta whose ``content`` is null (OpenAI's
    API does too), which the tutorial's ``"".join`` and ``+=`` do not expect; the ``_fixed``
    versions differ in exactly those lines."""
    one = result(programs["single_turn_stream.py"])
    two = result(programs["multi_turn_reasoning.py"])
    assert one.returncode == 1 and "expected str instance, NoneType found" in one.stderr
    assert two.returncode == 1 and 'concatenate str (not "NoneType")' in two.stderr
    want = final_message(reply_to("你好"), stream=True, reasoning_parser="qwq")
    assert two.stdout.endswith(f"{want['reasoning']}\n{BANNER.format('answer')}\n"
                               f"{want['content']}None")


def test_tutorial_programs_fixed_and_cookbook_run(programs: dict[str, Any]) -> None:
    one, two = (result(programs[p]) for p in ("single_turn_stream_fixed.py",
                                              "multi_turn_reasoning_fixed.py"))
    assert one.returncode == 0 and two.returncode == 0, (one.stderr, two.stderr)
    assert one.stdout == final_message(reply_to("你好"), stream=True,
                                       reasoning_parser="qwq")["content"] + "\n"
    for turn in PROGRAMS["multi_turn_reasoning_fixed.py"].splitlines():
        want = final_message(reply_to(turn), stream=True, reasoning_parser="qwq")
        assert (f"{BANNER.format('reasoning')}\n{want['reasoning']}\n{BANNER.format('answer')}\n"
                f"{want['content']}\n") in two.stdout
    three = result(programs["cookbook_weather.py"])
    assert three.returncode == 0, three.stderr
    *_, five_days, parallel = three.stdout.splitlines()
    assert "finish_reason='tool_calls'" in five_days and '"num_days": 5}' in five_days
    assert re.findall(r'"location": "([^"]+)"', parallel) == ["San Francisco, CA",
                                                              "Glasgow, Scotland"]


def _cookbook_flow(client: Any, stream: bool) -> None:
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": "Don't make assumptions about what values to plug into "
         "functions. Ask for clarification if a user request is ambiguous."},
        {"role": "user", "content": "What's the weather like today"}]
    for name, user in (("cookbook_clarifying_question", "I'm in Glasgow, Scotland."),
                       ("cookbook_current_weather_glasgow", None),
                       ("cookbook_glasgow_5_days", None), ("cookbook_parallel_sf_glasgow", None)):
        text = transcript(name)
        reply = ask(client, messages, text, stream=stream)
        check_parity(reply, text, stream=stream)
        messages.append(reply.as_message())
        for c in reply.tool_calls:
            messages.append({"role": "tool", "tool_call_id": c.id,
                             "content": json.dumps({"temperature": 14, "sky": "rain"})})
        if user:
            messages.append({"role": "user", "content": user})
    assert [(c.index, c.name, arguments(c)["location"]) for c in reply.tool_calls] == [
        (0, "get_n_day_weather_forecast", "San Francisco, CA"),
        (1, "get_n_day_weather_forecast", "Glasgow, Scotland")]
    reply = ask(client, messages, "Both mild.\n</think>\n\nMild in both cities.", stream=stream)
    assert (reply.content, reply.tool_calls, reply.finish_reason) == (
        "Mild in both cities.", [], "stop")


def test_cookbook_weather_flow(client: Any) -> None:
    """OpenAI cookbook: clarifying question, Glasgow now, its result, Glasgow 5 days, SF + Glasgow
    (streaming and non-streaming conversations side by side)."""
    for outcome in concurrently({m: functools.partial(_cookbook_flow, client, s)
                                 for m, s in MODES.items()}).values():
        result(outcome)


# -- one-shot requests, sent together (module fixture), checked one per test -------------------

ONE_SHOT: dict[str, tuple[str, dict[str, Any]]] = {
    **{f"parity-{p.stem}": (p.read_text(), {}) for p in FIXTURES},
    "choice-auto": (PARALLEL, {"tool_choice": "auto"}),
    "choice-none": (GLASGOW, {"tool_choice": "none"}),
}


@pytest.fixture(scope="module")
def replies(server: SGLangServer) -> dict[str, Any]:
    client = client_for(server)
    return concurrently({f"{key}-{m}": functools.partial(ask, client, USER, script, stream=s, **kw)
                         for key, (script, kw) in ONE_SHOT.items() for m, s in MODES.items()})


@STREAM
@pytest.mark.parametrize("path", FIXTURES, ids=[p.stem for p in FIXTURES])
def test_same_message_as_core_parse(replies: dict[str, Any], stream: bool, path: Any) -> None:
    reply = result(replies[f"parity-{path.stem}-{_mode(stream)}"])
    check_parity(reply, path.read_text(), stream=stream)


@STREAM
def test_tool_choice_auto(replies: dict[str, Any], stream: bool) -> None:
    reply = result(replies[f"choice-auto-{_mode(stream)}"])
    check_parity(reply, PARALLEL, stream=stream)
    assert [c.index for c in reply.tool_calls] == [0, 1]


@STREAM
def test_tool_choice_none_makes_no_call(replies: dict[str, Any], stream: bool) -> None:
    reply = result(replies[f"choice-none-{_mode(stream)}"])
    assert reply.tool_calls == [] and reply.finish_reason == "stop"
    assert reply.content == GLASGOW.split("</think>")[1].lstrip("\n")


def test_concurrent_streams_each_get_their_own_calls(server: SGLangServer) -> None:
    def one(i: int) -> list[dict[str, Any]]:
        calls = "\n".join(
            '<tool_call>\n{"name": "get_n_day_weather_forecast", "arguments": {"location": '
            f'"City {i}-{k}", "format": "celsius", "num_days": {i}}}}}\n</tool_call>'
            for k in range(1 + i % 3))
        text = f"Request {i}.\n</think>\n\n{calls}"
        reply = ask(client_for(server), USER, text, stream=True)
        assert reply.reasoning == parse(text).reasoning and reply.finish_reason == "tool_calls"
        return [arguments(c) for c in reply.tool_calls]

    got = concurrently({str(i): functools.partial(one, i) for i in range(12)})
    for i in range(12):
        assert result(got[str(i)]) == [
            {"location": f"City {i}-{k}", "format": "celsius", "num_days": i}
            for k in range(1 + i % 3)]


# -- tool_choice required / named and parallel_tool_calls=false: the qwq structural tag ---------
# SGLang builds the grammar from the detector's get_structural_tag (required/named) and
# get_auto_tool_call_structural_tag (auto); its reasoner grammar starts it after </think>. Each
# request goes out as raw JSON, streamed and not; the stream is rebuilt as a client merges it
# (tests.wire.rebuild) and must equal the response, which is parse() of what the model wrote.

NAMED = {"type": "function", "function": {"name": "get_n_day_weather_forecast"}}
FIRST_CALL = PARALLEL[: PARALLEL.index("</tool_call>") + len("</tool_call>")]
CHOICES: dict[str, tuple[str, dict[str, Any], str]] = {  # script, request fields, text let through
    "required": (PARALLEL, {"tool_choice": "required"}, PARALLEL),
    "named": (GLASGOW, {"tool_choice": NAMED}, GLASGOW),
    # The script writes two calls; the grammar ends the turn after the first (the scripted
    # processor then finds its next token forbidden and ends with <|im_end|>).
    "required-one-call": (PARALLEL, {"tool_choice": "required", "parallel_tool_calls": False},
                          FIRST_CALL),
    "named-one-call": (PARALLEL, {"tool_choice": NAMED}, FIRST_CALL),
    "auto-one-call": (PARALLEL, {"tool_choice": "auto", "parallel_tool_calls": False}, FIRST_CALL),
    "required-single": (GLASGOW, {"tool_choice": "required", "parallel_tool_calls": False},
                        GLASGOW),
    # The limit: with the request's own grammar (regex, ebnf, response_format) SGLang drops the
    # tool-call grammar ("Constrained decoding is not compatible with tool calls"), and the
    # detector, built without the request, cannot know parallel_tool_calls: every call comes back.
    "auto-one-call-under-a-client-regex": (
        PARALLEL, {"tool_choice": "auto", "parallel_tool_calls": False, "regex": r"[\s\S]*"},
        PARALLEL),
}


def _wire(server: SGLangServer, script: str, fields: dict[str, Any], stream: bool) -> Message:
    body = {"model": "qwq", "messages": USER, "tools": COOKBOOK_TOOLS, "stream": stream,
            **fields, **script_fields(script)}
    url = f"{server.base_url}/chat/completions"
    if not stream:
        return chat_response(httpx.post(url, json=body, timeout=120).raise_for_status().json())
    with httpx.stream("POST", url, json=body, timeout=120) as resp:
        return chat_stream(sse_events(resp.raise_for_status().read().decode()))


@pytest.fixture(scope="module")
def choice_replies(server: SGLangServer) -> dict[str, Any]:
    return concurrently({f"{key}-{m}": functools.partial(_wire, server, script, fields, s)
                         for key, (script, fields, _) in CHOICES.items() for m, s in MODES.items()})


@pytest.mark.parametrize("key", CHOICES)
def test_tool_choice_under_the_qwq_grammar(choice_replies: dict[str, Any], key: str) -> None:
    """Reasoning first, then exactly the calls the choice allows; streamed == non-streamed."""
    kept = CHOICES[key][2]
    full = result(choice_replies[f"{key}-nonstream"])
    streamed = result(choice_replies[f"{key}-stream"])
    want = parse(kept)
    assert full == Message(want.reasoning, want.content or None,
                           [(c.name, c.arguments) for c in want.tool_calls], "tool_calls")
    check_wire(streamed, full, exact=True)
    assert full.reasoning and full.reasoning.startswith("The user")


# -- a multi-turn agent loop through the fixed template (--chat-template) ----------------------

AGENT_TURNS = [
    ("Oslo and Bergen: one current-weather call each.\n</think>\n\n"
     '<tool_call>\n{"name": "get_current_weather", "arguments": {"location": "Oslo", '
     '"format": "celsius"}}\n</tool_call>\n<tool_call>\n{"name": "get_current_weather", '
     '"arguments": {"location": "Bergen", "format": "celsius"}}\n</tool_call>'),
    "Oslo 3 °C dry, Bergen 7 °C rain.\n</think>\n\nOslo: 3 °C and dry. Bergen: 7 °C and rain.",
]
RESULTS = {"Oslo": json.dumps({"temperature": 3, "sky": "dry"}),
           "Bergen": json.dumps([{"temperature": 7, "sky": "rain"}])}


FIRST_USER_TURN = "<|im_end|>\n<|im_start|>user\n"


def _rendered(messages: list[dict[str, Any]]) -> str:
    from transformers import AutoTokenizer

    from harness.qwen_tokenizer import build_tokenizer_dir

    tok = AutoTokenizer.from_pretrained(str(build_tokenizer_dir()))
    template = pathlib.Path(chat_template_path()).read_text()
    out = tok.apply_chat_template(messages, tools=COOKBOOK_TOOLS, add_generation_prompt=True,
                                  chat_template=template, tokenize=False)
    assert isinstance(out, str)
    return out


def test_agent_loop_with_the_fixed_template(client: Any) -> None:
    """Calls, results sent back out of call order, the answer; each prompt SGLang rendered (asked
    for with ``return_prompt_token_ids``, non-streaming only) is transformers' rendering of the
    fixed template after the tools' system turn (streaming and non-streaming conversations side
    by side)."""
    for outcome in concurrently({m: functools.partial(_agent_loop, client, s)
                                 for m, s in MODES.items()}).values():
        result(outcome)


def _agent_loop(client: Any, stream: bool) -> None:
    messages: list[dict[str, Any]] = [{"role": "user", "content": "Weather in Oslo and Bergen?"}]
    prompts: list[str] = []
    for turn, script in enumerate(AGENT_TURNS):
        extra = {} if stream else {"return_prompt_token_ids": True}
        reply = ask(client, messages, script, stream=stream, extra_body=extra)
        check_parity(reply, script, stream=stream)
        if not stream:
            ids = reply.raw[0].choices[0].model_extra["prompt_token_ids"]
            prompt = load_tokenizer().decode(ids, skip_special_tokens=False)
            assert ids == encode(prompt)
            # SGLang serialises the tools with its own fields ("defer_loading": null) in the
            # system turn; the conversation after it is the fixed template's, byte for byte.
            tools, conversation = prompt.split(FIRST_USER_TURN, 1)
            assert all(f'"name": "{t["function"]["name"]}"' in tools for t in COOKBOOK_TOOLS)
            assert conversation == _rendered(messages).split(FIRST_USER_TURN, 1)[1]
            prompts.append(prompt)
        messages.append(reply.as_message())
        if turn == 0:
            ids_by_city = {arguments(c)["location"]: c.id for c in reply.tool_calls}
            for city in ("Bergen", "Oslo"):  # not in call order: tool_call_id pairs them
                messages.append({"role": "tool", "tool_call_id": ids_by_city[city],
                                 "content": RESULTS[city]})
    assert not stream or reply.content == "Oslo: 3 °C and dry. Bergen: 7 °C and rain."
    if not stream:  # the results went back in call order, after the calls as QwQ wrote them
        prompt = prompts[1]
        assert ("<tool_response>\n" + RESULTS["Oslo"] + "\n</tool_response>\n<tool_response>\n"
                + RESULTS["Bergen"] + "\n</tool_response>") in prompt
        assert AGENT_TURNS[0].split("</think>\n\n")[1] in prompt


def test_kernel_stub_imported_and_never_called(server: SGLangServer) -> None:
    """After all of this module's traffic (``serve()`` checks again when the server stops)."""
    check_kernel_stub(server)
