"""The record of a training run: the files a run writes and the JSON it leaves beside the model.

:func:`fercourse.training.recipes.train_recipe` fills a :class:`TrainRecord`; anyone can read one back
with :meth:`TrainRecord.load` to see how a saved model was made (recipe, data, split sizes,
budget, epochs, wall time, validation accuracy, library versions, machine and its load from
:func:`fercourse.provenance.provenance`).
:func:`artifact_paths` names the files (:class:`ArtifactPaths`); :class:`ResumeState` is the
progress saved beside the last checkpoint, so a later session can go on where this one stopped.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from fercourse.config import Budget
from fercourse.errors import InputError
from fercourse.files import atomic_write_text


@dataclass
class TrainRecord:
    """What one :func:`fercourse.training.recipes.train_recipe` run did; saved as JSON next to the model.

    ``epochs_run`` and ``train_seconds`` count every session of a resumed run; ``wall_seconds``
    is this call alone (data preparation, training, validation, checkpoints). ``stopped_by`` is
    ``"epochs"``, ``"time_budget"`` or ``"early_stopping"``. ``best_epoch`` is 1-based.
    """

    recipe: str
    quick: bool
    data: str
    seed: int
    split_sizes: dict
    validation: str
    budget: dict
    epochs_run: int
    best_epoch: int
    best_val_accuracy: float
    final_val_accuracy: float
    stopped_by: str
    partial_last_epoch: bool
    resumed: bool
    resumed_from_epoch: int
    train_seconds: float
    wall_seconds: float
    tta: str | None
    precision: str
    width: int
    batch_size: int
    model_path: str
    last_checkpoint: str
    versions: dict
    machine: dict
    history: list = field(default_factory=list)
    finished_at: str = ""

    def to_dict(self) -> dict:
        return asdict(self)

    def save(self, path: str | os.PathLike) -> Path:
        """Write the record as indented JSON; returns the path."""
        return _write_json(Path(path), self.to_dict())

    @classmethod
    def load(cls, path: str | os.PathLike) -> "TrainRecord":
        """Read a record written by :meth:`save`."""
        path = Path(path)
        values = json.loads(path.read_text())
        missing = [name for name in cls.__dataclass_fields__ if name not in values]
        if missing:
            raise InputError(f"{path}: training record lacks {', '.join(missing)}")
        record = cls(**{name: values[name] for name in cls.__dataclass_fields__})
        record.tta = tta_from_record(record.tta, path)
        return record


@dataclass(frozen=True)
class ArtifactPaths:
    """The files one training run writes, all beside the best model.

    Attributes
    ----------
    model : Path
        The best epoch's model (``<stem>.keras``).
    record : Path
        The :class:`TrainRecord` (``<stem>.json``).
    last : Path
        The last epoch's checkpoint, which ``resume`` continues from (``<stem>.last.keras``).
    state : Path
        The :class:`ResumeState` of that checkpoint (``<stem>.last.json``).
    """

    model: Path
    record: Path
    last: Path
    state: Path


def artifact_paths(out: str | os.PathLike) -> ArtifactPaths:
    """The files a run writes for model path ``out`` (``model.keras``).

    Examples
    --------
    >>> paths = artifact_paths("runs/model.keras")
    >>> paths.model.name, paths.record.name, paths.last.name, paths.state.name
    ('model.keras', 'model.json', 'model.last.keras', 'model.last.json')
    """
    out = Path(out)
    if out.suffix != ".keras":
        raise InputError(f"model path {out}: expected a file name ending in .keras")
    stem = out.with_suffix("")
    return ArtifactPaths(model=out, record=stem.with_suffix(".json"), last=Path(f"{stem}.last.keras"),
                         state=Path(f"{stem}.last.json"))


@dataclass(frozen=True)
class RunSettings:
    """What makes two training sessions one run: ``resume`` refuses a checkpoint whose settings differ."""

    recipe: str
    quick: bool
    seed: int
    data: str
    n_train: int


@dataclass
class ResumeState:
    """A run's progress, saved beside its last checkpoint (``<stem>.last.json``) after every epoch.

    The training monitor updates it in place. ``best_epoch`` is 1-based (0: none yet);
    ``train_seconds`` counts every session; ``stopped_by`` is None while training, then
    ``"epochs"``, ``"time_budget"`` or ``"early_stopping"``; ``history`` holds one dict per epoch.
    On disk it is one flat JSON object: the settings' fields, then the progress, then ``budget``.
    """

    settings: RunSettings
    budget: Budget
    """Totals over all sessions: ``epochs``, and ``minutes`` of training (None: no time limit)."""
    epochs_done: int = 0
    train_seconds: float = 0.0
    best_val_accuracy: float = -1.0
    best_epoch: int = 0
    history: list[dict] = field(default_factory=list)
    stopped_by: str | None = None
    partial_last_epoch: bool = False

    _PROGRESS = ("epochs_done", "train_seconds", "best_val_accuracy", "best_epoch", "history", "stopped_by",
                 "partial_last_epoch")

    def to_dict(self) -> dict:
        """The JSON object written to the state file (the format of every fercourse version so far)."""
        return {**asdict(self.settings), **{name: getattr(self, name) for name in self._PROGRESS},
                "budget": budget_dict(self.budget)}

    def save(self, path: str | os.PathLike) -> Path:
        """Write the state as indented JSON (through a scratch file); returns the path."""
        return _write_json(Path(path), self.to_dict())

    @classmethod
    def load(cls, path: str | os.PathLike, expected: RunSettings | None = None) -> "ResumeState":
        """Read a state file; with ``expected``, refuse one written by a run with other settings.

        Raises
        ------
        ValueError
            The file is not JSON, lacks a field, or (``expected``) names the first setting that differs.
        """
        path = Path(path)
        try:
            values = json.loads(path.read_text())
        except ValueError as error:
            raise InputError(f"{path}: cannot resume: not a JSON state file ({error})") from None
        if expected is not None:
            for name, value in asdict(expected).items():
                if values.get(name) != value:
                    raise InputError(f"{path}: cannot resume: it was trained with "
                                     f"{name}={values.get(name)!r}, this run asks for {name}={value!r}")
        setting_names = list(RunSettings.__dataclass_fields__)
        missing = [name for name in [*setting_names, *cls._PROGRESS, "budget"] if name not in values]
        if missing:
            raise InputError(f"{path}: cannot resume: the state file lacks {', '.join(missing)}")
        return cls(settings=RunSettings(**{name: values[name] for name in setting_names}),
                   budget=Budget(**values["budget"]), **{name: values[name] for name in cls._PROGRESS})


def _write_json(path: Path, values: dict) -> Path:
    return atomic_write_text(path, json.dumps(values, indent=2) + "\n")  # never half a file after a crash


def budget_dict(budget: Budget) -> dict:
    """A session budget as records and state files store it: ``{"epochs": ..., "minutes": ...}``."""
    return {"epochs": budget.epochs, "minutes": budget.minutes}


def tta_from_record(value, path: str | os.PathLike = "record") -> str | None:
    """A stored test-time augmentation as :func:`fercourse.models.predict_proba` takes it.

    Records written before TTA had names stored ``True`` (the mirror image, now ``"flip"``) or
    ``False`` (none, now None).

    Examples
    --------
    >>> [tta_from_record(value) for value in (False, True, None, "flip", "shift")]
    [None, 'flip', None, 'flip', 'shift']
    """
    if value is True:
        return "flip"
    if value is False or value is None:
        return None
    if value in ("flip", "shift"):
        return value
    raise InputError(f"{path}: tta is {value!r}: expected null, 'flip' or 'shift' (or true/false)")
