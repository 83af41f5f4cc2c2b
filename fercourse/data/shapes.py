"""Pixel layouts the models take: float [0, 1] images, flat rows, sequences of rows."""

from __future__ import annotations

import numpy as np


def to_float(images: np.ndarray) -> np.ndarray:
    """Scale uint8 pixels to float32 in [0, 1].

    Examples
    --------
    >>> to_float(np.array([[0, 255]], dtype=np.uint8)).tolist()
    [[0.0, 1.0]]
    """
    return np.asarray(images, dtype=np.float32) / 255.0


def as_flat(images: np.ndarray) -> np.ndarray:
    """Float32 (n, 2304) pixels in [0, 1], for scikit-learn and the MLP."""
    return to_float(images).reshape(len(images), -1)


def as_image(images: np.ndarray) -> np.ndarray:
    """Float32 (n, 48, 48, 1) pixels in [0, 1], for CNNs."""
    return to_float(images).reshape(len(images), 48, 48, 1)


def as_sequence(images: np.ndarray) -> np.ndarray:
    """Float32 (n, 48, 48) pixels in [0, 1]: 48 time steps (rows) of 48 features, for LSTM and GRU."""
    return to_float(images).reshape(len(images), 48, 48)
