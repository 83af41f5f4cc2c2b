"""Every figure the lessons show.

Rules every function here follows: it takes an optional ``ax`` (or ``axes``/``fig`` for a
multi-panel figure), draws on it, returns what it drew on, and never calls ``plt.show()``.
Nothing changes matplotlib's global style until you call :func:`use_plot_style`.
matplotlib (and TensorFlow, for :func:`plot_saliency`) is imported inside the functions,
so ``import fercourse.plotting`` stays cheap.

The plots live in these modules, all re-exported here: :mod:`~fercourse.plotting.data_plots`
(the data), :mod:`~fercourse.plotting.model_plots` (trained models),
:mod:`~fercourse.plotting.calibration_plots` (how far confidence is from accuracy) and
:mod:`~fercourse.plotting.saliency` (where a CNN looked).

Examples
--------
>>> import numpy as np
>>> from fercourse.plotting import plot_confusion_matrix
>>> ax = plot_confusion_matrix(np.array([0, 1, 3, 3]), np.array([0, 3, 3, 3]))
>>> ax.get_xlabel(), len(ax.get_xticklabels())
('predicted', 7)
"""

from __future__ import annotations

from fercourse.labels import EMOTION_COLORS
from fercourse.plotting._common import PLOT_STYLE, use_plot_style
from fercourse.plotting.calibration_plots import plot_coverage_accuracy, plot_reliability
from fercourse.plotting.data_plots import (
                                           plot_class_distribution,
                                           plot_eigenfaces,
                                           plot_mean_faces,
                                           plot_pca_variance,
                                           plot_pixel_histogram,
                                           plot_reconstructions,
                                           plot_sample_grid,
                                           reconstruct,
)
from fercourse.plotting.model_plots import (
                                           plot_confusion_matrix,
                                           plot_experiment_runs,
                                           plot_learning_rate_schedules,
                                           plot_misclassified,
                                           plot_per_class_metrics,
                                           plot_rf_importance,
                                           plot_roc_curves,
                                           plot_seed_spread,
                                           plot_training_curves,
)
from fercourse.plotting.saliency import plot_attention_rows, plot_saliency, saliency_map

__all__ = [
    "EMOTION_COLORS", "PLOT_STYLE", "use_plot_style",
    "plot_class_distribution", "plot_sample_grid", "plot_pixel_histogram", "plot_mean_faces",
    "plot_pca_variance", "plot_eigenfaces", "plot_reconstructions", "reconstruct",
    "plot_training_curves", "plot_seed_spread", "plot_experiment_runs", "plot_confusion_matrix",
    "plot_per_class_metrics", "plot_rf_importance",
    "plot_roc_curves", "plot_misclassified", "plot_learning_rate_schedules", "saliency_map", "plot_saliency",
    "plot_attention_rows", "plot_reliability", "plot_coverage_accuracy",
]
