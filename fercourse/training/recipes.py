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
(:class:`TrainRecord`) next to the model. :func:`evaluate_saved` scores a saved model once.

Examples
--------
>>> sorted(RECIPES)
['reference', 'seed_cnn']
>>> RECIPES["reference"].tta, RECIPES["seed_cnn"].tta, RECIPES["seed_cnn"].schedule
('shift', False, 'plateau')
>>> round(one_cycle_lr(0.0, 1e-3), 6), one_cycle_lr(0.25, 1e-3), one_cycle_lr(1.0, 1e-3) < 1e-6
(4e-05, 0.001, True)
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from types import MappingProxyType

import numpy as np

from fercourse.training.record import TrainRecord, artifact_paths, library_versions, machine_info

VAL_FRACTION = 0.1
VAL_SEED = 0  # one validation split for every recipe and seed, so runs are comparable


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
        anneal over the budget, see :func:`one_cycle_lr`.
    epochs, batch_size : int
        The full recipe's default epoch budget and batch size.
    width : int
        Filters of the first convolution block (doubling per block).
    stem_convs : int
        Convolutions in the first (full-resolution) block of the ``reference`` variant.
    label_smoothing, weight_decay : float
        0 / None leave them off (plain Adam).
    patience : int or None
        Stop after this many epochs without a better validation accuracy; None: never.
    tta : bool or str
        The test-time augmentation it is scored with (:func:`fercourse.evaluate.tta_views`):
        False, ``"flip"`` or ``"shift"``.
    bfloat16 : bool
        Compute in bfloat16 (Keras ``mixed_bfloat16``; weights stay float32) where the hardware
        runs it natively: a GPU, or a CPU with AMX or AVX512-BF16 (about 1.9x faster for the
        reference CNN on this course's CPU). Elsewhere it trains in float32.
    quick_epochs, quick_width, quick_batch_size : int
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
    epochs: int
    batch_size: int
    width: int = 32
    stem_convs: int = 2
    label_smoothing: float = 0.0
    weight_decay: float | None = None
    patience: int | None = None
    tta: bool | str = False
    bfloat16: bool = False
    quick_epochs: int = 10
    quick_width: int = 16
    quick_batch_size: int = 32
    quick_dropout_rate: float = 0.0

    def precision(self) -> str:
        """The Keras dtype policy this recipe trains with on this machine."""
        return "mixed_bfloat16" if self.bfloat16 and bfloat16_is_fast() else "float32"

    def build(self, *, quick: bool = False, seed: int | None = None):
        """The compiled, untrained Keras model of this recipe (``quick``: the narrow one)."""
        from fercourse.models import build_model

        options = {"width": self.width, "augment": dict(self.augment) or False}
        if quick:  # small data, few epochs: regularisation only slows the first epochs down
            options = {"width": self.quick_width, "augment": False, "dropout_rate": self.quick_dropout_rate}
        options["stem_convs"] = self.stem_convs
        with dtype_policy(self.precision()):
            return build_model("cnn", variant=self.variant, learning_rate=self.learning_rate, seed=seed,
                               label_smoothing=self.label_smoothing, weight_decay=self.weight_decay, **options)


def bfloat16_is_fast() -> bool:
    """True on a machine that computes bfloat16 natively: a visible GPU, or a CPU with AMX/AVX512-BF16."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        flags = ""
    if "amx_bf16" in flags or "avx512_bf16" in flags:
        return True
    import tensorflow as tf

    return bool(tf.config.list_physical_devices("GPU"))


@contextmanager
def dtype_policy(name: str):
    """Set Keras's global dtype policy inside the block only (layers keep the policy they were built with)."""
    import keras

    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(name)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


RECIPES: dict[str, Recipe] = {
    "seed_cnn": Recipe(
        name="seed_cnn", variant="bn", schedule="plateau", learning_rate=1e-3, epochs=50, batch_size=64,
        augment=MappingProxyType({"flip": True, "rotation": 0.05, "translation": 0.1, "zoom": 0.1,
                                  "contrast": 0.0}),
        patience=10,
        description="the seed courses' 4-block CNN (batch norm, dropout) with augmentation, Adam 1e-3, "
                    "learning rate halved on a validation-loss plateau, early stopping"),
    "reference": Recipe(
        name="reference", variant="reference", schedule="one_cycle", learning_rate=2e-3, epochs=80,
        batch_size=64, width=40, stem_convs=1, label_smoothing=0.1, weight_decay=0.01, tta="shift", bfloat16=True,
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
        raise ValueError(f"recipe {name!r} is unknown: expected one of {', '.join(RECIPES)}")
    return RECIPES[name]


def one_cycle_lr(progress: float, max_lr: float, *, pct_start: float = 0.25, div_factor: float = 25.0,
                 final_div_factor: float = 1e4) -> float:
    """The one-cycle learning rate at ``progress`` (0 = start, 1 = end of the budget).

    Cosine warm-up from ``max_lr / div_factor`` to ``max_lr`` over the first ``pct_start`` of the
    budget, then cosine annealing to ``max_lr / (div_factor * final_div_factor)``. Progress is a
    fraction of the budget, not of a step count, so the same schedule works for an epoch budget
    and for a wall-time budget (:func:`train_recipe` takes whichever is further along).
    """
    progress = min(max(float(progress), 0.0), 1.0)
    start = max_lr / div_factor
    final = start / final_div_factor
    if progress < pct_start:
        return start + (max_lr - start) * (1 - math.cos(math.pi * progress / pct_start)) / 2
    cool = (progress - pct_start) / (1 - pct_start)
    return final + (max_lr - final) * (1 + math.cos(math.pi * cool)) / 2


def validation_split(dataset):
    """The (train, val) splits every recipe uses: 10% of train, stratified, seed 0."""
    from fercourse.data import train_val_split

    if dataset.train.labels is None:
        raise ValueError(f"{dataset.source}: the train split has no labels; training needs labelled images")
    return train_val_split(dataset.train, val_fraction=VAL_FRACTION, seed=VAL_SEED)


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
        raise ValueError(f"epochs is {epochs!r}: expected a positive whole number")
    if minutes is not None and not minutes > 0:
        raise ValueError(f"minutes is {minutes!r}: expected a positive number of minutes")


def _resume_state(paths: dict[str, Path], expected: dict) -> dict | None:
    """The saved state of an earlier run with the same ``expected`` settings, or None without one."""
    if not (paths["state"].exists() and paths["last"].exists()):
        return None
    try:
        state = json.loads(paths["state"].read_text())
    except ValueError as error:
        raise ValueError(f"{paths['state']}: cannot resume: not a JSON state file ({error})") from None
    for key, value in expected.items():
        if state.get(key) != value:
            raise ValueError(f"{paths['state']}: cannot resume: it was trained with {key}={state.get(key)!r}, "
                             f"this run asks for {key}={value!r}")
    return state


def train_recipe(name: str, dataset, out: str | os.PathLike, epochs: int | None = None,
                 minutes: float | None = None, seed: int = 0, quick: bool = False, resume: bool = False,
                 verbose: int = 0) -> TrainRecord:
    """Train recipe ``name`` on ``dataset`` and save the best epoch (by validation accuracy) to ``out``.

    Parameters
    ----------
    name : str
        A key of :data:`RECIPES`.
    dataset : Dataset or str
        A :class:`fercourse.data.Dataset`, or a source for :func:`fercourse.data.load`.
    out : path-like
        The ``.keras`` file for the best model. Beside it: ``<stem>.json`` (the record),
        ``<stem>.last.keras`` and ``<stem>.last.json`` (the resume checkpoint and its state).
    epochs : int, optional
        Epoch budget; default the recipe's (``quick``: its ``quick_epochs``). With only
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
    from fercourse.models import model_input

    recipe = get_recipe(name)
    _check_budget(epochs, minutes)
    wall_start = time.perf_counter()
    paths = artifact_paths(out)
    paths["model"].parent.mkdir(parents=True, exist_ok=True)
    if isinstance(dataset, (str, os.PathLike)):
        dataset = load(dataset)
    train, val = validation_split(dataset)
    settings = {"recipe": recipe.name, "quick": quick, "seed": seed, "data": dataset.source, "n_train": len(train)}
    state = _resume_state(paths, settings) if resume else None
    if resume and state is None and verbose:
        print(f"no checkpoint at {paths['last']}: starting fresh", file=sys.stderr, flush=True)
    if state is not None:
        epochs = epochs if epochs is not None else state["budget"]["epochs"]
        minutes = minutes if minutes is not None else state["budget"]["minutes"]
    epochs = epochs or (recipe.quick_epochs if quick else recipe.epochs)

    import keras

    import fercourse.models.layers  # noqa: F401 - registers the custom loss for loading checkpoints
    from fercourse.training.monitor import RecipeMonitor

    set_seed(seed + (state["epochs_done"] if state else 0))  # a resumed session draws new batches
    if state is None:
        for stale in ("last", "state"):  # an old run's checkpoint must never be resumed into this one
            paths[stale].unlink(missing_ok=True)
        model = recipe.build(quick=quick, seed=seed)
        state = {**settings, "epochs_done": 0,
                 "train_seconds": 0.0, "best_val_accuracy": -1.0, "best_epoch": 0, "history": [],
                 "stopped_by": None, "partial_last_epoch": False}
        resumed_from = 0
    else:
        model = keras.models.load_model(paths["last"])  # each layer keeps its saved dtype policy
        resumed_from = state["epochs_done"]
    # A loaded model's own policy reads float32 even when its layers compute in bfloat16: ask a layer.
    precision = next((layer.dtype_policy.name for layer in model.layers if layer.weights), model.dtype_policy.name)
    state["budget"] = {"epochs": int(epochs), "minutes": minutes}

    x_train, y_train = model_input("cnn", train.images), train.labels
    x_val, y_val = model_input("cnn", val.images), val.labels
    batch_size = recipe.quick_batch_size if quick else recipe.batch_size
    steps = math.ceil(len(x_train) / batch_size)
    monitor = RecipeMonitor(paths=paths, state=state, epochs=int(epochs), steps_per_epoch=steps,
                            seconds=None if minutes is None else 60.0 * minutes, patience=recipe.patience,
                            lr_at=((lambda progress: one_cycle_lr(progress, recipe.learning_rate))
                                   if recipe.schedule == "one_cycle" else None),
                            verbose=verbose)
    callbacks = [monitor]
    if recipe.schedule == "plateau":
        callbacks.insert(0, keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=3,
                                                              min_lr=1e-5))
    load_before = machine_info()
    out_of_time = minutes is not None and state["train_seconds"] >= 60.0 * minutes
    if state["epochs_done"] < epochs and state["stopped_by"] != "early_stopping" and not out_of_time:
        model.fit(_batches(x_train, y_train, batch_size, shuffle=True), steps_per_epoch=steps, epochs=int(epochs),
                  initial_epoch=state["epochs_done"], validation_data=_batches(x_val, y_val, batch_size),
                  validation_steps=math.ceil(len(x_val) / batch_size), shuffle=False, callbacks=callbacks,
                  verbose=1 if verbose == 1 else 0)
    elif verbose:
        print(f"nothing to train: {state['epochs_done']} of {epochs} epochs done "
              f"(stopped by {state['stopped_by']})", file=sys.stderr, flush=True)
    if not paths["model"].exists():
        raise RuntimeError(f"training wrote no checkpoint to {paths['model']}")
    history = state["history"]
    record = TrainRecord(
        recipe=recipe.name, quick=quick, data=dataset.source, seed=seed,
        split_sizes={"train": len(train), "val": len(val), "test": len(dataset.test) if "test" in dataset else 0},
        validation=f"{VAL_FRACTION:.0%} of train, stratified, seed {VAL_SEED} (fercourse.data.train_val_split)",
        budget=dict(state["budget"]), epochs_run=state["epochs_done"], best_epoch=state["best_epoch"],
        best_val_accuracy=round(state["best_val_accuracy"], 4),
        final_val_accuracy=round(history[-1]["val_accuracy"], 4) if history else float("nan"),
        stopped_by=state["stopped_by"] or "epochs", partial_last_epoch=state["partial_last_epoch"],
        resumed=resumed_from > 0, resumed_from_epoch=resumed_from, train_seconds=round(state["train_seconds"], 1),
        wall_seconds=round(time.perf_counter() - wall_start, 1), tta=recipe.tta, precision=precision,
        width=recipe.quick_width if quick else recipe.width, batch_size=batch_size,
        model_path=str(paths["model"]), last_checkpoint=str(paths["last"]), versions=library_versions(),
        machine={**load_before, "load_average_1min_end": machine_info()["load_average_1min"]},
        history=history, finished_at=datetime.now(timezone.utc).isoformat(timespec="seconds"))
    record.save(paths["record"])
    return record


def model_name(model) -> str:
    """The :data:`fercourse.models.KERAS_MODELS` name whose input shape ``model`` takes."""
    shape = tuple(model.input_shape[1:])
    names = {(48, 48, 1): "cnn", (2304,): "mlp", (48, 48): "lstm"}
    if shape not in names:
        raise ValueError(f"model takes inputs of shape {shape}: expected (48, 48, 1), (2304,) or (48, 48)")
    return names[shape]


def evaluate_saved(model_path: str | os.PathLike, dataset, split: str = "test", tta: bool | str = False) -> dict:
    """Score a saved Keras model on one split: accuracy, macro-F1, per-class recall, confusion.

    Parameters
    ----------
    model_path : path-like
        A ``.keras`` file (from :func:`train_recipe` or any fercourse Keras builder).
    dataset : Dataset or str
        The data, or a source for :func:`fercourse.data.load`.
    split : str
        ``"test"`` (the final, once-only score), ``"val"`` (the validation split :func:`train_recipe`
        carved from train) or ``"train"`` (the training images minus validation).
    tta : bool or str
        Test-time augmentation (:func:`fercourse.evaluate.tta_views`): ``True``/``"flip"``
        averages each face and its mirror image, ``"shift"`` also their two-pixel shifts.

    Returns
    -------
    dict
        ``model``, ``data``, ``split``, ``n``, ``tta``, ``accuracy``, ``macro_f1``,
        ``per_class_recall`` (emotion -> recall), ``confusion`` (7x7 counts, rows true,
        columns predicted, canonical order) and ``per_class`` (the DataFrame from
        :func:`fercourse.evaluate.evaluate`).
    """
    import keras

    import fercourse.models.layers  # noqa: F401 - registers the custom classes for loading
    from fercourse.data import load
    from fercourse.evaluate import confusion, evaluate, predict_proba, tta_mode

    model_path = Path(model_path)
    if not model_path.is_file():
        raise FileNotFoundError(f"{model_path}: no such model file (expected a .keras file from fercourse train)")
    if isinstance(dataset, (str, os.PathLike)):
        dataset = load(dataset)
    if split in ("val", "train"):
        chosen = dict(zip(("train", "val"), validation_split(dataset)))[split]
    elif split in dataset:
        chosen = dataset[split]
    else:
        raise ValueError(f"{dataset.source} has no {split!r} split: expected test, val or train")
    if chosen.labels is None:
        raise ValueError(f"{dataset.source}: the {split} split has no labels, so it cannot be scored "
                         "(score a submission against the answer key instead)")
    model = keras.models.load_model(model_path)
    proba = predict_proba(model, chosen.images, model_name(model), tta=tta)
    predicted = proba.argmax(axis=1)
    result = evaluate(chosen.labels, predicted, split=split)
    matrix = confusion(chosen.labels, predicted)
    return {"model": str(model_path), "data": dataset.source, "split": split, "n": result["n"], "tta": tta_mode(tta),
            "accuracy": result["accuracy"], "macro_f1": result["macro_f1"],
            "per_class_recall": {emotion: float(value) for emotion, value in result["per_class"]["recall"].items()},
            "confusion": matrix.to_numpy().tolist(), "per_class": result["per_class"]}


__all__ = ["RECIPES", "Recipe", "TrainRecord", "artifact_paths", "evaluate_saved", "get_recipe", "library_versions",
           "machine_info", "model_name", "one_cycle_lr", "train_recipe", "validation_split"]
