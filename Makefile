# The README's commands: `make demo` (main job), `make test` (all tests), `make serve` (a scripted
# real server for the tutorial's programs: ENGINE=vllm|sglang, PORT=8000). Each does all set-up.
PYTHON ?= python3
ENGINE ?= vllm
PORT ?= 8000
NOX := .venvs/nox/bin/nox
TEST_SESSIONS := lint core templates vllm sglang vllm_matrix

.PHONY: test demo serve bench

$(NOX):
	$(PYTHON) -m venv .venvs/nox
	.venvs/nox/bin/pip install --quiet "nox==2026.10.20"

test: $(NOX)
	$(NOX) --sessions $(TEST_SESSIONS)

demo: $(NOX)
	$(NOX) --sessions $(if $(filter sglang,$(ENGINE)),demo_sglang,demo)

serve: $(NOX)
	$(NOX) --sessions "serve(engine='$(ENGINE)')" -- --port $(PORT)

bench: $(NOX)
	$(NOX) --sessions bench
