"""Tests for fercourse.models.predict: the one prediction path, input shaping, test-time augmentation."""

from __future__ import annotations

import numpy as np
import pytest

from fercourse.models.predict import input_layout, model_input, predict_proba, tta_views


class _FixedEstimator:
    """A fitted 'estimator' that saw only classes 3 and 6 and scores left-bright images as happy."""

    classes_ = np.array([3, 6])

    def predict_proba(self, X):
        images = X.reshape(-1, 48, 48)
        left = images[:, :, :24].mean(axis=(1, 2))
        right = images[:, :, 24:].mean(axis=(1, 2))
        happy = (left > right).astype(float) * 0.8 + 0.1
        return np.c_[happy, 1 - happy]


def test_predict_proba_for_sklearn_fills_unseen_classes_and_averages_flips():
    images = np.zeros((2, 48, 48), dtype=np.uint8)
    images[0, :, :24] = 200  # bright on the left
    images[1, :, 24:] = 200  # bright on the right
    proba = predict_proba(_FixedEstimator(), images)
    assert proba.shape == (2, 7)
    np.testing.assert_allclose(proba[:, 3], [0.9, 0.1])
    np.testing.assert_allclose(proba[:, [0, 1, 2, 4, 5]], 0.0)
    flipped = predict_proba(_FixedEstimator(), images, tta="flip")
    np.testing.assert_allclose(flipped[:, 3], [0.5, 0.5])  # the mirror image votes the other way
    np.testing.assert_allclose(flipped.sum(axis=1), 1.0)


class _TopLeftEstimator(_FixedEstimator):
    """Scores an image as happy when its top-left pixel is bright."""

    def predict_proba(self, X):
        happy = (X.reshape(-1, 48, 48)[:, 0, 0] > 0.5).astype(float) * 0.8 + 0.1
        return np.c_[happy, 1 - happy]


def test_shift_tta_averages_ten_views_with_edges_repeated():
    images = np.zeros((1, 48, 48), dtype=np.uint8)
    images[0, :2, :] = 200  # the top two rows bright
    views = tta_views(images, "shift")
    assert len(views) == 10 and all(view.shape == (1, 48, 48) for view in views)
    # Only the view shifted up by two pixels loses the bright top rows, once per mirror image: 8 of 10 views
    # see a bright top-left pixel (the edge row repeats into the view shifted down).
    assert [int(view[0, 0, 0]) for view in views] == [200, 200, 200, 0, 200, 200, 200, 0, 200, 200]
    assert predict_proba(_TopLeftEstimator(), images, tta="shift")[0, 3] == pytest.approx(0.74)
    assert predict_proba(_TopLeftEstimator(), images, tta="flip")[0, 3] == pytest.approx(0.9)
    with pytest.raises(ValueError, match="tta is 'crop': expected None, 'flip' or 'shift'"):
        tta_views(images, "crop")


def test_predict_proba_rejects_wrong_image_shape():
    with pytest.raises(ValueError, match=r"shape \(2, 2304\): expected \(n, 48, 48\)"):
        predict_proba(_FixedEstimator(), np.zeros((2, 2304)))


def test_tta_takes_only_the_three_names():
    """Records' old True/False are mapped where records are read; the prediction path refuses them."""
    images = np.zeros((1, 48, 48), dtype=np.uint8)
    for stale in (True, False, "mirror"):
        with pytest.raises(ValueError, match=f"tta is {stale!r}: expected None, 'flip' or 'shift'"):
            predict_proba(_FixedEstimator(), images, tta=stale)


def test_predict_proba_accepts_a_channel_axis():
    images = np.zeros((2, 48, 48), dtype=np.uint8)
    images[0, :, :24] = 200
    np.testing.assert_array_equal(predict_proba(_FixedEstimator(), images[..., None]),
                                  predict_proba(_FixedEstimator(), images))


def test_keras_predictions_read_the_layout_from_the_model_and_match_plain_predict():
    """Every split size (padded to a few batch shapes) gives what model.predict gives, for each layout."""
    from fercourse.models import build_model

    faces = np.random.default_rng(0).integers(0, 256, (300, 48, 48), dtype=np.uint8)
    for name in ("mlp", "lstm", "cnn"):
        model = build_model(name, seed=0, **({"hidden_sizes": (16,)} if name == "mlp" else {}))
        assert input_layout(model) == {"mlp": "flat", "lstm": "sequence", "cnn": "image"}[name]
        for n in (1, 3, 300):
            expected = model.predict(model_input(name, faces[:n]), verbose=0)
            np.testing.assert_allclose(predict_proba(model, faces[:n]), expected, atol=1e-5)
    assert predict_proba(model, faces[:0]).shape == (0, 7)


