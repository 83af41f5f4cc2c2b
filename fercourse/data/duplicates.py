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
    if "train" in keys:
        train_keys = keys["train"]
        train_sorted = np.argsort(train_keys)
        for name in dataset.splits:
            if name == "train":
                continue
            position = np.searchsorted(train_keys[train_sorted], keys[name])
            position = np.clip(position, 0, len(train_keys) - 1)
            hit = train_keys[train_sorted][position] == keys[name]
            across[name] = int(hit.sum())
            split = dataset.splits[name]
            if split.labels is not None and hit.any():
                train_labels = dataset.train.labels[train_sorted][position]
                conflicts += int((split.labels[hit] != train_labels[hit]).sum())
    return DuplicateReport(within, across, conflicts)
