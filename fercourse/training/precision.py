"""The number format a recipe trains in: bfloat16 where the hardware computes it natively, else float32.

:meth:`fercourse.training.recipes.Recipe.precision` asks :func:`bfloat16_is_fast`, builds its model
inside :func:`dtype_policy`, and the record states :func:`layer_precision` of the trained model.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path


def bfloat16_is_fast() -> bool:
    """True on a machine that computes bfloat16 natively: a visible GPU, or a CPU with AMX/AVX512-BF16."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        flags = ""
    if "amx_bf16" in flags or "avx512_bf16" in flags:
        return True
    import tensorflow as tf

    return bool(tf.config.list_physical_devices("GPU"))


@contextmanager
def dtype_policy(name: str):
    """Set Keras's global dtype policy inside the block only (layers keep the policy they were built with)."""
    import keras

    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(name)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def layer_precision(model) -> str:
    """The dtype policy the model computes in (a loaded model's own policy reads float32 even when its
    layers compute in bfloat16, so ask a layer with weights)."""
    return next((layer.dtype_policy.name for layer in model.layers if layer.weights), model.dtype_policy.name)


__all__ = ["bfloat16_is_fast", "dtype_policy", "layer_precision"]
