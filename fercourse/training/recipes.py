"""Named training recipes for the course CNN, trained under an epoch or wall-time budget.

A recipe is everything besides the data that decides a trained model: architecture, augmentation,
optimizer, learning-rate schedule, batch size, epochs and whether evaluation mirrors the faces
(flip test-time augmentation). Two recipes ship:

- ``seed_cnn``: what the seed courses teach, kept for comparison: the 4-block CNN with batch norm
  and dropout (``build_model("cnn", variant="bn")``), augmentation, Adam at 1e-3, learning rate
  halved when validation loss stalls, early stopping on validation accuracy.
- ``reference``: ours: the VGG-style CNN (``variant="reference"``, first block one convolution of
  40 filters, the others two), trained on random 40x40 windows of the faces (about 0.7x the
  convolutions of the whole face; evaluation takes the centre window), augmentation, AdamW with
  decoupled weight decay, label smoothing 0.1, a one-cycle learning rate spread over the whole
  budget (epochs *or* minutes), bfloat16 compute where the hardware has it, flip-and-shift TTA at
  evaluation (ten views).

:func:`train_recipe` trains one on a dataset with an honest protocol: validation is carved from
the training split (:func:`fercourse.data.train_val_split`, fixed seed), every choice (best epoch,
early stopping, learning-rate drops) is made on it, and the test split is never touched. It
checkpoints the best epoch, keeps a ``*.last.keras`` checkpoint with a state file so
``resume=True`` continues the epoch count and the schedule, and writes a JSON record
(:class:`TrainRecord`) next to the model. :func:`fercourse.models.scoring.evaluate_saved` scores the
saved model once.

Examples
--------
>>> sorted(RECIPES)
['reference', 'seed_cnn']
>>> RECIPES["reference"].tta, RECIPES["seed_cnn"].tta, RECIPES["seed_cnn"].schedule
('shift', None, 'plateau')
>>> RECIPES["reference"].budget_for(quick=True)
Budget(epochs=10, minutes=None, batch_size=32)
>>> learning_rate_at = RECIPES["reference"].learning_rate_at()  # the one-cycle rate by budget progress
>>> [round(learning_rate_at(progress), 8) for progress in (0.0, 0.25, 1.0)]
[8e-05, 0.002, 1e-08]
"""

from __future__ import annotations

import functools
import math
import os
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from types import MappingProxyType
from typing import Callable

import numpy as np

from fercourse.config import VALIDATION_SEED, VALIDATION_SHARE, Budget
from fercourse.data.splits import validation_split
from fercourse.errors import InputError
from fercourse.provenance import library_versions, machine_info
from fercourse.training.precision import bfloat16_is_fast, dtype_policy, layer_precision
from fercourse.training.record import (
    ArtifactPaths,
    ResumeState,
    RunSettings,
    TrainRecord,
    artifact_paths,
    budget_dict,
)


