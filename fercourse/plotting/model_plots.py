"""Plots of trained models: training curves, confusion matrix, per-class metrics, importances, ROC,
mistakes, the spread of a score over seeds, learning-rate schedules."""

from __future__ import annotations

from typing import Mapping

import numpy as np

from fercourse.data.shapes import FACE_SHAPE, IMAGE_SIZE, NUM_PIXELS
from fercourse.errors import InputError
from fercourse.labels import EMOTION_COLORS, EMOTIONS, NUM_CLASSES
from fercourse.plotting._common import _check_images, _check_labels, _mosaic, _new_axes, _show_mosaic


def _history_dict(history) -> dict[str, list[float]]:
    values = getattr(history, "history", history)
    if not isinstance(values, Mapping) or "loss" not in values:
        raise InputError("history: expected a keras History or a dict with at least a 'loss' list; got "
                         f"{type(history).__name__}")
    return {key: list(map(float, value)) for key, value in values.items()}


def plot_training_curves(history, axes=None):
    """Loss and accuracy per epoch, train against validation, side by side.

    Parameters
    ----------
    history : keras.callbacks.History or dict
        ``model.fit``'s return value or its ``.history`` dict (``loss``, ``accuracy``,
        ``val_loss``, ``val_accuracy``; missing curves are skipped).
    axes : pair of matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.figure.Figure
        The figure holding both panels; the best validation epoch is marked.
    """
    from matplotlib.ticker import MaxNLocator

    values = _history_dict(history)
    if axes is None:
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    else:
        if len(axes) != 2:
            raise InputError(f"axes: expected two Axes (loss, accuracy); got {len(axes)}")
        fig = axes[0].figure
    for ax, metric in zip(axes, ("loss", "accuracy")):
        for prefix, style in (("", "-"), ("val_", "--")):
            series = values.get(prefix + metric)
            if series:
                ax.plot(np.arange(1, len(series) + 1), series, style, marker="o", markersize=3,
                        label="validation" if prefix else "train")
        if values.get("val_loss"):
            best = int(np.argmin(values["val_loss"])) + 1
            ax.axvline(best, color="#999999", linestyle=":", linewidth=1,
                       label=f"best val loss (epoch {best})")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.set_title(metric.capitalize())
        if ax.lines:
            ax.legend()
    return fig


def plot_confusion_matrix(y_true, y_pred, normalize: bool = False, ax=None, *, title: str | None = None):
    """Confusion matrix over the seven emotions, as counts or row-normalised (recall per class).

    Parameters
    ----------
    y_true, y_pred : array of shape (n,)
        Canonical class indices.
    normalize : bool
        Divide each row by its class's size, so the diagonal is each class's recall.
    ax : matplotlib.axes.Axes, optional
    title : str, optional

    Returns
    -------
    matplotlib.axes.Axes
        The matrix of :func:`fercourse.evaluate.confusion` (rows true, columns predicted).
    """
    from fercourse.evaluate import confusion

    matrix = confusion(y_true, y_pred, normalize=normalize).to_numpy(dtype=float)
    ax = _new_axes(ax, (6.5, 5.5))
    image = ax.imshow(matrix, cmap="Blues", vmin=0, vmax=1 if normalize else max(1.0, matrix.max()))
    ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    threshold = (1 if normalize else max(1.0, matrix.max())) / 2
    for i in range(NUM_CLASSES):
        for j in range(NUM_CLASSES):
            text = f"{matrix[i, j]:.2f}" if normalize else f"{int(matrix[i, j])}"
            ax.text(j, i, text, ha="center", va="center", fontsize=8,
                    color="white" if matrix[i, j] > threshold else "black")
    ax.set_xticks(np.arange(NUM_CLASSES), EMOTIONS, rotation=45, ha="right")
    ax.set_yticks(np.arange(NUM_CLASSES), EMOTIONS)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title or ("Confusion matrix (row-normalised: recall on the diagonal)" if normalize
                           else "Confusion matrix (counts)"))
    return ax


