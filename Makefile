# `make demo` and `make test` set up .venv on their own the first time.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench install clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/aggregator demo

test: $(STAMP)
	$(BIN)/ruff check aggregator tests benchmarks
	$(BIN)/mypy
	$(BIN)/mypy tests benchmarks
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check aggregator tests benchmarks
	$(BIN)/ruff format --check aggregator tests benchmarks
	$(BIN)/mypy
	$(BIN)/mypy tests benchmarks

bench: $(STAMP)
	$(BIN)/python -m benchmarks.bench_dedup --output benchmarks/results/dedup.json
	$(BIN)/python -m benchmarks.bench_feeds --output benchmarks/results/feeds.json

clean:
	rm -rf $(VENV) .demo build *.egg-info
