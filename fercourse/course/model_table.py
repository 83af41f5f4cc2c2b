"""The Results page's comparison of every model: one table, the experiments' summaries, a frontier figure.

Everything here is generated from ``results/fer2013.json`` at each book build:

- :func:`model_rows`: one row per model measured on FER2013's PublicTest (the zoo's models, every arm of
  the recorded experiments as mean +- standard deviation over its seeds, the shipped model), with test
  accuracy, macro-F1, disgust recall, the accuracy without the test faces also in Training,
  parameters and training minutes;
- :func:`experiment_summary`: per experiment, each arm's validation and test accuracy and its
  train-validation gap over the recorded seeds;
- :func:`experiment_runs`: one experiment's recorded pieces as a table, one row per arm and seed, which
  :func:`arm_steps` and :func:`steps_reading` read for a ladder's section;
- :func:`plot_frontier`: test accuracy against training minutes (what to train with ten minutes or
  an hour of a laptop's CPU);
- :data:`ANCHORS`: published figures to read ours against, each with its split and source.

Examples
--------
>>> mean_std([0.5, 0.6])
(0.55, 0.0707)
>>> _accuracy_cell([0.61, 0.63, 0.62])
'0.620 +- 0.010 (3 seeds)'
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

__all__ = ["ANCHORS", "arm_steps", "budget_reading", "experiment_runs", "experiment_summary", "frontier",
           "mean_std", "model_rows", "models_fragment", "plot_frontier", "render_anchors", "render_models",
           "steps_reading"]

#: Published FER2013 figures, with the split each was measured on and its reference (book/references.bib).
ANCHORS = (
    ("Human accuracy (estimate)", "65 +- 5 %", "a sample of the images, labelled again by people",
     "goodfellow2013challenges"),
    ("2013 challenge winner (CNN with an SVM loss)", "71.2 %", "PrivateTest", "tang2013deep"),
    ("A strong single network (VGG-style, tuned)", "about 73 %", "the paper's test split",
     "khaireddin2021facial"),
    ("An ensemble of eight CNNs", "75.2 %", "PrivateTest", "pramerdorfer2016facial"),
)


def mean_std(values: list[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (0 for one value), rounded to 4 places."""
    array = np.asarray(values, dtype=float)
    spread = float(array.std(ddof=1)) if len(array) > 1 else 0.0
    return round(float(array.mean()), 4), round(spread, 4)


def _accuracy_cell(values: list[float], seeds: bool = True) -> str:
    """Mean +- standard deviation over the seeds (with their count unless ``seeds`` is False)."""
    if not values:
        return "-"
    mean, spread = mean_std(values)
    count = f" ({len(values)} seed{'s' if len(values) > 1 else ''})" if seeds else ""
    return f"{mean:.3f}{count}" if len(values) == 1 else f"{mean:.3f} +- {spread:.3f}{count}"


def _arms(entries: dict) -> dict[tuple[str, str], list[dict]]:
    """Recorded experiment pieces grouped by (experiment, arm), in the order they were recorded."""
    arms: dict[tuple[str, str], list[dict]] = {}
    for entry in entries.values():
        if entry["kind"] == "experiment":
            arms.setdefault((entry["experiment"], entry["arm"]), []).append(entry)
    return arms


def _values(pieces: list[dict], name: str) -> list[float]:
    return [piece["values"][name] for piece in pieces if piece["values"].get(name) is not None]


def _arm_definition(experiment: str, arm: str):
    """The experiment's current definition of ``arm`` (an :class:`Arm`), None once it is not defined."""
    from fercourse.course.experiments import EXPERIMENTS

    definition = EXPERIMENTS.get(experiment)
    return next((one for one in definition.arms if one.name == arm), None) if definition else None