@dataclass(frozen=True)
class Recipe:
    """A named way to train the course CNN.

    Attributes
    ----------
    name, description : str
    variant : str
        The ``build_model("cnn", variant=...)`` architecture.
    augment : Mapping
        Options for :func:`fercourse.models.make_augmentation` (empty: no augmentation).
    learning_rate : float
        Initial (``plateau``) or peak (``one_cycle``) learning rate.
    schedule : str
        ``"plateau"``: halve on a 3-epoch validation-loss plateau; ``"one_cycle"``: warm up then
        anneal over the budget, see :meth:`learning_rate_at`.
    pct_start : float
        ``one_cycle`` only: the share of the budget spent warming up (0.25, a little shorter than
        :func:`fercourse.training.schedules.one_cycle`'s default 0.3, as the recipes have always trained).
    budget : fercourse.config.Budget
        The full recipe's default epochs and its batch size.
    width : int
        Filters of the first convolution block (doubling per block).
    stem_convs : int
        Convolutions in the first (full-resolution) block of the ``reference`` variant.
    label_smoothing, weight_decay : float
        0 / None leave them off (plain Adam).
    patience : int or None
        Stop after this many epochs without a better validation accuracy; None: never.
    tta : str or None
        The test-time augmentation it is scored with (:func:`fercourse.models.predict.tta_views`):
        None, ``"flip"`` or ``"shift"``.
    bfloat16 : bool
        Compute in bfloat16 (Keras ``mixed_bfloat16``; weights stay float32) where the hardware
        runs it natively: a GPU, or a CPU with AMX or AVX512-BF16 (about 1.9x faster for the
        reference CNN on this course's CPU). Elsewhere it trains in float32.
    quick_budget : fercourse.config.Budget
    quick_width : int
    quick_dropout_rate : float
        The ``quick=True`` setting (CI, the autograder's reference solution): a narrow model
        without augmentation and with less dropout, trained for few epochs of small batches
        (batch-norm statistics need a few hundred steps to settle).
    """

    name: str
    description: str
    variant: str
    augment: MappingProxyType
    learning_rate: float
    schedule: str
    budget: Budget
    width: int = 32
    stem_convs: int = 2
    label_smoothing: float = 0.0
    weight_decay: float | None = None
    patience: int | None = None
    tta: str | None = None
    bfloat16: bool = False
    quick_budget: Budget = field(default_factory=lambda: Budget(epochs=10, batch_size=32))
    quick_width: int = 16
    quick_dropout_rate: float = 0.0
    pct_start: float = 0.25

    def budget_for(self, quick: bool) -> Budget:
        """The budget (epochs, batch size) of the full (``quick=False``) or the quick setting."""
        return self.quick_budget if quick else self.budget

    def learning_rate_at(self) -> Callable[[float], float] | None:
        """``rate(progress)``: the learning rate at a share of the budget; None unless one-cycle.

        The recipe loop sets it before every batch (:func:`fercourse.training.schedules.one_cycle_rate`
        with this recipe's peak ``learning_rate`` and ``pct_start``). The ``plateau`` schedule is
        Keras's ``ReduceLROnPlateau`` callback instead.
        """
        if self.schedule != "one_cycle":
            return None
        from fercourse.training.schedules import one_cycle_rate

        return functools.partial(one_cycle_rate, max_learning_rate=self.learning_rate,
                                 pct_start=self.pct_start)

    def precision(self) -> str:
        """The Keras dtype policy this recipe trains with on this machine."""
        return "mixed_bfloat16" if self.bfloat16 and bfloat16_is_fast() else "float32"

    def build(self, *, quick: bool = False, seed: int | None = None):
        """The compiled, untrained Keras model of this recipe (``quick``: the narrow one)."""
        from fercourse.models import build_model

        if quick:  # small data, few epochs: regularisation only slows the first epochs down
            width, augment, dropout_rate = self.quick_width, False, self.quick_dropout_rate
        else:  # dropout_rate None: the variant's own
            width, augment, dropout_rate = self.width, dict(self.augment) or False, None
        with dtype_policy(self.precision()):
            return build_model("cnn", variant=self.variant, augment=augment, learning_rate=self.learning_rate,
                               label_smoothing=self.label_smoothing, weight_decay=self.weight_decay,
                               seed=seed,
                               width=width, stem_convs=self.stem_convs, dropout_rate=dropout_rate)


RECIPES: dict[str, Recipe] = {
    "seed_cnn": Recipe(
        name="seed_cnn", variant="bn", schedule="plateau", learning_rate=1e-3,
        budget=Budget(epochs=50, batch_size=64),
        augment=MappingProxyType({"flip": True, "rotation": 0.05, "translation": 0.1, "zoom": 0.1,
                                  "contrast": 0.0}),
        patience=10,
        description="the seed courses' 4-block CNN (batch norm, dropout) with augmentation, Adam 1e-3, "
                    "learning rate halved on a validation-loss plateau, early stopping"),
    "reference": Recipe(
        name="reference", variant="reference", schedule="one_cycle", learning_rate=2e-3,
        budget=Budget(epochs=80, batch_size=64), width=40, stem_convs=1, label_smoothing=0.1,
        weight_decay=0.01, tta="shift",
        bfloat16=True,
        augment=MappingProxyType({"flip": True, "rotation": 0.05, "translation": 0.0, "zoom": 0.1,
                                  "contrast": 0.2, "crop": 40}),
        description="VGG-style CNN (width 40; one convolution at full resolution, then double "
                    "convolutions) trained on random 40x40 windows of the faces with augmentation, AdamW "
                    "(weight decay 0.01), label smoothing 0.1, one-cycle learning rate over the budget, "
                    "bfloat16 where native, centre window and flip-and-shift TTA at evaluation"),
}


def get_recipe(name: str) -> Recipe:
    """The recipe called ``name``; ValueError listing the known names otherwise."""
    if name not in RECIPES:
        raise InputError(f"recipe {name!r} is unknown: expected one of {', '.join(RECIPES)}")
    return RECIPES[name]


def _batches(x: np.ndarray, y: np.ndarray, batch_size: int, *, shuffle: bool = False):
    """An endless ``tf.data`` stream of (images, labels) batches, one pass of the arrays per epoch.

    On this course's 2-core machine, ``model.fit`` on NumPy arrays (tf.data with autotuned
    prefetching, a new iterator each epoch) left the CPU idle for 15-30 s in about 40% of the
    epochs, which then took 1.5-2x as long. This stream is created once (one pass of the arrays per
    ``steps_per_epoch`` batches, the last batch of a pass smaller) and prefetches a fixed two
    batches with tf.data's autotuning off; the stalls are gone. ``shuffle`` reorders every pass
    with TensorFlow's global seed (:func:`fercourse.set_seed`).
    """
    import tensorflow as tf

    x, y = tf.constant(x), tf.constant(y)
    order = tf.data.Dataset.range(len(x))
    if shuffle:
        order = order.shuffle(len(x), reshuffle_each_iteration=True)
    batches = order.batch(batch_size).map(lambda index: (tf.gather(x, index), tf.gather(y, index)))
    options = tf.data.Options()
    options.autotune.enabled = False
    return batches.repeat().prefetch(2).with_options(options)


