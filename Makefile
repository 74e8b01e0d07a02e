# The README's two commands: `make demo` (main job) and `make test` (tests).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install lint typecheck test mutate demo demo-destroy bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

test: lint typecheck
	$(BIN)/pytest

# Mutation testing of the rule modules ([tool.mutmut] in pyproject.toml); slow, so never part of
# `make test`. MUTATE_ARGS passes options, e.g. MUTATE_ARGS='"pulumi_d6.budget*"' for one module.
mutate: install
	nice $(BIN)/mutmut run --max-children 2 $(MUTATE_ARGS)
	$(BIN)/mutmut results

demo: install
	$(BIN)/python scripts/demo.py up

demo-destroy: install
	$(BIN)/python scripts/demo.py destroy

bench: install
	$(BIN)/python -m benchmarks.bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache build dist *.egg-info \
		.emulator .pulumi .hypothesis benchmarks/results mutants
	find . -name __pycache__ -type d -prune -not -path './.git/*' -exec rm -rf {} +
