"""Learning-rate schedules: one-cycle, exponential decay and step decay, each written once.

Each public function but :func:`one_cycle_rate` returns a Keras ``LearningRateSchedule`` to pass as
an optimizer's ``learning_rate`` (or ``build_model(learning_rate=...)``). The one-cycle formula is
written once, beside the Keras schedule that saved models name
(:func:`fercourse.models.layers.one_cycle_curve`, :class:`~fercourse.models.layers.OneCycleSchedule`);
:func:`one_cycle_rate` evaluates it on plain numbers, which is what the recipe training loop
(:func:`fercourse.training.recipes.train_recipe`) sets before every batch.

Importing this module imports Keras (through :mod:`fercourse.models.layers`).

Examples
--------
>>> [round(one_cycle_rate(progress, 0.01), 8) for progress in (0.0, 0.3, 1.0)]
[0.0004, 0.01, 4e-08]
"""

from __future__ import annotations

import numpy as np

from fercourse.errors import InputError
from fercourse.models.layers import (
    DIV_FACTOR,
    FINAL_DIV_FACTOR,
    PCT_START,
    OneCycleSchedule,
    check_one_cycle_settings,
    one_cycle_curve,
)


def one_cycle_rate(progress: float, max_learning_rate: float, *, pct_start: float = PCT_START,
                   div_factor: float = DIV_FACTOR, final_div_factor: float = FINAL_DIV_FACTOR) -> float:
    """The one-cycle learning rate at ``progress``, a fraction of the budget (0 = start, 1 = end).

    The same curve as :func:`one_cycle`, as a plain number. A fraction of the budget rather than a
    step count, so one schedule serves an epoch budget and a wall-time budget alike.

    Parameters
    ----------
    progress : float
        Share of the budget used; clipped to [0, 1].
    max_learning_rate : float
        The peak rate, reached at ``progress == pct_start``.
    pct_start : float
        Share of the budget spent warming up (default 0.3).
    div_factor : float
        The first rate is ``max_learning_rate / div_factor`` (default 25).
    final_div_factor : float
        The last rate is the first one divided by this (default 1e4).

    Returns
    -------
    float

    Examples
    --------
    >>> [round(one_cycle_rate(progress, 1e-3, pct_start=0.25), 8) for progress in (0.0, 0.25, 0.5, 1.0)]
    [4e-05, 0.001, 0.00075, 0.0]
    """
    check_one_cycle_settings(pct_start, div_factor, final_div_factor)
    rate = one_cycle_curve(float(progress), float(max_learning_rate), pct_start=pct_start,
                           div_factor=div_factor, final_div_factor=final_div_factor)
    return float(rate)


def one_cycle(max_learning_rate: float, total_steps: int, *, pct_start: float = PCT_START,
              div_factor: float = DIV_FACTOR, final_div_factor: float = FINAL_DIV_FACTOR):
    """A one-cycle schedule: cosine warm-up to ``max_learning_rate``, then cosine annealing to almost zero.

    Parameters
    ----------
    max_learning_rate : float
        The peak rate.
    total_steps : int
        Length of the cycle in optimizer steps: ``epochs * steps_per_epoch(n_train, batch_size)``.
        Later steps keep the final rate.
    pct_start, div_factor, final_div_factor : float
        As in :func:`one_cycle_rate` (defaults 0.3, 25 and 1e4).

    Returns
    -------
    fercourse.models.layers.OneCycleSchedule
        A Keras ``LearningRateSchedule``; saved models that use it load again (it is registered
        with Keras when :mod:`fercourse.models.layers` is imported).

    Examples
    --------
    >>> schedule = one_cycle(0.01, total_steps=100)
    >>> [round(float(schedule(step)), 8) for step in (0, 30, 100)]
    [0.0004, 0.01, 4e-08]
    """
    return OneCycleSchedule(max_learning_rate, total_steps, pct_start=pct_start, div_factor=div_factor,
                            final_div_factor=final_div_factor)


def exponential_decay(initial_learning_rate: float = 1e-3, decay_steps: int = 1000, decay_rate: float = 0.9):
    """Exponential decay: ``initial_learning_rate * decay_rate ** (step / decay_steps)``.

    Pass it as an optimizer's ``learning_rate`` (or ``build_model(learning_rate=...)``).

    Returns
    -------
    keras.optimizers.schedules.ExponentialDecay

    Examples
    --------
    >>> schedule = exponential_decay(1e-3, decay_steps=500, decay_rate=0.5)
    >>> [round(float(schedule(step)), 8) for step in (0, 500, 750)]
    [0.001, 0.0005, 0.00035355]
    """
    import keras

    return keras.optimizers.schedules.ExponentialDecay(initial_learning_rate, decay_steps, decay_rate)


def step_decay(initial_learning_rate: float = 1e-3, drop_every: int = 1000, factor: float = 0.5):
    """A piecewise-constant learning rate: multiplied by ``factor`` once every ``drop_every`` steps.

    ``initial_learning_rate * factor ** floor(step / drop_every)``: the classic "divide by ten
    every 30 epochs" schedule with ``drop_every = 30 * steps_per_epoch(n_train, batch_size)`` and
    ``factor = 0.1``.

    Parameters
    ----------
    initial_learning_rate : float
        The rate of the first ``drop_every`` steps.
    drop_every : int
        Steps between two drops.
    factor : float
        What each drop multiplies the rate by, between 0 and 1.

    Returns
    -------
    keras.optimizers.schedules.ExponentialDecay
        With ``staircase=True``, which is exactly this step schedule.

    Examples
    --------
    >>> schedule = step_decay(0.1, drop_every=10, factor=0.5)
    >>> [round(float(schedule(step)), 8) for step in (0, 9, 10, 25)]
    [0.1, 0.1, 0.05, 0.025]
    """
    import keras

    if not (isinstance(drop_every, (int, np.integer)) and drop_every >= 1):
        raise InputError(f"drop_every is {drop_every!r}: expected a positive whole number of steps")
    if not 0.0 < factor <= 1.0:
        raise InputError(f"factor is {factor}: expected a number in (0, 1]")
    return keras.optimizers.schedules.ExponentialDecay(initial_learning_rate, drop_every, factor,
                                                       staircase=True)
