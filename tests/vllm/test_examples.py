"""The tutorial's programs (``examples/``), each run as a user runs it, ``python examples/<p>.py URL
MODEL``, against real ``vllm serve`` with the reasoning parser ``qwq`` (entry-point server),
``deepseek_r1`` (the tutorial's choice; module-route server) and none (file-route server). They send
nothing special: the servers pick the scripted QwQ transcript from the conversation
(``harness.conversation_scripts``). The assertions read only what a program prints and its exit
status. Expected texts come from the transcript through the core (``final_message``), never from
the server.

Programs 1 and 2 as the tutorial has them fail on vLLM 0.32 whatever the parser, and these tests pin
exactly how (the README explains each); their ``_fixed`` versions work on every route. Program 3 runs
unchanged: its ``"tool_choice": null`` is read as "auto" by the ``qwq`` tool parser, and a direct
wire test checks that null and "auto" return the same message, streamed and not.
"""

from __future__ import annotations

import concurrent.futures
import re
import subprocess
from typing import Any

import httpx
import pytest
from vllm.parser import ParserManager

from harness.conversation_scripts import reply_to
from harness.tutorial_demo import run_program
from harness.vllm_client import COOKBOOK_TOOLS
from harness.vllm_server import VllmServer
from tests.vllm import test_vllm_entrypoint, test_vllm_file_route, test_vllm_module_route
from tests.vllm._shared import ServerPool, client_for, final_message
from tests.vllm.test_vllm_parser_cases import request, tokenizer  # noqa: F401
from tests.wire.rebuild import Message, chat_response, chat_stream, sse_events

# reasoning parser -> the test module whose server configuration runs it
ROUTES: dict[str, Any] = {
    "qwq": test_vllm_entrypoint,
    "deepseek_r1": test_vllm_module_route,
    "none": test_vllm_file_route,
}
ON_EVERY_ROUTE = pytest.mark.parametrize("route", [
    pytest.param(name, marks=pytest.mark.same_server_as(module.__name__.rsplit(".", 1)[-1]))
    for name, module in ROUTES.items()])
MODEL = "qwq"  # the test servers' model name, given on the command line as a user would
GREETING = reply_to("你好")
TURNS = ["你好", "Which is larger, 9.11 or 9.8?"]
HEADER = "=" * 20 + " {} " + "=" * 20
PARALLEL = "what is the weather going to be like in San Francisco and Glasgow over the next 4 days"

PROGRAMS = [  # (program, what the user types)
    ("single_turn_stream.py", ""),
    ("single_turn_stream_fixed.py", ""),
    ("multi_turn_reasoning.py", "你好\n"),
    ("multi_turn_reasoning_fixed.py", "\n".join(TURNS) + "\n"),
    ("cookbook_weather.py", ""),
]
_runs: dict[tuple[str, str], subprocess.CompletedProcess[str]] = {}


@pytest.fixture()
def server(route: str, servers: ServerPool) -> VllmServer:
    module = ROUTES[route]
    return servers.get(module.ARGS, getattr(module, "ENV", None))


def run(program: str, route: str, server: VllmServer) -> subprocess.CompletedProcess[str]:
    """What ``program`` did on ``route``. The first call runs every program on the route at once
    (separate users of one server), and each result is kept for the session."""
    if (program, route) not in _runs:
        with concurrent.futures.ThreadPoolExecutor(len(PROGRAMS)) as pool:
            done = pool.map(lambda p: run_program(p[0], p[1], server.base_url, MODEL, timeout=240),
                            PROGRAMS)
            _runs.update({(name, route): result for (name, _), result in zip(PROGRAMS, done)})
    return _runs[(program, route)]


def streamed(text: str, route: str) -> dict[str, Any]:
    """What a stream without tools in the request shows for ``text``: this package's parsers split
    it as the core does; vLLM's deepseek_r1 sends the text after ``</think>`` as it is."""
    if route == "deepseek_r1":
        reasoning, _, content = text.partition("</think>")
        return {"reasoning": reasoning, "content": content}
    return final_message(text, stream=True, reasoning_parser=None if route == "none" else "qwq")


