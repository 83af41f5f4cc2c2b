# Convenience targets; the README's two commands are `make course` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN = $(VENV)/bin
PIP_FLAGS ?= -q --disable-pip-version-check

.PHONY: setup system-deps course test test-fast clean

$(BIN)/fercourse: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install $(PIP_FLAGS) --upgrade pip
	$(BIN)/pip install $(PIP_FLAGS) -e '.[test]'
	touch $@

setup: $(BIN)/fercourse

# Headless Chromium for the browser tests (Debian's package; Playwright drives it, downloads nothing).
system-deps:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium missing: install Debian's chromium package for the browser tests"; fi; }

# The main job: run every lesson on the built-in sample (quick mode) and build the book.
course: setup
	$(BIN)/fercourse book build --data sample --quick

# Every test, slow end-to-end ones included.
test: setup system-deps
	$(BIN)/python -m pytest

test-fast: setup
	$(BIN)/python -m pytest -m "not slow"

clean:
	rm -rf book/_build book/lessons artifacts runs
