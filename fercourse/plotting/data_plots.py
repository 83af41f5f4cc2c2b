"""Plots of the data: class counts, sample faces, pixel histograms, mean faces, PCA (variance, eigenfaces,
reconstructions)."""

from __future__ import annotations

import numpy as np

from fercourse.data.shapes import FACE_SHAPE, IMAGE_SIZE, to_layout
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


def _fitted_pca(pca):
    if getattr(pca, "components_", None) is None or pca.components_.shape[1] != IMAGE_SIZE * IMAGE_SIZE:
        raise InputError(f"pca: expected a scikit-learn PCA fitted on flat 48x48 faces (2304 pixels); got "
                         f"{type(pca).__name__} with components of shape "
                         f"{getattr(getattr(pca, 'components_', None), 'shape', None)}")
    return pca


def plot_eigenfaces(pca, n: int = 8, ax=None):
    """The mean face and the first ``n`` principal components ("eigenfaces") as 48x48 images.

    Each component is stretched to the full gray range on its own: light and dark mark pixels that
    move in opposite directions along that component (its sign is arbitrary).

    Parameters
    ----------
    pca : sklearn.decomposition.PCA
        Fitted on flat faces with pixels in [0, 1] (:func:`fercourse.data.as_flat`).
    n : int
        Components to show (capped by the number fitted).
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> from sklearn.decomposition import PCA
    >>> faces = np.random.default_rng(0).random((30, 2304))
    >>> ax = plot_eigenfaces(PCA(5).fit(faces), n=3)
    >>> [label.get_text() for label in ax.get_xticklabels()]
    ['mean', 'PC 1', 'PC 2', 'PC 3']
    """
    pca = _fitted_pca(pca)
    n = min(n, len(pca.components_))

    def stretched(values):
        span = values.max() - values.min()
        return (values - values.min()) / (span if span else 1.0) * 255.0

    tiles = [np.clip(pca.mean_, 0, 1).reshape(FACE_SHAPE) * 255.0] + [stretched(component).reshape(FACE_SHAPE)
                                               for component in pca.components_[:n]]
    ratios = pca.explained_variance_ratio_[:n]
    ax = _new_axes(ax, (1.3 * (n + 1), 2.0))
    _show_mosaic(ax, _mosaic(tiles, n + 1))
    ax.set_xticks(_tile_centres(n + 1, pad=2), ["mean"] + [f"PC {k + 1}" for k in range(n)])
    ax.set_yticks([])
    ax.tick_params(length=0)
    ax.set_title(f"Mean face and the first {n} components ({ratios.sum():.0%} of the variance)")
    return ax


def reconstruct(pca, images, n_components: int) -> np.ndarray:
    """Faces rebuilt from their first ``n_components`` principal components, as (n, 48, 48) floats.

    ``pca`` is fitted on :func:`fercourse.data.as_flat` pixels in [0, 1]; ``images`` come in any
    layout and are scaled the same way, so the faces come back in [0, 1] (a little outside it where
    few components cannot follow a face).

    Projects each centred face on the first components and adds the mean back:
    ``mean + (x - mean) W_k^T W_k`` with ``W_k`` the first ``n_components`` rows of
    ``pca.components_``.

    Examples
    --------
    >>> from sklearn.decomposition import PCA
    >>> faces = np.random.default_rng(0).random((30, 2304))
    >>> pca = PCA(30).fit(faces)
    >>> bool(np.allclose(reconstruct(pca, faces, 30).reshape(30, -1), faces))  # all components: exact
    True
    """
    pca = _fitted_pca(pca)
    if not 1 <= n_components <= len(pca.components_):
        raise InputError(f"n_components is {n_components}: expected 1 to {len(pca.components_)} "
                         "(the components this PCA was fitted with)")
    flat = to_layout(images, "flat", "images").astype(np.float64)
    weights = pca.components_[:n_components]
    rebuilt = pca.mean_ + (flat - pca.mean_) @ weights.T @ weights
    return rebuilt.reshape(-1, *FACE_SHAPE)


def plot_reconstructions(pca, images, n_components=(10, 50, 150), ax=None):
    """A few faces (top row) and the same faces rebuilt from the first k components (one row per k).

    Parameters
    ----------
    pca : sklearn.decomposition.PCA
        Fitted on flat faces with pixels in [0, 1] (:func:`fercourse.data.as_flat`).
    images : array of shape (m, 48, 48)
        The faces to show, one column each (uint8 pixels, or floats in [0, 1]).
    n_components : sequence of int
        The k of each row (each at most the components fitted).
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    faces = to_layout(images, "sequence")  # (m, 48, 48) in [0, 1]
    rows = [list(faces)] + [list(np.clip(reconstruct(pca, faces, k), 0, 1)) for k in n_components]
    columns = len(faces)
    ax = _new_axes(ax, (1.3 * columns, 1.4 * len(rows)))
    _show_mosaic(ax, _mosaic([tile for row in rows for tile in row], columns), vmax=1.0)
    ax.set_yticks(_tile_centres(len(rows), pad=2), ["original"] + [f"k = {k}" for k in n_components])
    ax.set_xticks([])
    ax.tick_params(length=0)
    ax.set_title("Faces rebuilt from their first k principal components")
    return ax
