"""fercourse.demo: reading photos safely, Haar face detection, the emotion detector, the app."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest

from fercourse.bench.face_photos import iou
from fercourse.demo import (
    Detection,
    DetectionSettings,
    EmotionDetector,
    annotate,
    crop_face,
    detect_faces,
    non_max_suppression,
    read_image,
)
from fercourse.demo.images import to_gray
from fercourse.labels import EMOTIONS

skimage_data = pytest.importorskip("skimage.data")
Image = pytest.importorskip("PIL.Image")

# Where OpenCV's frontal cascade puts the astronaut's face (x, y, w, h) in the 512x512 photo.
ASTRONAUT_FACE = (177, 67, 93, 93)
# The astronaut's face boxed by hand, brow to chin (what `fercourse bench detect` scores against).
ASTRONAUT_FACE_BY_HAND = (176, 62, 94, 112)


@pytest.fixture(scope="module")
def astronaut() -> np.ndarray:
    return skimage_data.astronaut()


@pytest.fixture(scope="module")
def cnn():
    from fercourse.models import build_model

    return build_model("cnn", variant="simple")


@pytest.fixture(scope="module")
def detector(cnn) -> EmotionDetector:
    return EmotionDetector(cnn)


def png_bytes(array: np.ndarray, **save) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG", **save)
    return buffer.getvalue()


def jpeg_bytes(array: np.ndarray, **save) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="JPEG", quality=92, **save)
    return buffer.getvalue()


# --- detection on real photos -------------------------------------------------------------------

def test_haar_finds_the_astronauts_face(astronaut):
    boxes = detect_faces(astronaut, detector="haar")
    assert len(boxes) == 1
    assert iou(boxes[0], ASTRONAUT_FACE) > 0.8


@pytest.mark.parametrize("name", ["haar", "mtcnn"])
def test_no_face_in_coffee_blank_or_noise(name):
    # skimage's coffee cup (a real photo without people): neither detector finds anything.
    assert detect_faces(skimage_data.coffee(), detector=name) == []
    assert detect_faces(np.full((480, 640), 200, dtype=np.uint8), detector=name) == []
    noise = np.random.default_rng(0).integers(0, 256, size=(480, 640, 3), dtype=np.uint8)
    assert detect_faces(noise, detector=name) == []


@pytest.mark.fer2013
def test_haar_finds_upscaled_fer2013_faces(fer2013_root):
    import cv2

    files = []
    for emotion in ("angry", "disgust", "fear", "happy", "neutral", "sad", "surprise"):
        files += sorted((fer2013_root / "test" / emotion).glob("*.jpg"))[:10]
    assert len(files) == 70
    found = false_boxes = 0
    for path in files:
        gray = cv2.resize(cv2.imread(str(path), cv2.IMREAD_GRAYSCALE), (192, 192),
                          interpolation=cv2.INTER_CUBIC)
        # FER2013 crops end at the face's edge; a border gives the cascade the context it needs.
        photo = cv2.copyMakeBorder(gray, 48, 48, 48, 48, cv2.BORDER_REPLICATE)
        boxes = detect_faces(photo, detector="haar")
        # The face fills the 192 px middle of the 288 px photo: a box of about that size near the centre.
        faces = [(x, y, w, h) for x, y, w, h in boxes
                 if 80 <= w <= 288 and abs(x + w / 2 - 144) < 48 and abs(y + h / 2 - 144) < 48]
        found += bool(faces)
        false_boxes += len(boxes) - len(faces[:1])
    assert found >= 0.6 * len(files), f"only {found} of {len(files)} FER2013 faces found"
    assert false_boxes <= 0.1 * len(files), f"{false_boxes} false boxes in {len(files)} FER2013 faces"


def test_largest_face_first_and_boxes_mapped_back_from_a_huge_photo(astronaut):
    import cv2

    canvas = np.full((900, 1400, 3), 240, dtype=np.uint8)
    canvas[50:562, 40:552] = astronaut
    small = cv2.resize(astronaut, (300, 300), interpolation=cv2.INTER_AREA)
    canvas[400:700, 900:1200] = small
    boxes = detect_faces(canvas, detector="haar")
    assert len(boxes) == 2
    assert boxes[0][2] > boxes[1][2]
    assert iou(boxes[0], (40 + 177, 50 + 67, 93, 93)) > 0.6
    assert iou(boxes[1], (900 + 104, 400 + 39, 55, 55)) > 0.5

    huge = cv2.resize(astronaut, (4096, 4096), interpolation=cv2.INTER_LINEAR)  # 16.8 Mpx, shrunk to 1024
    boxes = detect_faces(huge, detector="haar")
    # The face, in the 4096 px photo's pixels. (Upscaling's smooth textures also give this
    # recall-tuned cascade two small false boxes, which the largest-first order puts after it.)
    assert iou(boxes[0], tuple(8 * v for v in ASTRONAUT_FACE)) > 0.7
    assert all(w < 0.3 * boxes[0][2] for _, _, w, _ in boxes[1:])


@pytest.mark.parametrize("name", ["haar", "mtcnn"])
def test_each_detector_finds_the_astronauts_face_and_nothing_in_coffee(name, astronaut):
    [box] = detect_faces(astronaut, detector=name)
    assert iou(box, ASTRONAUT_FACE_BY_HAND) > 0.6
    assert detect_faces(skimage_data.coffee(), detector=name) == []
    # A gray photo works too (MTCNN gets it as three equal channels).
    [gray_box] = detect_faces(to_gray(astronaut), detector=name)
    assert iou(gray_box, box) > 0.8


def test_mtcnn_finds_the_turned_face_the_cascade_misses():
    # The cameraman looks into his camera, his face turned three-quarters away.
    assert detect_faces(skimage_data.camera(), detector="haar") == []
    [box] = detect_faces(skimage_data.camera(), detector="mtcnn")
    assert iou(box, (186, 112, 72, 90)) > 0.5


def test_mtcnn_maps_boxes_back_from_a_shrunk_photo(astronaut):
    import cv2

    # Shrunk to 20 px per 36 px face (mtcnn_faces' docstring), then scaled back to these pixels.
    big = cv2.resize(astronaut, (1024, 1024), interpolation=cv2.INTER_LINEAR)
    [box] = detect_faces(big, detector="mtcnn")
    assert iou(box, tuple(2 * v for v in ASTRONAUT_FACE_BY_HAND)) > 0.6
    # Too small to hold a face of min_size pixels: nothing, and no call into MTCNN's pyramid.
    assert detect_faces(np.zeros((20, 30, 3), dtype=np.uint8), detector="mtcnn") == []


def test_an_unknown_detector_is_one_clear_error(cnn):
    photo = np.zeros((50, 50), dtype=np.uint8)
    with pytest.raises(ValueError, match="unknown face detector 'dlib'; expected one of 'haar', 'mtcnn'"):
        detect_faces(photo, detector="dlib")
    with pytest.raises(ValueError, match="unknown face detector 'MTCNN'"):
        EmotionDetector(cnn, detector="MTCNN")
    with pytest.raises(ValueError, match="min_confidence must lie in"):
        DetectionSettings(min_confidence=1.5)


def test_profile_cascade_merges_with_nms(astronaut):
    boxes = detect_faces(astronaut, detector="haar", profile=True)
    assert len(boxes) == 1 and iou(boxes[0], ASTRONAUT_FACE) > 0.5


def test_detection_settings_are_checked():
    with pytest.raises(ValueError, match="scale_factor must be greater than 1"):
        DetectionSettings(scale_factor=1.0)
    with pytest.raises(TypeError, match="unknown detection option.*min_neighbours"):
        detect_faces(np.zeros((50, 50), dtype=np.uint8), min_neighbours=3)


def test_non_max_suppression_keeps_the_larger_of_overlapping_boxes():
    boxes = np.array([[10, 10, 40, 40], [12, 12, 44, 44], [100, 100, 30, 30], [20, 20, 10, 10]])
    assert non_max_suppression(boxes).tolist() == [[12, 12, 44, 44], [100, 100, 30, 30]]
    assert non_max_suppression(np.zeros((0, 4), dtype=int)).shape == (0, 4)


def test_crop_face_pads_outside_the_photo_and_is_48x48():
    gray = np.arange(100 * 100, dtype=np.uint32).reshape(100, 100).astype(np.uint8)
    crop = crop_face(gray, (80, 80, 30, 30), margin=0.1)
    assert crop.shape == (48, 48) and crop.dtype == np.uint8
    exact = crop_face(np.pad(np.eye(48, dtype=np.uint8) * 255, 0), (0, 0, 48, 48), margin=0.0)
    assert np.array_equal(exact, np.eye(48, dtype=np.uint8) * 255)
    with pytest.raises(ValueError, match="width and height must be positive"):
        crop_face(gray, (0, 0, 0, 10))


# --- every input kind -----------------------------------------------------------------------------

def test_every_input_kind_gives_the_same_face(astronaut, tmp_path):
    path = tmp_path / "astronaut.png"
    path.write_bytes(png_bytes(astronaut))
    rgba = np.dstack([astronaut, np.full(astronaut.shape[:2], 255, dtype=np.uint8)])
    inputs = {"path": path, "str path": str(path), "bytes": path.read_bytes(),
              "memoryview": memoryview(path.read_bytes()), "PIL": Image.fromarray(astronaut),
              "RGB array": astronaut, "gray array": to_gray(astronaut), "RGBA array": rgba,
              "float array": astronaut / 255.0, "RGBA PNG": png_bytes(rgba),
              "JPEG": jpeg_bytes(astronaut)}
    for kind, value in inputs.items():
        boxes = detect_faces(value)  # the default detector, MTCNN
        assert len(boxes) == 1 and iou(boxes[0], ASTRONAUT_FACE_BY_HAND) > 0.7, kind


def test_rgba_transparency_is_composited_on_white():
    rgba = np.zeros((2, 2, 4), dtype=np.uint8)
    rgba[0, 0] = (255, 0, 0, 255)
    rgb = read_image(png_bytes(rgba))
    assert rgb[0, 0].tolist() == [255, 0, 0] and rgb[1, 1].tolist() == [255, 255, 255]


def test_sixteen_bit_png_is_scaled_to_eight_bits(astronaut):
    gray16 = to_gray(astronaut).astype(np.uint16) * 257
    data = png_bytes(gray16)
    assert Image.open(io.BytesIO(data)).mode.startswith("I")
    rgb = read_image(data)
    assert rgb.dtype == np.uint8 and np.array_equal(rgb[:, :, 0], to_gray(astronaut))
    assert len(detect_faces(data)) == 1
    assert read_image(np.array([[0, 65535]], dtype=np.uint16))[0, :, 0].tolist() == [0, 255]


def test_exif_rotated_jpeg_is_turned_upright(astronaut):
    upright = np.ascontiguousarray(astronaut[:, 60:460])  # 512 high, 400 wide
    stored = np.ascontiguousarray(np.rot90(upright, k=1))  # how a phone held sideways stores it
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90 degrees clockwise to display
    data = jpeg_bytes(stored, exif=exif.tobytes())
    rgb = read_image(data)
    assert rgb.shape == (512, 400, 3)
    assert np.abs(rgb.astype(int) - upright).mean() < 6  # only JPEG loss
    [box] = detect_faces(data)
    assert iou(box, (177 - 60, 67, 93, 93)) > 0.7


def test_text_file_named_jpg_is_rejected_with_its_name(tmp_path):
    fake = tmp_path / "holiday.jpg"
    fake.write_text("this is not a photo\n")
    with pytest.raises(ValueError, match=r"holiday\.jpg: not an image file"):
        read_image(fake)
    with pytest.raises(ValueError, match=r"empty\.png: the file is empty"):
        (tmp_path / "empty.png").write_bytes(b"")
        read_image(tmp_path / "empty.png")


def test_truncated_jpeg_is_rejected(astronaut, tmp_path):
    broken = tmp_path / "broken.jpg"
    data = jpeg_bytes(astronaut)
    broken.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=r"broken\.jpg: could not decode the image.*truncated"):
        read_image(broken)


def huge_png(width: int, height: int) -> bytes:
    """A tiny PNG file whose header claims width x height pixels (a decompression bomb)."""
    data = bytearray(png_bytes(np.zeros((8, 8), dtype=np.uint8)))
    assert data[12:16] == b"IHDR"
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    return bytes(data)


def test_decompression_bomb_is_rejected_before_decoding(tmp_path):
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(huge_png(10_000, 8_000))  # 80 Mpx in 70 bytes
    assert bomb.stat().st_size < 200
    with pytest.raises(ValueError, match=r"bomb\.png: image is 10000x8000 = 80,000,000 pixels, more than the "
                                         r"64,000,000 allowed \(a decompression bomb\?\)"):
        read_image(bomb)
    # Far beyond PIL's own limit PIL refuses at open; the message still names the file.
    with pytest.raises(ValueError,
                       match=r"<\d+ bytes>: image too large to decode safely.*decompression bomb"):
        read_image(huge_png(30_000, 30_000))
    with pytest.raises(ValueError, match="more than the 1,000 allowed"):
        read_image(png_bytes(np.zeros((40, 40), dtype=np.uint8)), max_pixels=1000)


def test_other_bad_inputs(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"missing\.jpg: no such file"):
        read_image(tmp_path / "missing.jpg")
    with pytest.raises(ValueError, match="is a folder"):
        read_image(tmp_path)
    with pytest.raises(TypeError, match="expected a path, bytes, a PIL image or a NumPy array, got int"):
        read_image(42)
    with pytest.raises(ValueError, match=r"expected an image array of shape .* got \(2, 3, 5\)"):
        read_image(np.zeros((2, 3, 5), dtype=np.uint8))
    with pytest.raises(ValueError, match="integer pixels must lie in 0-255"):
        read_image(np.full((2, 2), 300, dtype=np.int32))
    with pytest.raises(ValueError, match="NaN"):
        read_image(np.full((2, 2), np.nan))


# --- the emotion detector ---------------------------------------------------------------------------

def test_detect_returns_boxes_emotions_and_seven_probabilities(detector, cnn, astronaut):
    from fercourse.models import model_input, predict_proba

    [face] = detector.detect(astronaut)
    assert isinstance(face, Detection) and iou(face.box, ASTRONAUT_FACE_BY_HAND) > 0.7
    assert list(face.probabilities) == list(EMOTIONS)
    assert sum(face.probabilities.values()) == pytest.approx(1.0, abs=1e-5)
    assert face.emotion == max(face.probabilities, key=face.probabilities.get)
    assert face.confidence == face.probabilities[face.emotion]
    # Preprocessing is the training pipeline: gray, crop with margin, 48x48, /255, model_input shape;
    # the probabilities are the one prediction path's (what the lessons and fercourse evaluate get).
    crop = crop_face(to_gray(astronaut), face.box, margin=detector.margin)
    expected = cnn.predict(model_input("cnn", crop[None]), verbose=0)[0]
    assert np.allclose([face.probabilities[e] for e in EMOTIONS], expected, atol=1e-5)
    assert [face.probabilities[e] for e in EMOTIONS] == predict_proba(cnn, crop[None])[0].tolist()
    assert face.to_dict()["box"] == list(face.box)


@pytest.mark.parametrize("name", ["haar", "mtcnn"])
def test_emotion_detector_with_each_detector(name, cnn, astronaut):
    detector = EmotionDetector(cnn, detector=name)
    assert detector.settings.detector == name and f"detector={name!r}" in repr(detector)
    # Each detector crops with its own margin unless one is given (MTCNN's boxes are already larger).
    assert detector.margin == {"haar": 0.05, "mtcnn": 0.0}[name]
    assert EmotionDetector(cnn, detector=name, margin=0.2).margin == 0.2
    [face] = detector.detect(astronaut)
    assert iou(face.box, ASTRONAUT_FACE_BY_HAND) > 0.6 and list(face.probabilities) == list(EMOTIONS)
    assert detector.detect(skimage_data.coffee()) == []


def test_no_face_gives_an_empty_list(detector):
    assert detector.detect(np.full((300, 400, 3), 90, dtype=np.uint8)) == []
    assert detector.classify(np.zeros((0, 48, 48), dtype=np.uint8)).shape == (0, 7)


def test_every_model_input_layout(astronaut):
    import keras

    from fercourse.models import build_model

    for name, layout, shape in (("mlp", "flat", (2304,)), ("lstm", "sequence", (48, 48)),
                                ("cnn", "image", (48, 48, 1))):
        detector = EmotionDetector(build_model(name) if name != "cnn" else build_model("cnn", width=8))
        assert (detector.layout, detector.input_shape) == (layout, shape)
        [face] = detector.detect(astronaut)
        assert sum(face.probabilities.values()) == pytest.approx(1.0, abs=1e-5)
    wrong = keras.Sequential([keras.Input((64, 64, 1)), keras.layers.Flatten(), keras.layers.Dense(7)])
    with pytest.raises(ValueError, match=r"takes input \(None, 64, 64, 1\): expected"):
        EmotionDetector(wrong)
    five = keras.Sequential([keras.Input((2304,)), keras.layers.Dense(5)])
    with pytest.raises(ValueError, match=r"outputs \(None, 5\): expected \(None, 7\)"):
        EmotionDetector(five)
    with pytest.raises(TypeError, match="expected a Keras model or a path"):
        EmotionDetector(42)


def test_logits_get_a_softmax(astronaut):
    import keras

    logits = keras.Sequential([keras.Input((2304,)), keras.layers.Dense(7, kernel_initializer="ones",
                                                                         bias_initializer="zeros")])
    [face] = EmotionDetector(logits).detect(astronaut)
    assert all(p == pytest.approx(1 / 7, abs=1e-6) for p in face.probabilities.values())


@pytest.mark.filterwarnings("ignore:Skipping variable loading")  # an untrained optimizer
def test_model_from_a_saved_path(cnn, tmp_path, astronaut):
    path = tmp_path / "cnn.keras"
    cnn.save(path)
    loaded = EmotionDetector(path)
    expected = EmotionDetector(cnn).detect(astronaut)[0].probabilities
    assert loaded.detect(astronaut)[0].probabilities == pytest.approx(expected, abs=1e-6)
    with pytest.raises(FileNotFoundError, match=r"nope\.keras: no saved model here; train one first"):
        EmotionDetector(tmp_path / "nope.keras")
    (tmp_path / "junk.keras").write_text("junk")
    with pytest.raises(ValueError, match=r"junk\.keras: could not load a Keras model"):
        EmotionDetector(tmp_path / "junk.keras")


def test_detect_batch_matches_detect(detector, astronaut):
    blank = np.zeros((200, 200), dtype=np.uint8)
    batch = detector.detect_batch([astronaut, blank, astronaut[:, ::-1]])
    assert [len(faces) for faces in batch] == [1, 0, 1]
    single = detector.detect(astronaut)[0]
    assert batch[0][0].box == single.box
    assert batch[0][0].probabilities == pytest.approx(single.probabilities, abs=1e-5)
    assert detector.detect_batch([]) == []


def test_annotate_draws_on_a_copy(astronaut):
    face = Detection(ASTRONAUT_FACE, "happy", 0.87, dict(zip(EMOTIONS, [0.0, 0, 0, 0.87, 0, 0, 0.13])))
    original = astronaut.copy()
    drawn = annotate(astronaut, [face])
    assert drawn.shape == astronaut.shape and np.array_equal(astronaut, original)
    x, y, w, h = ASTRONAUT_FACE
    assert drawn[y + h // 2, x].tolist() == [255, 127, 14]  # the box edge in happy's color
    assert np.array_equal(drawn[300:, :], astronaut[300:, :])  # nothing drawn far from the face
    assert np.array_equal(annotate(astronaut, []), astronaut)
    with pytest.raises(TypeError, match="detection 1: expected a Detection"):
        annotate(astronaut, [ASTRONAUT_FACE])


def test_plot_probabilities_draws_seven_bars_in_order():
    from matplotlib.figure import Figure

    from fercourse.demo import plot_probabilities

    values = [0.05, 0.0, 0.1, 0.6, 0.05, 0.1, 0.1]
    face = Detection((0, 0, 10, 10), "happy", 0.6, dict(zip(EMOTIONS, values)))
    ax = Figure().add_subplot()
    assert plot_probabilities(face, ax=ax) is ax
    assert [bar.get_width() for bar in ax.patches] == values
    assert [label.get_text() for label in ax.get_yticklabels()] == list(EMOTIONS)
    assert ax.get_title() == "happy 60%"


def test_plots_and_demo_draw_each_emotion_in_one_colour():
    from matplotlib.colors import to_rgb
    from matplotlib.figure import Figure

    from fercourse import plotting
    from fercourse.demo import plot_probabilities
    from fercourse.labels import emotion_rgb

    as_rgb = [tuple(round(255 * channel) for channel in to_rgb(color)) for color in plotting.EMOTION_COLORS]
    assert as_rgb == [emotion_rgb(name) for name in EMOTIONS]
    boxes = [annotate(np.zeros((100, 100, 3), dtype=np.uint8), [Detection((20, 20, 40, 40), name, 0.5, {})])
             [40, 20] for name in EMOTIONS]  # a pixel on each box's left edge
    assert [tuple(pixel.tolist()) for pixel in boxes] == as_rgb
    face = Detection((0, 0, 10, 10), "happy", 0.6, dict(zip(EMOTIONS, [0.1] * 7)))
    bars = plot_probabilities(face, ax=Figure().add_subplot()).patches
    y_true = np.repeat(np.arange(7), 2)
    roc = plotting.plot_roc_curves(y_true, np.eye(7)[y_true] * 0.5 + 0.05, ax=Figure().add_subplot())
    palette = [to_rgb(color) for color in plotting.EMOTION_COLORS]
    assert [to_rgb(bar.get_facecolor()) for bar in bars] == palette
    assert [to_rgb(line.get_color()) for line in roc.lines[:7]] == palette


# --- the app, driven from Python --------------------------------------------------------------------

def upload(app, name: str, content: bytes) -> None:
    import datetime

    app.upload.value = ({"name": name, "type": "image/png", "size": len(content),
                         "content": memoryview(content),
                         "last_modified": datetime.datetime.now(datetime.timezone.utc)},)


def test_app_shows_the_annotated_photo_and_a_chart_per_face(detector, astronaut):
    import ipywidgets as widgets

    from fercourse.demo import upload_app

    app = upload_app(detector)
    assert isinstance(app, widgets.VBox) and "image" in app.upload.accept
    assert app._repr_mimebundle_()["text/plain"] == (
        "Upload-and-detect app: run this notebook in JupyterLab, Notebook 7 or Voila to use it")
    app.button.click()
    assert "No photo yet" in app.output.children[0].value
    upload(app, "astronaut.png", png_bytes(astronaut))
    app.button.click()
    message, photo, charts = app.output.children
    [face] = detector.detect(astronaut)
    assert f"1 face in astronaut.png: face 1: <b>{face.emotion}</b>" in message.value
    assert isinstance(photo, widgets.Image) and photo.value[:8] == b"\x89PNG\r\n\x1a\n"
    shown = np.asarray(Image.open(io.BytesIO(photo.value)).convert("RGB"))
    assert np.array_equal(shown, annotate(astronaut, [face]))
    assert len(charts.children) == 1 and charts.children[0].value[:4] == b"\x89PNG"
    assert not app.button.disabled


def test_app_says_so_for_no_face_and_bad_files(detector):
    from fercourse.demo import upload_app

    app = upload_app(detector)
    upload(app, "wall.png", png_bytes(np.full((200, 300), 120, dtype=np.uint8)))
    app.button.click()
    assert "No face found in wall.png" in app.output.children[0].value
    upload(app, "notes.jpg", b"shopping list: eggs")
    app.button.click()
    [message] = app.output.children
    assert "Could not read this file. notes.jpg: not an image file" in message.value


# --- calibrated probabilities and "uncertain" ---------------------------------------------------------

def test_the_shipped_detector_reports_probabilities_calibrated_on_validation():
    from fercourse.models.calibrated import read_calibration_record
    from fercourse.models.pretrained import pretrained_path

    detector = EmotionDetector()
    stored = read_calibration_record(pretrained_path())
    assert detector.calibration.temperature == stored["temperature"]
    assert detector.threshold() == stored["threshold"]["threshold"]  # the one chosen on validation
    assert detector.describe_calibration()["source"] == "fer2013_reference.calibration.json"
    assert EmotionDetector(mark_uncertain=False).threshold() is None
    assert EmotionDetector(calibration=None).calibration is None


def test_faces_below_the_threshold_are_uncertain_unless_turned_off(cnn, astronaut):
    from fercourse.demo.detector import UNCERTAIN_RGB, label_text
    from fercourse.models.calibrated import Calibration
    from fercourse.models.calibration import apply_temperature

    raw = EmotionDetector(cnn).detect(astronaut)[0]
    unsure = EmotionDetector(cnn, calibration=Calibration(temperature=2.0, threshold=0.99))
    [face] = unsure.detect(astronaut)
    expected = apply_temperature(np.array([list(raw.probabilities.values())]), 2.0)[0]
    assert list(face.probabilities.values()) == pytest.approx(expected.tolist())
    assert face.emotion == raw.emotion and face.uncertain and face.decision == "uncertain"
    assert face.to_dict()["decision"] == "uncertain"
    assert label_text(face) == f"uncertain ({face.emotion} {face.confidence:.0%})"
    assert not unsure.detect(astronaut, mark_uncertain=False)[0].uncertain
    assert not EmotionDetector(cnn, calibration=Calibration(2.0, 0.99), mark_uncertain=False).detect(
        astronaut)[0].uncertain
    assert unsure.detect_batch([astronaut])[0][0].uncertain
    # The box is drawn in gray, not in the emotion's colour.
    x, y, w, h = face.box
    assert tuple(annotate(astronaut, [face])[y + h // 2, x]) == UNCERTAIN_RGB


def test_a_calibration_measured_for_another_model_is_ignored_with_a_warning(cnn, tmp_path, astronaut):
    from fercourse.models.calibrated import write_calibration

    path = tmp_path / "mine.keras"
    cnn.save(path)
    record = {"temperature": 3.0, "threshold": {"threshold": 0.5, "target_accuracy": 0.75}}
    write_calibration(path, record, data="sample", command="test")
    assert EmotionDetector(path).calibration.temperature == 3.0
    cnn.save(tmp_path / "other.keras")
    path.write_bytes((tmp_path / "other.keras").read_bytes() + b"\0")  # another file, same name
    with pytest.warns(UserWarning, match="measured for another mine.keras"):
        detector = EmotionDetector(path)
    assert detector.calibration is None


def test_app_says_uncertain_and_its_checkbox_turns_it_off(cnn, astronaut):
    from fercourse.demo import upload_app
    from fercourse.models.calibrated import Calibration

    app = upload_app(EmotionDetector(cnn, calibration=Calibration(temperature=1.0, threshold=0.99)))
    assert app.mark_uncertain.value and not app.mark_uncertain.disabled
    assert "99%" in app.mark_uncertain.description
    upload(app, "astronaut.png", png_bytes(astronaut))
    app.button.click()
    assert "face 1: <b>uncertain</b> (" in app.output.children[0].value
    app.mark_uncertain.value = False
    app.button.click()
    assert "uncertain" not in app.output.children[0].value
    assert upload_app(EmotionDetector(cnn)).mark_uncertain.disabled  # no calibration: nothing to turn on


# --- the lesson notebook -----------------------------------------------------------------------------

@pytest.mark.slow
def test_demo_notebook_runs_on_the_sample(tmp_path, monkeypatch):
    import json
    import re
    from pathlib import Path

    papermill = pytest.importorskip("papermill")
    notebooks = Path(__file__).resolve().parents[2] / "notebooks"
    source = notebooks / "07_demo.ipynb"
    stored = json.loads(source.read_text())
    assert all(not cell.get("outputs") for cell in stored["cells"] if cell["cell_type"] == "code")
    output = tmp_path / "07_demo.ipynb"
    monkeypatch.delenv("MPLBACKEND", raising=False)  # conftest's Agg would hide the inline figures
    papermill.execute_notebook(str(source), str(output), cwd=str(notebooks), kernel_name="python3",
                               parameters={"quick": True, "num_epochs": 2},
                               progress_bar=False)  # model_file None: the model that ships with fercourse
    executed = json.loads(output.read_text())
    outputs = [o for cell in executed["cells"] if cell["cell_type"] == "code" for o in cell["outputs"]]
    stdout = "".join("".join(o["text"]) for o in outputs if o.get("name") == "stdout")
    assert "the model that ships with fercourse: recipe 'reference'" in stdout
    # The astronaut's smile, pre-rendered for the book.
    box = re.search(r"face 1 at \((\d+), (\d+), (\d+), (\d+)\): happy", stdout)
    assert box and iou(tuple(int(v) for v in box.groups()), ASTRONAUT_FACE_BY_HAND) > 0.7
    # The calibration section: the detector reports the temperature and threshold stored with the model.
    assert re.search(r"the detector's calibration \(fer2013_reference.calibration.json\): "
                     r"temperature \d\.\d{3}, uncertain below 0\.\d{3}", stdout)
    assert re.search(r"face at \(\d+, \d+, \d+, \d+\): happy \(top: happy", stdout)
    assert sum("image/png" in o.get("data", {}) for o in outputs) >= 6
    assert any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in outputs)
