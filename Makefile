# The two commands of the README: `make demo` and `make test`. Both set up .venv by themselves.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test check lint typecheck fmt bench clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/brownout demo

check: lint typecheck

lint: $(STAMP)
	$(BIN)/ruff check monitor dashboard tests bench
	$(BIN)/ruff format --check monitor dashboard tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

fmt: $(STAMP)
	$(BIN)/ruff format monitor dashboard tests bench
	$(BIN)/ruff check --fix monitor dashboard tests bench

test: check
	@tools/ensure-chromium
	@tools/ensure-llama-server >/dev/null || echo "make test: the tests against llama-server (tests/providers/test_llama_server.py) will skip" >&2
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
