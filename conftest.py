"""Settings for every test and doctest: quiet TensorFlow, a headless plot backend, a private dataset cache."""

from __future__ import annotations

import os

import pytest

from fercourse.config import CACHE_DIR_ENV

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(scope="session", autouse=True)
def _isolated_cache(tmp_path_factory):
    """Point the dataset cache at a per-session folder so no test reads a stale cache."""
    # The variable, not fercourse.config.using_cache_dir: subprocesses (the CLI, lesson kernels) need it too.
    previous = os.environ.get(CACHE_DIR_ENV)
    os.environ[CACHE_DIR_ENV] = str(tmp_path_factory.mktemp("fercourse-cache"))
    yield
    if previous is None:
        os.environ.pop(CACHE_DIR_ENV, None)
    else:
        os.environ[CACHE_DIR_ENV] = previous
