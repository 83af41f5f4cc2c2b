"""Disguise released test faces so that a pixel lookup in the public FER2013 no longer finds them.

FER2013's labels are public, the test faces included: anyone holding the Kaggle ``fer2013.csv``
could find each released test face there by its pixels and read off its label. Before release,
:func:`disguise_faces` moves every test face by a few pixels and mirrors about half of them, each
face its own way, chosen by a hash of the offering's salt and the face's id:

- a shift of :data:`MIN_SHIFT` to :data:`MAX_SHIFT` pixels along *both* axes (either sign), the
  uncovered border filled by repeating the edge pixels (as the training augmentation fills it);
- a horizontal flip with probability one half.

A CNN trained with random shifts and flips (the reference recipe trains on random 40x40 windows
and flips) barely notices either; an exact or near-exact pixel match does: a two-to-three pixel
shift moves a face further, by L2 distance, than many other faces in the public set are from it.
An attacker who undoes the transform (tries every flip and shift of each query) still finds most
faces; ``fercourse bench lookup`` measures both, and the instructor guide's threat model says so.

Examples
--------
>>> faces = np.arange(2 * 48 * 48, dtype=np.uint16).reshape(2, 48, 48).astype(np.uint8)
>>> moved = disguise_faces(faces, ["a", "b"], salt="course-2026")
>>> moved.shape, moved.dtype, bool((moved != faces).any(axis=(1, 2)).all())
((2, 48, 48), dtype('uint8'), True)
>>> bool((disguise_faces(faces, ["a", "b"], salt="course-2026") == moved).all())
True
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from fercourse.data.shapes import IMAGE_SIZE, shift_faces
from fercourse.errors import InputError

MIN_SHIFT = 2
MAX_SHIFT = 3
DESCRIPTION = (f"each test face shifted {MIN_SHIFT}-{MAX_SHIFT} pixels along both axes (edges repeated) "
               "and mirrored with probability 1/2, per face, seeded by the salt")


@dataclass(frozen=True)
class Disguise:
    """How one face is disguised: moved ``dy`` rows down and ``dx`` columns right, then mirrored
    when ``flip``."""

    dy: int
    dx: int
    flip: bool


def disguise_for(salt: str, face_id: str) -> Disguise:
    """The disguise of face ``face_id`` in the offering salted ``salt`` (a pure function of both).

    Examples
    --------
    >>> disguise_for("course-2026", "a") == disguise_for("course-2026", "a")
    True
    >>> d = disguise_for("course-2026", "a")
    >>> MIN_SHIFT <= abs(d.dy) <= MAX_SHIFT and MIN_SHIFT <= abs(d.dx) <= MAX_SHIFT
    True
    """
    digest = hashlib.sha256(f"{salt}|disguise|{face_id}".encode()).digest()
    sizes = np.arange(MIN_SHIFT, MAX_SHIFT + 1)

    def shift(byte: int) -> int:
        return int(sizes[(byte >> 1) % len(sizes)]) * (1 if byte & 1 else -1)

    return Disguise(dy=shift(digest[0]), dx=shift(digest[1]), flip=bool(digest[2] & 1))


def disguise_faces(images: np.ndarray, ids: Sequence[str] | np.ndarray, salt: str) -> np.ndarray:
    """Return a disguised copy of (n, 48, 48) uint8 faces: each shifted and maybe mirrored.

    Parameters
    ----------
    images : np.ndarray
        (n, 48, 48) uint8 faces; left unchanged.
    ids : sequence of str
        One id per face; together with ``salt`` it picks the face's disguise, so a face gets the
        same disguise whatever else is in the release and in whatever order.
    salt : str
        The offering's secret (``fercourse data prepare --salt``): another salt, other disguises.

    Returns
    -------
    np.ndarray
        (n, 48, 48) uint8, same value range. A face of one flat colour comes back unchanged (no
        shift or flip can change it); every other face changes, since it moves at least
        :data:`MIN_SHIFT` pixels along both axes.

    Raises
    ------
    ValueError
        ``images`` is not (n, 48, 48) uint8, or ``ids`` has another length.
    """
    images = np.asarray(images)
    if images.ndim != 3 or images.shape[1:] != (IMAGE_SIZE, IMAGE_SIZE) or images.dtype != np.uint8:
        raise InputError(f"faces to disguise have shape {images.shape} and dtype {images.dtype}: expected "
                         f"(n, {IMAGE_SIZE}, {IMAGE_SIZE}) uint8")
    if len(ids) != len(images):
        raise InputError(f"{len(ids)} ids for {len(images)} faces: expected one id per face")
    out = np.empty_like(images)
    for index, face_id in enumerate(ids):
        disguise = disguise_for(salt, str(face_id))
        face = shift_faces(images[index:index + 1], disguise.dy, disguise.dx)[0]
        out[index] = face[:, ::-1] if disguise.flip else face
    return out


__all__ = ["DESCRIPTION", "MAX_SHIFT", "MIN_SHIFT", "Disguise", "disguise_faces", "disguise_for"]
