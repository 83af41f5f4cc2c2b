"""One entry point for every FER data source: :func:`load`.

Sources
-------
``"sample"``
    The built-in synthetic sample (:mod:`fercourse.synthetic`).
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

import hashlib
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from fercourse.errors import DataError
from fercourse.labels import EMOTIONS, NUM_CLASSES
from fercourse.readers import KAGGLE_USAGE, ReadReport, find_split_folders, read_csv, read_image_folder

FER2013_ENV = "FERCOURSE_FER2013"
CACHE_VERSION = "2"  # bump whenever what a loader returns changes (v2: folder ids are class/stem)


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
    def X(self) -> np.ndarray:  # noqa: N802 - the course's shared vocabulary
        """The images, as stored (uint8, (n, 48, 48))."""
        return self.images

    @property
    def y(self) -> np.ndarray:
        """The labels; raises ValueError for an unlabelled split."""
        if self.labels is None:
            raise ValueError("this split has no labels (an unlabelled test split)")
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


def cache_dir() -> Path:
    """Where loaded datasets are cached: ``$FERCOURSE_CACHE_DIR`` or the user's cache folder."""
    explicit = os.environ.get("FERCOURSE_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "fercourse"


def _file_signature(path: Path) -> str:
    stat = path.stat()
    return f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"


def _folder_signature(root: Path) -> str:
    parts = []
    for directory, subdirs, files in os.walk(root):
        subdirs.sort()
        for name in sorted(files):
            stat = os.stat(os.path.join(directory, name))
            parts.append(f"{directory}/{name}|{stat.st_size}|{stat.st_mtime_ns}")
    return f"{root.resolve()}|" + "\n".join(parts)


def _cache_path(signature: str) -> Path:
    digest = hashlib.sha256(f"{CACHE_VERSION}|{signature}".encode()).hexdigest()[:24]
    return cache_dir() / f"dataset-{digest}.npz"


def _save_cache(path: Path, dataset: Dataset) -> None:
    arrays = {}
    for name, split in dataset.splits.items():
        arrays[f"{name}__images"] = split.images
        arrays[f"{name}__ids"] = split.ids
        if split.labels is not None:
            arrays[f"{name}__labels"] = split.labels
    arrays["__converted"] = np.array(dataset.converted)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(f".tmp{os.getpid()}.npz")
    np.savez(temporary, **arrays)
    os.replace(temporary, path)


def _load_cache(path: Path, source: str) -> Dataset | None:
    try:
        with np.load(path, allow_pickle=False) as stored:
            names = sorted({key.split("__")[0] for key in stored.files if not key.startswith("__")})
            splits = {
                name: Split(stored[f"{name}__images"],
                            stored[f"{name}__labels"] if f"{name}__labels" in stored.files else None,
                            stored[f"{name}__ids"])
                for name in names
            }
            converted = int(stored["__converted"])
    except (OSError, ValueError, KeyError):
        return None  # a damaged cache entry is rebuilt, never trusted
    ordered = {name: splits[name] for name in ("train", "val", "test") if name in splits}
    return Dataset(ordered, source, converted=converted)


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
    if str(source) == "sample":
        from fercourse import synthetic

        return synthetic.load_sample(n_train=n_train, n_test=n_test, seed=seed, cache=cache)
    if str(source) == "fer2013":
        if FER2013_ENV not in os.environ:
            raise FileNotFoundError(f"source 'fer2013' needs the environment variable {FER2013_ENV} "
                                    "set to your FER2013 copy (a fer2013.csv or an image-folder root)")
        source = os.environ[FER2013_ENV]
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
        return _cached(_folder_signature(path), str(path), options["cache"],
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
        raise DataError(root, f"no train/ folder (found {', '.join(p.name for p in split_folders.values())}): "
                              "expected train/<emotion>/ and test/<emotion>/")
    report = ReadReport()
    splits = {}
    for name in ("train", "val", "test"):
        if name in split_folders:
            images, labels, ids = read_image_folder(split_folders[name], skip_bad_rows=options["skip_bad_rows"],
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
    signature = _file_signature(path) + (f"+{_file_signature(test_path)}" if test_path else "")
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
                                               None if raw.labels is None else raw.labels[rows], raw.ids[rows])
            ordered = {name: splits[name] for name in ("train", "val", "test") if name in splits}
            return _with_report(Dataset(ordered, str(path)), report)
        if raw.labels is None:
            raise DataError(path, "no 'emotion' column: a train file needs labels (id,emotion,pixels)")
        splits = {"train": Split(raw.images, raw.labels, raw.ids)}
        for split_name, twin in (("val", _twin_file(path, "val")), ("test", test_path or _twin_file(path, "test"))):
            if twin is not None:
                twin_raw = read_csv(twin, skip_bad_rows=skip_bad_rows, progress=progress, report=report)
                splits[split_name] = Split(twin_raw.images, twin_raw.labels, twin_raw.ids)
        _check_unique_ids(path, raw.ids)
        return _with_report(Dataset(splits, str(path)), report)

    return _cached(signature, str(path), cache, read)


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


def _cached(signature: str, source: str, use_cache: bool, read) -> Dataset:
    path = _cache_path(signature)
    if use_cache and path.is_file():
        cached = _load_cache(path, source)
        if cached is not None:
            return cached
    dataset = read()
    # Datasets with skipped rows are not cached so the skip report is never lost.
    if use_cache and not dataset.skipped:
        try:
            _save_cache(path, dataset)
        except OSError as error:
            print(f"warning: could not write the cache {path}: {error}", file=sys.stderr)
    return dataset


# ---------------------------------------------------------------- helpers the lessons use


def to_float(images: np.ndarray) -> np.ndarray:
    """Scale uint8 pixels to float32 in [0, 1].

    Examples
    --------
    >>> to_float(np.array([[0, 255]], dtype=np.uint8)).tolist()
    [[0.0, 1.0]]
    """
    return np.asarray(images, dtype=np.float32) / 255.0


def as_flat(images: np.ndarray) -> np.ndarray:
    """Float32 (n, 2304) pixels in [0, 1], for scikit-learn and the MLP."""
    return to_float(images).reshape(len(images), -1)


def as_image(images: np.ndarray) -> np.ndarray:
    """Float32 (n, 48, 48, 1) pixels in [0, 1], for CNNs."""
    return to_float(images).reshape(len(images), 48, 48, 1)


def as_sequence(images: np.ndarray) -> np.ndarray:
    """Float32 (n, 48, 48) pixels in [0, 1]: 48 time steps (rows) of 48 features, for LSTM and GRU."""
    return to_float(images).reshape(len(images), 48, 48)


def train_val_split(split: Split, val_fraction: float = 0.1, seed: int = 0) -> tuple[Split, Split]:
    """Carve a stratified validation split out of a training split.

    Examples
    --------
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
