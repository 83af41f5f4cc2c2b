"""fercourse.files: a file is either its old self or completely new, never half written."""

from __future__ import annotations

import pytest

from fercourse.files import atomic_write, atomic_write_bytes, atomic_write_text


def test_write_creates_folders_and_leaves_no_scratch_file(tmp_path):
    path = atomic_write_text(tmp_path / "deep" / "state.json", "{}\n")
    assert path == tmp_path / "deep" / "state.json" and path.read_text() == "{}\n"
    atomic_write_bytes(path, b"[1]\n")
    assert path.read_bytes() == b"[1]\n"
    assert [p.name for p in path.parent.iterdir()] == ["state.json"]


def test_a_failing_write_keeps_the_old_file_and_removes_the_scratch(tmp_path):
    path = atomic_write_text(tmp_path / "model.keras", "old")
    seen = []

    def half_write(scratch):
        seen.append(scratch)
        scratch.write_text("half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write(path, half_write)
    assert path.read_text() == "old"
    assert seen[0].suffix == ".keras" and seen[0].parent == tmp_path  # same suffix, same folder
    assert [p.name for p in tmp_path.iterdir()] == ["model.keras"]


def test_numpy_savez_writes_through_the_scratch_path(tmp_path):
    import numpy as np

    path = atomic_write(tmp_path / "arrays.npz", lambda scratch: np.savez(scratch, x=np.arange(3)))
    with np.load(path) as stored:
        assert stored["x"].tolist() == [0, 1, 2]
    assert [p.name for p in tmp_path.iterdir()] == ["arrays.npz"]
