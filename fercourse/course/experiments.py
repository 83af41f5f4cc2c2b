"""Long, shared experiments on real FER2013, run piece by piece and recorded in ``results/fer2013.json``.

A lesson trains the network it teaches at a budget that fits the book build. The comparisons the
lessons draw (does augmentation pay once the plain model overfits? what does each ingredient of
the reference recipe add? how does every model rank on test?) need longer runs and several seeds:
those are the experiments here, one command each::

    fercourse experiment run augmentation --data ../shared/fer2013 --record
    fercourse experiment run ladder --data ../shared/fer2013 --arms lesson_cnn crops --seeds 0 --record

An experiment is a set of *arms* (one training recipe each, or a way of scoring another arm's
models) run at one budget for several seeds. Each (arm, seed) is a *piece*: trained with
:func:`fercourse.training.recipes.train_recipe` (resumable: an interrupted piece continues from its
last epoch when run again), scored once on validation, train and test, and recorded as soon as it
finishes, under ``experiment/NAME/ARM/seedN``. A piece already recorded with the same recipe and
budget is skipped, so rerunning a command finishes what is missing and repeats nothing. No piece of
the shipped experiments needs more than about 150 minutes of a 2-core CPU.

The Results page (:mod:`fercourse.course.results`) summarises each experiment, arm by arm, as
mean +- standard deviation over the recorded seeds.

Examples
--------
>>> sorted(EXPERIMENTS)
['augmentation', 'ladder', 'regularisers', 'zoo']
>>> [arm.name for arm in EXPERIMENTS["ladder"].arms][:3]
['lesson_cnn', 'crops', 'augmentation']
>>> piece_key("ladder", "crops", 2)
'experiment/ladder/crops/seed2'
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import time
from pathlib import Path
from types import MappingProxyType
from typing import Callable

import numpy as np

from fercourse.errors import InputError
from fercourse.training.recipes import RECIPES, Recipe

__all__ = ["EXPERIMENTS", "Arm", "Experiment", "get_experiment", "piece_key", "run_experiment"]


@dataclasses.dataclass(frozen=True)
class Arm:
    """One arm of an experiment: a recipe to train, or a way to score another arm's saved models.

    Attributes
    ----------
    name, title : str
    recipe : Recipe, optional
        Trained once per seed. None for an arm that only scores ``scores``'s models.
    tta : str, optional
        Test-time augmentation its scores use (``"flip"``, ``"shift"``).
    scores : str, optional
        The trained arm whose saved models this arm scores (no training of its own).
    ensemble : bool
        With ``scores``: average the probabilities of all that arm's seeds (one piece, not one per seed).
    zoo_model : str, optional
        A :data:`fercourse.training.zoo.ZOO` model trained by the zoo's own loop instead of a recipe.
    network : Mapping, optional
        :func:`fercourse.models.build_model` arguments (``name`` and options) of a network trained as a
        lesson trains it: Adam, the experiment's epochs at most, early stopping on validation loss
        (:data:`LESSON_PATIENCE` epochs), the shared validation split, only the seed changing.
    """

    name: str
    title: str
    recipe: Recipe | None = None
    tta: str | None = None
    scores: str | None = None
    ensemble: bool = False
    zoo_model: str | None = None
    network: MappingProxyType | None = None
    short: str = ""
    """The frontier figure's label (a few words); empty: the title."""


#: Early-stopping patience and batch size of a ``network`` arm, as in lesson 3's ablation cell.
LESSON_PATIENCE, LESSON_BATCH_SIZE = 4, 64


@dataclasses.dataclass(frozen=True)
class Experiment:
    """A recorded comparison: its arms, the claim it tests, its budget and seeds."""

    name: str
    title: str
    claim: str
    lesson: str
    arms: tuple[Arm, ...]
    epochs: int
    seeds: tuple[int, ...] = (0, 1, 2)
    minutes: float | None = None
    """Zoo arms only: each Keras model's time limit (minutes)."""
    steps: bool = False
    """Each arm is the arm before plus one change (a ladder): the Results page draws the arms in order
    and reads the step each one adds."""

    def arm(self, name: str) -> Arm:
        for arm in self.arms:
            if arm.name == name:
                return arm
        raise InputError(f"experiment {self.name!r} has no arm {name!r}: expected one of "
                         f"{', '.join(arm.name for arm in self.arms)}")


