"""Benchmarks: per-delta CPU cost of the qwq parsers against vLLM's and SGLang's stock parsers.

Run ``nox -s bench`` (``make bench``). See ``benchmarks/run.py`` for the design.
"""
