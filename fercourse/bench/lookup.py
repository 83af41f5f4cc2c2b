"""``fercourse bench lookup``: how many released test faces a pixel lookup in the public data finds.

FER2013's labels are public, the test labels included. A student holding the Kaggle
``fer2013.csv`` can look up each released test face by its pixels and copy its label. This
benchmark measures how well that works: the fraction of test faces whose nearest neighbour by L2
distance on pixels, among every face of the source (for the image-folder copy of FER2013, its
Training and PublicTest faces), is the face itself (identical pixels), and the fraction whose
neighbour carries the face's true label (FER2013 holds duplicates with other labels).

No transformation of the released faces stops this for long: a shift or a flip is undone by trying
each one (the course measured this for the disguise it used to apply, instructor guide, section
Threat model). Grading on faces that are not public (``fercourse grade setup --test-set``) does.
"""

from __future__ import annotations

import time

import numpy as np

from fercourse.data.dataset import Dataset
from fercourse.errors import InputError


def nearest_neighbours(queries: np.ndarray, index: np.ndarray,
                       chunk_size: int = 512) -> tuple[np.ndarray, np.ndarray]:
    """Nearest neighbour in ``index`` of every query by L2 distance on pixels.

    Parameters
    ----------
    queries, index : np.ndarray
        (n, 48, 48) and (m, 48, 48) faces (any numeric dtype; compared as float32).
    chunk_size : int
        Queries per matrix product (memory: ``chunk_size * m`` floats).

    Returns
    -------
    (np.ndarray, np.ndarray)
        For each query, the position of its nearest neighbour in ``index`` and the exact squared
        distance to it (float64). The search itself runs in float32, so two neighbours within
        float32 rounding of each other (a few hundredths of a percent) may come out either way.

    Examples
    --------
    >>> index = np.stack([np.full((48, 48), v, np.uint8) for v in (0, 100, 200)])
    >>> nearest_neighbours(index[[2, 0]] + 1, index)[0].tolist()
    [2, 0]
    """
    # Centring the pixels leaves distances as they are and keeps float32 sums small.
    flat_index = index.reshape(len(index), -1).astype(np.float32) - 128.0
    index_norms = np.einsum("ij,ij->i", flat_index, flat_index)
    positions = np.empty(len(queries), np.int64)
    for start in range(0, len(queries), chunk_size):
        chunk = queries[start:start + chunk_size].reshape(-1, flat_index.shape[1]).astype(np.float32) - 128.0
        # |q - x|^2 = |q|^2 + |x|^2 - 2 q.x; the |q|^2 term does not change the argmin.
        partial = index_norms[None, :] - 2.0 * (chunk @ flat_index.T)
        positions[start:start + len(chunk)] = partial.argmin(axis=1)
    difference = (queries.reshape(len(queries), -1).astype(np.float64)
                  - index.reshape(len(index), -1)[positions].astype(np.float64))
    return positions, np.einsum("ij,ij->i", difference, difference)


def lookup_recovery(faces: np.ndarray, labels: np.ndarray, public: np.ndarray,
                    public_labels: np.ndarray) -> dict:
    """How often a nearest-neighbour lookup in ``public`` finds each test face and its label.

    Parameters
    ----------
    faces, labels : np.ndarray
        The test faces as released (n, 48, 48) and their true labels.
    public, public_labels : np.ndarray
        What the student holds: faces (m, 48, 48) with their labels; the test faces among them.

    Returns
    -------
    dict
        ``n`` faces tried, ``found`` (the neighbour has the face's exact pixels) and ``label`` (the
        neighbour's label is the face's true label), both as fractions.

    Examples
    --------
    >>> public = np.stack([np.full((48, 48), v, np.uint8) for v in (0, 100, 200)])
    >>> lookup_recovery(public[[2, 0]], np.array([5, 0]), public, np.array([1, 0, 5]))
    {'n': 2, 'found': 1.0, 'label': 0.5}
    """
    if len(faces) != len(labels) or len(public) != len(public_labels):
        raise InputError(f"{len(faces)} faces, {len(labels)} labels, {len(public)} public faces and "
                         f"{len(public_labels)} public labels: expected a label per face")
    neighbours = nearest_neighbours(faces, public)[0]
    same = (public.reshape(len(public), -1)[neighbours] == faces.reshape(len(faces), -1)).all(axis=1)
    return {"n": int(len(faces)), "found": float(same.mean()),
            "label": float((public_labels[neighbours] == labels).mean())}


def bench_lookup(dataset: Dataset) -> dict:
    """Look up every test face of ``dataset`` among all of its faces, as released by ``prepare``.

    Returns
    -------
    dict
        ``source``, ``n_test``, ``n_public``, ``lookup`` (:func:`lookup_recovery`) and ``lookup_seconds``.
    """
    test = dataset.test
    if test.labels is None:
        raise InputError(f"{dataset.source}: the test split has no labels: expected a labelled source "
                         "(the one given to fercourse data prepare)")
    public = np.concatenate([split.images for split in dataset.splits.values()])
    public_labels = np.concatenate([split.labels for split in dataset.splits.values()])
    start = time.perf_counter()
    lookup = lookup_recovery(test.images, test.labels, public, public_labels)
    return {"source": dataset.source, "n_test": len(test), "n_public": len(public), "lookup": lookup,
            "lookup_seconds": round(time.perf_counter() - start, 1)}


def format_lookup(result: dict) -> str:
    """The benchmark's figures as text."""
    lookup = result["lookup"]
    return (f"{result['source']}: {result['n_test']} test faces looked up among {result['n_public']} "
            f"public faces ({result['lookup_seconds']} s)\n"
            f"found (same pixels): {lookup['found']:.1%}; right label copied: {lookup['label']:.1%}")


__all__ = ["bench_lookup", "format_lookup", "lookup_recovery", "nearest_neighbours"]
