"""Test what attention weights claim: blank the steps they favour and see what it costs.

An attention plot says which steps (lesson 4: image rows) the pooling favoured; it does not say the
prediction depends on them. :func:`occlusion_check` measures that: blank each face's most-weighted
rows, then as many random rows, and compare the accuracy each costs.

Examples
--------
>>> blank_rows(np.arange(2 * 4 * 3, dtype=np.uint8).reshape(2, 4, 3), np.array([[0], [3]]))[:, :, 0]
array([[ 5,  3,  6,  9],
       [12, 15, 18, 17]], dtype=uint8)
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

__all__ = ["attention_weights", "blank_rows", "occlusion_check"]


def attention_weights(model: keras.Model, x: np.ndarray, *, layer: str = "attention",
                      batch_size: int = 256) -> np.ndarray:
    """The weights ``alpha`` (faces, steps) that ``model``'s attention layer gives each step of ``x``."""
    attention = model.get_layer(layer)
    steps = keras.Model(model.input, attention.input)
    weights = []
    for start in range(0, len(x), batch_size):
        h = steps(x[start:start + batch_size], training=False)
        scores = ops.squeeze(attention.score_vector(attention.score_dense(h)), axis=-1)
        weights.append(ops.convert_to_numpy(ops.softmax(scores, axis=-1)))
    return np.concatenate(weights)


def blank_rows(images: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """A copy of ``images`` (faces, 48, 48) with, in each face, the rows listed in ``rows`` (faces, k)
    set to that face's mean grey level (so its brightness, and the standardisation, barely move)."""
    blanked = images.copy()
    means = images.reshape(len(images), -1).mean(axis=1).astype(images.dtype)
    faces = np.arange(len(images))[:, None]
    blanked[faces, rows] = means[:, None, None]
    return blanked


def occlusion_check(model: keras.Model, images: np.ndarray, labels: np.ndarray, weights: np.ndarray, *,
                    rows: int = 8, seed: int = 0) -> dict[str, float]:
    """Accuracy of ``model`` on ``images`` as they are, with each face's ``rows`` most-weighted rows
    blanked, and with ``rows`` random rows blanked (seeded), plus the two drops.

    ``images`` are the model's input, (faces, 48, 48) rows of pixels; ``weights`` (faces, 48) the
    attention weights of those faces (:func:`attention_weights`). If the weights say which rows the
    model uses, blanking the most-weighted rows costs more accuracy than blanking random ones.
    """
    rng = np.random.default_rng(seed)
    top = np.argsort(weights, axis=1)[:, -rows:]
    random_rows = np.stack([rng.choice(images.shape[1], size=rows, replace=False) for _ in images])

    def accuracy(faces) -> float:
        return float((model.predict(faces, verbose=0).argmax(axis=1) == labels).mean())

    scores = {"as is": accuracy(images), "most-weighted rows blanked": accuracy(blank_rows(images, top)),
              "random rows blanked": accuracy(blank_rows(images, random_rows))}
    scores["drop, most-weighted"] = scores["as is"] - scores["most-weighted rows blanked"]
    scores["drop, random"] = scores["as is"] - scores["random rows blanked"]
    return scores
