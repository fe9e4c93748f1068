# Every target sets up .venv itself, so a fresh clone needs only `make test` or `make demo`.
PYTHON ?= python3
TORCH ?= torch==2.13.0
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install browser-deps test test-unit test-slow docs docs-serve demo lint format bench explorer clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# torch first, from the pinned build: a bare `torch` could pull a multi-GB CUDA build
	$(BIN)/pip install -q "$(TORCH)"
	$(BIN)/pip install -q -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

# The explorer's browser test drives Debian's Chromium (Playwright cannot download a browser here).
browser-deps:
	@command -v chromium >/dev/null || { \
	  echo "installing Debian's chromium for the browser test"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

# Both tiers (what CI runs), then the docs site, built strictly: a broken link or reference fails.
test: $(STAMP) browser-deps
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest -q
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict -q -d build/site

# The unit tier: fast, no subprocess trainings, browsers, DDP, Ray or wheels.
test-unit: $(STAMP)
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest -q -m "not integration and not slow"

docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict -d site

docs-serve: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs serve

test-slow: $(STAMP)
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest -q -m slow

demo: $(STAMP)
	HF_HUB_OFFLINE=1 $(BIN)/python scripts/demo.py

lint: $(STAMP)
	$(BIN)/ruff check src scripts tests examples spaces
	$(BIN)/ruff format --check src scripts tests examples spaces

format: $(STAMP)
	$(BIN)/ruff format src scripts tests examples spaces
	$(BIN)/ruff check --fix src scripts tests examples spaces

explorer: $(STAMP)
	HF_HUB_OFFLINE=1 $(BIN)/python spaces/explorer/app.py

bench: $(STAMP)
	HF_HUB_OFFLINE=1 $(BIN)/python scripts/bench.py

clean:
	rm -rf $(VENV) build dist site *.egg-info src/*.egg-info
