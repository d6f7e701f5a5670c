"""Tutorial program 1, corrected: the same program with one changed line (marked below).

vLLM (0.32, every reasoning parser or none) ends the stream with a chunk whose delta is ``{}``:
it carries only the finish_reason, so ``delta.content`` is None there. Reasoning chunks have no
``content`` either when a reasoning parser runs. The tutorial's ``"".join(contents)`` then fails.

    python examples/single_turn_stream_fixed.py [BASE_URL [MODEL]]   # or OPENAI_BASE_URL / QWQ_MODEL
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
    contents.append(chunk.choices[0].delta.content or "")  # differs: a delta may have no content

print("".join(contents))
