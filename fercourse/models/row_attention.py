"""Attention over the rows of a face without recurrence, and the occlusion check of its weights.

Lesson 4's GRU pools its 48 outputs with additive attention, but a one-way GRU's output at row t
has read rows 1..t, so a weight on step t is a weight on a summary of the face down to row t, not on
row t. This network embeds every row on its own (one shared dense layer, plus a learned vector per
row position, so it knows where the row is) and pools those embeddings with the same attention: its
weight on row t is a weight on row t. :func:`occlusion_check` then tests the reading: blank the rows
the weights favour and the rows a coin picks, and compare what each costs in accuracy.

Examples
--------
>>> model = row_attention_model(seed=0)
>>> model.input_shape, model.output_shape
((None, 48, 48), (None, 7))
>>> blank_rows(np.arange(2 * 4 * 3, dtype=np.uint8).reshape(2, 4, 3), np.array([[0], [3]]))[:, :, 0]
array([[ 5,  3,  6,  9],
       [12, 15, 18, 17]], dtype=uint8)
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

__all__ = ["RowPositions", "attention_weights", "blank_rows", "occlusion_check", "row_attention_model"]


@keras.saving.register_keras_serializable(package="fercourse")
class RowPositions(keras.layers.Layer):
    """Add a learned vector per time step (row): ``(batch, steps, features)`` in and out.

    Without it, attention pooling over row embeddings would be blind to where a row sits: a
    weighted sum does not depend on the order of its terms.
    """

    def build(self, input_shape):
        self.positions = self.add_weight(shape=tuple(input_shape[1:]), initializer="zeros", name="positions")

    def call(self, inputs):
        return inputs + self.positions

    def compute_output_shape(self, input_shape):
        return input_shape


def row_attention_model(*, embedding_units: int = 96, attention_units: int = 64, dense_units: int = 64,
                        dropout_rate: float = 0.3, seed: int | None = None) -> keras.Model:
    """Lesson 4's row-attention network, compiled: per-image standardisation, a row embedding,
    row positions, additive attention over the 48 rows, a dense layer and a softmax.

    Parameters
    ----------
    embedding_units, attention_units, dense_units : int
        Width of the row embedding, of the attention's scoring layer and of the dense layer after it.
    dropout_rate : float
        Dropout after the pooled vector.
    seed : int, optional
        Seeds Keras before the weights are made (:func:`fercourse.set_seed`).
    """
    from fercourse import set_seed
    from fercourse.models.layers import AdditiveAttention, PerImageStandardization

    if seed is not None:
        set_seed(seed)
    inputs = keras.Input((48, 48), name="pixels")
    x = PerImageStandardization(name="standardize")(inputs)
    x = keras.layers.Dense(embedding_units, activation="relu", name="row_embedding")(x)
    x = RowPositions(name="row_positions")(x)
    x = AdditiveAttention(attention_units, name="attention")(x)
    x = keras.layers.Dense(dense_units, activation="relu")(x)
    x = keras.layers.Dropout(dropout_rate)(x)
    outputs = keras.layers.Dense(7, activation="softmax", name="probabilities")(x)
    model = keras.Model(inputs, outputs, name="row_attention")
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


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
