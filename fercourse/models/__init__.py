"""Models for FER2013: scikit-learn baselines, Keras builders, augmentation and training helpers.

The package re-exports its public API from five modules, one job each:

- :mod:`fercourse.models.baselines`: :data:`BASELINES`, :func:`build_baseline`, :func:`cross_validate`.
- :mod:`fercourse.models.keras_models`: :data:`KERAS_MODELS`, :func:`build_model`,
  :func:`model_input`, :func:`make_augmentation`.
- :mod:`fercourse.models.fit`: :func:`training_callbacks`, :func:`fit_or_load`, :func:`tune`,
  :func:`steps_per_epoch`.
- :mod:`fercourse.models.schedules`: :func:`one_cycle`, :func:`exponential_decay`, :func:`step_decay`.
- :mod:`fercourse.models.zoo`: :data:`ZOO`, :func:`run_comparison`, the engine of ``fercourse compare``.

Importing it loads neither scikit-learn nor TensorFlow; each function imports what it needs
when called.

Examples
--------
>>> from fercourse.models import BASELINES, KERAS_MODELS
>>> BASELINES[0], KERAS_MODELS[-1]
('dummy', 'cnn')
"""

from fercourse.models.baselines import BASELINES, build_baseline, cross_validate
from fercourse.models.fit import fit_or_load, steps_per_epoch, training_callbacks, tune
from fercourse.models.keras_models import (
    CNN_VARIANTS,
    KERAS_MODELS,
    build_model,
    make_augmentation,
    model_input,
)
from fercourse.models.schedules import exponential_decay, one_cycle, step_decay

__all__ = ["BASELINES", "CNN_VARIANTS", "KERAS_MODELS", "Subsampled", "build_baseline", "build_model",
           "cross_validate", "exponential_decay", "fit_or_load", "make_augmentation", "model_input",
           "one_cycle", "step_decay", "steps_per_epoch", "training_callbacks", "tune"]


def __getattr__(name: str):
    if name == "Subsampled":  # lazily: it subclasses scikit-learn's base classes
        from fercourse.models.subsample import Subsampled

        return Subsampled
    raise AttributeError(f"module 'fercourse.models' has no attribute {name!r}")
