"""The data a lesson uses: train, validation and test, small in quick mode."""

from __future__ import annotations

from fercourse.config import QUICK, SAMPLE_SOURCE, VALIDATION_SHARE, is_sample
from fercourse.data.dataset import Dataset
from fercourse.data.sources import load
from fercourse.data.splits import stratified_subsample, train_val_split


def lesson_data(data: str = SAMPLE_SOURCE, *, quick: bool = False, seed: int = 0,
                val_fraction: float = VALIDATION_SHARE):
    # Over 60 lines: a 33-line docstring (what quick mode keeps); the body is 25 lines.
    """Load the data a lesson uses: train, validation (carved from train) and test.

    In quick mode the built-in sample is small (``QUICK.n_train`` and ``QUICK.n_test`` of
    :data:`fercourse.config.QUICK`) and the training split of
    real data is subsampled to the same size, class proportions kept
    (:func:`fercourse.data.stratified_subsample`; the test split stays whole, so a submission
    still covers every test id), so every lesson runs in seconds to minutes.
    The test split is never used to choose anything: the validation split is for that.

    Parameters
    ----------
    data : str
        ``"sample"``, ``"fer2013"`` or a path (see :func:`fercourse.data.load`).
    quick : bool
    seed : int
        Seeds the sample, the subsample and the validation split.
    val_fraction : float
        Share of train held out for validation (when the source has no validation split); default
        :data:`fercourse.config.VALIDATION_SHARE`.

    Returns
    -------
    dataset : fercourse.data.Dataset
        As loaded (or subsampled in quick mode); ``dataset.test`` is the split to submit for.
    train, val, test : fercourse.data.Split
        Labelled splits. When the source's test split is unlabelled (a course release), ``test``
        is a further held-out part of train.

    Examples
    --------
    >>> dataset, train, val, test = lesson_data("sample", quick=True)
    >>> len(train) + len(val), len(test)
    (2000, 400)
    """
    if is_sample(data):
        sizes = {"n_train": QUICK.n_train, "n_test": QUICK.n_test} if quick else {}
        dataset = load(SAMPLE_SOURCE, seed=seed, progress=False, **sizes)
    else:
        dataset = load(data, progress=False)
        if quick:
            # Only training is subsampled: predicting the whole test split is cheap, and a
            # submission must cover every test id. Stratified, so rare disgust keeps its share.
            splits = dict(dataset.splits)
            for name in ("train", "val"):
                if name in splits:
                    size = QUICK.n_train if name == "train" else QUICK.n_test
                    splits[name] = splits[name].subset(stratified_subsample(splits[name], size, seed))
            dataset = Dataset(splits, dataset.source)
    train, test = dataset.train, dataset.test
    if test.labels is None:
        # A course release: its test labels are the instructor's. Hold out labelled faces instead.
        train, test = train_val_split(train, val_fraction=val_fraction, seed=seed + 1)
        print(f"{dataset.source}: the test split has no labels; scoring on {len(test)} held-out training "
              "faces instead (dataset.test is still the split to submit predictions for)")
    if dataset.val is not None:
        val = dataset.val
    else:
        train, val = train_val_split(train, val_fraction=val_fraction, seed=seed)
    return dataset, train, val, test

