"""Every loader on small files written here, every malformed case, and the lesson helpers."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from fercourse.data import (
    Split,
    as_flat,
    class_weights,
    find_duplicates,
    load,
    train_val_split,
)
from fercourse.errors import DataError
from fercourse.labels import EMOTIONS

RNG = np.random.default_rng(7)
IMAGES = RNG.integers(0, 256, size=(6, 48, 48), dtype=np.uint8)
LABELS = np.array([0, 1, 2, 3, 4, 6])


def pixels(image: np.ndarray) -> str:
    return " ".join(map(str, image.ravel()))


def write_kaggle(path, rows=None):
    rows = rows if rows is not None else [
        (LABELS[i], pixels(IMAGES[i]), ["Training", "Training", "Training", "PublicTest", "PrivateTest",
                                        "PrivateTest"][i]) for i in range(6)]
    lines = ["emotion,pixels,Usage"] + [f"{e},{p},{u}" for e, p, u in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def write_course(folder, train_rows=None, test_rows=None, prefix="my_emotion_"):
    train_rows = train_rows if train_rows is not None else [
        f"t{i},{LABELS[i]},{pixels(IMAGES[i])}" for i in range(4)]
    test_rows = test_rows if test_rows is not None else [f"q{i},{pixels(IMAGES[i])}" for i in range(4, 6)]
    train = folder / f"{prefix}train.csv"
    test = folder / f"{prefix}test.csv"
    train.write_text("\n".join(["id,emotion,pixels"] + train_rows) + "\n")
    test.write_text("\n".join(["id,pixels"] + test_rows) + "\n")
    return train, test


def write_folders(root, spelling=None, size=48, mode="L"):
    spelling = spelling or {}
    for split, indices in (("train", range(4)), ("test", range(4, 6))):
        for i in indices:
            name = spelling.get(EMOTIONS[LABELS[i]], EMOTIONS[LABELS[i]])
            folder = root / split / name
            folder.mkdir(parents=True, exist_ok=True)
            image = Image.fromarray(IMAGES[i], mode="L")
            if mode != "L" or size != 48:
                image = image.convert(mode).resize((size, size))
            image.save(folder / f"img{i}.png")
    return root


# ----------------------------------------------------------------------------- happy paths


def test_kaggle_csv_usage_becomes_train_val_test(tmp_path):
    data = load(write_kaggle(tmp_path / "fer2013.csv"), cache=False)
    assert list(data.splits) == ["train", "val", "test"]
    assert len(data.train) == 3 and len(data.val) == 1 and len(data.test) == 2
    np.testing.assert_array_equal(data.train.images, IMAGES[:3])
    assert data.train.images.dtype == np.uint8 and data.train.images.shape == (3, 48, 48)
    assert data.test.labels.tolist() == [4, 6]


def test_course_csvs_find_the_test_twin_by_name(tmp_path):
    train, _ = write_course(tmp_path)
    data = load(train, cache=False)
    assert data.train.ids.tolist() == ["t0", "t1", "t2", "t3"]
    assert data.train.labels.tolist() == [0, 1, 2, 3]
    assert data.test.labels is None and data.test.ids.tolist() == ["q4", "q5"]
    np.testing.assert_array_equal(data.test.images, IMAGES[4:])


def test_course_csv_folder_and_explicit_test(tmp_path):
    write_course(tmp_path, prefix="")
    assert len(load(tmp_path, cache=False).test) == 2
    other = tmp_path / "other"
    other.mkdir()
    train, test = write_course(other, prefix="x_")
    renamed = other / "held_out.csv"
    test.rename(renamed)
    assert len(load(train, test=renamed, cache=False).test) == 2


def test_course_csv_accepts_emotion_names(tmp_path):
    rows = [f"a,Disgusted,{pixels(IMAGES[0])}", f"b,happy,{pixels(IMAGES[1])}"]
    train, _ = write_course(tmp_path, train_rows=rows)
    assert load(train, cache=False).train.labels.tolist() == [1, 3]


def test_image_folders_with_aliases_map_to_canonical(tmp_path):
    root = write_folders(tmp_path, spelling={"disgust": "disgusted", "fear": "fearful"})
    data = load(root, cache=False)
    assert sorted(data.train.labels.tolist()) == [0, 1, 2, 3]
    assert data.test.labels.tolist() == [4, 6]
    by_id = dict(zip(data.train.ids, data.train.images))
    np.testing.assert_array_equal(by_id["disgusted/img1"], IMAGES[1])
    assert data.converted == 0


def test_folder_images_of_other_size_and_mode_are_converted_and_counted(tmp_path, capsys):
    root = write_folders(tmp_path, size=96, mode="RGB")
    data = load(root, cache=False)
    assert data.converted == 6
    assert data.train.images.shape == (4, 48, 48)
    assert "converted 6 images" in capsys.readouterr().err


def test_second_load_comes_from_the_cache(tmp_path, monkeypatch):
    path = write_kaggle(tmp_path / "fer2013.csv")
    first = load(path)
    import fercourse.data.sources as data_module

    monkeypatch.setattr(data_module, "read_csv", lambda *a, **k: pytest.fail("read the CSV again"))
    second = load(path)
    np.testing.assert_array_equal(first.train.images, second.train.images)
    assert second.test.ids.tolist() == first.test.ids.tolist()


def test_changed_file_is_read_again(tmp_path):
    path = write_kaggle(tmp_path / "fer2013.csv")
    load(path)
    rows = [(3, pixels(IMAGES[0]), "Training"), (5, pixels(IMAGES[1]), "PrivateTest")]
    write_kaggle(path, rows)
    assert load(path).train.labels.tolist() == [3]


# ----------------------------------------------------------------------------- malformed input


@pytest.mark.parametrize("content, pattern", [
    ("", "empty"),
    ("emotion,Usage\n0,Training\n", "no 'pixels' column"),
    ("emotion;pixels;Usage\n0;1 2;Training\n", "no 'pixels' column"),
    ("emotion,pixels,Usage\n", "no data rows"),
    ("emotion,pixels,Usage\n0,{short},Training\n", "line 2: found 2303 pixels: expected 2304"),
    ("emotion,pixels,Usage\n0,{good},Training\n0,{text},Training\n", "line 3: pixel 5 is non-integer"),
    ("emotion,pixels,Usage\n0,{negative},Training\n", "line 2: pixel 1 is negative"),
    ("emotion,pixels,Usage\n0,{big},Training\n", "line 2: pixel 2 is 256: expected an integer 0-255"),
    ("emotion,pixels,Usage\n0,,Training\n", "line 2: the pixels field is empty"),
    ("emotion,pixels,Usage\n7,{good},Training\n", "line 2: field 'emotion': label 7 is out of range: "
                                                     "expected an integer 0-6"),
    ("emotion,pixels,Usage\ncontempt,{good},Training\n", "line 2: field 'emotion': unknown emotion name "
                                                         "'contempt'"),
    ("emotion,pixels,Usage\n0,{good},Train\n", "line 2: field 'Usage' is 'Train'"),
    ("emotion,pixels,Usage\n0,{good}\n", "line 2: found 2 fields: expected 3"),
])
def test_malformed_csv_names_file_line_and_expectation(tmp_path, content, pattern):
    good = pixels(IMAGES[0])
    values = good.split()
    content = content.format(
        good=good, short=" ".join(values[:-1]), text=" ".join(values[:4] + ["x"] + values[5:]),
        negative=" ".join(["-3"] + values[1:]), big=" ".join(values[:1] + ["256"] + values[2:]))
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(DataError, match=pattern) as caught:
        load(path, cache=False)
    assert str(path) in str(caught.value)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.csv"):
        load(tmp_path / "nope.csv")
    with pytest.raises(FileNotFoundError, match="no such file or folder"):
        load(tmp_path / "missing")


def test_not_utf8_file(tmp_path):
    path = tmp_path / "binary.csv"
    path.write_bytes(b"emotion,pixels\n\xff\xfe\x00garbage\n")
    with pytest.raises(DataError, match="not UTF-8"):
        load(path, cache=False)


def test_skip_bad_rows_is_opt_in_and_reports_each_row(tmp_path, capsys):
    good = pixels(IMAGES[0])
    rows = [(0, good, "Training"), (9, good, "Training"), (1, "1 2 3", "PrivateTest"),
            (2, good, "PrivateTest")]
    path = write_kaggle(tmp_path / "fer2013.csv", rows)
    with pytest.raises(DataError):
        load(path, cache=False)
    data = load(path, cache=False, skip_bad_rows=True)
    assert len(data.train) == 1 and len(data.test) == 1
    assert len(data.skipped) == 2
    assert "line 3" in data.skipped[0] and "line 4" in data.skipped[1]
    assert "skipped 2 bad rows" in capsys.readouterr().err


def test_unknown_class_folder_is_named(tmp_path):
    root = write_folders(tmp_path)
    (root / "train" / "contempt").mkdir()
    with pytest.raises(DataError, match="unknown class folder 'contempt'"):
        load(root, cache=False)


def test_folder_without_images(tmp_path):
    for name in EMOTIONS:
        (tmp_path / "train" / name).mkdir(parents=True)
    (tmp_path / "test").mkdir()
    with pytest.raises(DataError, match="no images"):
        load(tmp_path, cache=False)


@pytest.mark.parametrize("payload", [b"this is not an image", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"])
def test_corrupt_or_non_image_file_is_named(tmp_path, payload):
    root = write_folders(tmp_path)
    bad = root / "train" / "happy" / "broken.jpg"
    bad.write_bytes(payload)
    with pytest.raises(DataError, match="broken.jpg: not a readable image"):
        load(root, cache=False)
    data = load(root, cache=False, skip_bad_rows=True)
    assert len(data.train) == 4 and "broken.jpg" in data.skipped[0]


def test_repeated_ids_in_a_course_csv(tmp_path):
    rows = [f"same,0,{pixels(IMAGES[0])}", f"same,1,{pixels(IMAGES[1])}"]
    train, _ = write_course(tmp_path, train_rows=rows)
    with pytest.raises(DataError, match="repeats"):
        load(train, cache=False)


# ----------------------------------------------------------------------------- helpers


def test_model_shapes_and_scaling():
    assert as_flat(IMAGES).shape == (6, 2304)
    flat = as_flat(IMAGES)
    assert flat.dtype == np.float32 and flat.min() >= 0.0 and flat.max() <= 1.0
    assert flat[0, 0] == pytest.approx(IMAGES[0, 0, 0] / 255)


def test_stratified_split_keeps_every_class_and_is_seeded(small_sample):
    train, val = train_val_split(small_sample.train, val_fraction=0.2, seed=3)
    assert len(train) + len(val) == len(small_sample.train)
    assert set(train.ids).isdisjoint(val.ids)
    assert set(np.unique(val.labels)) == set(np.unique(small_sample.train.labels))
    again = train_val_split(small_sample.train, val_fraction=0.2, seed=3)[1]
    assert val.ids.tolist() == again.ids.tolist()


def test_balanced_class_weights_match_sklearn():
    from sklearn.utils.class_weight import compute_class_weight

    y = np.array([0, 0, 0, 0, 1, 3, 3, 6])
    expected = compute_class_weight("balanced", classes=np.unique(y), y=y)
    assert list(class_weights(y).values()) == pytest.approx(expected, abs=1e-4)


def test_oversample_balances_keeps_every_row_and_repeats_only_within_a_class():
    from fercourse.data import oversample

    y = np.array([3] * 50 + [1] * 3 + [6] * 10)
    indices = oversample(y, seed=1)
    assert np.bincount(y[indices], minlength=7).tolist() == [0, 50, 0, 50, 0, 0, 50]
    assert set(indices) == set(range(len(y)))  # every original row at least once
    assert np.array_equal(indices, oversample(y, seed=1))
    assert not np.array_equal(indices, oversample(y, seed=2))
    assert len(set(indices[y[indices] == 1])) == 3  # disgust's 50 rows are its own 3 rows again
    with pytest.raises(ValueError, match="labels: expected a non-empty 1-D array"):
        oversample(np.array([], dtype=int))


def test_duplicates_within_and_across_splits():
    from fercourse.data import Dataset

    train = Split(IMAGES[[0, 1, 1, 2]], np.array([0, 1, 1, 2]), np.array(list("abcd")))
    test = Split(IMAGES[[2, 3, 0]], np.array([5, 3, 0]), np.array(list("efg")))
    report = find_duplicates(Dataset({"train": train, "test": test}, "handmade"))
    assert report.within == {"train": 1, "test": 0}
    assert report.across == {"test": 2}
    assert report.conflicting_labels == 1  # image 2 is 'fear' in train but 'surprise' in test


def test_unlabelled_split_has_no_y():
    split = Split(IMAGES[:2], None, np.array(["a", "b"]))
    with pytest.raises(ValueError, match="no labels"):
        _ = split.y
    assert split.counts() == {}


def test_parallel_parse_works_from_a_script_without_a_main_guard(tmp_path):
    # Students' scripts rarely have `if __name__ == "__main__":`; worker processes must not re-run them.
    import subprocess
    import sys

    rows = [(i % 7, pixels(IMAGES[i % 6]), "Training") for i in range(40)]
    path = write_kaggle(tmp_path / "fer2013.csv", rows)
    script = tmp_path / "student_script.py"
    script.write_text(
        "from fercourse.data import readers\n"
        "readers.CHUNK_BYTES = 20_000  # several chunks from a small file\n"
        f"raw = readers.read_csv({str(path)!r}, workers=2)\n"
        "print(len(raw.images), raw.labels[:8].tolist())\n")
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[0] == "40 [0, 1, 2, 3, 4, 5, 6, 0]"
    assert "parsing in one process" not in result.stderr
