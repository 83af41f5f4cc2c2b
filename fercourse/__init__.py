"""fercourse: an open course on facial emotion recognition with FER2013.

Importing the package is cheap and changes nothing global: TensorFlow, OpenCV and
matplotlib are imported only by the modules that need them.

The folders are the subsystems (each package's docstring lists its modules):

=======================  =====================================================================
``labels``               the canonical emotion order (Kaggle CSV), aliases, one colour per emotion
``errors``               :class:`~fercourse.errors.FercourseError` and the errors under it
``config``               every environment variable fercourse reads, FER2013's location, the source
                         names, quick mode, the one training budget type and validation share
``files``                atomic file writes
``provenance``           library versions and the machine, stored beside records and results
``quiet``                TensorFlow imported without its C++ start-up lines (commands, ``set_seed``)
``data/``                :func:`~fercourse.data.load` for every source into one dataset type; cache,
                         readers, writers, the synthetic sample, pixel layouts, splits, subsampling
``models/``              scikit-learn baselines, Keras builders and layers, the one prediction path
                         (:func:`~fercourse.models.predict_proba`, :func:`~fercourse.models.model_input`),
                         scoring a saved model, the shipped FER2013 model
``training/``            callbacks and fit-or-load, schedules, named recipes and their loop, monitor,
                         record and resume, the model zoo behind ``fercourse compare``
``evaluate``             metrics in one result shape
``plotting/``            every figure the lessons show
``submission``           write, validate and score the ``id,emotion`` submission CSV
``grading/``             the nbgrader preprocessors that score outside the kernel; course setup
``course/``              the lesson runner and the book builder (the only code that knows a checkout)
``demo/``                face detection, :class:`~fercourse.demo.EmotionDetector`, the upload app
``bench/``               every benchmark, run as ``fercourse bench NAME``
``cli/``                 the ``fercourse`` command, one module per command group
=======================  =====================================================================

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
    """Seed Python, NumPy and Keras/TensorFlow (when installed) for repeatable runs.

    This is the one place fercourse touches global random state, and only when called. Keras is
    imported here when it is installed, so a model built after this call is seeded even when
    nothing imported Keras before (a lesson whose first Keras import sits inside ``build_model``
    once trained its first model unseeded).
    """
    import importlib.util
    import random

    import numpy as np

    random.seed(seed)
    np.random.seed(seed)
    if importlib.util.find_spec("keras") is not None:
        from fercourse.quiet import import_tensorflow_quietly

        import_tensorflow_quietly()  # no C++ start-up lines under the lesson's cell
        import keras

        keras.utils.set_random_seed(seed)
