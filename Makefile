# Two commands for a fresh machine: `make lab` and `make test`.
# Each sets up what is missing first: a virtual environment with the kit and
# its dependencies, and (as root on Debian/Ubuntu) Chromium for the browser test.
# `make classroom` runs a JupyterHub for a class on one server (docs/classroom.md).
# `make lite` builds the kit as a static JupyterLite site in lite/_output/; `make lite-serve` serves it.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
# From npm into node_modules/ (never global), at the versions in package-lock.json: JupyterHub's proxy,
# axe-core, which the browser test injects into the page to check WCAG rules (never fetched at run time), and
# @viz-js/viz, Graphviz as WebAssembly, which the kernel sends to the page under MIGRATION_KIT_RENDERER=viz-js.
PROXY_STAMP := node_modules/.installed-$(shell cksum package-lock.json | cut -d' ' -f1)
SOURCES := widgets tests bench scripts classroom lite/sitecustomize.py

.PHONY: lab test setup proxy chromium lite lite-serve classroom classroom-reset lint format bench bench-real real-graph-images bench-classroom bench-lite voila notebooks screenshots clean

# Jupyter refuses to run as root unless told; containers and lab machines often are root.
ROOT_FLAG := $(shell [ "$$(id -u)" = 0 ] && echo --allow-root)

lab: setup
	$(BIN)/jupyter lab $(ROOT_FLAG) notebooks/

# The tests and notebooks run in a throw-away workspace, never the repository's.
test: setup chromium proxy
	$(BIN)/ruff check $(SOURCES)
	KIT_CHECK_GIT_TREE=1 MIGRATION_KIT_WORKSPACE="$$(mktemp -d)" $(BIN)/python -m pytest
	@# The lessons again with Django inside the kernel, as in the browser (07 needs a PostgreSQL server).
	MIGRATION_KIT_RUNNER=inprocess MIGRATION_KIT_WORKSPACE="$$(mktemp -d)" $(BIN)/python -m pytest notebooks \
		--deselect notebooks/07-migrations-in-production.ipynb

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test,classroom]"
	rm -f $(VENV)/.installed-*
	touch $@

proxy: $(PROXY_STAMP)

# configurable-http-proxy 5.2 needs Node.js 20 or later; without npm the JupyterHub and accessibility tests are skipped.
$(PROXY_STAMP): package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --ignore-scripts --no-audit --no-fund --loglevel=error && touch $@; \
	else echo "No npm: the JupyterHub test will be skipped (make classroom needs Node.js 20+ and npm)."; fi

# A JupyterHub for a class on this machine: classroom/jupyterhub_config.py says how to configure it.
classroom: setup proxy
	@test -e $(PROXY_STAMP) || { echo "make classroom needs Node.js 20 or later and npm: install them, then run it again."; exit 1; }
	$(BIN)/jupyterhub -f classroom/jupyterhub_config.py

# Empty every learner's workspace under CLASSROOM_HOMES (sandboxes, snapshots, caches); notebooks and
# progress records stay. The next lesson each learner runs makes its sandbox afresh.
classroom-reset:
	@$(PYTHON) classroom/reset.py "$${CLASSROOM_HOMES:-classroom/homes}"

# The kit as a static site (JupyterLite, Pyodide): pinned pip and npm packages only, built clean into
# lite/_output/ and skipped when its inputs (pins, the kit, notebooks, sandbox_project) are unchanged.
lite:
	$(PYTHON) scripts/build_lite.py

# Serve the built site on loopback (LITE_PORT, default 8000), with the right types for .wasm and .mjs.
LITE_PORT ?= 8000
lite-serve: lite
	$(PYTHON) scripts/serve_lite.py --port $(LITE_PORT)

# Debian's Chromium for the browser test; Playwright never downloads a browser.
chromium:
	@if command -v chromium >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "Installing Debian's chromium for the browser test..."; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else echo "No chromium and no root apt-get: the browser test will be skipped."; fi

lint: setup
	$(BIN)/ruff check $(SOURCES)
	$(BIN)/ruff format --check $(SOURCES)

format: setup
	$(BIN)/ruff format $(SOURCES)
	$(BIN)/ruff check --fix $(SOURCES)

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

# The README's pictures of Wagtail's starter project, drawn by draw_migration_graph (reuses bench-real's environment).
real-graph-images: setup
	$(BIN)/python scripts/real_graph_images.py

# N learners at once, each its own process and workspace (1, 10, 30 in lockstep; 30 paced): bench/results.md.
bench-classroom: setup
	$(BIN)/python bench/classroom.py --write

# The static site's budgets (size, opening lesson 02, each kit command, a click to preview) in headless Chromium.
bench-lite: setup chromium
	$(BIN)/python bench/lite.py

# Every lesson as a page: open 05-rollback-playground.ipynb from the list; each lesson's "Next" link opens
# the next one (Voila serves the folder, so /voila/render/06-... exists; a single notebook's page would refuse it).
voila: setup
	$(BIN)/voila notebooks/

# Re-run the browser tests and copy their screenshots into docs/images/ for the README.
screenshots: setup chromium
	$(BIN)/python scripts/screenshots.py --run

clean:
	rm -rf workspace test-artifacts .pytest_cache .kit-cache node_modules lite/_output lite/.cache lite/node_modules lite/.venv-build
