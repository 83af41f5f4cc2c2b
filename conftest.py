"""Settings for every test and doctest: quiet TensorFlow, a headless plot backend, a private dataset cache."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(scope="session", autouse=True)
def _isolated_cache(tmp_path_factory):
    """Point the dataset cache at a per-session folder so no test reads a stale cache."""
    previous = os.environ.get("FERCOURSE_CACHE_DIR")
    os.environ["FERCOURSE_CACHE_DIR"] = str(tmp_path_factory.mktemp("fercourse-cache"))
    yield
    if previous is None:
        os.environ.pop("FERCOURSE_CACHE_DIR", None)
    else:
        os.environ["FERCOURSE_CACHE_DIR"] = previous
