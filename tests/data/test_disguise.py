"""The disguise of released test faces (fercourse.data.disguise) and how prepare applies it."""

import numpy as np
import pytest

from fercourse.data import Dataset, Split, load
from fercourse.data.disguise import MAX_SHIFT, MIN_SHIFT, disguise_faces, disguise_for
from fercourse.data.duplicates import _image_keys
from fercourse.data.writers import prepare


@pytest.fixture(scope="module")
def sample():
    return load("sample", n_train=140, n_test=70, seed=3)


def test_same_salt_same_faces_other_salt_other_faces(sample):
    faces, ids = sample.test.images, sample.test.ids
    once = disguise_faces(faces, ids, salt="course-2026")
    np.testing.assert_array_equal(disguise_faces(faces, ids, salt="course-2026"), once)
    other = disguise_faces(faces, ids, salt="course-2027")
    assert (other != once).any(axis=(1, 2)).mean() > 0.5
    # A face's disguise depends on its id and the salt only, not on its neighbours or position.
    np.testing.assert_array_equal(disguise_faces(faces[::-1], ids[::-1], salt="course-2026"), once[::-1])


def test_every_face_changes_and_keeps_shape_dtype_and_range(sample):
    faces = sample.test.images
    moved = disguise_faces(faces, sample.test.ids, salt="s")
    assert moved.shape == faces.shape and moved.dtype == np.uint8
    assert (moved != faces).any(axis=(1, 2)).all()
    # Edge padding repeats pixels, so no value outside each face's own range appears.
    assert (moved.min(axis=(1, 2)) >= faces.min(axis=(1, 2))).all()
    assert (moved.max(axis=(1, 2)) <= faces.max(axis=(1, 2))).all()
    np.testing.assert_array_equal(faces, load("sample", n_train=140, n_test=70, seed=3).test.images)


def test_disguise_is_the_shift_and_flip_it_names():
    face = np.random.default_rng(0).integers(0, 256, (1, 48, 48), dtype=np.uint8)
    d = disguise_for("salt", "x")
    assert MIN_SHIFT <= abs(d.dy) <= MAX_SHIFT and MIN_SHIFT <= abs(d.dx) <= MAX_SHIFT
    moved = disguise_faces(face, ["x"], "salt")[0]
    unflipped = moved[:, ::-1] if d.flip else moved
    # Away from the padded border, the face is the original moved by (dy, dx).
    inner = slice(MAX_SHIFT, 48 - MAX_SHIFT)
    np.testing.assert_array_equal(unflipped[inner, inner],
                                  face[0, MAX_SHIFT - d.dy:48 - MAX_SHIFT - d.dy,
                                       MAX_SHIFT - d.dx:48 - MAX_SHIFT - d.dx])
    flips = [disguise_for("salt", str(i)).flip for i in range(400)]
    assert 0.4 < np.mean(flips) < 0.6


def test_bad_input_names_what_was_expected():
    with pytest.raises(ValueError, match=r"expected \(n, 48, 48\) uint8"):
        disguise_faces(np.zeros((2, 48, 48), np.float32), ["a", "b"], "s")
    with pytest.raises(ValueError, match="1 ids for 2 faces"):
        disguise_faces(np.zeros((2, 48, 48), np.uint8), ["a"], "s")


def test_prepare_disguises_test_faces_only(tmp_path, sample):
    val = Split(sample.train.images[:14], sample.train.labels[:14], np.array([f"v{i}" for i in range(14)]))
    dataset = Dataset({"train": sample.train.subset(np.arange(14, 140)), "val": val, "test": sample.test},
                      "sample")
    disguised = prepare(dataset, tmp_path / "on", salt="course-2026", disguise_test=True)
    plain = prepare(dataset, tmp_path / "off", salt="course-2026", disguise_test=False)
    assert disguised.test_disguised and not plain.test_disguised
    # By default only real data is disguised: the built-in sample's faces cannot be looked up anywhere.
    assert not prepare(dataset, tmp_path / "default", salt="course-2026").test_disguised
    on, off = load(disguised.train_csv, cache=False), load(plain.train_csv, cache=False)
    # Ids, key and train are exactly those of the undisguised release.
    assert on.test.ids.tolist() == off.test.ids.tolist()
    assert disguised.answer_key.read_bytes() == plain.answer_key.read_bytes()
    assert disguised.answer_key_sha256 == plain.answer_key_sha256
    assert disguised.train_csv.read_bytes() == plain.train_csv.read_bytes()
    # No released test face is found by an exact pixel match in the source, any split of it.
    public = set(_image_keys(np.concatenate([s.images for s in dataset.splits.values()])).tolist())
    assert not public & set(_image_keys(on.test.images).tolist())
    assert set(_image_keys(off.test.images).tolist()) <= public
    # Each released face is its source face under its disguise.
    np.testing.assert_array_equal(on.test.images,
                                  disguise_faces(off.test.images, off.test.ids, "course-2026"))
    again = load(prepare(dataset, tmp_path / "again", salt="course-2026", disguise_test=True).train_csv,
                 cache=False)
    np.testing.assert_array_equal(again.test.images, on.test.images)
