"""A saved model's calibration: the temperature and "uncertain" threshold kept beside its file.

``fercourse calibrate MODEL --data FER2013 --write`` runs :func:`measure_calibration` (the
temperature fitted on the validation tenth that ``fercourse train`` holds out, the threshold chosen
there, ECE before and after on validation and test, coverage-accuracy points) and writes it beside
the model, ``NAME.calibration.json`` next to ``NAME.keras``. The shipped model's file,
``fercourse/models/weights/fer2013_reference.calibration.json``, is made this way; rerun the
command whenever the shipped model changes.

The file records the SHA-256 of the model it was measured for. :func:`load_calibration` refuses a
file measured for another model, so a replaced model is never scaled by its predecessor's temperature.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fercourse.errors import InputError
from fercourse.models.calibration import (
    NUM_BINS,
    TARGET_ACCURACY,
    TemperatureScaling,
    accuracy_at_coverage,
    apply_temperature,
    choose_threshold,
    coverage_accuracy,
    expected_calibration_error,
    negative_log_likelihood,
)

SUFFIX = ".calibration.json"
#: Coverages whose accuracy the record and the model card list.
COVERAGES = (1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3)


class StaleCalibrationError(InputError):
    """A calibration file measured for another model file than the one beside it."""


def calibration_path(model_path: str | os.PathLike) -> Path:
    """Where a model's calibration lives: ``NAME.calibration.json`` beside ``NAME.keras``."""
    model_path = Path(model_path)
    return model_path.with_name(model_path.stem + SUFFIX)


@dataclass(frozen=True)
class Calibration:
    """How to turn a model's probabilities into calibrated ones, and when to say "uncertain".

    Attributes
    ----------
    temperature : float
        Probabilities become ``softmax(log p / temperature)``.
    threshold : float
        A face whose calibrated top probability is below it is "uncertain".
    target_accuracy : float
        The validation accuracy the faces kept by ``threshold`` reached (the rule that chose it).
    source : str
        Where it came from (a file name, or "given").

    Examples
    --------
    >>> calibration = Calibration(temperature=2.0, threshold=0.6)
    >>> calibration.probabilities(np.array([[0.8, 0.2]])).round(3).tolist()
    [[0.667, 0.333]]
    >>> calibration.uncertain(np.array([[0.6, 0.4], [0.9, 0.1]])).tolist()  # calibrated: 0.55 and 0.75
    [True, False]
    """

    temperature: float
    threshold: float
    target_accuracy: float = TARGET_ACCURACY
    source: str = "given"

    def __post_init__(self) -> None:
        if not np.isfinite(self.temperature) or self.temperature <= 0:
            raise InputError(f"temperature is {self.temperature!r}: expected a number > 0")
        if not 0 <= self.threshold <= 1:
            raise InputError(f"threshold is {self.threshold!r}: expected a probability in [0, 1]")

    def probabilities(self, raw: np.ndarray) -> np.ndarray:
        """The calibrated (n, 7) probabilities for a model's raw ones."""
        return apply_temperature(raw, self.temperature) if len(raw) else np.asarray(raw, dtype=np.float64)

    def uncertain(self, raw: np.ndarray) -> np.ndarray:
        """Boolean (n,): which faces are uncertain, from the model's raw probabilities."""
        if not len(raw):
            return np.zeros(0, dtype=bool)
        return self.probabilities(raw).max(axis=1) < self.threshold


def _split_figures(raw: np.ndarray, y: np.ndarray, temperature: float, threshold: float,
                   num_bins: int) -> dict:
    calibrated = apply_temperature(raw, temperature)
    curve = coverage_accuracy(calibrated, y)
    kept = calibrated.max(axis=1) >= threshold
    correct = calibrated.argmax(axis=1) == y
    return {"n": int(len(y)), "accuracy": float(correct.mean()),
            "ece_before": expected_calibration_error(raw, y, num_bins=num_bins),
            "ece_after": expected_calibration_error(calibrated, y, num_bins=num_bins),
            "nll_before": negative_log_likelihood(raw, y),
            "nll_after": negative_log_likelihood(calibrated, y),
            "coverage": float(kept.mean()),
            "accuracy_kept": float(correct[kept].mean()) if kept.any() else float("nan"),
            "coverage_accuracy": accuracy_at_coverage(curve, COVERAGES)}


