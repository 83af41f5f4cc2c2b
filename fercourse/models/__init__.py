"""Models for FER2013: scikit-learn baselines, Keras builders and layers, prediction, the shipped model.

The package re-exports its public API from three modules, one job each:

- :mod:`fercourse.models.baselines`: :data:`BASELINES`, :func:`build_baseline`, :func:`cross_validate`.
- :mod:`fercourse.models.keras_models`: :data:`KERAS_MODELS`, :func:`build_model`, :func:`make_augmentation`.
- :mod:`fercourse.models.predict`: :func:`model_input` (faces shaped for a model) and
  :func:`predict_proba` (the one prediction path, with test-time augmentation).

:mod:`~fercourse.models.layers` holds the custom Keras classes, :mod:`~fercourse.models.pretrained`
the model that ships with fercourse (:func:`pretrained` loads it). Training (callbacks, fit-or-load,
schedules, recipes, the model zoo) is :mod:`fercourse.training`.

Importing it loads neither scikit-learn nor TensorFlow; each function imports what it needs
when called.

Examples
--------
>>> from fercourse.models import BASELINES, KERAS_MODELS
>>> BASELINES[0], KERAS_MODELS[-1]
('dummy', 'cnn')
"""

from fercourse.models.baselines import BASELINES, build_baseline, cross_validate
from fercourse.models.keras_models import CNN_VARIANTS, KERAS_MODELS, build_model, make_augmentation
from fercourse.models.predict import model_input, predict_proba
from fercourse.models.pretrained import pretrained

__all__ = ["BASELINES", "CNN_VARIANTS", "KERAS_MODELS", "Subsampled", "build_baseline", "build_model",
           "cross_validate", "make_augmentation", "model_input", "predict_proba", "pretrained"]


def __getattr__(name: str):
    if name == "Subsampled":  # lazily: it subclasses scikit-learn's base classes
        from fercourse.models.subsample import Subsampled

        return Subsampled
    raise AttributeError(f"module 'fercourse.models' has no attribute {name!r}")
