"""Score a saved model on one split of a dataset: the engine of ``fercourse evaluate``.

:func:`evaluate_saved` loads a ``.keras`` file for inference, predicts with
:func:`fercourse.models.predict_proba` (optionally with test-time augmentation) and scores the
labels with :func:`fercourse.evaluate.evaluate`. The ``val`` and ``train`` splits are the ones every
trainer uses (:func:`fercourse.data.validation_split`), so a validation score here is the one the
recipe chose its epoch on.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from fercourse.errors import InputError


def _scored_split(dataset, split: str, without_train_duplicates: bool):
    """``(images, labels, left_out)`` of ``split``; ValueError naming the source when it cannot be scored."""
    from fercourse.data import seen_in_train, validation_split

    if split in ("val", "train"):
        chosen = dict(zip(("train", "val"), validation_split(dataset)))[split]
    elif split in dataset:
        chosen = dataset[split]
    else:
        raise InputError(f"{dataset.source} has no {split!r} split: expected test, val or train")
    if chosen.labels is None:
        raise InputError(f"{dataset.source}: the {split} split has no labels, so it cannot be scored "
                         "(score a submission against the answer key instead)")
    images, labels, left_out = chosen.images, chosen.labels, 0
    if without_train_duplicates and split != "train":
        keep = ~seen_in_train(dataset, split) if split in dataset else np.ones(len(labels), dtype=bool)
        images, labels, left_out = images[keep], labels[keep], int((~keep).sum())
    return images, labels, left_out


def evaluate_saved(model_path: str | os.PathLike, dataset, split: str = "test", tta: str | None = None,
                   without_train_duplicates: bool = False) -> dict:
    """Score a saved Keras model on one split: accuracy, macro-F1, per-class recall, confusion.

    Parameters
    ----------
    model_path : path-like
        A ``.keras`` file (from ``fercourse train`` or any fercourse Keras builder).
    dataset : Dataset or str
        The data, or a source for :func:`fercourse.data.load`.
    split : str
        ``"test"`` (the final, once-only score), ``"val"`` (the validation split the trainers carve
        from train) or ``"train"`` (the training images minus validation).
    tta : {None, "flip", "shift"}
        Test-time augmentation (:func:`fercourse.models.predict.tta_views`): ``"flip"`` averages
        each face and its mirror image, ``"shift"`` also their two-pixel shifts.
    without_train_duplicates : bool
        Leave out the images of ``split`` that also appear, pixel for pixel, in train (FER2013's
        PublicTest shares about 280 with Training); ``n`` then counts the rest.

    Returns
    -------
    dict
        ``model``, ``data``, ``split``, ``n``, ``left_out`` (train duplicates left out), ``tta``,
        ``accuracy``, ``macro_f1``, ``per_class_recall`` (emotion -> recall), ``confusion`` (7x7
        counts, rows true, columns predicted, canonical order) and ``per_class`` (the DataFrame
        from :func:`fercourse.evaluate.evaluate`).

    Raises
    ------
    FileNotFoundError
        ``model_path`` is not a file.
    ValueError
        The split is unknown or unlabelled, or ``tta`` is not one of the three.
    """
    from fercourse.data import load
    from fercourse.evaluate import confusion, evaluate
    from fercourse.models.predict import predict_proba
    from fercourse.models.pretrained import load_inference_model

    model_path = Path(model_path)
    if not model_path.is_file():
        raise FileNotFoundError(f"{model_path}: no such model file "
                                "(expected a .keras file from fercourse train)")
    if isinstance(dataset, (str, os.PathLike)):
        dataset = load(dataset)
    images, labels, left_out = _scored_split(dataset, split, without_train_duplicates)
    model = load_inference_model(model_path)
    predicted = predict_proba(model, images, tta=tta).argmax(axis=1)
    result = evaluate(labels, predicted, split=split)
    recall = result["per_class"]["recall"]
    return {"model": str(model_path), "data": dataset.source, "split": split, "n": result["n"],
            "left_out": left_out, "tta": tta, "accuracy": result["accuracy"], "macro_f1": result["macro_f1"],
            "per_class_recall": {emotion: float(value) for emotion, value in recall.items()},
            "confusion": confusion(labels, predicted).to_numpy().tolist(), "per_class": result["per_class"]}


__all__ = ["evaluate_saved"]
