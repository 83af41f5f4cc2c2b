"""fercourse.config: the environment variables fercourse reads, FER2013's location, quick mode."""

from __future__ import annotations

import pytest

from fercourse import config
from fercourse.data import load


def test_cache_dir_explicit_then_xdg_then_home(monkeypatch, tmp_path):
    monkeypatch.setenv("FERCOURSE_CACHE_DIR", str(tmp_path / "mine"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert config.cache_dir() == tmp_path / "mine"
    monkeypatch.delenv("FERCOURSE_CACHE_DIR")
    assert config.cache_dir() == tmp_path / "xdg" / "fercourse"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert config.cache_dir() == tmp_path / "home" / ".cache" / "fercourse"


def test_using_cache_dir_wins_and_leaves_the_environment_alone(monkeypatch, tmp_path):
    monkeypatch.setenv("FERCOURSE_CACHE_DIR", str(tmp_path / "mine"))
    with config.using_cache_dir(tmp_path / "scratch") as folder:
        assert folder == tmp_path / "scratch" and config.cache_dir() == tmp_path / "scratch"
        load("sample", n_train=14, n_test=7)
        assert len(list((tmp_path / "scratch").glob("dataset-*.npz"))) == 1
    assert config.cache_dir() == tmp_path / "mine"
    assert not (tmp_path / "mine").exists()


def test_fer2013_path_explicit_wins_over_the_variable(monkeypatch, tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    monkeypatch.setenv("FERCOURSE_FER2013", str(tmp_path / "a"))
    assert config.fer2013_path() == tmp_path / "a"
    assert config.fer2013_path(tmp_path / "b") == tmp_path / "b"


def test_fer2013_path_errors_name_the_variable(monkeypatch, tmp_path):
    monkeypatch.delenv("FERCOURSE_FER2013", raising=False)
    with pytest.raises(FileNotFoundError, match="or set the environment variable FERCOURSE_FER2013 to"):
        config.fer2013_path()
    with pytest.raises(FileNotFoundError, match="set the environment variable FERCOURSE_FER2013"):
        load("fer2013")
    monkeypatch.setenv("FERCOURSE_FER2013", str(tmp_path / "gone"))
    with pytest.raises(FileNotFoundError, match=r"gone \(from FERCOURSE_FER2013\): no such file or folder"):
        config.fer2013_path()


def test_load_fer2013_reads_the_variable(monkeypatch, tmp_path):
    from fercourse.data.writers import save

    csv_path = save(load("sample", n_train=21, n_test=7), tmp_path, "kaggle-csv")[0]
    monkeypatch.setenv("FERCOURSE_FER2013", str(csv_path))
    dataset = load("fer2013", cache=False)
    assert dataset.source == str(csv_path) and len(dataset.train) == 21


def test_debug_is_any_non_empty_value(monkeypatch):
    monkeypatch.setenv("FERCOURSE_DEBUG", "")
    assert config.debug() is False
    monkeypatch.setenv("FERCOURSE_DEBUG", "1")
    assert config.debug() is True


def test_quick_lessons_use_the_quick_sizes_and_inject_the_quick_epochs():
    from fercourse.data import lesson_data

    dataset, train, val, test = lesson_data("sample", quick=True)
    assert (len(train) + len(val), len(test)) == (config.QUICK.n_train, config.QUICK.n_test)
    assert len(val) == round(config.VALIDATION_SHARE * config.QUICK.n_train)
    assert config.QUICK.lesson_parameters()["num_epochs"] == config.QUICK.lesson_budget.epochs


def test_a_budget_refuses_what_cannot_be_trained_naming_the_field():
    assert config.Budget(epochs=3, minutes=0.5).seconds == 30.0
    for bad, field in (({"epochs": 0}, "epochs is 0"), ({"epochs": 2.5}, "epochs is 2.5"),
                       ({"minutes": -1}, "minutes is -1"), ({"batch_size": 0}, "batch_size is 0")):
        with pytest.raises(ValueError, match=f"budget {field}: expected a positive"):
            config.Budget(**bad)


def test_source_names_are_recognised_as_names_not_as_paths():
    assert config.is_sample("sample") and not config.is_sample("data/sample.csv")
    assert config.is_builtin_source("fer2013") and not config.is_builtin_source("../shared/fer2013")
    assert load("sample", n_train=14, n_test=7).source == config.SAMPLE_SOURCE
