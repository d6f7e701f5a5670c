"""Tutorial program 2: a multi-turn chat loop that shows the model thinking, then its answer.

Each turn streams one reply: ``delta.reasoning_content`` is printed while the model thinks, then the
answer; the answer (not the reasoning) goes back into the history. Turns are read from standard
input, one line each, until end of input.

On vLLM 0.32 this crashes at the end of every reply, whatever the parsers: the last chunk's delta
is ``{}`` (finish_reason only), so ``answer_content += delta.content`` adds None.
``multi_turn_reasoning_fixed.py`` is the version that works.

    printf '你好\n' | python examples/multi_turn_reasoning.py [BASE_URL [MODEL]]
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
        if hasattr(delta, "reasoning_content") and delta.reasoning_content is not None:
            print(delta.reasoning_content, end="", flush=True)
            reasoning_content += delta.reasoning_content
        else:
            if delta.content and not is_answering:
                print("\n" + "=" * 20 + " answer " + "=" * 20)
                is_answering = True
            print(delta.content, end="", flush=True)
            answer_content += delta.content

    messages.append({"role": "assistant", "content": answer_content})
    print()
