"""Tests for ``fercourse compare`` and the model zoo behind it."""

from __future__ import annotations

import json

import numpy as np
import pytest

from fercourse.cli import main
from fercourse.cli.compare import format_table
from fercourse.data import Dataset, Split, load
from fercourse.models import build_baseline, model_input, predict_proba
from fercourse.training.zoo import ZOO, public, run_comparison


def test_compare_quick_prints_valid_json_and_writes_figures(capsys, tmp_path):
    out = tmp_path / "compare"
    status = main(["compare", "--data", "sample", "--n-train", "400", "--n-test", "100", "--quick",
                   "--models", "dummy", "naive_bayes", "mlp", "--json", "--out", str(out)])
    captured = capsys.readouterr()
    assert status == 0
    rows = json.loads(captured.out)
    assert [row["model"] for row in rows] == ["dummy", "naive_bayes", "mlp"]
    for row in rows:
        assert {"model", "accuracy", "macro_f1", "fit_seconds", "disgust_recall", "split"} <= set(row)
        assert row["split"] == "test"
    dummy, naive_bayes, mlp = rows
    data = load("sample", n_train=400, n_test=100)
    # The zoo's score is the one the same baseline gets through the one prediction path.
    refit = build_baseline("naive_bayes", random_state=0).fit(model_input("naive_bayes", data.train.images),
                                                              data.train.labels)
    predicted = predict_proba(refit, data.test.images).argmax(axis=1)
    assert naive_bayes["accuracy"] == round(float(np.mean(predicted == data.test.labels)), 4)
    majority = np.bincount(data.train.labels).argmax()
    assert majority == 3  # happy, as in FER2013
    assert dummy["accuracy"] == pytest.approx(np.mean(data.test.labels == majority))
    assert dummy["disgust_recall"] == 0.0
    assert mlp["kind"] == "keras" and mlp["n_fit"] == 360 and 1 <= mlp["best_epoch"] <= mlp["epochs"] <= 15
    assert "[3/3] mlp: test accuracy" in captured.err  # progress goes to stderr, JSON alone on stdout
    assert json.loads((out / "results.json").read_text()) == rows
    assert (out / "results.csv").read_text().splitlines()[0].startswith("model,kind,split,accuracy,macro_f1")
    for figure in ("confusion_best.png", "per_class_best.png", "accuracy.png"):
        assert (out / figure).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert (out / figure).stat().st_size > 10_000


def test_compare_prints_a_table_best_first(capsys):
    status = main(["compare", "--n-train", "200", "--n-test", "50", "--models", "dummy", "naive_bayes"])
    lines = capsys.readouterr().out.splitlines()
    assert status == 0
    assert lines[0].startswith("sample: 200 train / 50 test images; scores on the test split")
    assert lines[1].split() == ["model", "accuracy", "macro-F1", "disgust", "recall", "fit", "s"]
    accuracies = [float(line.split()[1]) for line in lines[3:]]
    assert len(accuracies) == 2 and accuracies == sorted(accuracies, reverse=True)


def test_compare_rejects_unknown_models_and_missing_data(capsys, tmp_path):
    with pytest.raises(SystemExit) as exit_info:
        main(["compare", "--models", "resnet"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'resnet'" in capsys.readouterr().err
    assert main(["compare", "--data", str(tmp_path / "nowhere.csv")]) == 1
    assert "nowhere.csv: no such file or folder" in capsys.readouterr().err


def test_run_comparison_needs_labelled_test_split():
    data = load("sample", n_train=70, n_test=14)
    unlabelled = Dataset({"train": data.train, "test": Split(data.test.images, None, data.test.ids)},
                         "course.csv")
    with pytest.raises(ValueError, match="course.csv: compare needs labelled train and test splits"):
        run_comparison(unlabelled, ["dummy"], progress=None)
    with pytest.raises(ValueError, match="unknown model"):
        run_comparison(data, ["cnn"], progress=None)


def test_format_table_and_public_rows():
    rows = [{"model": "a", "accuracy": 0.3, "macro_f1": 0.2, "disgust_recall": 0.0, "fit_seconds": 1.0,
             "_model": object()},
            {"model": "b", "accuracy": 0.6, "macro_f1": 0.5, "disgust_recall": 0.25, "fit_seconds": 12.5}]
    lines = format_table(rows).splitlines()
    assert lines[2].split() == ["b", "0.600", "0.500", "0.250", "12.5"]
    assert lines[3].split()[0] == "a"
    assert public(rows)[0] == {"model": "a", "accuracy": 0.3, "macro_f1": 0.2, "disgust_recall": 0.0,
                               "fit_seconds": 1.0}
    assert ZOO[:2] == ("dummy", "logistic_regression") and ZOO[-1] == "cnn_reference"
    assert len(set(ZOO)) == len(ZOO) == 14
    assert np.isfinite([row["accuracy"] for row in rows]).all()


def test_quick_trains_on_a_stratified_subsample_of_at_most_5000_images():
    data = load("sample", n_train=6000, n_test=50)
    progress = []
    rows = run_comparison(data, ["dummy", "naive_bayes"], quick=True, progress=progress.append)
    assert [row["n_fit"] for row in rows] == [5000, 5000]
    assert progress[0] == "--quick: training on a stratified subsample of 5000 of 6000 images"
    full = run_comparison(data, ["dummy"], quick=False, progress=None)
    assert full[0]["n_fit"] == 6000