def _arm_title(experiment: str, arm: str, pieces: list[dict]) -> str:
    """An arm's title: the experiment's definition of it, else the recorded title less the experiment's."""
    from fercourse.course.experiments import EXPERIMENTS

    found = _arm_definition(experiment, arm)
    if found is not None:
        return found.title
    definition = EXPERIMENTS.get(experiment)
    recorded = pieces[0]["title"]
    prefix = f"{definition.title}: " if definition else None
    return recorded[len(prefix):] if prefix and recorded.startswith(prefix) else recorded.split(": ", 1)[-1]


def _arm_names(experiment: str, arm: str, pieces: list[dict]) -> tuple[str, str]:
    """The table's name and the figure's label of a recorded arm, from the experiment's current
    definition (the recorded title when the arm is no longer defined)."""
    found = _arm_definition(experiment, arm)
    if found is None:
        recorded = _arm_title(experiment, arm, pieces)
        return recorded, recorded
    if experiment == "zoo":
        return found.title, found.short or found.title
    budget = pieces[0].get("budget", {}).get("epochs")
    most = "at most " if found.network is not None else ""  # early-stopped: the budget is a cap
    # a ladder rung's title is what it adds ("+ label smoothing 0.1"): name the ladder it stands on
    named = found.title
    named = f"{experiment.capitalize()}: {named}" if named.startswith("+") else named
    title = f"{named} (experiment {experiment}" + (f", {most}{budget} epochs)" if budget else ")")
    return title, found.short or found.title


#: The frontier figure's labels of the recorded models (``model/...`` keys); others use their title.
MODEL_SHORT = {"model/shipped": "shipped", "model/shipped-shift-tta": "shipped + TTA",
               "model/reference-seed0": "reference, seed 0", "model/reference-seed0-shift-tta":
               "reference, seed 0 + TTA"}


def model_rows(entries: dict) -> list[dict]:
    """One row per model measured on PublicTest (see the module docstring), best test accuracy first."""
    rows = []
    for (experiment, arm), pieces in _arms(entries).items():
        test = _values(pieces, "test_accuracy")
        if not test:
            continue
        title, short = _arm_names(experiment, arm, pieces)
        minutes = _values(pieces, "train_minutes")
        parameters = _values(pieces, "parameters")
        rows.append({"model": title, "short": short, "source": f"experiment {experiment}",
                     "test_accuracy": mean_std(test)[0],
                     "accuracy": _accuracy_cell(test, seeds=False), "seeds": len(test),
                     "macro_f1": mean_std(_values(pieces, "test_macro_f1"))[0],
                     "disgust_recall": mean_std(_values(pieces, "test_disgust_recall"))[0],
                     "unseen": mean_std(_values(pieces, "test_accuracy_unseen"))[0],
                     "parameters": int(parameters[0]) if parameters else None,
                     "minutes": mean_std(minutes)[0] if minutes else None})
    models = {key: entry for key, entry in entries.items()
              if entry["kind"] == "model" and entry.get("split", "test") == "test"}
    for key, entry in models.items():
        metrics = entry["metrics"]
        if not metrics.get("left_out"):
            # the same model and TTA scored without the faces also in Training: "KEY-dedup" by convention
            unseen = models.get(f"{key}-dedup", {}).get("metrics", {}).get("accuracy")
            rows.append({"model": entry["title"], "short": MODEL_SHORT.get(key, entry["title"][:24]),
                         "source": key, "test_accuracy": metrics["accuracy"],
                         "accuracy": f"{metrics['accuracy']:.3f}", "seeds": None,
                         "macro_f1": metrics.get("macro_f1"),
                         "disgust_recall": metrics.get("per_class_recall", {}).get("disgust"),
                         "unseen": unseen, "parameters": entry.get("parameters"),
                         "minutes": entry.get("train_minutes")})
    return sorted(rows, key=lambda row: -row["test_accuracy"])


def _number(value, digits: int = 3) -> str:
    if value is None:
        return "-"
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:.{digits}f}"


def _budget_words(experiment: str, first: dict) -> str:
    from fercourse.course.experiments import EXPERIMENTS

    epochs = first["budget"]["epochs"]
    definition = EXPERIMENTS.get(experiment)
    if definition and any(arm.network is not None for arm in definition.arms):
        return f"at most {epochs} epochs per run, stopped early when validation loss stalls"
    return f"{epochs} epochs per run"


