"""The rules that turn a calibration's measurements into three tiers (:data:`TIER_RULES`).

:func:`tiers_from_runs` is today's rule (``fercourse grade calibrate``); :func:`retier` applies it again
to a recorded calibration when the rule changes; :func:`tiers_between` is the earlier single-run rule,
kept so that older records can be read and compared.
"""

from __future__ import annotations

import math

import numpy as np

from fercourse.errors import InputError

MIN_MARGIN_ROWS = 3
MARGIN_SHARE = 0.01
#: Seeds the reference runs with (its notebook's ``seed`` parameter), and the fewest allowed.
DEFAULT_SEEDS = (0, 1, 2)
MIN_SEEDS = 3
#: Spreads of the reference runs between their mean and tier 3 (:func:`reference_spread`).
SPREAD_FACTOR = 2
#: The lessons' simple baselines that tier 1 must beat (``fercourse.models.build_baseline`` names).
SIMPLE_BASELINES = ("dummy", "naive_bayes")
TIER_RULES = {
    "tier 1": "beats the simple baselines the lessons taught: the best test accuracy of lesson 1's floor "
              "(always the majority class) and lesson 2's Gaussian naive Bayes on pixels, both fitted on the "
              "released training set, plus the margin, rounded up to 3 decimals",
    "tier 2": "halfway between tier 1 and tier 3",
    "tier 3": "reachable by a correct solution on any machine: the mean test accuracy of the reference "
              f"solution over the seeds minus {SPREAD_FACTOR} spreads, rounded down to 3 decimals; the "
              "spread is the seeds' standard deviation (ddof=1) or, when larger, the standard error of an "
              "accuracy on the test rows, sqrt(p (1 - p) / n): three seeds can agree closely by chance",
}


def default_margin_rows(n_test: int) -> int:
    """The tiers' margin in test rows: 1% of them, at least 3.

    Examples
    --------
    >>> default_margin_rows(280), default_margin_rows(2000), default_margin_rows(3589)
    (3, 20, 36)
    """
    return max(MIN_MARGIN_ROWS, math.ceil(MARGIN_SHARE * n_test))


def tiers_between(dummy: float, reference: float, n_test: int, margin_rows: int) -> list[float]:
    """Three tiers between the dummy's and the reference's accuracy, ``margin_rows`` test rows inside each.

    Tier 1 is the dummy plus the margin rounded up to 3 decimals, tier 3 the reference minus the
    margin rounded down, tier 2 halfway between them.

    Raises
    ------
    InputError
        The reference beats the dummy by fewer than four margins: no room for three tiers.

    Examples
    --------
    >>> tiers_between(0.246, 0.293, 280, 3)
    [0.257, 0.269, 0.282]
    >>> tiers_between(0.246, 0.26, 280, 3)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    fercourse.errors.InputError: the reference (accuracy 0.2600) beats the dummy (0.2460) by 4 of 280 ...
    """
    margin = margin_rows / n_test
    gap = reference - dummy
    if gap < 4 * margin - 1e-9:
        raise InputError(f"the reference (accuracy {reference:.4f}) beats the dummy ({dummy:.4f}) by "
                         f"{round(gap * n_test)} of {n_test} test rows; three tiers with a margin of "
                         f"{margin_rows} rows need at least {4 * margin_rows} (reference >= dummy + 4 "
                         "margins): not writing tiers. Improve the reference solution, or calibrate on more "
                         "test rows")
    low = math.ceil(round((dummy + margin) * 1000, 6)) / 1000
    high = math.floor(round((reference - margin) * 1000, 6)) / 1000
    middle = round((low + high) / 2, 3)
    if not low < middle < high:
        raise InputError(f"tiers {low}, {middle}, {high} between the dummy ({dummy:.4f}) and the reference "
                         f"({reference:.4f}) are not increasing at 3 decimals: calibrate on more test rows")
    return [low, middle, high]


