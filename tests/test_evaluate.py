"""Tests for fercourse.evaluate: metrics agree with scikit-learn, one result shape, confusion, comparisons."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support

from fercourse.evaluate import Evaluation, comparison_table, confusion, evaluate
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


def test_evaluation_is_a_plain_dict_with_the_documented_keys():
    result = evaluate(Y_TRUE, Y_PRED, split="test")
    assert type(result) is dict
    assert list(result) == list(Evaluation.__annotations__) == ["split", "n", "accuracy", "macro_f1",
                                                                 "per_class", "confusion"]
    assert result["accuracy"] == 12 / 18 and result["n"] == 18 and result["split"] == "test"


def test_evaluation_carries_the_confusion_counts():
    result = evaluate(Y_TRUE, Y_PRED, split="test")
    assert result["confusion"].equals(confusion(Y_TRUE, Y_PRED))
    assert result["confusion"].loc["fear", "sad"] == 1 and int(result["confusion"].to_numpy().sum()) == 18
    # The per-class table is the confusion matrix read along its rows and columns.
    np.testing.assert_array_equal(result["per_class"]["support"], result["confusion"].sum(axis=1))


def test_evaluate_module_stays_light_and_predictions_have_one_home():
    """A student kernel scoring a submission imports fercourse.evaluate: it must not load the models."""
    import subprocess
    import sys

    code = ("import sys, fercourse.evaluate; print('fercourse.models' in sys.modules, "
            "hasattr(fercourse.evaluate, 'predict_proba'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


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
