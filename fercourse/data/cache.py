"""The on-disk dataset cache: keyed on a source's path, size and modification time."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import numpy as np

from fercourse.config import cache_dir
from fercourse.data.dataset import Dataset, Split
from fercourse.files import atomic_write, stat_fingerprint

CACHE_VERSION = "2"  # bump whenever what a loader returns changes (v2: folder ids are class/stem)


def source_signature(path: Path) -> str:
    """The cache key's part for a source file or image-folder root: where it is and its fingerprint."""
    return f"{path.resolve()}|{stat_fingerprint(path)}"


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
    atomic_write(path, lambda scratch: np.savez(scratch, **arrays))


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


def cached_dataset(signature: str, source: str, use_cache: bool, read) -> Dataset:
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
