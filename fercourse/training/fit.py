"""Training helpers: callbacks, fit-or-load and a small hyperparameter search.

Learning-rate schedules are in :mod:`fercourse.training.schedules`.

Class weights for imbalanced FER2013 come from :func:`fercourse.data.class_weights`; pass them
to ``fit`` as ``class_weight=``. Seed everything with :func:`fercourse.set_seed` first.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Callable

import numpy as np

from fercourse.errors import InputError


def training_callbacks(checkpoint_path: str | os.PathLike | None = None, *, monitor: str = "val_loss",
                       patience: int | None = 6, reduce_lr_patience: int | None = 3,
                       reduce_lr_factor: float = 0.5,
                       min_lr: float = 1e-5, time_limit: float | None = None, verbose: int = 0) -> list:
    """The usual callbacks: early stopping, best checkpoint, reduce-on-plateau, an optional time limit.

    Parameters
    ----------
    checkpoint_path : path-like, optional
        Save the best model so far here (a ``.keras`` file); None skips checkpointing.
    monitor : str
        The quantity to watch; ``"val_loss"`` needs validation data in ``fit``.
    patience : int or None
        Early-stop after this many epochs without improvement and restore the best weights;
        None turns early stopping off.
    reduce_lr_patience : int or None
        Halve the learning rate (``reduce_lr_factor``) after this many flat epochs; None turns it
        off. Leave it off when the optimizer already follows a schedule.
    min_lr : float
        Floor for reduce-on-plateau.
    time_limit : float, optional
        Stop training at the end of the first epoch that ends past this many seconds.
    verbose : int
        Verbosity of the Keras callbacks.

    Returns
    -------
    list of keras.callbacks.Callback
    """
    import keras

    callbacks = []
    if patience is not None:
        callbacks.append(keras.callbacks.EarlyStopping(monitor=monitor, patience=patience,
                                                       restore_best_weights=True, verbose=verbose))
    if checkpoint_path is not None:
        path = Path(checkpoint_path)
        if path.suffix != ".keras":
            raise InputError(f"checkpoint_path {path}: expected a file name ending in .keras")
        path.parent.mkdir(parents=True, exist_ok=True)
        callbacks.append(keras.callbacks.ModelCheckpoint(str(path), monitor=monitor, save_best_only=True,
                                                         verbose=verbose))
    if reduce_lr_patience is not None:
        callbacks.append(keras.callbacks.ReduceLROnPlateau(monitor=monitor, factor=reduce_lr_factor,
                                                           patience=reduce_lr_patience, min_lr=min_lr,
                                                           verbose=verbose))
    if time_limit is not None:
        from fercourse.models.layers import TimeLimit

        callbacks.append(TimeLimit(time_limit))
    return callbacks


def fit_or_load(path: str | os.PathLike, build_fn: Callable, x, y, **fit_kwargs):
    """Load the model saved at ``path`` if the file exists; otherwise build, train and save it.

    Parameters
    ----------
    path : path-like
        A ``.keras`` file. When it exists nothing is built or trained.
    build_fn : callable
        Called with no arguments to build a compiled model, e.g.
        ``lambda: build_model("cnn", variant="bn")``.
    x, y : array-like
        Training inputs (already shaped by :func:`fercourse.models.model_input`) and integer labels.
    **fit_kwargs
        Passed to ``model.fit`` (``epochs``, ``batch_size``, ``validation_data``, ``callbacks``,
        ``class_weight``, ``verbose`` ...).

    Returns
    -------
    model : keras.Model
    history : keras.callbacks.History or None
        None when the model was loaded (no training ran).

    Raises
    ------
    ValueError
        ``path`` does not end in ``.keras``, or is a folder.
    """
    import keras

    import fercourse.models.layers  # noqa: F401 - registers the custom classes for loading

    path = Path(path)
    if path.suffix != ".keras":
        raise InputError(f"model path {path}: expected a file name ending in .keras")
    if path.is_dir():
        raise InputError(f"model path {path} is a folder: expected a .keras file")
    if path.exists():
        return keras.models.load_model(path), None
    model = build_fn()
    history = model.fit(x, y, **fit_kwargs)
    path.parent.mkdir(parents=True, exist_ok=True)
    model.save(path)
    return model, history


def tune(build_fn: Callable, x, y, *, validation_data, max_trials: int = 5, epochs: int = 5,
         directory: str | os.PathLike = "tuner", project_name: str = "fercourse", seed: int = 0,
         **fit_kwargs):
    """Random hyperparameter search on a small budget with keras-tuner (installed with fercourse).

    Parameters
    ----------
    build_fn : callable
        ``build_fn(hp) -> compiled keras.Model``; use ``hp.Choice`` / ``hp.Float`` inside, e.g.
        ``lambda hp: build_model("mlp", hidden_sizes=(hp.Choice("units", [128, 256]),))``.
    validation_data : tuple
        ``(x_val, y_val)``, carved from train (never the test split).
    max_trials, epochs : int
        The budget.

    Returns
    -------
    best_model : keras.Model
    best_hyperparameters : dict

    Raises
    ------
    ImportError
        keras-tuner is not installed (``pip install 'fercourse[tuner]'``).

    Notes
    -----
    Only the best model's weights are restored, not its optimizer state: Keras's warning that
    the optimizer variables were skipped is silenced, the model predicts and trains on as usual.
    """
    try:
        import keras_tuner
    except ImportError as error:
        raise ImportError("hyperparameter search needs keras-tuner: "
                          "pip install 'fercourse[tuner]'") from error
    tuner = keras_tuner.RandomSearch(build_fn, objective="val_accuracy", max_trials=max_trials, seed=seed,
                                     directory=str(directory), project_name=project_name, overwrite=True)
    tuner.search(x, y, validation_data=validation_data, epochs=epochs, **fit_kwargs)
    best = tuner.get_best_hyperparameters(1)[0]
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
        best_model = tuner.get_best_models(1)[0]
    return best_model, dict(best.values)


def steps_per_epoch(n_samples: int, batch_size: int) -> int:
    """Batches per epoch, ``ceil(n_samples / batch_size)`` (for one-cycle's ``total_steps``)."""
    return int(np.ceil(n_samples / batch_size))


def fit_with_validation(name: str, model, train, val, *, epochs: int, batch_size: int, callbacks=(),
                        verbose: int = 0) -> tuple[dict[str, list[float]], int]:
    """Fit a built network on ``train`` (a split with ``images`` and ``labels``), validating on ``val``.

    ``name`` is the :func:`fercourse.models.build_model` name, which decides the input shape
    (:func:`fercourse.models.predict.model_input`). Returns the history and the epoch (1-based) of the
    lowest validation loss, the one early stopping on it keeps.
    """
    from fercourse.models.predict import model_input

    history = model.fit(model_input(name, train.images), train.labels,
                        validation_data=(model_input(name, val.images), val.labels), epochs=epochs,
                        batch_size=batch_size, callbacks=list(callbacks), verbose=verbose).history
    return history, int(np.argmin(history["val_loss"])) + 1
