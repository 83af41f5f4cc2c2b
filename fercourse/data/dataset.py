"""The one dataset type every source loads into: :class:`Split` and :class:`Dataset`."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from fercourse.errors import InputError
from fercourse.labels import EMOTIONS, NUM_CLASSES


@dataclass(frozen=True)
class Split:
    """One split of a dataset.

    Attributes
    ----------
    images : np.ndarray
        uint8 array of shape (n, 48, 48).
    labels : np.ndarray or None
        int64 canonical labels (0-6), or None for an unlabelled test split.
    ids : np.ndarray
        String ids, one per image.
    """

    images: np.ndarray
    labels: np.ndarray | None
    ids: np.ndarray

    def __len__(self) -> int:
        return len(self.images)

    @property
    def X(self) -> np.ndarray:
        """The images, as stored (uint8, (n, 48, 48))."""
        return self.images

    @property
    def y(self) -> np.ndarray:
        """The labels; raises ValueError for an unlabelled split."""
        if self.labels is None:
            raise InputError("this split has no labels (an unlabelled test split)")
        return self.labels

    def counts(self) -> dict[str, int]:
        """Images per class, by canonical name (empty for an unlabelled split)."""
        if self.labels is None:
            return {}
        counts = np.bincount(self.labels, minlength=NUM_CLASSES)
        return {name: int(count) for name, count in zip(EMOTIONS, counts)}

    def subset(self, indices: np.ndarray) -> "Split":
        """Return the rows at ``indices`` as a new split."""
        indices = np.asarray(indices)
        return Split(self.images[indices], None if self.labels is None else self.labels[indices],
                     self.ids[indices])


@dataclass
class Dataset:
    """Splits of one source, with the canonical class names.

    Examples
    --------
    >>> from fercourse.data import load
    >>> data = load("sample", n_train=70, n_test=14)
    >>> data.train.images.shape, data.test.images.dtype
    ((70, 48, 48), dtype('uint8'))
    >>> data.class_names[:3]
    ('angry', 'disgust', 'fear')
    """

    splits: dict[str, Split]
    source: str
    class_names: tuple[str, ...] = EMOTIONS
    converted: int = 0
    skipped: list[str] = field(default_factory=list)

    def __getitem__(self, name: str) -> Split:
        if name not in self.splits:
            raise KeyError(f"{self.source} has no {name!r} split: it has {', '.join(self.splits)}")
        return self.splits[name]

    def __contains__(self, name: str) -> bool:
        return name in self.splits

    @property
    def train(self) -> Split:
        return self["train"]

    @property
    def test(self) -> Split:
        return self["test"]

    @property
    def val(self) -> Split | None:
        """The validation split, or None when the source has none."""
        return self.splits.get("val")
