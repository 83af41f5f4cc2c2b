"""The record of a training run: the files a run writes and the JSON it leaves beside the model.

:func:`fercourse.training.recipes.train_recipe` fills a :class:`TrainRecord`; anyone can read one back
with :meth:`TrainRecord.load` to see how a saved model was made (recipe, data, split sizes,
budget, epochs, wall time, validation accuracy, library versions, machine and its load).
"""

from __future__ import annotations

import json
import os
import platform
from dataclasses import asdict, dataclass, field
from pathlib import Path


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
    tta: bool | str
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
            raise ValueError(f"{path}: training record lacks {', '.join(missing)}")
        return cls(**{name: values[name] for name in cls.__dataclass_fields__})


def artifact_paths(out: str | os.PathLike) -> dict[str, Path]:
    """The files a run writes for model path ``out`` (``model.keras``).

    Examples
    --------
    >>> {key: path.name for key, path in artifact_paths("runs/model.keras").items()}
    {'model': 'model.keras', 'record': 'model.json', 'last': 'model.last.keras', 'state': 'model.last.json'}
    """
    out = Path(out)
    if out.suffix != ".keras":
        raise ValueError(f"model path {out}: expected a file name ending in .keras")
    stem = out.with_suffix("")
    return {"model": out, "record": stem.with_suffix(".json"), "last": Path(f"{stem}.last.keras"),
            "state": Path(f"{stem}.last.json")}


def _write_json(path: Path, values: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = path.with_name(path.name + ".tmp")
    scratch.write_text(json.dumps(values, indent=2) + "\n")
    os.replace(scratch, path)  # a crash mid-write never leaves half a file
    return path


def library_versions() -> dict[str, str]:
    """Versions of Python and the libraries that decide a trained model."""
    from importlib.metadata import PackageNotFoundError, version

    from fercourse import __version__

    versions = {"fercourse": __version__, "python": platform.python_version()}
    for package in ("tensorflow", "keras", "numpy", "scikit-learn"):
        try:
            versions[package] = version(package)
        except PackageNotFoundError:
            versions[package] = "not installed"
    return versions


def machine_info() -> dict:
    """The machine and its load (1-minute load average), so timings are read in context."""
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    return {"platform": platform.platform(), "processor": platform.machine(), "cpus": os.cpu_count(),
            "load_average_1min": None if load is None else round(load, 2)}
