"""The Results page's all-model table, experiment summaries and frontier figure, from a results file."""

from __future__ import annotations

import pytest

from fercourse.course.model_table import (
    experiment_summary,
    frontier,
    model_rows,
    models_fragment,
    plot_frontier,
)


def _piece(arm: str, seed: int, test: float, val: float, gap: float, minutes: float, experiment="ladder"):
    return {"kind": "experiment", "experiment": experiment, "arm": arm, "seed": seed,
            "measured": "2026-12-07", "title": f"The trick ladder: + {arm}", "data": "fer2013",
            "budget": {"epochs": 30, "minutes": None},
            "command": f"fercourse experiment run {experiment} --arms {arm} --seeds {seed} --record",
            "values": {"test_accuracy": test, "val_accuracy": val, "gap": gap, "train_minutes": minutes,
                       "test_macro_f1": test - 0.05, "test_disgust_recall": 0.3,
                       "test_accuracy_unseen": test - 0.01, "parameters": 1000}}


ENTRIES = {
    "experiment/ladder/crops/seed0": _piece("crops", 0, 0.60, 0.61, 0.20, 40.0),
    "experiment/ladder/crops/seed1": _piece("crops", 1, 0.62, 0.63, 0.18, 42.0),
    "experiment/zoo/mlp/seed0": _piece("mlp", 0, 0.45, 0.44, 0.10, 3.0, experiment="zoo"),
    "model/shipped": {"kind": "model", "title": "Shipped model, no TTA", "measured": "2026-12-03",
                      "split": "test", "metrics": {"accuracy": 0.646, "macro_f1": 0.603,
                                                   "per_class_recall": {"disgust": 0.375}}},
    "model/shipped-dedup": {"kind": "model", "title": "Shipped model, no TTA, without duplicates",
                            "measured": "2026-12-03", "split": "test",
                            "metrics": {"accuracy": 0.632, "left_out": 280}},
}


def test_one_row_per_model_best_first_with_the_seeds_spread():
    rows = model_rows(ENTRIES)
    assert [row["model"] for row in rows] == ["Shipped model, no TTA",
                                              "+ random 40x40 windows (experiment ladder, 30 epochs)",
                                              "MLP (lesson 3)"]
    assert [row["short"] for row in rows] == ["shipped", "+ random 40x40 windows", "MLP"]
    shipped, crops, mlp = rows
    assert shipped["unseen"] == 0.632 and shipped["disgust_recall"] == 0.375  # its -dedup twin
    assert crops["test_accuracy"] == pytest.approx(0.61)
    assert (crops["accuracy"], crops["seeds"]) == ("0.610 +- 0.014", 2)
    assert crops["minutes"] == 41.0 and (mlp["accuracy"], mlp["seeds"]) == ("0.450", 1)


def test_experiment_summary_and_fragment(tmp_path):
    summary = experiment_summary(ENTRIES)
    assert ("| + crops | 0.620 +- 0.014 (2 seeds) | - | 0.610 +- 0.014 (2 seeds) | 0.190 | 40.0, 42.0 |"
            in summary)
    assert "What it tests: each ingredient of the reference recipe" in summary
    assert "mlp" not in summary  # the zoo is the table itself, not an experiment summary
    fragment = models_fragment(ENTRIES, tmp_path)
    assert (tmp_path / "_frontier.png").stat().st_size > 5000 and "](_frontier.png)" in fragment
    assert "{cite}`tang2013deep`" in fragment and "PrivateTest" in fragment


def test_nothing_recorded_says_how_to_measure_and_draws_nothing(tmp_path):
    assert plot_frontier({}, tmp_path / "f.png") is None
    fragment = models_fragment({}, tmp_path)
    assert "fercourse experiment run zoo" in fragment and not (tmp_path / "_frontier.png").exists()


def test_the_frontier_keeps_the_models_no_cheaper_model_beats():
    rows = [{"model": name, "minutes": minutes, "test_accuracy": accuracy} for name, minutes, accuracy in
            [("forest", 0.4, 0.42), ("svm", 0.1, 0.41), ("lstm", 2.4, 0.40), ("cnn", 25, 0.58),
             ("slow cnn", 79, 0.57), ("shipped", 134, 0.68)]]
    assert [row["model"] for row in frontier(rows)] == ["svm", "forest", "cnn", "shipped"]


def test_a_recorded_arm_no_longer_defined_keeps_its_recorded_title():
    piece = _piece("gone", 0, 0.5, 0.5, 0.1, 1.0)
    [row] = model_rows({"experiment/ladder/gone/seed0": piece})
    assert row["model"] == row["short"] == "+ gone"
