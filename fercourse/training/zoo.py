"""The model zoo behind ``fercourse compare``: train every model on one dataset and score it on test.

Keras models select their epoch on a validation split carved from train (early stopping on
validation loss, best weights restored); the test split is touched once, for the final score.
Budgets (:class:`fercourse.config.Budget`): ``quick`` caps epochs and minutes per model so the whole
zoo runs in a few minutes on a 2-core CPU; the full budget is what the real-FER2013 table in
``docs/results.md`` used.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from typing import Callable

from fercourse.config import QUICK, VALIDATION_SHARE, Budget
from fercourse.errors import InputError
from fercourse.models.baselines import BASELINES


@dataclasses.dataclass(frozen=True)
class ZooEntry:
    """One Keras model of the zoo: how to build it and its two budgets.

    Attributes
    ----------
    model : str
        The :func:`fercourse.models.build_model` name (and :func:`fercourse.models.model_input` layout).
    quick, full : fercourse.config.Budget
        The ``--quick`` budget and the full one: epoch cap, batch size and a soft time limit
        (``minutes``, checked after every epoch).
    variant : str, optional
        The CNN variant.
    augment : bool
        Train with the augmentation block.
    width : int, optional
        The CNN's first-block width; None keeps :func:`build_model`'s default.
    """

    model: str
    quick: Budget
    full: Budget
    variant: str | None = None
    augment: bool = False
    width: int | None = None

    def budget_for(self, quick: bool) -> Budget:
        """The ``--quick`` budget or the full one."""
        return self.quick if quick else self.full


# The zoo trains the reference CNN at width 16 (build_model's default is 32): on a 2-core CPU the
# full width manages one or two epochs of FER2013 in the time budget, the half width four or five.
# Quick budgets are set in epochs (so the ranking does not depend on how busy the machine is);
# their time limits are only a safety net, about three times an unloaded run.
_KERAS_ZOO = {
    "mlp": ZooEntry("mlp", quick=Budget(25, minutes=2, batch_size=128),
                    full=Budget(60, minutes=1.5, batch_size=128)),
    "lstm": ZooEntry("lstm", quick=Budget(15, minutes=2.5, batch_size=128),
                     full=Budget(30, minutes=2.5, batch_size=128)),
    "gru_attention": ZooEntry("gru_attention", quick=Budget(15, minutes=2.5, batch_size=128),
                              full=Budget(30, minutes=2.5, batch_size=128)),
    "cnn_simple": ZooEntry("cnn", variant="simple", quick=Budget(8, minutes=4, batch_size=64),
                           full=Budget(40, minutes=200 / 60, batch_size=64)),
    "cnn_bn": ZooEntry("cnn", variant="bn", quick=Budget(8, minutes=4, batch_size=64),
                       full=Budget(40, minutes=200 / 60, batch_size=64)),
    "cnn_reference": ZooEntry("cnn", variant="reference", augment=True, width=16,
                              quick=Budget(10, minutes=5, batch_size=64),
                              full=Budget(60, minutes=7, batch_size=64)),
}
# --quick shrinks the slow baselines (fewer trees and clusters, smaller subsamples).
_QUICK_BASELINE_OPTIONS = {
    "random_forest": {"n_estimators": 60, "max_samples": 6000},
    "kmeans_logistic": {"n_clusters": 100},
    "knn_pca": {"max_samples": 4000},
    "svm_pca": {"max_samples": 3000},
}
ZOO = BASELINES + tuple(_KERAS_ZOO)


def _one_thread():
    """Limit BLAS and OpenMP to one thread each.

    On a shared, oversubscribed CPU, multi-threaded BLAS spins against the other processes:
    measured on the course's 2-core machine under load, a logistic regression ran 19x and a
    k-means 3x faster on one thread. (The random forest parallelises through joblib instead.)
    """
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1)


def _fit_baseline(name: str, train, seed: int, quick: bool) -> tuple[object, dict]:
    import warnings

    from fercourse.models.baselines import build_baseline
    from fercourse.models.predict import model_input

    options = _QUICK_BASELINE_OPTIONS.get(name, {}) if quick else {}
    model = build_baseline(name, random_state=seed, **options)
    with warnings.catch_warnings(), _one_thread():
        warnings.simplefilter("ignore")  # convergence warnings at the small default budgets
        model.fit(model_input(name, train.images), train.labels)
    return model, {"n_fit": int(getattr(model, "n_fit_", len(train)))}


def _fit_keras(name: str, train, seed: int, quick: bool, verbose: int,
               minutes: float | None = None) -> tuple[object, dict]:
    from fercourse import set_seed
    from fercourse.data import train_val_split
    from fercourse.models.keras_models import build_model
    from fercourse.training.fit import fit_with_validation, training_callbacks

    entry = _KERAS_ZOO[name]
    budget = entry.budget_for(quick)
    if minutes is not None:  # a recorded experiment's longer time limit (fercourse.course.experiments)
        budget = dataclasses.replace(budget, minutes=minutes)
    set_seed(seed)
    fit_split, val_split = train_val_split(train, val_fraction=VALIDATION_SHARE, seed=seed)
    model = build_model(entry.model, variant=entry.variant, augment=entry.augment, seed=seed,
                        width=entry.width)
    callbacks = training_callbacks(patience=4 if quick else 8, reduce_lr_patience=2 if quick else 3,
                                   time_limit=budget.seconds)
    history, best = fit_with_validation(entry.model, model, fit_split, val_split, epochs=budget.epochs,
                                        batch_size=budget.batch_size, callbacks=callbacks, verbose=verbose)
    return model, {"n_fit": len(fit_split), "epochs": len(history["val_loss"]), "best_epoch": best,
                   "val_accuracy": round(float(history["val_accuracy"][best - 1]), 4)}


def run_comparison(dataset, models: tuple[str, ...] | list[str] | None = None, *, quick: bool = False,
                   seed: int = 0, progress: Callable[[str], None] | None = print,
                   verbose: int = 0, minutes: float | None = None) -> list[dict]:
    # Over 60 lines: a 30-line docstring (the result keys); the body is one loop over models.
    """Train each model on ``dataset.train`` and score it on ``dataset.test``.

    Parameters
    ----------
    dataset : fercourse.data.Dataset
        Needs labelled ``train`` and ``test`` splits.
    models : sequence of str, optional
        Names from :data:`ZOO`; default all of them (``quick`` leaves out
        ``fercourse.config.QUICK.zoo_excluded``).
    quick : bool
        Small epoch budgets, slow baselines shrunk, and at most ``fercourse.config.QUICK.zoo_max_train``
        training images (a stratified subsample).
    seed : int
        Seeds the validation split, the baselines and Keras.
    progress : callable, optional
        Called with one line per step (default ``print``); None is silent.
    verbose : int
        Keras ``fit`` verbosity.
    minutes : float, optional
        Each Keras model's time limit instead of its zoo budget's (the epoch cap stays).

    Returns
    -------
    list of dict
        One per model, in the order run: ``model``, ``kind`` (sklearn/keras), ``split`` ("test"),
        ``accuracy``, ``macro_f1``, ``disgust_recall``, ``fit_seconds``, ``n_fit`` (training rows used),
        plus for Keras ``epochs``, ``best_epoch`` and ``val_accuracy``. The fitted models and test
        predictions are under the private keys ``_model`` and ``_y_pred`` (not JSON).
    """
    from fercourse.data import stratified_subsample
    from fercourse.evaluate import evaluate
    from fercourse.models.predict import predict_proba

    if models is None:
        models = [name for name in ZOO if not (quick and name in QUICK.zoo_excluded)]
    unknown = [name for name in models if name not in ZOO]
    if unknown:
        raise InputError(f"unknown model(s) {', '.join(unknown)}: expected names from {', '.join(ZOO)}")
    train, test = dataset.train, dataset.test
    if train.labels is None or test.labels is None:
        raise InputError(f"{dataset.source}: compare needs labelled train and test splits "
                         "(an unlabelled test split cannot be scored)")
    say = progress or (lambda line: None)
    if quick and len(train) > QUICK.zoo_max_train:
        train = train.subset(stratified_subsample(train, QUICK.zoo_max_train, seed))
        say(f"--quick: training on a stratified subsample of {QUICK.zoo_max_train} of {len(dataset.train)} "
            "images")
    results = []
    for position, name in enumerate(models, 1):
        say(f"[{position}/{len(models)}] {name}: training on {len(train)} images ...")
        start = time.perf_counter()
        if name in _KERAS_ZOO:
            model, extra = _fit_keras(name, train, seed, quick, verbose, minutes)
        else:
            model, extra = _fit_baseline(name, train, seed, quick)
        fit_seconds = time.perf_counter() - start
        with contextlib.nullcontext() if name in _KERAS_ZOO else _one_thread():
            y_pred = predict_proba(model, test.images).argmax(axis=1)
        scores = evaluate(test.labels, y_pred, split="test")
        result = {"model": name, "kind": "keras" if name in _KERAS_ZOO else "sklearn", "split": "test",
                  "accuracy": round(scores["accuracy"], 4), "macro_f1": round(scores["macro_f1"], 4),
                  "disgust_recall": round(float(scores["per_class"].loc["disgust", "recall"]), 4),
                  "fit_seconds": round(fit_seconds, 1), **extra, "_model": model, "_y_pred": y_pred}
        results.append(result)
        say(f"[{position}/{len(models)}] {name}: test accuracy {result['accuracy']:.3f}, "
            f"macro-F1 {result['macro_f1']:.3f}, {fit_seconds:.0f} s")
    return results


def public(results: list[dict]) -> list[dict]:
    """The results without the private ``_model`` / ``_y_pred`` keys (ready for JSON)."""
    return [{key: value for key, value in row.items() if not key.startswith("_")} for row in results]
