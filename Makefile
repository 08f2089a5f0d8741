# Two commands from a fresh clone (only Python 3 needed):  make demo  /  make test
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.skdeepclust-installed

.PHONY: demo test lint bench docs clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	# The CPU build of torch first: a bare `torch` requirement resolves to a multi-GB CUDA build.
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -e ".[test,plot,distributed]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m skdeepclust demo

test: $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check skdeepclust tests examples benchmarks
	$(BIN)/ruff format --check skdeepclust tests examples benchmarks

bench: $(STAMP)
	$(BIN)/python -m pip install -q -e ".[bench]"
	$(BIN)/python -m skdeepclust bench --budget quick --out bench-results

# The gallery runs every example: SMOKE=1 (what CI uses) shrinks each to a few seconds of
# under-trained models, SMOKE=0 (the default) gives them their full budgets (up to two minutes each).
SMOKE ?= 0

docs: $(STAMP)
	$(BIN)/python -m pip install -q -e ".[docs]"
	SKDEEPCLUST_SMOKE=$(SMOKE) $(BIN)/python -m sphinx -W -b html docs docs/_build/html

clean:
	rm -rf $(VENV) build dist *.egg-info docs/_build docs/auto_examples docs/gen_modules bench-results
