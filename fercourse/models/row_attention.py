"""Attention over the rows of a face without recurrence (lesson 4).

Lesson 4's GRU pools its 48 outputs with additive attention, but a one-way GRU's output at row t
has read rows 1..t, so a weight on step t is a weight on a summary of the face down to row t, not on
row t. This network embeds every row on its own (one shared dense layer, plus a learned vector per
row position, so it knows where the row is) and pools those embeddings with the same attention: its
weight on row t is a weight on row t, a reading :func:`fercourse.models.occlusion.occlusion_check`
then tests.

Examples
--------
>>> model = row_attention_model(seed=0)
>>> model.input_shape, model.output_shape
((None, 48, 48), (None, 7))
"""

from __future__ import annotations

import keras

__all__ = ["RowPositions", "row_attention_model"]


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
