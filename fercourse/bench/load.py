"""Benchmarks behind ``fercourse bench``: each prints its figures and ratios to a same-run baseline."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np

DEFAULT_FER2013 = Path(__file__).resolve().parents[2].parent / "shared" / "fer2013"


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


def bench_load(csv_path: str | Path | None = None) -> dict:
    """Time the seed parse, a cold fercourse load and a cached fercourse load of one Kaggle CSV."""
    import os

    from fercourse.data import load
    from fercourse.data.writers import save

    with tempfile.TemporaryDirectory() as scratch:
        if csv_path is None:
            if not DEFAULT_FER2013.is_dir():
                raise FileNotFoundError(f"{DEFAULT_FER2013}: no FER2013 copy; pass a Kaggle fer2013.csv")
            print(f"converting {DEFAULT_FER2013} to a Kaggle CSV ...", flush=True)
            csv_path = save(load(DEFAULT_FER2013), scratch, "kaggle-csv")[0]
        csv_path = Path(csv_path)
        os.environ["FERCOURSE_CACHE_DIR"] = str(Path(scratch) / "cache")  # a cold cache for this run
        size_mb = csv_path.stat().st_size / 1e6
        seed_seconds, (seed_images, seed_labels) = _timed(lambda: seed_parse(csv_path))
        cold_seconds, cold = _timed(lambda: load(csv_path, progress=False))
        warm_seconds, warm = _timed(lambda: load(csv_path, progress=False))
        os.environ.pop("FERCOURSE_CACHE_DIR")
    ours = np.concatenate([s.images for s in cold.splits.values()])
    same = bool(np.array_equal(ours, seed_images) and np.array_equal(
        np.concatenate([s.images for s in warm.splits.values()]), seed_images))
    result = {"csv": str(csv_path), "rows": int(len(seed_images)), "megabytes": round(size_mb, 1),
              "seed_seconds": round(seed_seconds, 3), "cold_seconds": round(cold_seconds, 3),
              "cached_seconds": round(warm_seconds, 4),
              "cold_speedup": round(seed_seconds / cold_seconds, 1),
              "cached_speedup": round(seed_seconds / warm_seconds, 1), "identical_arrays": same}
    print(f"{result['rows']} rows, {result['megabytes']} MB: seed parse {seed_seconds:.2f} s, "
          f"fercourse cold {cold_seconds:.2f} s ({result['cold_speedup']}x), "
          f"cached {warm_seconds:.3f} s ({result['cached_speedup']}x); identical arrays: {same}")
    return result
