"""The one-cycle learning-rate formula, in any array library; the schedules and the Keras layer use it.

Kept apart from :mod:`fercourse.models.schedules` (which builds Keras schedules and imports
:mod:`fercourse.models.layers` to do so) and from :mod:`fercourse.models.layers` (which imports Keras),
so that neither imports the other at load time and importing this costs only NumPy.

Examples
--------
>>> round(float(one_cycle_curve(0.3, 0.01, pct_start=PCT_START, div_factor=DIV_FACTOR,
...                             final_div_factor=FINAL_DIV_FACTOR)), 6)
0.01
"""

from __future__ import annotations

import math

import numpy as np

from fercourse.errors import InputError

# One-cycle's default settings, shared by the Keras schedule and the plain function: the peak after
# 30% of the budget, a start 25 times below the peak, an end 10,000 times below the start.
PCT_START = 0.3
DIV_FACTOR = 25.0
FINAL_DIV_FACTOR = 1e4


def check_one_cycle_settings(pct_start: float, div_factor: float, final_div_factor: float) -> None:
    if not 0.0 < pct_start < 1.0:
        raise InputError(f"pct_start is {pct_start}: expected a fraction between 0 and 1")
    if not (div_factor > 0 and final_div_factor > 0):
        raise InputError(f"div_factor is {div_factor} and final_div_factor {final_div_factor}: "
                         "expected positive numbers")


def one_cycle_curve(progress, max_learning_rate: float, *, pct_start: float, div_factor: float,
                    final_div_factor: float, ops=np):
    """The one-cycle formula on ``progress`` (0 = first step, 1 = end of the budget), in any array library.

    Cosine warm-up from ``max_learning_rate / div_factor`` to ``max_learning_rate`` over the first
    ``pct_start`` of the budget, then cosine annealing to
    ``max_learning_rate / (div_factor * final_div_factor)``; progress past 1 keeps the final rate.
    ``ops`` is the array namespace that does the arithmetic: NumPy for numbers, ``keras.ops`` for
    the step tensors a Keras schedule receives. Use :func:`one_cycle_rate` or :func:`one_cycle`
    rather than this.
    """
    start = max_learning_rate / div_factor
    final = start / final_div_factor
    progress = ops.clip(progress, 0.0, 1.0)
    warm = ops.clip(progress / pct_start, 0.0, 1.0)
    cool = ops.clip((progress - pct_start) / (1.0 - pct_start), 0.0, 1.0)
    rising = start + (max_learning_rate - start) * (1.0 - ops.cos(math.pi * warm)) / 2.0
    falling = final + (max_learning_rate - final) * (1.0 + ops.cos(math.pi * cool)) / 2.0
    return ops.where(progress < pct_start, rising, falling)