def program_2_turns(stdout: str) -> list[tuple[str, str]]:
    """(reasoning, answer) per turn, from what the program printed."""
    turns = re.split(r"\nYou: ", stdout)[1:-1]  # the last prompt meets the end of input
    out = []
    for turn in turns:
        head, _, rest = turn.partition(HEADER.format("reasoning") + "\n")
        assert head == "\n", turn
        reasoning, _, answer = rest.partition("\n" + HEADER.format("answer") + "\n")
        assert answer.endswith("\n"), turn
        out.append((reasoning, answer[:-1]))
    return out


@ON_EVERY_ROUTE
def test_program_1_as_the_tutorial_has_it_crashes_on_vllms_last_chunk(route: str, server: VllmServer) -> None:
    done = run("single_turn_stream.py", route, server)
    assert done.returncode == 1 and done.stdout == ""
    assert "TypeError: sequence item" in done.stderr and "expected str instance, NoneType" in \
        done.stderr


@ON_EVERY_ROUTE
def test_program_1_fixed_prints_the_answer(route: str, server: VllmServer) -> None:
    done = run("single_turn_stream_fixed.py", route, server)
    assert done.returncode == 0, done.stderr
    assert done.stdout == (streamed(GREETING, route)["content"] or "") + "\n"
    assert "你好！" in done.stdout and "</think>" not in done.stdout


@ON_EVERY_ROUTE
def test_program_2_as_the_tutorial_has_it(route: str, server: VllmServer) -> None:
    """It reads ``reasoning_content``: sent by this package's parsers (qwq, and the tool parser
    without a reasoning parser), not by vLLM's deepseek_r1. Then vLLM's last ``{}`` delta crashes it."""
    done = run("multi_turn_reasoning.py", route, server)
    assert done.returncode == 1
    assert 'TypeError: can only concatenate str (not "NoneType") to str' in done.stderr
    want = streamed(GREETING, route)
    if route == "deepseek_r1":  # reasoning chunks look like answer chunks without text: "None"
        assert want["reasoning"] not in done.stdout and done.stdout.endswith("None")
    else:
        printed = done.stdout.split(HEADER.format("reasoning") + "\n", 1)[1]
        assert printed == (want["reasoning"] + "\n" + HEADER.format("answer") + "\n"
                           + want["content"] + "None")


@ON_EVERY_ROUTE
def test_program_2_fixed_prints_reasoning_then_answer_each_turn(route: str, server: VllmServer) -> None:
    done = run("multi_turn_reasoning_fixed.py", route, server)
    assert done.returncode == 0, done.stderr
    want = [streamed(reply_to(turn), route) for turn in TURNS]
    assert program_2_turns(done.stdout) == [(w["reasoning"], w["content"]) for w in want]


@ON_EVERY_ROUTE
def test_program_2_streams_what_non_streaming_returns(route: str, server: VllmServer) -> None:
    """Program 2's printed reasoning and answer, turn by turn, against the non-streamed message for
    the same conversation (the history it builds: its own answers, without reasoning). Equal, except
    in the one corner where vLLM's non-streaming API cannot carry the split (no reasoning parser)."""
    done = run("multi_turn_reasoning_fixed.py", route, server)
    client = client_for(server)
    messages: list[dict[str, str]] = []
    for turn, (reasoning, answer) in zip(TURNS, program_2_turns(done.stdout), strict=True):
        messages.append({"role": "user", "content": turn})
        message = client.chat.completions.create(model=MODEL, messages=messages).choices[0].message
        got = ((message.model_extra or {}).get("reasoning") or "", message.content or "")
        if route == "none":  # vLLM's non-streaming API gives a tool parser no reasoning slot: the
            # think block stays in content, as text (see _shared.final_message); streams split it
            want = final_message(reply_to(turn), stream=False, reasoning_parser=None)
            assert got == ("", want["content"]) and want["content"].endswith(answer)
        else:
            assert (reasoning, answer) == got
        messages.append({"role": "assistant", "content": answer})


