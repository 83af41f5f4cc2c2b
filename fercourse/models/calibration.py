"""Calibrated probabilities: how far a model's confidence is from its accuracy, and how to fix it.

A classifier is *calibrated* when, of the faces it gives confidence 0.8, about 80 % are right.
This module measures that and repairs it, all from ``(n, 7)`` probabilities and labels, so it works
for any model :func:`fercourse.models.predict_proba` can run:

- :func:`reliability_table`: faces binned by confidence (the top probability), with each bin's mean
  confidence and accuracy: the data of a reliability diagram
  (:func:`fercourse.plotting.plot_reliability`).
- :func:`expected_calibration_error`: the count-weighted gap between those two, one number.
- :class:`TemperatureScaling`: one number ``T`` fitted on validation faces; the probabilities
  become ``softmax(log p / T)``. ``T > 1`` softens an over-confident model, ``T < 1`` sharpens an
  under-confident one; the top emotion never changes, so accuracy does not either.
- :func:`coverage_accuracy` and :func:`choose_threshold`: how accurate the model is on the faces it
  is most sure of, and the confidence below which the demo answers "uncertain".

Examples
--------
>>> probabilities = np.array([[0.9, 0.1], [0.9, 0.1], [0.6, 0.4], [0.6, 0.4]])
>>> y = np.array([0, 1, 0, 0])
>>> round(expected_calibration_error(probabilities, y, num_bins=10), 3)
0.4
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fercourse.errors import InputError

#: Equal-width confidence bins of the reliability diagram and the ECE.
NUM_BINS = 15
#: The demo's rule: answer only where validation faces this sure were right this often.
TARGET_ACCURACY = 0.75
#: Fewest validation faces a threshold may keep (fewer: the kept accuracy is mostly luck).
MIN_KEPT = 30
_LOG_FLOOR = 1e-12  # a float32 softmax can round a probability to 0; its log must stay finite


def _checked(probabilities, y) -> tuple[np.ndarray, np.ndarray]:
    probabilities = np.asarray(probabilities, dtype=np.float64)
    if probabilities.ndim != 2 or probabilities.shape[1] < 2:
        raise InputError(f"probabilities have shape {probabilities.shape}: expected (n, classes), one row "
                         "per face")
    if not np.isfinite(probabilities).all() or (probabilities < 0).any() or \
            not np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-3):
        raise InputError("probabilities: expected non-negative rows that sum to 1 (a softmax output)")
    if y is None:
        return probabilities, None
    y = np.asarray(y)
    if y.shape != (len(probabilities),):
        raise InputError(f"labels have shape {y.shape}: expected ({len(probabilities)},), one per row of "
                         "probabilities")
    if not np.issubdtype(y.dtype, np.integer) or (y < 0).any() or (y >= probabilities.shape[1]).any():
        raise InputError(f"labels: expected integers 0..{probabilities.shape[1] - 1}")
    return probabilities, y.astype(np.int64)


def reliability_table(probabilities, y, *, num_bins: int = NUM_BINS):
    """Faces binned by their confidence: count, mean confidence and accuracy per bin.

    Parameters
    ----------
    probabilities : array-like
        (n, classes) probabilities, rows summing to 1.
    y : array-like
        (n,) true labels.
    num_bins : int
        Equal-width bins over [0, 1]; bin ``b`` holds confidences in ``(b/B, (b+1)/B]``.

    Returns
    -------
    pandas.DataFrame
        One row per bin: ``lower``, ``upper``, ``count``, ``confidence`` (mean top probability)
        and ``accuracy`` (share whose top emotion is the label); NaN for an empty bin.

    Examples
    --------
    >>> table = reliability_table([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7]], [0, 1, 1], num_bins=2)
    >>> table[["count", "accuracy"]].to_numpy().tolist()
    [[0.0, nan], [3.0, 0.6666666666666666]]
    """
    import pandas as pd

    probabilities, y = _checked(probabilities, y)
    if not isinstance(num_bins, int) or num_bins < 1:
        raise InputError(f"num_bins is {num_bins!r}: expected a whole number >= 1")
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == y
    edges = np.linspace(0.0, 1.0, num_bins + 1)
    index = np.clip(np.ceil(confidence * num_bins).astype(int) - 1, 0, num_bins - 1)
    count = np.bincount(index, minlength=num_bins).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_confidence = np.bincount(index, weights=confidence, minlength=num_bins) / count
        accuracy = np.bincount(index, weights=correct.astype(float), minlength=num_bins) / count
    return pd.DataFrame({"lower": edges[:-1], "upper": edges[1:], "count": count,
                         "confidence": mean_confidence, "accuracy": accuracy})


def expected_calibration_error(probabilities, y, *, num_bins: int = NUM_BINS) -> float:
    """The expected calibration error: ``sum_b (n_b / n) |accuracy_b - confidence_b|``.

    0 for a perfectly calibrated model; at most 1. Computed from :func:`reliability_table`
    (equal-width bins of the top probability).

    Examples
    --------
    >>> expected_calibration_error([[1.0, 0.0], [0.0, 1.0]], [0, 1])
    0.0
    """
    table = reliability_table(probabilities, y, num_bins=num_bins)
    filled = table[table["count"] > 0]
    gaps = (filled["accuracy"] - filled["confidence"]).abs()
    return float((filled["count"] * gaps).sum() / filled["count"].sum())


def negative_log_likelihood(probabilities, y) -> float:
    """Mean ``-log p(true label)``: the loss temperature scaling minimises."""
    probabilities, y = _checked(probabilities, y)
    return float(-np.log(np.maximum(probabilities[np.arange(len(y)), y], _LOG_FLOOR)).mean())


def apply_temperature(probabilities, temperature: float) -> np.ndarray:
    """``softmax(log p / T)``: the same as dividing the model's logits by ``T`` before its softmax.

    Examples
    --------
    >>> apply_temperature([[0.8, 0.2]], 1.0).round(3).tolist()
    [[0.8, 0.2]]
    >>> apply_temperature([[0.8, 0.2]], 2.0).round(3).tolist()
    [[0.667, 0.333]]
    """
    probabilities, _ = _checked(probabilities, None)
    if not np.isfinite(temperature) or temperature <= 0:
        raise InputError(f"temperature is {temperature!r}: expected a number > 0")
    scaled = np.log(np.maximum(probabilities, _LOG_FLOOR)) / float(temperature)
    scaled = np.exp(scaled - scaled.max(axis=1, keepdims=True))
    return scaled / scaled.sum(axis=1, keepdims=True)


class TemperatureScaling:
    """Temperature scaling (Guo et al., 2017): one number ``T`` fitted on validation faces.

    Parameters
    ----------
    bounds : tuple of float
        The range searched for ``T``.

    Attributes
    ----------
    temperature_ : float
        The ``T`` that minimises the validation negative log-likelihood of ``softmax(log p / T)``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 3, 2000)
    >>> scores = 3.0 * (3.0 * np.eye(3)[y] + rng.normal(size=(2000, 3)))  # softmax(scores): true posterior
    >>> sharp = apply_temperature(np.exp(scores) / np.exp(scores).sum(1, keepdims=True), 0.5)
    >>> round(TemperatureScaling().fit(sharp, y).temperature_, 1)   # undoes the sharpening (T = 2)
    2.1
    """

    def __init__(self, *, bounds: tuple[float, float] = (0.05, 20.0)) -> None:
        self.bounds = bounds

    def fit(self, probabilities, y) -> TemperatureScaling:
        """Find ``temperature_`` on these (validation) probabilities and labels; returns ``self``."""
        from scipy.optimize import minimize_scalar

        probabilities, y = _checked(probabilities, y)
        low, high = self.bounds
        if not 0 < low < 1 < high:
            raise InputError(f"bounds are {self.bounds!r}: expected (low, high) with 0 < low < 1 < high")
        log_p = np.log(np.maximum(probabilities, _LOG_FLOOR))

        def loss(log_temperature: float) -> float:
            scaled = log_p / np.exp(log_temperature)
            top = scaled.max(axis=1)
            log_normaliser = top + np.log(np.exp(scaled - top[:, None]).sum(axis=1))
            return float((log_normaliser - scaled[np.arange(len(y)), y]).mean())

        found = minimize_scalar(loss, bounds=(np.log(low), np.log(high)), method="bounded",
                                options={"xatol": 1e-4})
        self.temperature_ = float(np.exp(found.x))
        return self

    def transform(self, probabilities) -> np.ndarray:
        """The calibrated probabilities, :func:`apply_temperature` with ``temperature_``."""
        if not hasattr(self, "temperature_"):
            raise InputError("TemperatureScaling is not fitted yet: call fit(validation probabilities, "
                             "labels) first")
        return apply_temperature(probabilities, self.temperature_)


def coverage_accuracy(probabilities, y):
    """Accuracy on the faces the model is most sure of, for every share of faces kept.

    Faces are sorted by confidence, most sure first; keeping those with confidence at least
    ``threshold`` keeps a share ``coverage`` of them, right a share ``accuracy`` of the time.

    Returns
    -------
    pandas.DataFrame
        One row per distinct confidence, most sure first: ``threshold``, ``kept``, ``coverage``,
        ``accuracy``. The last row keeps every face (coverage 1, the plain accuracy).

    Examples
    --------
    >>> curve = coverage_accuracy([[0.9, 0.1], [0.7, 0.3], [0.4, 0.6], [0.55, 0.45]], [0, 1, 1, 1])
    >>> curve[["coverage", "accuracy"]].to_numpy().tolist()
    [[0.25, 1.0], [0.5, 0.5], [0.75, 0.6666666666666666], [1.0, 0.5]]
    """
    import pandas as pd

    probabilities, y = _checked(probabilities, y)
    confidence = probabilities.max(axis=1)
    order = np.argsort(-confidence, kind="stable")
    sorted_confidence = confidence[order]
    correct = (probabilities.argmax(axis=1) == y)[order]
    kept = np.arange(1, len(y) + 1)
    accuracy = np.cumsum(correct) / kept
    # Ties share a threshold: keep only the last face of each run of equal confidences.
    last = np.append(sorted_confidence[1:] != sorted_confidence[:-1], True)
    return pd.DataFrame({"threshold": sorted_confidence[last], "kept": kept[last],
                         "coverage": kept[last] / len(y), "accuracy": accuracy[last]})


@dataclass(frozen=True)
class AbstainThreshold:
    """The confidence below which a face is called "uncertain", and what it kept where it was chosen.

    Attributes
    ----------
    threshold : float
        Faces with confidence below it are uncertain. 1.0 when no threshold reached the target.
    target_accuracy : float
        The accuracy the kept faces had to reach.
    coverage, accuracy : float
        Share of the faces kept, and their accuracy, on the faces it was chosen on.
    reached : bool
        Whether any threshold keeping at least ``min_kept`` faces reached the target.
    """

    threshold: float
    target_accuracy: float
    coverage: float
    accuracy: float
    reached: bool

    def to_dict(self) -> dict:
        return {"threshold": self.threshold, "target_accuracy": self.target_accuracy,
                "coverage": self.coverage, "accuracy": self.accuracy, "reached": self.reached}


def choose_threshold(probabilities, y, *, target_accuracy: float = TARGET_ACCURACY,
                     min_kept: int = MIN_KEPT) -> AbstainThreshold:
    """The lowest confidence threshold at which the kept faces are right ``target_accuracy`` of the time.

    The rule, applied to validation faces: among the thresholds of :func:`coverage_accuracy` that
    keep at least ``min_kept`` faces, take the lowest (the one keeping most faces) whose kept
    accuracy is at least ``target_accuracy``. When none does, the threshold is 1.0: every face is
    uncertain, and ``reached`` is False.

    Examples
    --------
    >>> p = [[0.9, 0.1], [0.8, 0.2], [0.7, 0.3], [0.6, 0.4]]
    >>> choose_threshold(p, [0, 0, 1, 0], target_accuracy=0.75, min_kept=1)
    AbstainThreshold(threshold=0.6, target_accuracy=0.75, coverage=1.0, accuracy=0.75, reached=True)
    >>> choose_threshold(p, [0, 0, 1, 1], target_accuracy=0.75, min_kept=1).threshold
    0.8
    """
    if not 0 < target_accuracy <= 1:
        raise InputError(f"target_accuracy is {target_accuracy!r}: expected a share in (0, 1]")
    curve = coverage_accuracy(probabilities, y)
    good = curve[(curve["kept"] >= min_kept) & (curve["accuracy"] >= target_accuracy)]
    if good.empty:
        return AbstainThreshold(1.0, float(target_accuracy), 0.0, float("nan"), False)
    row = good.iloc[-1]
    return AbstainThreshold(float(row["threshold"]), float(target_accuracy), float(row["coverage"]),
                            float(row["accuracy"]), True)


def accuracy_at_coverage(curve, coverages=(1.0, 0.9, 0.8, 0.7, 0.6, 0.5)) -> list[dict]:
    """Points of a :func:`coverage_accuracy` curve: for each coverage, the accuracy of the most sure faces.

    Each point is the first row of ``curve`` keeping at least that share of faces.

    Examples
    --------
    >>> curve = coverage_accuracy([[0.9, 0.1], [0.7, 0.3], [0.4, 0.6], [0.55, 0.45]], [0, 1, 1, 1])
    >>> [point["accuracy"] for point in accuracy_at_coverage(curve, (0.25, 0.5, 1.0))]
    [1.0, 0.5, 0.5]
    """
    points = []
    for share in coverages:
        row = curve[curve["coverage"] >= share - 1e-12].iloc[0]
        points.append({"coverage": float(share), "accuracy": float(row["accuracy"]),
                       "threshold": float(row["threshold"])})
    return points


__all__ = ["AbstainThreshold", "MIN_KEPT", "NUM_BINS", "TARGET_ACCURACY", "TemperatureScaling",
           "accuracy_at_coverage", "apply_temperature", "choose_threshold", "coverage_accuracy",
           "expected_calibration_error", "negative_log_likelihood", "reliability_table"]
