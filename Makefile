# Two commands do everything on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-dev

.PHONY: install demo test test-slow lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade pip >/dev/null

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/dermgan data phantom --out runs/demo/phantom --n 400 --seed 0
	$(BIN)/dermgan data validate runs/demo/phantom/manifest.csv
	$(BIN)/dermgan data prepare runs/demo/phantom/manifest.csv --out runs/demo/prepared --size 64 --seed 0
	$(BIN)/dermgan data show runs/demo/prepared --n 16 --out runs/demo/prepared.png
	@echo "Prepared phantom pairs in runs/demo/prepared; a picture of them in runs/demo/prepared.png"

test: install
	$(BIN)/ruff check .
	$(BIN)/pytest -q

test-slow: install
	$(BIN)/pytest -q -m slow

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf runs .pytest_cache .ruff_cache
