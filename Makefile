# make run: set up, build the warehouse from the sample if needed, serve on 127.0.0.1:8501 with the
# watcher beside it (live refreshes with a key, else a replay of the sample's day), stopped with it.
# make test: set up (venv + chromium and a Korean font for browser tests), lint, run every test.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test setup system-deps warehouse lint format bench clean docs

$(STAMP): requirements.txt requirements-dev.txt constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt -c constraints.txt
	touch $@

setup: $(STAMP)

# Debian packages the browser tests need; installed only when missing.
system-deps:
	@if [ -x /usr/bin/chromium ] && fc-list :lang=ko | grep -q .; then \
		echo "chromium and a Korean font are present"; \
	else \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends chromium fonts-nanum fontconfig; \
	fi

# Live when SEOUL_API_KEY is set (a failed refresh keeps what is published); otherwise the
# bundled sample, built once.
warehouse: setup
	@if [ -n "$$SEOUL_API_KEY" ]; then \
		$(BIN)/python -m loaders refresh || echo "some feeds failed to refresh; serving the last good data"; \
	fi
	$(BIN)/python -m loaders sample --if-empty

run: warehouse
	$(BIN)/python launch.py

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: setup system-deps lint
	$(BIN)/python -m pytest -n 2 --dist worksteal  # both cores: the suite is mostly Python and waiting on subprocesses

bench: setup
	$(BIN)/python -m bench.prices
	$(BIN)/python -m bench.city_pages
	$(BIN)/python -m bench.air_bikes
	$(BIN)/python -m bench.citydata
	$(BIN)/python -m bench.traffic_history
	$(BIN)/python -m bench.complaints_load
	$(BIN)/python -m bench.complaints_page
	$(BIN)/python -m pytest -m bench -p no:cacheprovider || [ $$? -eq 5 ]  # 5: no bench-marked tests yet

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache

docs: setup
	$(BIN)/python docs_sync.py
