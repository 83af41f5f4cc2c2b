"""Recorded experiments: each piece trained, scored and recorded once; a rerun skips what is recorded."""

from __future__ import annotations

import pytest

from fercourse.course import results
from fercourse.course.experiments import EXPERIMENTS, get_experiment, run_experiment
from fercourse.data import load
from fercourse.errors import InputError


def test_every_ladder_rung_adds_one_ingredient_to_the_rung_below():
    arms = {arm.name: arm for arm in EXPERIMENTS["ladder"].arms}
    lesson, crops, augmented = arms["lesson_cnn"].recipe, arms["crops"].recipe, arms["augmentation"].recipe
    assert (lesson.variant, lesson.schedule, dict(lesson.augment)) == ("bn", "plateau", {})
    assert crops.augment["crop"] == 40 and not crops.augment["flip"] and crops.label_smoothing == 0
    assert augmented.augment["flip"] and arms["label_smoothing"].recipe.label_smoothing == 0.1
    assert arms["label_smoothing"].recipe.weight_decay is None and arms["adamw"].recipe.weight_decay == 0.01
    assert arms["one_cycle"].recipe.schedule == "one_cycle" and arms["adamw"].recipe.schedule == "plateau"
    assert (arms["wide_gap"].recipe.variant, arms["wide_gap"].recipe.width) == ("reference", 40)
    assert arms["tta"].scores == arms["ensemble"].scores == "wide_gap" and arms["ensemble"].ensemble


def test_unknown_experiment_and_arm_are_named_with_the_choices():
    with pytest.raises(InputError, match="experiment 'ladders' is unknown: expected one of augmentation"):
        get_experiment("ladders")
    with pytest.raises(InputError, match="has no arm 'crop': expected one of lesson_cnn, crops"):
        get_experiment("ladder").arm("crop")


@pytest.mark.slow
def test_pieces_are_recorded_as_they_finish_and_a_rerun_skips_them(tmp_path):
    data = load("sample", n_train=500, n_test=120)
    record, folder = tmp_path / "fer2013.json", tmp_path / "models"
    with pytest.raises(InputError, match="wide_gap-seed0.keras is not trained yet"):
        run_experiment("ladder", data, arms=["tta"], seeds=[0], quick=True, folder=folder, record=record)

    lines = []
    measured = run_experiment("ladder", data, arms=["wide_gap", "ensemble"], seeds=[0, 1], quick=True,
                              folder=folder, record=record, log=lines.append)
    entries = results.load_results(record)["entries"]
    assert set(entries) == {"experiment/ladder/wide_gap/seed0", "experiment/ladder/wide_gap/seed1",
                            "experiment/ladder/ensemble"}
    piece = entries["experiment/ladder/wide_gap/seed1"]
    assert piece["kind"] == "experiment" and piece["seed"] == 1 and piece["values"] == measured[
        "experiment/ladder/wide_gap/seed1"]
    values = piece["values"]
    assert values["epochs_run"] == len(values["curves"]["val_accuracy"]) == 10  # the quick budget
    assert values["gap"] == pytest.approx(values["train_accuracy"] - values["val_accuracy"], abs=1e-3)
    assert values["test_unseen_n"] == 120  # the sample shares no face between train and test
    assert (folder / "ladder" / "wide_gap-seed1.keras").is_file()

    lines.clear()
    again = run_experiment("ladder", data, arms=["wide_gap", "ensemble"], seeds=[0, 1], quick=True,
                           folder=folder, record=record, log=lines.append)
    assert again == measured and all("skipped" in line for line in lines) and len(lines) == 3


def test_the_same_faces_read_from_another_folder_are_the_same_data(tmp_path):
    from fercourse.course.experiments import data_digest

    data = load("sample", n_train=200, n_test=50)
    again = load("sample", n_train=200, n_test=50)
    assert data_digest(data) == data_digest(again)
    relabelled = load("sample", n_train=200, n_test=50)
    relabelled.test.labels[0] = (relabelled.test.labels[0] + 1) % 7
    assert data_digest(relabelled) != data_digest(data)


def test_lesson_3s_ablation_runs_as_a_recorded_experiment(tmp_path):
    data = load("sample", n_train=400, n_test=100)
    arms = {arm.name: dict(arm.network) for arm in EXPERIMENTS["regularisers"].arms}
    assert arms["none"] == {"name": "mlp", "hidden_sizes": (512, 256), "batch_norm": False,
                            "dropout_rate": 0.0}
    assert arms["l2"]["l2"] == 1e-4 and arms["dropout"]["dropout_rate"] == 0.3
    assert arms["batch_norm"]["batch_norm"]
    record = tmp_path / "fer2013.json"
    measured = run_experiment("regularisers", data, arms=["dropout"], seeds=[3], quick=True, folder=tmp_path,
                              record=record, log=lambda line: None)
    values = measured["experiment/regularisers/dropout/seed3"]
    assert values["epochs_run"] <= 2 and values["parameters"] > 1_000_000  # quick: 2 epochs of the full MLP
    assert 0 <= values["val_macro_f1"] <= 1 and values["test_unseen_n"] == 100
    lines = []
    run_experiment("regularisers", data, arms=["dropout"], seeds=[3], quick=True, folder=tmp_path,
                   record=record, log=lines.append)
    assert lines == [f"experiment/regularisers/dropout/seed3: recorded on "
                     f"{results.load_results(record)['entries']['experiment/regularisers/dropout/seed3']['measured']}"
                     ", skipped"]


def test_recorded_experiments_on_a_real_fer2013_slice(fer2013_slice, tmp_path):
    """The publishing path of the all-model table on real faces: zoo and ablation pieces recorded from a
    FER2013 folder, then drawn as the Results page's rows and frontier."""
    from fercourse.course.model_table import models_fragment

    record = tmp_path / "fer2013.json"
    run_experiment("zoo", str(fer2013_slice), arms=["dummy", "naive_bayes"], seeds=[0], folder=tmp_path,
                   record=record, log=lambda line: None)
    run_experiment("regularisers", str(fer2013_slice), arms=["none"], seeds=[0], quick=True,
                   folder=tmp_path, record=record, log=lambda line: None)
    entries = results.load_results(record)["entries"]
    assert {entry["data"] for entry in entries.values()} == {"fer2013-slice"}
    dummy = entries["experiment/zoo/dummy/seed0"]["values"]
    assert dummy["test_accuracy"] == pytest.approx(1 / 7, abs=0.01)  # 15 test faces of each emotion
    assert entries["experiment/regularisers/none/seed0"]["values"]["parameters"] > 1_000_000
    fragment = models_fragment(entries, tmp_path)
    assert "| Majority class (lesson 2) | 1 | 0.143 |" in fragment
    assert "MLP (512, 256), no regulariser (experiment regularisers, at most 20 epochs)" in fragment
