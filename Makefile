# `make run` and `make test` each set up what they need: the virtualenv (torch's CPU build first,
# from the wheel pip finds locally, so nothing pulls a CUDA build), the project, the model weights.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test lint model browser clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check torch==2.13.0
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

model: install
	$(BIN)/trading-assist model prepare

run: install
	$(BIN)/trading-assist run

# the browser tests drive Debian's Chromium (Playwright's own browser downloads are not used)
browser:
	command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium; }

# OCR: rapidocr ships in the venv; Tesseract (OCR_ENGINE=tesseract) is Debian's program
.PHONY: ocr azurite
ocr:
	command -v tesseract >/dev/null || { apt-get update -qq && apt-get install -y -qq --no-install-recommends tesseract-ocr tesseract-ocr-eng; }

# Azurite, the Azure Storage emulator the blob store's tests run against (pinned in infra/azurite)
AZURITE := infra/azurite/node_modules/.bin/azurite-blob
$(AZURITE): infra/azurite/package.json infra/azurite/package-lock.json
	npm ci --prefix infra/azurite --no-audit --no-fund --loglevel=error
	touch $(AZURITE)

azurite: $(AZURITE)

# two workers, one per core; the real model's tests share one of them (tests/conftest.py);
# the 20 slowest tests are listed at the end, to keep a CI run within its 30 minutes
test: model browser ocr azurite
	$(BIN)/pytest -n 2 --dist loadgroup --durations=20

lint: install
	$(BIN)/ruff check .

clean:
	rm -rf var .pytest_cache
