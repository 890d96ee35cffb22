# UIG — the project's habits. `make run` and `make test` set everything up on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
WORKSPACE ?= uig_workspace
PORT ?= 8501

.PHONY: .venv run test test-fast lint format bench demo chromium java clean screenshots

.venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -e '.[test]'
	$(BIN)/python -m compileall -q uig_core uig_app >/dev/null || true
	$(BIN)/python -m uig_core.semantics.static  # the default static embedding model, distilled offline (~1 min, once)
	$(BIN)/python -m uig_core.semantics.multilingual  # the multilingual one, from the bundled e5-small (~3 min, once)
	touch $(STAMP)

demo: .venv
	$(BIN)/uig demo --workspace $(WORKSPACE)

run: .venv
	@test -f $(WORKSPACE)/uig.duckdb || $(BIN)/uig demo --workspace $(WORKSPACE)
	$(BIN)/uig app --workspace $(WORKSPACE) --port $(PORT)

chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -q && $$SUDO apt-get install -y -q chromium; }
	@fc-list :lang=zh 2>/dev/null | grep -q . || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -q && $$SUDO apt-get install -y -q fonts-noto-cjk; }  # Chinese titles, not boxes

java:  # Spark's JVM (the --engine spark tests run a local Spark); ~200 MB of packages where none is installed
	@command -v java >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -q && $$SUDO apt-get install -y -q --no-install-recommends openjdk-17-jre-headless; }

test: .venv chromium java
	$(BIN)/python -m pytest -q -ra

screenshots: .venv chromium
	UIG_SCREENSHOTS=docs/screenshots $(BIN)/python -m pytest -q tests/test_browser.py tests/test_browser_screens_or.py

test-fast: .venv
	$(BIN)/python -m pytest -q -m "not slow and not browser"

lint: .venv
	$(BIN)/ruff check uig_core uig_app app_pages app.py tests bench
	$(BIN)/ruff format --check uig_core uig_app app_pages app.py tests bench

format: .venv
	$(BIN)/ruff format uig_core uig_app app_pages app.py tests bench
	$(BIN)/ruff check --fix uig_core uig_app app_pages app.py tests bench

bench: .venv
	$(BIN)/python bench/quality.py
	$(BIN)/python bench/embed.py
	$(BIN)/python bench/pages.py
	$(BIN)/python bench/incremental.py
	$(BIN)/python bench/cold.py
	$(BIN)/python bench/audience.py
	$(BIN)/python bench/scale.py --size M --evaluate

clean:
	rm -rf $(WORKSPACE) .pytest_cache
