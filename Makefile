# The README's commands: `make demo` (main job), `make test` (all tests), `make serve` (a scripted
# real server for the tutorial's programs: ENGINE=vllm|sglang, PORT=8000). Each does all set-up.
PYTHON ?= python3
ENGINE ?= vllm
PORT ?= 8000
NOX := .venvs/nox/bin/nox
# `make test`: the engine venvs (mostly downloads and unpacking) install in parallel while the light
# sessions run; then the engine sessions run one after another, each starting its real servers alone.
LIGHT_SESSIONS := lint core templates
ENGINE_SESSIONS := vllm sglang vllm_matrix

.PHONY: test test-light demo serve bench

$(NOX):
	$(PYTHON) -m venv .venvs/nox
	.venvs/nox/bin/pip install --quiet "nox==2026.10.20"

test: $(NOX)
	$(MAKE) --no-print-directory -j4 --output-sync=target test-light $(addprefix install-,$(ENGINE_SESSIONS))
	$(NOX) --reuse-existing-virtualenvs --no-install --sessions $(ENGINE_SESSIONS)

test-light: $(NOX)
	$(NOX) --sessions $(LIGHT_SESSIONS)

install-%: $(NOX)
	$(NOX) --install-only --sessions $*

demo: $(NOX)
	$(NOX) --sessions $(if $(filter sglang,$(ENGINE)),demo_sglang,demo)

serve: $(NOX)
	$(NOX) --sessions "serve(engine='$(ENGINE)')" -- --port $(PORT)

bench: $(NOX)
	$(NOX) --sessions bench
