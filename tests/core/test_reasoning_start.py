"""Where reasoning starts: the prompt rule (text and token ids agree), transcripts of each model
family parsed from the start state its prompt gives, under any chunking and real QwQ token deltas,
and the think block's framing whitespace."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.qwen_tokenizer import encode, merged_deltas, token_deltas
from qwq_tool_parser import ReasoningDelta, StreamParser, parse, parse_stream, starts_in_reasoning
from qwq_tool_parser._parser import MAX_FRAMING_WHITESPACE
from tests.strategies import chunkings, near_misses, transcripts

# Generation-prompt tails per family, as rendered by transformers from each template (checked in
# tests/templates/test_reasoning_start_prompts.py), with the start state they give.
FAMILIES = {
    "qwq": ("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think>\n", True),
    "qwen3_thinking_off": (
        "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n", False),
    "qwen3_thinking_on": ("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n", False),
    "qwen3_2507_thinking": ("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think>\n", True),
    "qwen3_2507_instruct": ("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n", False),
    "prefilled_closed": ("<|im_start|>assistant\n<think>\nok\n</think>\n\nIt is", False),
    "prefilled_open": ("<|im_start|>assistant\n<think>\nHmm, ", True),
    "no_turn_markers": ("Question: why?\n<think>\n", True),
    "earlier_turn_open_only": ("<|im_start|>assistant\n<think>\nx<|im_start|>user\nHi", False),
}
W = '{"name": "get_weather", "arguments": {"city": "Paris"}}'


@pytest.mark.parametrize(("tail", "expected"), FAMILIES.values(), ids=FAMILIES.keys())
def test_start_rule(tail: str, expected: bool) -> None:
    assert starts_in_reasoning(tail) is expected
    assert starts_in_reasoning(encode(tail)) is expected


def test_other_vocabularies_pass_their_ids() -> None:
    assert starts_in_reasoning([7, 1, 5], think_open_id=1, think_close_id=2, turn_start_id=7)
    assert not starts_in_reasoning([1, 2, 5], think_open_id=1, think_close_id=2, turn_start_id=7)
    assert not starts_in_reasoning([1, 7, 5], think_open_id=1, think_close_id=2, turn_start_id=7)
    assert not starts_in_reasoning([], think_open_id=1, think_close_id=2, turn_start_id=7)


@given(st.lists(near_misses | st.sampled_from(["<|im_start|>", "assistant\n", "user"]),
                max_size=30))
def test_text_and_token_ids_agree(parts: list[str]) -> None:
    prompt = "".join(parts)
    assert starts_in_reasoning(encode(prompt)) is starts_in_reasoning(prompt)


# A non-thinking Qwen3 answer: the output has no think block at all.
NON_THINKING = f"I'll look it up.\n<tool_call>\n{W}\n</tool_call>"


@pytest.mark.parametrize(("tail", "expected"), FAMILIES.values(), ids=FAMILIES.keys())
def test_a_non_thinking_answer_from_each_start(tail: str, expected: bool) -> None:
    result = parse(NON_THINKING, start_in_reasoning=starts_in_reasoning(tail))
    if expected:  # the prompt opened the block: with no </think> it is all reasoning
        assert (result.reasoning, result.content, result.tool_calls) == (NON_THINKING, None, [])
    else:
        assert (result.reasoning, result.content) == (None, "I'll look it up.")
        assert [(c.name, c.arguments) for c in result.tool_calls] == [
            ("get_weather", '{"city": "Paris"}')]


@given(st.data(), st.sampled_from(sorted(FAMILIES)), st.integers(1, 5))
def test_transcripts_of_each_start_state_parse_exactly(data, family, merge) -> None:  # type: ignore[no-untyped-def]
    tail, start = FAMILIES[family]
    tr = data.draw(transcripts(start_in_reasoning=start))
    options = {"start_in_reasoning": starts_in_reasoning(tail)}
    expected = (tr.reasoning, tr.content, [(c.name, c.arguments) for c in tr.calls])
    for chunks in (data.draw(chunkings(tr.text)), [tr.text]):
        result = parse_stream(chunks, **options)
        assert (result.reasoning, result.content,
                [(c.name, c.arguments) for c in result.tool_calls]) == expected
    deltas = token_deltas(tr.text)  # real QwQ token boundaries (NFC text)
    text = "".join(deltas)
    assert parse_stream(deltas, **options) == parse(text, **options)
    assert parse_stream(merged_deltas(text, merge), **options) == parse(text, **options)


# -- framing: whitespace after an opening <think> and before </think> is not reasoning ----------

FRAMING_CASES = [
    ("<think>\nr\n</think>\n\nHi", False, "r", "Hi"),
    ("\n<think>\n\n r s \t\n</think>Hi", False, "r s", "Hi"),
    ("\nr\n</think>\n\nHi", True, "r", "Hi"),
    ("r\n\n", True, "r\n\n", None),  # no </think>: the tail is reasoning
    ("\n\n</think>\n\nHi", True, None, "Hi"),
    ("<think>\n\n</think>\n\nHi", False, None, "Hi"),
    ("a\n\nb\n</think>", True, "a\n\nb", None),  # inner whitespace is reasoning
]


@pytest.mark.parametrize(("text", "start", "reasoning", "content"), FRAMING_CASES)
def test_reasoning_framing(text: str, start: bool, reasoning: str | None,
                           content: str | None) -> None:
    for cut in range(len(text) + 1):
        result = parse_stream([text[:cut], text[cut:]], start_in_reasoning=start)
        assert (result.reasoning, result.content) == (reasoning, content), cut
    events = StreamParser(start_in_reasoning=start)
    streamed = [e for c in text for e in events.feed(c)] + events.close()
    assert "".join(e.text for e in streamed if isinstance(e, ReasoningDelta)) == (reasoning or "")


def test_framing_before_think_end_is_held_back_not_emitted() -> None:
    p = StreamParser()
    assert p.feed("\nr") == [ReasoningDelta(text="r")]
    assert p.feed(" \n") == []  # maybe framing
    assert p.feed("s") == [ReasoningDelta(text=" \ns")]
    assert p.feed("\n</thi") == []
    assert p.feed("nk>") == []


def test_a_whitespace_run_longer_than_the_cap_is_reasoning() -> None:
    run = " " * (MAX_FRAMING_WHITESPACE + 1)
    text = f"r{run}</think>Hi"
    for chunks in ([text], list(text), [text[:600], text[600:]]):
        result = parse_stream(chunks)
        assert (result.reasoning, result.content) == ("r" + run, "Hi")
    p = StreamParser()
    held = [e for c in "r" + run for e in p.feed(c)]  # never more than the cap is held
    assert "".join(e.text for e in held if isinstance(e, ReasoningDelta)) == "r" + run
