"""Where a CNN looked: Grad-CAM and input-gradient saliency maps."""

from __future__ import annotations

import numpy as np

from fercourse.data.shapes import FACE_SHAPE, NUM_PIXELS, to_layout
from fercourse.errors import InputError
from fercourse.labels import EMOTIONS
from fercourse.plotting._common import _new_axes


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
