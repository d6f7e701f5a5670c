"""What a user of the ``openai`` client sees from the server: one call, streamed or not, assembled.

Strategy: ``chat()`` sends a request whose output is forced to ``script`` (see ``forced_logits``) and
returns a :class:`Reply` with the same shape whether it streamed or not. While assembling a stream it
checks the OpenAI streaming contract on every chunk (first delta of a call carries id, type and
name; later ones only argument fragments; indexes appear in order 0..n-1; exactly one
finish_reason, on the last chunk), so every streamed test also tests the contract.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

COOKBOOK_TOOLS: list[dict[str, Any]] = [  # the OpenAI cookbook's weather functions
    {"type": "function", "function": {
        "name": "get_current_weather",
        "description": "Get the current weather",
        "parameters": {"type": "object", "properties": {
            "location": {"type": "string",
                         "description": "The city and state, e.g. San Francisco, CA"},
            "format": {"type": "string", "enum": ["celsius", "fahrenheit"],
                       "description": "The temperature unit to use. Infer this from the users location."},
        }, "required": ["location", "format"]}}},
    {"type": "function", "function": {
        "name": "get_n_day_weather_forecast",
        "description": "Get an N-day weather forecast",
        "parameters": {"type": "object", "properties": {
            "location": {"type": "string",
                         "description": "The city and state, e.g. San Francisco, CA"},
            "format": {"type": "string", "enum": ["celsius", "fahrenheit"],
                       "description": "The temperature unit to use. Infer this from the users location."},
            "num_days": {"type": "integer", "description": "The number of days to forecast"},
        }, "required": ["location", "format", "num_days"]}}},
]


class ContractError(AssertionError):
    """The stream broke the OpenAI streaming contract."""


@dataclass
class Call:
    id: str
    name: str
    arguments: str
    index: int = 0


@dataclass
class Reply:
    reasoning: str | None
    content: str | None
    tool_calls: list[Call]
    finish_reason: str | None
    chunks: int = 0
    raw: list[Any] = field(default_factory=list, repr=False)

    def as_message(self) -> dict[str, Any]:
        """The assistant message to append to the conversation for the next turn."""
        msg: dict[str, Any] = {"role": "assistant", "content": self.content or ""}
        if self.tool_calls:
            msg["tool_calls"] = [{"id": c.id, "type": "function", "function": {
                "name": c.name, "arguments": c.arguments}} for c in self.tool_calls]
        return msg


def _reasoning(obj: Any) -> str | None:
    value = getattr(obj, "reasoning", None)
    if value is None and obj.model_extra:
        value = obj.model_extra.get("reasoning") or obj.model_extra.get("reasoning_content")
    return value  # type: ignore[no-any-return]


def script_body(script: str | list[int] | None) -> dict[str, Any]:
    if script is None:
        return {}
    key = "forced_token_ids" if isinstance(script, list) else "forced_text"
    return {"vllm_xargs": {key: script}}


def chat(client: Any, messages: list[dict[str, Any]], script: str | list[int] | None, *,
         stream: bool, tools: list[dict[str, Any]] | None = COOKBOOK_TOOLS, model: str = "qwq",
         **kw: Any) -> Reply:
    """One chat completion through the real client; ``kw`` goes to ``create`` as is."""
    extra_body = {**script_body(script), **kw.pop("extra_body", {})}
    if tools is not None:
        kw["tools"] = tools
    if not stream:
        return reply_of(client.chat.completions.create(model=model, messages=messages,
                                                       extra_body=extra_body, **kw))
    chunks = list(client.chat.completions.create(model=model, messages=messages, stream=True,
                                                 extra_body=extra_body, **kw))
    return assemble(chunks)


def reply_of(response: Any) -> Reply:
    """A non-streamed ``ChatCompletion`` as a :class:`Reply`."""
    choice = response.choices[0]
    m = choice.message
    calls = [Call(tc.id, tc.function.name, tc.function.arguments, i)
             for i, tc in enumerate(m.tool_calls or [])]
    return Reply(_reasoning(m), m.content, calls, choice.finish_reason, 1, [response])


def assemble(chunks: list[Any]) -> Reply:
    """A stream of ``ChatCompletionChunk``s as the client rebuilds it, checking the contract."""
    reasoning: list[str] = []
    content: list[str] = []
    calls: list[Call] = []
    finish: str | None = None
    for n, chunk in enumerate(chunks):
        if not chunk.choices:
            continue
        choice = chunk.choices[0]
        if finish is not None:
            raise ContractError(f"chunk {n} after finish_reason {finish!r}")
        finish = choice.finish_reason
        delta = choice.delta
        if (text := _reasoning(delta)) is not None:
            reasoning.append(text)
        if delta.content:
            content.append(delta.content)
        for tc in delta.tool_calls or []:
            if tc.index == len(calls):  # a new call: id, type and name come first
                if not (tc.id and tc.type == "function" and tc.function and tc.function.name):
                    raise ContractError(f"first delta of call {tc.index} lacks id/type/name: {tc}")
                calls.append(Call(tc.id, tc.function.name, tc.function.arguments or "", tc.index))
            elif tc.index == len(calls) - 1 or 0 <= tc.index < len(calls):
                if tc.id is not None and tc.id != calls[tc.index].id:
                    raise ContractError(f"call {tc.index} changed its id")
                if tc.function and tc.function.name:
                    raise ContractError(f"call {tc.index} sent its name twice")
                calls[tc.index].arguments += (tc.function.arguments or "") if tc.function else ""
            else:
                raise ContractError(f"call index {tc.index} out of order (have {len(calls)})")
    if finish is None:
        raise ContractError("no finish_reason")
    return Reply("".join(reasoning) if reasoning else None, "".join(content) if content else None,
                 calls, finish, len(chunks), chunks)


def arguments(call: Call) -> Any:
    return json.loads(call.arguments)
