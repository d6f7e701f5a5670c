# The README's two commands: `make demo` (main job) and `make test` (all tests). Both do all set-up.
PYTHON ?= python3
NOX := .venvs/nox/bin/nox
TEST_SESSIONS := lint core templates vllm sglang vllm_matrix vllm_serve_029

.PHONY: test demo bench

$(NOX):
	$(PYTHON) -m venv .venvs/nox
	.venvs/nox/bin/pip install --quiet "nox==2026.10.20"

test: $(NOX)
	$(NOX) --sessions $(TEST_SESSIONS)

demo: $(NOX)
	$(NOX) --sessions demo

bench: $(NOX)
	$(NOX) --sessions bench
