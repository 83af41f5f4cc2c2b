# Convenience targets; the README's two commands are `make course` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN = $(VENV)/bin
PIP_FLAGS ?= -q --disable-pip-version-check

.PHONY: setup system-deps course book-fer2013 lint test test-fast test-wheel clean

$(BIN)/fercourse: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	# setuptools 77 reads pyproject's SPDX license string; the venv's own copy builds the wheel in
	# tests/test_wheel.py (--no-build-isolation, nothing downloaded there).
	$(BIN)/pip install $(PIP_FLAGS) --upgrade pip "setuptools>=77" wheel
	$(BIN)/pip install $(PIP_FLAGS) -e '.[test]'
	touch $@

setup: $(BIN)/fercourse

# Headless Chromium for the browser tests (Debian's package; Playwright drives it, downloads nothing),
# and bubblewrap, the sandbox of every student kernel during nbgrader autograde (autograder/README.md).
system-deps:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium missing: install Debian's chromium package for the browser tests"; fi; }
	@command -v bwrap >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap >/dev/null; \
	  else echo "bwrap missing: install Debian's bubblewrap package (autograde refuses to run without it)"; fi; }

# The main job: run every lesson on the built-in sample (quick mode) and build the book.
course: setup
	$(BIN)/fercourse book build --data sample --quick

# The publishing build: every lesson on real FER2013 at the budgets of fercourse/course/budgets.py
# (within 90 minutes on a 2-core CPU: 44 min measured), lessons unchanged since the last run reused from the cache, and the
# figures they glue recorded in results/fer2013.json for the Results page. Not part of CI.
FER2013 ?= ../shared/fer2013
book-fer2013: setup
	$(BIN)/fercourse book build --data $(FER2013) --record

# Lint (ruff, configured in pyproject.toml): a finding fails `make test` and so CI.
lint: setup
	$(BIN)/ruff check .

# Lint, then every test, slow end-to-end ones included.
test: setup system-deps lint
	$(BIN)/python -m pytest

test-fast: setup
	$(BIN)/python -m pytest -m "not slow"

# The wheel as a user installs it: built, put in a fresh venv, run on a copy of the course.
test-wheel: setup
	$(BIN)/python -m pytest -m slow tests/test_wheel.py

clean:
	rm -rf book/_build book/lessons artifacts runs build dist
