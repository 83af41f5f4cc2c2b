"""Data: one entry point for every FER source, one dataset type, and the helpers the lessons use.

Modules, one job each:

- :mod:`~fercourse.data.dataset`: :class:`Split` and :class:`Dataset`, what every loader returns.
- :mod:`~fercourse.data.sources`: :func:`load`, which reads the sample, Kaggle CSVs, course CSVs
  and image folders.
- :mod:`~fercourse.data.readers` / :mod:`~fercourse.data.writers`: CSV and image-folder files in
  and out; ``prepare`` makes a course release.
- :mod:`~fercourse.data.cache`: the on-disk cache keyed on path, size and modification time.
- :mod:`~fercourse.data.synthetic`: the built-in synthetic sample.
- :mod:`~fercourse.data.shapes`: the face size and the pixel layouts (flat rows, row sequences,
  images); :func:`fercourse.models.model_input` shapes faces for a model.
- :mod:`~fercourse.data.splits`: validation splits (the trainers' one, :func:`validation_split`),
  stratified subsamples, class weights and oversampling.
- :mod:`~fercourse.data.duplicates`: exact duplicates within and across splits.
- :mod:`~fercourse.data.lessons`: :func:`lesson_data`, the splits a lesson uses (small in quick mode).

Examples
--------
>>> from fercourse.data import load
>>> data = load("sample", n_train=70, n_test=14)
>>> data.train.images.shape, data.train.images.dtype
((70, 48, 48), dtype('uint8'))
"""

from fercourse.data.cache import cache_dir
from fercourse.data.dataset import Dataset, Split
from fercourse.data.duplicates import DuplicateReport, find_duplicates, seen_in_train
from fercourse.data.lessons import lesson_data
from fercourse.data.shapes import as_flat, to_float
from fercourse.data.sources import load
from fercourse.data.splits import (
    class_weights,
    oversample,
    stratified_subsample,
    train_val_split,
    validation_split,
)

__all__ = ["Dataset", "DuplicateReport", "Split", "as_flat", "cache_dir", "class_weights", "find_duplicates",
           "lesson_data", "load", "oversample", "seen_in_train", "stratified_subsample", "to_float",
           "train_val_split", "validation_split"]
