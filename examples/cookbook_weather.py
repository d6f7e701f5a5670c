"""Tutorial program 3: the OpenAI cookbook's weather functions, through ``chat_completion_request``.

Four exchanges, not streamed: a question the model must ask about (which city?), the answer that
makes it call ``get_current_weather``; a forecast request for "x days" (it asks how many), "5 days"
(a ``get_n_day_weather_forecast`` call); then San Francisco and Glasgow at once (two parallel calls).
Each returned assistant message object goes back into ``messages`` as it is, reasoning included.

``tool_choice=None`` reaches the server as ``"tool_choice": null``. OpenAI reads that as "auto"
when tools are given, and so does the ``qwq`` tool parser on vLLM (vLLM 0.32 alone would drop the
calls of a non-streamed reply); SGLang does it itself.

    python examples/cookbook_weather.py [BASE_URL [MODEL]]   # or OPENAI_BASE_URL / QWQ_MODEL
"""

import os
import sys

from openai import OpenAI

base_url = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("OPENAI_BASE_URL", "http://localhost:8000/v1")
model = sys.argv[2] if len(sys.argv) > 2 else os.environ.get("QWQ_MODEL", "path/to/QwQ-32B")

client = OpenAI(api_key="EMPTY", base_url=base_url)

tools = [
    {
        "type": "function",
        "function": {
            "name": "get_current_weather",
            "description": "Get the current weather",
            "parameters": {
                "type": "object",
                "properties": {
                    "location": {
                        "type": "string",
                        "description": "The city and state, e.g. San Francisco, CA",
                    },
                    "format": {
                        "type": "string",
                        "enum": ["celsius", "fahrenheit"],
                        "description": "The temperature unit to use. Infer this from the users location.",
                    },
                },
                "required": ["location", "format"],
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "get_n_day_weather_forecast",
            "description": "Get an N-day weather forecast",
            "parameters": {
                "type": "object",
                "properties": {
                    "location": {
                        "type": "string",
                        "description": "The city and state, e.g. San Francisco, CA",
                    },
                    "format": {
                        "type": "string",
                        "enum": ["celsius", "fahrenheit"],
                        "description": "The temperature unit to use. Infer this from the users location.",
                    },
                    "num_days": {
                        "type": "integer",
                        "description": "The number of days to forecast",
                    },
                },
                "required": ["location", "format", "num_days"],
            },
        },
    },
]


def chat_completion_request(messages, tools=None, tool_choice=None, model=model):
    try:
        response = client.chat.completions.create(
            model=model,
            messages=messages,
            tools=tools,
            tool_choice=tool_choice,
        )
        return response
    except Exception as e:
        print("Unable to generate ChatCompletion response")
        print(f"Exception: {e}")
        return e


system = {
    "role": "system",
    "content": "Don't make assumptions about what values to plug into functions. "
    "Ask for clarification if a user request is ambiguous.",
}

# The model asks which city, then calls get_current_weather.
messages = [system, {"role": "user", "content": "hi ,can you tell me what's the weather like today"}]
chat_response = chat_completion_request(messages, tools=tools)
assistant_message = chat_response.choices[0].message
messages.append(assistant_message)
print(assistant_message)

messages.append({"role": "user", "content": "I'm in Glasgow, Scotland."})
chat_response = chat_completion_request(messages, tools=tools)
assistant_message = chat_response.choices[0].message
messages.append(assistant_message)
print(assistant_message)

# The model asks how many days, then calls get_n_day_weather_forecast.
messages = [
    system,
    {
        "role": "user",
        "content": "can you tell me, what is the weather going to be like in Glasgow, Scotland in next x days",
    },
]
chat_response = chat_completion_request(messages, tools=tools)
assistant_message = chat_response.choices[0].message
messages.append(assistant_message)
print(assistant_message)

messages.append({"role": "user", "content": "5 days"})
chat_response = chat_completion_request(messages, tools=tools)
print(chat_response.choices[0])

# Parallel calls: one forecast per city.
messages = [
    system,
    {
        "role": "user",
        "content": "what is the weather going to be like in San Francisco and Glasgow over the next 4 days",
    },
]
chat_response = chat_completion_request(messages, tools=tools)
assistant_message = chat_response.choices[0].message.tool_calls
print(assistant_message)
