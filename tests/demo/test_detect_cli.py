"""``fercourse detect`` and ``fercourse bench detect``: the demo pipeline from the command line."""

from __future__ import annotations

import json

import numpy as np
import pytest

from fercourse.bench.face_photos import iou
from fercourse.cli import main
from fercourse.labels import EMOTIONS

skimage_data = pytest.importorskip("skimage.data")
Image = pytest.importorskip("PIL.Image")


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    from fercourse.models import build_model

    path = tmp_path_factory.mktemp("model") / "cnn.keras"
    build_model("cnn", variant="simple").save(path)
    return path


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    folder = tmp_path_factory.mktemp("photos")
    Image.fromarray(skimage_data.astronaut()).save(folder / "astronaut.png")
    Image.fromarray(skimage_data.coffee()).save(folder / "coffee.jpg")
    (folder / "notes.jpg").write_text("not a photo at all\n")
    return folder


@pytest.mark.filterwarnings("ignore:Skipping variable loading")
def test_text_output_reports_bad_files_and_still_runs_the_rest(model_path, photos, capsys):
    images = [photos / "notes.jpg", photos / "astronaut.png", photos / "missing.png", photos / "coffee.jpg"]
    status = main(["detect", *map(str, images), "--model", str(model_path)])
    out, err = capsys.readouterr()
    assert status == 1
    assert f"{photos / 'astronaut.png'}: 1 face\n  face 1 box [" in out
    assert f"{photos / 'coffee.jpg'}: 0 faces\n" in out
    assert f"{photos / 'notes.jpg'}: error: {photos / 'notes.jpg'}: not an image file" in err
    assert f"{photos / 'missing.png'}: error: {photos / 'missing.png'}: no such file" in err
    assert "2 of 4 image(s) could not be read" in err


@pytest.mark.filterwarnings("ignore:Skipping variable loading")
def test_json_has_one_object_per_image_in_order(model_path, photos, capsys):
    images = [str(photos / name) for name in ("astronaut.png", "notes.jpg", "coffee.jpg")]
    status = main(["detect", *images, "--model", str(model_path), "--json"])
    out, err = capsys.readouterr()
    assert status == 1 and err == ""
    result = json.loads(out)
    assert [item["image"] for item in result] == images
    astronaut, notes, coffee = result
    # A model file without a calibration beside it: its raw probabilities, never "uncertain".
    assert set(astronaut) == {"image", "calibration", "faces"} and astronaut["calibration"] is None
    assert coffee == {"image": images[2], "calibration": None, "faces": []}
    assert set(notes) == {"image", "error"} and "not an image file" in notes["error"]
    [face] = astronaut["faces"]
    assert set(face) == {"box", "emotion", "confidence", "uncertain", "decision", "probabilities"}
    assert face["uncertain"] is False and face["decision"] == face["emotion"]
    assert iou(face["box"], (176, 62, 94, 112)) > 0.7  # the astronaut's face, boxed by hand
    assert list(face["probabilities"]) == list(EMOTIONS)
    assert sum(face["probabilities"].values()) == pytest.approx(1.0, abs=1e-5)
    assert face["confidence"] == face["probabilities"][face["emotion"]] == max(face["probabilities"].values())


@pytest.mark.filterwarnings("ignore:Skipping variable loading")
def test_out_writes_annotated_images_and_exit_zero(model_path, photos, tmp_path, capsys):
    other = tmp_path / "again"
    other.mkdir()
    (other / "astronaut.png").write_bytes((photos / "astronaut.png").read_bytes())
    out_dir = tmp_path / "annotated"
    status = main(["detect", str(photos / "astronaut.png"), str(other / "astronaut.png"),
                   str(photos / "coffee.jpg"), "--model", str(model_path), "--out", str(out_dir)])
    assert status == 0
    assert sorted(p.name for p in out_dir.iterdir()) == ["astronaut-2.png", "astronaut.png", "coffee.png"]
    drawn = np.asarray(Image.open(out_dir / "astronaut.png").convert("RGB"))
    assert drawn.shape == (512, 512, 3) and not np.array_equal(drawn, skimage_data.astronaut())
    coffee = np.asarray(Image.open(out_dir / "coffee.png").convert("RGB"))
    assert np.array_equal(coffee, np.asarray(Image.open(photos / "coffee.jpg").convert("RGB")))
    capsys.readouterr()


def test_missing_model_is_one_clear_error(photos, tmp_path, capsys):
    status = main(["detect", str(photos / "astronaut.png"), "--model", str(tmp_path / "none.keras")])
    assert status == 1
    error = capsys.readouterr().err
    assert f"fercourse detect: error: {tmp_path / 'none.keras'}: no saved model here" in error


