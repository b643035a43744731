# Every target creates/uses .venv by itself: a fresh machine needs nothing but python3 and make.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP_RUN := $(VENV)/.installed-run
STAMP_DEV := $(VENV)/.installed-dev

PORT ?= 8080
# Three workers on a 2-core box: most tests wait on sockets, subprocesses and the browser, so a
# third worker fills the gaps (the suite takes ~2.5 min instead of ~5.5 serially).
TEST_WORKERS ?= 3

.PHONY: demo test lint bench screenshots dist clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(STAMP_RUN): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(STAMP_DEV): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[dev]'
	touch $@ $(STAMP_RUN)

demo: $(STAMP_RUN)
	$(BIN)/wallboard demo --port $(PORT)

test: $(STAMP_DEV)
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) $(PYTEST_ARGS)

lint: $(STAMP_DEV)
	$(BIN)/ruff check wallboard tests bench tools contrib
	$(BIN)/ruff format --check wallboard tests bench tools contrib
	$(BIN)/mypy --strict wallboard

bench: $(STAMP_DEV)
	@for f in bench/*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

# The README's board screenshots, regenerated the same way each time (needs /usr/bin/chromium).
screenshots: $(STAMP_DEV)
	$(BIN)/python tools/screenshots.py docs/screenshots

# The wheel for `pipx install dist/vicidial_wallboard-*.whl` (or a venv; see contrib/ for the
# systemd unit). The Docker image builds its own the same way.
dist: | $(BIN)/python
	rm -rf dist build
	$(BIN)/python -m pip wheel -q --no-deps --wheel-dir dist .
	rm -rf build

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