def measure_calibration(model, dataset, *, target_accuracy: float = TARGET_ACCURACY,
                        num_bins: int = NUM_BINS) -> dict:
    """Fit the temperature and choose the threshold on validation; measure both there and on test.

    Parameters
    ----------
    model : keras.Model
        The model, predicting without test-time augmentation, as the demo does.
    dataset : fercourse.data.Dataset
        Validation is the share of ``train`` every trainer holds out
        (:func:`fercourse.data.validation_split`); test is ``dataset.test``.
    target_accuracy : float
        The rule for the threshold (:func:`fercourse.models.calibration.choose_threshold`).
    num_bins : int
        Bins of the expected calibration error.

    Returns
    -------
    dict
        ``temperature``, ``threshold`` (with its rule's ``target_accuracy``, ``reached``, and the
        validation ``coverage`` and ``accuracy`` it keeps), and per split (``validation``,
        ``test``): ``n``, ``accuracy``, ECE and NLL before and after scaling, the coverage and
        accuracy the threshold gives there, and accuracy at :data:`COVERAGES`.
    """
    from fercourse.data import validation_split
    from fercourse.models.predict import predict_proba

    _, val = validation_split(dataset)
    test = dataset["test"] if "test" in dataset else None
    if test is None or test.labels is None:
        raise InputError(f"{dataset.source}: no labelled test split to measure calibration on")
    raw_val = predict_proba(model, val.images)
    scaler = TemperatureScaling().fit(raw_val, val.labels)
    chosen = choose_threshold(scaler.transform(raw_val), val.labels, target_accuracy=target_accuracy)
    raw_test = predict_proba(model, test.images)
    return {"temperature": scaler.temperature_, "bins": num_bins, "threshold": chosen.to_dict(),
            "rule": (f"the lowest calibrated confidence at which the validation faces kept are right at "
                     f"least {target_accuracy:.0%} of the time"),
            "validation": _split_figures(raw_val, val.labels, scaler.temperature_, chosen.threshold,
                                         num_bins),
            "test": _split_figures(raw_test, test.labels, scaler.temperature_, chosen.threshold, num_bins)}


def write_calibration(model_path: str | os.PathLike, record: dict, *, data: str, command: str) -> Path:
    """Write ``record`` (from :func:`measure_calibration`) beside the model, tied to its SHA-256."""
    from fercourse.files import atomic_write_text, sha256_file
    from fercourse.provenance import library_versions

    model_path = Path(model_path)
    payload = {"model_file": model_path.name, "model_sha256": sha256_file(model_path), "data": data,
               "command": command, "tta": None, **record, "versions": library_versions()}
    return atomic_write_text(calibration_path(model_path), json.dumps(payload, indent=2) + "\n")


def read_calibration_record(model_path: str | os.PathLike) -> dict | None:
    """The calibration file beside ``model_path`` as written, or None when there is none.

    Raises
    ------
    StaleCalibrationError
        The file was measured for a model with another SHA-256: rerun ``fercourse calibrate``.
    ValueError
        The file is not JSON, or lacks a field; the message names the file and the field.
    """
    from fercourse.files import sha256_file

    model_path = Path(model_path)
    path = calibration_path(model_path)
    if not path.is_file():
        return None
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise InputError(f"{path}: not a calibration file (expected JSON): {error}") from None
    for field in ("model_sha256", "temperature", "threshold"):
        if field not in record:
            raise InputError(f"{path}: no {field!r} field (expected a file from fercourse calibrate --write)")
    if record["model_sha256"] != sha256_file(model_path):
        raise StaleCalibrationError(f"{path} was measured for another {model_path.name} (SHA-256 differs); "
                                    f"recompute it: fercourse calibrate {model_path} --data FER2013 --write")
    return record


def load_calibration(model_path: str | os.PathLike) -> Calibration | None:
    """The :class:`Calibration` stored beside ``model_path``, or None when there is none.

    Raises as :func:`read_calibration_record` does.
    """
    record = read_calibration_record(model_path)
    if record is None:
        return None
    threshold = record["threshold"]
    try:
        return Calibration(temperature=float(record["temperature"]), threshold=float(threshold["threshold"]),
                           target_accuracy=float(threshold["target_accuracy"]),
                           source=calibration_path(model_path).name)
    except (TypeError, KeyError, ValueError) as error:
        raise InputError(f"{calibration_path(model_path)}: bad temperature or threshold ({error}); expected "
                         "a file from fercourse calibrate --write") from None


__all__ = ["COVERAGES", "Calibration", "SUFFIX", "StaleCalibrationError", "calibration_path",
           "load_calibration", "measure_calibration", "read_calibration_record", "write_calibration"]
