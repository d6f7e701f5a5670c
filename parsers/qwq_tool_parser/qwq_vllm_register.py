"""Entry point for ``vllm.general_plugins``: after ``pip install qwq-tool-parser[vllm]``, plain
``--tool-call-parser qwq`` and ``--reasoning-parser qwq`` work without ``--tool-parser-plugin``.

vLLM runs ``register()`` once in every process it starts (API servers, engine core, workers), so it
only records lazy ``name -> (module, class)`` mappings: nothing heavy is imported, and calling it
again changes nothing. The adapter module is imported on first use of the name.
"""

from __future__ import annotations

_MODULE = "qwq_tool_parser.qwq_vllm"


def register() -> None:
    """Map the names ``qwq`` to the adapter's classes, lazily and idempotently."""
    try:  # >= 0.13
        from vllm.tool_parsers import ToolParserManager
    except ImportError:  # 0.10-0.12
        from vllm.entrypoints.openai.tool_parsers import ToolParserManager
    from vllm.reasoning import ReasoningParserManager

    if hasattr(ToolParserManager, "register_lazy_module"):  # 0.12+
        ToolParserManager.register_lazy_module("qwq", _MODULE, "QwQToolParser")
        ReasoningParserManager.register_lazy_module("qwq", _MODULE, "QwQReasoningParser")
    else:  # older: importing the adapter registers both eagerly
        import importlib

        importlib.import_module(_MODULE)
