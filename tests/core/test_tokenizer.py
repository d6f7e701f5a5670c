"""The harness rebuilds the real QwQ-32B tokenizer; check it against known ids and round trips."""

from __future__ import annotations

import json
import pathlib
import unicodedata

import pytest

from harness import qwen_tokenizer as qt

ADDED = {
    151643: ("<|endoftext|>", True),
    151644: ("<|im_start|>", True),
    151645: ("<|im_end|>", True),
    151646: ("<|object_ref_start|>", True),
    151647: ("<|object_ref_end|>", True),
    151648: ("<|box_start|>", True),
    151649: ("<|box_end|>", True),
    151650: ("<|quad_start|>", True),
    151651: ("<|quad_end|>", True),
    151652: ("<|vision_start|>", True),
    151653: ("<|vision_end|>", True),
    151654: ("<|vision_pad|>", True),
    151655: ("<|image_pad|>", True),
    151656: ("<|video_pad|>", True),
    151657: ("<tool_call>", False),
    151658: ("</tool_call>", False),
    151659: ("<|fim_prefix|>", False),
    151660: ("<|fim_middle|>", False),
    151661: ("<|fim_suffix|>", False),
    151662: ("<|fim_pad|>", False),
    151663: ("<|repo_name|>", False),
    151664: ("<|file_sep|>", False),
    151665: ("<tool_response>", False),
    151666: ("</tool_response>", False),
    151667: ("<think>", False),
    151668: ("</think>", False),
}

ROUND_TRIP = [
    "Hello world",
    "",
    '{"name": "get_weather", "arguments": {"city": "東京", "unit": "°C"}}',
    "中文测试：你好，世界！ 日本語のテキスト 한국어",
    "emoji 🤖🎉👩‍💻🇯🇵 mixed with text",
    "Text with <tool_call> inside it and </tool_call> too, <think>x</think>",
    "  leading spaces\n\n\ttabs\r\nand CRLF  \n",
    '<tool_call>\n{"name": "f", "arguments": {}}\n</tool_call><|im_end|>',
]


@pytest.fixture(scope="module")
def tok():  # type: ignore[no-untyped-def]
    return qt.load_tokenizer()


@pytest.mark.parametrize(
    ("text", "ids"),
    [
        ('</think>\n\n<tool_call>\n{"name": "', [151668, 271, 151657, 198, 4913, 606, 788, 330]),
        ("\n", [198]),
        ("\n\n", [271]),
        ('{"', [4913]),
        ("arguments", [16370]),
        (' {"', [5212]),
        ("}}\n", [11248]),
        ("Hello", [9707]),
        (" world", [1879]),
        ("Hello world", [9707, 1879]),
    ],
)
def test_known_ids(text: str, ids: list[int]) -> None:
    assert qt.encode(text) == ids


def test_added_tokens(tok) -> None:  # type: ignore[no-untyped-def]
    assert tok.get_vocab_size(with_added_tokens=True) == 151669
    decoder = tok.get_added_tokens_decoder()
    assert sorted(decoder) == sorted(ADDED)
    for tid, (content, special) in ADDED.items():
        assert tok.token_to_id(content) == tid
        assert tok.id_to_token(tid) == content
        assert decoder[tid].content == content
        assert decoder[tid].special is special, content
        assert qt.encode(content) == [tid]
        assert qt.encode(f"a{content}b") == [64, tid, 65]


def test_special_flag_affects_skip_special(tok) -> None:  # type: ignore[no-untyped-def]
    ids = qt.encode("<|im_start|>x<tool_call>y<|im_end|>")
    assert ids[0] == 151644 and ids[-1] == 151645 and 151657 in ids
    assert tok.decode(ids, skip_special_tokens=True) == "x<tool_call>y"
    assert tok.decode(ids, skip_special_tokens=False) == "<|im_start|>x<tool_call>y<|im_end|>"


@pytest.mark.parametrize("text", ROUND_TRIP)
def test_round_trip(tok, text: str) -> None:  # type: ignore[no-untyped-def]
    assert unicodedata.is_normalized("NFC", text)
    ids = qt.encode(text)
    assert tok.decode(ids, skip_special_tokens=False) == text
    assert b"".join(qt.token_bytes(i) for i in ids) == text.encode()


def test_tool_call_inside_text_is_one_token() -> None:
    ids = qt.encode("see <tool_call> here")
    assert ids.count(151657) == 1
    assert len(ids) == 4


@pytest.mark.parametrize("text", ROUND_TRIP)
def test_token_deltas_concatenate(text: str) -> None:
    deltas = qt.token_deltas(text)
    assert len(deltas) == len(qt.encode(text))
    assert "".join(deltas) == text
    for n in (2, 3, 7):
        merged = qt.merged_deltas(text, n)
        assert len(merged) == -(-len(deltas) // n)
        assert "".join(merged) == text


def test_token_deltas_exercise_partial_utf8() -> None:
    text = "🤖 robots 🎉 and 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 and 龘靐齉 ok"
    ids = qt.encode(text)
    deltas = qt.token_deltas(text)
    assert "".join(deltas) == text
    # Some token ends mid-character: its delta is empty and no delta contains U+FFFD.
    assert "" in deltas
    assert all("\ufffd" not in d for d in deltas)
    # Engine semantics: after each token, the text emitted so far is exactly the longest
    # complete-UTF-8 prefix of the bytes seen so far; a token ending mid-char emits "".
    acc = b""
    for k, i in enumerate(ids):
        acc += qt.token_bytes(i)
        cut = len(acc)
        while True:  # drop an incomplete trailing character (at most 3 bytes)
            try:
                prefix = acc[:cut].decode("utf-8")
                break
            except UnicodeDecodeError:
                cut -= 1
                assert len(acc) - cut <= 3
        assert "".join(deltas[: k + 1]) == prefix
        if deltas[k] == "":
            assert cut < len(acc)  # empty delta only because a character is incomplete


def test_merged_deltas_rejects_bad_n() -> None:
    with pytest.raises(ValueError):
        qt.merged_deltas("x", 0)


def test_cache_dir_layout() -> None:
    d = qt.build_tokenizer_dir()
    assert qt.build_tokenizer_dir() is d
    assert (d / "tokenizer.json").is_file()
    repo = pathlib.Path(__file__).resolve().parents[2]
    assert repo not in d.resolve().parents
    cfg = json.loads((d / "tokenizer_config.json").read_text())
    assert cfg["eos_token"] == "<|im_end|>"
    assert cfg["pad_token"] == "<|endoftext|>"
    assert cfg["bos_token"] is None and cfg["add_bos_token"] is False
    assert cfg["model_max_length"] == 131072
    assert "chat_template" not in cfg
