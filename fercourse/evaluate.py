"""Metrics, confusion matrices, predictions with test-time augmentation, and comparison tables.

Every result says which split it was measured on (``split``), so a validation score is never
reported as a test score by accident. Labels are canonical integers 0-6 (``fercourse.labels``).

Examples
--------
>>> result = evaluate([0, 1, 3, 3], [0, 1, 3, 6], split="val")
>>> result["split"], result["accuracy"]
('val', 0.75)
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from fercourse.labels import EMOTIONS, NUM_CLASSES


def _labels(values, field: str) -> np.ndarray:
    array = np.asarray(values)
    if array.ndim != 1:
        raise ValueError(f"{field} has shape {array.shape}: expected a 1-D array of labels 0-{NUM_CLASSES - 1}")
    if array.size and not np.issubdtype(array.dtype, np.integer):
        if not np.issubdtype(array.dtype, np.floating) or not np.all(array == np.round(array)):
            raise TypeError(f"{field} has dtype {array.dtype}: expected integer labels 0-{NUM_CLASSES - 1}")
        array = array.astype(np.int64)
    bad = (array < 0) | (array >= NUM_CLASSES)
    if bad.any():
        position = int(np.argmax(bad))
        raise ValueError(f"{field}[{position}] is {array[position]}: expected a label 0-{NUM_CLASSES - 1}")
    return array.astype(np.int64)


def _pair(y_true, y_pred) -> tuple[np.ndarray, np.ndarray]:
    y_true, y_pred = _labels(y_true, "y_true"), _labels(y_pred, "y_pred")
    if len(y_true) != len(y_pred):
        raise ValueError(f"y_true has {len(y_true)} labels but y_pred has {len(y_pred)}: expected the same length")
    if len(y_true) == 0:
        raise ValueError("y_true is empty: expected at least one label")
    return y_true, y_pred


def evaluate(y_true, y_pred, *, split: str) -> dict:
    """Accuracy, macro-F1 and per-class precision/recall/F1 of predicted labels.

    Parameters
    ----------
    y_true, y_pred : array-like of int
        Canonical labels 0-6, same length.
    split : str
        Which split the labels come from (``"test"``, ``"val"``, ...); stored in the result.

    Returns
    -------
    dict
        ``split``, ``n``, ``accuracy``, ``macro_f1`` (floats) and ``per_class``: a DataFrame indexed
        by :data:`~fercourse.labels.EMOTIONS` with columns ``precision``, ``recall``, ``f1``,
        ``support``. A class never predicted has precision 0. The macro average runs over the
        classes that occur in ``y_true`` or ``y_pred``, as ``sklearn.metrics.f1_score(...,
        average="macro")`` does; on a real test split that is all seven.

    Examples
    --------
    >>> result = evaluate([1, 1, 0, 3], [1, 0, 0, 3], split="test")
    >>> result["per_class"].loc["disgust", ["precision", "recall", "support"]].tolist()
    [1.0, 0.5, 2.0]
    """
    from sklearn.metrics import accuracy_score, precision_recall_fscore_support

    if not isinstance(split, str) or not split:
        raise TypeError(f"split is {split!r}: expected the split's name, e.g. 'test' or 'val'")
    y_true, y_pred = _pair(y_true, y_pred)
    labels = list(range(NUM_CLASSES))
    precision, recall, f1, support = precision_recall_fscore_support(y_true, y_pred, labels=labels,
                                                                     zero_division=0)
    per_class = pd.DataFrame({"precision": precision, "recall": recall, "f1": f1, "support": support},
                             index=pd.Index(EMOTIONS, name="emotion"))
    present = support > 0
    macro_f1 = float(np.mean(f1[present | (np.bincount(y_pred, minlength=NUM_CLASSES) > 0)]))
    return {"split": split, "n": int(len(y_true)), "accuracy": float(accuracy_score(y_true, y_pred)),
            "macro_f1": macro_f1, "per_class": per_class}


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
    y_true, y_pred = _pair(y_true, y_pred)
    counts = np.zeros((NUM_CLASSES, NUM_CLASSES), dtype=np.int64)
    np.add.at(counts, (y_true, y_pred), 1)
    values = counts
    if normalize:
        totals = counts.sum(axis=1, keepdims=True)
        values = np.divide(counts, totals, out=np.zeros(counts.shape), where=totals > 0)
    index = pd.Index(EMOTIONS, name="true")
    return pd.DataFrame(values, index=index, columns=pd.Index(EMOTIONS, name="predicted"))


TTA_MODES = ("flip", "shift")
TTA_SHIFT_PIXELS = 2


def tta_mode(tta: bool | str | None) -> bool | str:
    """The name of a test-time augmentation setting: False, ``"flip"`` or ``"shift"``.

    ``True`` (what records and callers before ``"shift"`` existed say) means ``"flip"``; any
    false value means False; another name is a ValueError.

    Examples
    --------
    >>> [tta_mode(value) for value in (None, False, True, "flip", "shift")]
    [False, False, 'flip', 'flip', 'shift']
    """
    mode = "flip" if tta is True else (tta or False)
    if mode is not False and mode not in TTA_MODES:
        raise ValueError(f"tta is {tta!r}: expected False, True, 'flip' or 'shift'")
    return mode


def tta_views(images: np.ndarray, tta: bool | str) -> list[np.ndarray]:
    """The copies of (n, 48, 48) faces that test-time augmentation ``tta`` averages over.

    ``False``: the faces alone. ``True`` or ``"flip"``: the faces and their mirror images.
    ``"shift"``: each of those two, also moved by :data:`TTA_SHIFT_PIXELS` pixels up, down, left
    and right (edges repeated, as the training augmentation fills them): ten views.

    Examples
    --------
    >>> faces = np.arange(2 * 48 * 48, dtype=np.uint8).reshape(2, 48, 48)
    >>> [len(tta_views(faces, mode)) for mode in (False, "flip", "shift")]
    [1, 2, 10]
    >>> bool((tta_views(faces, "flip")[1][:, :, 0] == faces[:, :, 47]).all())
    True
    """
    mode = tta_mode(tta)
    views = [images] if mode is False else [images, images[:, :, ::-1]]
    if mode == "shift":
        k = TTA_SHIFT_PIXELS
        for view in list(views):
            padded = np.pad(view, ((0, 0), (k, k), (k, k)), mode="edge")
            for dy, dx in ((-k, 0), (k, 0), (0, -k), (0, k)):
                views.append(padded[:, k + dy:k + dy + 48, k + dx:k + dx + 48])
    return views


def predict_proba(model, images_uint8: np.ndarray, name: str, tta: bool | str = False) -> np.ndarray:
    """Class probabilities (n, 7) for images, from a Keras model or a scikit-learn estimator.

    Parameters
    ----------
    model : keras.Model or scikit-learn estimator
        A Keras model from :func:`fercourse.models.build_model`, or a fitted baseline that takes
        flat pixels.
    images_uint8 : np.ndarray
        (n, 48, 48) uint8 faces.
    name : str
        The model's name: a Keras name (``"mlp"``, ``"lstm"``, ``"gru_attention"``, ``"cnn"``) picks
        the input shape; any other name (a baseline) means flat pixels.
    tta : bool or str
        Test-time augmentation: average the probabilities over the views of :func:`tta_views`:
        ``True``/``"flip"`` the images and their mirror images, ``"shift"`` those two each also
        shifted two pixels four ways (ten views, ten times the prediction time).

    Returns
    -------
    np.ndarray
        float (n, 7); columns in canonical order even when the estimator never saw a class.
        Estimators without ``predict_proba`` (e.g. a plain SVM) get a softmax of their decision
        function.
    """
    from fercourse.data import as_flat
    from fercourse.models.keras_models import KERAS_MODELS, model_input

    images = np.asarray(images_uint8)
    if images.ndim != 3 or images.shape[1:] != (48, 48):
        raise ValueError(f"images have shape {images.shape}: expected (n, 48, 48) uint8 faces")

    def one_pass(batch):
        if name in KERAS_MODELS:
            return np.asarray(model.predict(model_input(name, batch), verbose=0, batch_size=256), dtype=np.float64)
        flat = as_flat(batch)
        if hasattr(model, "predict_proba"):
            raw = np.asarray(model.predict_proba(flat), dtype=np.float64)
        else:
            scores = np.asarray(model.decision_function(flat), dtype=np.float64)
            scores = np.exp(scores - scores.max(axis=1, keepdims=True))
            raw = scores / scores.sum(axis=1, keepdims=True)
        full = np.zeros((len(batch), NUM_CLASSES))
        full[:, np.asarray(model.classes_, dtype=np.int64)] = raw
        return full

    views = tta_views(images, tta)
    return sum(one_pass(view) for view in views) / len(views)


def comparison_table(results: list[dict], metrics: tuple[str, ...] = ("accuracy", "macro_f1")) -> pd.DataFrame:
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
        raise ValueError("results is empty: expected one dict per model and run")
    splits = {row.get("split") for row in results}
    if len(splits) != 1 or None in splits:
        raise ValueError(f"results come from splits {sorted(map(str, splits))}: expected one named split")
    for position, row in enumerate(results):
        missing = [key for key in ("model", *metrics) if key not in row]
        if missing:
            raise ValueError(f"results[{position}] lacks {', '.join(missing)}: expected model and {', '.join(metrics)}")
    frame = pd.DataFrame([{key: row[key] for key in ("model", *metrics)} for row in results])
    grouped = frame.groupby("model", sort=False)
    table = pd.DataFrame({"runs": grouped.size()})
    for metric in metrics:
        table[f"{metric}_mean"] = grouped[metric].mean()
        table[f"{metric}_std"] = grouped[metric].std(ddof=0)
        table[metric] = [f"{m:.3f} ± {s:.3f}" for m, s in zip(table[f"{metric}_mean"], table[f"{metric}_std"])]
    table.attrs["split"] = splits.pop()
    return table
