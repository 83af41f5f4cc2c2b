"""Figures the lessons quote from the course's FER2013 records agree with ``results/fer2013.json``.

A lesson page is built on the synthetic sample, so what it says of real FER2013 is typed into its
prose. Each check below formats the recorded value the way the prose writes it and looks for it in
the lesson's markdown: when a piece is measured again and its figure moves, this test fails until the
sentence quoting it is rewritten.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from fercourse.course.model_table import mean_std
from fercourse.course.results import load_results

REPO_ROOT = Path(__file__).resolve().parents[2]
ENTRIES = load_results(REPO_ROOT / "results" / "fer2013.json")["entries"]


def _zoo(arm: str) -> str:
    """A zoo model's recorded test accuracy as the lessons write it (0.418)."""
    return f"{ENTRIES[f'experiment/zoo/{arm}/seed0']['values']['test_accuracy']:.3f}"


def _epochs(arm: str) -> int:
    return ENTRIES[f"experiment/zoo/{arm}/seed0"]["values"]["epochs_run"]


def _pieces(experiment: str, arm: str) -> list[dict]:
    """Every recorded seed of an arm, in seed order."""
    prefix = f"experiment/{experiment}/{arm}/"
    pieces = [entry for key, entry in ENTRIES.items() if key.startswith(prefix)]
    return sorted(pieces, key=lambda entry: entry["seed"])


def _listed(values: list[str]) -> str:
    """Values as the lessons list them: "0.632 and 0.618", "a, b and c"."""
    return ", ".join(values[:-1]) + " and " + values[-1] if len(values) > 1 else values[0]


def _seeds(experiment: str, arm: str, name: str) -> str:
    return _listed([f"{piece['values'][name]:.3f}" for piece in _pieces(experiment, arm)])


def _percents(arm: str, name: str) -> str:
    """An augmentation arm's value per seed in percent, as lesson 6 lists them ("91.8 and 85.2")."""
    return _listed([f"{piece['values'][name] * 100:.1f}" for piece in _pieces("augmentation", arm)])


def _range(arm: str, name: str) -> str:
    values = [round(piece["values"][name] * 100) for piece in _pieces("augmentation", arm)]
    return f"{min(values)}-{max(values)}"


def _cost() -> float:
    """How many points of test accuracy augmentation cost, mean over the seeds."""
    plain, augmented = (mean_std([piece["values"]["test_accuracy"] for piece in _pieces("augmentation", arm)])
                        [0] for arm in ("plain", "augmented"))
    return (plain - augmented) * 100


def _regulariser(arm: str, name: str) -> list[float]:
    return [piece["values"][name] for piece in _pieces("regularisers", arm)]


def _mean_sd(arm: str) -> str:
    """Lesson 3's ablation figure of one setting: mean +- standard deviation of validation macro-F1."""
    values = _regulariser(arm, "val_macro_f1")
    mean, spread = mean_std(values)
    assert len(values) == 5, f"{arm}: {len(values)} recorded seeds, the lesson says five"
    return f"{mean:.3f} +- {spread:.3f}"


def _lead() -> float:
    means = sorted((mean_std(_regulariser(arm, "val_macro_f1"))[0] for arm in ("none", "l2", "dropout",
                                                                              "batch_norm")), reverse=True)
    return means[0] - means[1]


def _best_epochs(arm: str) -> str:
    epochs = _regulariser(arm, "best_epoch")
    return f"{min(epochs)} to {max(epochs)}"


def _test_mean(arm: str) -> float:
    return round(mean_std(_regulariser(arm, "test_accuracy"))[0], 3)


def _lowest_val_loss(experiment: str, arm: str) -> str:
    """The epoch of each recorded seed's lowest validation loss."""
    losses = [piece["values"]["curves"]["val_loss"] for piece in _pieces(experiment, arm)]
    return _listed([str(min(range(len(loss)), key=loss.__getitem__) + 1) for loss in losses])


