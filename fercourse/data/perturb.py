"""Perturbed copies of faces, and the accuracy of a model under each: the robustness sweep.

Every function takes (n, 48, 48) uint8 faces and returns new (n, 48, 48) uint8 faces; the input
is never changed. The perturbations are the everyday ways a face reaches a model differently from
the training crops:

==============  =========================================================================
name            what it does, and its ``level``
==============  =========================================================================
``shift``       moves the content ``level`` pixels down *and* right (edges repeated)
``flip``        mirrors left-right (``level`` 1; 0 leaves the face as it is)
``rotation``    rotates by ``level`` degrees, counter-clockwise, about the centre
``brightness``  adds ``level`` grey levels (-255 to 255) to every pixel, clipped to 0-255
``blur``        Gaussian blur of standard deviation ``level`` pixels
``jpeg``        JPEG round trip at quality ``level`` (1-95; lower is blockier)
``sunglasses``  a dark band over the eyes (rows :data:`EYE_ROWS`; ``level`` 1)
``mask``        a light band over the mouth and chin (rows :data:`MOUTH_ROWS`; ``level`` 1)
==============  =========================================================================

:func:`perturb` applies one by name; :data:`DEFAULT_SWEEP` lists the levels the lessons try, and
:func:`robustness` scores a model on every one of them.

Examples
--------
>>> faces = np.tile(np.arange(48, dtype=np.uint8) * 5, (2, 48, 1))
>>> perturb(faces, "flip", 1)[0, 0, :3].tolist()
[235, 230, 225]
>>> perturb(faces, "brightness", 40)[0, 0, -2:].tolist()
[255, 255]
>>> perturb(faces, "shift", 2)[0, 0, :4].tolist()
[0, 0, 0, 5]
>>> sorted(DEFAULT_SWEEP)[:3]
['blur', 'brightness', 'flip']
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np

from fercourse.data.shapes import IMAGE_SIZE, as_faces, shift_faces
from fercourse.errors import InputError

__all__ = ["DEFAULT_SWEEP", "EYE_ROWS", "MOUTH_ROWS", "PERTURBATIONS", "blur", "brightness", "flip",
           "jpeg", "mask", "perturb", "robustness", "rotate", "shift", "sunglasses"]

#: Rows (top, bottom) an eye band covers on a FER2013-style crop: the eyes lie near rows 15-23 of 48.
EYE_ROWS = (14, 24)
#: Rows (top, bottom) a mask band covers: from below the nose tip to the chin.
MOUTH_ROWS = (30, 46)


def _faces(images) -> np.ndarray:
    faces = as_faces(images)
    if faces.dtype != np.uint8:
        raise InputError(f"images have dtype {faces.dtype}: expected uint8 faces with pixels 0-255 "
                         "(the dataset's images, before to_float)")
    return faces


def shift(images, pixels: int) -> np.ndarray:
    """Faces moved ``pixels`` rows down and ``pixels`` columns right (negative: up and left).

    The uncovered border repeats the edge pixels, as the training augmentation fills it.

    Examples
    --------
    >>> faces = np.arange(48 * 48, dtype=np.uint16).reshape(1, 48, 48).astype(np.uint8)
    >>> bool((shift(faces, 3)[0, 3:, 3:] == faces[0, :-3, :-3]).all())
    True
    """
    return shift_faces(_faces(images), int(pixels), int(pixels)).copy()


def flip(images, level: int = 1) -> np.ndarray:
    """Faces mirrored left-right (``level`` 0: unchanged copies).

    Examples
    --------
    >>> faces = np.arange(48 * 48, dtype=np.uint16).reshape(1, 48, 48).astype(np.uint8)
    >>> bool((flip(flip(faces)) == faces).all()), bool((flip(faces)[0, :, 0] == faces[0, :, -1]).all())
    (True, True)
    """
    faces = _faces(images)
    return faces[:, :, ::-1].copy() if level else faces.copy()


def _per_face(faces: np.ndarray, transform: Callable) -> np.ndarray:
    """Apply a Pillow transform (``PIL.Image -> PIL.Image``) to every uint8 image of ``faces``."""
    from PIL import Image

    out = np.empty_like(faces)
    for index, face in enumerate(faces):
        out[index] = np.asarray(transform(Image.fromarray(face)), dtype=np.uint8)
    return out


def rotate(images, degrees: float) -> np.ndarray:
    """Faces rotated ``degrees`` counter-clockwise about their centre (bilinear).

    The corners the rotation uncovers are filled from the face's own border (edges repeated
    before rotating), not with black, so the model sees no new dark triangles.

    Examples
    --------
    >>> faces = np.zeros((1, 48, 48), dtype=np.uint8); faces[0, 20:28, 4:44] = 255  # a bar
    >>> upright = rotate(faces, 90)
    >>> bool(upright[0, 4:44, 22:26].min() > 200), int(upright[0, 24, 4])
    (True, 0)
    """
    from PIL import Image

    margin = IMAGE_SIZE // 4
    padded = np.pad(_faces(images), ((0, 0), (margin, margin), (margin, margin)), mode="edge")
    turned = _per_face(padded, lambda face: face.rotate(float(degrees), resample=Image.BILINEAR))
    return turned[:, margin:margin + IMAGE_SIZE, margin:margin + IMAGE_SIZE].copy()


def brightness(images, offset: int) -> np.ndarray:
    """Faces with ``offset`` grey levels added to every pixel, clipped to 0-255.

    Examples
    --------
    >>> faces = np.full((1, 48, 48), 10, dtype=np.uint8); faces[0, :, 24:] = 250
    >>> brightness(faces, -20)[0, 0, [0, 47]].tolist(), brightness(faces, 20)[0, 0, [0, 47]].tolist()
    ([0, 230], [30, 255])
    """
    if not -255 <= offset <= 255:
        raise InputError(f"brightness offset is {offset}: expected grey levels from -255 to 255")
    return np.clip(_faces(images).astype(np.int16) + int(offset), 0, 255).astype(np.uint8)


def blur(images, sigma: float) -> np.ndarray:
    """Faces blurred by a Gaussian of standard deviation ``sigma`` pixels (0: unchanged copies).

    Examples
    --------
    >>> faces = np.zeros((1, 48, 48), dtype=np.uint8); faces[0, 24, 24] = 255
    >>> soft = blur(faces, 1.5)
    >>> int(soft.max()) < 255, int(soft[0, 24, 26]) > 0
    (True, True)
    """
    from PIL import ImageFilter

    if sigma < 0:
        raise InputError(f"blur sigma is {sigma}: expected a standard deviation in pixels, 0 or more")
    if sigma == 0:
        return _faces(images).copy()
    return _per_face(_faces(images), lambda face: face.filter(ImageFilter.GaussianBlur(radius=float(sigma))))


def jpeg(images, quality: int) -> np.ndarray:
    """Faces saved as JPEG at ``quality`` (1-95) and read back: the blocks a web upload adds.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> faces = rng.integers(0, 256, (2, 48, 48)).astype(np.uint8)
    >>> error = lambda q: float(np.abs(jpeg(faces, q).astype(int) - faces).mean())
    >>> error(10) > error(90) > 0
    True
    """
    import io

    from PIL import Image

    if not 1 <= quality <= 95:
        raise InputError(f"JPEG quality is {quality}: expected 1-95 (Pillow's useful range)")

    def round_trip(face):
        buffer = io.BytesIO()
        face.save(buffer, format="JPEG", quality=int(quality))
        return Image.open(io.BytesIO(buffer.getvalue())).convert("L")

    return _per_face(_faces(images), round_trip)


def _band(images, rows: tuple[int, int], value: int) -> np.ndarray:
    faces = _faces(images).copy()
    faces[:, rows[0]:rows[1], :] = value
    return faces


def sunglasses(images, level: int = 1) -> np.ndarray:
    """Faces with a dark band (grey level 20) across the eyes, rows :data:`EYE_ROWS`.

    Examples
    --------
    >>> covered = sunglasses(np.full((1, 48, 48), 200, dtype=np.uint8))
    >>> int(covered[0, EYE_ROWS[0]].max()), int(covered[0, EYE_ROWS[1]].min())
    (20, 200)
    """
    return _band(images, EYE_ROWS, 20) if level else _faces(images).copy()


def mask(images, level: int = 1) -> np.ndarray:
    """Faces with a light band (grey level 225, a surgical mask) over mouth and chin, rows
    :data:`MOUTH_ROWS`.

    Examples
    --------
    >>> covered = mask(np.zeros((1, 48, 48), dtype=np.uint8))
    >>> int(covered[0, MOUTH_ROWS[0]].min()), int(covered[0, MOUTH_ROWS[0] - 1].max())
    (225, 0)
    """
    return _band(images, MOUTH_ROWS, 225) if level else _faces(images).copy()


#: Each perturbation by name: a function ``(images, level) -> images``.
PERTURBATIONS: dict[str, Callable[[np.ndarray, float], np.ndarray]] = {
    "shift": shift, "flip": flip, "rotation": rotate, "brightness": brightness, "blur": blur,
    "jpeg": jpeg, "sunglasses": sunglasses, "mask": mask,
}

#: The levels the lessons sweep, per perturbation (units in the module table above).
DEFAULT_SWEEP: dict[str, tuple[float, ...]] = {
    "shift": (1, 2, 3, 4),
    "rotation": (5, 10, 15, 20),
    "brightness": (-80, -40, 40, 80),
    "blur": (0.5, 1.0, 1.5, 2.0),
    "jpeg": (50, 20, 10, 5),
    "flip": (1,),
    "sunglasses": (1,),
    "mask": (1,),
}


def perturb(images, name: str, level: float) -> np.ndarray:
    """Faces under perturbation ``name`` at ``level``: a dispatch to the functions above.

    Raises
    ------
    fercourse.errors.InputError
        ``name`` is not one of :data:`PERTURBATIONS`.
    """
    if name not in PERTURBATIONS:
        raise InputError(f"perturbation {name!r} is unknown: expected one of {', '.join(PERTURBATIONS)}")
    return PERTURBATIONS[name](images, level)


def robustness(predict: Callable[[np.ndarray], np.ndarray], images, labels,
               sweep: Mapping[str, Sequence[float]] | None = None) -> "pandas.DataFrame":  # noqa: F821
    """Accuracy of ``predict`` on the faces as they are and under every perturbation of ``sweep``.

    Parameters
    ----------
    predict : callable
        Takes (n, 48, 48) uint8 faces, returns n predicted labels (e.g.
        ``lambda faces: predict_proba(model, faces, "cnn").argmax(axis=1)``).
    images : array of shape (n, 48, 48), uint8
    labels : array of shape (n,)
        The true labels.
    sweep : mapping, optional
        Perturbation name to the levels to try; default :data:`DEFAULT_SWEEP`.

    Returns
    -------
    pandas.DataFrame
        One row per condition with columns ``perturbation``, ``level``, ``accuracy`` and
        ``change`` (accuracy minus the clean accuracy); the first row is ``"none"`` (the clean faces).

    Examples
    --------
    >>> faces = np.zeros((4, 48, 48), dtype=np.uint8); faces[:2, :, :24] = 255  # bright left half: 1
    >>> by_left_half = lambda x: (x[:, :, :24].mean(axis=(1, 2)) > 127).astype(int)
    >>> table = robustness(by_left_half, faces, np.array([1, 1, 0, 0]), {"flip": (1,), "shift": (2,)})
    >>> table[["perturbation", "level", "accuracy", "change"]].values.tolist()
    [['none', 0.0, 1.0, 0.0], ['flip', 1.0, 0.5, -0.5], ['shift', 2.0, 1.0, 0.0]]
    """
    import pandas as pd

    faces = _faces(images)
    labels = np.asarray(labels)
    if labels.shape != (len(faces),):
        raise InputError(f"labels have shape {labels.shape}: expected one label per face, ({len(faces)},)")
    sweep = DEFAULT_SWEEP if sweep is None else sweep
    conditions = [("none", 0.0, faces)]
    conditions += [(name, float(level), perturb(faces, name, level))
                   for name, levels in sweep.items() for level in levels]
    rows = [{"perturbation": name, "level": level,
             "accuracy": float(np.mean(np.asarray(predict(view)) == labels))}
            for name, level, view in conditions]
    table = pd.DataFrame(rows)
    table["change"] = table["accuracy"] - table["accuracy"].iloc[0]
    return table

