"""The one place that knows a face's size and the pixel layouts the models take.

A face is a 48x48 grayscale image (:data:`IMAGE_SIZE`); datasets store batches of them as uint8
``(n, 48, 48)``. Models take float32 pixels in [0, 1] in one of three :data:`LAYOUTS`:

- ``"flat"``: ``(n, 2304)``, one row per face, for scikit-learn and the MLP;
- ``"sequence"``: ``(n, 48, 48)``, 48 time steps (image rows) of 48 features, for LSTM and GRU;
- ``"image"``: ``(n, 48, 48, 1)``, one channel, for CNNs.

:func:`to_layout` shapes a batch for a layout named here; :func:`as_faces` turns any layout back
into ``(n, 48, 48)`` and is where a batch of the wrong size is refused. Code that holds a model (or
a model's name) calls :func:`fercourse.models.model_input` instead, which reads the layout from the
model and calls :func:`to_layout`.

Examples
--------
>>> faces = np.zeros((2, IMAGE_SIZE, IMAGE_SIZE), dtype=np.uint8)
>>> {layout: to_layout(faces, layout).shape for layout in LAYOUTS}
{'flat': (2, 2304), 'sequence': (2, 48, 48), 'image': (2, 48, 48, 1)}
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from fercourse.errors import InputError

IMAGE_SIZE: int = 48
"""Height and width of a FER2013 face, in pixels."""

NUM_PIXELS: int = IMAGE_SIZE * IMAGE_SIZE
"""Pixels per face (2304)."""

FACE_SHAPE: tuple[int, int] = (IMAGE_SIZE, IMAGE_SIZE)
"""The shape of one stored face."""

LAYOUTS: dict[str, tuple[int, ...]] = {
    "flat": (NUM_PIXELS,),
    "sequence": FACE_SHAPE,
    "image": (*FACE_SHAPE, 1),
}
"""Layout name -> the shape of one face in that layout (the batch axis comes first)."""


def _shown(layout: str) -> str:
    return "(n, " + ", ".join(map(str, LAYOUTS[layout])) + ")"


def layout_of(shape: Sequence[int]) -> str:
    """The layout whose per-face shape is ``shape`` (a model's ``input_shape`` without the batch axis).

    Raises
    ------
    ValueError
        ``shape`` is none of :data:`LAYOUTS`; the message lists them.

    Examples
    --------
    >>> layout_of((48, 48, 1)), layout_of((2304,))
    ('image', 'flat')
    """
    shape = tuple(shape)
    for layout, per_face in LAYOUTS.items():
        if shape == per_face:
            return layout
    expected = ", ".join(f"{per_face} ({layout})" for layout, per_face in LAYOUTS.items())
    raise InputError(f"per-face shape {shape} is not a face layout: expected one of {expected}")


def as_faces(images, field: str = "images", *,
             layouts: Sequence[str] = ("sequence", "image", "flat")) -> np.ndarray:
    """A batch of faces given in any of ``layouts``, as ``(n, 48, 48)`` (values and dtype unchanged).

    Parameters
    ----------
    images : array-like
        A batch in one of ``layouts``.
    field : str
        How the batch is named in the error message.
    layouts : sequence of str
        The :data:`LAYOUTS` accepted (all of them by default), in the order the message lists them.

    Returns
    -------
    np.ndarray
        ``(n, 48, 48)``; a view of ``images`` where NumPy can make one.

    Raises
    ------
    ValueError
        The batch has another shape; the message names ``field``, its shape and what was expected.

    Examples
    --------
    >>> as_faces(np.zeros((3, 2304))).shape
    (3, 48, 48)
    >>> as_faces(np.zeros((3, 2304)), layouts=("sequence", "image"))
    Traceback (most recent call last):
    ...
    fercourse.errors.InputError: images have shape (3, 2304): expected (n, 48, 48) or (n, 48, 48, 1) faces
    """
    images = np.asarray(images)
    for layout in layouts:
        if images.shape[1:] == LAYOUTS[layout] and images.ndim == len(LAYOUTS[layout]) + 1:
            return images.reshape(len(images), *FACE_SHAPE)
    shown = [_shown(layout) for layout in layouts]
    expected = shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " or " + shown[-1]
    raise InputError(f"{field} have shape {images.shape}: expected {expected} faces")


def to_float(images) -> np.ndarray:
    """Pixels as float32 in [0, 1]: integer pixels (0-255) are divided by 255.

    Float pixels above 1 are taken as 0-255 and divided too; float pixels already in [0, 1]
    are copied unchanged, so scaling twice does no harm.

    Examples
    --------
    >>> to_float(np.array([[0, 255]], dtype=np.uint8)).tolist()
    [[0.0, 1.0]]
    >>> to_float(np.array([[0.0, 0.5]])).tolist()
    [[0.0, 0.5]]
    """
    images = np.asarray(images)
    pixels = images.astype(np.float32)  # a copy, so callers never share memory with the dataset
    if np.issubdtype(images.dtype, np.integer) or pixels.max(initial=0.0) > 1.0:
        pixels /= 255.0
    return pixels


def to_layout(images, layout: str, field: str = "images") -> np.ndarray:
    """A batch of faces as float32 pixels in [0, 1], shaped for ``layout``.

    Parameters
    ----------
    images : array-like
        Faces in any of :data:`LAYOUTS` (usually uint8 ``(n, 48, 48)``).
    layout : str
        ``"flat"``, ``"sequence"`` or ``"image"``.
    field : str
        How the batch is named in error messages.

    Returns
    -------
    np.ndarray
        float32 ``(n, *LAYOUTS[layout])``, scaled as :func:`to_float` does.

    Examples
    --------
    >>> x = to_layout(np.full((1, 48, 48), 255, dtype=np.uint8), "image")
    >>> x.shape, x.dtype, float(x.max())
    ((1, 48, 48, 1), dtype('float32'), 1.0)
    """
    if layout not in LAYOUTS:
        raise InputError(f"layout {layout!r} is unknown: expected one of {', '.join(LAYOUTS)}")
    faces = as_faces(images, field)
    return to_float(faces).reshape(len(faces), *LAYOUTS[layout])


def as_flat(images) -> np.ndarray:
    """Float32 (n, 2304) pixels in [0, 1]: one row per face, for PCA and scikit-learn code.

    What a fitted baseline takes; code that holds a model (or its name) says
    :func:`fercourse.models.model_input` instead, which gives the same rows for a baseline.
    """
    return to_layout(images, "flat")


def shift_faces(images: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """(n, 48, 48) faces with their content moved ``dy`` rows down and ``dx`` columns right.

    The uncovered border repeats the edge pixels, as the training augmentation fills it. Used by
    test-time augmentation and the perturbation tests.

    Examples
    --------
    >>> faces = np.arange(48 * 48, dtype=np.uint8).reshape(1, 48, 48)
    >>> moved = shift_faces(faces, 2, -1)
    >>> bool((moved[0, 2:, :-1] == faces[0, :-2, 1:]).all()), bool((moved[0, 0] == moved[0, 2]).all())
    (True, True)
    """
    k = max(abs(dy), abs(dx))
    padded = np.pad(images, ((0, 0), (k, k), (k, k)), mode="edge")
    return padded[:, k - dy:k - dy + IMAGE_SIZE, k - dx:k - dx + IMAGE_SIZE]


__all__ = ["FACE_SHAPE", "IMAGE_SIZE", "LAYOUTS", "NUM_PIXELS", "as_faces", "as_flat", "layout_of",
           "shift_faces", "to_float", "to_layout"]