def plot_per_class_metrics(y_true, y_pred=None, ax=None):
    """Precision, recall and F1 per emotion as grouped bars.

    Parameters
    ----------
    y_true : array of shape (n,), or an ``evaluate()`` result, or a per-class DataFrame
        Either labels (then ``y_pred`` is required and :func:`fercourse.evaluate.evaluate`
        scores them) or a table with columns ``precision``, ``recall``, ``f1`` indexed by
        emotion (``evaluate(...)["per_class"]``), or anything holding one under ``"per_class"``.
    y_pred : array of shape (n,), optional
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    if isinstance(y_true, Mapping) and "per_class" in y_true:
        table = y_true["per_class"]
    elif hasattr(y_true, "columns"):
        table = y_true
    else:
        from fercourse.evaluate import evaluate

        if y_pred is None:
            raise InputError("y_pred: needed when y_true is an array of labels")
        table = evaluate(y_true, y_pred, split="plotted labels")["per_class"]
    missing = {"precision", "recall", "f1"} - set(table.columns)
    if missing:
        raise InputError(f"per-class table: missing column(s) {sorted(missing)}; "
                         "expected precision, recall, f1")
    names = [str(name) for name in table.index]
    scores = {metric: np.asarray(table[metric], dtype=float) for metric in ("precision", "recall", "f1")}
    ax = _new_axes(ax, (9, 4))
    positions = np.arange(len(names))
    for k, (metric, values) in enumerate(scores.items()):
        ax.bar(positions + (k - 1) * 0.27, values, 0.27, label=metric)
    ax.set_xticks(positions, names)
    ax.set_ylim(0, 1.2)
    ax.set_yticks(np.linspace(0, 1, 6))
    ax.set_ylabel("score")
    ax.set_title("Per-class precision, recall and F1")
    ax.legend(ncol=3, loc="upper center")
    return ax


def plot_rf_importance(model, ax=None):
    """Random-forest feature importance as a heatmap on the 48x48 pixel grid.

    Parameters
    ----------
    model : fitted estimator, pipeline or array
        Anything with ``feature_importances_`` over 2304 pixels (a pipeline's last step or a
        wrapper's fitted ``estimator_`` counts), or the 2304 importances themselves.
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    estimator = model
    while not hasattr(estimator, "feature_importances_"):  # unwrap pipelines and subsampling wrappers
        inner = (estimator.steps[-1][1] if hasattr(estimator, "steps")
                 else getattr(estimator, "estimator_", None))
        if inner is None:
            break
        estimator = inner
    importances = np.asarray(getattr(estimator, "feature_importances_", estimator), dtype=float)
    if importances.size != NUM_PIXELS:
        raise InputError(f"model: expected a fitted random forest on {NUM_PIXELS} flat pixels "
                         f"(no PCA step) or {NUM_PIXELS} importances; got {importances.size} values")
    ax = _new_axes(ax, (5, 4.5))
    image = ax.imshow(importances.reshape(FACE_SHAPE), cmap="hot", interpolation="nearest")
    ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="importance")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title("Which pixels the forest splits on")
    return ax


