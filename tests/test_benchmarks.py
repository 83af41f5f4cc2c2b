"""The load benchmark runs end to end and checks its own arrays (timings are printed, not asserted)."""

from fercourse.bench.load import bench_load, seed_parse
from fercourse.data import load
from fercourse.data.writers import save


def test_bench_load_reports_ratios_on_identical_arrays(tmp_path, capsys):
    csv_path = save(load("sample", n_train=140, n_test=28), tmp_path, "kaggle-csv")[0]
    result = bench_load(csv_path)
    assert result["rows"] == 168 and result["identical_arrays"] is True
    assert result["cold_speedup"] > 0 and result["cached_speedup"] > 0
    assert "seed parse" in capsys.readouterr().out


def test_seed_parse_matches_the_loader(tmp_path):
    data = load("sample", n_train=35, n_test=7)
    csv_path = save(data, tmp_path, "kaggle-csv")[0]
    images, labels = seed_parse(csv_path)
    assert (images[:35] == data.train.images).all() and labels[:35].tolist() == data.train.labels.tolist()
