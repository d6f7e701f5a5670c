"""Conversation-scripted replies: which QwQ-32B transcript a scripted server plays for a request.

Strategy: a client that sends nothing special (the tutorial's programs) still gets QwQ-shaped
replies. The server renders the conversation with QwQ's chat template as usual; ``script_for``
reads the rendered prompt, takes its last user turn, and looks that message up in ``SCRIPTS``
(case and runs of whitespace ignored). A last turn made of tool results gets a reply that reports
them; any other message gets ``UNKNOWN``, a short scripted answer. Engine-free: the vLLM logits
processor (``harness.forced_logits``) uses it, and an SGLang one can.
"""

from __future__ import annotations

import pathlib
import re

FIXTURES = pathlib.Path(__file__).resolve().parent.parent / "fixtures" / "qwq"
USER_TURN = "<|im_start|>user\n"  # QwQ-32B's chat template (ChatML); tool results are user turns
TURN_END = "<|im_end|>"
TOOL_RESPONSE = re.compile(r"<tool_response>\n(.*?)\n</tool_response>", re.S)


def _fixture(name: str) -> str:
    return (FIXTURES / f"{name}.txt").read_text(encoding="utf-8")


def _key(message: str) -> str:
    return " ".join(message.split()).casefold()


# The tutorial's prompts (program 1 and 2: "你好"; program 3: the OpenAI cookbook's weather
# conversation) and the package demo's phrasings of the same requests.
_TABLE: dict[str, str] = {
    "你好": "The user greets me in Chinese. I should greet them back in Chinese and offer help.\n"
    "</think>\n\n你好！我是 QwQ，很高兴见到你。有什么我可以帮你的吗？",
    "Which is larger, 9.11 or 9.8?": "Compare the decimals digit by digit: 9.11 vs 9.80. The tenths "
    "digit decides: 1 < 8, so 9.8 is larger.\n</think>\n\n9.8 is larger than 9.11.",
    "hi ,can you tell me what's the weather like today": _fixture("cookbook_clarifying_question"),
    "What's the weather like today": _fixture("cookbook_clarifying_question"),
    "I'm in Glasgow, Scotland.": _fixture("cookbook_current_weather_glasgow"),
    "can you tell me, what is the weather going to be like in Glasgow, Scotland in next x days": (
        "The user wants a forecast for Glasgow, Scotland, but \"x days\" is not a number. "
        "get_n_day_weather_forecast needs num_days, and I should not guess it.\n</think>\n\n"
        "Sure! How many days would you like the forecast for Glasgow, Scotland to cover?"
    ),
    "5 days": _fixture("cookbook_glasgow_5_days"),
    "what is the weather going to be like in Glasgow, Scotland over the next 5 days": _fixture(
        "cookbook_glasgow_5_days"
    ),
    "what is the weather going to be like in San Francisco and Glasgow over the next 4 days": (
        _fixture("cookbook_parallel_sf_glasgow")
    ),
}
SCRIPTS = {_key(message): script for message, script in _TABLE.items()}
UNKNOWN = (
    "I have no script for this message.\n</think>\n\nThis server plays scripted QwQ-32B replies and "
    "has none for that message. Try one of the tutorial's prompts, for example \"你好\"."
)


def _tool_results_reply(results: list[str]) -> str:
    listed = "\n".join(f"- {r}" for r in results)
    return f"I have the tool results; I report them as they are.\n</think>\n\nThe tools returned:\n{listed}"


def last_user_turn(prompt: str) -> str | None:
    """The text of the prompt's last user turn (None if it has none)."""
    start = prompt.rfind(USER_TURN)
    if start < 0:
        return None
    body = prompt[start + len(USER_TURN) :]
    end = body.find(TURN_END)
    return body if end < 0 else body[:end]


def reply_to(message: str) -> str:
    """The transcript the model writes when the last user turn is ``message``."""
    results = TOOL_RESPONSE.findall(message)
    if results:
        return _tool_results_reply(results)
    return SCRIPTS.get(_key(message), UNKNOWN)


def script_for(prompt: str) -> str:
    """The transcript to play for a prompt rendered by QwQ-32B's chat template."""
    turn = last_user_turn(prompt)
    return UNKNOWN if turn is None else reply_to(turn)
