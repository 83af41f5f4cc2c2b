"""Figures of the robustness sweep (:func:`fercourse.data.perturb.robustness`): accuracy per
perturbation for several models, and one face under every perturbation.

Examples
--------
>>> import pandas as pd
>>> table = pd.DataFrame({"perturbation": ["none", "shift", "shift", "flip"], "level": [0.0, 1.0, 2.0, 1.0],
...                       "accuracy": [0.6, 0.5, 0.4, 0.55]})
>>> fig = plot_robustness({"forest": table})
>>> [ax.get_title() for ax in fig.axes]
['shift (pixels)', 'flip and occluders']
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from fercourse.errors import InputError
from fercourse.plotting._common import _check_images, _mosaic, _new_axes, _tile_centres

__all__ = ["MODEL_COLORS", "plot_perturbed_faces", "plot_robustness"]

#: Line colours for up to six models (colour-blind safe, apart from the emotion colours' meaning).
MODEL_COLORS = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#a6761d")

#: Per perturbation drawn as a curve: axis label, and whether level 0 is the clean face.
_CURVES = {"shift": ("shift (pixels)", True), "rotation": ("rotation (degrees)", True),
           "brightness": ("brightness (grey levels)", True), "blur": ("blur (sigma, pixels)", True),
           "jpeg": ("JPEG quality (lower: blockier)", False)}


def plot_robustness(tables: Mapping[str, "pandas.DataFrame"], *, fig=None):  # noqa: F821
    """Accuracy under each perturbation, one panel per perturbation, one colour per model.

    Parameters
    ----------
    tables : mapping of str to pandas.DataFrame
        Model name to the table :func:`fercourse.data.perturb.robustness` returned for it.
    fig : matplotlib.figure.Figure, optional
        Drawn on (its axes are created); a new figure by default.

    Returns
    -------
    matplotlib.figure.Figure
        A panel per perturbation with levels (accuracy against level; the clean accuracy as a
        dotted line, and as the point at level 0 where 0 leaves the face unchanged), then one panel
        of bars for the perturbations without levels (flip, occluders) beside the clean faces.
    """
    import matplotlib.pyplot as plt

    if not tables:
    # Over 60 lines: a 15-line docstring; the body lays out one panel per perturbation.
        raise InputError("tables: expected at least one model's robustness table; got none")
    for name, table in tables.items():
        missing = {"perturbation", "level", "accuracy"} - set(getattr(table, "columns", ()))
        if missing:
            raise InputError(f"tables[{name!r}]: missing columns {sorted(missing)} (expected the "
                             "table fercourse.data.perturb.robustness returns)")
    present = list(dict.fromkeys(p for table in tables.values() for p in table["perturbation"]))
    curves = [p for p in _CURVES if p in present]
    bars = [p for p in present if p != "none" and p not in _CURVES]
    panels = len(curves) + bool(bars)
    columns = min(3, panels)
    rows = -(-panels // columns)
    fig = fig if fig is not None else plt.figure(figsize=(4.2 * columns, 3.3 * rows))
    axes = fig.subplots(rows, columns, squeeze=False).ravel()
    for ax in axes[panels:]:
        ax.remove()
    for ax, perturbation in zip(axes, curves):
        label, zero_is_clean = _CURVES[perturbation]
        for color, (model, table) in zip(MODEL_COLORS, tables.items()):
            clean = float(table.loc[table["perturbation"] == "none", "accuracy"].iloc[0])
            rows_ = table[table["perturbation"] == perturbation].sort_values("level")
            levels, accuracy = rows_["level"].to_numpy(), rows_["accuracy"].to_numpy()
            if zero_is_clean:
                order = np.argsort(np.append(levels, 0.0), kind="stable")
                levels, accuracy = np.append(levels, 0.0)[order], np.append(accuracy, clean)[order]
            ax.plot(levels, accuracy, "o-", color=color, label=model, markersize=4)
            ax.axhline(clean, color=color, linestyle=":", linewidth=1)
        if perturbation == "jpeg":
            ax.invert_xaxis()
        ax.set_title(label)
        ax.set_ylabel("accuracy")
    if bars:
        ax = axes[len(curves)]
        names = ["none", *bars]
        width = 0.8 / len(tables)
        for index, (color, (model, table)) in enumerate(zip(MODEL_COLORS, tables.items())):
            values = [float(table.loc[table["perturbation"] == name, "accuracy"].iloc[0]) for name in names]
            ax.bar(np.arange(len(names)) + (index - (len(tables) - 1) / 2) * width, values, width,
                   color=color, label=model)
        ax.set_xticks(np.arange(len(names)), ["clean" if name == "none" else name for name in names])
        ax.set_title("flip and occluders")
        ax.set_ylabel("accuracy")
    top = max(float(table["accuracy"].max()) for table in tables.values())
    for ax in axes[:panels]:
        ax.set_ylim(0, min(1.0, top + 0.1))
    axes[0].legend(loc="lower left", fontsize=9)
    fig.tight_layout()
    return fig


def plot_perturbed_faces(face, perturbed: Sequence[tuple[str, np.ndarray]], *, ax=None):
    """One face as it is and under each perturbation, side by side, each named below.

    Parameters
    ----------
    face : array of shape (48, 48)
        The clean face.
    perturbed : sequence of (str, array of shape (48, 48))
        Name and perturbed copy, in the order to draw them.
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> face = np.zeros((48, 48), dtype=np.uint8)
    >>> ax = plot_perturbed_faces(face, [("flip", face[:, ::-1])])
    >>> [label.get_text() for label in ax.get_xticklabels()]
    ['clean', 'flip']
    """
    tiles = _check_images(np.stack([np.asarray(face), *[np.asarray(view) for _, view in perturbed]]))
    names = ["clean", *[name for name, _ in perturbed]]
    pad = 2
    ax = _new_axes(ax, figsize=(1.1 * len(names), 1.6))
    ax.imshow(_mosaic(list(tiles.astype(float)), columns=len(names), pad=pad), cmap="gray", vmin=0, vmax=255)
    ax.set_xticks(_tile_centres(len(names), pad), names, rotation=30, fontsize=9)
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)
    return ax
