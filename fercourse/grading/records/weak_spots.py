"""Feedback that teaches: what a submission gets wrong on the public test rows, and which lesson helps.

:func:`public_report` turns a scored submission into the lines its accuracy cell shows below the
points: per-class recall and the confusion matrix (each row normalised: the share of a true class's
faces predicted as each class), both measured on the **public** test rows only
(:mod:`fercourse.grading.records.split`), and at most :data:`MAX_HINTS` hints that name the weakest
spot and the lesson section that addresses it (:data:`SECTIONS`; a test checks that every section
named here is a heading of its lesson). Nothing here reads the private rows, the tiers or any
score but the public one, so the feedback says no more about the private rows than before.

The public rows' labels leak a little more per submission this way (a 7x7 table instead of one
accuracy); they only ever decide the public board, never the final one.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from fercourse.evaluate import evaluate
from fercourse.grading.records.split import PublicPrivateSplit
from fercourse.labels import EMOTIONS
from fercourse.submission import AnswerKey

MAX_HINTS = 3

#: Where the course teaches each remedy: (lesson number, notebook file, section heading).
SECTIONS: dict[str, tuple[int, str, str]] = {
    "imbalance": (1, "01_eda.ipynb", "Trap 2: class imbalance"),
    "floor": (1, "01_eda.ipynb", "Model: the floor"),
    "per_class": (2, "02_baselines.ipynb", "Macro-F1, and why accuracy hides disgust"),
    "rare_classes_sklearn": (2, "02_baselines.ipynb", "Giving the rare classes weight: class weights or "
                                                      "oversampling?"),
    "rare_classes_keras": (6, "06_augmentation.ipynb", "Class weights"),
    "augmentation": (6, "06_augmentation.ipynb", "Augmentation on and off"),
}

#: A class "dominates" when it takes at least this share of the predictions ...
DOMINANT_SHARE = 0.5
#: ... and this many times its share of the true labels.
DOMINANT_RATIO = 1.5


def section(name: str) -> str:
    """``lesson N, "heading"`` for a key of :data:`SECTIONS`.

    Examples
    --------
    >>> section("rare_classes_keras")
    'lesson 6, "Class weights"'
    """
    lesson, _, heading = SECTIONS[name]
    return f'lesson {lesson}, "{heading}"'


def public_confusion(key: AnswerKey, predictions: Mapping[str, int],
                     split: PublicPrivateSplit | None) -> tuple[np.ndarray, int]:
    """The 7x7 confusion counts on the public rows (every row without a split) and how many rows."""
    ids = [i for i in key.ids if split is None or i in split.public]
    truth = dict(zip(key.ids, key.labels))
    result = evaluate([truth[i] for i in ids], [predictions[i] for i in ids], split="test (public)")
    return result["confusion"].to_numpy(), result["n"]


def hints(counts: np.ndarray, *, kind: str = "sklearn") -> list[str]:
    """At most :data:`MAX_HINTS` pointers from confusion counts (rows true, columns predicted).

    ``kind`` is ``sklearn`` (a1's baselines: lesson 2's remedies) or ``keras`` (the networks:
    lesson 6's). In order: classes never predicted, one class predicted far more often than it
    occurs, the class with the lowest recall and what it is mistaken for.

    Examples
    --------
    >>> counts = np.zeros((7, 7), dtype=int)
    >>> counts[:, 3] = 10  # everything predicted happy
    >>> for line in hints(counts):
    ...     print(line[:72])
    no angry, disgust, fear, sad, surprise or neutral predicted: give the ra
    100% of your predictions are happy, which is 14% of the faces: the model
    >>> hints(counts, kind="keras")[0].split(": ")[-1]
    'give the rare classes weight, lesson 6, "Class weights"'
    """
    if kind not in ("sklearn", "keras"):
        raise ValueError(f"kind {kind!r}: expected 'sklearn' or 'keras'")
    support, predicted = counts.sum(axis=1), counts.sum(axis=0)
    total = int(counts.sum())
    out = []
    missing = [EMOTIONS[c] for c in range(len(EMOTIONS)) if support[c] > 0 and predicted[c] == 0]
    if missing:
        names = missing[0] if len(missing) == 1 else f"{', '.join(missing[:-1])} or {missing[-1]}"
        out.append(f"no {names} predicted: give the rare classes weight, {section(f'rare_classes_{kind}')}")
    if total:
        top = int(np.argmax(predicted))
        share, true_share = predicted[top] / total, support[top] / total
        if share >= DOMINANT_SHARE and share >= DOMINANT_RATIO * true_share:
            out.append(f"{share:.0%} of your predictions are {EMOTIONS[top]}, which is {true_share:.0%} of "
                       "the faces: the model learned the class frequencies, not the faces; "
                       f"{section('imbalance')} and \"{SECTIONS['floor'][2]}\"")
    recall = np.divide(np.diag(counts), support, out=np.zeros(len(support)), where=support > 0)
    candidates = [c for c in range(len(EMOTIONS)) if support[c] > 0 and predicted[c] > 0]
    if candidates:
        weakest = min(candidates, key=lambda c: (recall[c], c))
        row = counts[weakest].astype(float)
        row[weakest] = -1
        confused = int(np.argmax(row))
        if recall[weakest] < 0.5 and row[confused] > 0:
            remedy = section("per_class") if kind == "sklearn" else section("augmentation")
            out.append(f"{EMOTIONS[weakest]} is your weakest predicted class (recall {recall[weakest]:.2f}), "
                       f"most often read as {EMOTIONS[confused]} ({row[confused] / support[weakest]:.0%} of "
                       f"its faces): {remedy}")
    return out[:MAX_HINTS]


def render_report(counts: np.ndarray, n: int, *, kind: str = "sklearn", public_only: bool = True) -> str:
    """The report's text: per-class recall, the row-normalised confusion matrix and the hints."""
    support = counts.sum(axis=1)
    normalised = np.divide(counts, support[:, None], out=np.zeros(counts.shape), where=support[:, None] > 0)
    where = f"the {n} public test rows" if public_only else f"all {n} test rows"
    recall = ", ".join(f"{name} {normalised[c, c]:.2f}" if support[c] else f"{name} -"
                       for c, name in enumerate(EMOTIONS))
    width = max(len(name) for name in EMOTIONS)
    header = " " * (width + 2) + " ".join(f"{name:>8}" for name in EMOTIONS)
    rows = [f"  {name:<{width}}" + " ".join(f"{value:8.2f}" for value in normalised[c]) if support[c]
            else f"  {name:<{width}}" + " ".join(f"{'-':>8}" for _ in EMOTIONS)
            for c, name in enumerate(EMOTIONS)]
    found = hints(counts, kind=kind)
    advice = [f"- {line}" for line in found] or ["- no weak spot stands out: every class is predicted and "
                                                 "none dominates"]
    return "\n".join([f"What to work on (measured on {where} only):",
                      f"per-class recall: {recall}",
                      "confusion matrix (rows: true emotion; columns: share of its faces predicted as each):",
                      header, *rows, "hints:", *advice])


def public_report(key: AnswerKey, predictions: Mapping[str, int], split: PublicPrivateSplit | None, *,
                  kind: str = "sklearn") -> str:
    """The feedback lines of a valid submission, from the public rows only (all rows without a split).

    Examples
    --------
    >>> key = AnswerKey.from_bytes(b"id,emotion\\na,3\\nb,6\\nc,0\\nd,3\\n")
    >>> split = PublicPrivateSplit(frozenset("ab"), frozenset("cd"), 0.5, "secret")
    >>> report = public_report(key, {"a": 3, "b": 3, "c": 0, "d": 3}, split)
    >>> print(report.splitlines()[1])
    per-class recall: angry -, disgust -, fear -, happy 1.00, sad -, surprise -, neutral 0.00
    """
    counts, n = public_confusion(key, predictions, split)
    return render_report(counts, n, kind=kind, public_only=split is not None)


__all__ = ["MAX_HINTS", "SECTIONS", "hints", "public_confusion", "public_report", "render_report", "section"]
