"""Where a model looked: Grad-CAM and input-gradient saliency maps for a CNN, attention over image rows."""

from __future__ import annotations

import numpy as np

from fercourse.data.shapes import FACE_SHAPE, IMAGE_SIZE, NUM_PIXELS, to_layout
from fercourse.errors import InputError
from fercourse.labels import EMOTIONS
from fercourse.plotting._common import _check_images, _mosaic, _new_axes, _show_mosaic


def _one_image(image) -> np.ndarray:
    image = np.asarray(image)
    if image.size != NUM_PIXELS:
        raise InputError(f"image: expected one 48x48 face (shape (48, 48) or (48, 48, 1)); got {image.shape}")
    return image.reshape(1, *FACE_SHAPE)


def _find_last_conv(model):
    import keras

    for layer in reversed(model.layers):
        if isinstance(layer, keras.layers.Conv2D):
            return layer
    return None


def saliency_map(model, image, class_index: int | None = None, *, method: str = "gradcam",
                 preprocess=None) -> tuple[np.ndarray, int, np.ndarray]:
    # Over 60 lines: a 22-line docstring; the body is the Grad-CAM steps in order.
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
        raise InputError(f"method: expected 'gradcam' or 'gradient'; got {method!r}")
    image = _one_image(image)
    if preprocess is None:
        batch = to_layout(image, "image")
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
        heatmap = tf.image.resize(heatmap[..., None], FACE_SHAPE).numpy()[..., 0]
    else:
        with tf.GradientTape() as tape:
            tape.watch(inputs)
            probabilities = model(inputs, training=False)
            class_index = int(np.argmax(probabilities[0])) if class_index is None else class_index
            score = probabilities[:, class_index]
        grads = tape.gradient(score, inputs).numpy()[0]
        # Any input layout holds the face's 2304 pixels: back to 48x48, strongest channel per pixel.
        heatmap = np.abs(grads).reshape(*FACE_SHAPE, -1).max(axis=-1)
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


def plot_attention_rows(images, weights, ax=None, *, labels=None, columns: int = 6):
    """Faces with the attention weight of each of their 48 rows drawn as a bar beside the row.

    Parameters
    ----------
    images : array of shape (n, 48, 48)
    weights : array of shape (n, 48)
        One weight per image row and face, e.g. the softmax of an additive attention layer over
        the rows (:class:`fercourse.models.layers.AdditiveAttention`).
    ax : matplotlib.axes.Axes, optional
    labels : array of shape (n,), optional
        Emotion of each face, written under it.
    columns : int
        Faces per row of the figure.

    Returns
    -------
    matplotlib.axes.Axes
        Each face in gray with a red bar per row, all bars on one scale (the longest is the largest
        weight shown); the dotted line marks the uniform weight 1/48.
    """
    images = _check_images(images)
    weights = np.asarray(weights, dtype=float)
    if weights.shape != (len(images), IMAGE_SIZE):
        raise InputError(f"weights: expected one weight per image row, shape ({len(images)}, {IMAGE_SIZE}); "
                         f"got {weights.shape}")
    columns = max(1, min(columns, len(images)))
    rows = -(-len(images) // columns)
    bar_room, pad = 26, 36  # the bars sit in the gap right of each face
    step = IMAGE_SIZE + pad
    ax = _new_axes(ax, (columns * 2.6, rows * 2.1 + 0.4))
    _show_mosaic(ax, _mosaic([face.astype(float) for face in images], columns, pad=pad))
    scale = bar_room / max(weights.max(), 1e-12)
    for k, row_weights in enumerate(weights):
        top, left = (k // columns) * step, (k % columns) * step + IMAGE_SIZE + 2
        ax.barh(top + np.arange(IMAGE_SIZE), row_weights * scale, left=left, height=1.0, color="#d62728")
        ax.plot([left + scale / IMAGE_SIZE] * 2, [top - 0.5, top + IMAGE_SIZE - 0.5], ":", color="#555555",
                linewidth=0.8)
        if labels is not None:
            ax.text(left - 2 - IMAGE_SIZE / 2, top + IMAGE_SIZE + 1, EMOTIONS[int(labels[k])], ha="center",
                    va="top", fontsize=7)
    ax.set_xlim(-0.5, columns * step - pad + bar_room + 4)
    ax.set_ylim(rows * step - pad + (10 if labels is not None else 0), -0.5)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title("Attention weight of each image row (dotted: uniform 1/48)")
    return ax