def _rung(arm: str, name: str = "test_accuracy", digits: int = 3) -> str:
    """A ladder rung's recorded value as lesson 6 writes it: one seed's value, or mean +- std."""
    values = [piece["values"][name] for piece in _pieces("ladder", arm)]
    mean, spread = mean_std(values)
    return f"{mean:.{digits}f}" if len(values) == 1 else f"{mean:.{digits}f} +- {spread:.{digits}f}"


def _rung_range(name: str, arms: tuple[str, ...], scale: float = 1) -> str:
    values = [round(piece["values"][name] * scale) for arm in arms for piece in _pieces("ladder", arm)]
    return f"{min(values)} to {max(values)}"


REGULARISED = ("crops", "augmentation", "label_smoothing", "adamw", "one_cycle", "wide_gap")


def _ladder_seeds() -> str:
    """Which seeds every rung has, as lesson 6 says it ("one recorded seed (seed 0)")."""
    seeds = [sorted(piece["seed"] for piece in _pieces("ladder", arm))
             for arm in ("lesson_cnn", *REGULARISED, "tta")]
    common = sorted(set.intersection(*map(set, seeds)))
    if len(common) == 1:
        return f"every rung has one recorded seed (seed {common[0]})"
    return f"every rung has {len(common)} recorded seeds (seeds {_listed([str(seed) for seed in common])})"


def _seed_gaps() -> str:
    """How far apart the augmentation experiment's two seeds of each arm scored on test, in points."""
    gaps = []
    for arm in ("plain", "augmented"):
        values = [piece["values"]["test_accuracy"] for piece in _pieces("augmentation", arm)]
        gaps.append(f"{abs(values[0] - values[1]) * 100:.1f}")
    return _listed(gaps)


def _lesson(stem: str, name: str) -> str:
    return f"{ENTRIES[f'lesson/{stem}']['values'][name]:.3f}"


def _model(key: str) -> str:
    return f"{ENTRIES[key]['metrics']['accuracy']:.3f}"


def _markdown(stem: str) -> str:
    notebook = nbformat.read(REPO_ROOT / "notebooks" / f"{stem}.ipynb", as_version=4)
    text = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown")
    return " ".join(text.split())  # a figure and its words may sit on two lines of the source


