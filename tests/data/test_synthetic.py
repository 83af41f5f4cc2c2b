"""The built-in sample: deterministic, the right shapes, FER2013's class proportions."""

import numpy as np

from fercourse.data import find_duplicates, load, synthetic


def test_same_seed_gives_byte_identical_images_and_labels():
    first_images, first_labels = synthetic.generate(300, seed=5)
    second_images, second_labels = synthetic.generate(300, seed=5)
    assert first_images.tobytes() == second_images.tobytes()
    assert first_labels.tolist() == second_labels.tolist()
    other_images, _ = synthetic.generate(300, seed=6)
    assert other_images.tobytes() != first_images.tobytes()


def test_shape_dtype_and_range():
    images, labels = synthetic.generate(120, seed=0)
    assert images.shape == (120, 48, 48) and images.dtype == np.uint8
    assert labels.dtype == np.int64 and set(labels.tolist()) <= set(range(7))
    # Faces use the full intensity range rather than a flat grey.
    assert images.std() > 20


def test_class_proportions_follow_fer2013():
    counts = synthetic.class_counts(10_000)
    assert counts.sum() == 10_000
    expected = synthetic.FER2013_TRAIN_COUNTS / synthetic.FER2013_TRAIN_COUNTS.sum() * 10_000
    assert np.abs(counts - expected).max() <= 1
    assert counts.argmin() == 1 and counts.argmax() == 3  # disgust rarest, happy commonest


def test_sample_dataset_splits_and_label_noise():
    data = load("sample", n_train=1400, n_test=280, seed=0)
    assert len(data.train) == 1400 and len(data.test) == 280
    observed = np.bincount(data.train.labels, minlength=7) / 1400
    assert np.abs(observed - synthetic.CLASS_PROPORTIONS).max() < 0.03
    assert data.train.ids[0] == "train-00000" and data.test.ids[-1] == "test-00279"
    assert find_duplicates(data).across == {"test": 0}


def test_sample_is_cached_and_identical_when_loaded_again():
    first = load("sample", n_train=140, n_test=28, seed=2)
    second = load("sample", n_train=140, n_test=28, seed=2)
    assert first.train.images.tobytes() == second.train.images.tobytes()
