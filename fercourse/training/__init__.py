"""Training: named recipes, the training loop, its monitor and its record, resume.

- :mod:`~fercourse.training.recipes`: :class:`Recipe`, :data:`RECIPES`, :func:`train_recipe`,
  :func:`evaluate_saved`: the engine of ``fercourse train`` and ``fercourse evaluate``.
- :mod:`~fercourse.training.monitor`: the Keras callback that checkpoints, keeps time and writes progress.
- :mod:`~fercourse.training.record`: what a run records (settings, history, machine, versions) and where.

TensorFlow is imported only when a recipe trains.
"""
