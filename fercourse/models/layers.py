"""Custom Keras pieces: a training crop, per-image standardization, additive attention, a one-cycle
schedule (and its formula, :func:`one_cycle_curve`), a smoothed loss, a time limit.

This module imports Keras at the top, so only the builders import it (inside functions);
``import fercourse.models`` stays light. Every class is registered under the ``fercourse``
package so ``keras.models.load_model`` restores saved models without ``custom_objects``.
"""

from __future__ import annotations

import math
import time

import keras
import numpy as np
from keras import ops

from fercourse.errors import InputError

# One-cycle's default settings, shared by the Keras schedule and the plain function: the peak after
# 30% of the budget, a start 25 times below the peak, an end 10,000 times below the start.
PCT_START = 0.3
DIV_FACTOR = 25.0
FINAL_DIV_FACTOR = 1e4


def check_one_cycle_settings(pct_start: float, div_factor: float, final_div_factor: float) -> None:
    if not 0.0 < pct_start < 1.0:
        raise InputError(f"pct_start is {pct_start}: expected a fraction between 0 and 1")
    if not (div_factor > 0 and final_div_factor > 0):
        raise InputError(f"div_factor is {div_factor} and final_div_factor {final_div_factor}: "
                         "expected positive numbers")


def one_cycle_curve(progress, max_learning_rate: float, *, pct_start: float, div_factor: float,
                    final_div_factor: float, ops=np):
    """The one-cycle formula on ``progress`` (0 = first step, 1 = end of the budget), in any array library.

    Cosine warm-up from ``max_learning_rate / div_factor`` to ``max_learning_rate`` over the first
    ``pct_start`` of the budget, then cosine annealing to
    ``max_learning_rate / (div_factor * final_div_factor)``; progress past 1 keeps the final rate.
    ``ops`` is the array namespace that does the arithmetic: NumPy for numbers, ``keras.ops`` for
    the step tensors a Keras schedule receives. :class:`OneCycleSchedule` calls it on step tensors and
    :func:`fercourse.training.schedules.one_cycle_rate` on plain numbers; use those rather than this.
    """
    start = max_learning_rate / div_factor
    final = start / final_div_factor
    progress = ops.clip(progress, 0.0, 1.0)
    warm = ops.clip(progress / pct_start, 0.0, 1.0)
    cool = ops.clip((progress - pct_start) / (1.0 - pct_start), 0.0, 1.0)
    rising = start + (max_learning_rate - start) * (1.0 - ops.cos(math.pi * warm)) / 2.0
    falling = final + (max_learning_rate - final) * (1.0 + ops.cos(math.pi * cool)) / 2.0
    return ops.where(progress < pct_start, rising, falling)


@keras.saving.register_keras_serializable(package="fercourse")
class AdditiveAttention(keras.layers.Layer):
    """Additive (Bahdanau-style) attention pooling over time steps.

    Scores each step ``h_t`` with ``v . tanh(W h_t + b)``, turns the scores into weights with a
    softmax over time and returns the weighted sum of the steps: ``(batch, steps, features)`` in,
    ``(batch, features)`` out. ``return_attention=True`` returns ``(context, weights)`` instead,
    so a lesson can show which image rows the model looked at.

    Parameters
    ----------
    units : int
        Size of the hidden scoring layer ``W``.
    return_attention : bool
        Also return the attention weights, shape ``(batch, steps)``.
    """

    def __init__(self, units: int = 64, return_attention: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.units = int(units)
        self.return_attention = bool(return_attention)

    def build(self, input_shape):
        features = input_shape[-1]
        self.score_dense = keras.layers.Dense(self.units, activation="tanh", name="score_hidden")
        self.score_dense.build(input_shape)
        self.score_vector = keras.layers.Dense(1, use_bias=False, name="score_vector")
        self.score_vector.build((*input_shape[:-1], self.units))
        self.features = features

    def call(self, inputs):
        scores = ops.squeeze(self.score_vector(self.score_dense(inputs)), axis=-1)  # (batch, steps)
        weights = ops.softmax(scores, axis=-1)
        context = ops.sum(inputs * ops.expand_dims(weights, -1), axis=1)
        if self.return_attention:
            return context, weights
        return context

    def compute_output_shape(self, input_shape):
        context = (input_shape[0], input_shape[-1])
        return (context, (input_shape[0], input_shape[1])) if self.return_attention else context

    def get_config(self):
        return {**super().get_config(), "units": self.units, "return_attention": self.return_attention}


@keras.saving.register_keras_serializable(package="fercourse")
class RandomCropTraining(keras.layers.Layer):
    """A ``size`` x ``size`` window of each image: at random in training, the centre one at inference.

    Every image in a batch gets its own window. Training on 40x40 windows of the 48x48 faces
    costs about 0.7x the convolutions of the full face and shifts the face by up to four pixels
    each way. Inference takes the centre window, so the network sees faces at the scale and
    framing it was trained on; fercourse's shift TTA then averages the neighbouring windows.
    (Keras's ``RandomCrop`` resizes the whole image to the window at inference instead, which
    shrinks the faces. Feeding the whole 48x48 face was measured too: a reference CNN trained
    for 18 epochs on FER2013 windows scored 0.348 on validation with whole faces and 0.559 with
    centre windows.)

    Parameters
    ----------
    size : int
        Height and width of the window, in pixels.
    seed : int, optional
        Seed for the window positions.
    """

    def __init__(self, size: int, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(size, int) or size < 1:
            raise InputError(f"crop size is {size!r}: expected a positive whole number of pixels")
        self.size = size
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def build(self, input_shape):
        height, width = input_shape[1], input_shape[2]
        if (height is not None and height < self.size) or (width is not None and width < self.size):
            raise InputError(f"crop size {self.size} is larger than the images ({height}x{width})")

    def call(self, inputs, training=None):
        batch, height, width, channels = ops.shape(inputs)
        if not training:
            top, left = (height - self.size) // 2, (width - self.size) // 2
            return inputs[:, top:top + self.size, left:left + self.size, :]
        top = keras.random.randint((batch,), 0, height - self.size + 1, seed=self.seed_generator)
        left = keras.random.randint((batch,), 0, width - self.size + 1, seed=self.seed_generator)
        steps = ops.arange(self.size, dtype="int32")
        rows = ops.expand_dims(top, 1) + steps  # (batch, size); randint gives int32
        columns = ops.expand_dims(left, 1) + steps
        rows = ops.broadcast_to(ops.reshape(rows, (batch, self.size, 1, 1)),
                                (batch, self.size, width, channels))
        images = ops.take_along_axis(inputs, rows, axis=1)
        columns = ops.broadcast_to(ops.reshape(columns, (batch, 1, self.size, 1)),
                                   (batch, self.size, self.size, channels))
        return ops.take_along_axis(images, columns, axis=2)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.size, self.size, input_shape[3])

    def get_config(self):
        return {**super().get_config(), "size": self.size, "seed": self.seed}


@keras.saving.register_keras_serializable(package="fercourse")
class PerImageStandardization(keras.layers.Layer):
    """Scale each image to zero mean and unit standard deviation (over all its pixels).

    FER2013's faces, like the built-in sample's, vary a lot in brightness and contrast; removing
    that per image lets the first layers spend their capacity on shape. Active in training and
    inference alike, so it is part of the model, not of the data pipeline.
    """

    def __init__(self, epsilon: float = 1e-3, **kwargs):
        super().__init__(**kwargs)
        self.epsilon = float(epsilon)

    def call(self, inputs):
        axes = tuple(range(1, len(inputs.shape)))
        mean = ops.mean(inputs, axis=axes, keepdims=True)
        std = ops.std(inputs, axis=axes, keepdims=True)
        return (inputs - mean) / (std + self.epsilon)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon}


