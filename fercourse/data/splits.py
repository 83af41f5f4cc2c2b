"""Validation splits, stratified subsamples, class weights and balanced oversampling."""

from __future__ import annotations

import numpy as np

from fercourse.config import VALIDATION_SEED, VALIDATION_SHARE
from fercourse.data.dataset import Split
from fercourse.errors import InputError
from fercourse.labels import NUM_CLASSES


def train_val_split(split: Split, val_fraction: float = VALIDATION_SHARE,
                    seed: int = 0) -> tuple[Split, Split]:
    """Carve a stratified validation split out of a training split (default share
    :data:`fercourse.config.VALIDATION_SHARE`).

    Examples
    --------
    >>> from fercourse.data import load
    >>> data = load("sample", n_train=140, n_test=14)
    >>> train, val = train_val_split(data.train, val_fraction=0.2, seed=0)
    >>> len(train), len(val)
    (112, 28)
    """
    if not 0.0 < val_fraction < 1.0:
        raise InputError(f"val_fraction is {val_fraction}: expected a number between 0 and 1")
    from sklearn.model_selection import train_test_split

    indices = np.arange(len(split))
    counts = np.bincount(split.y, minlength=NUM_CLASSES)
    stratify = split.y if counts[counts > 0].min() >= 2 else None
    train_idx, val_idx = train_test_split(indices, test_size=val_fraction, random_state=seed,
                                          stratify=stratify)
    return split.subset(np.sort(train_idx)), split.subset(np.sort(val_idx))



def validation_split(dataset) -> tuple[Split, Split]:
    """The (train, val) splits every trainer uses: :data:`~fercourse.config.VALIDATION_SHARE` of
    ``dataset.train``, stratified, seed :data:`~fercourse.config.VALIDATION_SEED` whatever the
    training seed, so that runs (recipes, ``fercourse evaluate --split val``) see the same split.

    Raises
    ------
    ValueError
        The train split has no labels; the message names the source.
    """
    if dataset.train.labels is None:
        raise InputError(f"{dataset.source}: the train split has no labels; training needs labelled images")
    return train_val_split(dataset.train, val_fraction=VALIDATION_SHARE, seed=VALIDATION_SEED)

def stratified_subsample(labels_or_split: Split | np.ndarray, size: int, seed: int = 0) -> np.ndarray:
    """Sorted indices of a random subsample of ``size`` rows that keeps the class proportions.

    Each class gets its share of ``size`` (``size * count / n``) rounded down, and the rows left
    over go to the classes with the largest remainders (ties: the lower label first), so the
    counts add up to ``size`` exactly. When ``size`` is at least the number of classes present,
    every class keeps at least one row, taken from the class with the largest count. The rows of
    each class are then drawn at random without replacement.

    Parameters
    ----------
    labels_or_split : Split or array of shape (n,)
        The labels to stratify by, or a split (an unlabelled split is sampled uniformly).
    size : int
        Rows to keep; at or above ``n`` every index is returned.
    seed : int
        Seeds the draw: the same seed gives the same indices.

    Returns
    -------
    np.ndarray
        ``min(size, n)`` sorted row indices, for ``split.subset(...)`` or ``X[...]``.

    Examples
    --------
    >>> labels = np.array([0, 0, 0, 0, 0, 0, 1, 1, 1, 2])
    >>> rows = stratified_subsample(labels, 5, seed=0)
    >>> len(rows), np.bincount(labels[rows]).tolist()
    (5, [2, 2, 1])
    """
    if isinstance(labels_or_split, Split):
        n = len(labels_or_split)
        labels = np.zeros(n, dtype=int) if labels_or_split.labels is None else labels_or_split.labels
    else:
        labels = np.asarray(labels_or_split)
        if labels.ndim != 1:
            raise InputError(f"labels have shape {labels.shape}: expected one label per row, shape (n,)")
        n = len(labels)
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
        raise InputError(f"subsample size is {size!r}: expected a positive whole number of rows")
    if size >= n:
        return np.arange(n)
    _, rows_class, counts = np.unique(labels, return_inverse=True, return_counts=True)
    quotas, remainders = np.divmod(counts * size, n)  # integer arithmetic: exact shares, no rounding noise
    quotas[np.argsort(-remainders, kind="stable")[: size - quotas.sum()]] += 1
    if size >= len(counts):
        for empty in np.flatnonzero(quotas == 0):
            quotas[np.argmax(quotas)] -= 1
            quotas[empty] = 1
    rng = np.random.default_rng(seed)
    chosen = [rng.choice(np.flatnonzero(rows_class == index), size=quota, replace=False)
              for index, quota in enumerate(quotas)]
    return np.sort(np.concatenate(chosen))


def class_weights(labels: np.ndarray) -> dict[int, float]:
    """'Balanced' class weights, ``n / (k * count)``, for every class present.

    Examples
    --------
    >>> class_weights(np.array([0, 0, 0, 1]))
    {0: 0.6667, 1: 2.0}
    """
    labels = np.asarray(labels)
    present = np.unique(labels)
    counts = np.bincount(labels, minlength=NUM_CLASSES)
    return {int(c): round(float(len(labels) / (len(present) * counts[c])), 4) for c in present}


def oversample(labels: np.ndarray, seed: int = 0) -> np.ndarray:
    """Indices that balance the classes by drawing the smaller ones again, with replacement.

    Every class present keeps all its rows once and is topped up with random repeats of its own
    rows until it has as many as the largest class. Train on ``X[indices]``, ``y[indices]``; never
    oversample a validation or test split (its repeats would count the same face several times).

    Parameters
    ----------
    labels : array of shape (n,)
        Integer labels 0-6.
    seed : int
        Seeds the repeats drawn: the same seed gives the same indices.

    Returns
    -------
    np.ndarray
        Shuffled row indices, ``k * max(count)`` of them for ``k`` classes present.

    Examples
    --------
    >>> labels = np.array([0, 0, 0, 0, 1, 2, 2])
    >>> indices = oversample(labels, seed=0)
    >>> np.bincount(labels[indices]).tolist()
    [4, 4, 4]
    >>> set(np.flatnonzero(labels == 2)) <= set(indices)  # every original row is kept
    True
    """
    labels = np.asarray(labels)
    if labels.ndim != 1 or len(labels) == 0:
        raise InputError("labels: expected a non-empty 1-D array of integer labels; "
                         f"got shape {labels.shape}")
    counts = np.bincount(labels, minlength=NUM_CLASSES)
    target = counts.max()
    rng = np.random.default_rng(seed)
    chosen = []
    for label in np.flatnonzero(counts):
        rows = np.flatnonzero(labels == label)
        chosen += [rows, rng.choice(rows, size=target - len(rows), replace=True)]
    return rng.permutation(np.concatenate(chosen))
