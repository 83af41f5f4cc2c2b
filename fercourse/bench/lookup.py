"""``fercourse bench lookup``: what disguising the released test faces costs and what it stops.

FER2013's labels are public, so a student holding the Kaggle ``fer2013.csv`` could look up each
released test face by its pixels. ``fercourse data prepare`` disguises the test faces
(:mod:`fercourse.data.disguise`). This benchmark measures, in one run:

- the **accuracy cost**: one model's test accuracy on the original and on the disguised faces,
  without and with test-time augmentation (the prediction path of ``fercourse evaluate``);
- the **lookup recovery**: the fraction of test faces whose nearest neighbour by L2 distance on
  pixels, in the public set (every split of the source: FER2013's Training and PublicTest
  for the image-folder copy), is the face itself (identical pixels), and the fraction whose
  neighbour carries the face's true label, for four attackers:

  ``original``
      the faces as released without the disguise (the baseline: every face found);
  ``disguised``
      the disguised faces, looked up as they are;
  ``mirror``
      each disguised face and its mirror image, the closer of the two neighbours kept;
  ``undo``
      every flip and shift the disguise can make undone in turn (32 candidates per face, the
      closest kept): an attacker who read :mod:`fercourse.data.disguise`. Slow, so measured on
      a subset of faces (``undo_faces``).
"""

from __future__ import annotations

import itertools
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from fercourse.data.dataset import Dataset
from fercourse.data.disguise import MAX_SHIFT, MIN_SHIFT, disguise_faces
from fercourse.data.shapes import shift_faces
from fercourse.errors import InputError

ATTACKERS = ("original", "disguised", "mirror", "undo")


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


def undo_candidates(faces: np.ndarray) -> list[np.ndarray]:
    """Every face with each flip and shift the disguise can make undone (32 arrays of (n, 48, 48)).

    The shifted-back faces repeat their edge pixels where the disguise had cut the face off, so
    only the centre matches the original exactly.
    """
    sizes = range(MIN_SHIFT, MAX_SHIFT + 1)
    shifts = [sign * size for size in sizes for sign in (-1, 1)]
    return [shift_faces(view, -dy, -dx)  # undo a move by (dy, dx)
            for view in (faces, faces[:, :, ::-1]) for dy, dx in itertools.product(shifts, shifts)]


def _closest(candidates: list[np.ndarray], index: np.ndarray) -> np.ndarray:
    """Per face, the neighbour of whichever candidate view of it lies closest to the index."""
    found = [nearest_neighbours(view, index) for view in candidates]
    positions = np.stack([f[0] for f in found])
    distances = np.stack([f[1] for f in found])
    return positions[distances.argmin(axis=0), np.arange(positions.shape[1])]


def lookup_recovery(faces: np.ndarray, labels: np.ndarray, disguised: np.ndarray, public: np.ndarray,
                    public_labels: np.ndarray, undo_faces: int | None = 500, seed: int = 0) -> dict:
    """How often a nearest-neighbour lookup in ``public`` recovers each test face and its label.

    Parameters
    ----------
    faces, labels : np.ndarray
        The test faces as in the source (n, 48, 48) and their true labels.
    disguised : np.ndarray
        The same faces, disguised, in the same order.
    public, public_labels : np.ndarray
        What the attacker holds: faces (m, 48, 48) with their labels; the test faces among them.
    undo_faces : int or None
        Faces (a random subset, ``seed``) the slow ``undo`` attacker is measured on; None: all,
        0: skip it.

    Returns
    -------
    dict
        Per attacker (:data:`ATTACKERS`): ``n`` faces tried, ``found`` (the neighbour has the
        face's exact pixels) and ``label`` (the neighbour's label is the face's true label), both
        as fractions.
    """
    if not len(faces) == len(labels) == len(disguised) or len(public) != len(public_labels):
        raise InputError(f"{len(faces)} faces, {len(labels)} labels, {len(disguised)} disguised faces, "
                         f"{len(public)} public faces and {len(public_labels)} public labels: expected as "
                         "many labels and disguised faces as faces, and a label per public face")
    flat_public = public.reshape(len(public), -1)

    def rates(rows: np.ndarray, neighbours: np.ndarray) -> dict:
        same = (flat_public[neighbours] == faces[rows].reshape(len(rows), -1)).all(axis=1)
        return {"n": int(len(rows)), "found": float(same.mean()),
                "label": float((public_labels[neighbours] == labels[rows]).mean())}

    every = np.arange(len(faces))
    result = {"original": rates(every, nearest_neighbours(faces, public)[0]),
              "disguised": rates(every, nearest_neighbours(disguised, public)[0]),
              "mirror": rates(every, _closest([disguised, disguised[:, :, ::-1]], public))}
    if undo_faces != 0:
        rows = every
        if undo_faces is not None and undo_faces < len(faces):
            rows = np.sort(np.random.default_rng(seed).choice(len(faces), undo_faces, replace=False))
        result["undo"] = rates(rows, _closest(undo_candidates(disguised[rows]), public))
    return result


