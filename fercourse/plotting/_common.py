"""Style, input checks and tile mosaics the plots share (colours: :data:`fercourse.labels.EMOTION_COLORS`)."""

from __future__ import annotations

from typing import Any

import numpy as np

from fercourse.data.shapes import FACE_SHAPE, IMAGE_SIZE, as_faces
from fercourse.errors import InputError
from fercourse.labels import NUM_CLASSES

PLOT_STYLE = {
    "figure.figsize": (7.0, 4.5),
    "figure.dpi": 100,
    "savefig.dpi": 100,
    "savefig.bbox": "tight",
    "axes.grid": False,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 12,
    "axes.labelsize": 11,
    "font.size": 10,
    "legend.frameon": False,
    "image.cmap": "gray",
}


def use_plot_style() -> None:
    """Apply the course's matplotlib style (larger labels, no top/right spines, gray images).

    This is the only function in fercourse that changes matplotlib's global settings, and
    only when called.
    """
    import matplotlib as mpl

    mpl.rcParams.update(PLOT_STYLE)


def _new_axes(ax=None, figsize: tuple[float, float] | None = None):
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=figsize)
    return ax


def _check_images(images: Any, name: str = "images") -> np.ndarray:
    """Faces in any model layout as (n, 48, 48), so a lesson can plot what it fed the model."""
    return as_faces(images, name)


def _check_labels(labels: Any, n: int, name: str = "labels") -> np.ndarray:
    if labels is None:
        raise InputError(f"{name}: this plot needs labels, got None (an unlabelled split?)")
    labels = np.asarray(labels)
    if labels.ndim != 1 or len(labels) != n:
        raise InputError(f"{name}: expected {n} integer labels in a 1-D array; got shape {labels.shape}")
    if len(labels) and (labels.min() < 0 or labels.max() >= NUM_CLASSES):
        raise InputError(f"{name}: expected class indices 0-{NUM_CLASSES - 1}; got values "
                         f"from {labels.min()} to {labels.max()}")
    return labels.astype(np.int64)


def _mosaic(tiles: list[np.ndarray], columns: int, pad: int = 2) -> np.ndarray:
    """Lay out 48x48 tiles row by row on a white background (NaN: drawn as blank)."""
    rows = max(1, -(-len(tiles) // columns))
    size = IMAGE_SIZE + pad
    canvas = np.full((rows * size - pad, columns * size - pad), np.nan)
    for k, tile in enumerate(tiles):
        r, c = divmod(k, columns)
        canvas[r * size:r * size + IMAGE_SIZE, c * size:c * size + IMAGE_SIZE] = tile
    return canvas


def _tile_centres(count: int, pad: int) -> np.ndarray:
    """Where the centres of ``count`` consecutive tiles of a :func:`_mosaic` row (or column) lie."""
    return np.arange(count) * (IMAGE_SIZE + pad) + IMAGE_SIZE // 2


def _blank_tile() -> np.ndarray:
    """A tile :func:`_show_mosaic` draws as white."""
    return np.full(FACE_SHAPE, np.nan)


def _show_mosaic(ax, canvas: np.ndarray, vmin: float = 0.0, vmax: float = 255.0, cmap: str = "gray"):
    import matplotlib as mpl

    colormap = mpl.colormaps[cmap].with_extremes(bad="white")
    ax.imshow(np.ma.masked_invalid(canvas), cmap=colormap, vmin=vmin, vmax=vmax, interpolation="nearest")
    for side in ax.spines.values():
        side.set_visible(False)
    return ax
