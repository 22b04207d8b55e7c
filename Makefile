# `make run` and `make test` are the two commands the README promises on a fresh machine.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
MODEL ?= models/default
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test train bench load baseline clean

$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(INSTALLED)

install: $(INSTALLED)

# Order-only prerequisite: train only when no model exists, never because pip ran again.
$(MODEL)/stance.json: | $(INSTALLED)
	$(BIN)/stance train --output $(MODEL)

train: $(INSTALLED)
	$(BIN)/stance train --output $(MODEL)

run: $(MODEL)/stance.json
	$(BIN)/stance serve --model $(MODEL) --host $(HOST) --port $(PORT)

test: $(INSTALLED)
	$(BIN)/python -m pytest

baseline: $(INSTALLED)
	$(BIN)/stance baseline

bench: $(MODEL)/stance.json
	$(BIN)/python benchmarks/throughput.py --model $(MODEL)

load: $(MODEL)/stance.json
	$(BIN)/python benchmarks/load.py --model $(MODEL)

clean:
	rm -rf $(VENV) .pytest_cache
