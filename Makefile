# The README's two commands: `make demo` (main job) and `make test` (tests).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install lint typecheck release-check test demo demo-destroy bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/validate-pyproject pyproject.toml
	$(BIN)/deptry .
	$(BIN)/vermin -t=3.10- --no-tips --violations --eval-annotations --backport typing_extensions \
		pulumi_d6
	$(BIN)/python scripts/release_check.py types --min-type-score 0.95

# Build, check (twine, check-wheel-contents, pyroma 10/10) and smoke-test the distributions
# a release would publish, from a fresh virtualenv (docs/RELEASING.md).
release-check: install
	$(BIN)/python scripts/release_check.py

typecheck: install
	$(BIN)/mypy

test: lint typecheck release-check
	$(BIN)/pytest

# DEMO_ARGS: e.g. --port 0 --db FILE --state FILE (scripts/demo.py --help)
demo: install
	$(BIN)/python scripts/demo.py up $(DEMO_ARGS)

demo-destroy: install
	$(BIN)/python scripts/demo.py destroy $(DEMO_ARGS)

bench: install
	$(BIN)/python -m benchmarks.bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache build dist *.egg-info \
		.emulator .pulumi .demo-state.json .hypothesis benchmarks/results
	find . -name __pycache__ -type d -prune -not -path './.git/*' -exec rm -rf {} +
