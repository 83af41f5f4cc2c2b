"""``fercourse bench detect``'s computations: the photo sets, the scoring, the choice of default, the table.

The figures checked here are the ones the benchmark computes from boxes; its timings vary by
machine and are only checked to be printed as measured (tests/test_detect_cli.py).
"""

from __future__ import annotations

import numpy as np
import pytest

from fercourse.bench.detect import choose_default, format_table
from fercourse.bench.face_photos import Photo, fer2013_photos, fit_to_frame, iou, score_boxes
from fercourse.labels import EMOTIONS

cv2 = pytest.importorskip("cv2")


def photo(*faces) -> Photo:
    return Photo("test", np.zeros((480, 640, 3), dtype=np.uint8), faces)


def test_score_boxes_counts_each_face_once_and_every_other_box_as_false():
    photos = [photo((0, 0, 100, 100), (300, 300, 50, 50)), photo(), photo((10, 10, 40, 40))]
    found = [
        # the first face twice (the better box finds it, the other is false), a box near the second
        # face but overlapping it too little (IoU 0.28 < 0.3), and a box on nothing
        [(5, 5, 100, 100), (0, 0, 90, 90), (330, 300, 50, 50), (500, 10, 20, 20)],
        [(0, 0, 30, 30)],  # a face-free photo: false
        [(10, 10, 40, 40)],
    ]
    assert iou((330, 300, 50, 50), (300, 300, 50, 50)) == pytest.approx(20 / 80)
    assert score_boxes(found, photos) == {"photos": 3, "faces": 3, "found": 2, "recall": 2 / 3,
                                          "false_boxes": 4}
    assert score_boxes(found, photos, min_iou=0.2)["found"] == 3
    assert score_boxes([[], []], [photo(), photo()]) == {"photos": 2, "faces": 0, "found": 0, "recall": None,
                                                         "false_boxes": 0}
    with pytest.raises(ValueError, match="boxes for 1 photos and 3 photos"):
        score_boxes([[]], photos)


def test_choose_default_takes_the_most_faces_found_under_the_goal():
    figures = {"haar": {"median_ms": 80.0, "sets": {"faces": {"found": 2}, "fer2013": {"found": 160}}},
               "mtcnn": {"median_ms": 120.0, "sets": {"faces": {"found": 3}, "fer2013": {"found": 190}}}}
    assert choose_default(figures) == "mtcnn"
    assert choose_default(figures, goal_ms=100.0) == "haar"
    assert choose_default(figures, goal_ms=50.0) == "haar"  # none fast enough: the fastest
    figures["mtcnn"]["sets"]["fer2013"]["found"] = 159  # 162 faces found each: the faster wins
    assert choose_default(figures) == "haar"
    with pytest.raises(ValueError, match="no detector results"):
        choose_default({})


def test_fit_to_frame_centres_the_photo_and_moves_its_faces():
    tall = np.full((600, 512), 255, dtype=np.uint8)
    frame, boxes = fit_to_frame(tall, [(100, 60, 50, 100)])
    assert frame.shape == (480, 640, 3) and frame.dtype == np.uint8
    # 600 px tall -> 480: scale 0.8, 410 px wide, centred with a 115 px gray border left and right
    assert boxes == ((115 + 80, 48, 40, 80),)
    assert (frame[:, :115] == 128).all() and (frame[:, 525:] == 128).all()
    assert (frame[:, 115:525] == 255).all()
    mask, _ = fit_to_frame(np.ones((48, 64), dtype=bool))
    assert mask.min() == 255


def fake_fer2013(root, per_class: int = 4):
    """FER2013's folder layout holding random 48x48 gray noise (no real faces)."""
    rng = np.random.default_rng(1)
    for emotion in EMOTIONS:
        folder = root / "test" / emotion
        folder.mkdir(parents=True)
        for number in range(per_class):
            noise = rng.integers(0, 256, (48, 48), dtype=np.uint8)
            cv2.imwrite(str(folder / f"PublicTest_{number}.jpg"), noise)
    return root


