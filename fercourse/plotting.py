"""Every figure the lessons show.

Rules every function here follows: it takes an optional ``ax`` (or ``axes``/``fig`` for a
multi-panel figure), draws on it, returns what it drew on, and never calls ``plt.show()``.
Nothing changes matplotlib's global style until you call :func:`use_plot_style`.
matplotlib (and TensorFlow, for :func:`plot_saliency`) is imported inside the functions,
so ``import fercourse.plotting`` stays cheap.

Examples
--------
>>> import numpy as np
>>> from fercourse.plotting import plot_confusion_matrix
>>> ax = plot_confusion_matrix(np.array([0, 1, 3, 3]), np.array([0, 3, 3, 3]))
>>> ax.get_xlabel(), len(ax.get_xticklabels())
('predicted', 7)
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from fercourse.labels import EMOTIONS, NUM_CLASSES

#: One colour per emotion (canonical order), reused by every plot so a class keeps its colour.
EMOTION_COLORS = ("#d62728", "#8c564b", "#9467bd", "#2ca02c", "#1f77b4", "#ff7f0e", "#7f7f7f")

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
    images = np.asarray(images)
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    if images.ndim == 2 and images.shape[1] == 48 * 48:
        images = images.reshape(-1, 48, 48)
    if images.ndim != 3 or images.shape[1:] != (48, 48):
        raise ValueError(f"{name}: expected images of shape (n, 48, 48), (n, 48, 48, 1) or (n, 2304); "
                         f"got {images.shape}")
    return images


def _check_labels(labels: Any, n: int, name: str = "labels") -> np.ndarray:
    if labels is None:
        raise ValueError(f"{name}: this plot needs labels, got None (an unlabelled split?)")
    labels = np.asarray(labels)
    if labels.ndim != 1 or len(labels) != n:
        raise ValueError(f"{name}: expected {n} integer labels in a 1-D array; got shape {labels.shape}")
    if len(labels) and (labels.min() < 0 or labels.max() >= NUM_CLASSES):
        raise ValueError(f"{name}: expected class indices 0-{NUM_CLASSES - 1}; got values "
                         f"from {labels.min()} to {labels.max()}")
    return labels.astype(np.int64)


def _mosaic(tiles: list[np.ndarray], columns: int, pad: int = 2) -> np.ndarray:
    """Lay out 48x48 tiles row by row on a white background (NaN: drawn as blank)."""
    rows = max(1, -(-len(tiles) // columns))
    size = 48 + pad
    canvas = np.full((rows * size - pad, columns * size - pad), np.nan)
    for k, tile in enumerate(tiles):
        r, c = divmod(k, columns)
        canvas[r * size:r * size + 48, c * size:c * size + 48] = tile
    return canvas


def _show_mosaic(ax, canvas: np.ndarray, vmin: float = 0.0, vmax: float = 255.0, cmap: str = "gray"):
    import matplotlib as mpl

    colormap = mpl.colormaps[cmap].with_extremes(bad="white")
    ax.imshow(np.ma.masked_invalid(canvas), cmap=colormap, vmin=vmin, vmax=vmax, interpolation="nearest")
    for side in ax.spines.values():
        side.set_visible(False)
    return ax


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
    splits = {name: split for name, split in getattr(dataset, "splits", {}).items() if split.labels is not None}
    if not splits:
        raise ValueError("plot_class_distribution: expected a Dataset with at least one labelled split")
    ax = _new_axes(ax, (8, 4))
    width = 0.8 / len(splits)
    positions = np.arange(NUM_CLASSES)
    for k, (name, split) in enumerate(splits.items()):
        counts = np.bincount(split.labels, minlength=NUM_CLASSES)
        bars = ax.bar(positions + (k - (len(splits) - 1) / 2) * width, counts, width, label=f"{name} (n={len(split)})")
        for bar, count in zip(bars, counts):
            ax.annotate(f"{100 * count / max(1, counts.sum()):.0f}%", (bar.get_x() + bar.get_width() / 2, count),
                        ha="center", va="bottom", fontsize=7)
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
        raise ValueError(f"per_class: expected a positive number of faces per class; got {per_class}")
    rng = np.random.default_rng(seed)
    tiles: list[np.ndarray] = []
    for c in range(NUM_CLASSES):
        members = np.flatnonzero(labels == c)
        chosen = rng.choice(members, size=min(per_class, len(members)), replace=False) if len(members) else []
        row = [images[i].astype(float) for i in chosen]
        tiles += row + [np.full((48, 48), np.nan)] * (per_class - len(row))
    ax = _new_axes(ax, (per_class * 0.9 + 1.2, NUM_CLASSES * 0.9))
    _show_mosaic(ax, _mosaic(tiles, per_class))
    ax.set_xticks([])
    ax.set_yticks(np.arange(NUM_CLASSES) * 50 + 24, [f"{name} ({(labels == c).sum()})"
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
    tiles = [images[labels == c].mean(axis=0) if (labels == c).any() else np.full((48, 48), np.nan)
             for c in range(NUM_CLASSES)]
    ax = _new_axes(ax, (10, 2.2))
    _show_mosaic(ax, _mosaic(tiles, NUM_CLASSES))
    ax.set_xticks(np.arange(NUM_CLASSES) * 50 + 24, EMOTIONS)
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

        flat = _check_images(data).reshape(len(data), -1).astype(np.float32)
        flat = flat / 255.0 if flat.max() > 1.0 else flat
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


def _history_dict(history) -> dict[str, list[float]]:
    values = getattr(history, "history", history)
    if not isinstance(values, Mapping) or "loss" not in values:
        raise ValueError("history: expected a keras History or a dict with at least a 'loss' list; got "
                         f"{type(history).__name__}")
    return {key: list(map(float, value)) for key, value in values.items()}


def plot_training_curves(history, axes=None):
    """Loss and accuracy per epoch, train against validation, side by side.

    Parameters
    ----------
    history : keras.callbacks.History or dict
        ``model.fit``'s return value or its ``.history`` dict (``loss``, ``accuracy``,
        ``val_loss``, ``val_accuracy``; missing curves are skipped).
    axes : pair of matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.figure.Figure
        The figure holding both panels; the best validation epoch is marked.
    """
    from matplotlib.ticker import MaxNLocator

    values = _history_dict(history)
    if axes is None:
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    else:
        if len(axes) != 2:
            raise ValueError(f"axes: expected two Axes (loss, accuracy); got {len(axes)}")
        fig = axes[0].figure
    for ax, metric in zip(axes, ("loss", "accuracy")):
        for prefix, style in (("", "-"), ("val_", "--")):
            series = values.get(prefix + metric)
            if series:
                ax.plot(np.arange(1, len(series) + 1), series, style, marker="o", markersize=3,
                        label="validation" if prefix else "train")
        if values.get("val_loss"):
            best = int(np.argmin(values["val_loss"])) + 1
            ax.axvline(best, color="#999999", linestyle=":", linewidth=1, label=f"best val loss (epoch {best})")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.set_title(metric.capitalize())
        if ax.lines:
            ax.legend()
    return fig


def plot_confusion_matrix(y_true, y_pred, normalize: bool = False, ax=None, *, title: str | None = None):
    """Confusion matrix over the seven emotions, as counts or row-normalised (recall per class).

    Parameters
    ----------
    y_true, y_pred : array of shape (n,)
        Canonical class indices.
    normalize : bool
        Divide each row by its class's size, so the diagonal is each class's recall.
    ax : matplotlib.axes.Axes, optional
    title : str, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    from sklearn.metrics import confusion_matrix

    y_true = _check_labels(y_true, len(np.asarray(y_true)), "y_true")
    y_pred = _check_labels(y_pred, len(y_true), "y_pred")
    matrix = confusion_matrix(y_true, y_pred, labels=np.arange(NUM_CLASSES)).astype(float)
    if normalize:
        matrix = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    ax = _new_axes(ax, (6.5, 5.5))
    image = ax.imshow(matrix, cmap="Blues", vmin=0, vmax=1 if normalize else max(1.0, matrix.max()))
    ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    threshold = (1 if normalize else max(1.0, matrix.max())) / 2
    for i in range(NUM_CLASSES):
        for j in range(NUM_CLASSES):
            text = f"{matrix[i, j]:.2f}" if normalize else f"{int(matrix[i, j])}"
            ax.text(j, i, text, ha="center", va="center", fontsize=8,
                    color="white" if matrix[i, j] > threshold else "black")
    ax.set_xticks(np.arange(NUM_CLASSES), EMOTIONS, rotation=45, ha="right")
    ax.set_yticks(np.arange(NUM_CLASSES), EMOTIONS)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title or ("Confusion matrix (row-normalised: recall on the diagonal)" if normalize
                           else "Confusion matrix (counts)"))
    return ax


