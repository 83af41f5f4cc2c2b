"""The load and lookup benchmarks run end to end and check what they compute (timings are printed, not
asserted)."""

import json
import os
import re

import numpy as np
import pytest

from fercourse.bench.load import bench_load, seed_parse
from fercourse.cli import main
from fercourse.data import load
from fercourse.data.writers import save


def test_bench_load_loads_identical_arrays_three_ways(tmp_path, capsys):
    csv_path = save(load("sample", n_train=140, n_test=28), tmp_path, "kaggle-csv")[0]
    result = bench_load(csv_path)
    assert result["csv"] == str(csv_path) and result["rows"] == 168
    assert result["identical_arrays"] is True and result["cached"] is True
    assert set(result) >= {"seed_seconds", "cold_seconds", "cached_seconds", "cold_speedup", "cached_speedup"}
    line = capsys.readouterr().out
    assert re.fullmatch(r"168 rows, [\d.]+ MB: seed parse [\d.]+ s, fercourse cold [\d.]+ s \([\d.]+x\), "
                        r"cached [\d.]+ s \([\d.]+x\); identical arrays: True\n", line), line


def test_bench_load_leaves_the_users_cache_alone(tmp_path, monkeypatch):
    mine = tmp_path / "my-cache"
    monkeypatch.setenv("FERCOURSE_CACHE_DIR", str(mine))
    csv_path = save(load("sample", n_train=35, n_test=7, cache=False), tmp_path, "kaggle-csv")[0]
    assert bench_load(csv_path)["cached"] is True  # it used a cache, but its own
    assert os.environ["FERCOURSE_CACHE_DIR"] == str(mine)
    assert not mine.exists()


def test_bench_load_takes_fer2013_from_the_variable(tmp_path, monkeypatch, capsys):
    save(load("sample", n_train=35, n_test=7), tmp_path / "folders", "folders")
    monkeypatch.setenv("FERCOURSE_FER2013", str(tmp_path / "folders"))
    assert main(["bench", "load", "--json"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"converting {tmp_path / 'folders'} to a Kaggle CSV ...\n")
    result = json.loads(out[out.index("{"):])
    assert result["rows"] == 42 and result["identical_arrays"] is True


def test_bench_load_without_a_source_names_the_variable(monkeypatch, capsys):
    monkeypatch.delenv("FERCOURSE_FER2013", raising=False)
    assert main(["bench", "load"]) == 1
    assert "set the environment variable FERCOURSE_FER2013" in capsys.readouterr().err
    with pytest.raises(FileNotFoundError, match="FERCOURSE_FER2013"):
        bench_load()


def test_seed_parse_matches_the_loader(tmp_path):
    data = load("sample", n_train=35, n_test=7)
    csv_path = save(data, tmp_path, "kaggle-csv")[0]
    images, labels = seed_parse(csv_path)
    assert images.shape == (42, 48, 48) and images.dtype == np.uint8
    assert (images[:35] == data.train.images).all() and labels[:35].tolist() == data.train.labels.tolist()


@pytest.fixture(scope="module")
def lookup_sample():
    return load("sample", n_train=240, n_test=60, seed=2)


def test_nearest_neighbours_match_a_brute_force_search(lookup_sample):
    from fercourse.bench.lookup import nearest_neighbours

    index = lookup_sample.train.images
    queries = lookup_sample.test.images
    brute = ((queries[:, None].astype(np.float64) - index[None].astype(np.float64)) ** 2).sum(axis=(2, 3))
    positions, distances = nearest_neighbours(queries, index, chunk_size=7)
    np.testing.assert_array_equal(positions, brute.argmin(axis=1))
    np.testing.assert_array_equal(distances, brute.min(axis=1))


def test_bench_lookup_figures_on_the_sample(lookup_sample):
    from fercourse.bench.lookup import bench_lookup, format_lookup

    result = bench_lookup(lookup_sample)
    assert (result["n_test"], result["n_public"]) == (60, 300)
    # Released as they are, every test face is its own nearest neighbour in the public data.
    assert result["lookup"] == {"n": 60, "found": 1.0, "label": 1.0}
    assert "found (same pixels): 100.0%; right label copied: 100.0%" in format_lookup(result)


def test_lookup_copies_the_label_of_a_duplicate_it_finds():
    from fercourse.bench.lookup import lookup_recovery

    faces = np.stack([np.full((48, 48), v, np.uint8) for v in (10, 90)])
    # The public copy holds the second face with another label (FER2013 has such duplicates).
    public = np.concatenate([faces, np.full((1, 48, 48), 200, np.uint8)])
    result = lookup_recovery(faces, np.array([1, 2]), public, np.array([1, 4, 0]))
    assert result == {"n": 2, "found": 1.0, "label": 0.5}
    with pytest.raises(ValueError, match="expected a label per face"):
        lookup_recovery(faces, np.array([1]), public, np.array([1, 4, 0]))


def test_bench_lookup_command_prints_the_table_and_json(capsys):
    assert main(["bench", "lookup", "--n-train", "90", "--n-test", "30"]) == 0
    table = capsys.readouterr().out
    assert "30 test faces looked up among 120 public faces" in table
    assert "found (same pixels): 100.0%" in table
    assert main(["bench", "lookup", "--n-train", "90", "--n-test", "30", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["lookup"]["n"] == 30 and result["lookup"]["found"] == 1.0
