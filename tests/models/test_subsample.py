"""Tests for fercourse.data.stratified_subsample and the places that draw subsamples with it."""

from __future__ import annotations

import numpy as np
import pytest

from fercourse.data import Split, stratified_subsample

# 100 rows: 50 of class 0, 30 of class 1, 15 of class 2, 5 of class 3.
LABELS = np.repeat([0, 1, 2, 3], [50, 30, 15, 5])


def test_counts_are_the_proportional_shares_rounded_by_largest_remainder():
    assert np.bincount(LABELS[stratified_subsample(LABELS, 20, seed=0)]).tolist() == [10, 6, 3, 1]
    # Shares 5, 3, 1.5, 0.5: the tie goes to the lower label, then class 3 gets one row from class 0.
    assert np.bincount(LABELS[stratified_subsample(LABELS, 10, seed=0)]).tolist() == [4, 3, 2, 1]
    # Shares 3.5, 2.1, 1.05, 0.35: remainders .5, .35, .1, .05 give the seventh row to class 0.
    assert np.bincount(LABELS[stratified_subsample(LABELS, 7, seed=0)], minlength=4).tolist() == [3, 2, 1, 1]
    # Fewer rows than classes: the largest shares win, the rare class is left out.
    assert np.bincount(LABELS[stratified_subsample(LABELS, 2, seed=0)], minlength=4).tolist() == [1, 1, 0, 0]


def test_indices_are_sorted_unique_and_repeat_with_the_seed():
    first = stratified_subsample(LABELS, 30, seed=7)
    assert len(first) == 30 and np.all(np.diff(first) > 0)
    np.testing.assert_array_equal(first, stratified_subsample(LABELS, 30, seed=7))
    assert not np.array_equal(first, stratified_subsample(LABELS, 30, seed=8))


def test_a_split_a_large_size_and_bad_sizes():
    split = Split(np.zeros((100, 48, 48), np.uint8), LABELS, np.array([f"id{i}" for i in range(100)]))
    np.testing.assert_array_equal(stratified_subsample(split, 20, seed=1),
                                  stratified_subsample(LABELS, 20, seed=1))
    np.testing.assert_array_equal(stratified_subsample(LABELS, 500), np.arange(100))  # nothing to drop
    unlabelled = Split(split.images, None, split.ids)
    assert len(stratified_subsample(unlabelled, 10, seed=0)) == 10
    with pytest.raises(ValueError, match="subsample size is 0: expected a positive whole number of rows"):
        stratified_subsample(LABELS, 0)
    with pytest.raises(ValueError, match=r"labels have shape \(10, 10\): expected one label per row"):
        stratified_subsample(LABELS.reshape(10, 10), 5)


def test_subsampled_trains_on_the_stratified_rows():
    from sklearn.dummy import DummyClassifier

    from fercourse.models import Subsampled

    X = np.arange(len(LABELS), dtype=float).reshape(-1, 1)
    model = Subsampled(DummyClassifier(strategy="prior"), max_samples=20, random_state=0).fit(X, LABELS)
    assert model.n_fit_ == 20
    # The dummy's priors are those of the 20 rows it kept: [10, 6, 3, 1].
    np.testing.assert_allclose(model.predict_proba(X[:1])[0], [0.5, 0.3, 0.15, 0.05])


def test_lesson_data_quick_subsamples_real_data_by_class(tmp_path, monkeypatch):
    import dataclasses

    import fercourse.data.lessons
    from fercourse.data import lesson_data, load
    from fercourse.data.writers import prepare

    smaller = dataclasses.replace(fercourse.data.lessons.QUICK, n_train=200)
    monkeypatch.setattr(fercourse.data.lessons, "QUICK", smaller)
    source = load("sample", n_train=1000, n_test=50)
    release = prepare(source, tmp_path)
    quick, *_ = lesson_data(str(release.train_csv), quick=True, seed=0)
    assert np.bincount(source.train.labels, minlength=7).tolist() == [140, 20, 140, 252, 164, 117, 167]
    # 200 of 1000: shares 28, 4, 28, 50.4, 32.8, 23.4, 33.4; the two rows left over go to the largest
    # remainder (sad, .8) and to the first of the tied .4s (happy).
    assert np.bincount(quick.train.labels, minlength=7).tolist() == [28, 4, 28, 51, 33, 23, 33]
    assert len(quick.test) == 50  # the test split stays whole
