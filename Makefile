# `make run` and `make test` each set up what they need: the virtualenv (torch's CPU build first,
# from the wheel pip finds locally, so nothing pulls a CUDA build), the project, the model weights.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test lint model clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check torch==2.13.0
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

model: install
	$(BIN)/trading-assist model prepare

run: install
	$(BIN)/trading-assist run

test: model
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .

clean:
	rm -rf var .pytest_cache
