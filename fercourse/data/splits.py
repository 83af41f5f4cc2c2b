"""Validation splits and class weights."""

from __future__ import annotations

import numpy as np

from fercourse.data.dataset import Split
from fercourse.labels import NUM_CLASSES


def train_val_split(split: Split, val_fraction: float = 0.1, seed: int = 0) -> tuple[Split, Split]:
    """Carve a stratified validation split out of a training split.

    Examples
    --------
    >>> from fercourse.data import load
    >>> data = load("sample", n_train=140, n_test=14)
    >>> train, val = train_val_split(data.train, val_fraction=0.2, seed=0)
    >>> len(train), len(val)
    (112, 28)
    """
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"val_fraction is {val_fraction}: expected a number between 0 and 1")
    from sklearn.model_selection import train_test_split

    indices = np.arange(len(split))
    counts = np.bincount(split.y, minlength=NUM_CLASSES)
    stratify = split.y if counts[counts > 0].min() >= 2 else None
    train_idx, val_idx = train_test_split(indices, test_size=val_fraction, random_state=seed, stratify=stratify)
    return split.subset(np.sort(train_idx)), split.subset(np.sort(val_idx))


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
