"""Calibration: ECE, temperature scaling, coverage-accuracy and the "uncertain" threshold, known answers."""

from __future__ import annotations

import json

import numpy as np
import pytest

from fercourse.models.calibrated import (
    Calibration,
    StaleCalibrationError,
    calibration_path,
    load_calibration,
    read_calibration_record,
    write_calibration,
)
from fercourse.models.calibration import (
    TemperatureScaling,
    apply_temperature,
    choose_threshold,
    coverage_accuracy,
    expected_calibration_error,
    negative_log_likelihood,
    reliability_table,
)


def calibrated_predictor(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Probabilities drawn at random, and labels drawn from exactly those probabilities: calibrated."""
    rng = np.random.default_rng(seed)
    probabilities = rng.dirichlet(np.full(7, 0.4), size=n)
    labels = np.array([rng.choice(7, p=row) for row in probabilities])
    return probabilities, labels


@pytest.fixture(scope="module")
def calibrated():
    return calibrated_predictor(20_000)


def test_a_calibrated_predictor_has_an_ece_near_zero(calibrated):
    probabilities, labels = calibrated
    assert expected_calibration_error(probabilities, labels) < 0.015
    table = reliability_table(probabilities, labels)
    filled = table[table["count"] >= 500]
    assert len(filled) >= 5
    assert np.allclose(filled["accuracy"], filled["confidence"], atol=0.04)  # the diagonal


def test_an_over_confident_predictor_gets_a_temperature_above_one_that_lowers_its_ece(calibrated):
    probabilities, labels = calibrated
    sharp = apply_temperature(probabilities, 0.5)  # what the labels were drawn from, made over-confident
    validation, test = slice(0, 10_000), slice(10_000, None)
    scaler = TemperatureScaling().fit(sharp[validation], labels[validation])
    assert scaler.temperature_ == pytest.approx(2.0, rel=0.1)
    before = expected_calibration_error(sharp[test], labels[test])
    after = expected_calibration_error(scaler.transform(sharp[test]), labels[test])
    assert before > 0.1 and after < 0.02
    assert negative_log_likelihood(scaler.transform(sharp[test]), labels[test]) < \
        negative_log_likelihood(sharp[test], labels[test])
    # One number per model: the top emotion, hence the accuracy, never changes.
    assert (scaler.transform(sharp).argmax(axis=1) == sharp.argmax(axis=1)).all()


def test_an_under_confident_predictor_gets_a_temperature_below_one(calibrated):
    probabilities, labels = calibrated
    assert TemperatureScaling().fit(apply_temperature(probabilities, 2.0), labels).temperature_ < 0.6


def test_reliability_bins_and_ece_by_hand():
    probabilities = [[0.95, 0.05], [0.95, 0.05], [0.55, 0.45], [0.55, 0.45]]
    labels = [0, 1, 0, 0]
    table = reliability_table(probabilities, labels, num_bins=10)
    filled = table[table["count"] > 0]
    assert filled["count"].tolist() == [2, 2]
    assert filled["accuracy"].tolist() == [1.0, 0.5]
    # Half the faces at confidence 0.55 all right (gap 0.45), half at 0.95 right half the time (0.45).
    assert expected_calibration_error(probabilities, labels, num_bins=10) == pytest.approx(0.45)


def test_coverage_accuracy_sorts_most_sure_first_and_ends_at_the_plain_accuracy():
    probabilities = [[0.9, 0.1], [0.8, 0.2], [0.8, 0.2], [0.6, 0.4], [0.3, 0.7]]
    labels = [0, 1, 0, 0, 0]
    curve = coverage_accuracy(probabilities, labels)
    assert curve["threshold"].tolist() == [0.9, 0.8, 0.7, 0.6]
    assert curve["kept"].tolist() == [1, 3, 4, 5]  # the two faces at 0.8 come and go together
    assert curve["accuracy"].tolist() == pytest.approx([1.0, 2 / 3, 0.5, 0.6])
    assert curve["coverage"].iloc[-1] == 1.0


def test_threshold_is_the_lowest_confidence_whose_kept_faces_reach_the_target():
    probabilities = [[p, 1 - p] for p in (0.95, 0.9, 0.85, 0.8, 0.75, 0.7, 0.65, 0.6)]
    labels = [0, 0, 0, 1, 0, 1, 1, 1]  # kept accuracy: 1, 1, 1, .75, .8, .67, .57, .5
    chosen = choose_threshold(probabilities, labels, target_accuracy=0.75, min_kept=1)
    assert (chosen.threshold, chosen.coverage, chosen.accuracy, chosen.reached) == (0.75, 5 / 8, 0.8, True)
    assert choose_threshold(probabilities, labels, target_accuracy=0.9, min_kept=1).threshold == 0.85
    # Three lucky faces are not evidence: with min_kept=4 the 90 % target is out of reach.
    unreachable = choose_threshold(probabilities, labels, target_accuracy=0.9, min_kept=4)
    assert (unreachable.threshold, unreachable.coverage, unreachable.reached) == (1.0, 0.0, False)


def test_bad_input_names_what_was_expected():
    with pytest.raises(ValueError, match=r"labels have shape \(2,\): expected \(3,\)"):
        expected_calibration_error(np.full((3, 7), 1 / 7), [0, 1])
    with pytest.raises(ValueError, match="rows that sum to 1"):
        TemperatureScaling().fit(np.ones((2, 7)), [0, 1])
    with pytest.raises(ValueError, match="labels: expected integers 0..6"):
        reliability_table(np.full((2, 7), 1 / 7), [0, 7])
    with pytest.raises(ValueError, match="temperature is 0: expected a number > 0"):
        apply_temperature(np.full((1, 7), 1 / 7), 0)
    with pytest.raises(ValueError, match="not fitted yet"):
        TemperatureScaling().transform(np.full((1, 7), 1 / 7))
    with pytest.raises(ValueError, match="target_accuracy is 1.5"):
        choose_threshold(np.full((2, 7), 1 / 7), [0, 1], target_accuracy=1.5)


# --- the file beside a model -------------------------------------------------------------------------

def fake_record(temperature: float = 1.5, threshold: float = 0.6) -> dict:
    return {"temperature": temperature, "threshold": {"threshold": threshold, "target_accuracy": 0.75,
                                                      "coverage": 0.7, "accuracy": 0.75, "reached": True}}


def test_calibration_file_round_trips_and_refuses_another_model(tmp_path):
    model = tmp_path / "mine.keras"
    model.write_bytes(b"model one")
    assert load_calibration(model) is None  # no file: raw probabilities
    written = write_calibration(model, fake_record(), data="fer2013", command="fercourse calibrate ...")
    assert written == calibration_path(model) == tmp_path / "mine.calibration.json"
    assert load_calibration(model) == Calibration(1.5, 0.6, 0.75, source="mine.calibration.json")
    model.write_bytes(b"model two, retrained")
    with pytest.raises(StaleCalibrationError, match=r"measured for another mine.keras .*fercourse calibrate"):
        load_calibration(model)


def test_a_broken_calibration_file_is_named(tmp_path):
    model = tmp_path / "mine.keras"
    model.write_bytes(b"model")
    calibration_path(model).write_text("{not json")
    with pytest.raises(ValueError, match="mine.calibration.json: not a calibration file"):
        load_calibration(model)
    calibration_path(model).write_text(json.dumps({"model_sha256": "0", "threshold": {}}))
    with pytest.raises(ValueError, match="mine.calibration.json: no 'temperature' field"):
        load_calibration(model)


def test_calibration_marks_faces_below_its_threshold():
    calibration = Calibration(temperature=1.0, threshold=0.6)
    raw = np.array([[0.6, 0.4], [0.45, 0.55], [0.3, 0.7]])  # 0.6 is kept: uncertain means below
    assert calibration.uncertain(raw).tolist() == [False, True, False]
    with pytest.raises(ValueError, match="threshold is 1.5"):
        Calibration(temperature=1.0, threshold=1.5)


def test_the_shipped_model_has_a_calibration_measured_for_it():
    from fercourse.models.pretrained import pretrained_path

    record = read_calibration_record(pretrained_path())  # raises if the model changed since
    assert record is not None, "rerun: fercourse calibrate pretrained --data ../shared/fer2013 --write"
    assert record["data"] == "fer2013" and record["validation"]["n"] > 2000
    assert record["threshold"]["reached"] and 0.2 < record["threshold"]["threshold"] < 1
    assert 0.5 < record["temperature"] < 3
    assert record["command"].startswith("fercourse calibrate pretrained --data fer2013")
