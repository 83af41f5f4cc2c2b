"""Shared fixtures for the test suite (the cache isolation lives in the root conftest.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
FER2013_ROOT = REPO_ROOT.parent / "shared" / "fer2013"


@pytest.fixture(scope="session")
def fer2013_root() -> Path:
    """The real FER2013 image folders beside the checkout; skips the test when absent."""
    if not (FER2013_ROOT / "train").is_dir():
        pytest.skip(f"real FER2013 not found at {FER2013_ROOT}")
    return FER2013_ROOT


@pytest.fixture(scope="session")
def small_sample():
    """A small built-in sample (700 train, 140 test) shared by the whole session."""
    from fercourse.data import load

    return load("sample", n_train=700, n_test=140)
