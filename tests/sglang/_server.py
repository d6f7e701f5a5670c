"""Shared by the real-server tests: one started, warmed-up SGLang server per module, scripted chat.

Strategy: ``serve()`` starts :class:`SGLangServer` (always stopped), warms it up with one scripted
request, and on the way out checks the ``sgl_kernel`` stand-in's log: the stand-in is what the
server processes imported, and none of its names was called during the module's requests.
``concurrently()`` batches independent requests. ``ask()`` is ``harness.vllm_client.chat`` (the
``openai`` client, streams rebuilt and checked against the OpenAI streaming contract) with
SGLang's scripted-output fields. Expectations come from the core (``check_parity``: ``parse()``
and ``StreamParser``), not the server.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import importlib.util
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import openai

from harness.sglang_script import script_fields
from harness.sglang_server import STUB_DIR, SGLangServer
from harness.vllm_client import Reply, chat
from tests.vllm._shared import expected, final_message

USER = [{"role": "user", "content": "What's the weather like?"}]
T = TypeVar("T")


def client_for(server: SGLangServer) -> Any:
    return openai.OpenAI(base_url=server.base_url, api_key="-", max_retries=0, timeout=120)


def ask(client: Any, messages: list[dict[str, Any]], script: str | list[int], *, stream: bool,
        **kw: Any) -> Reply:
    """One chat completion whose output is forced to ``script``; ``kw`` goes to ``chat``."""
    extra = {**script_fields(script), **kw.pop("extra_body", {})}
    return chat(client, messages, None, stream=stream, extra_body=extra, **kw)


def check_parity(reply: Reply, text: str, *, stream: bool) -> None:
    """The client's message is the core's (``final_message``: ``parse()``, or in a stream the
    calls announced before one was withdrawn), and ``finish_reason`` is ``tool_calls`` exactly
    when the final message has calls, also in a stream where a call was withdrawn after its name
    went out (the detector's ``incomplete_tool_call_indices``)."""
    got = {"reasoning": reply.reasoning or None, "content": reply.content or None,
           "calls": [(c.name, c.arguments) for c in reply.tool_calls]}
    assert got == final_message(text, stream=stream, reasoning_parser="qwq")
    assert reply.finish_reason == ("tool_calls" if expected(text)["calls"] else "stop")
    assert len({c.id for c in reply.tool_calls}) == len(reply.tool_calls)


def concurrently(jobs: dict[str, Callable[[], T]]) -> dict[str, T | Exception]:
    """Run independent requests at once, each job's result or exception under its key. On CPU a
    decode step costs about the same for one request as for a batch of them, so the time is set
    by the longest sequence, not the sum."""
    with concurrent.futures.ThreadPoolExecutor(len(jobs)) as pool:
        futures = {key: pool.submit(job) for key, job in jobs.items()}
        concurrent.futures.wait(futures.values())
    return {key: f.exception() or f.result() for key, f in futures.items()}  # type: ignore[misc]


def result(value: T | Exception) -> T:
    """A job's result; its exception, raised in the test that reads it."""
    if isinstance(value, Exception):
        raise value
    return value


def check_kernel_stub(server: SGLangServer) -> None:
    """The server imported our ``sgl_kernel`` stand-in, and called none of its names."""
    assert importlib.util.find_spec("sgl_kernel") is None, "no real sgl_kernel in this venv"
    events = server.stub_events()
    imports = [e.split(" ", 2) for e in events if e.startswith("import ")]
    assert imports, "the server never imported sgl_kernel"
    assert {path for _, _, path in imports} == {str(STUB_DIR / "sgl_kernel" / "__init__.py")}
    assert [e for e in events if not e.startswith("import ")] == []


@contextlib.contextmanager
def serve(args: list[str], env: dict[str, str] | None = None,
          launcher: str = "launch_server") -> Iterator[SGLangServer]:
    with SGLangServer(args, env, launcher=launcher) as server:
        reply = ask(client_for(server), USER, "warm up</think>ok", stream=False, tools=None)
        assert reply.content == "ok", server.log_text()[-3000:]
        yield server
        check_kernel_stub(server)
