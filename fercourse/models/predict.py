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

from fercourse.data.shapes import as_faces, shift_faces, to_layout
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
            views += [shift_faces(view, dy, dx) for dy, dx in ((k, 0), (-k, 0), (0, k), (0, -k))]
    return views


PREDICT_BATCH = 256


def padded_length(n: int, batch_size: int = PREDICT_BATCH) -> int:
    """How many rows :func:`predict_padded` feeds for ``n``: a multiple of ``batch_size``, or for
    fewer rows the next power of two, so a model sees a few batch shapes only.

    Keras traces its predict step once per new batch shape; without padding, every split size
    adds a last batch of a new shape, and TensorFlow warns about retracing.

    Examples
    --------
    >>> [padded_length(n) for n in (1, 3, 200, 256, 300, 2000)]
    [1, 4, 256, 256, 512, 2048]
    """
    if n >= batch_size:
        return -(-n // batch_size) * batch_size
    return 1 << max(0, n - 1).bit_length()


def predict_padded(model, inputs: np.ndarray, batch_size: int = PREDICT_BATCH) -> np.ndarray:
    """``model.predict`` on ``inputs`` padded with zeros to :func:`padded_length` rows; (n, ...) float64."""
    n = len(inputs)
    if n == 0:
        return np.zeros((0, *model.output_shape[1:]))
    import logging

    padded = np.zeros((padded_length(n, batch_size), *inputs.shape[1:]), dtype=inputs.dtype)
    padded[:n] = inputs
    # Every new model traces its predict step once; after five new models in a row (a lesson's
    # comparison) TensorFlow warns of "retracing", which is expected here and only noise in a lesson.
    tf_logger = logging.getLogger("tensorflow")
    level = tf_logger.level
    tf_logger.setLevel(logging.ERROR)
    try:
        scores = model.predict(padded, verbose=0, batch_size=min(batch_size, len(padded)))
    finally:
        tf_logger.setLevel(level)
    return np.asarray(scores, dtype=np.float64)[:n]


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
            return predict_padded(model, model_input(name, batch))
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


__all__ = ["PREDICT_BATCH", "TTA_MODES", "TTA_SHIFT_PIXELS", "padded_length", "predict_padded",
           "predict_proba", "tta_mode", "tta_views"]
