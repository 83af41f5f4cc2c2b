"""``fercourse bench load``: loading a Kaggle CSV the seed courses' way and fercourse's, cold and cached.

FER2013 comes from the path given, else ``$FERCOURSE_FER2013`` (:func:`fercourse.config.fer2013_path`).
The fercourse loads use a temporary cache folder of their own, so the first load is cold and the
user's cache (and their ``FERCOURSE_CACHE_DIR``) are left alone.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np


def seed_parse(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """The seed courses' loader: pandas, then ``int()`` per pixel per row."""
    import pandas as pd

    frame = pd.read_csv(path)
    images = np.array([np.array([int(p) for p in s.split()], dtype=np.uint8).reshape(48, 48)
                       for s in frame["pixels"]])
    return images, frame["emotion"].to_numpy()


def _timed(function):
    start = time.perf_counter()
    value = function()
    return time.perf_counter() - start, value


def _stacked(dataset, field: str) -> np.ndarray:
    """One field of every split, in file order (train, val, test), as the seed parse returns it."""
    return np.concatenate([getattr(split, field) for split in dataset.splits.values()])


def bench_load(source: str | Path | None = None) -> dict:
    """Time the seed parse, a cold fercourse load and a cached fercourse load of one Kaggle CSV.

    Parameters
    ----------
    source : path-like, optional
        A Kaggle ``fer2013.csv``, or an image-folder root converted to one first (not timed);
        default ``$FERCOURSE_FER2013``.

    Returns
    -------
    dict
        ``rows``, ``megabytes``, the three timings and their ratios, ``identical_arrays`` (the
        seed parse, the cold load and the cached load give the same images and labels) and
        ``cached`` (the second load was read from the cache the first one wrote).

    Raises
    ------
    FileNotFoundError
        No source and ``FERCOURSE_FER2013`` unset, or the path does not exist.
    """
    from fercourse.config import cache_dir, fer2013_path, using_cache_dir
    from fercourse.data import load
    from fercourse.data.writers import save

    source = fer2013_path(source)
    with tempfile.TemporaryDirectory() as scratch, using_cache_dir(Path(scratch) / "cache"):
        csv_path = source
        if source.is_dir():
            print(f"converting {source} to a Kaggle CSV ...", flush=True)
            csv_path = save(load(source, cache=False), scratch, "kaggle-csv")[0]
        size_mb = csv_path.stat().st_size / 1e6
        seed_seconds, (seed_images, seed_labels) = _timed(lambda: seed_parse(csv_path))
        cold_seconds, cold = _timed(lambda: load(csv_path, progress=False))
        cached = any(cache_dir().glob("dataset-*.npz"))
        warm_seconds, warm = _timed(lambda: load(csv_path, progress=False))
    same = all(np.array_equal(_stacked(dataset, "images"), seed_images)
               and np.array_equal(_stacked(dataset, "labels"), seed_labels) for dataset in (cold, warm))
    result = {"csv": str(csv_path), "rows": int(len(seed_images)), "megabytes": round(size_mb, 1),
              "seed_seconds": round(seed_seconds, 3), "cold_seconds": round(cold_seconds, 3),
              "cached_seconds": round(warm_seconds, 4),
              "cold_speedup": round(seed_seconds / cold_seconds, 1),
              "cached_speedup": round(seed_seconds / warm_seconds, 1), "identical_arrays": bool(same),
              "cached": cached}
    print(f"{result['rows']} rows, {result['megabytes']} MB: seed parse {seed_seconds:.2f} s, "
          f"fercourse cold {cold_seconds:.2f} s ({result['cold_speedup']}x), "
          f"cached {warm_seconds:.3f} s ({result['cached_speedup']}x); identical arrays: {same}")
    return result
