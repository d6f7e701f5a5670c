"""SGLang's ``Qwen2ForCausalLM`` with its output scripted by the conversation (test harness only).

For requests that cannot carry a custom logit processor (``/v1/messages`` and ``/v1/responses``
build their engine requests without one) and for clients that send nothing special (the tutorial's
programs). ``harness.sglang_server`` loads it through SGLang's own extension point,
``SGLANG_EXTERNAL_MODEL_PACKAGE=harness.sglang_conversation_model``: SGLang's model registry maps
the architecture ``Qwen2ForCausalLM`` to the class in ``qwen2.py``, SGLang's own model with a
scripted last step. No serving code is touched.
"""
