"""Name a loaded dataset for a page: what it is and its split sizes, never where it lives.

A lesson prints this line instead of ``dataset.source``: a book built on real data is published,
and the path a maintainer passed (``../../../../home/<them>/fer2013``) is none of its readers'
business.

Examples
--------
>>> from fercourse.data import load
>>> describe_source(load("sample", n_train=70, n_test=14))
'the built-in synthetic sample, train 70 / test 14'
>>> from fercourse.data.dataset import Dataset, Split
>>> import numpy as np
>>> def split(n):
...     return Split(np.zeros((n, 48, 48), np.uint8), np.zeros(n, np.int64), np.arange(n))
>>> describe_source(Dataset({"train": split(28709), "test": split(3589)}, "/home/me/data/fer2013"))
'FER2013, image folders, Training 28,709 / PublicTest 3,589'
>>> describe_source(Dataset({"train": split(80), "test": split(20)}, "/srv/course/release/train.csv"))
'train.csv (CSV), train 80 / test 20'
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["describe_source"]

#: FER2013's splits and their sizes, by the name each copy gives them.
FER2013_TRAIN = 28_709
_KAGGLE_SPLITS = {"train": "Training", "val": "PublicTest", "test": "PrivateTest"}
_FOLDER_SPLITS = {"train": "Training", "test": "PublicTest"}


def describe_source(dataset) -> str:
    """One line naming ``dataset`` (a :class:`fercourse.data.Dataset`) and its split sizes.

    FER2013 is recognised by its name or its 28,709 training faces and its splits get FER2013's
    names (image folders: Training / PublicTest; the Kaggle CSV: Training / PublicTest /
    PrivateTest); any other source is named by its file or folder name alone.
    """
    source = str(dataset.source)
    if source == "sample":
        kind, name, split_names = "", "the built-in synthetic sample", {}
    else:
        path = Path(source.rstrip("/"))
        is_csv = path.suffix.lower() == ".csv"
        sizes = {name: len(split) for name, split in dataset.splits.items()}
        fer2013 = "fer2013" in path.name.lower() or sizes.get("train") == FER2013_TRAIN
        if fer2013:
            name = "FER2013"
            kind = ", Kaggle CSV" if is_csv else ", image folders"
            split_names = _KAGGLE_SPLITS if is_csv else _FOLDER_SPLITS
        else:
            name, kind, split_names = path.name, " (CSV)" if is_csv else " (image folders)", {}
    counts = " / ".join(f"{split_names.get(split, split)} {len(dataset.splits[split]):,}"
                        for split in ("train", "val", "test") if split in dataset.splits)
    return f"{name}{kind}, {counts}"