def experiment_summary(entries: dict, folder: str | os.PathLike | None = None) -> str:
    """Markdown: per experiment, the claim it tests, then each arm's validation and test scores, gap
    and training minutes over its seeds. A ladder (``Experiment.steps``) also gets its figure
    (:func:`fercourse.plotting.plot_experiment_runs`, drawn into ``folder`` as ``_NAME.png``; none
    without a folder) and :func:`steps_reading` of its test accuracy."""
    from fercourse.course.experiments import EXPERIMENTS

    by_experiment: dict[str, list] = {}
    for (experiment, arm), pieces in _arms(entries).items():
        by_experiment.setdefault(experiment, []).append((arm, pieces))
    for experiment, arms in by_experiment.items():  # the experiment's order of arms, not the recording's
        order = [arm.name for arm in EXPERIMENTS[experiment].arms] if experiment in EXPERIMENTS else []
        arms.sort(key=lambda item: order.index(item[0]) if item[0] in order else len(order))
    parts = []
    for experiment, arms in by_experiment.items():
        if experiment == "zoo":
            continue
        first = arms[0][1][0]
        command = first["command"].split(" --arms")[0]
        dates = sorted({piece["measured"] for _, pieces in arms for piece in pieces})
        claim = EXPERIMENTS[experiment].claim if experiment in EXPERIMENTS else None
        parts += [f"### {first['title'].split(':')[0]}", ""]
        parts += [f"What it tests: {claim}.", ""] if claim else []
        parts += [f"Budget: {_budget_words(experiment, first)}; measured "
                  f"{dates[0] if len(dates) == 1 else f'{dates[0]} to {dates[-1]}'} on `{first['data']}` "
                  f"(`{command} ...`).", "",
                  "| arm | validation accuracy | validation macro-F1 | test accuracy "
                  "| train - validation gap | training minutes per run |", "|---|---|---|---|---|---|"]
        for arm_name, pieces in arms:
            gap = _values(pieces, "gap")
            title = _arm_title(experiment, arm_name, pieces)
            minutes = ", ".join(f"{value:.1f}" for value in _values(pieces, "train_minutes")) or "-"
            parts.append(f"| {title} | {_accuracy_cell(_values(pieces, 'val_accuracy'))} "
                         f"| {_accuracy_cell(_values(pieces, 'val_macro_f1'))} "
                         f"| {_accuracy_cell(_values(pieces, 'test_accuracy'))} "
                         f"| {_number(mean_std(gap)[0]) if gap else '-'} | {minutes} |")
        parts.append("")
        if experiment in EXPERIMENTS and EXPERIMENTS[experiment].steps:
            parts += _steps_section(entries, EXPERIMENTS[experiment], folder)
    return "\n".join(parts)


def _steps_section(entries: dict, experiment, folder: str | os.PathLike | None) -> list[str]:
    """A ladder's figure (when ``folder`` is given) and the reading of its steps, as Markdown lines."""
    runs = experiment_runs(entries, experiment.name)
    labels = {arm.name: (arm.short or arm.title).split(": ", 1)[-1] for arm in experiment.arms}
    parts = []
    if folder is not None:
        import matplotlib

        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt

        from fercourse.plotting import plot_experiment_runs

        fig, ax = plt.subplots(figsize=(11, 4))
        plot_experiment_runs(runs, arms=[arm.name for arm in experiment.arms], labels=labels, ax=ax)
        ax.set_title(f"{experiment.title.split(':')[0]} on FER2013: every recorded run, arm after arm")
        fig.savefig(Path(folder) / f"_{experiment.name}.png", dpi=110, bbox_inches="tight")
        plt.close(fig)
        parts += [f"![{experiment.title}: test and validation accuracy of every recorded run, arm after "
                  f"arm](_{experiment.name}.png)", ""]
    steps = arm_steps(runs, arms=[arm.name for arm in experiment.arms])
    return parts + [f"Reading the test accuracy: {steps_reading(steps, labels)}", ""]