def plot_per_class_metrics(y_true, y_pred=None, ax=None):
    """Precision, recall and F1 per emotion as grouped bars.

    Parameters
    ----------
    y_true : array of shape (n,), or a per-class DataFrame, or an ``evaluate()`` result
        Either labels (then ``y_pred`` is required) or a table with columns
        ``precision``, ``recall``, ``f1`` indexed by emotion (``evaluate(...)["per_class"]``).
    y_pred : array of shape (n,), optional
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    table = y_true["per_class"] if isinstance(y_true, Mapping) and "per_class" in y_true else y_true
    if hasattr(table, "columns"):
        missing = {"precision", "recall", "f1"} - set(table.columns)
        if missing:
            raise ValueError(f"per-class table: missing column(s) {sorted(missing)}; expected precision, recall, f1")
        names = [str(name) for name in table.index]
        scores = {metric: np.asarray(table[metric], dtype=float) for metric in ("precision", "recall", "f1")}
    else:
        from sklearn.metrics import precision_recall_fscore_support

        if y_pred is None:
            raise ValueError("y_pred: needed when y_true is an array of labels")
        y_true = _check_labels(y_true, len(np.asarray(y_true)), "y_true")
        y_pred = _check_labels(y_pred, len(y_true), "y_pred")
        precision, recall, f1, _ = precision_recall_fscore_support(
            y_true, y_pred, labels=np.arange(NUM_CLASSES), zero_division=0)
        names, scores = list(EMOTIONS), {"precision": precision, "recall": recall, "f1": f1}
    ax = _new_axes(ax, (9, 4))
    positions = np.arange(len(names))
    for k, (metric, values) in enumerate(scores.items()):
        ax.bar(positions + (k - 1) * 0.27, values, 0.27, label=metric)
    ax.set_xticks(positions, names)
    ax.set_ylim(0, 1.2)
    ax.set_yticks(np.linspace(0, 1, 6))
    ax.set_ylabel("score")
    ax.set_title("Per-class precision, recall and F1")
    ax.legend(ncol=3, loc="upper center")
    return ax


def plot_rf_importance(model, ax=None):
    """Random-forest feature importance as a heatmap on the 48x48 pixel grid.

    Parameters
    ----------
    model : fitted estimator, pipeline or array
        Anything with ``feature_importances_`` over 2304 pixels (a pipeline's last step or a
        wrapper's fitted ``estimator_`` counts), or the 2304 importances themselves.
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    estimator = model
    while not hasattr(estimator, "feature_importances_"):  # unwrap pipelines and subsampling wrappers
        inner = estimator.steps[-1][1] if hasattr(estimator, "steps") else getattr(estimator, "estimator_", None)
        if inner is None:
            break
        estimator = inner
    importances = np.asarray(getattr(estimator, "feature_importances_", estimator), dtype=float)
    if importances.size != 48 * 48:
        raise ValueError("model: expected a fitted random forest on 2304 flat pixels (no PCA step) or "
                         f"2304 importances; got {importances.size} values")
    ax = _new_axes(ax, (5, 4.5))
    image = ax.imshow(importances.reshape(48, 48), cmap="hot", interpolation="nearest")
    ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="importance")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title("Which pixels the forest splits on")
    return ax


