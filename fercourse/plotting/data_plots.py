"""Plots of the data: class counts, sample faces, pixel histograms, mean faces, PCA variance."""

from __future__ import annotations

import numpy as np

from fercourse.data.shapes import to_layout
from fercourse.errors import InputError
from fercourse.labels import EMOTION_COLORS, EMOTIONS, NUM_CLASSES
from fercourse.plotting._common import (
    _blank_tile,
    _check_images,
    _check_labels,
    _mosaic,
    _new_axes,
    _show_mosaic,
    _tile_centres,
)


def plot_class_distribution(dataset, ax=None):
    """Bar chart of images per emotion, one bar per labelled split (train, val, test).

    Parameters
    ----------
    dataset : fercourse.data.Dataset
        Any loaded dataset; unlabelled splits are left out.
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        Bars of counts; each bar is annotated with its share of its split.
    """
    splits = {name: split for name, split in getattr(dataset, "splits", {}).items()
              if split.labels is not None}
    if not splits:
        raise InputError("plot_class_distribution: expected a Dataset with at least one labelled split")
    ax = _new_axes(ax, (8, 4))
    width = 0.8 / len(splits)
    positions = np.arange(NUM_CLASSES)
    for k, (name, split) in enumerate(splits.items()):
        counts = np.bincount(split.labels, minlength=NUM_CLASSES)
        bars = ax.bar(positions + (k - (len(splits) - 1) / 2) * width, counts, width,
                      label=f"{name} (n={len(split)})")
        for bar, count in zip(bars, counts):
            ax.annotate(f"{100 * count / max(1, counts.sum()):.0f}%",
                        (bar.get_x() + bar.get_width() / 2, count), ha="center", va="bottom", fontsize=7)
    ax.set_xticks(positions, EMOTIONS)
    ax.set_ylabel("images")
    ax.set_title("Images per emotion (percent of each split)")
    ax.legend()
    return ax


def plot_sample_grid(images, labels, per_class: int = 5, ax=None, *, seed: int = 0):
    """A grid of example faces: one row per emotion, ``per_class`` random faces per row.

    Parameters
    ----------
    images : array of shape (n, 48, 48)
    labels : array of shape (n,)
        Canonical class indices.
    per_class : int
        Faces per row; rows of classes with fewer images are padded with blanks.
    ax : matplotlib.axes.Axes, optional
    seed : int
        Which faces are drawn.

    Returns
    -------
    matplotlib.axes.Axes
    """
    images = _check_images(images)
    labels = _check_labels(labels, len(images))
    if per_class < 1:
        raise InputError(f"per_class: expected a positive number of faces per class; got {per_class}")
    rng = np.random.default_rng(seed)
    tiles: list[np.ndarray] = []
    for c in range(NUM_CLASSES):
        members = np.flatnonzero(labels == c)
        chosen = rng.choice(members, size=min(per_class, len(members)), replace=False) if len(members) else []
        row = [images[i].astype(float) for i in chosen]
        tiles += row + [_blank_tile()] * (per_class - len(row))
    ax = _new_axes(ax, (per_class * 0.9 + 1.2, NUM_CLASSES * 0.9))
    _show_mosaic(ax, _mosaic(tiles, per_class))
    ax.set_xticks([])
    ax.set_yticks(_tile_centres(NUM_CLASSES, pad=2), [f"{name} ({(labels == c).sum()})"
                                                      for c, name in enumerate(EMOTIONS)])
    ax.tick_params(length=0)
    ax.set_title("Example faces per emotion (count in brackets)")
    return ax


def plot_pixel_histogram(images, labels=None, ax=None, *, bins: int = 32):
    """Histogram of pixel intensities (0-255), overall or one line per emotion.

    Parameters
    ----------
    images : array of shape (n, 48, 48)
    labels : array of shape (n,), optional
        When given, one density line per emotion so brightness differences show.
    ax : matplotlib.axes.Axes, optional
    bins : int

    Returns
    -------
    matplotlib.axes.Axes
    """
    images = _check_images(images)
    ax = _new_axes(ax)
    edges = np.linspace(0, 255, bins + 1)
    if labels is None:
        ax.hist(images.ravel(), bins=edges, density=True, color="#555555")
    else:
        labels = _check_labels(labels, len(images))
        for c, name in enumerate(EMOTIONS):
            if (labels == c).any():
                density, _ = np.histogram(images[labels == c].ravel(), bins=edges, density=True)
                ax.plot((edges[:-1] + edges[1:]) / 2, density, color=EMOTION_COLORS[c], label=name)
        ax.legend(ncol=2)
    ax.set_xlabel("pixel intensity (0 = black, 255 = white)")
    ax.set_ylabel("density")
    ax.set_title(f"Pixel intensities (mean {images.mean():.1f}, std {images.std():.1f})")
    return ax


def plot_mean_faces(images, labels, ax=None):
    """The average face of each emotion, side by side.

    Returns
    -------
    matplotlib.axes.Axes
        One 48x48 tile per emotion; a class with no images is left blank.
    """
    images = _check_images(images)
    labels = _check_labels(labels, len(images))
    tiles = [images[labels == c].mean(axis=0) if (labels == c).any() else _blank_tile()
             for c in range(NUM_CLASSES)]
    ax = _new_axes(ax, (10, 2.2))
    _show_mosaic(ax, _mosaic(tiles, NUM_CLASSES))
    ax.set_xticks(_tile_centres(NUM_CLASSES, pad=2), EMOTIONS)
    ax.set_yticks([])
    ax.tick_params(length=0)
    ax.set_title("Mean face per emotion")
    return ax


def plot_pca_variance(data, n_components: int = 200, ax=None, *, thresholds=(0.8, 0.9, 0.95)):
    """Cumulative explained variance of PCA on flat pixels.

    Parameters
    ----------
    data : array of shape (n, 2304) or (n, 48, 48), or a fitted ``sklearn.decomposition.PCA``
    n_components : int
        Components to fit when ``data`` is an array (capped by the data's size).
    ax : matplotlib.axes.Axes, optional
    thresholds : tuple of float
        Variance levels marked with the number of components that reach them.

    Returns
    -------
    matplotlib.axes.Axes
    """
    ratios = getattr(data, "explained_variance_ratio_", None)
    if ratios is None:
        from sklearn.decomposition import PCA

        flat = to_layout(data, "flat", "data")
        pca = PCA(n_components=min(n_components, *flat.shape), random_state=0).fit(flat)
        ratios = pca.explained_variance_ratio_
    cumulative = np.cumsum(ratios)
    ax = _new_axes(ax)
    ax.plot(np.arange(1, len(cumulative) + 1), cumulative, color="#1f77b4")
    for level in thresholds:
        if cumulative[-1] >= level:
            k = int(np.searchsorted(cumulative, level) + 1)
            ax.axhline(level, color="#999999", linewidth=0.8, linestyle=":")
            ax.annotate(f"{level:.0%}: {k} components", (k, level), xytext=(5, -12),
                        textcoords="offset points", fontsize=8)
            ax.plot([k], [level], "o", color="#d62728", markersize=4)
    ax.set_xlabel("number of components")
    ax.set_ylabel("cumulative explained variance")
    ax.set_ylim(0, 1.02)
    ax.set_title("PCA on pixels: how many components keep the variance")
    return ax