#: :func:`experiment_runs`'s columns after ``arm``, ``title`` and ``seed``: (column, recorded value).
RUN_COLUMNS = (("val accuracy", "val_accuracy"), ("test accuracy", "test_accuracy"),
               ("train - val gap", "gap"), ("epochs run", "epochs_run"), ("best epoch", "best_epoch"),
               ("training minutes", "train_minutes"))


def experiment_runs(entries: dict, experiment: str):
    """One experiment's recorded pieces as a pandas DataFrame: one row per (arm, seed), arms in the
    experiment's order (the ensemble piece, over all seeds, has seed ``-1``).

    Columns ``arm``, ``title``, ``seed`` and :data:`RUN_COLUMNS` (NaN where a piece did not record
    one, e.g. the epochs of an arm that only scores another arm's models). An experiment with no
    recorded piece gives an empty table with these columns.

    Examples
    --------
    >>> runs = experiment_runs({}, "ladder")
    >>> len(runs), list(runs.columns[:4])
    (0, ['arm', 'title', 'seed', 'val accuracy'])
    """
    import pandas as pd

    from fercourse.course.experiments import get_experiment

    definition = get_experiment(experiment)
    columns = ["arm", "title", "seed", *(name for name, _ in RUN_COLUMNS)]
    rows, recorded = [], _arms(entries)
    for arm in definition.arms:
        for piece in recorded.get((experiment, arm.name), []):
            values = piece["values"]
            rows.append({"arm": arm.name, "title": arm.title,
                         "seed": -1 if piece["seed"] is None else int(piece["seed"]),
                         **{name: values.get(key, np.nan) for name, key in RUN_COLUMNS}})
    return pd.DataFrame(rows, columns=columns)


def arm_steps(runs, metric: str = "test accuracy", arms=None):
    """Per arm of :func:`experiment_runs`'s table (in its order): seeds, mean and standard deviation of
    ``metric``, and the step from the arm before it (the difference of the means, in points).

    ``arms``, the experiment's arms in order, says which arm is "before": a step is measured only
    from the arm right before in ``arms``, so an arm whose predecessor has no runs gets no step
    (NaN), not a step across several changes. Without ``arms``: from the previous recorded arm.

    Examples
    --------
    >>> import pandas as pd
    >>> runs = pd.DataFrame({"arm": ["a", "a", "b"], "seed": [0, 1, 0], "test accuracy": [0.60, 0.62, 0.64]})
    >>> arm_steps(runs).round(3).to_dict("records")
    [{'arm': 'a', 'seeds': 2, 'mean': 0.61, 'std': 0.014, 'step (points)': nan}, \
{'arm': 'b', 'seeds': 1, 'mean': 0.64, 'std': nan, 'step (points)': 3.0}]
    """
    import pandas as pd

    recorded = runs.dropna(subset=[metric])
    grouped = recorded.groupby("arm", sort=False)[metric]
    table = pd.DataFrame({"seeds": grouped.size(), "mean": grouped.mean(), "std": grouped.std(ddof=1)})
    table["step (points)"] = 100 * table["mean"].diff()
    if arms is not None:
        arms = list(arms)
        previous = {arm: arms[index - 1] if index else None for index, arm in enumerate(arms)}
        recorded = list(table.index)
        adjacent = [index > 0 and previous.get(arm) == recorded[index - 1]
                    for index, arm in enumerate(recorded)]
        table.loc[[not ok for ok in adjacent], "step (points)"] = np.nan
    return table.reset_index()


