"""Tests for fercourse.training.recipes: the recipes, the schedule, the budget, checkpoints, resume and the
record."""

from __future__ import annotations

import json

import numpy as np
import pytest

from fercourse.config import Budget
from fercourse.models.scoring import evaluate_saved
from fercourse.training.recipes import (
    RECIPES,
    TrainRecord,
    artifact_paths,
    get_recipe,
    train_recipe,
)
from fercourse.training.record import ResumeState, RunSettings

RECORD_FIELDS = {"recipe", "quick", "data", "seed", "split_sizes", "validation", "budget", "epochs_run",
                 "best_epoch", "best_val_accuracy", "final_val_accuracy", "stopped_by", "partial_last_epoch",
                 "resumed", "resumed_from_epoch", "train_seconds", "wall_seconds", "tta", "precision",
                 "width", "batch_size", "model_path", "last_checkpoint", "versions", "machine", "history",
                 "finished_at"}


# The resume state file (<stem>.last.json) as every version so far wrote it, in this order.
STATE_FIELDS = ["recipe", "quick", "seed", "data", "n_train", "epochs_done", "train_seconds",
                "best_val_accuracy", "best_epoch", "history", "stopped_by", "partial_last_epoch", "budget"]


@pytest.fixture(scope="module")
def tiny():
    from fercourse.data import load

    return load("sample", n_train=200, n_test=40)


def test_the_two_recipes_are_what_their_descriptions_say():
    seed, reference = RECIPES["seed_cnn"], RECIPES["reference"]
    assert (seed.variant, seed.schedule, seed.tta, seed.label_smoothing, seed.weight_decay) == (
        "bn", "plateau", None, 0.0, None)
    assert seed.augment["flip"] and seed.patience == 10 and seed.learning_rate == 1e-3
    assert (reference.variant, reference.schedule, reference.tta, reference.label_smoothing) == (
        "reference", "one_cycle", "shift", 0.1)
    assert (reference.stem_convs, reference.width, seed.stem_convs) == (1, 40, 2)
    assert (reference.augment["crop"], reference.augment["translation"]) == (40, 0.0)  # crops do the shifting
    assert "crop" not in seed.augment  # the seed courses train on whole faces
    assert reference.weight_decay == 0.01 and reference.augment["flip"] and reference.patience is None
    with pytest.raises(ValueError, match="recipe 'vgg' is unknown: expected one of seed_cnn, reference"):
        get_recipe("vgg")


def test_recipes_build_their_architecture_and_optimizer():
    import keras

    seed = RECIPES["seed_cnn"].build(quick=True, seed=0)
    reference = RECIPES["reference"].build(quick=True, seed=0)
    assert seed.name == "cnn_bn" and reference.name == "cnn_reference"
    assert seed.input_shape == (None, 48, 48, 1) and reference.output_shape == (None, 7)
    assert type(seed.optimizer) is keras.optimizers.Adam
    assert isinstance(reference.optimizer, keras.optimizers.AdamW)
    assert reference.loss.label_smoothing == pytest.approx(0.1)
    convs = [sum(layer.__class__.__name__ == "Conv2D" for layer in model.layers)
             for model in (seed, reference)]
    assert convs == [4, 7]  # the reference keeps one convolution at full resolution, two in its other blocks
    assert keras.config.dtype_policy().name == "float32"  # the bfloat16 policy never leaks out of build()
    full = RECIPES["seed_cnn"].build(seed=0)
    assert "augmentation" in [layer.name for layer in full.layers]  # quick drops it, the full recipe keeps it
    assert "augmentation" not in [layer.name for layer in seed.layers]


def test_the_reference_schedule_rises_to_its_peak_at_a_quarter_of_the_budget_then_anneals():
    rate_at = RECIPES["reference"].learning_rate_at()
    rates = [rate_at(progress) for progress in np.linspace(0, 1, 41)]
    peak = int(np.argmax(rates))
    assert rates[0] == pytest.approx(2e-3 / 25) and rates[peak] == pytest.approx(2e-3)
    assert np.linspace(0, 1, 41)[peak] == pytest.approx(0.25)  # the recipes warm up over a quarter
    assert np.all(np.diff(rates[:peak + 1]) > 0) and np.all(np.diff(rates[peak:]) < 0)
    assert rates[-1] == pytest.approx(2e-3 / 25 / 1e4)
    assert rate_at(1.7) == rates[-1]  # past the budget: it stays at the floor
    assert RECIPES["seed_cnn"].learning_rate_at() is None  # plateau: Keras's callback sets the rate


def test_artifact_paths_and_bad_budgets_are_refused(tiny, tmp_path):
    with pytest.raises(ValueError, match=r"model path .*model\.h5: expected a file name ending in \.keras"):
        artifact_paths(tmp_path / "model.h5")
    with pytest.raises(ValueError, match="epochs is 0: expected a positive whole number"):
        train_recipe("seed_cnn", tiny, tmp_path / "m.keras", epochs=0)
    with pytest.raises(ValueError, match="minutes is -1: expected a positive number of minutes"):
        train_recipe("seed_cnn", tiny, tmp_path / "m.keras", minutes=-1)


def test_a_time_budget_stops_training_inside_the_first_epoch(tiny, tmp_path):
    out = tmp_path / "budget.keras"
    record = train_recipe("seed_cnn", tiny, out, minutes=0.001, quick=True)  # 0.06 s: one batch
    assert record.stopped_by == "time_budget" and record.partial_last_epoch
    assert record.epochs_run == 1 and record.budget == {"epochs": 10, "minutes": 0.001}
    steps = int(np.ceil(record.split_sizes["train"] / record.batch_size))
    assert 1 <= record.history[0]["batches"] < steps
    paths = artifact_paths(out)
    assert all(path.is_file() for path in (paths.model, paths.record, paths.last, paths.state))
    saved = json.loads(paths.record.read_text())
    assert set(saved) == RECORD_FIELDS and saved["stopped_by"] == "time_budget"
    assert TrainRecord.load(paths.record) == record
    state = json.loads(paths.state.read_text())
    assert list(state) == STATE_FIELDS  # the state file's format: resume reads files from earlier versions
    assert state["budget"] == {"epochs": 10, "minutes": 0.001} and state["stopped_by"] == "time_budget"


def test_the_record_is_complete_and_consistent(tiny, tmp_path):
    record = train_recipe("reference", tiny, tmp_path / "ref.keras", epochs=2, quick=True, seed=3)
    values = record.to_dict()
    assert set(values) == RECORD_FIELDS
    assert values["split_sizes"] == {"train": 180, "val": 20, "test": 40}
    assert (record.recipe, record.data, record.seed, record.quick, record.tta) == ("reference", "sample", 3,
                                                                                   True, "shift")
    assert (record.epochs_run, record.stopped_by, record.resumed,
            record.partial_last_epoch) == (2, "epochs", False, False)
    assert [row["epoch"] for row in record.history] == [1, 2]
    assert record.best_val_accuracy == max(row["val_accuracy"] for row in record.history)
    assert record.history[record.best_epoch - 1]["val_accuracy"] == record.best_val_accuracy
    assert set(record.versions) == {"fercourse", "python", "tensorflow", "keras", "numpy", "scikit-learn"}
    assert record.machine["cpus"] >= 1 and record.train_seconds <= record.wall_seconds
    assert record.width == RECIPES["reference"].quick_width and record.batch_size == 32
    # The saved best model scores on validation exactly what training recorded for its epoch.
    scored = evaluate_saved(record.model_path, tiny, split="val")
    assert scored["n"] == 20 and scored["accuracy"] == pytest.approx(record.best_val_accuracy, abs=1e-4)


def test_resume_continues_the_epoch_count_optimizer_and_schedule(tiny, tmp_path, monkeypatch):
    import keras

    import fercourse.training.recipes

    # bfloat16 layers on any CPU
    monkeypatch.setattr(fercourse.training.recipes, "bfloat16_is_fast", lambda: True)
    out = tmp_path / "resume.keras"
    first = train_recipe("reference", tiny, out, epochs=2, quick=True)
    second = train_recipe("reference", tiny, out, epochs=3, quick=True, resume=True)
    assert (second.resumed, second.resumed_from_epoch, second.epochs_run) == (True, 2, 3)
    # The loaded layers still compute in bfloat16.
    assert first.precision == second.precision == "mixed_bfloat16"
    assert [row["epoch"] for row in second.history] == [1, 2, 3]
    assert second.history[:2] == first.history  # the earlier epochs are kept, not retrained
    assert second.train_seconds > first.train_seconds
    steps = int(np.ceil(180 / 32))
    last = keras.models.load_model(artifact_paths(out).last)
    assert int(last.optimizer.iterations.numpy()) == 3 * steps  # the optimizer went on, no restart
    # The one-cycle schedule runs over the new 3-epoch budget: epoch 3 ends at its floor.
    assert second.history[2]["learning_rate"] < second.history[1]["learning_rate"] < 1e-3
    # The budget is spent: nothing to do.
    again = train_recipe("reference", tiny, out, quick=True, resume=True)
    assert again.epochs_run == 3 and again.history == second.history


def test_resume_refuses_a_different_run_and_starts_fresh_without_a_checkpoint(tiny, tmp_path):
    out = tmp_path / "model.keras"
    train_recipe("seed_cnn", tiny, out, epochs=1, quick=True)
    with pytest.raises(ValueError, match=r"cannot resume: it was trained with seed=0, this run asks for "
                                         r"seed=1"):
        train_recipe("seed_cnn", tiny, out, epochs=2, quick=True, seed=1, resume=True)
    with pytest.raises(ValueError, match=r"cannot resume: it was trained with recipe='seed_cnn'"):
        train_recipe("reference", tiny, out, epochs=2, quick=True, resume=True)
    fresh = train_recipe("seed_cnn", tiny, tmp_path / "new.keras", epochs=1, quick=True, resume=True)
    assert (fresh.resumed, fresh.epochs_run) == (False, 1)


def test_resume_state_reads_a_state_file_written_before_the_dataclasses(tmp_path):
    path = tmp_path / "old.last.json"
    old = {"recipe": "reference", "quick": True, "seed": 0, "data": "sample", "n_train": 180,
           "epochs_done": 2,
           "train_seconds": 12.5, "best_val_accuracy": 0.25, "best_epoch": 1,
           "history": [{"epoch": 1, "val_accuracy": 0.25}, {"epoch": 2, "val_accuracy": 0.2}],
           "stopped_by": "epochs", "partial_last_epoch": False, "budget": {"epochs": 2, "minutes": None}}
    path.write_text(json.dumps(old, indent=2) + "\n")
    settings = RunSettings(recipe="reference", quick=True, seed=0, data="sample", n_train=180)
    state = ResumeState.load(path, expected=settings)
    assert (state.settings, state.budget, state.epochs_done, state.best_epoch) == (
        settings, Budget(epochs=2, minutes=None), 2, 1)
    assert state.to_dict() == old  # saved again, byte for byte the same object
    with pytest.raises(ValueError, match=r"old\.last\.json: cannot resume: it was trained with n_train=180, "
                                         r"this run asks for n_train=200"):
        ResumeState.load(path, expected=RunSettings("reference", True, 0, "sample", 200))
    del old["best_epoch"]
    path.write_text(json.dumps(old))
    with pytest.raises(ValueError, match="old.last.json: cannot resume: the state file lacks best_epoch"):
        ResumeState.load(path)


def test_evaluate_saved_reports_every_metric_and_refuses_bad_input(tiny, tmp_path):
    record = train_recipe("seed_cnn", tiny, tmp_path / "m.keras", epochs=1, quick=True)
    result = evaluate_saved(record.model_path, tiny, split="test", tta="shift")
    assert (result["split"], result["n"], result["tta"]) == ("test", 40, "shift")
    assert np.asarray(result["confusion"]).shape == (7, 7) and np.asarray(result["confusion"]).sum() == 40
    diagonal = np.trace(np.asarray(result["confusion"]))
    assert result["accuracy"] == pytest.approx(diagonal / 40)
    assert list(result["per_class_recall"]) == ["angry", "disgust", "fear", "happy", "sad", "surprise",
                                                "neutral"]
    with pytest.raises(FileNotFoundError, match="nothing.keras: no such model file"):
        evaluate_saved(tmp_path / "nothing.keras", tiny)
    with pytest.raises(ValueError, match="sample has no 'holdout' split: expected test, val or train"):
        evaluate_saved(record.model_path, tiny, split="holdout")


def test_a_record_written_before_tta_had_names_reads_as_the_new_names(tiny, tmp_path):
    record = train_recipe("seed_cnn", tiny, tmp_path / "m.keras", epochs=1, quick=True)
    path = artifact_paths(record.model_path).record
    for stored, read in ((True, "flip"), (False, None), ("shift", "shift")):
        path.write_text(json.dumps({**json.loads(path.read_text()), "tta": stored}))
        assert TrainRecord.load(path).tta == read
    path.write_text(json.dumps({**json.loads(path.read_text()), "tta": "mirror"}))
    with pytest.raises(ValueError, match=r"m\.json: tta is 'mirror': expected null, 'flip' or 'shift'"):
        TrainRecord.load(path)
