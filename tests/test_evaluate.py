"""Tests for fercourse.evaluate: metrics agree with scikit-learn, confusion, TTA, comparison tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support

from fercourse.evaluate import comparison_table, confusion, evaluate, predict_proba, tta_views
from fercourse.labels import EMOTIONS

Y_TRUE = np.array([0, 0, 1, 2, 2, 2, 3, 3, 3, 3, 4, 4, 5, 6, 6, 6, 1, 5])
Y_PRED = np.array([0, 2, 1, 2, 4, 2, 3, 3, 6, 3, 4, 0, 5, 6, 4, 6, 0, 5])


def test_evaluate_matches_sklearn_on_hand_made_labels():
    result = evaluate(Y_TRUE, Y_PRED, split="test")
    assert result["split"] == "test"
    assert result["n"] == 18
    assert result["accuracy"] == pytest.approx(accuracy_score(Y_TRUE, Y_PRED))
    assert result["accuracy"] == pytest.approx(12 / 18)
    assert result["macro_f1"] == pytest.approx(f1_score(Y_TRUE, Y_PRED, average="macro"))
    precision, recall, f1, support = precision_recall_fscore_support(Y_TRUE, Y_PRED, labels=range(7))
    table = result["per_class"]
    assert list(table.index) == list(EMOTIONS)
    assert list(table.columns) == ["precision", "recall", "f1", "support"]
    np.testing.assert_allclose(table["precision"], precision)
    np.testing.assert_allclose(table["recall"], recall)
    np.testing.assert_allclose(table["f1"], f1)
    assert table["support"].tolist() == support.tolist() == [2, 2, 3, 4, 2, 2, 3]
    # disgust: one of two found, and the one predicted disgust was right.
    assert table.loc["disgust", "recall"] == 0.5
    assert table.loc["disgust", "precision"] == 1.0


def test_evaluate_macro_f1_with_a_class_missing_matches_sklearn():
    y_true, y_pred = [0, 0, 3, 3, 3], [0, 3, 3, 3, 6]
    result = evaluate(y_true, y_pred, split="val")
    assert result["macro_f1"] == pytest.approx(f1_score(y_true, y_pred, average="macro"))
    assert result["per_class"].loc["fear", "support"] == 0


@pytest.mark.parametrize("y_pred, message", [
    ([0, 1], "y_true has 3 labels but y_pred has 2"),
    ([0, 1, 7], r"y_pred\[2\] is 7: expected a label 0-6"),
    ([0, 1, -1], r"y_pred\[2\] is -1"),
])
def test_evaluate_rejects_bad_labels(y_pred, message):
    with pytest.raises(ValueError, match=message):
        evaluate([0, 1, 2], y_pred, split="test")


def test_evaluate_needs_a_split_name():
    with pytest.raises(TypeError, match="split is None"):
        evaluate([0], [0], split=None)
    with pytest.raises(TypeError, match="expected integer labels"):
        evaluate(["angry"], [0], split="test")


def test_confusion_counts_and_row_normalised_match_sklearn():
    counts = confusion(Y_TRUE, Y_PRED)
    assert isinstance(counts, pd.DataFrame)
    assert list(counts.index) == list(counts.columns) == list(EMOTIONS)
    np.testing.assert_array_equal(counts.to_numpy(), confusion_matrix(Y_TRUE, Y_PRED, labels=range(7)))
    assert counts.loc["fear", "sad"] == 1
    normalised = confusion(Y_TRUE, Y_PRED, normalize=True)
    np.testing.assert_allclose(normalised.to_numpy(),
                               confusion_matrix(Y_TRUE, Y_PRED, labels=range(7), normalize="true"))
    np.testing.assert_allclose(normalised.sum(axis=1), 1.0)
    assert normalised.loc["fear", "fear"] == pytest.approx(2 / 3)


def test_confusion_row_without_images_stays_zero():
    normalised = confusion([3, 3], [3, 0], normalize=True)
    assert normalised.loc["disgust"].tolist() == [0.0] * 7
    assert normalised.loc["happy", "happy"] == 0.5


class _FixedEstimator:
    """A fitted 'estimator' that saw only classes 3 and 6 and scores left-bright images as happy."""

    classes_ = np.array([3, 6])

    def predict_proba(self, X):  # noqa: N803
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

    def predict_proba(self, X):  # noqa: N803
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


def test_comparison_table_mean_and_std_over_seeds():
    rows = [{"model": "cnn", "split": "test", "accuracy": a, "macro_f1": f}
            for a, f in ((0.60, 0.50), (0.64, 0.54), (0.62, 0.52))]
    rows.append({"model": "logistic_regression", "split": "test", "accuracy": 0.35, "macro_f1": 0.25})
    table = comparison_table(rows)
    assert list(table.index) == ["cnn", "logistic_regression"]
    assert table.loc["cnn", "runs"] == 3
    assert table.loc["cnn", "accuracy_mean"] == pytest.approx(0.62)
    assert table.loc["cnn", "accuracy_std"] == pytest.approx(np.std([0.60, 0.64, 0.62]))
    assert table.loc["cnn", "accuracy"] == "0.620 ± 0.016"
    assert table.loc["logistic_regression", "macro_f1"] == "0.250 ± 0.000"
    assert table.attrs["split"] == "test"


def test_comparison_table_refuses_mixed_splits():
    rows = [{"model": "cnn", "split": "test", "accuracy": 0.6, "macro_f1": 0.5},
            {"model": "cnn", "split": "val", "accuracy": 0.7, "macro_f1": 0.6}]
    with pytest.raises(ValueError, match=r"splits \['test', 'val'\]"):
        comparison_table(rows)
    with pytest.raises(ValueError, match=r"results\[0\] lacks macro_f1"):
        comparison_table([{"model": "cnn", "split": "test", "accuracy": 0.6}])