def steps_reading(steps, titles: dict | None = None) -> str:
    """One paragraph reading :func:`arm_steps`'s table: the total change, the largest steps up and
    down, and how many seeds stand behind them (so a one-seed step is not read as a finding)."""
    if steps.empty:
        return "Nothing of this experiment is recorded yet."
    titles = dict(titles or {})
    name = lambda row: titles.get(row["arm"], row["arm"])  # noqa: E731
    first, last = steps.iloc[0], steps.iloc[-1]
    seeds = sorted(set(steps["seeds"]))
    seed_words = (f"{seeds[0]} seed{'s' if seeds[0] > 1 else ''} per arm" if len(seeds) == 1
                  else f"{seeds[0]} to {seeds[-1]} seeds per arm")
    if len(steps) == 1:
        return f"Only the first arm, {name(first)}, is recorded: {first['mean']:.3f} ({seed_words})."
    moves = steps.iloc[1:].dropna(subset=["step (points)"])
    parts = [f"From {name(first)} ({first['mean']:.3f}) to {name(last)} ({last['mean']:.3f}), "
             f"{len(steps)} arms recorded with {seed_words}, the mean moved by "
             f"{100 * (last['mean'] - first['mean']):+.1f} points."]
    if not moves.empty:
        up, down = moves.loc[moves["step (points)"].idxmax()], moves.loc[moves["step (points)"].idxmin()]
        if up["step (points)"] > 0:
            parts.append(f"The largest step up was {name(up)} ({up['step (points)']:+.1f} points).")
        if down["step (points)"] < 0:
            parts.append(f"The largest step down was {name(down)} ({down['step (points)']:+.1f} points).")
    unread = len(steps) - 1 - len(moves)
    if unread:
        parts.append(f"{unread} recorded arm{'s follow' if unread > 1 else ' follows'} an arm not run yet, "
                     "so what it adds on its own is not measured.")
    spreads = steps["std"].dropna()
    if spreads.empty:
        parts.append("With one seed per arm every step is a single draw: the spread over seeds, which "
                     "decides whether a step is real, is not measured yet.")
    else:
        parts.append(f"The largest standard deviation over seeds is {100 * spreads.max():.1f} points: a "
                     "step smaller than that is not evidence either way.")
    return " ".join(parts)


def render_models(entries: dict) -> str:
    """Markdown: the all-model table ("" when nothing is recorded)."""
    rows = model_rows(entries)
    if not rows:
        return ""
    parts = ["| model | seeds | test accuracy | macro-F1 | disgust recall | without duplicates "
             "| parameters | minutes |", "|---|---|---|---|---|---|---|---|"]
    for row in rows:
        parts.append(f"| {row['model']} | {row['seeds'] or '-'} | {row['accuracy']} "
                     f"| {_number(row['macro_f1'])} | {_number(row['disgust_recall'], 2)} "
                     f"| {_number(row['unseen'])} | {_number(row['parameters'])} "
                     f"| {_number(row['minutes'], 1)} |")
    return "\n".join(parts) + "\n"


def frontier(points: list[dict]) -> list[dict]:
    """The points no other point beats with fewer or as many minutes, cheapest first."""
    best, kept = -1.0, []
    for row in sorted(points, key=lambda row: (row["minutes"], -row["test_accuracy"])):
        if row["test_accuracy"] > best:
            best = row["test_accuracy"]
            kept.append(row)
    return kept


