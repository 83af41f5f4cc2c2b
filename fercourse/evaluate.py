"""Metrics: accuracy, macro-F1, per-class precision/recall/F1, confusion matrices, comparison tables.

This is the one place the course computes them: lessons, ``fercourse compare``/``evaluate``,
the per-class plot and the submission grader all call :func:`evaluate`. Every result says which
split it was measured on (``split``), so a validation score is never reported as a test score by
accident. Labels are canonical integers 0-6 (``fercourse.labels``). Model predictions (with
test-time augmentation) come from :func:`fercourse.models.predict_proba`; a saved model is scored
on a split by :func:`fercourse.models.scoring.evaluate_saved`.

Examples
--------
>>> result = evaluate([0, 1, 3, 3], [0, 1, 3, 6], split="val")
>>> result["split"], result["accuracy"]
('val', 0.75)
"""

from __future__ import annotations

from typing import TypedDict

import numpy as np
import pandas as pd

from fercourse.errors import InputError, InputTypeError
from fercourse.labels import EMOTIONS, NUM_CLASSES


def _labels(values, field: str) -> np.ndarray:
    array = np.asarray(values)
    if array.ndim != 1:
        raise InputError(f"{field} has shape {array.shape}: "
                         f"expected a 1-D array of labels 0-{NUM_CLASSES - 1}")
    if array.size and not np.issubdtype(array.dtype, np.integer):
        if not np.issubdtype(array.dtype, np.floating) or not np.all(array == np.round(array)):
            raise InputTypeError(f"{field} has dtype {array.dtype}: expected integer labels "
                                 f"0-{NUM_CLASSES - 1}")
        array = array.astype(np.int64)
    bad = (array < 0) | (array >= NUM_CLASSES)
    if bad.any():
        position = int(np.argmax(bad))
        raise InputError(f"{field}[{position}] is {array[position]}: expected a label 0-{NUM_CLASSES - 1}")
    return array.astype(np.int64)


def _pair(y_true, y_pred) -> tuple[np.ndarray, np.ndarray]:
    y_true, y_pred = _labels(y_true, "y_true"), _labels(y_pred, "y_pred")
    if len(y_true) != len(y_pred):
        raise InputError(f"y_true has {len(y_true)} labels but y_pred has {len(y_pred)}: "
                         "expected the same length")
    if len(y_true) == 0:
        raise InputError("y_true is empty: expected at least one label")
    return y_true, y_pred


