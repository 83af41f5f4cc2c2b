"""The one vocabulary for emotion labels.

The canonical order is the order of the Kaggle ``fer2013.csv`` file. Image-folder
copies of FER2013 sort their class folders alphabetically and some spell the
classes differently (``disgusted``, ``fearful``, ``surprised``). Every loader maps
onto the canonical order here, once.

Examples
--------
>>> EMOTIONS[3]
'happy'
>>> to_index("Fearful")
2
>>> FOLDER_ORDER
('angry', 'disgust', 'fear', 'happy', 'neutral', 'sad', 'surprise')
>>> [to_index(name) for name in FOLDER_ORDER]
[0, 1, 2, 3, 6, 4, 5]
"""

from __future__ import annotations

from typing import Iterable

import numpy as np

from fercourse.errors import InputError, InputTypeError

EMOTIONS: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
"""Canonical class names; the position is the integer label."""

NUM_CLASSES: int = len(EMOTIONS)

FOLDER_ORDER: tuple[str, ...] = tuple(sorted(EMOTIONS))
"""The alphabetical order that image-folder datasets (and Keras' folder loaders) use."""

ALIASES: dict[str, str] = {
    "anger": "angry",
    "angry": "angry",
    "mad": "angry",
    "disgust": "disgust",
    "disgusted": "disgust",
    "fear": "fear",
    "fearful": "fear",
    "scared": "fear",
    "afraid": "fear",
    "happy": "happy",
    "happiness": "happy",
    "joy": "happy",
    "sad": "sad",
    "sadness": "sad",
    "surprise": "surprise",
    "surprised": "surprise",
    "neutral": "neutral",
}
"""Spellings seen in the wild, lower case, mapped to canonical names."""


EMOTION_COLORS: tuple[str, ...] = ("#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#1f77b4", "#e377c2",
                                   "#7f7f7f")
"""One colour per emotion, in canonical order (``EMOTION_COLORS[label]``): red angry, green disgust,
purple fear, orange happy, blue sad, pink surprise, gray neutral, from matplotlib's tab10. Every
plot and the demo's boxes use these, so an emotion looks the same everywhere in the course."""


def emotion_color(label: str | int) -> str:
    """The hex colour (``"#rrggbb"``) of an emotion, for matplotlib.

    Parameters
    ----------
    label : str or int
        An emotion name (any spelling :func:`canonical_name` knows) or an integer label 0-6.

    Examples
    --------
    >>> emotion_color("happy"), emotion_color(1)
    ('#ff7f0e', '#2ca02c')
    """
    return EMOTION_COLORS[to_index(label)]


def emotion_rgb(label: str | int) -> tuple[int, int, int]:
    """The colour of an emotion as an (R, G, B) tuple of ints 0-255, for drawing with OpenCV.

    The demo draws on RGB arrays, so the tuple is in RGB order (not OpenCV's usual BGR).

    Examples
    --------
    >>> emotion_rgb("happy")
    (255, 127, 14)
    """
    code = emotion_color(label)
    return tuple(int(code[i:i + 2], 16) for i in (1, 3, 5))


def canonical_name(name: str) -> str:
    """Return the canonical emotion name for any known spelling.

    Parameters
    ----------
    name : str
        A class name such as ``"Disgusted"`` or ``"SADNESS"``.

    Returns
    -------
    str
        One of :data:`EMOTIONS`.

    Raises
    ------
    ValueError
        If the name is not a known emotion spelling; the message names it.

    Examples
    --------
    >>> canonical_name("Surprised")
    'surprise'
    """
    key = str(name).strip().lower()
    if key not in ALIASES:
        raise InputError(
            f"unknown emotion name {name!r}: expected one of {', '.join(EMOTIONS)} "
            f"(or an alias such as disgusted, fearful, surprised, happiness, sadness, anger)"
        )
    return ALIASES[key]


def to_index(label: str | int) -> int:
    """Return the canonical integer label (0-6) for a name or an integer.

    Examples
    --------
    >>> to_index("neutral"), to_index(4)
    (6, 4)
    """
    if isinstance(label, (int, np.integer)) and not isinstance(label, bool):
        if not 0 <= int(label) < NUM_CLASSES:
            raise InputError(f"label {label} is out of range: expected an integer 0-{NUM_CLASSES - 1} "
                             f"({', '.join(f'{index} {name}' for index, name in enumerate(EMOTIONS))})")
        return int(label)
    if isinstance(label, str):
        return EMOTIONS.index(canonical_name(label))
    raise InputTypeError(f"label {label!r} has type {type(label).__name__}: "
                    "expected an emotion name or an integer")


def to_names(labels: Iterable[int]) -> list[str]:
    """Return canonical names for a sequence of integer labels.

    Examples
    --------
    >>> to_names([0, 6])
    ['angry', 'neutral']
    """
    return [EMOTIONS[to_index(int(label))] for label in labels]


def folder_to_canonical(folder_labels: np.ndarray) -> np.ndarray:
    """Convert labels in alphabetical folder order to canonical labels.

    Keras' ``image_dataset_from_directory`` numbers classes alphabetically; this
    undoes that.

    Examples
    --------
    >>> folder_to_canonical(np.array([4, 5, 6])).tolist()  # neutral, sad, surprise
    [6, 4, 5]
    """
    mapping = np.array([to_index(name) for name in FOLDER_ORDER])
    return mapping[np.asarray(folder_labels, dtype=np.int64)]