def _ladder() -> tuple[Arm, ...]:
    """Lesson 5's CNN, then the reference recipe's ingredients added one at a time
    (:data:`fercourse.training.ladder.RUNGS`), then two arms that score the last rung's models."""
    from fercourse.training.ladder import RUNGS

    arms = [Arm(rung.name, rung.title, rung.recipe, short=f"ladder: {rung.short}") for rung in RUNGS]
    arms += [Arm("tta", "+ flip-and-shift test-time augmentation", tta="shift", scores="wide_gap",
                 short="ladder: + TTA"),
             Arm("ensemble", "+ the seeds averaged (an ensemble)", tta="shift", scores="wide_gap",
                 ensemble=True, short="ladder: + ensemble")]
    return tuple(arms)


def _augmentation() -> tuple[Arm, ...]:
    plain = dataclasses.replace(RECIPES["seed_cnn"], name="plain_cnn", augment=MappingProxyType({}),
                                patience=None, description="lesson 6's plain CNN")
    augmented = dataclasses.replace(RECIPES["seed_cnn"], name="augmented_cnn", patience=None,
                                    description="lesson 6's CNN with augmentation")
    return (Arm("plain", "bn CNN, no augmentation", plain, short="bn CNN, 40 epochs"),
            Arm("augmented", "bn CNN with flips, rotations, shifts and zooms", augmented,
                short="bn CNN + augmentation, 40 epochs"))


#: The zoo's models as the all-model table names them and as the frontier figure labels them (the
#: zoo's keys are the CLI's names).
ZOO_NAMES = MappingProxyType({
    "dummy": ("Majority class (lesson 2)", "majority class"),
    "logistic_regression": ("Logistic regression, PCA 200 (lesson 2)", "logistic reg."),
    "random_forest": ("Random forest, 15,000 faces (lesson 2)", "random forest"),
    "naive_bayes": ("Naive Bayes (lesson 2)", "naive Bayes"),
    "sgd": ("Linear classifier by SGD (lesson 2)", "SGD linear"),
    "knn_pca": ("kNN, PCA 60, 10,000 faces (lesson 2)", "kNN"),
    "svm_pca": ("RBF SVM, PCA 100, 6,000 faces (lesson 2)", "RBF SVM"),
    "kmeans_logistic": ("k-means features + logistic regression (lesson 2)", "k-means + LR"),
    "mlp": ("MLP (lesson 3)", "MLP"),
    "lstm": ("LSTM over rows (lesson 4)", "LSTM"),
    "gru_attention": ("GRU with attention (lesson 4)", "GRU + attention"),
    "cnn_simple": ("Simple CNN (lesson 5)", "simple CNN"),
    "cnn_bn": ("bn CNN (lesson 5)", "bn CNN"),
    "cnn_reference": ("Reference CNN, width 16", "reference CNN (w16)"),
})


def _regularisers() -> tuple[Arm, ...]:
    """Lesson 3's ablation: the (512, 256) MLP with no regulariser, or one of three."""
    settings = [("none", "no regulariser", {"batch_norm": False, "dropout_rate": 0.0}),
                ("l2", "L2 penalty 1e-4", {"batch_norm": False, "dropout_rate": 0.0, "l2": 1e-4}),
                ("dropout", "dropout 0.3", {"batch_norm": False, "dropout_rate": 0.3}),
                ("batch_norm", "batch normalisation", {"batch_norm": True, "dropout_rate": 0.0})]
    return tuple(Arm(name, f"MLP (512, 256), {title}", network=MappingProxyType(
        {"name": "mlp", "hidden_sizes": (512, 256), **options}), short=f"MLP, {title}")
        for name, title, options in settings)


