"""The one prediction path: faces in, (n, 7) class probabilities out, for any fercourse model.

:func:`predict_proba` takes a Keras model (built by :func:`fercourse.models.build_model`, loaded
from a ``.keras`` file, or the shipped one) or a fitted scikit-learn baseline, reads from the model
itself which pixel layout it takes (:func:`input_layout`), and returns probabilities in canonical
label order, optionally averaged over test-time augmentation views (:func:`tta_views`). Lessons,
``fercourse evaluate``/``compare``, the benchmarks and the demo all call it.

:func:`model_input` is the one spelling of "shape these faces for this model" (a model, or a
model's name before it is built); :func:`fercourse.data.shapes.to_layout` underneath it knows
only layouts. Metrics on the labels these probabilities give are in :mod:`fercourse.evaluate`.

Examples
--------
>>> faces = np.zeros((2, 48, 48), dtype=np.uint8)
>>> [model_input(name, faces).shape for name in ("mlp", "lstm", "cnn", "logistic_regression")]
[(2, 2304), (2, 48, 48), (2, 48, 48, 1), (2, 2304)]
"""

from __future__ import annotations

import logging

import numpy as np

from fercourse.data.shapes import LAYOUTS, as_faces, layout_of, shift_faces, to_layout
from fercourse.errors import InputError, InputTypeError
from fercourse.labels import NUM_CLASSES
from fercourse.models.baselines import BASELINES
from fercourse.models.keras_models import KERAS_MODELS, MODEL_LAYOUTS

TTA_MODES = ("flip", "shift")
"""The test-time augmentations :func:`predict_proba` knows; ``None`` is none."""
TTA_SHIFT_PIXELS = 2
PREDICT_BATCH = 256


def input_layout(model) -> str:
    """The :data:`~fercourse.data.shapes.LAYOUTS` name of the faces ``model`` takes.

    A Keras model's layout is read from its ``input_shape``: ``"image"`` (None, 48, 48, 1),
    ``"flat"`` (None, 2304) or ``"sequence"`` (None, 48, 48). Anything else with a ``predict_proba``
    or ``decision_function`` (a scikit-learn baseline) takes ``"flat"`` pixels.

    Raises
    ------
    ValueError
        A Keras model with several inputs, an input that is not one 48x48 face, or an output that
        is not one score per emotion; the message names the model and what was expected.

    Examples
    --------
    >>> from sklearn.dummy import DummyClassifier
    >>> input_layout(DummyClassifier())
    'flat'
    """
    if not hasattr(model, "input_shape"):
        if hasattr(model, "predict_proba") or hasattr(model, "decision_function"):
            return "flat"
        raise InputTypeError(f"model is a {type(model).__name__}: expected a Keras model or a fitted "
                             "scikit-learn classifier")
    shape = model.input_shape
    if isinstance(shape, list):
        if len(shape) != 1:
            raise InputError(f"model {model.name!r} has {len(shape)} inputs; expected one image input")
        shape = shape[0]
    try:
        layout = layout_of(shape[1:])
    except ValueError:
        expected = ", ".join(str((None, *per_face)) for per_face in LAYOUTS.values())
        raise InputError(f"model {model.name!r} takes input {shape}: expected one of {expected}, "
                         "i.e. one 48x48 gray face") from None
    if tuple(model.output_shape[1:]) != (NUM_CLASSES,):
        raise InputError(f"model {model.name!r} outputs {model.output_shape}: "
                         f"expected (None, {NUM_CLASSES}), one score per emotion")
    return layout


