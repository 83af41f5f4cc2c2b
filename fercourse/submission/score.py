"""Score a submission against the instructor's answer key, with the same metrics code as every other score."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fercourse.errors import DataError, SubmissionError
from fercourse.labels import EMOTIONS
from fercourse.submission.contract import MAX_BYTES, Checked, check_submission_bytes, read_bounded


@dataclass(frozen=True)
class AnswerKey:
    """The instructor's answer key: ids, canonical labels and the SHA-256 of the file's bytes."""

    ids: tuple[str, ...]
    labels: np.ndarray
    sha256: str

    @classmethod
    def from_bytes(cls, data: bytes, name: str = "answer_key.csv") -> AnswerKey:
        """Parse ``id,emotion`` bytes; raises DataError naming the problem."""
        checked = check_submission_bytes(data, None, name)
        if checked.problems:
            raise DataError(name, "not a valid answer key: " + " | ".join(checked.problems))
        ids = tuple(checked.predictions)
        labels = np.fromiter(checked.predictions.values(), dtype=np.int64, count=len(ids))
        return cls(ids, labels, hashlib.sha256(data).hexdigest())

    @classmethod
    def read(cls, path: str | Path) -> AnswerKey:
        """Read and parse an answer key file (``id,emotion``)."""
        return cls.from_bytes(read_bounded(path, max_bytes=64 * 1024 * 1024), str(path))


def score_predictions(y_true: np.ndarray, y_pred: np.ndarray) -> dict:
    """The grader's score of predicted labels, as :func:`fercourse.evaluate.evaluate` measures it.

    Returns
    -------
    dict
        ``n``, ``accuracy``, ``macro_f1`` (over the classes present in either array),
        ``per_class_recall`` (emotion -> recall, None for a class absent from ``y_true``) and
        ``per_class_support`` (emotion -> count in ``y_true``): plain types, ready for JSON.

    Examples
    --------
    >>> result = score_predictions(np.array([0, 0, 3, 3]), np.array([0, 3, 3, 3]))
    >>> result["accuracy"], round(result["macro_f1"], 4), result["per_class_recall"]["angry"]
    (0.75, 0.7333, 0.5)
    """
    from fercourse.evaluate import evaluate

    result = evaluate(y_true, y_pred, split="test")
    recall, support = result["per_class"]["recall"], result["per_class"]["support"]
    return {"n": result["n"], "accuracy": result["accuracy"], "macro_f1": result["macro_f1"],
            "per_class_recall": {name: float(recall[name]) if support[name] else None for name in EMOTIONS},
            "per_class_support": {name: int(support[name]) for name in EMOTIONS}}


def score_checked(checked: Checked, key: AnswerKey) -> dict:
    """Score an already-checked, valid submission against a key (raises SubmissionError if invalid)."""
    if checked.problems:
        raise SubmissionError(checked.problems)
    y_pred = np.fromiter((checked.predictions[i] for i in key.ids), dtype=np.int64, count=len(key.ids))
    return score_predictions(key.labels, y_pred)


def score_submission(path: str | Path, key_csv: str | Path, *, max_bytes: int = MAX_BYTES) -> dict:
    """Score a submission file against an answer key file.

    Returns
    -------
    dict
        ``n``, ``accuracy``, ``macro_f1``, ``per_class_recall`` (name -> recall, None for a class
        absent from the key), ``per_class_support`` and ``submission_sha256``.

    Raises
    ------
    SubmissionError
        The submission breaks the contract; ``.problems`` lists every problem.
    """
    key = AnswerKey.read(key_csv)
    path = Path(path)
    try:
        data = read_bounded(path, max_bytes)
    except (FileNotFoundError, DataError) as error:
        raise SubmissionError([str(error)]) from None
    result = score_checked(check_submission_bytes(data, key.ids, str(path)), key)
    result["submission_sha256"] = hashlib.sha256(data).hexdigest()
    return result


def format_score(result: dict) -> str:
    """The human-readable report ``fercourse submission score`` prints."""
    lines = [f"rows:      {result['n']}", f"accuracy:  {result['accuracy']:.4f}",
             f"macro-F1:  {result['macro_f1']:.4f}", "recall per class:"]
    for name in EMOTIONS:
        recall = result["per_class_recall"][name]
        shown = "  n/a " if recall is None else f"{recall:.4f}"
        lines.append(f"  {name:<9} {shown}  ({result['per_class_support'][name]} in the key)")
    return "\n".join(lines)


__all__ = ["AnswerKey", "format_score", "score_checked", "score_predictions", "score_submission"]
