"""The model that ships with the package: it loads safely, reads real faces, and its card tells the truth."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from fercourse.cli import main
from fercourse.labels import EMOTIONS
from fercourse.models.pretrained import (
    MAX_BYTES,
    export_for_inference,
    load_inference_model,
    pretrained,
    pretrained_path,
    pretrained_record,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
FER2013 = REPO_ROOT.parent / "shared" / "fer2013"


@pytest.fixture(scope="module")
def model():
    return pretrained()


@pytest.fixture(scope="module")
def astronaut(tmp_path_factory):
    from PIL import Image
    from skimage import data as skimage_data

    path = tmp_path_factory.mktemp("photos") / "astronaut.png"
    Image.fromarray(skimage_data.astronaut()).save(path)
    return path


def test_shipped_file_is_small_float32_inference_only(model):
    path = pretrained_path()
    assert path.stat().st_size <= MAX_BYTES
    with zipfile.ZipFile(path) as archive:
        config = json.loads(archive.read("config.json"))
        assert "compile_config" not in config or not config["compile_config"]  # no optimizer travels
    assert model.input_shape == (None, 48, 48, 1) and model.output_shape == (None, len(EMOTIONS))
    assert {layer.dtype_policy.name for layer in model.layers} == {"float32"}
    probabilities = model.predict(np.full((2, 48, 48, 1), 0.5, dtype=np.float32), verbose=0)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)


def test_record_says_how_it_was_trained_and_scored():
    record = pretrained_record()
    assert record["recipe"] == "reference" and record["quick"] is False
    assert "fer2013" in record["data"].lower()
    assert 1 <= record["best_epoch"] <= record["epochs_run"] == len(record["history"])
    assert record["test"]["n"] == 3589 and record["test_without_train_duplicates"]["left_out"] > 0
    assert set(record["test"]["per_class_recall"]) == set(EMOTIONS)
    assert not any(key in record for key in ("model_path", "last_checkpoint"))  # no machine paths


def test_model_card_quotes_the_record():
    card = (REPO_ROOT / "MODEL_CARD.md").read_text(encoding="utf-8")
    record = pretrained_record()
    for run in ("test", "test_no_tta", "test_without_train_duplicates"):
        assert f"{record[run]['accuracy']:.1%}" in card, run
    assert f"{record['test']['macro_f1']:.3f}" in card
    for emotion, recall in record["test"]["per_class_recall"].items():
        assert f"| {emotion} | {recall:.2f} |" in card, emotion
    assert "fercourse evaluate pretrained --data ../shared/fer2013 --tta shift" in card


def test_model_card_quotes_the_calibration_file():
    """After `fercourse calibrate pretrained --data ../shared/fer2013 --write`, update the card too."""
    from fercourse.models.calibrated import read_calibration_record
    from fercourse.models.pretrained import pretrained_path

    card = (REPO_ROOT / "MODEL_CARD.md").read_text(encoding="utf-8")
    record = read_calibration_record(pretrained_path())
    threshold, validation, test = record["threshold"], record["validation"], record["test"]
    assert f"**T = {record['temperature']:.3f}**" in card
    assert f"**\"Uncertain\" threshold: {threshold['threshold']:.3f}**" in card
    assert f"at least {threshold['target_accuracy']:.0%} of the" in card
    for name, split in (("validation (fitted here)", validation), ("PublicTest", test)):
        assert (f"| {name} | {split['n']:,} | {split['accuracy']:.1%} | {split['ece_before']:.4f} | "
                f"{split['ece_after']:.4f} | {split['nll_before']:.4f} | {split['nll_after']:.4f} |") in card
    kept = f"it keeps {validation['coverage']:.1%} of the faces, right {validation['accuracy_kept']:.1%}"
    assert kept in card
    assert f"on PublicTest it keeps\n  {test['coverage']:.1%}, right {test['accuracy_kept']:.1%}" in card
    for point, test_point in zip(validation["coverage_accuracy"], test["coverage_accuracy"]):
        assert f"| {point['coverage']:.0%} | {point['accuracy']:.1%} | {test_point['accuracy']:.1%} |" in card
    assert "fercourse calibrate pretrained --data ../shared/fer2013 --write" in card


def test_reads_a_real_smile_without_a_model_argument(astronaut, capsys):
    """A fresh install: `fercourse detect photo --json` with no --model finds the astronaut smiling."""
    assert main(["detect", str(astronaut), "--json"]) == 0
    [result] = json.loads(capsys.readouterr().out)
    [face] = result["faces"]
    assert face["emotion"] == "happy" and face["confidence"] > 0.5
    # Calibrated on FER2013 validation, and sure enough to be above the threshold chosen there.
    assert result["calibration"]["source"] == "fer2013_reference.calibration.json"
    assert face["decision"] == "happy" and face["confidence"] >= result["calibration"]["threshold"]
    x, y, w, h = face["box"]
    assert 150 < x + w / 2 < 300 and 60 < y + h / 2 < 200  # Eileen Collins' face, top middle of the photo


def test_emotion_detector_defaults_to_the_shipped_model(model):
    from fercourse.demo import EmotionDetector

    detector = EmotionDetector()
    assert detector.layout == "image"
    assert [w.shape for w in detector.model.weights] == [w.shape for w in model.weights]


def test_export_keeps_predictions_drops_optimizer(tmp_path):
    from fercourse.models import build_model

    trained = build_model("cnn", variant="reference", width=4, seed=0)
    trained.fit(np.random.default_rng(0).random((16, 48, 48, 1), dtype=np.float32),
                np.arange(16) % 7, epochs=1, verbose=0)
    trained.save(tmp_path / "trained.keras")
    exported = export_for_inference(tmp_path / "trained.keras", tmp_path / "out" / "small.keras")
    assert exported.stat().st_size < (tmp_path / "trained.keras").stat().st_size  # no optimizer moments
    faces = np.random.default_rng(1).random((5, 48, 48, 1), dtype=np.float32)
    np.testing.assert_allclose(load_inference_model(exported).predict(faces, verbose=0),
                               trained.predict(faces, verbose=0), atol=1e-5)


def test_export_command_writes_model_and_portable_record(tmp_path, capsys):
    from fercourse.models import build_model

    build_model("cnn", variant="reference", width=4, seed=0).save(tmp_path / "run.keras")
    (tmp_path / "run.json").write_text(json.dumps({"recipe": "reference", "tta": "flip", "epochs_run": 1,
                                                   "model_path": str(tmp_path / "run.keras")}))
    status = main(["export", str(tmp_path / "run.keras"), "--out", str(tmp_path / "ship.keras"),
                   "--data", "sample", "--n-train", "70", "--n-test", "28"])
    assert status == 0
    record = json.loads((tmp_path / "ship.json").read_text())
    assert record["recipe"] == "reference" and "model_path" not in record
    assert record["test"]["tta"] == "flip" and record["test_no_tta"]["tta"] is None
    assert record["test"]["n"] == 28 and record["test_without_train_duplicates"]["left_out"] == 0
    assert "test: accuracy" in capsys.readouterr().out


def test_load_refuses_a_file_that_is_not_a_model(tmp_path):
    bad = tmp_path / "notes.keras"
    bad.write_text("not a zip")
    with pytest.raises(ValueError, match="notes.keras: could not load a Keras model"):
        load_inference_model(bad)


@pytest.mark.skipif(not FER2013.is_dir(), reason="real FER2013 not at ../shared/fer2013")
def test_on_real_fer2013_test_faces_it_scores_what_its_card_says():
    from fercourse.data import load
    from fercourse.models.predict import predict_proba

    test = load(str(FER2013)).test
    predicted = predict_proba(pretrained(), test.images).argmax(axis=1)
    accuracy = float((predicted == test.labels).mean())
    assert accuracy == pytest.approx(pretrained_record()["test_no_tta"]["accuracy"], abs=1e-3)


def test_seen_in_train_and_evaluate_without_train_duplicates(tmp_path):
    from fercourse.data import load, seen_in_train
    from fercourse.data.dataset import Dataset, Split
    from fercourse.models import build_model
    from fercourse.models.scoring import evaluate_saved

    sample = load("sample", n_train=70, n_test=28)
    images = sample.test.images.copy()
    images[[3, 10, 11]] = sample.train.images[[0, 5, 5]]  # three test faces also in train
    data = Dataset({"train": sample.train, "test": Split(images, sample.test.labels, sample.test.ids)},
                   source="sample-with-duplicates")
    assert np.flatnonzero(seen_in_train(data, "test")).tolist() == [3, 10, 11]
    build_model("cnn", variant="simple", seed=0).save(tmp_path / "m.keras")
    full = evaluate_saved(tmp_path / "m.keras", data)
    reduced = evaluate_saved(tmp_path / "m.keras", data, without_train_duplicates=True)
    assert (full["n"], full["left_out"]) == (28, 0) and (reduced["n"], reduced["left_out"]) == (25, 3)
