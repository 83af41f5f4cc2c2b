"""``fercourse bench recipes``: train ``seed_cnn`` and ``reference`` under one budget, score both on test
once.

One run, one machine, one budget, the same data and validation split for both recipes: the
printed difference is the reference recipe's gain over what the seed courses teach. Training
selects epochs on validation only; each model meets the test split once, at the end, with the
recipe's own evaluation setting (flip-and-shift TTA for ``reference``; its no-TTA score is shown beside it
so the TTA share of the gain is visible).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from fercourse.errors import InputError

DEFAULT_RECIPES = ("seed_cnn", "reference")


def bench_recipes(source, *, out: str | os.PathLike, minutes: float | None = None, epochs: int | None = None,
                  seed: int = 0, quick: bool = False, names: tuple[str, ...] = DEFAULT_RECIPES,
                  resume: bool = False, verbose: int = 2) -> dict:
    # Over 60 lines: a 30-line docstring, then one row per recipe in a single loop.
    """Train each recipe in ``names`` under the same budget and score it on the test split.

    Parameters
    ----------
    source : Dataset or str
        The data (a :class:`fercourse.data.Dataset` or a source for :func:`fercourse.data.load`);
        its ``test`` split must be labelled.
    out : path-like
        Folder for the models, their training records (``<recipe>.keras``, ``<recipe>.json``) and
        the result (``bench.json``).
    minutes, epochs : optional
        The shared budget; at least one is required.
    seed : int
        The same seed for every recipe.
    quick : bool
        The recipes' quick settings (smoke runs).
    names : tuple of str
        Recipes to compare; the first is the baseline of the difference.
    resume : bool
        Continue each recipe from its checkpoint in ``out`` (see
        :func:`fercourse.training.recipes.train_recipe`):
        a recipe that already used its budget there is scored without training again.
    verbose : int
        Passed to :func:`fercourse.training.recipes.train_recipe`.

    Returns
    -------
    dict
        ``rows`` (one dict per recipe: recipe, budget, epochs_run, train_minutes,
        best_val_accuracy, test_accuracy, test_accuracy_no_tta, macro_f1, disgust_recall, tta,
        precision, stopped_by), ``difference`` (last minus first test accuracy), ``machine``,
        ``versions`` and ``data``.
    """
    from fercourse.data import load
    from fercourse.models.scoring import evaluate_saved
    from fercourse.provenance import library_versions, machine_info
    from fercourse.training.recipes import get_recipe, train_recipe

    if minutes is None and epochs is None:
        raise InputError("bench recipes needs a budget: pass minutes, epochs or both")
    if len(names) < 2:
        raise InputError(f"names is {names!r}: expected at least two recipes to compare")
    recipes = [get_recipe(name) for name in names]
    dataset = load(source) if isinstance(source, (str, os.PathLike)) else source
    if "test" not in dataset or dataset.test.labels is None:
        raise InputError(f"{dataset.source}: bench recipes needs a labelled test split")
    out = Path(out)
    machine = machine_info()
    rows = []
    for recipe in recipes:
        record = train_recipe(recipe.name, dataset, out / f"{recipe.name}.keras", epochs=epochs,
                              minutes=minutes, seed=seed, quick=quick, resume=resume, verbose=verbose)
        scored = evaluate_saved(record.model_path, dataset, split="test", tta=recipe.tta)
        plain = evaluate_saved(record.model_path, dataset, split="test", tta=None) if recipe.tta else scored
        rows.append({"recipe": recipe.name, "budget": record.budget, "epochs_run": record.epochs_run,
                     "stopped_by": record.stopped_by, "train_minutes": round(record.train_seconds / 60, 1),
                     "best_val_accuracy": record.best_val_accuracy,
                     "test_accuracy": round(scored["accuracy"], 4),
                     "test_accuracy_no_tta": round(plain["accuracy"], 4),
                     "macro_f1": round(scored["macro_f1"], 4),
                     "disgust_recall": round(scored["per_class_recall"]["disgust"], 4), "tta": recipe.tta,
                     "per_class_recall": {key: round(value, 4)
                                          for key, value in scored["per_class_recall"].items()},
                     "confusion": scored["confusion"],
                     "precision": record.precision, "width": record.width,
                     "load_average": [record.machine["load_average_1min"],
                                      record.machine["load_average_1min_end"]]})
        if verbose:
            print(f"{recipe.name}: test accuracy {rows[-1]['test_accuracy']:.4f}", flush=True)
    difference = round(rows[-1]["test_accuracy"] - rows[0]["test_accuracy"], 4)
    result = {"data": dataset.source, "split_sizes": record.split_sizes, "seed": seed, "quick": quick,
              "rows": rows,
              "difference": difference, "machine": {**machine, "load_average_1min_end": machine_info()[
                  "load_average_1min"]}, "versions": library_versions()}
    (out / "bench.json").write_text(json.dumps(result, indent=2) + "\n")
    return result


def format_bench(result: dict) -> str:
    """The benchmark as an aligned text table plus the difference line."""
    header = (f"{'recipe':<10} {'epochs':>6} {'train min':>9} {'val acc':>7} {'test acc':>8} {'no TTA':>7} "
              f"{'macro-F1':>8} {'disgust R':>9} {'TTA':>5} {'precision':>15}")
    budget = result["rows"][0]["budget"]  # with minutes only, each recipe keeps its own epoch cap
    budget_text = f"{budget['epochs']} epochs" if budget["minutes"] is None else f"{budget['minutes']:g} min"
    lines = [f"data {result['data']} (train {result['split_sizes']['train']}, val "
             f"{result['split_sizes']['val']}, test {result['split_sizes']['test']}), seed "
             f"{result['seed']}, budget {budget_text} per recipe",
             header, "-" * len(header)]
    for row in result["rows"]:
        lines.append(f"{row['recipe']:<10} {row['epochs_run']:>6} {row['train_minutes']:>9.1f} "
                     f"{row['best_val_accuracy']:>7.4f} {row['test_accuracy']:>8.4f} "
                     f"{row['test_accuracy_no_tta']:>7.4f} {row['macro_f1']:>8.4f} "
                     f"{row['disgust_recall']:>9.4f} {row['tta'] or 'no':>5} {row['precision']:>15}")
    first, last = result["rows"][0], result["rows"][-1]
    machine = result["machine"]
    lines.append(f"difference ({last['recipe']} - {first['recipe']}) in test accuracy: "
                 f"{result['difference']:+.4f}")
    lines.append(f"machine: {machine['cpus']} CPUs {machine['processor']}, load average "
                 f"{machine['load_average_1min']} at start, {machine['load_average_1min_end']} at end")
    return "\n".join(lines)