def _check_budget(epochs, minutes) -> None:
    if epochs is not None and (not isinstance(epochs, (int, np.integer)) or epochs < 1):
        raise InputError(f"epochs is {epochs!r}: expected a positive whole number")
    if minutes is not None and not minutes > 0:
        raise InputError(f"minutes is {minutes!r}: expected a positive number of minutes")


def _saved_state(paths: ArtifactPaths, settings: RunSettings) -> ResumeState | None:
    """The saved state of an earlier session of this run, or None without a checkpoint."""
    if not (paths.state.exists() and paths.last.exists()):
        return None
    return ResumeState.load(paths.state, expected=settings)


def _budget(recipe: Recipe, saved: ResumeState | None, epochs: int | None, minutes: float | None,
            quick: bool) -> Budget:
    """This session's budget: what was asked for, else the saved run's, else the recipe's epochs."""
    if saved is not None:
        epochs = epochs if epochs is not None else saved.budget.epochs
        minutes = minutes if minutes is not None else saved.budget.minutes
    epochs = epochs or recipe.budget_for(quick).epochs
    return Budget(epochs=int(epochs), minutes=minutes)


def _start_or_resume(recipe: Recipe, paths: ArtifactPaths, settings: RunSettings, saved: ResumeState | None,
                     budget: Budget):
    """The model and the state to train on: a fresh build, or the last checkpoint of ``saved``."""
    import keras

    import fercourse.models.layers  # noqa: F401 - registers the custom classes for loading

    if saved is None:
        for stale in (paths.last, paths.state):  # an old run's checkpoint must never be resumed into this one
            stale.unlink(missing_ok=True)
        return recipe.build(quick=settings.quick, seed=settings.seed), ResumeState(settings, budget)
    saved.budget = budget
    return keras.models.load_model(paths.last), saved  # each layer keeps its saved dtype policy


def _fit(recipe: Recipe, model, state: ResumeState, paths: ArtifactPaths, train, val, *,
         verbose: int) -> None:
    """Train ``model`` until the budget in ``state`` is spent or early stopping ends it; the monitor saves."""
    import keras

    from fercourse.models import model_input
    from fercourse.training.monitor import RecipeMonitor

    epochs, minutes = state.budget.epochs, state.budget.minutes
    x_train, y_train = model_input(model, train.images), train.labels
    x_val, y_val = model_input(model, val.images), val.labels
    batch_size = recipe.budget_for(state.settings.quick).batch_size
    steps = math.ceil(len(x_train) / batch_size)
    monitor = RecipeMonitor(paths=paths, state=state, epochs=epochs, steps_per_epoch=steps,
                            seconds=None if minutes is None else 60.0 * minutes, patience=recipe.patience,
                            lr_at=recipe.learning_rate_at(), verbose=verbose)
    callbacks = [monitor]
    if recipe.schedule == "plateau":
        callbacks.insert(0, keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=3,
                                                              min_lr=1e-5))
    out_of_time = minutes is not None and state.train_seconds >= 60.0 * minutes
    if state.epochs_done < epochs and state.stopped_by != "early_stopping" and not out_of_time:
        model.fit(_batches(x_train, y_train, batch_size, shuffle=True), steps_per_epoch=steps, epochs=epochs,
                  initial_epoch=state.epochs_done, validation_data=_batches(x_val, y_val, batch_size),
                  validation_steps=math.ceil(len(x_val) / batch_size), shuffle=False, callbacks=callbacks,
                  verbose=1 if verbose == 1 else 0)
    elif verbose:
        print(f"nothing to train: {state.epochs_done} of {epochs} epochs done "
              f"(stopped by {state.stopped_by})", file=sys.stderr, flush=True)
    if not paths.model.exists():
        raise RuntimeError(f"training wrote no checkpoint to {paths.model}")


