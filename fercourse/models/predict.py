"""Class probabilities from a trained model, with optional test-time augmentation (TTA).

This is model inference, kept apart from the metrics in :mod:`fercourse.evaluate` (which scores
the labels these probabilities give). :func:`predict_proba` takes a Keras model from
:func:`fercourse.models.build_model` or a fitted scikit-learn baseline and returns (n, 7)
probabilities in canonical label order.

Examples
--------
>>> [tta_mode(value) for value in (False, True, "shift")]
[False, 'flip', 'shift']
"""

from __future__ import annotations

import numpy as np

from fercourse.data.shapes import IMAGE_SIZE, as_faces, to_layout
from fercourse.errors import InputError
from fercourse.labels import NUM_CLASSES
from fercourse.models.keras_models import KERAS_MODELS, model_input

TTA_MODES = ("flip", "shift")
TTA_SHIFT_PIXELS = 2


def tta_mode(tta: bool | str | None) -> bool | str:
    """The name of a test-time augmentation setting: False, ``"flip"`` or ``"shift"``.

    ``True`` (what records and callers before ``"shift"`` existed say) means ``"flip"``; any
    false value means False; another name is a ValueError.

    Examples
    --------
    >>> [tta_mode(value) for value in (None, False, True, "flip", "shift")]
    [False, False, 'flip', 'flip', 'shift']
    """
    mode = "flip" if tta is True else (tta or False)
    if mode is not False and mode not in TTA_MODES:
        raise InputError(f"tta is {tta!r}: expected False, True, 'flip' or 'shift'")
    return mode


def tta_views(images: np.ndarray, tta: bool | str) -> list[np.ndarray]:
    """The copies of (n, 48, 48) faces that test-time augmentation ``tta`` averages over.

    ``False``: the faces alone. ``True`` or ``"flip"``: the faces and their mirror images.
    ``"shift"``: each of those two, also moved by :data:`TTA_SHIFT_PIXELS` pixels up, down, left
    and right (edges repeated, as the training augmentation fills them): ten views.

    Examples
    --------
    >>> faces = np.arange(2 * 48 * 48, dtype=np.uint8).reshape(2, 48, 48)
    >>> [len(tta_views(faces, mode)) for mode in (False, "flip", "shift")]
    [1, 2, 10]
    >>> bool((tta_views(faces, "flip")[1][:, :, 0] == faces[:, :, 47]).all())
    True
    """
    mode = tta_mode(tta)
    views = [images] if mode is False else [images, images[:, :, ::-1]]
    if mode == "shift":
        k = TTA_SHIFT_PIXELS
        for view in list(views):
            padded = np.pad(view, ((0, 0), (k, k), (k, k)), mode="edge")
            for dy, dx in ((-k, 0), (k, 0), (0, -k), (0, k)):
                views.append(padded[:, k + dy:k + dy + IMAGE_SIZE, k + dx:k + dx + IMAGE_SIZE])
    return views


def predict_proba(model, images_uint8: np.ndarray, name: str, tta: bool | str = False) -> np.ndarray:
    """Class probabilities (n, 7) for images, from a Keras model or a scikit-learn estimator.

    Parameters
    ----------
    model : keras.Model or scikit-learn estimator
        A Keras model from :func:`fercourse.models.build_model`, or a fitted baseline that takes
        flat pixels.
    images_uint8 : np.ndarray
        (n, 48, 48) uint8 faces ((n, 48, 48, 1) is accepted too).
    name : str
        The model's name: a Keras name (``"mlp"``, ``"lstm"``, ``"gru_attention"``, ``"cnn"``) picks
        the input shape; any other name (a baseline) means flat pixels.
    tta : bool or str
        Test-time augmentation: average the probabilities over the views of :func:`tta_views`:
        ``True``/``"flip"`` the images and their mirror images, ``"shift"`` those two each also
        shifted two pixels four ways (ten views, ten times the prediction time).

    Returns
    -------
    np.ndarray
        float (n, 7); columns in canonical order even when the estimator never saw a class.
        Estimators without ``predict_proba`` (e.g. a plain SVM) get a softmax of their decision
        function.
    """
    images = as_faces(images_uint8, layouts=("sequence", "image"))

    def one_pass(batch):
        if name in KERAS_MODELS:
            scores = model.predict(model_input(name, batch), verbose=0, batch_size=256)
            return np.asarray(scores, dtype=np.float64)
        flat = to_layout(batch, "flat")
        if hasattr(model, "predict_proba"):
            raw = np.asarray(model.predict_proba(flat), dtype=np.float64)
        else:
            scores = np.asarray(model.decision_function(flat), dtype=np.float64)
            scores = np.exp(scores - scores.max(axis=1, keepdims=True))
            raw = scores / scores.sum(axis=1, keepdims=True)
        full = np.zeros((len(batch), NUM_CLASSES))
        full[:, np.asarray(model.classes_, dtype=np.int64)] = raw
        return full

    views = tta_views(images, tta)
    return sum(one_pass(view) for view in views) / len(views)


__all__ = ["TTA_MODES", "TTA_SHIFT_PIXELS", "predict_proba", "tta_mode", "tta_views"]