def model_input(model, images) -> np.ndarray:
    """The faces as float32 pixels in [0, 1], shaped for ``model``.

    Parameters
    ----------
    model : keras.Model, scikit-learn estimator or str
        The model (its layout is read by :func:`input_layout`), or the name of one not built yet:
        a Keras name (``"mlp"``: (n, 2304); ``"lstm"``, ``"gru_attention"``: (n, 48, 48), one image
        row per time step; ``"cnn"``: (n, 48, 48, 1)) or a baseline name (flat pixels).
    images : array-like
        (n, 48, 48) or (n, 48, 48, 1) faces, usually uint8; float pixels already in [0, 1] are not
        scaled again. Flat rows are refused: a (n, 2304) batch is usually one shaped already.

    Returns
    -------
    np.ndarray
        float32, ``(n, *LAYOUTS[layout])``.

    Examples
    --------
    >>> model_input("cnn", np.full((1, 48, 48), 255, dtype=np.uint8)).max()
    np.float32(1.0)
    """
    if isinstance(model, str):
        if model in MODEL_LAYOUTS:
            layout = MODEL_LAYOUTS[model]
        elif model in BASELINES:
            layout = "flat"
        else:
            raise InputError(f"model name {model!r} is unknown: expected one of "
                             f"{', '.join(KERAS_MODELS + BASELINES)}")
    else:
        layout = input_layout(model)
    faces = as_faces(images, layouts=("sequence", "image"))
    return to_layout(faces, layout)


def _check_tta(tta) -> str | None:
    if tta is not None and (not isinstance(tta, str) or tta not in TTA_MODES):
        raise InputError(f"tta is {tta!r}: expected None, 'flip' or 'shift'")
    return tta


def tta_views(images: np.ndarray, tta: str | None) -> list[np.ndarray]:
    """The copies of (n, 48, 48) faces that test-time augmentation ``tta`` averages over.

    ``None``: the faces alone. ``"flip"``: the faces and their mirror images. ``"shift"``: each of
    those two, also moved by :data:`TTA_SHIFT_PIXELS` pixels up, down, left and right (edges
    repeated, as the training augmentation fills them): ten views.

    Examples
    --------
    >>> faces = np.arange(2 * 48 * 48, dtype=np.uint8).reshape(2, 48, 48)
    >>> [len(tta_views(faces, mode)) for mode in (None, "flip", "shift")]
    [1, 2, 10]
    >>> bool((tta_views(faces, "flip")[1][:, :, 0] == faces[:, :, 47]).all())
    True
    """
    mode = _check_tta(tta)
    views = [images] if mode is None else [images, images[:, :, ::-1]]
    if mode == "shift":
        k = TTA_SHIFT_PIXELS
        for view in list(views):
            views += [shift_faces(view, dy, dx) for dy, dx in ((k, 0), (-k, 0), (0, k), (0, -k))]
    return views