def _counts(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """The 7x7 confusion counts (int64): rows true labels, columns predicted ones."""
    counts = np.zeros((NUM_CLASSES, NUM_CLASSES), dtype=np.int64)
    np.add.at(counts, (y_true, y_pred), 1)
    return counts


def _confusion_frame(values: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(values, index=pd.Index(EMOTIONS, name="true"),
                        columns=pd.Index(EMOTIONS, name="predicted"))


class Evaluation(TypedDict):
    """What :func:`evaluate` returns: a plain dict with these keys.

    Attributes
    ----------
    split : str
        The split the labels came from.
    n : int
        How many labels were scored.
    accuracy, macro_f1 : float
        Fraction right; mean F1 over the classes present in ``y_true`` or ``y_pred``.
    per_class : pandas.DataFrame
        Indexed by :data:`~fercourse.labels.EMOTIONS`, columns ``precision``, ``recall``, ``f1``
        (floats; 0 where undefined) and ``support`` (int: true labels of the class).
    confusion : pandas.DataFrame
        7x7 int counts, rows true emotions (``true``), columns predicted ones (``predicted``).
    """

    split: str
    n: int
    accuracy: float
    macro_f1: float
    per_class: pd.DataFrame
    confusion: pd.DataFrame


def evaluate(y_true, y_pred, *, split: str) -> Evaluation:
    """Accuracy, macro-F1, per-class precision/recall/F1/support and the confusion matrix.

    Parameters
    ----------
    y_true, y_pred : array-like of int
        Canonical labels 0-6, same length.
    split : str
        Which split the labels come from (``"test"``, ``"val"``, ...); stored in the result.

    Returns
    -------
    Evaluation
        ``split``, ``n``, ``accuracy``, ``macro_f1``, ``per_class`` (a DataFrame indexed by
        emotion: ``precision``, ``recall``, ``f1``, ``support``) and ``confusion`` (7x7 counts), as
        a dict (``result["accuracy"]``). A class never predicted has
        precision 0; a class absent from ``y_true`` has recall 0. The macro average runs over the
        classes that occur in ``y_true`` or ``y_pred``, as ``sklearn.metrics.f1_score(...,
        average="macro")`` does; on a real test split that is all seven.

    Examples
    --------
    >>> result = evaluate([1, 1, 0, 3], [1, 0, 0, 3], split="test")
    >>> result["per_class"].loc["disgust", ["precision", "recall", "support"]].tolist()
    [1.0, 0.5, 2.0]
    >>> int(result["confusion"].loc["disgust", "angry"]), round(result["macro_f1"], 4)
    (1, 0.7778)
    """
    if not isinstance(split, str) or not split:
        raise InputTypeError(f"split is {split!r}: expected the split's name, e.g. 'test' or 'val'")
    y_true, y_pred = _pair(y_true, y_pred)
    counts = _counts(y_true, y_pred)
    hits, support, predicted = np.diag(counts), counts.sum(axis=1), counts.sum(axis=0)
    precision = np.divide(hits, predicted, out=np.zeros(NUM_CLASSES), where=predicted > 0)
    recall = np.divide(hits, support, out=np.zeros(NUM_CLASSES), where=support > 0)
    # F1 = 2 tp / (true + predicted): the same value as 2PR / (P + R), without a 0/0 for unseen classes.
    present = (support + predicted) > 0
    f1 = np.divide(2 * hits, support + predicted, out=np.zeros(NUM_CLASSES), where=present)
    per_class = pd.DataFrame({"precision": precision, "recall": recall, "f1": f1, "support": support},
                             index=pd.Index(EMOTIONS, name="emotion"))
    return Evaluation(split=split, n=int(len(y_true)), accuracy=float(hits.sum() / len(y_true)),
                      macro_f1=float(f1[present].mean()), per_class=per_class,
                      confusion=_confusion_frame(counts))


def confusion(y_true, y_pred, normalize: bool = False) -> pd.DataFrame:
    """The 7x7 confusion matrix: rows are true emotions, columns predicted ones.

    Parameters
    ----------
    normalize : bool
        False: counts (int). True: each row divided by its total, so the diagonal is per-class
        recall (a row with no images stays all zero).

    Examples
    --------
    >>> matrix = confusion([3, 3, 1], [3, 6, 1], normalize=True)
    >>> matrix.loc["happy", ["happy", "neutral"]].tolist()
    [0.5, 0.5]
    """
    counts = _counts(*_pair(y_true, y_pred))
    if not normalize:
        return _confusion_frame(counts)
    totals = counts.sum(axis=1, keepdims=True)
    return _confusion_frame(np.divide(counts, totals, out=np.zeros(counts.shape), where=totals > 0))


def comparison_table(results: list[dict],
                     metrics: tuple[str, ...] = ("accuracy", "macro_f1")) -> pd.DataFrame:
    """One row per model: the mean and standard deviation of each metric over runs (seeds).

    Parameters
    ----------
    results : list of dict
        Each has ``model``, the metrics and ``split`` (e.g. rows of ``fercourse compare --json``,
        one per model and seed). All rows must come from the same split.

    Returns
    -------
    pandas.DataFrame
        Indexed by model (first-seen order), columns ``runs``, ``<metric>_mean``, ``<metric>_std``
        (population std; 0 for a single run) and ``<metric>`` formatted as ``"mean ± std"``;
        ``.attrs["split"]`` names the split.

    Examples
    --------
    >>> rows = [{"model": "cnn", "split": "test", "accuracy": a} for a in (0.5, 0.6)]
    >>> comparison_table(rows, metrics=("accuracy",))["accuracy"].tolist()
    ['0.550 ± 0.050']
    """
    if not results:
        raise InputError("results is empty: expected one dict per model and run")
    splits = {row.get("split") for row in results}
    if len(splits) != 1 or None in splits:
        raise InputError(f"results come from splits {sorted(map(str, splits))}: expected one named split")
    for position, row in enumerate(results):
        missing = [key for key in ("model", *metrics) if key not in row]
        if missing:
            raise InputError(f"results[{position}] lacks {', '.join(missing)}: "
                             f"expected model and {', '.join(metrics)}")
    frame = pd.DataFrame([{key: row[key] for key in ("model", *metrics)} for row in results])
    grouped = frame.groupby("model", sort=False)
    table = pd.DataFrame({"runs": grouped.size()})
    for metric in metrics:
        table[f"{metric}_mean"] = grouped[metric].mean()
        table[f"{metric}_std"] = grouped[metric].std(ddof=0)
        means, stds = table[f"{metric}_mean"], table[f"{metric}_std"]
        table[metric] = [f"{m:.3f} ± {s:.3f}" for m, s in zip(means, stds)]
    table.attrs["split"] = splits.pop()
    return table


__all__ = ["Evaluation", "comparison_table", "confusion", "evaluate"]
