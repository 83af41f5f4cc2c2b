"""Data: one entry point for every FER source, one dataset type, and the helpers the lessons use.

Modules, one job each:

- :mod:`~fercourse.data.dataset`: :class:`Split` and :class:`Dataset`, what every loader returns.
- :mod:`~fercourse.data.sources`: :func:`load`, which reads the sample, Kaggle CSVs, course CSVs
  and image folders.
- :mod:`~fercourse.data.readers` / :mod:`~fercourse.data.writers`: CSV and image-folder files in
  and out; ``prepare`` makes a course release.
- :mod:`~fercourse.data.cache`: the on-disk cache keyed on path, size and modification time.
- :mod:`~fercourse.data.synthetic`: the built-in synthetic sample.
- :mod:`~fercourse.data.shapes`: float images, flat rows and row sequences for the models.
- :mod:`~fercourse.data.splits`: validation splits, stratified subsamples, class weights and
  oversampling.
- :mod:`~fercourse.data.duplicates`: exact duplicates within and across splits.
- :mod:`~fercourse.data.disguise`: the per-face shift and flip ``prepare`` gives released test faces,
  so that a pixel lookup in the public FER2013 does not find them.
- :mod:`~fercourse.data.lessons`: :func:`lesson_data`, the splits a lesson uses (small in quick mode).

Examples
--------
>>> from fercourse.data import load, as_image
>>> data = load("sample", n_train=70, n_test=14)
>>> as_image(data.train.images).shape
(70, 48, 48, 1)
"""

from fercourse.data.cache import cache_dir
from fercourse.data.dataset import Dataset, Split
from fercourse.data.duplicates import DuplicateReport, find_duplicates, seen_in_train
from fercourse.data.lessons import QUICK_SIZES, lesson_data
from fercourse.data.shapes import as_flat, as_image, as_sequence, to_float
from fercourse.data.sources import FER2013_ENV, load
from fercourse.data.splits import class_weights, oversample, stratified_subsample, train_val_split

__all__ = ["FER2013_ENV", "QUICK_SIZES", "Dataset", "DuplicateReport", "Split", "as_flat", "as_image",
           "as_sequence", "cache_dir", "class_weights", "find_duplicates", "lesson_data", "load",
           "oversample", "seen_in_train", "stratified_subsample", "to_float", "train_val_split"]
