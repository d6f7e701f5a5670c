"""Tutorial program 2, corrected: the same loop, three lines differ (marked below).

Each turn streams one reply: ``delta.reasoning_content`` is printed while the model thinks, then the
answer; the answer (not the reasoning) goes back into the history. Turns are read from standard
input, one line each, until end of input.

vLLM's own wire format needs two corrections, whatever the parsers: it ends each stream with a
chunk whose delta is ``{}`` (finish_reason only), where the tutorial's loop would print "None" and
add None to the answer; and its reasoning field is ``reasoning`` (``reasoning_content`` comes only
from this package's ``qwq`` reasoning parser, or from older vLLM releases).

    printf '你好\n' | python examples/multi_turn_reasoning_fixed.py [BASE_URL [MODEL]]
"""

import os
import sys

from openai import OpenAI

base_url = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("OPENAI_BASE_URL", "http://localhost:8000/v1")
model = sys.argv[2] if len(sys.argv) > 2 else os.environ.get("QWQ_MODEL", "path/to/QwQ-32B")

client = OpenAI(api_key="EMPTY", base_url=base_url)

messages = []
while True:
    try:
        user_input = input("\nYou: ")
    except EOFError:
        break
    messages.append({"role": "user", "content": user_input})

    completion = client.chat.completions.create(model=model, messages=messages, stream=True)

    reasoning_content = ""
    answer_content = ""
    is_answering = False
    print("\n" + "=" * 20 + " reasoning " + "=" * 20)
    for chunk in completion:
        delta = chunk.choices[0].delta
        thinking = getattr(delta, "reasoning_content", None) or getattr(delta, "reasoning", None)  # differs: vLLM's name
        if delta.content is None and thinking is None:
            continue  # differs: vLLM's last chunk carries no text at all
        if thinking is not None:  # differs: the field found above
            print(thinking, end="", flush=True)
            reasoning_content += thinking
        else:
            if delta.content and not is_answering:
                print("\n" + "=" * 20 + " answer " + "=" * 20)
                is_answering = True
            print(delta.content, end="", flush=True)
            answer_content += delta.content

    messages.append({"role": "assistant", "content": answer_content})
    print()
