"""Is a student's Keras model the network an assignment asks for? Checked by layer type, not by name.

a2 asks students to *write* a CNN with ``keras.layers``, so its graded cell cannot look for the
names the package builder gives its layers (``conv2d``, ``augmentation``). :func:`cnn_problems`
walks the model (nested ``Sequential`` blocks included) and reports what is missing in words a
student can act on; an empty list means the model is a compiled CNN for 48x48 gray faces with
training-time augmentation and seven class probabilities.
"""

from __future__ import annotations

from collections.abc import Iterator

MIN_CONVOLUTIONS = 2
"""Convolution layers a2's CNN needs at least (lesson 5's smallest network has three)."""


def _layers(model) -> Iterator:
    """Every layer of a Keras model, descending into nested models (an augmentation Sequential, say)."""
    for layer in getattr(model, "layers", []):
        yield layer
        if hasattr(layer, "layers"):
            yield from _layers(layer)


def _is_augmentation(layer) -> bool:
    """Keras's random preprocessing layers (``RandomFlip``, ``RandomRotation``, ...) and fercourse's crop."""
    return type(layer).__name__.startswith("Random")


def cnn_problems(model, *, num_classes: int = 7, augmentation: bool = True) -> list[str]:
    """What keeps ``model`` from being the CNN an assignment asks for; ``[]`` when nothing does.

    Checked: input shape ``(None, 48, 48, 1)``; output ``(None, num_classes)``; at least
    :data:`MIN_CONVOLUTIONS` ``Conv2D`` layers and a pooling layer (or a strided convolution) to
    shrink the maps; with ``augmentation``, at least one random preprocessing layer; compiled
    (an optimizer and a loss). Layers are recognised by their type, whatever they are named.

    Parameters
    ----------
    model : keras.Model
    num_classes : int
        Width of the expected softmax output.
    augmentation : bool
        Require a training-time augmentation layer.

    Returns
    -------
    list of str
        One sentence per problem.

    Examples
    --------
    >>> import keras
    >>> mlp = keras.Sequential([keras.Input((48, 48, 1)), keras.layers.Flatten(),
    ...                         keras.layers.Dense(7, activation="softmax")])
    >>> for problem in cnn_problems(mlp):
    ...     print(problem)
    expected at least 2 convolution layers (keras.layers.Conv2D); found 0
    expected a pooling layer (keras.layers.MaxPooling2D, say) or a strided convolution
    expected training-time augmentation: a keras.layers.Random... layer (RandomFlip, RandomRotation, ...)
    expected a compiled model: call model.compile(optimizer=..., loss=...)
    """
    import keras

    if not isinstance(model, keras.Model):
        return [f"expected a keras.Model; got {type(model).__name__}"]
    problems = []
    if tuple(model.input_shape) != (None, 48, 48, 1):
        problems.append(f"expected input shape (None, 48, 48, 1), one gray 48x48 face; "
                        f"got {model.input_shape}")
    if tuple(model.output_shape) != (None, num_classes):
        problems.append(f"expected output shape (None, {num_classes}), one probability per emotion; "
                        f"got {model.output_shape}")
    layers = list(_layers(model))
    convolutions = [layer for layer in layers if isinstance(layer, keras.layers.Conv2D)]
    if len(convolutions) < MIN_CONVOLUTIONS:
        problems.append(f"expected at least {MIN_CONVOLUTIONS} convolution layers (keras.layers.Conv2D); "
                        f"found {len(convolutions)}")
    pooling = (keras.layers.MaxPooling2D, keras.layers.AveragePooling2D, keras.layers.GlobalMaxPooling2D,
               keras.layers.GlobalAveragePooling2D)
    strided = any(max(layer.strides) > 1 for layer in convolutions)
    if not strided and not any(isinstance(layer, pooling) for layer in layers):
        problems.append("expected a pooling layer (keras.layers.MaxPooling2D, say) or a strided convolution")
    if augmentation and not any(_is_augmentation(layer) for layer in layers):
        problems.append("expected training-time augmentation: a keras.layers.Random... layer (RandomFlip, "
                        "RandomRotation, ...)")
    if getattr(model, "optimizer", None) is None or getattr(model, "loss", None) is None:
        problems.append("expected a compiled model: call model.compile(optimizer=..., loss=...)")
    return problems
