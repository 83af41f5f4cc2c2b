"""The Keras callback behind :func:`fercourse.training.recipes.train_recipe`.

One callback does the bookkeeping that must agree with itself across a resumed run: the wall-time
budget (checked after every batch), the learning rate by budget progress, early stopping, the best
checkpoint (by validation accuracy), the last checkpoint with its state file, and a one-line
progress summary per epoch. It imports Keras at the top, so only ``train_recipe`` imports it.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Callable

import keras

from fercourse.files import atomic_write
from fercourse.training.record import ArtifactPaths, ResumeState


def _save_model(model, path: Path) -> None:
    """Save through a scratch file, so an interrupted save never leaves a broken checkpoint."""
    atomic_write(path, model.save)


def _minutes(seconds: float) -> str:
    return f"{int(seconds // 60)}m{int(seconds % 60):02d}s"


class RecipeMonitor(keras.callbacks.Callback):
    """Budget, schedule, early stopping, checkpoints and progress for one recipe run.

    Parameters
    ----------
    paths : ArtifactPaths
        Where to save the best model (``model``), the last checkpoint (``last``) and its state (``state``).
    state : ResumeState
        The run's progress, updated in place and saved to ``paths.state`` after every epoch.
    epochs : int
        The epoch budget (total over sessions).
    steps_per_epoch : int
        Batches per full epoch.
    seconds : float, optional
        The wall-time budget (total over sessions).
    patience : int, optional
        Epochs without a better validation accuracy before stopping.
    lr_at : callable, optional
        ``lr_at(progress) -> learning rate``, set before every batch; progress is the larger of
        the epoch fraction and the time fraction of the budget.
    verbose : int
        Print one summary line per epoch to stderr when non-zero.
    """

    def __init__(self, *, paths: ArtifactPaths, state: ResumeState, epochs: int, steps_per_epoch: int,
                 seconds: float | None = None, patience: int | None = None,
                 lr_at: Callable[[float], float] | None = None, verbose: int = 0):
        super().__init__()
        self.paths, self.state = paths, state
        self.epochs, self.steps_per_epoch = int(epochs), int(steps_per_epoch)
        self.seconds, self.patience, self.lr_at, self.verbose = seconds, patience, lr_at, verbose
        self.epoch, self.batches = 0, 0

    def elapsed(self) -> float:
        """Training seconds over every session so far."""
        return self.seconds_before + time.perf_counter() - self.session_start

    def progress(self, batch: int) -> float:
        """Fraction of the budget used: the epoch fraction or the time fraction, whichever is larger."""
        done = (self.epoch * self.steps_per_epoch + batch) / (self.epochs * self.steps_per_epoch)
        if self.seconds:
            done = max(done, self.elapsed() / self.seconds)
        return min(done, 1.0)

    def on_train_begin(self, logs=None):
        self.seconds_before = float(self.state.train_seconds)
        self.session_start = time.perf_counter()
        self.state.stopped_by = None

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch, self.batches = epoch, 0
        self.epoch_start = time.perf_counter()

    def on_train_batch_begin(self, batch, logs=None):
        if self.lr_at is not None:
            self.model.optimizer.learning_rate = self.lr_at(self.progress(batch))

    def on_train_batch_end(self, batch, logs=None):
        self.batches += 1
        if self.seconds is not None and self.elapsed() >= self.seconds:
            self.state.stopped_by = "time_budget"
            self.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        state = self.state
        val_accuracy = float(logs.get("val_accuracy", float("nan")))
        learning_rate = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))
        state.history.append({"epoch": epoch + 1, "batches": self.batches, "learning_rate": learning_rate,
                              "seconds": round(time.perf_counter() - self.epoch_start, 1),
                              **{key: round(float(value), 4) for key, value in logs.items()
                                 if key in ("loss", "accuracy", "val_loss", "val_accuracy")}})
        state.epochs_done = epoch + 1
        state.partial_last_epoch = self.batches < self.steps_per_epoch
        improved = val_accuracy > state.best_val_accuracy
        if improved:
            state.best_val_accuracy, state.best_epoch = val_accuracy, epoch + 1
            _save_model(self.model, self.paths.model)
        elif self.patience is not None and epoch + 1 - state.best_epoch >= self.patience:
            state.stopped_by = "early_stopping"
            self.model.stop_training = True
        if state.stopped_by is None and epoch + 1 >= self.epochs:
            state.stopped_by = "epochs"
        state.train_seconds = round(self.elapsed(), 2)
        _save_model(self.model, self.paths.last)  # the checkpoint first: the state never runs ahead of it
        state.save(self.paths.state)
        if self.verbose:
            note = {"time_budget": " - time budget reached", "early_stopping": " - early stop"}.get(
                state.stopped_by, "")
            budget = f" of {_minutes(self.seconds)}" if self.seconds else ""
            print(f"epoch {epoch + 1}/{self.epochs}: loss {logs.get('loss', float('nan')):.3f}, "
                  f"val accuracy {val_accuracy:.3f} (best {state.best_val_accuracy:.3f} at epoch "
                  f"{state.best_epoch}){' *' if improved else ''}, lr {learning_rate:.2g}, "
                  f"{_minutes(self.elapsed())}{budget}{note}", file=sys.stderr, flush=True)
