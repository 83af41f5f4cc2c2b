"""The Results page's all-model table, experiment summaries and frontier figure, from a results file."""

from __future__ import annotations

import pytest

from fercourse.course.model_table import (
    arm_steps,
    experiment_runs,
    experiment_summary,
    frontier,
    model_rows,
    models_fragment,
    plot_frontier,
    steps_reading,
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
                                              "Ladder: + random 40x40 windows (experiment ladder, 30 epochs)",
                                              "MLP (lesson 3)"]
    assert [row["short"] for row in rows] == ["shipped", "ladder: + 40x40 crops", "MLP"]
    shipped, crops, mlp = rows
    assert shipped["unseen"] == 0.632 and shipped["disgust_recall"] == 0.375  # its -dedup twin
    assert crops["test_accuracy"] == pytest.approx(0.61)
    assert (crops["accuracy"], crops["seeds"]) == ("0.610 +- 0.014", 2)
    assert crops["minutes"] == 41.0 and (mlp["accuracy"], mlp["seeds"]) == ("0.450", 1)


def test_experiment_summary_and_fragment(tmp_path):
    summary = experiment_summary(ENTRIES)
    # the arm's title as the experiment defines it, not the recorded one ("The trick ladder: + crops")
    assert ("| + random 40x40 windows | 0.620 +- 0.014 (2 seeds) | - | 0.610 +- 0.014 (2 seeds) | 0.190 "
            "| 40.0, 42.0 |" in summary)
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


def test_experiment_runs_lists_each_arm_and_seed_in_the_ladders_order():
    entries = {**ENTRIES,
               "experiment/ladder/lesson_cnn/seed0": _piece("lesson_cnn", 0, 0.58, 0.59, 0.30, 18.0),
               "experiment/ladder/ensemble": _piece("ensemble", None, 0.66, 0.67, 0.1, 0.0)}
    runs = experiment_runs(entries, "ladder")
    # lesson_cnn was recorded after crops, but the ladder puts it first; the ensemble has seed -1
    assert list(zip(runs["arm"], runs["seed"])) == [("lesson_cnn", 0), ("crops", 0), ("crops", 1),
                                                    ("ensemble", -1)]
    assert runs.loc[1, "title"] == "+ random 40x40 windows" and runs.loc[1, "training minutes"] == 40.0
    assert runs["epochs run"].isna().all()  # not recorded by these pieces: NaN, not 0
    steps = arm_steps(runs)
    assert list(steps["arm"]) == ["lesson_cnn", "crops", "ensemble"]
    assert list(steps["seeds"]) == [1, 2, 1]
    assert steps["step (points)"].round(1).tolist()[1:] == [3.0, 5.0]
    reading = steps_reading(steps, {"lesson_cnn": "lesson 5 CNN", "crops": "+ crops"})
    assert reading.startswith("From lesson 5 CNN (0.580) to ensemble (0.660), 3 arms recorded with 1 to 2 "
                              "seeds per arm, the mean moved by +8.0 points.")
    assert "largest step up was ensemble (+5.0 points)" in reading and "step down" not in reading
    assert "largest standard deviation over seeds is 1.4 points" in reading


def test_steps_reading_says_what_one_seed_cannot_show():
    entries = {"experiment/ladder/lesson_cnn/seed0": _piece("lesson_cnn", 0, 0.60, 0.61, 0.3, 18.0),
               "experiment/ladder/crops/seed0": _piece("crops", 0, 0.59, 0.60, 0.2, 14.0)}
    reading = steps_reading(arm_steps(experiment_runs(entries, "ladder")))
    assert "largest step down was crops (-1.0 points)" in reading
    assert "every step is a single draw" in reading
    nothing = steps_reading(arm_steps(experiment_runs({}, "ladder")))
    assert nothing == "Nothing of this experiment is recorded yet."
    first = {key: entry for key, entry in entries.items() if "lesson_cnn" in key}
    only = steps_reading(arm_steps(experiment_runs(first, "ladder")))
    assert only == "Only the first arm, lesson_cnn, is recorded: 0.600 (1 seed per arm)."


def test_a_ladder_summary_keeps_its_rung_order_draws_its_runs_and_reads_its_steps(tmp_path):
    entries = {**ENTRIES,  # lesson_cnn recorded after crops; the ladder puts it first
               "experiment/ladder/lesson_cnn/seed0": _piece("lesson_cnn", 0, 0.58, 0.59, 0.30, 18.0)}
    summary = experiment_summary(entries, tmp_path)
    assert summary.index("| Lesson 5's CNN (bn variant") < summary.index("| + random 40x40 windows |")
    assert "![The trick ladder: from lesson 5's CNN to the reference recipe: test and validation" in summary
    assert (tmp_path / "_ladder.png").stat().st_size > 5000
    assert ("Reading the test accuracy: From lesson 5 CNN (0.580) to + 40x40 crops (0.610), 2 arms recorded "
            "with 1 to 2 seeds per arm, the mean moved by +3.0 points.") in summary
    assert "_ladder.png" not in experiment_summary(entries)  # no folder, no figure; the reading stays
    assert "Reading the test accuracy" in experiment_summary(entries)
    assert "Reading the test accuracy" not in experiment_summary(  # not a ladder: no steps to read
        {key: entry for key, entry in ENTRIES.items() if "ladder" not in key})


def test_a_step_across_rungs_not_run_yet_is_not_read_as_one_ingredients():
    entries = {"experiment/ladder/lesson_cnn/seed0": _piece("lesson_cnn", 0, 0.63, 0.62, 0.25, 25.0),
               "experiment/ladder/crops/seed0": _piece("crops", 0, 0.60, 0.61, 0.06, 19.0),
               "experiment/ladder/wide_gap/seed0": _piece("wide_gap", 0, 0.628, 0.638, 0.05, 61.0),
               "experiment/ladder/tta/seed0": _piece("tta", 0, 0.630, 0.645, 0.05, 0.0)}
    runs = experiment_runs(entries, "ladder")
    ladder = ["lesson_cnn", "crops", "augmentation", "label_smoothing", "adamw", "one_cycle", "wide_gap",
              "tta", "ensemble"]
    steps = arm_steps(runs, arms=ladder)
    # crops -> wide_gap spans four rungs not run yet: no step; wide_gap -> tta is one
    assert steps["step (points)"].isna().tolist() == [True, False, True, False]
    reading = steps_reading(steps, {"wide_gap": "+ width, GAP", "tta": "+ TTA", "crops": "+ crops"})
    assert "largest step up was + TTA (+0.2 points)" in reading and "+ width, GAP (+" not in reading
    assert "largest step down was + crops (-3.0 points)" in reading
    assert "1 recorded arm follows an arm not run yet, so what it adds on its own is not measured." in reading
    # without the experiment's order the recorded arms are taken as adjacent
    assert arm_steps(runs)["step (points)"].notna().sum() == 3
