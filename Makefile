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

DEMO := runs/demo

demo: install $(DEMO)/run/generator.safetensors
	@echo "Phantom pairs in $(DEMO)/prepared (picture: $(DEMO)/prepared.png);" \
	      "a trained DermGAN in $(DEMO)/run (samples: $(DEMO)/run/samples/)"

$(DEMO)/phantom/manifest.csv:
	$(BIN)/dermgan data phantom --out $(DEMO)/phantom --n 1000 --seed 0

$(DEMO)/prepared/prepare.json: $(DEMO)/phantom/manifest.csv
	$(BIN)/dermgan data validate $(DEMO)/phantom/manifest.csv
	$(BIN)/dermgan data prepare $(DEMO)/phantom/manifest.csv --out $(DEMO)/prepared --size 64 --seed 0
	$(BIN)/dermgan data show $(DEMO)/prepared --n 16 --out $(DEMO)/prepared.png

$(DEMO)/run/generator.safetensors: $(DEMO)/prepared/prepare.json
	if [ -d $(DEMO)/run/checkpoints ]; then $(BIN)/dermgan train --resume $(DEMO)/run; \
	else $(BIN)/dermgan train --data $(DEMO)/prepared --out $(DEMO)/run --config configs/demo-cpu.yaml; fi

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
