"""Exact duplicate images within and across splits."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fercourse.data.dataset import Dataset


@dataclass
class DuplicateReport:
    """Exact duplicate images within each split and across splits."""

    within: dict[str, int]
    """Per split: images that repeat an earlier image of the same split."""
    across: dict[str, int]
    """Per non-train split: images that also appear in train (e.g. ``{"test": 12}``)."""
    conflicting_labels: int
    """Duplicate pairs (within or across) whose labels disagree."""


def _image_keys(images: np.ndarray) -> np.ndarray:
    flat = np.ascontiguousarray(images.reshape(len(images), -1))
    return flat.view(np.dtype((np.void, flat.shape[1]))).ravel()


def _lookup(train_keys: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each key: whether train holds it, and the index of a train image that equals it."""
    order = np.argsort(train_keys)
    position = np.clip(np.searchsorted(train_keys[order], keys), 0, len(train_keys) - 1)
    return train_keys[order][position] == keys, order[position]


def seen_in_train(dataset: Dataset, split: str = "test") -> np.ndarray:
    """A boolean mask over ``split``: True for the images that also appear, pixel for pixel, in train.

    FER2013's PublicTest shares a few hundred images with Training; a score without them
    (``fercourse evaluate --without-train-duplicates``) says how much memorising them helped.

    Examples
    --------
    >>> from fercourse.data import load
    >>> data = load("sample", n_train=70, n_test=14)
    >>> int(seen_in_train(data, "test").sum())
    0
    """
    if split not in dataset.splits or "train" not in dataset.splits:
        raise KeyError(f"{dataset.source}: needs a train and a {split!r} split, has {list(dataset.splits)}")
    hit, _ = _lookup(_image_keys(dataset.train.images), _image_keys(dataset.splits[split].images))
    return hit


def find_duplicates(dataset: Dataset) -> DuplicateReport:
    """Count exact duplicate images within and across splits.

    Examples
    --------
    >>> from fercourse.data import load
    >>> data = load("sample", n_train=70, n_test=14)
    >>> find_duplicates(data).across
    {'test': 0}
    """
    within, across, conflicts = {}, {}, 0
    keys = {name: _image_keys(split.images) for name, split in dataset.splits.items()}
    for name, split in dataset.splits.items():
        unique, first, inverse = np.unique(keys[name], return_index=True, return_inverse=True)
        within[name] = int(len(split) - len(unique))
        if split.labels is not None and within[name]:
            conflicts += int((split.labels != split.labels[first[inverse]]).sum())
    for name in dataset.splits:
        if name == "train" or "train" not in keys:
            continue
        hit, position = _lookup(keys["train"], keys[name])
        across[name] = int(hit.sum())
        split = dataset.splits[name]
        if split.labels is not None and hit.any():
            train_labels = dataset.train.labels[position]
            conflicts += int((split.labels[hit] != train_labels[hit]).sum())
    return DuplicateReport(within, across, conflicts)