def test_model_input_shapes_for_a_name_or_a_model_and_refuses_what_is_not_a_face():
    from sklearn.dummy import DummyClassifier

    from fercourse.models import build_model

    images = np.full((3, 48, 48), 255, dtype=np.uint8)
    names = ("mlp", "lstm", "gru_attention", "cnn", "knn_pca")
    assert [model_input(name, images).shape for name in names] == \
        [(3, 2304), (3, 48, 48), (3, 48, 48), (3, 48, 48, 1), (3, 2304)]
    assert model_input("cnn", images).dtype == np.float32 and model_input("cnn", images).max() == 1.0
    assert model_input(build_model("cnn", width=4), images).shape == (3, 48, 48, 1)
    assert model_input(DummyClassifier(), images).shape == (3, 2304)
    with pytest.raises(ValueError, match="model name 'vgg' is unknown"):
        model_input("vgg", images)
    with pytest.raises(ValueError, match=r"shape \(3, 2304\): expected \(n, 48, 48\)"):
        model_input("mlp", images.reshape(3, -1))
    with pytest.raises(TypeError, match="model is a object: expected a Keras model"):
        model_input(object(), images)


def test_a_keras_model_that_is_not_a_face_classifier_is_refused_by_name():
    import keras

    inputs = keras.Input((32, 32, 3))
    wrong_input = keras.Model(inputs, keras.layers.Dense(7)(keras.layers.Flatten()(inputs)), name="rgb32")
    with pytest.raises(ValueError, match="model 'rgb32' takes input .*one 48x48 gray face"):
        predict_proba(wrong_input, np.zeros((1, 48, 48), dtype=np.uint8))
    faces = keras.Input((48, 48, 1))
    three = keras.Model(faces, keras.layers.Dense(3)(keras.layers.Flatten()(faces)), name="three")
    with pytest.raises(ValueError, match=r"model 'three' outputs \(None, 3\): expected \(None, 7\)"):
        predict_proba(three, np.zeros((1, 48, 48), dtype=np.uint8))


def test_logits_get_a_softmax_and_probabilities_pass_through():
    import keras

    faces = keras.Input((48, 48, 1))
    logits = keras.Model(faces, keras.layers.Dense(7)(keras.layers.Flatten()(faces)))
    images = np.random.default_rng(1).integers(0, 256, (4, 48, 48), dtype=np.uint8)
    raw = logits.predict(model_input(logits, images), verbose=0)
    expected = np.exp(raw - raw.max(axis=1, keepdims=True))
    np.testing.assert_allclose(predict_proba(logits, images), expected / expected.sum(axis=1, keepdims=True),
                               rtol=1e-5)


def test_bfloat16_softmax_rows_keep_their_confidence():
    """A model computing in bfloat16 (a recipe checkpoint) returns softmax rows that sum to 1 only to
    about 1e-2; they are renormalised, not flattened by a second softmax (the same argmax, but a 0.9
    confidence read as 0.25, which broke averaging such a model with another)."""
    import keras

    faces = keras.Input((48, 48, 1))
    hidden = keras.layers.Dense(7, dtype="mixed_bfloat16")(keras.layers.Flatten()(faces))
    sharp = keras.layers.Activation("softmax", dtype="mixed_bfloat16")(hidden * 40.0)
    model = keras.Model(faces, sharp)
    images = np.random.default_rng(2).integers(0, 256, (64, 48, 48), dtype=np.uint8)
    raw = np.asarray(model.predict(model_input(model, images), verbose=0), dtype=np.float64)
    assert not np.allclose(raw.sum(axis=1), 1.0, atol=1e-4)  # bfloat16 rounding is really there
    probabilities = predict_proba(model, images)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-9)
    np.testing.assert_allclose(probabilities, raw / raw.sum(axis=1, keepdims=True), rtol=1e-6)
    assert probabilities.max(axis=1).mean() > 0.5


def test_new_models_in_a_row_print_no_retracing_warning():
    """A lesson that compares models (lesson 6) predicts with a new model each time: no TensorFlow noise."""
    import io
    import logging

    from fercourse.models import build_model

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logging.getLogger("tensorflow").addHandler(handler)
    try:
        faces = np.random.default_rng(0).integers(0, 255, (200, 48, 48), dtype=np.uint8)
        for seed in range(6):
            predict_proba(build_model("cnn", variant="simple", seed=seed), faces)
    finally:
        logging.getLogger("tensorflow").removeHandler(handler)
    assert "retracing" not in stream.getvalue()
