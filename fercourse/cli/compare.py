"""``fercourse compare``: train the whole model zoo on one dataset and print a comparison table."""

from __future__ import annotations

import argparse
import sys

from fercourse.cli import add_command
from fercourse.cli.options import add_data_option, add_sample_size_options

_COLUMNS = ("model", "accuracy", "macro_f1", "disgust_recall", "fit_seconds")


def register(subparsers) -> None:
    from fercourse.config import QUICK
    from fercourse.training.zoo import ZOO

    parser = add_command(subparsers, "compare",
        description="Train each model on the train split and score it once on the test split. Keras "
                    "models pick their epoch on a validation split carved from train (10%), never on "
                    "test. Prints model, test accuracy, macro-F1, disgust recall and fit seconds; "
                    "progress goes to stderr.",
        epilog=f"Models: {', '.join(ZOO)}. --quick leaves out {', '.join(QUICK.zoo_excluded)} unless named "
               "with --models. Example: fercourse compare --data sample --quick --json")
    add_data_option(parser)
    parser.add_argument("--quick", action="store_true",
                        help="small budgets: at most 5,000 training images, a few epochs per Keras model")
    parser.add_argument("--models", nargs="+", metavar="MODEL", choices=ZOO,
                        help="only these models, in this order (default: all)")
    parser.add_argument("--json", action="store_true",
                        help="print a JSON list of objects (model, accuracy, macro_f1, fit_seconds, ...) "
                             "instead of the table")
    parser.add_argument("--out", metavar="DIR",
                        help="also write results.csv, results.json and figures (confusion matrices and "
                             "per-class scores of the best model, accuracy of every model) to DIR")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    add_sample_size_options(parser)
    parser.set_defaults(handler=run, tensorflow=True)


def format_table(rows: list[dict]) -> str:
    """The comparison as aligned text, best accuracy first."""
    ordered = sorted(rows, key=lambda row: -row["accuracy"])
    header = f"{'model':<20} {'accuracy':>8} {'macro-F1':>8} {'disgust recall':>14} {'fit s':>7}"
    lines = [header, "-" * len(header)]
    for row in ordered:
        lines.append(f"{row['model']:<20} {row['accuracy']:>8.3f} {row['macro_f1']:>8.3f} "
                     f"{row['disgust_recall']:>14.3f} {row['fit_seconds']:>7.1f}")
    return "\n".join(lines)


def write_outputs(results: list[dict], dataset, out: str) -> list[str]:
    """Write the table (CSV, JSON) and the figures; returns the paths written."""
    import json
    from pathlib import Path

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pandas as pd

    from fercourse.evaluate import evaluate
    from fercourse.plotting import plot_confusion_matrix, plot_per_class_metrics
    from fercourse.training.zoo import public

    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    rows = public(results)
    written = [folder / "results.csv", folder / "results.json"]
    pd.DataFrame(rows).to_csv(written[0], index=False)
    written[1].write_text(json.dumps(rows, indent=2) + "\n")

    best = max(results, key=lambda row: row["accuracy"])
    y_true = dataset.test.labels
    figure, axes = plt.subplots(1, 2, figsize=(13, 5.5))
    plot_confusion_matrix(y_true, best["_y_pred"], ax=axes[0], title=f"{best['model']}: counts (test)")
    plot_confusion_matrix(y_true, best["_y_pred"], normalize=True, ax=axes[1],
                          title=f"{best['model']}: row-normalised (test)")
    figure.tight_layout()
    written.append(folder / "confusion_best.png")
    figure.savefig(written[-1], dpi=100)
    plt.close(figure)

    figure, ax = plt.subplots(figsize=(9, 4))
    plot_per_class_metrics(evaluate(y_true, best["_y_pred"], split="test"), ax=ax)
    ax.set_title(f"{best['model']}: per-class precision, recall and F1 (test)")
    figure.tight_layout()
    written.append(folder / "per_class_best.png")
    figure.savefig(written[-1], dpi=100)
    plt.close(figure)

    # No plotting function draws a model-versus-model bar chart, so this one is local.
    ordered = sorted(rows, key=lambda row: row["accuracy"])
    figure, ax = plt.subplots(figsize=(8, 0.4 * len(ordered) + 1.5))
    colors = ["tab:orange" if row["kind"] == "keras" else "tab:blue" for row in ordered]
    ax.barh([row["model"] for row in ordered], [row["accuracy"] for row in ordered], color=colors)
    ax.barh([row["model"] for row in ordered], [row["macro_f1"] for row in ordered], height=0.3,
            color="black", alpha=0.5, label="macro-F1")
    for position, row in enumerate(ordered):
        ax.text(row["accuracy"] + 0.005, position, f"{row['accuracy']:.3f}", va="center", fontsize=8)
    ax.set_xlim(0, min(1.0, max(row["accuracy"] for row in ordered) + 0.1))
    ax.set_xlabel("test accuracy (bars; blue scikit-learn, orange Keras), macro-F1 (thin bars)")
    ax.set_title(f"Model comparison on {dataset.source} (test split)")
    ax.legend(loc="lower right")
    figure.tight_layout()
    written.append(folder / "accuracy.png")
    figure.savefig(written[-1], dpi=100)
    plt.close(figure)
    return [str(path) for path in written]


def run(args: argparse.Namespace) -> int:
    import json

    from fercourse.data import load
    from fercourse.training.zoo import public, run_comparison

    def say(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    say(f"loading {args.data} ...")
    dataset = load(args.data, n_train=args.n_train, n_test=args.n_test, seed=args.seed)
    results = run_comparison(dataset, args.models, quick=args.quick, seed=args.seed, progress=say)
    if args.json:
        print(json.dumps(public(results), indent=2))
    else:
        print(f"{dataset.source}: {len(dataset.train)} train / {len(dataset.test)} test images; "
              f"scores on the test split{' (--quick budgets)' if args.quick else ''}")
        print(format_table(results))
    if args.out:
        for path in write_outputs(results, dataset, args.out):
            say(f"wrote {path}")
    return 0
