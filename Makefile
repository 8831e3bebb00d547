# `make demo` and `make test` set up .venv on their own the first time.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-fast lint bench fuzz hostile install clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/aggregator demo

# every test: tests/unit and tests/integration (servers on 127.0.0.1, real crawls)
test: $(STAMP)
	$(BIN)/ruff check aggregator sampleweb tests benchmarks
	$(BIN)/mypy
	$(BIN)/mypy tests benchmarks
	$(BIN)/lint-imports
	$(BIN)/python -m pytest

# the inner loop: the unit tests only (in-process, under a minute)
test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m unit

lint: $(STAMP)
	$(BIN)/ruff check aggregator sampleweb tests benchmarks
	$(BIN)/ruff format --check aggregator sampleweb tests benchmarks
	$(BIN)/mypy
	$(BIN)/mypy tests benchmarks
	$(BIN)/lint-imports

# every benchmark (dedup, feeds, extract, realpages, crawl), then the table in benchmarks/RESULTS.md
bench: $(STAMP)
	$(BIN)/python -m benchmarks

fuzz: $(STAMP)
	AGGREGATOR_FUZZ_EXAMPLES=10000 $(BIN)/python -m pytest -q -p no:cacheprovider tests/unit/fuzz/test_fuzz.py

hostile: $(STAMP)
	for seed in 1 2 3 4 5 6 7 8; do AGGREGATOR_HOSTILE_SEED=$$seed $(BIN)/python -m pytest -q tests/integration/sampleweb/test_hostile.py || exit 1; done

clean:
	rm -rf $(VENV) .demo build *.egg-info