def reference_spread(accuracies: list[float], n_test: int, min_spread: float | None = None) -> float:
    """The spread tier 3 allows below the reference runs' mean (:data:`TIER_RULES`, tier 3).

    The seeds' standard deviation, or the floor when that is larger: by default the standard error of
    an accuracy on ``n_test`` rows, because three runs are too few to trust a small standard deviation
    (a3 on FER2013 measured 0.0020 over three seeds, where three earlier runs of the same notebook
    spread over 1.5 points). ``min_spread`` replaces that floor (0: the seeds' deviation alone).

    Examples
    --------
    >>> round(reference_spread([0.52, 0.55, 0.54], 3589), 4)  # the seeds' std
    0.0153
    >>> round(reference_spread([0.4341, 0.4363, 0.4324], 3589), 4)  # the floor: sqrt(p (1 - p) / n)
    0.0083
    """
    mean = float(np.mean(accuracies))
    floor = math.sqrt(mean * (1 - mean) / n_test) if min_spread is None else min_spread
    return max(float(np.std(accuracies, ddof=1)), floor)


def tiers_from_runs(baseline: float, accuracies: list[float], n_test: int, margin_rows: int,
                    min_spread: float | None = None) -> list[float]:
    """Tiers by :data:`TIER_RULES`: above the best simple baseline, below the reference runs' spread.

    Parameters
    ----------
    baseline : float
        The best test accuracy of the lessons' simple baselines.
    accuracies : list of float
        The reference solution's test accuracy for each seed (at least :data:`MIN_SEEDS`).
    min_spread : float, optional
        The floor of :func:`reference_spread` (default: the standard error on ``n_test`` rows).

    Raises
    ------
    InputError
        Fewer than three runs, or no room for three increasing tiers (the figures are named).

    Examples
    --------
    >>> tiers_from_runs(0.2464, [0.2929, 0.2821, 0.2786], 280, 3, min_spread=0)
    [0.258, 0.264, 0.269]
    >>> tiers_from_runs(0.2602, [0.4341, 0.4363, 0.4324], 3589, 36)
    [0.271, 0.344, 0.417]
    """
    if len(accuracies) < MIN_SEEDS:
        raise InputError(f"{len(accuracies)} reference run(s): expected at least {MIN_SEEDS} seeds, so that "
                         "the top tier can allow for the spread between runs")
    mean, spread = float(np.mean(accuracies)), reference_spread(accuracies, n_test, min_spread)
    low = math.ceil(round((baseline + margin_rows / n_test) * 1000, 6)) / 1000
    high = math.floor(round((mean - SPREAD_FACTOR * spread) * 1000, 6)) / 1000
    middle = round((low + high) / 2, 3)
    if not low < middle < high:
        raise InputError(f"the reference runs (mean {mean:.4f}, spread {spread:.4f} over {len(accuracies)} "
                         f"seeds: tier 3 would be {high}) leave no room above the simple baselines (best "
                         f"{baseline:.4f}, tier 1 {low} with a margin of {margin_rows} of {n_test} test "
                         "rows): not writing tiers. Improve the reference solution, or calibrate on more "
                         "test rows (the standard error of an accuracy on them is the spread's floor)")
    return [low, middle, high]


def tier_rules(min_spread: float | None = None) -> dict[str, str]:
    """:data:`TIER_RULES` as a record states them: tier 3 names the floor when one was set."""
    if min_spread is None:
        return TIER_RULES
    return {**TIER_RULES, "tier 3": f"{TIER_RULES['tier 3']}; floor set to {min_spread}"}


def retier(record: dict) -> list[float]:
    """Apply today's :data:`TIER_RULES` to what a ``grade calibrate`` record measured; update the record.

    For when the rules change: the reference runs need not be trained again. Returns the new tiers.

    Raises
    ------
    InputError
        The record is not ``grade calibrate``'s (no per-seed accuracies or simple baselines).
    """
    missing = [name for name in ("reference_accuracies", "baselines", "n_test", "margin_rows")
               if not record.get(name)]
    if missing:
        raise InputError(f"the calibration record has no {', '.join(missing)}: it was not written by "
                         "`fercourse grade calibrate` (run that instead)")
    accuracies = [float(value) for value in record["reference_accuracies"]]
    baseline = max(float(value) for value in record["baselines"].values())
    floor = record.get("min_spread")
    tiers = tiers_from_runs(baseline, accuracies, int(record["n_test"]), int(record["margin_rows"]), floor)
    spread = reference_spread(accuracies, int(record["n_test"]), floor)
    record.update(tiers=tiers, reference_spread=round(spread, 4), rules=tier_rules(floor))
    return tiers