def accuracy_cost(model, faces: np.ndarray, disguised: np.ndarray, labels: np.ndarray,
                  tta_modes: tuple = (None, "shift")) -> dict:
    """One model's accuracy on the original and the disguised faces, per TTA mode.

    ``model`` is what :func:`fercourse.models.predict_proba` takes (a Keras model or a fitted
    scikit-learn estimator); ``tta_modes`` are its ``tta`` values. Returns, per mode name
    (``"none"``, ``"flip"``, ``"shift"``), ``original`` and ``disguised`` accuracy and their
    ``difference`` (disguised minus original).
    """
    from fercourse.models.predict import predict_proba

    result = {}
    for tta in tta_modes:
        scores = {kind: float((predict_proba(model, images, tta=tta).argmax(axis=1) == labels).mean())
                  for kind, images in (("original", faces), ("disguised", disguised))}
        scores["difference"] = scores["disguised"] - scores["original"]
        result[tta or "none"] = scores
    return result


def bench_lookup(dataset: Dataset, model_path: str | Path | None = None, salt: str = "fercourse",
                 undo_faces: int | None = 500, tta_modes: tuple = (None, "shift")) -> dict:
    """Disguise ``dataset``'s test faces as ``prepare`` does; measure lookup recovery and accuracy cost.

    Parameters
    ----------
    dataset : Dataset
        Labelled data; every split is the attacker's public set, its test split the released faces.
    model_path : path-like, optional
        A saved Keras model scored on the original and disguised test faces; it is copied to a
        temporary file first (a training run may be overwriting it). None: no accuracy figures.
    salt : str
        The offering's salt, as given to ``fercourse data prepare``.
    undo_faces, tta_modes
        As for :func:`lookup_recovery` and :func:`accuracy_cost`.

    Returns
    -------
    dict
        ``n_test``, ``n_public``, ``lookup`` (:func:`lookup_recovery`), ``accuracy``
        (:func:`accuracy_cost`, or None), and ``lookup_seconds``.
    """
    from fercourse.data.writers import release_ids

    test = dataset.test
    if test.labels is None:
        raise InputError(f"{dataset.source}: the test split has no labels: expected a labelled source "
                         "(the one given to fercourse data prepare)")
    public = np.concatenate([split.images for split in dataset.splits.values()])
    public_labels = np.concatenate([split.labels for split in dataset.splits.values()])
    # The ids prepare disguises by are the release ids, so these are the faces prepare releases.
    disguised = disguise_faces(test.images, release_ids(salt, "test", test.ids), salt)
    start = time.perf_counter()
    lookup = lookup_recovery(test.images, test.labels, disguised, public, public_labels,
                             undo_faces=undo_faces)
    result = {"source": dataset.source, "n_test": len(test), "n_public": len(public), "lookup": lookup,
              "lookup_seconds": round(time.perf_counter() - start, 1), "accuracy": None, "model": None}
    if model_path is not None:
        import keras

        import fercourse.models.layers  # noqa: F401 - registers the custom classes for loading

        if not Path(model_path).is_file():
            raise FileNotFoundError(f"{model_path}: no such model file (expected a .keras file)")
        with tempfile.TemporaryDirectory() as scratch:
            copy = Path(scratch) / "model.keras"
            shutil.copyfile(model_path, copy)
            model = keras.models.load_model(copy)
        result["model"] = str(model_path)
        result["accuracy"] = accuracy_cost(model, test.images, disguised, test.labels, tta_modes)
    return result


def format_lookup(result: dict) -> str:
    """The benchmark's figures as text."""
    lines = [f"{result['source']}: {result['n_test']} test faces looked up among {result['n_public']} "
             f"public faces ({result['lookup_seconds']} s)",
             f"{'attacker':<11}{'faces':>7}{'found':>9}{'label':>9}"]
    for attacker, rates in result["lookup"].items():
        lines.append(f"{attacker:<11}{rates['n']:>7}{rates['found']:>9.1%}{rates['label']:>9.1%}")
    if result["accuracy"]:
        lines += ["", f"accuracy of {result['model']}",
                  f"{'TTA':<11}{'original':>10}{'disguised':>11}{'change':>9}"]
        for mode, scores in result["accuracy"].items():
            lines.append(f"{mode:<11}{scores['original']:>10.4f}{scores['disguised']:>11.4f}"
                         f"{100 * scores['difference']:>+8.2f}pt")
    return "\n".join(lines)


__all__ = ["ATTACKERS", "accuracy_cost", "bench_lookup", "format_lookup", "lookup_recovery",
           "nearest_neighbours", "undo_candidates"]