def test_fer2013_photos_paste_each_face_where_its_box_says(tmp_path):
    root = fake_fer2013(tmp_path)
    background = Photo("plain", np.full((480, 640, 3), 7, dtype=np.uint8))
    photos = fer2013_photos(root, [background], faces_per_class=2, faces_per_photo=3, min_side=64,
                            max_side=128, seed=3)
    assert len(photos) == 5 and [len(p.faces) for p in photos] == [3, 3, 3, 3, 2]  # 14 faces, 3 to a photo
    assert [p.name for p in photos][:2] == ["fer2013_0_on_plain", "fer2013_1_on_plain"]
    for pasted in photos:
        assert pasted.rgb.shape == (480, 640, 3)
        painted = np.zeros((480, 640), dtype=int)
        for x, y, w, h in pasted.faces:
            assert w == h and 64 <= w <= 128 and 0 <= x <= 640 - w and 0 <= y <= 480 - h
            painted[y:y + h, x:x + w] += 1
            face = pasted.rgb[y:y + h, x:x + w]
            assert (face[..., 0] == face[..., 1]).all() and face.std() > 20  # gray noise, not the background
        assert painted.max() == 1  # no two faces overlap
        assert (pasted.rgb[painted == 0] == 7).all()  # the background elsewhere
    again = fer2013_photos(root, [background], faces_per_class=2, faces_per_photo=3, seed=3, min_side=64,
                           max_side=128)
    assert [p.faces for p in again] == [p.faces for p in photos]
    with pytest.raises(FileNotFoundError, match="expected at least 5"):
        fer2013_photos(root, [background], faces_per_class=5)
    with pytest.raises(FileNotFoundError, match="no such folder"):
        fer2013_photos(tmp_path / "elsewhere", [background])


def test_format_table_prints_the_figures_and_ratios_to_the_first_detector():
    def figures(found, fer_found, false_free, ms):
        return {"median_ms": ms, "median_cpu_ms": ms / 2, "detect_ms": ms - 5, "classify_ms": 5.0,
                "images_per_second": round(1000 / ms, 1), "meets_goal": ms < 150,
                "sets": {"faces": {"photos": 3, "faces": 3, "found": found, "false_boxes": 0},
                         "face_free": {"photos": 18, "faces": 0, "found": 0, "false_boxes": false_free},
                         "fer2013": {"photos": 70, "faces": 210, "found": fer_found, "false_boxes": 1}}}

    result = {"model": "cnn_simple", "cpu_count": 2, "load_average_at_start": 0.5, "load_average": 1.5,
              "repeats": 20, "batch": 16, "goal_ms": 150.0, "fer2013": "/data/fer2013", "best": "mtcnn",
              "default": "mtcnn",
              "detectors": {"haar": figures(2, 160, 8, 100.0), "mtcnn": figures(3, 200, 0, 160.0)}}
    table = format_table(result)
    lines = table.splitlines()
    assert lines[0] == "face detectors, model cnn_simple, 2 CPUs, load average 0.5 at start, 1.5 at end:"
    assert lines[1].split() == ["haar", "mtcnn", "mtcnn/haar"]
    assert lines[2].split()[-5:] == ["2", "(67%)", "3", "(100%)", "1.50"]
    assert lines[3].startswith("faces found, FER2013 test faces pasted into photos (210 faces)")
    assert lines[3].split()[-5:] == ["160", "(76%)", "200", "(95%)", "1.25"]
    assert lines[4].startswith("false boxes, face-free real photos (18 photos)")
    assert lines[4].split()[-3:] == ["8", "0", "-"]
    assert lines[6].split()[-3:] == ["100.0", "160.0", "1.60"]
    assert lines[11].split()[-3:] == ["yes", "NO", "-"]
    assert lines[-1].startswith("best default by this run: mtcnn")
    assert "FER2013 not scored" not in table
    result["fer2013"] = None
    for each in result["detectors"].values():
        del each["sets"]["fer2013"]
    assert "(FER2013 not scored: pass --fer2013 DIR or set FERCOURSE_FER2013)" in format_table(result)
