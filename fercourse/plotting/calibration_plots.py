"""Figures of calibration (:mod:`fercourse.models.calibration`): the reliability diagram and the
coverage-accuracy curve.

Examples
--------
>>> rng = np.random.default_rng(0)
>>> probabilities = rng.dirichlet(np.ones(7), size=200)
>>> labels = rng.integers(0, 7, 200)
>>> ax = plot_reliability({"random": (probabilities, labels)})
>>> ax.get_xlabel(), ax.get_ylabel()
('confidence (top probability)', 'accuracy')
>>> ax = plot_coverage_accuracy({"random": (probabilities, labels)}, threshold=0.4)
>>> ax.get_xlabel()
'coverage (share of faces answered)'
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np  # noqa: F401 - the Examples use it

from fercourse.errors import InputError
from fercourse.plotting._common import _new_axes
from fercourse.plotting.robustness_plots import MODEL_COLORS

__all__ = ["plot_coverage_accuracy", "plot_reliability"]


def _checked_models(models: Mapping) -> Mapping:
    if not isinstance(models, Mapping) or not models:
        raise InputError("models: expected a mapping of a name to (probabilities, labels), at least one")
    for name, pair in models.items():
        if not isinstance(pair, tuple) or len(pair) != 2:
            raise InputError(f"models[{name!r}]: expected a (probabilities, labels) pair")
    return models


def plot_reliability(models: Mapping, *, num_bins: int | None = None, ax=None):
    """Reliability diagram: accuracy against confidence per bin, one line per model.

    A calibrated model lies on the diagonal; below it is over-confident (sure, and wrong more
    often than its confidence says), above it under-confident. Each legend entry gives the model's
    expected calibration error; the grey bars at the bottom show how many faces fall in each bin
    (for the first model, as a share of its faces).

    Parameters
    ----------
    models : mapping of str to (probabilities, labels)
        Name to its ``(n, 7)`` probabilities and ``(n,)`` true labels.
    num_bins : int, optional
        Bins (default :data:`fercourse.models.calibration.NUM_BINS`).
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    from fercourse.models.calibration import NUM_BINS, expected_calibration_error, reliability_table

    num_bins = NUM_BINS if num_bins is None else num_bins
    ax = _new_axes(ax, figsize=(4.8, 4.5))
    ax.plot([0, 1], [0, 1], linestyle=":", color="black", linewidth=1, label="calibrated")
    for number, (name, (probabilities, labels)) in enumerate(_checked_models(models).items()):
        table = reliability_table(probabilities, labels, num_bins=num_bins)
        ece = expected_calibration_error(probabilities, labels, num_bins=num_bins)
        filled = table[table["count"] > 0]
        color = MODEL_COLORS[number % len(MODEL_COLORS)]
        ax.plot(filled["confidence"], filled["accuracy"], marker="o", color=color,
                label=f"{name} (ECE {ece:.3f})")
        if number == 0:
            share = table["count"] / table["count"].sum()
            ax.bar(table["lower"], share * 0.25, width=1 / num_bins, align="edge", color="0.85", zorder=0,
                   label="faces per bin (first model)")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("confidence (top probability)")
    ax.set_ylabel("accuracy")
    ax.legend(loc="upper left", fontsize=8)
    return ax


def plot_coverage_accuracy(models: Mapping, *, threshold: float | None = None, ax=None):
    """Accuracy on the faces a model is most sure of, against the share of faces it answers.

    Parameters
    ----------
    models : mapping of str to (probabilities, labels)
        Name to its ``(n, 7)`` probabilities and ``(n,)`` true labels.
    threshold : float, optional
        A confidence threshold to mark on the first model's curve (the "uncertain" threshold).
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    from fercourse.models.calibration import coverage_accuracy

    ax = _new_axes(ax, figsize=(5.5, 4.0))
    for number, (name, (probabilities, labels)) in enumerate(_checked_models(models).items()):
        curve = coverage_accuracy(probabilities, labels)
        color = MODEL_COLORS[number % len(MODEL_COLORS)]
        ax.plot(curve["coverage"], curve["accuracy"], color=color, label=name)
        if number == 0 and threshold is not None:
            kept = curve[curve["threshold"] >= threshold]
            if len(kept):
                point = kept.iloc[-1]
                ax.scatter([point["coverage"]], [point["accuracy"]], s=70, color="black", zorder=3,
                           label=f"threshold {threshold:.2f}: {point['coverage']:.0%} answered")
    ax.set_xlim(0, 1.02)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("coverage (share of faces answered)")
    ax.set_ylabel("accuracy on the faces answered")
    ax.legend(loc="lower left", fontsize=8)
    ax.grid(alpha=0.3)
    return ax
