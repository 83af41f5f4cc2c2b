"""Lossless conversion between formats and the instructor's course release."""

import csv

import numpy as np
import pytest

from fercourse.data import Dataset, Split, load
from fercourse.data.writers import prepare, save


@pytest.fixture(scope="module")
def dataset():
    data = load("sample", n_train=70, n_test=21, seed=4)
    val = Split(data.train.images[:7], data.train.labels[:7], np.array([f"v{i}" for i in range(7)]))
    return Dataset({"train": data.train.subset(np.arange(7, 70)), "val": val, "test": data.test}, "sample")


@pytest.mark.parametrize("fmt", ["kaggle-csv", "course-csv", "folders"])
def test_convert_then_load_gives_identical_arrays_and_labels(tmp_path, dataset, fmt):
    save(dataset, tmp_path, fmt)
    reloaded = load(tmp_path, cache=False)
    assert list(reloaded.splits) == ["train", "val", "test"]
    for name, split in dataset.splits.items():
        np.testing.assert_array_equal(reloaded[name].images, split.images)
        np.testing.assert_array_equal(reloaded[name].labels, split.labels)
    if fmt == "course-csv":
        assert reloaded.test.ids.tolist() == dataset.test.ids.tolist()


def test_kaggle_csv_needs_labels(tmp_path):
    images = np.zeros((2, 48, 48), np.uint8)
    unlabelled = Dataset({"train": Split(images, np.array([0, 1]), np.array(["a", "b"])),
                          "test": Split(images, None, np.array(["c", "d"]))}, "handmade")
    with pytest.raises(ValueError, match="test split has no labels"):
        save(unlabelled, tmp_path, "kaggle-csv")


def read_rows(path):
    with open(path, newline="") as handle:
        return list(csv.reader(handle))


def test_prepare_writes_release_and_instructor_key(tmp_path, dataset):
    release = prepare(dataset, tmp_path, salt="course-2026")
    train_rows, test_rows, key_rows = (read_rows(p) for p in
                                       (release.train_csv, release.test_csv, release.answer_key))
    assert train_rows[0] == ["id", "emotion", "pixels"]
    assert test_rows[0] == ["id", "pixels"]
    assert key_rows[0] == ["id", "emotion"]
    assert len(train_rows) - 1 == 70 and len(test_rows) - 1 == 21 and len(key_rows) - 1 == 21
    assert release.answer_key.parent.name == "instructor" and release.test_csv.parent.name == "release"
    # Test ids match the key, reveal nothing of the source order and are stable for the same salt.
    assert [r[0] for r in test_rows[1:]] == [r[0] for r in key_rows[1:]]
    assert not any(r[0].startswith("test-") for r in test_rows[1:])
    again = prepare(dataset, tmp_path / "again", salt="course-2026")
    assert read_rows(again.answer_key) == key_rows
    assert again.answer_key_sha256 == release.answer_key_sha256
    other = prepare(dataset, tmp_path / "other", salt="another-course")
    assert read_rows(other.answer_key)[1][0] != key_rows[1][0]
    # The key's labels are the test images' true labels; the released faces are the source's.
    loaded = load(release.train_csv, cache=False)
    assert loaded.test.labels is None
    by_id = {row[0]: int(row[1]) for row in key_rows[1:]}
    original = {img.tobytes(): int(lab) for img, lab in zip(dataset.test.images, dataset.test.labels)}
    assert all(original[img.tobytes()] == by_id[i] for img, i in zip(loaded.test.images, loaded.test.ids))