QUOTES = {
    "02_baselines": lambda: [f"random forest {_zoo('random_forest')}", f"RBF SVM {_zoo('svm_pca')}",
                             f"k-means features {_zoo('kmeans_logistic')}",
                             f"k nearest neighbours {_zoo('knn_pca')}",
                             f"logistic regression {_zoo('logistic_regression')}",
                             f"naive Bayes {_zoo('naive_bayes')}", f"SGD classifier {_zoo('sgd')}",
                             f"{_zoo('dummy')} for the majority class",
                             "results.md#every-model-on-fer2013"],
    "03_mlp": lambda: [f"this network scored {_zoo('mlp')}", f"random forest ({_zoo('random_forest')})",
                       f"best of {_epochs('mlp')} epochs",
                       "results.md#every-model-on-fer2013"],
    "03_mlp_ablation": lambda: [f"dropout {_mean_sd('dropout')}, batch norm {_mean_sd('batch_norm')}, "
                                f"none {_mean_sd('none')}, L2 {_mean_sd('l2')}", "five seeds per setting",
                                f"Dropout leads by {_lead():.3f}",
                                f"best epoch came at {_best_epochs('dropout')}",
                                f"dropout networks averaged {_test_mean('dropout'):.3f}",
                                f"the others {min(map(_test_mean, ('none', 'l2', 'batch_norm'))):.3f} to "
                                f"{max(map(_test_mean, ('none', 'l2', 'batch_norm'))):.3f}"],
    "04_recurrent": lambda: [f"attention scored {_zoo('gru_attention')} after {_epochs('gru_attention')}",
                             f"LSTM {_zoo('lstm')} after {_epochs('lstm')}",
                             f"random forest ({_zoo('random_forest')})", f"MLP ({_zoo('mlp')})",
                             "results.md#every-model-on-fer2013"],
    "05_cnn": lambda: [f"scored {_seeds('augmentation', 'plain', 'test_accuracy')} on PublicTest",
                       f"validation accuracies of {_seeds('augmentation', 'plain', 'val_accuracy')}",
                       f"lowest at epochs {_lowest_val_loss('augmentation', 'plain')}",
                       f"stopped after {ENTRIES['lesson/05_cnn']['values']['epochs_run']} epochs, kept epoch "
                       f"{ENTRIES['lesson/05_cnn']['values']['best_epoch']} and scored "
                       f"{_lesson('05_cnn', 'test_accuracy')} on PublicTest",
                       f"temperature of {_lesson('07_demo', 'shipped_temperature')}",
                       f"without it {_lesson('07_demo', 'cnn_temperature')}",
                       f"{_model('model/shipped')} on PublicTest from one view and "
                       f"{_model('model/shipped-shift-tta')} from the ten",
                       "results.md#every-model-on-fer2013"],
    "06_augmentation": lambda: [f"right on {_percents('plain', 'train_accuracy')} % of its training faces",
                                f"against {_percents('plain', 'val_accuracy')} % of the validation faces",
                                f"loss was lowest at epochs {_lowest_val_loss('augmentation', 'plain')}, "
                                "then rose",
                                f"from {_percents('plain', 'gap')} points to {_percents('augmented', 'gap')}",
                                f"test {_percents('augmented', 'test_accuracy')} % against "
                                f"{_percents('plain', 'test_accuracy')} % without it",
                                f"a cost of {_cost():.1f} points on average",
                                f"right on only {_percents('augmented', 'train_accuracy')} %",
                                f"lowest at epochs {_lowest_val_loss('augmentation', 'augmented')}, the end",
                                f"(two recorded seeds) the plain `bn` CNN overfit by "
                                f"{_range('plain', 'gap')} points",
                                f"cost {_cost():.1f} points of test accuracy on average"],
    "06_augmentation_ladder": lambda: [
        _ladder_seeds(),
        f"lesson 5's CNN scored {_rung('lesson_cnn')}, with a train-validation gap of "
        f"{_rung('lesson_cnn', 'gap')}",
        f"cut the gap to {_rung('crops', 'gap')} and the score to {_rung('crops')}",
        f"took them to {_rung('augmentation', 'gap')} and {_rung('augmentation')}",
        f"Label smoothing ({_rung('label_smoothing')}), AdamW ({_rung('adamw')}) and one-cycle "
        f"({_rung('one_cycle')})",
        f"differed in the augmentation experiment ({_seed_gaps()} points)",
        f"brought the score back to {_rung('wide_gap')}", f"test-time augmentation to {_rung('tta')}.",
        f"best validation epoch late ({_rung_range('best_epoch', REGULARISED)} of 30)",
        f"only {_rung_range('gap', REGULARISED, 100)} points above its validation accuracy",
        f"scores {_model('model/shipped')} from one view and {_model('model/shipped-shift-tta')} with",
        f"fell from {_rung('lesson_cnn', 'test_disgust_recall', 2)} (lesson 5's CNN) to "
        f"{_rung('augmentation', 'test_disgust_recall', 2)} with augmentation and to "
        f"{_rung('label_smoothing', 'test_disgust_recall', 2)} with label smoothing",
        f"reference network recovered {_rung('wide_gap', 'test_disgust_recall', 2)}"],
}


@pytest.mark.parametrize("stem", sorted(QUOTES))
def test_lessons_quote_the_recorded_fer2013_figures(stem):
    text = _markdown(stem.replace("_ablation", "").replace("_ladder", ""))
    missing = [quote for quote in QUOTES[stem]() if quote not in text]
    assert not missing, f"lesson {stem} does not quote the recorded figures: {missing}"


def test_the_check_fails_on_a_figure_that_moved():
    entries = ENTRIES["experiment/zoo/random_forest/seed0"]["values"]
    recorded = entries["test_accuracy"]
    try:
        entries["test_accuracy"] = recorded + 0.01
        assert f"random forest {_zoo('random_forest')}" not in _markdown("02_baselines")
    finally:
        entries["test_accuracy"] = recorded
