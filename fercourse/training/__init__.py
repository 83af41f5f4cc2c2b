"""Training: fitting helpers, learning-rate schedules, named recipes, the model zoo, budgets, records.

- :mod:`~fercourse.training.fit`: :func:`training_callbacks`, :func:`fit_or_load`, :func:`tune`,
  :func:`steps_per_epoch`: what the lessons train with (re-exported here).
- :mod:`~fercourse.training.schedules`: :func:`one_cycle`, :func:`exponential_decay`, :func:`step_decay`,
  :func:`one_cycle_rate` (imports Keras, so it is not re-exported here).
- :mod:`~fercourse.training.recipes`: :class:`Recipe`, :data:`RECIPES`, :func:`train_recipe`: the
  engine of ``fercourse train``; :mod:`~fercourse.training.precision` picks its number format.
- :mod:`~fercourse.training.zoo`: :data:`ZOO`, :func:`run_comparison`: the engine of ``fercourse compare``.
- :mod:`~fercourse.training.ladder`: :data:`RUNGS`, the trick ladder's recipes (lesson 5's CNN, then the
  reference recipe's ingredients one at a time), trained by the recorded experiment ``ladder``.
- :mod:`~fercourse.training.monitor`: the Keras callback that checkpoints, keeps time and writes progress.
- :mod:`~fercourse.training.record`: what a run records (settings, history, provenance) and where.

Budgets (epochs, minutes, batch size) are one type, :class:`fercourse.config.Budget`, and the
validation split one share, :data:`fercourse.config.VALIDATION_SHARE`. A saved model is scored by
:func:`fercourse.models.scoring.evaluate_saved` (``fercourse evaluate``).

Importing it loads neither scikit-learn nor TensorFlow.
"""

from fercourse.training.fit import fit_or_load, steps_per_epoch, training_callbacks, tune

__all__ = ["fit_or_load", "steps_per_epoch", "training_callbacks", "tune"]