@pytest.mark.filterwarnings("ignore:Skipping variable loading")
def test_json_reports_calibrated_probabilities_and_the_uncertain_decision(model_path, photos, tmp_path,
                                                                         capsys):
    import shutil

    from fercourse.models.calibration import apply_temperature

    model = tmp_path / "cnn.keras"
    shutil.copy(model_path, model)
    image = str(photos / "astronaut.png")
    assert main(["detect", image, "--model", str(model), "--json"]) == 0
    [raw_face] = json.loads(capsys.readouterr().out)[0]["faces"]
    # An untrained CNN on the sample: no threshold reaches 75 % on validation, so every face is uncertain.
    assert main(["calibrate", str(model), "--data", "sample", "--n-train", "1000", "--n-test", "200",
                 "--write"]) == 0
    assert f"wrote {tmp_path / 'cnn.calibration.json'}" in capsys.readouterr().err
    stored = json.loads((tmp_path / "cnn.calibration.json").read_text())
    assert stored["threshold"]["reached"] is False and stored["threshold"]["threshold"] == 1.0

    assert main(["detect", image, "--model", str(model), "--json"]) == 0
    [result] = json.loads(capsys.readouterr().out)
    assert result["calibration"]["temperature"] == stored["temperature"]
    assert result["calibration"]["threshold"] == 1.0
    [face] = result["faces"]
    assert face["uncertain"] is True and face["decision"] == "uncertain"
    raw = np.array([list(raw_face["probabilities"].values())])
    expected = apply_temperature(raw, stored["temperature"])[0]
    assert list(face["probabilities"].values()) == pytest.approx(expected.tolist(), abs=1e-6)
    assert face["confidence"] == max(face["probabilities"].values())

    assert main(["detect", image, "--model", str(model), "--json", "--no-uncertain"]) == 0
    [result] = json.loads(capsys.readouterr().out)
    assert result["calibration"]["threshold"] is None
    assert result["faces"][0]["decision"] == result["faces"][0]["emotion"]
    assert result["faces"][0]["probabilities"] == face["probabilities"]  # still calibrated

    assert main(["detect", image, "--model", str(model), "--uncalibrated"]) == 0
    out = capsys.readouterr().out
    assert "uncertain" not in out and f"{raw_face['emotion']} {raw_face['confidence']:.2f}" in out


def test_calibrate_refuses_to_store_sample_figures_for_the_shipped_model(capsys):
    assert main(["calibrate", "pretrained", "--data", "sample", "--write"]) == 1
    assert "--write for the shipped model needs real FER2013" in capsys.readouterr().err


def test_detect_without_a_model_uses_the_shipped_one_and_still_reports_bad_files(tmp_path, capsys):
    assert main(["detect", str(tmp_path / "photo.jpg")]) == 1  # no --model needed; the missing photo is named
    assert f"{tmp_path / 'photo.jpg'}: error:" in capsys.readouterr().err


def test_detector_option_chooses_the_face_detector(model_path, photos, capsys):
    camera = photos / "camera.png"
    Image.fromarray(skimage_data.camera()).save(camera)
    for name, faces in (("haar", 0), ("mtcnn", 1)):  # the cameraman's face is turned: MTCNN finds it
        assert main(["detect", str(camera), "--model", str(model_path), "--detector", name, "--json"]) == 0
        assert len(json.loads(capsys.readouterr().out)[0]["faces"]) == faces
    with pytest.raises(SystemExit) as exit_info:
        main(["detect", str(camera), "--model", str(model_path), "--detector", "dlib"])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert "argument --detector: invalid choice: 'dlib'" in error and "mtcnn" in error


def test_bench_detect_prints_both_detectors_side_by_side(monkeypatch, capsys):
    monkeypatch.delenv("FERCOURSE_FER2013", raising=False)  # the shipped photos only: fast
    status = main(["bench", "detect", "--repeats", "2", "--batch", "2", "--json"])
    out = capsys.readouterr().out
    assert status == 0
    table, payload = out.split("\n{", 1)
    result = json.loads("{" + payload)
    assert list(result["detectors"]) == ["haar", "mtcnn"] and result["fer2013"] is None
    assert result["photo"] == "skimage astronaut fitted into 640x480" and result["goal_ms"] == 150.0
    assert result["model"].startswith("cnn") and result["best"] in ("haar", "mtcnn")
    haar, mtcnn = result["detectors"]["haar"], result["detectors"]["mtcnn"]
    # Found faces are the same on every machine: MTCNN also finds the cameraman's turned face.
    assert haar["sets"]["faces"] == {"photos": 3, "faces": 3, "found": 2, "recall": 2 / 3,
                                     "false_boxes": 0}
    assert mtcnn["sets"]["faces"]["found"] == 3 and mtcnn["sets"]["face_free"]["false_boxes"] == 0
    assert haar["sets"]["face_free"]["photos"] == 18
    assert haar["faces_in_timed_photo"] == mtcnn["faces_in_timed_photo"] == 1
    # The printed table carries the same figures as the JSON (the timings themselves vary by machine).
    lines = table.splitlines()
    assert lines[0] == (f"face detectors, model {result['model']}, {result['cpu_count']} CPUs, load average "
                        f"{result['load_average_at_start']} at start, {result['load_average']} at end:")
    timing = next(line for line in lines if line.startswith("detect+classify ms, 640x480 photo (median of 2"))
    ratio = f"{mtcnn['median_ms'] / haar['median_ms']:.2f}"
    assert timing.split()[-3:] == [f"{haar['median_ms']:.1f}", f"{mtcnn['median_ms']:.1f}", ratio]
    assert "FER2013 not scored" in table
    assert lines[-1].startswith(f"best default by this run: {result['best']} ")


def test_a_fresh_process_shows_no_tensorflow_start_up_noise(photos):
    """TensorFlow's C++ start-up lines ignore TF_CPP_MIN_LOG_LEVEL; the command keeps them out of stderr."""
    import subprocess
    import sys

    completed = subprocess.run([sys.executable, "-m", "fercourse", "detect", str(photos / "astronaut.png")],
                               capture_output=True, text=True, timeout=300, check=False)
    assert completed.returncode == 0, completed.stderr
    assert f"{photos / 'astronaut.png'}: 1 face" in completed.stdout
    assert completed.stderr == ""