def _record(recipe: Recipe, dataset, train, val, state: ResumeState, paths: ArtifactPaths, *,
            resumed_from: int, precision: str, wall_start: float, machine_before: dict) -> TrainRecord:
    """The :class:`TrainRecord` of a finished session."""
    settings, history = state.settings, state.history
    test_size = len(dataset.test) if "test" in dataset else 0
    return TrainRecord(
        recipe=recipe.name, quick=settings.quick, data=dataset.source, seed=settings.seed,
        split_sizes={"train": len(train), "val": len(val), "test": test_size},
        validation=f"{VALIDATION_SHARE:.0%} of train, stratified, seed {VALIDATION_SEED} "
                   "(fercourse.data.train_val_split)",
        budget=budget_dict(state.budget), epochs_run=state.epochs_done, best_epoch=state.best_epoch,
        best_val_accuracy=round(state.best_val_accuracy, 4),
        final_val_accuracy=round(history[-1]["val_accuracy"], 4) if history else float("nan"),
        stopped_by=state.stopped_by or "epochs", partial_last_epoch=state.partial_last_epoch,
        resumed=resumed_from > 0, resumed_from_epoch=resumed_from,
        train_seconds=round(state.train_seconds, 1),
        wall_seconds=round(time.perf_counter() - wall_start, 1), tta=recipe.tta, precision=precision,
        width=recipe.quick_width if settings.quick else recipe.width,
        batch_size=recipe.budget_for(settings.quick).batch_size,
        model_path=str(paths.model), last_checkpoint=str(paths.last), versions=library_versions(),
        machine={**machine_before, "load_average_1min_end": machine_info()["load_average_1min"]},
        history=history, finished_at=datetime.now(timezone.utc).isoformat(timespec="seconds"))


def train_recipe(name: str | Recipe, dataset, out: str | os.PathLike, epochs: int | None = None,
                 minutes: float | None = None, seed: int = 0, quick: bool = False, resume: bool = False,
                 verbose: int = 0) -> TrainRecord:
    # Over 60 lines: a 40-line docstring (budget and resume rules); the body is named steps.
    """Train recipe ``name`` on ``dataset`` and save the best epoch (by validation accuracy) to ``out``.

    Parameters
    ----------
    name : str
        A key of :data:`RECIPES`, or a :class:`Recipe` of one's own (a recorded experiment's arm).
    dataset : Dataset or str
        A :class:`fercourse.data.Dataset`, or a source for :func:`fercourse.data.load`.
    out : path-like
        The ``.keras`` file for the best model. Beside it: ``<stem>.json`` (the record),
        ``<stem>.last.keras`` and ``<stem>.last.json`` (the resume checkpoint and its state);
        see :func:`~fercourse.training.record.artifact_paths`.
    epochs : int, optional
        Epoch budget; default the recipe's (``quick``: its ``quick_budget``'s). With only
        ``minutes`` given, the epoch budget is the recipe's too, and the time usually ends first.
    minutes : float, optional
        Wall-time budget for training, checked after every batch; the epoch in progress is then
        validated and checkpointed, and the record says ``stopped_by="time_budget"``.
    seed : int
        Seeds weights, augmentation and batch order (:func:`fercourse.set_seed`). The validation
        split is the same for every seed.
    quick : bool
        The recipe's quick setting: its narrow model and few epochs.
    resume : bool
        Continue from ``<stem>.last.keras``: the epoch count, the optimizer and the schedule go on
        where they stopped. Budgets are totals over all sessions; a budget left out keeps the saved
        one. Without a checkpoint, training starts fresh.
    verbose : int
        0 silent; 1 Keras progress bars and one summary line per epoch; 2 only the summary lines.

    Returns
    -------
    TrainRecord
        Also written to ``<stem>.json``.
    """
    from fercourse import set_seed
    from fercourse.data import load

    recipe = name if isinstance(name, Recipe) else get_recipe(name)
    _check_budget(epochs, minutes)
    wall_start = time.perf_counter()
    paths = artifact_paths(out)
    paths.model.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(dataset, (str, os.PathLike)):
        dataset = load(dataset)
    train, val = validation_split(dataset)
    settings = RunSettings(recipe=recipe.name, quick=quick, seed=seed, data=dataset.source,
                           n_train=len(train))
    saved = _saved_state(paths, settings) if resume else None
    if resume and saved is None and verbose:
        print(f"no checkpoint at {paths.last}: starting fresh", file=sys.stderr, flush=True)
    resumed_from = saved.epochs_done if saved is not None else 0
    set_seed(seed + resumed_from)  # a resumed session draws new batches
    budget = _budget(recipe, saved, epochs, minutes, quick)
    model, state = _start_or_resume(recipe, paths, settings, saved, budget)
    machine_before = machine_info()
    _fit(recipe, model, state, paths, train, val, verbose=verbose)
    record = _record(recipe, dataset, train, val, state, paths, resumed_from=resumed_from,
                     precision=layer_precision(model), wall_start=wall_start, machine_before=machine_before)
    record.save(paths.record)
    return record


__all__ = ["RECIPES", "ArtifactPaths", "Recipe", "ResumeState", "TrainRecord", "artifact_paths", "get_recipe",
           "train_recipe"]
