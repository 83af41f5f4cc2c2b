"""Write a :class:`~fercourse.data.Dataset` in any supported format, and prepare a course release.

Formats
-------
``kaggle-csv``
    One ``fer2013.csv`` with ``emotion,pixels,Usage`` (train -> Training,
    val -> PublicTest, test -> PrivateTest). Needs labels in every split; ids are
    not kept (the format has none).
``course-csv``
    ``train.csv`` (``id,emotion,pixels``), ``test.csv`` (``id,emotion,pixels`` or
    ``id,pixels`` when unlabelled) and ``val.csv`` when there is a validation split.
``folders``
    ``train/<emotion>/<id>.png`` etc. (PNG, lossless). Needs labels.

Converting and loading back gives identical arrays and labels in the same order.
"""

from __future__ import annotations

import csv
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fercourse.data.dataset import Dataset, Split
from fercourse.errors import InputError
from fercourse.files import sha256_file
from fercourse.labels import EMOTIONS

FORMATS = ("kaggle-csv", "course-csv", "folders")
SPLIT_TO_USAGE = {"train": "Training", "val": "PublicTest", "test": "PrivateTest"}
SPLIT_TO_FOLDER = {"train": "train", "val": "validation", "test": "test"}
_SAFE_ID = re.compile(r"^[A-Za-z0-9_.-]+$")


def _pixel_text(image: np.ndarray) -> str:
    return " ".join(map(str, image.reshape(-1).tolist()))


def _require_labels(split_name: str, split: Split, fmt: str) -> None:
    if split.labels is None:
        raise InputError(f"the {split_name} split has no labels: the {fmt} format needs a label for every "
                         "image (use course-csv for an unlabelled test split)")


def save(dataset: Dataset, out: str | Path, fmt: str) -> list[Path]:
    """Write ``dataset`` to ``out`` in format ``fmt``; returns the files or folders written.

    Examples
    --------
    >>> import tempfile
    >>> from fercourse.data import load
    >>> data = load("sample", n_train=21, n_test=7)
    >>> folder = tempfile.mkdtemp()
    >>> [p.name for p in save(data, folder, "course-csv")]
    ['train.csv', 'test.csv']
    >>> bool((load(folder).train.images == data.train.images).all())
    True
    """
    if fmt not in FORMATS:
        raise InputError(f"unknown format {fmt!r}: expected one of {', '.join(FORMATS)}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if fmt == "kaggle-csv":
        return [_save_kaggle(dataset, out / "fer2013.csv")]
    if fmt == "course-csv":
        written = []
        for name, split in dataset.splits.items():
            path = out / f"{name}.csv"
            write_course_csv(path, split, include_labels=split.labels is not None)
            written.append(path)
        return written
    return [_save_folders(dataset, out)]


def _save_kaggle(dataset: Dataset, path: Path) -> Path:
    for name, split in dataset.splits.items():
        _require_labels(name, split, "kaggle-csv")
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["emotion", "pixels", "Usage"])
        for name, split in dataset.splits.items():
            usage = SPLIT_TO_USAGE[name]
            for image, label in zip(split.images, split.labels):
                writer.writerow([int(label), _pixel_text(image), usage])
    return path


def write_course_csv(path: str | Path, split: Split, include_labels: bool = True,
                     ids: np.ndarray | None = None) -> Path:
    """Write one course CSV: ``id,emotion,pixels`` (or ``id,pixels`` without labels)."""
    path = Path(path)
    ids = split.ids if ids is None else ids
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "emotion", "pixels"] if include_labels else ["id", "pixels"])
        for index, image in enumerate(split.images):
            row = [ids[index], int(split.labels[index])] if include_labels else [ids[index]]
            writer.writerow(row + [_pixel_text(image)])
    return path


def _save_folders(dataset: Dataset, out: Path) -> Path:
    from PIL import Image

    for name, split in dataset.splits.items():
        _require_labels(name, split, "folders")
    for name, split in dataset.splits.items():
        width = len(str(len(split)))
        for index, (image, label, image_id) in enumerate(zip(split.images, split.labels, split.ids)):
            # The index prefix keeps the loader's file-name order equal to the dataset order.
            safe = str(image_id).replace("/", "_")
            if not _SAFE_ID.match(safe):
                safe = hashlib.sha1(safe.encode()).hexdigest()[:12]
            folder = out / SPLIT_TO_FOLDER[name] / EMOTIONS[int(label)]
            folder.mkdir(parents=True, exist_ok=True)
            Image.fromarray(image, mode="L").save(folder / f"{index:0{width}d}_{safe}.png")
    return out


@dataclass
class Release:
    """What :func:`prepare` wrote."""

    train_csv: Path
    test_csv: Path
    answer_key: Path
    answer_key_sha256: str
    n_train: int
    n_test: int


def release_ids(salt: str, split_name: str, ids: np.ndarray) -> np.ndarray:
    """The ids :func:`prepare` gives the rows of split ``split_name``: salted hashes of ``ids``."""
    return np.array([hashlib.sha256(f"{salt}|{split_name}|{i}".encode()).hexdigest()[:12] for i in ids])


def prepare(dataset: Dataset, out: str | Path, salt: str = "fercourse") -> Release:
    """Prepare an instructor's course release from a labelled dataset.

    Writes ``out/release/train.csv`` (``id,emotion,pixels``; train and val merged),
    ``out/release/test.csv`` (``id,pixels``, no labels) and
    ``out/instructor/answer_key.csv`` (``id,emotion``). Ids are stable for the same
    data and ``salt`` but carry no row order: they are salted hashes, and rows are
    shuffled by them.

    The released faces are the source's, unchanged: FER2013's labels are public, so no
    transformation of its faces keeps a determined student from finding them (the instructor
    guide's threat model); an offering that must grade on faces nobody can look up adds its own
    (``fercourse grade setup --test-set``).
    """
    out = Path(out)
    test = dataset.test
    _require_labels("test", test, "answer key")
    train_parts = [dataset.train] + ([dataset.val] if dataset.val is not None else [])
    train = Split(np.concatenate([s.images for s in train_parts]),
                  np.concatenate([s.labels for s in train_parts]),
                  np.concatenate([np.char.add(f"{i}:", part.ids.astype(str))
                                  for i, part in enumerate(train_parts)]))
    release, instructor = out / "release", out / "instructor"
    release.mkdir(parents=True, exist_ok=True)
    instructor.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, split in (("train", train), ("test", test)):
        new_ids = release_ids(salt, name, split.ids)
        if len(set(new_ids.tolist())) != len(new_ids):
            raise InputError(f"the {name} split has repeated ids: expected unique ids to derive release ids "
                             "from")
        order = np.argsort(new_ids, kind="stable")
        shuffled = Split(split.images[order], split.labels[order], new_ids[order])
        paths[name] = write_course_csv(release / f"{name}.csv", shuffled, include_labels=(name == "train"))
        if name == "test":
            key_path = instructor / "answer_key.csv"
            with key_path.open("w", newline="") as handle:
                writer = csv.writer(handle)
                writer.writerow(["id", "emotion"])
                writer.writerows(zip(shuffled.ids.tolist(), shuffled.labels.tolist()))
    digest = sha256_file(key_path)
    return Release(paths["train"], paths["test"], key_path, digest, len(train), len(test))
