"""Import TensorFlow without its C++ start-up lines: :func:`import_tensorflow_quietly`.

TensorFlow's C++ start-up lines (oneDNN, CUDA drivers, CPU instructions) go straight to file
descriptor 2 before its logging is set up, so ``TF_CPP_MIN_LOG_LEVEL`` does not stop them
(tensorflow/tensorflow#100442). In a terminal they bury a command's own output; in a Jupyter kernel,
which forwards descriptor 2 to the notebook, they print as a red block under a lesson's first
cell. The ``fercourse`` commands and :func:`fercourse.set_seed` import TensorFlow through here.
"""

from __future__ import annotations

import os
import sys

__all__ = ["import_tensorflow_quietly"]


def import_tensorflow_quietly() -> None:
    """Import Keras and TensorFlow with descriptor 2 (and ``sys.stderr``'s own) on the null device.

    Listing the devices (the CUDA probe) happens inside too; anything written after this returns is
    shown, and ``FERCOURSE_DEBUG=1`` shows everything. Once TensorFlow is imported this does nothing.
    """
    from fercourse import config

    if config.debug() or "tensorflow" in sys.modules:
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    # A Jupyter kernel points descriptor 2 at a pipe it forwards to the notebook, and its sys.stderr
    # reports the original descriptor: mute both.
    descriptors = {2}
    try:
        descriptors.add(sys.stderr.fileno())
    except (AttributeError, OSError, ValueError):  # no descriptor behind sys.stderr (embedded, captured)
        pass
    sys.stderr.flush()
    null = os.open(os.devnull, os.O_WRONLY)
    saved = {descriptor: os.dup(descriptor) for descriptor in descriptors}
    try:
        for descriptor in descriptors:
            os.dup2(null, descriptor)
        import keras  # noqa: F401  (imports TensorFlow, its backend)
        import tensorflow as tf

        tf.config.list_physical_devices()
    finally:
        for descriptor, copy in saved.items():
            os.dup2(copy, descriptor)
            os.close(copy)
        os.close(null)
