# q2c — make run: a living demo on http://127.0.0.1:8000 · make test: every check CI runs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export Q2C_VAR_DIR ?= $(CURDIR)/var

.PHONY: run test lint unit pg browser install lock clean help

help:
	@echo "make run    create .venv, install, migrate, seed the demo into an empty database, serve on http://127.0.0.1:8000"
	@echo "make test   ruff, mypy, import-linter and pytest (SQLite; PostgreSQL too when Q2C_TEST_DATABASE_URL is set)"
	@echo "make lock   refresh constraints.txt from the current environment"

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/q2c migrate --no-input
	$(BIN)/q2c demo --if-empty
	@cat $(Q2C_VAR_DIR)/demo-login.txt 2>/dev/null || true
	$(BIN)/q2c serve --no-migrate

lint: $(STAMP)
	$(BIN)/ruff check src tests tools
	$(BIN)/mypy
	$(BIN)/lint-imports

test: lint $(STAMP)
	$(BIN)/python tools/run_tests.py

lock:
	$(BIN)/python -m pip freeze --exclude-editable | grep -v '^-e' > constraints.txt

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache
