"""Tests for fercourse.training.fit and .schedules: callbacks, fit_or_load, the tuner, schedules."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from fercourse.data import load
from fercourse.models import build_model, model_input
from fercourse.training import fit_or_load, training_callbacks, tune
from fercourse.training.schedules import exponential_decay, one_cycle, one_cycle_rate, step_decay


@pytest.fixture(scope="module")
def tiny():
    """300 train / 60 test synthetic faces."""
    return load("sample", n_train=300, n_test=60)




def test_one_cycle_starts_peaks_and_ends_where_its_settings_say():
    schedule = one_cycle(0.01, total_steps=100)  # defaults: peak at 30%, start /25, end /25/1e4
    assert float(schedule(0)) == pytest.approx(0.0004)
    assert float(schedule(30)) == pytest.approx(0.01)
    assert float(schedule(100)) == pytest.approx(4e-8) and float(schedule(250)) == pytest.approx(4e-8)
    rates = [float(schedule(step)) for step in range(0, 101, 10)]
    assert rates[:4] == sorted(rates[:4]) and rates[3:] == sorted(rates[3:], reverse=True)
    custom = one_cycle(0.02, total_steps=200, pct_start=0.25, div_factor=10.0, final_div_factor=100.0)
    assert [float(custom(step)) for step in (0, 50, 200)] == pytest.approx([0.002, 0.02, 2e-5])
    with pytest.raises(ValueError, match="total_steps is 0"):
        one_cycle(0.01, total_steps=0)
    with pytest.raises(ValueError, match="pct_start is 1.5: expected a fraction between 0 and 1"):
        one_cycle(0.01, total_steps=10, pct_start=1.5)


def test_the_keras_one_cycle_schedule_and_the_plain_rate_are_the_same_curve():
    schedule = one_cycle(3e-3, total_steps=80, pct_start=0.25)
    keras_rates = [float(schedule(step)) for step in range(0, 81, 4)]
    plain_rates = [one_cycle_rate(step / 80, 3e-3, pct_start=0.25) for step in range(0, 81, 4)]
    np.testing.assert_allclose(keras_rates, plain_rates, rtol=1e-5)  # float32 steps against float64


def test_step_and_exponential_decay_values():
    steps = step_decay(0.1, drop_every=10, factor=0.1)
    assert [float(steps(step)) for step in (0, 9, 10, 19, 20)] == pytest.approx([0.1, 0.1, 0.01, 0.01, 0.001])
    decay = exponential_decay(1e-3, decay_steps=100, decay_rate=0.5)
    assert [float(decay(step)) for step in (0, 100, 200)] == pytest.approx([1e-3, 5e-4, 2.5e-4])
    with pytest.raises(ValueError, match="drop_every is 0: expected a positive whole number of steps"):
        step_decay(0.1, drop_every=0)


def test_a_model_trained_with_one_cycle_saves_and_loads(tmp_path, tiny):
    import keras

    import fercourse.models.layers  # noqa: F401 - registers the custom classes for loading

    model = build_model("mlp", hidden_sizes=(8,), learning_rate=one_cycle(0.01, total_steps=4))
    model.fit(model_input("mlp", tiny.train.images[:64]), tiny.train.labels[:64], batch_size=32, verbose=0)
    model.save(tmp_path / "one_cycle.keras")
    saved = keras.models.load_model(tmp_path / "one_cycle.keras").optimizer.get_config()["learning_rate"]
    assert saved["registered_name"] == "fercourse>OneCycleSchedule" and saved["config"]["total_steps"] == 4


def test_training_callbacks(tmp_path):
    import keras

    callbacks = training_callbacks(tmp_path / "best.keras", time_limit=10)
    kinds = [callback.__class__.__name__ for callback in callbacks]
    assert kinds == ["EarlyStopping", "ModelCheckpoint", "ReduceLROnPlateau", "TimeLimit"]
    assert callbacks[0].restore_best_weights
    assert training_callbacks(patience=None, reduce_lr_patience=None) == []
    with pytest.raises(ValueError, match="best.h5: expected a file name ending in .keras"):
        training_callbacks(tmp_path / "best.h5")
    # The time limit stops after the first epoch once the limit (0 s) has passed.
    model = build_model("mlp", hidden_sizes=(8,))
    x, y = np.zeros((8, 2304), "float32"), np.arange(8) % 7
    history = model.fit(x, y, epochs=5, verbose=0, callbacks=training_callbacks(
        patience=None, reduce_lr_patience=None, time_limit=0.0))
    assert len(history.history["loss"]) == 1
    assert isinstance(callbacks[-1], keras.callbacks.Callback)


def test_fit_or_load_trains_saves_then_loads_without_training(tmp_path, monkeypatch):
    import keras

    path = tmp_path / "models" / "gru.keras"
    x = model_input("gru_attention", np.random.default_rng(0).integers(0, 255, (40, 48, 48), dtype=np.uint8))
    y = np.arange(40) % 7
    model, history = fit_or_load(path, lambda: build_model("gru_attention", units=8, attention_units=4),
                                 x, y, epochs=2, batch_size=20, verbose=0)
    assert path.is_file()
    assert len(history.history["loss"]) == 2
    trained_steps = int(model.optimizer.iterations.numpy())
    assert trained_steps == 4
    expected = model.predict(x, verbose=0)

    def no_build():
        raise AssertionError("build_fn must not be called when the file exists")

    def no_fit(*args, **kwargs):
        raise AssertionError("fit must not run when the file exists")

    monkeypatch.setattr(keras.Model, "fit", no_fit)
    loaded, history = fit_or_load(path, no_build, x, y, epochs=2)
    assert history is None
    assert int(loaded.optimizer.iterations.numpy()) == trained_steps  # no step since the save
    for saved, restored in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(saved, restored)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), expected, rtol=1e-5)


def test_fit_or_load_round_trips_the_reference_cnn(tmp_path):
    x = model_input("cnn", np.zeros((8, 48, 48), dtype=np.uint8))
    path = tmp_path / "cnn.keras"
    model, _ = fit_or_load(path, lambda: build_model("cnn", variant="reference", width=4, augment=True),
                           x, np.arange(8) % 7, epochs=1, verbose=0)
    loaded, history = fit_or_load(path, None, x, None)
    assert history is None
    assert loaded.loss.__class__.__name__ == "SparseSmoothedCrossentropy"
    assert loaded.loss.label_smoothing == 0.1
    assert loaded.optimizer.__class__.__name__ == "AdamW"


def test_fit_or_load_rejects_paths_that_are_not_keras_files(tmp_path):
    with pytest.raises(ValueError, match=r"model.h5: expected a file name ending in \.keras"):
        fit_or_load(tmp_path / "model.h5", None, None, None)
    (tmp_path / "dir.keras").mkdir()
    with pytest.raises(ValueError, match="is a folder"):
        fit_or_load(tmp_path / "dir.keras", None, None, None)


def test_tune_without_keras_tuner_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "keras_tuner", None)
    with pytest.raises(ImportError, match=r"pip install 'fercourse\[tuner\]'"):
        tune(lambda hp: None, None, None, validation_data=None)


def test_tune_runs_a_tiny_search(tmp_path, recwarn):
    x = model_input("mlp", np.random.default_rng(0).integers(0, 255, (40, 48, 48), dtype=np.uint8))
    y = np.arange(40) % 7
    best, values = tune(lambda hp: build_model("mlp", hidden_sizes=(hp.Choice("units", [4, 8]),)), x, y,
                        validation_data=(x, y), max_trials=2, epochs=1, directory=tmp_path, verbose=0)
    assert values["units"] in (4, 8)
    assert best.output_shape == (None, 7)
    # the best model's weights load without Keras's "Skipping variable loading for optimizer" noise
    assert not [w for w in recwarn if "Skipping variable loading" in str(w.message)]
    assert best.predict(x[:2], verbose=0).shape == (2, 7)


def test_fit_with_validation_returns_the_epoch_of_the_lowest_validation_loss(tiny):
    from fercourse.data import validation_split
    from fercourse.training.fit import fit_with_validation

    train, val = validation_split(tiny)
    model = build_model("mlp", hidden_sizes=(16,), seed=0)
    history, best = fit_with_validation("mlp", model, train, val, epochs=3, batch_size=32)
    assert len(history["val_loss"]) == 3
    assert best == int(np.argmin(history["val_loss"])) + 1 and 1 <= best <= 3