def _zoo() -> tuple[Arm, ...]:
    from fercourse.training.zoo import ZOO

    named = {name: ZOO_NAMES.get(name, (name, name)) for name in ZOO}
    return tuple(Arm(name, title, zoo_model=name, short=short) for name, (title, short) in named.items())


EXPERIMENTS: dict[str, Experiment] = {
    "augmentation": Experiment(
        "augmentation", "Augmentation once the plain model overfits",
        "augmentation needs enough epochs for the plain model to start overfitting before it shows a "
        "benefit", "06_augmentation", _augmentation(), epochs=40),
    "ladder": Experiment(
        "ladder", "The trick ladder: from lesson 5's CNN to the reference recipe",
        "each ingredient of the reference recipe, added one at a time, and what it adds",
        "06_augmentation", _ladder(), epochs=30, steps=True),
    "regularisers": Experiment(
        "regularisers", "Which regulariser helps the MLP",
        "one regulariser's lead over the others, read against the spread over seeds", "03_mlp",
        _regularisers(), epochs=20, seeds=(0, 1, 2, 3, 4)),
    "zoo": Experiment(
        "zoo", "Every model on FER2013", "the course's models ranked on PublicTest", "02_baselines",
        _zoo(), epochs=60, seeds=(0,), minutes=30),
}


def get_experiment(name: str) -> Experiment:
    """The experiment called ``name``; InputError listing the known ones otherwise."""
    if name not in EXPERIMENTS:
        raise InputError(f"experiment {name!r} is unknown: expected one of {', '.join(EXPERIMENTS)}")
    return EXPERIMENTS[name]


def piece_key(experiment: str, arm: str, seed: int | None) -> str:
    """The results-file key of one piece (``seed`` None: an ensemble over all seeds)."""
    return f"experiment/{experiment}/{arm}" + ("" if seed is None else f"/seed{seed}")


def data_digest(dataset) -> str:
    """A digest of the faces and labels of ``dataset``'s train and test splits, wherever they were read."""
    digest = hashlib.sha256()
    for part in (dataset.train, dataset.test):
        digest.update(np.ascontiguousarray(part.images).tobytes())
        digest.update(np.asarray(part.labels).tobytes())
    return digest.hexdigest()[:16]


def _spec(experiment: Experiment, arm: Arm, quick: bool, data: str) -> str:
    """A digest of what decides a piece's result, so a changed recipe, budget or dataset is measured again.

    ``data`` is :func:`data_digest`'s: the same FER2013 copy read from another folder is the same data.
    """
    parts = {"recipe": repr(arm.recipe), "tta": arm.tta, "scores": arm.scores, "zoo": arm.zoo_model,
             "epochs": experiment.epochs, "minutes": experiment.minutes, "quick": quick, "data": data}
    if arm.network is not None:  # only then: the digests of the pieces recorded before it stay as they were
        parts.update(network=repr(dict(arm.network)), patience=LESSON_PATIENCE, batch_size=LESSON_BATCH_SIZE)
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:16]


def _scores(proba: np.ndarray, labels: np.ndarray, split: str) -> dict[str, float]:
    from fercourse.evaluate import evaluate

    result = evaluate(labels, proba.argmax(axis=1), split=split)
    return {"accuracy": round(float(result["accuracy"]), 4), "macro_f1": round(float(result["macro_f1"]), 4),
            "disgust_recall": round(float(result["per_class"].loc["disgust", "recall"]), 4)}


def _score_models(models: list, dataset, tta: str | None) -> dict[str, object]:
    """Validation, train and test scores of the averaged probabilities of ``models`` (one or more)."""
    from fercourse.data import seen_in_train, validation_split
    from fercourse.models import predict_proba

    train, val = validation_split(dataset)
    values: dict[str, object] = {}
    for split, part in (("val", val), ("train", train), ("test", dataset.test)):
        proba = np.mean([predict_proba(model, part.images, tta=tta) for model in models], axis=0)
        scores = _scores(proba, part.labels, split)
        values.update({f"{split}_{name}": value for name, value in scores.items()})
        if split == "test":
            keep = ~seen_in_train(dataset, "test")
            unseen = _scores(proba[keep], part.labels[keep], "test")
            values.update(test_accuracy_unseen=unseen["accuracy"], test_unseen_n=int(keep.sum()),
                          test_disgust_recall_unseen=unseen["disgust_recall"])
    values["gap"] = round(values["train_accuracy"] - values["val_accuracy"], 4)
    return values


