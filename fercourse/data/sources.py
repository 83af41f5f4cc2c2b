"""One entry point for every FER data source: :func:`load`.

Sources
-------
``"sample"``
    The built-in synthetic sample (:mod:`fercourse.data.synthetic`).
A Kaggle ``fer2013.csv``
    ``emotion,pixels,Usage``; Training, PublicTest and PrivateTest become the
    ``train``, ``val`` and ``test`` splits.
Course CSVs
    A train file ``id,emotion,pixels`` and a test file ``id,pixels`` (labels
    optional). Pass the train file (its test twin is found by replacing ``train``
    with ``test`` in the name), pass ``test=`` explicitly, or pass the folder
    that holds ``train.csv`` and ``test.csv``.
An image-folder root
    ``train/<emotion>/*``, ``test/<emotion>/*`` and optionally
    ``validation/<emotion>/*``.

Every source gives the same :class:`Dataset`: uint8 images ``(n, 48, 48)``,
canonical integer labels, string ids, per split.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np

from fercourse.config import FER2013_SOURCE, fer2013_path, is_sample
from fercourse.data import synthetic
from fercourse.data.cache import cached_dataset, source_signature
from fercourse.data.dataset import Dataset, Split
from fercourse.data.readers import KAGGLE_USAGE, ReadReport, find_split_folders, read_csv, read_image_folder
from fercourse.errors import DataError

__all__ = ["load"]


def load(source: str | os.PathLike = "sample", *, test: str | os.PathLike | None = None,
         cache: bool = True, skip_bad_rows: bool = False, progress: bool | None = None,
         n_train: int | None = None, n_test: int | None = None, seed: int = 0) -> Dataset:
    """Load any supported source into a :class:`Dataset`.

    Parameters
    ----------
    source : str or path-like
        ``"sample"``, ``"fer2013"`` (the path in ``$FERCOURSE_FER2013``), a CSV file, a folder
        holding course CSVs or ``fer2013.csv``, or an image-folder root.
    test : path-like, optional
        The course test CSV, when it is not the train file's ``train``->``test`` twin.
    cache : bool
        Reuse a cached copy of an unchanged file or folder (keyed on path, size and mtime).
    skip_bad_rows : bool
        Skip malformed rows or image files instead of raising; ``Dataset.skipped`` lists each.
    progress : bool, optional
        Show progress bars; by default only when stderr is a terminal.
    n_train, n_test, seed : int
        Size and seed of the built-in sample (ignored for files).

    Returns
    -------
    Dataset
        Splits ``train`` and ``test`` (and ``val`` when the source has one).

    Raises
    ------
    FileNotFoundError
        The path does not exist.
    DataError
        The file or folder is malformed; the message names the file and the line or field.
    """
    if progress is None:
        progress = sys.stderr.isatty()
    if is_sample(source):
        return synthetic.load_sample(n_train=n_train, n_test=n_test, seed=seed, cache=cache)
    if str(source) == FER2013_SOURCE:
        source = fer2013_path()  # $FERCOURSE_FER2013, or an error naming it
    path = Path(source).expanduser()
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file or folder (expected 'sample', a FER CSV file or "
                                "an image-folder root with train/ and test/)")
    if path.is_dir():
        return _load_directory(path, test=test, cache=cache, skip_bad_rows=skip_bad_rows, progress=progress)
    return _load_csv_source(path, test=test, cache=cache, skip_bad_rows=skip_bad_rows, progress=progress)


def _load_directory(path: Path, **options) -> Dataset:
    split_folders = find_split_folders(path)
    if split_folders:
        return cached_dataset(source_signature(path), str(path), options["cache"],
                       lambda: _read_folders(path, split_folders, options))
    for train_name in ("train.csv", "fer2013.csv", "icml_face_data.csv"):
        if (path / train_name).is_file():
            return _load_csv_source(path / train_name, **options)
    candidates = sorted(path.glob("*train*.csv"))
    if len(candidates) == 1:
        return _load_csv_source(candidates[0], **options)
    raise DataError(path, "not a FER dataset folder: expected train/ and test/ class folders, a train.csv "
                          "and test.csv pair, or a fer2013.csv")


def _read_folders(root: Path, split_folders: dict[str, Path], options: dict) -> Dataset:
    if "train" not in split_folders:
        raise DataError(root, "no train/ folder (found "
                              f"{', '.join(p.name for p in split_folders.values())}): "
                              "expected train/<emotion>/ and test/<emotion>/")
    report = ReadReport()
    splits = {}
    for name in ("train", "val", "test"):
        if name in split_folders:
            images, labels, ids = read_image_folder(split_folders[name],
                                                    skip_bad_rows=options["skip_bad_rows"],
                                                    progress=options["progress"], report=report)
            splits[name] = Split(images, labels, ids)
    if report.converted:
        print(f"{root}: converted {report.converted} images to 48x48 grayscale", file=sys.stderr)
    return _with_report(Dataset(splits, str(root), converted=report.converted), report)


def _twin_file(train_path: Path, split: str) -> Path | None:
    """The file named like the train file with ``train`` replaced by ``split`` (e.g. my_test.csv)."""
    name = train_path.name
    if "train" not in name.lower():
        return None
    index = name.lower().rindex("train")
    twin = train_path.with_name(name[:index] + split + name[index + 5:])
    return twin if twin.is_file() else None


def _load_csv_source(path: Path, *, test, cache: bool, skip_bad_rows: bool, progress: bool) -> Dataset:
    test_path = Path(test) if test is not None else None
    if test_path is not None and not test_path.is_file():
        raise FileNotFoundError(f"{test_path}: no such file (expected the course test CSV, id,pixels)")
    signature = source_signature(path) + (f"+{source_signature(test_path)}" if test_path else "")
    signature += f"|skip={skip_bad_rows}"

    def read() -> Dataset:
        report = ReadReport()
        raw = read_csv(path, skip_bad_rows=skip_bad_rows, progress=progress, report=report)
        if raw.usage is not None and test_path is None:
            splits = {}
            for usage, split_name in KAGGLE_USAGE.items():
                rows = np.flatnonzero(raw.usage == usage)
                if rows.size:
                    splits[split_name] = Split(raw.images[rows],
                                               None if raw.labels is None else raw.labels[rows],
                                               raw.ids[rows])
            ordered = {name: splits[name] for name in ("train", "val", "test") if name in splits}
            return _with_report(Dataset(ordered, str(path)), report)
        if raw.labels is None:
            raise DataError(path, "no 'emotion' column: a train file needs labels (id,emotion,pixels)")
        splits = {"train": Split(raw.images, raw.labels, raw.ids)}
        for split_name, twin in (("val", _twin_file(path, "val")),
                                 ("test", test_path or _twin_file(path, "test"))):
            if twin is not None:
                twin_raw = read_csv(twin, skip_bad_rows=skip_bad_rows, progress=progress, report=report)
                splits[split_name] = Split(twin_raw.images, twin_raw.labels, twin_raw.ids)
        _check_unique_ids(path, raw.ids)
        return _with_report(Dataset(splits, str(path)), report)

    return cached_dataset(signature, str(path), cache, read)


def _check_unique_ids(path: Path, ids: np.ndarray) -> None:
    unique, counts = np.unique(ids, return_counts=True)
    if (counts > 1).any():
        repeated = unique[counts > 1][:5]
        raise DataError(path, f"field 'id' repeats ({', '.join(map(str, repeated))}): expected unique ids")


def _with_report(dataset: Dataset, report: ReadReport) -> Dataset:
    dataset.skipped = list(report.skipped)
    if report.skipped:
        print(f"{dataset.source}: skipped {len(report.skipped)} bad rows or files:", file=sys.stderr)
        for message in report.skipped[:20]:
            print(f"  {message}", file=sys.stderr)
        if len(report.skipped) > 20:
            print(f"  ... and {len(report.skipped) - 20} more (see Dataset.skipped)", file=sys.stderr)
    return dataset
