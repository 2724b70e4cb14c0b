# Two commands for a fresh machine: `make lab` and `make test`.
# Each sets up what is missing first: a virtual environment with the kit and
# its dependencies, and (as root on Debian/Ubuntu) Chromium for the browser test.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: lab test setup chromium lint format bench bench-real voila notebooks screenshots clean

# Jupyter refuses to run as root unless told; containers and lab machines often are root.
ROOT_FLAG := $(shell [ "$$(id -u)" = 0 ] && echo --allow-root)

lab: setup
	$(BIN)/jupyter lab $(ROOT_FLAG) notebooks/

# The tests and notebooks run in a throw-away workspace, never the repository's.
test: setup chromium
	$(BIN)/ruff check widgets tests bench scripts
	KIT_CHECK_GIT_TREE=1 MIGRATION_KIT_WORKSPACE="$$(mktemp -d)" $(BIN)/python -m pytest

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	rm -f $(VENV)/.installed-*
	touch $@

# Debian's Chromium for the browser test; Playwright never downloads a browser.
chromium:
	@if command -v chromium >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "Installing Debian's chromium for the browser test..."; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else echo "No chromium and no root apt-get: the browser test will be skipped."; fi

lint: setup
	$(BIN)/ruff check widgets tests bench scripts
	$(BIN)/ruff format --check widgets tests bench scripts

format: setup
	$(BIN)/ruff format widgets tests bench scripts
	$(BIN)/ruff check --fix widgets tests bench scripts

# Re-run the lesson notebooks in place (stored outputs) and regenerate their index.
notebooks: setup
	$(BIN)/python scripts/notebooks.py

bench: setup
	$(BIN)/python bench/run.py
	$(BIN)/python bench/real_projects.py

# Real third-party projects from PyPI (Wagtail, django-oscar) in a virtual environment outside the
# repository (~/.cache/migration-kit-bench, reused); exits 1 if the kit's graph differs from Django's.
bench-real: setup
	$(BIN)/python bench/real_projects.py

voila: setup
	$(BIN)/voila notebooks/05-rollback-playground.ipynb

# Re-run the browser tests and copy their screenshots into docs/images/ for the README.
screenshots: setup chromium
	$(BIN)/python scripts/screenshots.py --run

clean:
	rm -rf workspace test-artifacts .pytest_cache
