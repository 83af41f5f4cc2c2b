"""Tests for fercourse.models.predict: probabilities from scikit-learn estimators, test-time augmentation."""

from __future__ import annotations

import numpy as np
import pytest

from fercourse.models.predict import predict_proba, tta_mode, tta_views


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
    proba = predict_proba(_FixedEstimator(), images, "fixed")
    assert proba.shape == (2, 7)
    np.testing.assert_allclose(proba[:, 3], [0.9, 0.1])
    np.testing.assert_allclose(proba[:, [0, 1, 2, 4, 5]], 0.0)
    flipped = predict_proba(_FixedEstimator(), images, "fixed", tta=True)
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
    assert predict_proba(_TopLeftEstimator(), images, "fixed", tta="shift")[0, 3] == pytest.approx(0.74)
    assert predict_proba(_TopLeftEstimator(), images, "fixed", tta="flip")[0, 3] == pytest.approx(0.9)
    with pytest.raises(ValueError, match="tta is 'crop': expected False, True, 'flip' or 'shift'"):
        tta_views(images, "crop")


def test_predict_proba_rejects_wrong_image_shape():
    with pytest.raises(ValueError, match=r"shape \(2, 2304\): expected \(n, 48, 48\)"):
        predict_proba(_FixedEstimator(), np.zeros((2, 2304)), "fixed")


def test_tta_mode_names():
    modes = [tta_mode(value) for value in (None, False, True, "flip", "shift")]
    assert modes == [False, False, "flip", "flip", "shift"]
    with pytest.raises(ValueError, match="tta is 'mirror'"):
        tta_mode("mirror")


def test_predict_proba_accepts_a_channel_axis():
    images = np.zeros((2, 48, 48), dtype=np.uint8)
    images[0, :, :24] = 200
    np.testing.assert_array_equal(predict_proba(_FixedEstimator(), images[..., None], "fixed"),
                                  predict_proba(_FixedEstimator(), images, "fixed"))


def test_predict_padded_matches_plain_predict_and_reuses_batch_shapes():
    from fercourse.models import build_model
    from fercourse.models.predict import predict_padded

    model = build_model("cnn", variant="simple", seed=0)
    faces = np.random.default_rng(0).random((300, 48, 48, 1), dtype=np.float32)
    for n in (1, 3, 300):
        np.testing.assert_allclose(predict_padded(model, faces[:n]), model.predict(faces[:n], verbose=0),
                                   atol=1e-5)
    assert predict_padded(model, faces[:0]).shape == (0, 7)


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
            predict_proba(build_model("cnn", variant="simple", seed=seed), faces, "cnn")
    finally:
        logging.getLogger("tensorflow").removeHandler(handler)
    assert "retracing" not in stream.getvalue()
