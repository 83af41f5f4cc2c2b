"""Where a lesson saves the model it trains: one file per data source, network and mode.

``fit_or_load`` loads a saved file instead of training. A single fixed path (``cnn.keras``) would
let a model trained on the synthetic sample be loaded, and scored as if it had been trained, after
the student switches ``data`` to FER2013, or a ``simple`` CNN be evaluated as the ``bn`` one. So
the file name carries all three.

Examples
--------
>>> lesson_model_path("sample", "bn", quick=True)
'../artifacts/sample-bn-quick.keras'
>>> lesson_model_path("fer2013", "reference")
'../artifacts/fer2013-reference.keras'
>>> name = lesson_model_path("/data/faces/fer2013", "simple")
>>> name.startswith("../artifacts/fer2013-") and name.endswith("-simple.keras")
True
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

__all__ = ["lesson_model_path"]


def _data_tag(data: str) -> str:
    """``sample``/``fer2013`` as they are; a path as its name plus a short hash of the full path.

    Two copies that share a name (``train.csv`` of two releases) then still get different files.
    """
    if data in ("sample", "fer2013"):
        return data
    path = Path(str(data)).expanduser()
    name = re.sub(r"[^a-z0-9]+", "-", path.name.lower().removesuffix(".csv")).strip("-") or "data"
    digest = hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:6]
    return f"{name}-{digest}"


def lesson_model_path(data: str, variant: str, *, quick: bool = False, folder: str = "../artifacts") -> str:
    """The file a lesson saves its ``variant`` network trained on ``data`` to, below ``folder``.

    Parameters
    ----------
    data : str
        The lesson's ``data`` parameter: ``"sample"``, ``"fer2013"`` or a path.
    variant : str
        The network, e.g. lesson 5's ``cnn_variant``.
    quick : bool
        Quick mode (small data, few epochs) gets its own file.
    folder : str
        Relative to the notebook's folder, like the lessons' other paths.
    """
    return f"{folder}/{_data_tag(data)}-{variant}{'-quick' if quick else ''}.keras"
