"""Tutorial program 1: one streamed question ("你好"); collect ``delta.content`` and print it joined.

As the tutorial writes it. On vLLM 0.32 this crashes on the stream's last chunk, whatever the
parsers: vLLM sends the finish_reason with an empty delta ``{}``, so its ``content`` is None and
``"".join`` fails. ``single_turn_stream_fixed.py`` is the version that works.

    python examples/single_turn_stream.py [BASE_URL [MODEL]]   # or OPENAI_BASE_URL / QWQ_MODEL
"""

import os
import sys

from openai import OpenAI

base_url = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("OPENAI_BASE_URL", "http://localhost:8000/v1")
model = sys.argv[2] if len(sys.argv) > 2 else os.environ.get("QWQ_MODEL", "path/to/QwQ-32B")

client = OpenAI(api_key="EMPTY", base_url=base_url)

stream = client.chat.completions.create(
    model=model,
    messages=[{"role": "user", "content": "你好"}],
    stream=True,
)

contents = []
for chunk in stream:
    contents.append(chunk.choices[0].delta.content)

print("".join(contents))