def _padded_length(n: int, batch_size: int = PREDICT_BATCH) -> int:
    """Rows fed for ``n``: a multiple of ``batch_size``, or for fewer rows the next power of two.

    Keras traces its predict step once per new batch shape; without padding, every split size adds
    a last batch of a new shape, and TensorFlow warns about retracing.

    >>> [_padded_length(n) for n in (1, 3, 200, 256, 300, 2000)]
    [1, 4, 256, 256, 512, 2048]
    """
    if n >= batch_size:
        return -(-n // batch_size) * batch_size
    return 1 << max(0, n - 1).bit_length()


def _keras_scores(model, inputs: np.ndarray) -> np.ndarray:
    """The model's outputs for ``inputs`` (padded to :func:`_padded_length` rows), float64 (n, 7)."""
    n = len(inputs)
    padded = np.zeros((_padded_length(n), *inputs.shape[1:]), dtype=inputs.dtype)
    padded[:n] = inputs
    # Every new model traces its predict step once; after five new models in a row (a lesson's
    # comparison) TensorFlow warns of "retracing", which is expected here and only noise in a lesson.
    tf_logger = logging.getLogger("tensorflow")
    level = tf_logger.level
    tf_logger.setLevel(logging.ERROR)
    try:
        if len(padded) <= PREDICT_BATCH:  # one compiled call: ~2 ms for a few faces, predict() 10-20 ms
            scores = model.predict_on_batch(padded)
        else:
            scores = model.predict(padded, verbose=0, batch_size=PREDICT_BATCH)
    finally:
        tf_logger.setLevel(level)
    return _as_probabilities(np.asarray(scores, dtype=np.float64)[:n])


def _as_probabilities(scores: np.ndarray) -> np.ndarray:
    """Softmax outputs pass through (renormalised); logits (negative or not summing to 1) get a softmax.

    A model that computes in bfloat16 (a recipe checkpoint) returns softmax rows that sum to 1 only
    to about 1e-2 (bfloat16 keeps 8 bits of mantissa); a softmax of those would flatten them into
    near-uniform rows with the same argmax but meaningless confidences.
    """
    sums = scores.sum(axis=1, keepdims=True)
    if (scores >= 0).all() and np.allclose(sums, 1.0, atol=2e-2):
        return scores / sums
    return _softmax(scores)


def _softmax(scores: np.ndarray) -> np.ndarray:
    shifted = np.exp(scores - scores.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def _estimator_proba(model, flat: np.ndarray) -> np.ndarray:
    """A scikit-learn classifier's probabilities in all seven canonical columns."""
    if hasattr(model, "predict_proba"):
        raw = np.asarray(model.predict_proba(flat), dtype=np.float64)
    else:  # a plain SVM: a softmax of its decision function
        raw = _softmax(np.asarray(model.decision_function(flat), dtype=np.float64))
    full = np.zeros((len(flat), NUM_CLASSES))
    full[:, np.asarray(model.classes_, dtype=np.int64)] = raw
    return full


def predict_proba(model, images, *, tta: str | None = None) -> np.ndarray:
    """Class probabilities (n, 7) for faces, from a Keras model or a fitted scikit-learn classifier.

    Parameters
    ----------
    model : keras.Model or scikit-learn estimator
        A seven-class Keras model (its input layout is read from the model, :func:`input_layout`),
        or a fitted classifier that takes flat pixels in [0, 1] (a :mod:`fercourse.models.baselines`
        model).
    images : array-like
        (n, 48, 48) uint8 faces ((n, 48, 48, 1) is accepted too).
    tta : {None, "flip", "shift"}
        Test-time augmentation: average the probabilities over the views of :func:`tta_views`:
        ``"flip"`` the faces and their mirror images, ``"shift"`` those two each also shifted two
        pixels four ways (ten views, ten times the prediction time).

    Returns
    -------
    np.ndarray
        float64 (n, 7), columns in canonical order even when the estimator never saw a class.
        Estimators without ``predict_proba`` (e.g. a plain SVM), and Keras models that output
        logits, get a softmax of their scores.

    Raises
    ------
    ValueError
        ``images`` are not faces, ``tta`` is not one of the three, or the model does not take one
        48x48 face and output seven scores.

    Examples
    --------
    >>> from sklearn.dummy import DummyClassifier
    >>> faces = np.zeros((4, 48, 48), dtype=np.uint8)
    >>> prior = DummyClassifier(strategy="prior").fit(model_input("dummy", faces), [3, 3, 3, 6])
    >>> predict_proba(prior, faces[:1], tta="flip").round(2).tolist()
    [[0.0, 0.0, 0.0, 0.75, 0.0, 0.0, 0.25]]
    """
    faces = as_faces(images, layouts=("sequence", "image"))
    views = tta_views(faces, tta)
    keras_model = hasattr(model, "input_shape")
    model_input(model, faces[:0])  # checks the model before any work
    if len(faces) == 0:
        return np.zeros((0, NUM_CLASSES))

    def one_view(view: np.ndarray) -> np.ndarray:
        pixels = model_input(model, view)
        return _keras_scores(model, pixels) if keras_model else _estimator_proba(model, pixels)

    return sum(one_view(view) for view in views) / len(views)


__all__ = ["PREDICT_BATCH", "TTA_MODES", "TTA_SHIFT_PIXELS", "input_layout", "model_input", "predict_proba",
           "tta_views"]