@keras.saving.register_keras_serializable(package="fercourse")
class OneCycleSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """One-cycle learning rate over ``total_steps`` optimizer steps (see ``training.schedules.one_cycle``).

    The curve is :func:`one_cycle_curve` at ``step / total_steps``:
    it starts at ``max_lr / div_factor``, peaks after ``pct_start * total_steps`` steps and ends
    at ``max_lr / (div_factor * final_div_factor)``; later steps keep the final rate.
    """

    def __init__(self, max_lr: float, total_steps: int, pct_start: float = PCT_START,
                 div_factor: float = DIV_FACTOR, final_div_factor: float = FINAL_DIV_FACTOR):
        if total_steps < 1:
            raise InputError(f"total_steps is {total_steps}: expected a positive number of steps")
        check_one_cycle_settings(pct_start, div_factor, final_div_factor)
        self.max_lr = float(max_lr)
        self.total_steps = int(total_steps)
        self.pct_start = float(pct_start)
        self.div_factor = float(div_factor)
        self.final_div_factor = float(final_div_factor)

    def __call__(self, step):
        progress = ops.cast(step, "float32") / self.total_steps
        return one_cycle_curve(progress, self.max_lr, pct_start=self.pct_start, div_factor=self.div_factor,
                               final_div_factor=self.final_div_factor, ops=ops)

    def get_config(self):
        return {"max_lr": self.max_lr, "total_steps": self.total_steps, "pct_start": self.pct_start,
                "div_factor": self.div_factor, "final_div_factor": self.final_div_factor}


@keras.saving.register_keras_serializable(package="fercourse")
class SparseSmoothedCrossentropy(keras.losses.Loss):
    """Cross-entropy on integer labels with label smoothing.

    Keras's ``SparseCategoricalCrossentropy`` has no ``label_smoothing``; this one-hot encodes the
    integer labels inside the loss, so the data stays integer labels (0-6) for every model.
    """

    def __init__(self, num_classes: int = 7, label_smoothing: float = 0.1,
                 name: str = "sparse_smoothed_crossentropy", **kwargs):
        super().__init__(name=name, **kwargs)
        self.num_classes = int(num_classes)
        self.label_smoothing = float(label_smoothing)

    def call(self, y_true, y_pred):
        y_true = ops.one_hot(ops.cast(ops.reshape(y_true, (-1,)), "int32"), self.num_classes)
        return keras.losses.categorical_crossentropy(y_true, y_pred, label_smoothing=self.label_smoothing)

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes,
                "label_smoothing": self.label_smoothing}


class TimeLimit(keras.callbacks.Callback):
    """Stop training at the end of the first epoch that ends more than ``seconds`` after the start.

    ``stopped_early`` says whether the limit ended the run.
    """

    def __init__(self, seconds: float):
        super().__init__()
        self.seconds = float(seconds)
        self.stopped_early = False

    def on_train_begin(self, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        if time.perf_counter() - self.start > self.seconds:
            self.stopped_early = True
            self.model.stop_training = True
