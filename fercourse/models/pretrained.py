"""The FER2013 model that ships with fercourse: load it, and make such a file from a training run.

``fercourse/models/weights/fer2013_reference.keras`` is the ``reference`` recipe trained on
FER2013's Training split (``fercourse train --recipe reference``), the epoch chosen on the held-out
validation tenth, saved for inference only (no optimizer state, float32 weights). Beside it,
``fer2013_reference.json`` records how it was trained and what it scored on PublicTest; the model
card (``MODEL_CARD.md`` at the top of the repository, a page of the book) says the same for
people. The weights are the only FER2013-derived file in the package; the images are never
redistributed.

:func:`pretrained` is what :class:`fercourse.demo.EmotionDetector` and ``fercourse detect`` use
when no model is given; ``fercourse evaluate pretrained`` scores it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from fercourse.errors import InputError

#: What ``fercourse evaluate``/``fercourse detect`` accept in place of a path for the shipped model.
PRETRAINED_NAME = "pretrained"
WEIGHTS_FILE = "fer2013_reference.keras"
RECORD_FILE = "fer2013_reference.json"
#: Largest model file the package may carry (the repository's limit for the one FER2013-derived file).
MAX_BYTES = 10 * 1024 * 1024


def pretrained_path() -> Path:
    """Where the shipped model file lies (inside the installed package).

    Raises
    ------
    FileNotFoundError
        The installed package has no model file (a build that left out the package data).
    """
    from importlib.resources import files

    path = Path(str(files("fercourse.models") / "weights" / WEIGHTS_FILE))
    if not path.is_file():
        raise FileNotFoundError(f"{path}: the pretrained model is missing from this installation of "
                                "fercourse (expected package data fercourse/models/weights/"
                                f"{WEIGHTS_FILE}); reinstall fercourse, or pass your own model file")
    return path


def pretrained_record() -> dict:
    """How the shipped model was trained and scored: the JSON record beside the weights."""
    path = pretrained_path().with_name(RECORD_FILE)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no record beside the pretrained model")
    return json.loads(path.read_text(encoding="utf-8"))


def pretrained():
    """The seven-class FER2013 CNN that ships with fercourse, ready for inference.

    Takes (n, 48, 48, 1) float32 faces with pixels in [0, 1] (gray, FER2013-style crops) and
    returns (n, 7) probabilities in canonical label order (:data:`fercourse.EMOTIONS`). Its
    accuracy, macro-F1 and per-class recall on FER2013 PublicTest are in
    :func:`pretrained_record` and the model card.

    Loaded with Keras' safe mode and without optimizer (``compile=False``).

    Examples
    --------
    >>> model = pretrained()  # doctest: +SKIP
    >>> model.input_shape, model.output_shape  # doctest: +SKIP
    ((None, 48, 48, 1), (None, 7))
    """
    return load_inference_model(pretrained_path())


def resolve_model_path(model: str | os.PathLike) -> Path:
    """``"pretrained"`` means the shipped model's file; any other value is a path, returned as given."""
    return pretrained_path() if str(model) == PRETRAINED_NAME else Path(model)


def load_inference_model(path: str | os.PathLike):
    """A saved Keras model for prediction only: safe mode, no optimizer, fercourse's layers known."""
    import keras

    import fercourse.models.layers  # noqa: F401 - registers the custom layers a saved model may use

    path = Path(path)
    try:
        return keras.saving.load_model(path, compile=False, safe_mode=True)
    except (ValueError, OSError, TypeError) as error:
        raise InputError(f"{path}: could not load a Keras model: {error}") from None


def export_for_inference(source: str | os.PathLike, target: str | os.PathLike) -> Path:
    """Save a trained model for inference only: float32 weights, no optimizer state.

    A recipe checkpoint carries the AdamW moments (twice the weights again) and may compute in
    ``mixed_bfloat16``; neither is wanted in a model people load on any CPU. The exported file
    predicts what the source predicts (to float32 rounding).

    Parameters
    ----------
    source : path-like
        A ``.keras`` file from ``fercourse train``.
    target : path-like
        Where to write the inference model (``.keras``).

    Returns
    -------
    Path
        ``target``.
    """
    import keras

    trained = load_inference_model(source)
    config = _float32_config(trained.get_config())
    model = trained.__class__.from_config(config)
    model.set_weights(trained.get_weights())
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    keras.saving.save_model(model, target)
    return target


def _float32_config(value):
    """A model config with every layer's dtype policy set to float32 (mixed precision dropped)."""
    if isinstance(value, dict):
        if value.get("class_name") == "DTypePolicy" and isinstance(value.get("config"), dict):
            return {**value, "config": {**value["config"], "name": "float32"}}
        return {key: _float32_config(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_float32_config(item) for item in value]
    return value


__all__ = ["MAX_BYTES", "PRETRAINED_NAME", "export_for_inference", "load_inference_model", "pretrained",
           "pretrained_path", "pretrained_record", "resolve_model_path"]