def plot_frontier(entries: dict, path: str | os.PathLike) -> Path | None:
    """Test accuracy against training minutes, one point per model with both, the frontier (the best
    accuracy bought with at most so many minutes) as a line; None when no model has both."""
    points = [row for row in model_rows(entries) if row["minutes"]]
    if not points:
        return None
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8.5, 5.2))
    best = frontier(points)
    on_frontier = {id(row) for row in best}
    xs = [row["minutes"] for row in best]
    ax.step(xs + [max(row["minutes"] for row in points) * 1.5], [row["test_accuracy"] for row in best]
            + [best[-1]["test_accuracy"]], where="post", color="#9ecae1", zorder=1,
            label="frontier: the best accuracy within so many minutes")
    placed: list[tuple[float, float]] = []
    for row in sorted(points, key=lambda row: -row["test_accuracy"]):
        x, y = row["minutes"], row["test_accuracy"]
        ax.scatter(x, y, color="#08519c" if id(row) in on_frontier else "#969696", zorder=2, s=22)
        # labels of neighbouring points step down so they do not print over each other
        dy = 3
        while any(abs(np.log10(x) - px) < 0.35 and abs(y + dy / 400 - py) < 0.012 for px, py in placed):
            dy -= 8
        placed.append((np.log10(x), y + dy / 400))
        ax.annotate(row.get("short") or row["model"][:24], (x, y), fontsize=7.5, xytext=(5, dy),
                    textcoords="offset points", va="center")
    ax.set_xscale("log")
    ax.set_xlabel("training minutes on a 2-core CPU (log scale; wall time on a shared machine)")
    ax.set_ylabel("PublicTest accuracy")
    ax.set_title("What a CPU budget buys on FER2013")
    ax.legend(loc="lower right", fontsize=8, frameon=False)
    ax.margins(x=0.15)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def render_anchors() -> str:
    """Markdown: the published figures of :data:`ANCHORS`, each with its split and citation."""
    parts = ["| published result | accuracy | split | source |", "|---|---|---|---|"]
    parts += [f"| {name} | {accuracy} | {split} | {{cite}}`{key}` |"
              for name, accuracy, split, key in ANCHORS]
    return "\n".join(parts) + "\n"


def budget_reading(entries: dict, budgets: tuple[float, ...] = (1, 10, 60)) -> str:
    """One sentence: the best recorded model within each budget of training minutes, and the best overall.

    >>> rows = {"a": {"kind": "model", "title": "MLP", "metrics": {"accuracy": 0.43}, "train_minutes": 0.8},
    ...         "b": {"kind": "model", "title": "CNN", "metrics": {"accuracy": 0.63}, "train_minutes": 79}}
    >>> print(budget_reading(rows))  # doctest: +NORMALIZE_WHITESPACE
    Read off the frontier: within 1 minute of training, MLP, 0.430 in 0.8 min; the best recorded, CNN,
    0.630 in 79 min. These are the runs recorded so far, at the loads they ran under, not the least
    time each model needs.
    """
    points = [row for row in model_rows(entries) if row["minutes"]]
    if not points:
        return ""
    best = frontier(points)
    parts, said = [], []
    for budget in budgets:
        within = [row for row in best if row["minutes"] <= budget]
        if within and within[-1] is not best[-1] and not (said and said[-1] is within[-1]):
            row = within[-1]
            said.append(row)
            parts.append(f"within {budget:g} minute{'s' if budget != 1 else ''} of training, {row['model']}, "
                         f"{row['test_accuracy']:.3f} in {row['minutes']:.1f} min")
    top = best[-1]
    parts.append(f"the best recorded, {top['model']}, {top['test_accuracy']:.3f} in {top['minutes']:.0f} min")
    return ("Read off the frontier: " + "; ".join(parts) + ". These are the runs recorded so far, at the "
            "loads they ran under, not the least time each model needs.")


def models_fragment(entries: dict, folder: str | os.PathLike) -> str:
    """The Results page's "every model" section: the table, the frontier figure (drawn into ``folder``)
    with what each budget bought, the experiments' summaries and the published anchors."""
    table = render_models(entries)
    if not table:
        table = ("```{note}\nNo model comparison is recorded yet: `fercourse experiment run zoo --data "
                 "../shared/fer2013 --record` (and the other experiments) write it.\n```\n")
    figure = plot_frontier(entries, Path(folder) / "_frontier.png")
    shown = ("\n![PublicTest accuracy against training minutes, one point per model](_frontier.png)\n\n"
             + budget_reading(entries) + "\n" if figure else "")
    summary = experiment_summary(entries, folder)
    return (table + shown + ("\n" + summary if summary else "")
            + "\n**Published results to read these against.** Most are measured on "
            "PrivateTest, FER2013's third split, which this course keeps unused; the table above scores "
            "PublicTest, other faces of the same source, so compare them as neighbours, not as a ranking:"
            "\n\n" + render_anchors())
