"""fercourse: an open course on facial emotion recognition with FER2013.

Importing the package is cheap and changes nothing global: TensorFlow, OpenCV and
matplotlib are imported only by the modules that need them.

Examples
--------
>>> import fercourse
>>> fercourse.EMOTIONS[0]
'angry'
"""

from fercourse.labels import EMOTIONS, NUM_CLASSES

__version__ = "0.1.0"
__all__ = ["EMOTIONS", "NUM_CLASSES", "__version__", "set_seed"]


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and (when installed and imported) Keras/TensorFlow for repeatable runs.

    This is the one place fercourse touches global random state, and only when called.
    """
    import random
    import sys

    import numpy as np

    random.seed(seed)
    np.random.seed(seed)
    if "keras" in sys.modules or "tensorflow" in sys.modules:
        import keras

        keras.utils.set_random_seed(seed)