def plot_roc_curves(y_true, proba, ax=None):
    """One-vs-rest ROC curve per emotion, with its AUC in the legend.

    Parameters
    ----------
    y_true : array of shape (n,)
    proba : array of shape (n, 7)
        Predicted class probabilities (``predict_proba``).
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    from sklearn.metrics import auc, roc_curve

    y_true = _check_labels(y_true, len(np.asarray(y_true)), "y_true")
    proba = np.asarray(proba, dtype=float)
    if proba.shape != (len(y_true), NUM_CLASSES):
        raise ValueError(f"proba: expected shape ({len(y_true)}, {NUM_CLASSES}); got {proba.shape}")
    ax = _new_axes(ax, (6, 5.5))
    for c, name in enumerate(EMOTIONS):
        positives = y_true == c
        if positives.all() or not positives.any():
            continue  # a curve needs both positives and negatives
        fpr, tpr, _ = roc_curve(positives, proba[:, c])
        ax.plot(fpr, tpr, color=EMOTION_COLORS[c], label=f"{name} (AUC {auc(fpr, tpr):.2f})")
    ax.plot([0, 1], [0, 1], ":", color="#999999", label="chance")
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.set_title("One-vs-rest ROC curves")
    ax.legend(loc="lower right", fontsize=8)
    return ax


def plot_misclassified(images, y_true, y_pred, n: int = 16, ax=None, *, proba=None, columns: int = 8,
                       seed: int = 0):
    """A gallery of misclassified images, each captioned ``true -> predicted``.

    Parameters
    ----------
    images : array of shape (n, 48, 48)
    y_true, y_pred : array of shape (n,)
    n : int
        How many mistakes to show (fewer when there are fewer).
    ax : matplotlib.axes.Axes, optional
    proba : array of shape (n, 7), optional
        When given, the most confident mistakes are shown (with the confidence).
    columns : int
    seed : int
        Which mistakes are shown when ``proba`` is not given.

    Returns
    -------
    matplotlib.axes.Axes
    """
    images = _check_images(images)
    y_true = _check_labels(y_true, len(images), "y_true")
    y_pred = _check_labels(y_pred, len(images), "y_pred")
    wrong = np.flatnonzero(y_true != y_pred)
    if proba is not None:
        proba = np.asarray(proba, dtype=float)
        wrong = wrong[np.argsort(-proba[wrong, y_pred[wrong]])][:n]
    else:
        wrong = np.sort(np.random.default_rng(seed).permutation(wrong)[:n])
    columns = max(1, min(columns, len(wrong)))
    ax = _new_axes(ax, (columns * 1.2, max(1, -(-len(wrong) // columns)) * 1.45 + 0.3))
    if not len(wrong):
        ax.text(0.5, 0.5, "no misclassified images", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return ax
    _show_mosaic(ax, _mosaic([images[i].astype(float) for i in wrong], columns, pad=14))
    for k, i in enumerate(wrong):
        r, c = divmod(k, columns)
        caption = f"{EMOTIONS[y_true[i]][:4]}>{EMOTIONS[y_pred[i]][:4]}"
        if proba is not None:
            caption += f" {proba[i, y_pred[i]]:.0%}"
        ax.text(c * 62 + 24, r * 62 + 48 + 1, caption, ha="center", va="top", fontsize=6.5)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(f"Misclassified: true>predicted ({len(wrong)} of {int((y_true != y_pred).sum())} mistakes)")
    return ax


def _one_image(image) -> np.ndarray:
    image = np.asarray(image)
    if image.size != 48 * 48:
        raise ValueError(f"image: expected one 48x48 face (shape (48, 48) or (48, 48, 1)); got {image.shape}")
    return image.reshape(1, 48, 48)


def _find_last_conv(model):
    import keras

    for layer in reversed(model.layers):
        if isinstance(layer, keras.layers.Conv2D):
            return layer
    return None


def saliency_map(model, image, class_index: int | None = None, *, method: str = "gradcam",
                 preprocess=None) -> tuple[np.ndarray, int, np.ndarray]:
    """Where the model looked: a Grad-CAM (or input-gradient) map for one face.

    Parameters
    ----------
    model : keras.Model
        A trained classifier with 7 softmax outputs.
    image : array of shape (48, 48)
        One uint8 face.
    class_index : int, optional
        Explain this class; by default the predicted class.
    method : {"gradcam", "gradient"}
        Grad-CAM on the last top-level ``Conv2D`` layer (falls back to the input gradient when the
        model has none), or the absolute input gradient ("vanilla saliency").
    preprocess : callable, optional
        Turns a uint8 batch (1, 48, 48) into the model's input; default scales to [0, 1] with a
        channel axis (what the course's CNNs take).

    Returns
    -------
    heatmap : np.ndarray of shape (48, 48), values in [0, 1]
    class_index : int
    probabilities : np.ndarray of shape (7,)
    """
    import keras
    import tensorflow as tf

    if method not in ("gradcam", "gradient"):
        raise ValueError(f"method: expected 'gradcam' or 'gradient'; got {method!r}")
    image = _one_image(image)
    if preprocess is None:
        batch = image[..., None].astype("float32") / 255.0
    else:
        batch = np.asarray(preprocess(image), dtype="float32")
    inputs = tf.convert_to_tensor(batch)
    conv = _find_last_conv(model) if method == "gradcam" else None
    if conv is not None:
        try:
            grad_model = keras.Model(model.inputs, [conv.output, model.outputs[0]])
        except (ValueError, AttributeError, TypeError):
            conv = None  # a subclassed or nested model: fall back to input gradients
    if conv is not None:
        with tf.GradientTape() as tape:
            features, probabilities = grad_model(inputs, training=False)
            class_index = int(np.argmax(probabilities[0])) if class_index is None else class_index
            score = probabilities[:, class_index]
        grads = tape.gradient(score, features)[0]
        weights = tf.reduce_mean(grads, axis=(0, 1))
        heatmap = tf.nn.relu(tf.reduce_sum(features[0] * weights, axis=-1)).numpy()
        heatmap = tf.image.resize(heatmap[..., None], (48, 48)).numpy()[..., 0]
    else:
        with tf.GradientTape() as tape:
            tape.watch(inputs)
            probabilities = model(inputs, training=False)
            class_index = int(np.argmax(probabilities[0])) if class_index is None else class_index
            score = probabilities[:, class_index]
        grads = tape.gradient(score, inputs).numpy()[0]
        heatmap = np.abs(grads).reshape(48, 48, -1).max(axis=-1) if grads.size % 2304 == 0 \
            else np.abs(grads).reshape(48, 48)
    heatmap = np.asarray(heatmap, dtype=float)
    heatmap = heatmap / heatmap.max() if heatmap.max() > 0 else heatmap
    return heatmap, int(class_index), np.asarray(probabilities[0], dtype=float)


def plot_saliency(model, image, ax=None, *, class_index: int | None = None, method: str = "gradcam",
                  preprocess=None, true_label: int | None = None, alpha: float = 0.45):
    """Overlay where a Keras model looked (Grad-CAM by default) on one face.

    Parameters
    ----------
    model : keras.Model
    image : array of shape (48, 48)
    ax : matplotlib.axes.Axes, optional
    class_index, method, preprocess
        See :func:`saliency_map`.
    true_label : int, optional
        Shown in the title next to the prediction.
    alpha : float
        Opacity of the heatmap.

    Returns
    -------
    matplotlib.axes.Axes
        The face in gray with the heatmap on top; the title names the explained class and
        its probability.
    """
    heatmap, class_index, probabilities = saliency_map(model, image, class_index, method=method,
                                                       preprocess=preprocess)
    ax = _new_axes(ax, (3.2, 3.4))
    ax.imshow(_one_image(image)[0], cmap="gray", vmin=0, vmax=255)
    ax.imshow(heatmap, cmap="jet", alpha=alpha, vmin=0, vmax=1)
    title = f"{EMOTIONS[class_index]} {probabilities[class_index]:.0%}"
    if true_label is not None:
        title = f"true {EMOTIONS[int(true_label)]}\npred {title}"
    ax.set_title(title, fontsize=9)
    ax.set_axis_off()
    return ax
