"""Tests for ``fercourse train``, ``fercourse evaluate`` and ``fercourse bench recipes``."""

from __future__ import annotations

import json

import numpy as np
import pytest

from fercourse.cli import main

SAMPLE = ["--data", "sample", "--n-train", "1500", "--n-test", "400"]
TINY = ["--data", "sample", "--n-train", "200", "--n-test", "40"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """Each recipe trained in its quick setting through the command line, once for the module."""
    folder = tmp_path_factory.mktemp("recipes")
    models = {}
    for recipe in ("seed_cnn", "reference"):
        models[recipe] = folder / f"{recipe}.keras"
        assert main(["train", *SAMPLE, "--recipe", recipe, "--out", str(models[recipe]), "--quick",
                     "--quiet"]) == 0
    return models


def _evaluate_json(capsys, model, *extra) -> dict:
    capsys.readouterr()
    assert main(["evaluate", str(model), *SAMPLE, "--json", *extra]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.slow
@pytest.mark.parametrize("recipe", ["seed_cnn", "reference"])
def test_quick_recipe_beats_the_dummy_baseline_on_the_sample(trained, recipe, capsys):
    from fercourse.data import load
    from fercourse.models import build_baseline

    data = load("sample", n_train=1500, n_test=400)
    dummy = build_baseline("dummy").fit(np.zeros((len(data.train), 1)), data.train.labels)
    dummy_accuracy = float(np.mean(dummy.predict(np.zeros((len(data.test), 1))) == data.test.labels))
    result = _evaluate_json(capsys, trained[recipe])
    assert {"split", "tta", "n", "accuracy", "macro_f1", "per_class_recall", "confusion"} <= set(result)
    assert (result["split"], result["n"], result["tta"]) == ("test", 400, None)
    assert result["accuracy"] > dummy_accuracy + 0.05, (recipe, result["accuracy"], dummy_accuracy)
    assert result["macro_f1"] > 0.1  # the dummy's macro-F1 is below 0.07: one class predicted
    tta = _evaluate_json(capsys, trained[recipe], "--tta")
    assert tta["tta"] == "flip" and abs(tta["accuracy"] - result["accuracy"]) < 0.1


@pytest.mark.slow
def test_train_writes_a_complete_record_and_evaluate_prints_a_report(trained, capsys):
    record = json.loads(trained["reference"].with_suffix(".json").read_text())
    assert (record["recipe"], record["data"], record["quick"],
            record["stopped_by"]) == ("reference", "sample", True, "epochs")
    assert record["split_sizes"] == {"train": 1350, "val": 150, "test": 400}
    assert record["epochs_run"] == len(record["history"]) == 10 and record["budget"] == {"epochs": 10,
                                                                                          "minutes": None}
    assert 0 < record["best_val_accuracy"] <= 1 and record["versions"]["keras"].startswith("3.")
    capsys.readouterr()
    assert main(["evaluate", str(trained["reference"]), *SAMPLE, "--split", "val"]) == 0
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert lines[0].endswith("split val (150 images), TTA no")
    assert lines[1].startswith("accuracy ") and "macro-F1" in lines[1]
    assert float(lines[1].split()[1]) == pytest.approx(record["best_val_accuracy"], abs=1e-4)
    assert [line.split()[0] for line in lines[4:11]] == ["angry", "disgust", "fear", "happy", "sad",
                                                         "surprise", "neutral"]
    assert "confusion matrix (rows true, columns predicted)" in captured.out
    assert "says this recipe is scored with --tta shift" in captured.err


def test_train_stops_at_the_time_budget_and_says_so(tmp_path, capsys):
    out = tmp_path / "budget.keras"
    assert main(["train", *TINY, "--recipe", "seed_cnn", "--out", str(out), "--quick", "--minutes",
                 "0.001"]) == 0
    captured = capsys.readouterr()
    assert "stopped by the time budget" in captured.out and "(last epoch partial)" in captured.out
    assert "time budget reached" in captured.err  # the per-epoch progress line
    record = json.loads(out.with_suffix(".json").read_text())
    assert (record["stopped_by"], record["epochs_run"],
            record["partial_last_epoch"]) == ("time_budget", 1, True)


def test_train_resumes_from_the_last_checkpoint(tmp_path, capsys):
    out = tmp_path / "resume.keras"
    assert main(["train", *TINY, "--recipe", "seed_cnn", "--out", str(out), "--quick", "--epochs", "1",
                 "--quiet"]) == 0
    capsys.readouterr()
    assert main(["train", *TINY, "--recipe", "seed_cnn", "--out", str(out), "--quick", "--epochs", "2",
                 "--resume", "--quiet", "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert (record["resumed"], record["resumed_from_epoch"], record["epochs_run"]) == (True, 1, 2)
    assert [row["epoch"] for row in record["history"]] == [1, 2]
    assert record == json.loads(out.with_suffix(".json").read_text())


def test_command_line_errors_are_one_line_messages(tmp_path, capsys):
    assert main(["evaluate", str(tmp_path / "missing.keras"), *TINY]) == 1
    assert "fercourse evaluate: error: " in capsys.readouterr().err
    assert main(["train", *TINY, "--recipe", "seed_cnn", "--out", str(tmp_path / "model.h5")]) == 1
    assert "expected a file name ending in .keras" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["train", *TINY, "--recipe", "vgg", "--out", str(tmp_path / "m.keras")])
    assert "invalid choice: 'vgg'" in capsys.readouterr().err
    assert main(["bench", "recipes", *TINY, "--out", str(tmp_path)]) == 1
    assert "give a budget: --minutes M, --epochs N or both" in capsys.readouterr().err


@pytest.mark.parametrize("command", [["train"], ["evaluate"], ["bench", "recipes"]])
def test_help_explains_the_protocol(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([*command, "--help"])
    assert exit_info.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert {"train": "the best epoch by validation accuracy is saved to OUT",
            "evaluate": "Score the test split once, at the end",
            "bench": "under the same budget, on the same data and validation split"}[command[0]] in text


@pytest.mark.slow
def test_bench_recipes_prints_both_test_accuracies_and_the_difference(tmp_path, capsys):
    assert main(["bench", "recipes", *TINY, "--quick", "--epochs", "1", "--quiet", "--out",
                 str(tmp_path)]) == 0
    out = capsys.readouterr().out
    result = json.loads((tmp_path / "bench.json").read_text())
    seed, reference = result["rows"]
    assert (seed["recipe"], reference["recipe"], seed["tta"], reference["tta"]) == ("seed_cnn", "reference",
                                                                                  None, "shift")
    assert result["difference"] == pytest.approx(reference["test_accuracy"] - seed["test_accuracy"], abs=1e-4)
    assert f"difference (reference - seed_cnn) in test accuracy: {result['difference']:+.4f}" in out
    assert [line.split()[0] for line in out.splitlines()[3:5]] == ["seed_cnn", "reference"]


@pytest.mark.slow
def test_bench_recipes_resume_scores_a_recipe_trained_beforehand_without_training_it_again(tmp_path, capsys):
    reference = tmp_path / "reference.keras"
    assert main(["train", *TINY, "--recipe", "reference", "--quick", "--epochs", "1", "--quiet",
                 "--out", str(reference)]) == 0
    trained_at = reference.stat().st_mtime_ns
    assert main(["bench", "recipes", *TINY, "--quick", "--epochs", "1", "--quiet", "--resume",
                 "--out", str(tmp_path)]) == 0
    assert reference.stat().st_mtime_ns == trained_at  # scored as it was, not trained again
    record = json.loads((tmp_path / "reference.json").read_text())
    assert (record["epochs_run"], record["resumed_from_epoch"]) == (1, 1)
    seed, scored = json.loads((tmp_path / "bench.json").read_text())["rows"]
    assert (seed["recipe"], seed["epochs_run"], scored["recipe"], scored["epochs_run"]) == ("seed_cnn", 1,
                                                                                            "reference", 1)
    assert "difference (reference - seed_cnn) in test accuracy" in capsys.readouterr().out