def _train_piece(experiment: Experiment, arm: Arm, seed: int, dataset, folder: Path,
                 quick: bool) -> dict[str, object]:
    from fercourse.models.pretrained import load_inference_model
    from fercourse.training.recipes import train_recipe

    out = folder / experiment.name / f"{arm.name}-seed{seed}.keras"
    epochs = arm.recipe.budget_for(quick).epochs if quick else experiment.epochs
    # verbose=2: one line per epoch on stderr, the progress of a piece that may train for two hours
    record = train_recipe(arm.recipe, dataset, out, epochs=epochs, seed=seed, quick=quick, resume=True,
                          verbose=2)
    model = load_inference_model(out)
    values = _score_models([model], dataset, arm.tta)
    values.update(best_epoch=record.best_epoch, epochs_run=record.epochs_run,
                  train_minutes=round(record.train_seconds / 60, 1), parameters=int(model.count_params()),
                  curves={name: [round(float(row[name]), 4) for row in record.history]
                          for name in ("accuracy", "val_accuracy", "loss", "val_loss")})
    return values


def _network_piece(experiment: Experiment, arm: Arm, seed: int, dataset, quick: bool) -> dict[str, object]:
    from fercourse import set_seed
    from fercourse.data import validation_split
    from fercourse.models.keras_models import build_model
    from fercourse.training.fit import fit_with_validation, training_callbacks

    options = dict(arm.network)
    name = options.pop("name")
    train, val = validation_split(dataset)
    epochs = min(experiment.epochs, 2) if quick else experiment.epochs
    set_seed(seed)
    model = build_model(name, seed=seed, **options)
    started = time.perf_counter()
    history, best = fit_with_validation(name, model, train, val, epochs=epochs, batch_size=LESSON_BATCH_SIZE,
                                        callbacks=training_callbacks(patience=LESSON_PATIENCE))
    values = _score_models([model], dataset, arm.tta)
    values.update(best_epoch=best, epochs_run=len(history["val_loss"]),
                  train_minutes=round((time.perf_counter() - started) / 60, 1),
                  parameters=int(model.count_params()))
    return values


def _zoo_piece(experiment: Experiment, arm: Arm, seed: int, dataset, quick: bool) -> dict[str, object]:
    from fercourse.data import seen_in_train
    from fercourse.training.zoo import run_comparison

    [row] = run_comparison(dataset, [arm.zoo_model], quick=quick, seed=seed, progress=None,
                           minutes=None if quick else experiment.minutes)
    keep = ~seen_in_train(dataset, "test")
    y_pred, labels = row["_y_pred"], dataset.test.labels
    model = row["_model"]
    parameters = int(model.count_params()) if hasattr(model, "count_params") else None
    return {"test_accuracy": row["accuracy"], "test_macro_f1": row["macro_f1"],
            "test_disgust_recall": row["disgust_recall"],
            "test_accuracy_unseen": round(float((y_pred[keep] == labels[keep]).mean()), 4),
            "test_unseen_n": int(keep.sum()), "val_accuracy": row.get("val_accuracy"),
            "epochs_run": row.get("epochs"), "train_minutes": round(row["fit_seconds"] / 60, 1),
            "parameters": parameters}


def _scoring_piece(experiment: Experiment, arm: Arm, seeds: list[int], dataset, folder: Path) -> dict:
    from fercourse.models.pretrained import load_inference_model

    paths = [folder / experiment.name / f"{arm.scores}-seed{seed}.keras" for seed in seeds]
    missing = [path for path in paths if not path.is_file()]
    if missing:
        raise InputError(f"experiment {experiment.name}, arm {arm.name}: {missing[0]} is not trained yet; "
                         f"run the arm {arm.scores!r} for seeds {', '.join(map(str, seeds))} first")
    return _score_models([load_inference_model(path) for path in paths], dataset, arm.tta)


