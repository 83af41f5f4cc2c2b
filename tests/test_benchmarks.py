"""The load benchmark runs end to end and checks its own arrays (timings are printed, not asserted)."""

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