def plot_roc_curves(y_true, proba, ax=None):
    """One-vs-rest ROC curve per emotion, with its AUC in the legend.

    Parameters
    ----------
    y_true : array of shape (n,)
    proba : array of shape (n, 7)
        Predicted class probabilities (``predict_proba``).
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    from sklearn.metrics import auc, roc_curve

    y_true = _check_labels(y_true, len(np.asarray(y_true)), "y_true")
    proba = np.asarray(proba, dtype=float)
    if proba.shape != (len(y_true), NUM_CLASSES):
        raise InputError(f"proba: expected shape ({len(y_true)}, {NUM_CLASSES}); got {proba.shape}")
    ax = _new_axes(ax, (6, 5.5))
    for c, name in enumerate(EMOTIONS):
        positives = y_true == c
        if positives.all() or not positives.any():
            continue  # a curve needs both positives and negatives
        fpr, tpr, _ = roc_curve(positives, proba[:, c])
        ax.plot(fpr, tpr, color=EMOTION_COLORS[c], label=f"{name} (AUC {auc(fpr, tpr):.2f})")
    ax.plot([0, 1], [0, 1], ":", color="#999999", label="chance")
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.set_title("One-vs-rest ROC curves")
    ax.legend(loc="lower right", fontsize=8)
    return ax


def plot_misclassified(images, y_true, y_pred, n: int = 16, ax=None, *, proba=None, columns: int = 8,
                       seed: int = 0):
    """A gallery of misclassified images, each captioned ``true -> predicted``.

    Parameters
    ----------
    images : array of shape (n, 48, 48)
    y_true, y_pred : array of shape (n,)
    n : int
        How many mistakes to show (fewer when there are fewer).
    ax : matplotlib.axes.Axes, optional
    proba : array of shape (n, 7), optional
        When given, the most confident mistakes are shown (with the confidence).
    columns : int
    seed : int
        Which mistakes are shown when ``proba`` is not given.

    Returns
    -------
    matplotlib.axes.Axes
    """
    images = _check_images(images)
    y_true = _check_labels(y_true, len(images), "y_true")
    y_pred = _check_labels(y_pred, len(images), "y_pred")
    wrong = np.flatnonzero(y_true != y_pred)
    if proba is not None:
        proba = np.asarray(proba, dtype=float)
        wrong = wrong[np.argsort(-proba[wrong, y_pred[wrong]])][:n]
    else:
        wrong = np.sort(np.random.default_rng(seed).permutation(wrong)[:n])
    columns = max(1, min(columns, len(wrong)))
    ax = _new_axes(ax, (columns * 1.2, max(1, -(-len(wrong) // columns)) * 1.45 + 0.3))
    if not len(wrong):
        ax.text(0.5, 0.5, "no misclassified images", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return ax
    pad = 14  # room for a caption under each face
    _show_mosaic(ax, _mosaic([images[i].astype(float) for i in wrong], columns, pad=pad))
    for k, i in enumerate(wrong):
        r, c = divmod(k, columns)
        caption = f"{EMOTIONS[y_true[i]][:4]}>{EMOTIONS[y_pred[i]][:4]}"
        if proba is not None:
            caption += f" {proba[i, y_pred[i]]:.0%}"
        step = IMAGE_SIZE + pad
        ax.text(c * step + IMAGE_SIZE // 2, r * step + IMAGE_SIZE + 1, caption, ha="center", va="top",
                fontsize=6.5)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(f"Misclassified: true>predicted ({len(wrong)} of {int((y_true != y_pred).sum())} mistakes)")
    return ax


def plot_seed_spread(results, metric: str, *, by: str = "setting", ax=None):
    """Mean and standard deviation of ``metric`` per setting over several seeds, each seed as a dot.

    Parameters
    ----------
    results : pandas.DataFrame
        One row per run, with a column ``by`` (the setting, e.g. ``"l2"``) and a column ``metric``.
        The settings are drawn in the order they first appear.
    metric : str
        The column to plot, e.g. ``"val macro-F1"``.
    by : str
        The column naming the setting.
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        Bars at the mean with error bars of one standard deviation (``ddof=1``; none for a single run).

    Examples
    --------
    >>> import pandas as pd
    >>> runs = pd.DataFrame({"setting": ["none", "none", "l2", "l2"], "score": [0.3, 0.4, 0.5, 0.5]})
    >>> ax = plot_seed_spread(runs, "score")
    >>> [label.get_text() for label in ax.get_xticklabels()], ax.get_ylabel()
    (['none', 'l2'], 'score')
    """
    missing = [column for column in (by, metric) if column not in getattr(results, "columns", ())]
    if missing:
        raise InputError(f"results: expected a table with columns {by!r} and {metric!r}; missing "
                         f"{', '.join(map(repr, missing))}")
    settings = list(dict.fromkeys(results[by]))
    grouped = results.groupby(by, sort=False)[metric]
    means, stds, counts = grouped.mean()[settings], grouped.std(ddof=1)[settings], grouped.size()[settings]
    ax = _new_axes(ax)
    positions = np.arange(len(settings))
    ax.bar(positions, means, yerr=stds.fillna(0.0), capsize=6, color="#9ecae1", edgecolor="#3182bd",
           label="mean ± std")
    for position, setting in zip(positions, settings):
        values = results.loc[results[by] == setting, metric].to_numpy()
        ax.plot(np.full(len(values), position), values, "o", color="#08519c", markersize=4,
                label="one seed" if position == 0 else None)
    ax.set_xticks(positions, settings)
    ax.set_xlabel(by)
    ax.set_ylabel(metric)
    ax.set_title(f"{metric} over {int(counts.min())}-{int(counts.max())} seeds per {by}"
                 if counts.min() != counts.max() else f"{metric} over {int(counts.min())} seeds per {by}")
    ax.legend()
    return ax


def plot_experiment_runs(runs, metrics=("test accuracy", "val accuracy"), *, arms=None, labels=None,
                         ax=None):
    """Each arm's runs as dots and their mean +- standard deviation, arm after arm, for a few metrics.

    Made for a ladder of arms (each one the previous plus one change): the means are joined by a line,
    so a step up or down reads at a glance against the seeds' spread. The y axis is zoomed to the
    values (unlike :func:`plot_seed_spread`'s bars from zero), so differences of a point show.

    Parameters
    ----------
    runs : pandas.DataFrame
        One row per run, with a column ``arm`` and one per metric
        (:func:`fercourse.course.model_table.experiment_runs` gives one).
    metrics : sequence of str
        The columns to draw, each in its own colour; a run without a value (NaN) is left out.
    arms : sequence of str, optional
        The arms along the x axis, in order; an arm without runs keeps its place, labelled
        "not run yet". Default: the arms of ``runs`` in order of appearance.
    labels : Mapping, optional
        Tick labels per arm (default: the arm's name).
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import pandas as pd
    >>> runs = pd.DataFrame({"arm": ["a", "a", "b"], "test accuracy": [0.60, 0.62, 0.64],
    ...                      "val accuracy": [0.61, 0.63, 0.66]})
    >>> ax = plot_experiment_runs(runs, arms=["a", "b", "c"])
    >>> [label.get_text() for label in ax.get_xticklabels()]
    ['a', 'b', 'c\\n(not run yet)']
    """
    missing = [column for column in ("arm", *metrics) if column not in getattr(runs, "columns", ())]
    if missing:
        raise InputError(f"runs: expected a table with columns 'arm' and {', '.join(map(repr, metrics))}; "
                         f"missing {', '.join(map(repr, missing))}")
    arms = list(arms) if arms is not None else list(dict.fromkeys(runs["arm"]))
    labels = dict(labels or {})
    ax = _new_axes(ax)
    colours = ("#08519c", "#e6550d", "#31a354", "#756bb1")
    for index, metric in enumerate(metrics):
        colour, offset = colours[index % len(colours)], 0.12 * (index - (len(metrics) - 1) / 2)
        means = []
        for position, arm in enumerate(arms):
            values = runs.loc[runs["arm"] == arm, metric].dropna().to_numpy(dtype=float)
            if not len(values):
                means.append(np.nan)
                continue
            means.append(values.mean())
            ax.plot(np.full(len(values), position + offset), values, "o", color=colour, alpha=0.45,
                    markersize=4)
            spread = values.std(ddof=1) if len(values) > 1 else 0.0
            ax.errorbar(position + offset, values.mean(), yerr=spread, fmt="D", color=colour, capsize=5,
                        markersize=6)
        ax.plot(np.arange(len(arms)) + offset, means, "-", color=colour, alpha=0.6,
                label=f"{metric} (mean ± std; dots: seeds)")
    has_runs = set(runs.dropna(subset=list(metrics), how="all")["arm"])
    if not has_runs:
        ax.text(0.5, 0.5, "nothing recorded yet", transform=ax.transAxes, ha="center", va="center",
                color="0.4")
        ax.set_yticks([])
    ax.set_xticks(np.arange(len(arms)), [labels.get(arm, arm) + ("" if arm in has_runs else "\n(not run yet)")
                                         for arm in arms])
    ax.set_ylabel("accuracy" if all("accuracy" in metric for metric in metrics) else ", ".join(metrics))
    ax.grid(axis="y", alpha=0.3)
    ax.legend(loc="best", fontsize="small")
    return ax


def plot_learning_rate_schedules(schedules: Mapping, total_steps: int, ax=None, *, steps_per_epoch=None):
    """Learning rate against optimizer step for several schedules on one axis.

    Parameters
    ----------
    schedules : mapping
        Name -> a Keras ``LearningRateSchedule`` (anything callable on a step) or a constant rate.
    total_steps : int
        The steps drawn, 0 to ``total_steps``.
    ax : matplotlib.axes.Axes, optional
    steps_per_epoch : int, optional
        When given, the x axis counts epochs instead of steps.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> halved = lambda step: 1e-3 / (1 + step // 50)  # noqa: E731
    >>> ax = plot_learning_rate_schedules({"constant": 1e-3, "halved": halved}, 100)
    >>> [line.get_label() for line in ax.get_lines()], round(float(ax.get_lines()[1].get_ydata()[-1]), 6)
    (['constant', 'halved'], 0.000333)
    """
    if not isinstance(total_steps, (int, np.integer)) or total_steps < 1:
        raise InputError(f"total_steps is {total_steps!r}: expected a positive whole number of steps")
    steps = np.arange(total_steps + 1)
    ax = _new_axes(ax, (7.0, 3.8))
    x = steps / steps_per_epoch if steps_per_epoch else steps
    for name, schedule in schedules.items():
        rates = ([float(schedule(int(step))) for step in steps] if callable(schedule)
                 else np.full(len(steps), float(schedule)))
        ax.plot(x, rates, label=name)
    ax.set_xlabel("epoch" if steps_per_epoch else "optimizer step")
    ax.set_ylabel("learning rate")
    ax.set_title("Learning-rate schedules")
    ax.legend()
    return ax