@ON_EVERY_ROUTE
def test_program_3_as_the_cookbook_has_it_asks_calls_and_calls_in_parallel(
        route: str, server: VllmServer) -> None:
    """Unchanged: its ``chat_completion_request`` sends ``"tool_choice": null`` every time."""
    done = run("cookbook_weather.py", route, server)
    assert done.returncode == 0, done.stderr
    printed = done.stdout.splitlines()
    assert len(printed) == 5
    asks_city, glasgow_now, asks_days, five_days, parallel = printed
    assert "Could you tell me which city and country you are in" in asks_city
    assert "tool_calls=None" in asks_city
    assert ("""arguments='{"location": "Glasgow, Scotland", "format": "celsius"}', """
            "name='get_current_weather'") in glasgow_now
    assert "How many days would you like the forecast" in asks_days
    assert "finish_reason='tool_calls'" in five_days
    assert '"num_days": 5}\', name=\'get_n_day_weather_forecast\'' in five_days
    assert parallel.startswith("[ChatCompletionMessageFunctionToolCall(")
    assert re.findall(r'"location": "([^"]+)"', parallel) == ["San Francisco, CA",
                                                              "Glasgow, Scotland"]
    assert parallel.count("name='get_n_day_weather_forecast'") == 2


@ON_EVERY_ROUTE
@pytest.mark.parametrize("stream", [False, True], ids=["nonstream", "stream"])
def test_tool_choice_null_is_auto_on_the_wire(route: str, server: VllmServer, stream: bool) -> None:
    """The raw request with ``"tool_choice": null`` gets what ``"auto"`` and no ``tool_choice`` get."""
    got: dict[str, Message] = {}
    for label, choice in (("null", {"tool_choice": None}), ("auto", {"tool_choice": "auto"}),
                          ("absent", {})):
        body = {"model": MODEL, "messages": [{"role": "user", "content": PARALLEL}],
                "tools": COOKBOOK_TOOLS, "stream": stream, **choice}
        url = f"{server.base_url}/chat/completions"
        if stream:
            with httpx.stream("POST", url, json=body, timeout=120) as resp:
                got[label] = chat_stream(sse_events(resp.raise_for_status().read().decode()))
        else:
            got[label] = chat_response(httpx.post(url, json=body, timeout=120)
                                       .raise_for_status().json())
    assert got["null"] == got["auto"] == got["absent"]
    assert [name for name, _ in got["null"].calls] == ["get_n_day_weather_forecast"] * 2
    assert got["null"].finish == "tool_calls"


@pytest.mark.parametrize("reasoning_parser", ["qwq", "deepseek_r1", None])
def test_vllm_adjusting_the_request_turns_null_into_auto(tokenizer: Any,  # noqa: F811
                                                         reasoning_parser: str | None) -> None:
    """vLLM's own composed parser, whose ``adjust_request`` the server runs before serving: null
    leaves it as "auto", with the grammar "auto" gets (none, at the default strict level). Where
    "auto" would be constrained (``parallel_tool_calls: false``), vLLM decided on null before our
    hook ran: no grammar (README "Wire fields")."""
    parser_cls = ParserManager.get_parser(tool_parser_name="qwq",
                                          reasoning_parser_name=reasoning_parser,
                                          enable_auto_tools=True, tokenizer=tokenizer)

    def adjusted(**fields: Any) -> Any:
        return parser_cls(tokenizer, COOKBOOK_TOOLS).adjust_request(request(**fields))

    null, auto = adjusted(tool_choice=None), adjusted(tool_choice="auto")
    assert (null.tool_choice, null.structured_outputs) == ("auto", auto.structured_outputs)
    assert auto.structured_outputs is None
    null, auto = (adjusted(tool_choice=choice, parallel_tool_calls=False) for choice in (None, "auto"))
    assert (null.tool_choice, null.structured_outputs) == ("auto", None)
    assert auto.structured_outputs.structural_tag