def run_experiment(name: str, data, *, arms: list[str] | None = None, seeds: list[int] | None = None,
                   quick: bool = False, folder: str | os.PathLike = "artifacts/experiments",
                   record: str | os.PathLike | None = None,
                   log: Callable[[str], None] = print) -> dict[str, dict]:
    # Over 60 lines: a 25-line docstring; the body is one loop over the pieces, each recorded at once.
    """Run the pieces of experiment ``name`` not yet recorded; record each as soon as it finishes.

    Parameters
    ----------
    name : str
        A key of :data:`EXPERIMENTS`.
    data : str or Dataset
        A source for :func:`fercourse.data.load` (``"fer2013"``, a path, or ``"sample"`` to try it), or
        a loaded dataset.
    arms, seeds : list, optional
        Only these arms / seeds (default: all of the experiment's).
    quick : bool
        The recipes' quick setting (a smoke test: narrow models, few epochs).
    folder : path-like
        Where the trained models go (``FOLDER/NAME/ARM-seedN.keras``, with resume checkpoints).
    record : path-like, optional
        The results file to record in (and to read, to skip pieces already recorded). None records
        nothing and skips nothing.
    log : callable
        Receives one line per piece.

    Returns
    -------
    dict
        The values measured (or found recorded) per piece key.
    """
    from fercourse.course.results import load_results, record_result
    from fercourse.data import load

    experiment = get_experiment(name)
    chosen = [experiment.arm(arm) for arm in arms] if arms else list(experiment.arms)
    seeds = list(seeds) if seeds is not None else list(experiment.seeds)
    recorded = load_results(record)["entries"] if record is not None else {}
    dataset, folder = (load(data) if isinstance(data, (str, os.PathLike)) else data), Path(folder)
    if dataset.test.labels is None:
        raise InputError(f"{dataset.source}: the test split has no labels; an experiment scores test once")
    measured: dict[str, dict] = {}
    digest = data_digest(dataset)
    for arm in chosen:
        spec = _spec(experiment, arm, quick, digest)
        for seed in ([None] if arm.ensemble else seeds):
            key = piece_key(name, arm.name, seed)
            if recorded.get(key, {}).get("spec") == spec:
                log(f"{key}: recorded on {recorded[key]['measured']}, skipped")
                measured[key] = recorded[key]["values"]
                continue
            log(f"{key}: running ...")
            started = time.perf_counter()
            if arm.zoo_model:
                values = _zoo_piece(experiment, arm, seed, dataset, quick)
            elif arm.network is not None:
                values = _network_piece(experiment, arm, seed, dataset, quick)
            elif arm.scores:
                values = _scoring_piece(experiment, arm, seeds if seed is None else [seed], dataset, folder)
            else:
                values = _train_piece(experiment, arm, seed, dataset, folder, quick)
            measured[key] = values
            minutes = (time.perf_counter() - started) / 60
            validation = values.get("val_accuracy")  # None for a baseline: it selects nothing on validation
            log(f"{key}: test accuracy {values.get('test_accuracy', float('nan')):.3f}"
                + ("" if validation is None else f", validation {validation:.3f}") + f" ({minutes:.1f} min)")
            if record is not None:
                record_result(key, {"title": f"{experiment.title}: {arm.title}", "kind": "experiment",
                                    "experiment": name, "arm": arm.name, "seed": seed, "spec": spec,
                                    "data": Path(dataset.source).name, "quick": quick,
                                    "budget": {"epochs": experiment.epochs, "minutes": experiment.minutes},
                                    "wall_minutes": round(minutes, 1), "values": values,
                                    "command": f"fercourse experiment run {name} --arms {arm.name}"
                                               + ("" if seed is None else f" --seeds {seed}") + " --record"},
                              record)
    return measured
