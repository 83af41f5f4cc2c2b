"""The instructor's files: one definition that setup, the plug-ins' integrity check and the parallel
coordinator all read.

A course folder (``autograder/``) holds, at its root, files that are never released and that a
student's kernel must never change: :data:`COURSE_ROOT_FILES`. The answer key lives outside the
course folder, with files beside it named after it (:data:`KEY_SIDECARS`, the public/private
split). Adding an instructor file means adding it here, and nowhere else.

Examples
--------
>>> split_path("/private/answer_key.csv").as_posix()
'/private/answer_key.split.json'
>>> sorted(course_root_files("/course"))
['answer_key.pin.json', 'assignments.json', 'nbgrader_config.py', 'thresholds.json']
"""

from __future__ import annotations

from pathlib import Path

CONFIG_FILE = "nbgrader_config.py"
"""nbgrader's configuration of the course."""
ASSIGNMENTS_FILE = "assignments.json"
"""Per assignment: the files students submit, and the Keras model file (read by the config)."""
THRESHOLDS_FILE = "thresholds.json"
"""The accuracy tiers per assignment and dataset (secret: where the points are)."""
PIN_FILE = "answer_key.pin.json"
"""The answer key's and the split's SHA-256, written by ``fercourse grade setup``."""
COURSE_ROOT_FILES = (CONFIG_FILE, ASSIGNMENTS_FILE, THRESHOLDS_FILE, PIN_FILE)
"""Instructor files at the course root, in the order messages list them."""
SPLIT_SUFFIX = ".split.json"
"""The public/private split of the test ids, beside the key (``<key stem>.split.json``)."""
KEY_SIDECARS = (SPLIT_SUFFIX,)
"""Files beside the answer key that grading reads, by the suffix after the key's stem."""


def split_path(answer_key: str | Path) -> Path:
    """Where the split of an answer key lives: next to it, ``<key stem>.split.json``.

    Parameters
    ----------
    answer_key : path-like
        The answer key's path.

    Returns
    -------
    Path
    """
    return sidecar_path(answer_key, SPLIT_SUFFIX)


def sidecar_path(answer_key: str | Path, suffix: str) -> Path:
    """The file beside ``answer_key`` named ``<key stem><suffix>``.

    Parameters
    ----------
    answer_key : path-like
        The answer key's path.
    suffix : str
        One of :data:`KEY_SIDECARS`.

    Returns
    -------
    Path
    """
    answer_key = Path(answer_key)
    return answer_key.with_name(answer_key.stem + suffix)


def read_assignments(path: str | Path) -> dict[str, dict]:
    """The course's per-assignment table from ``assignments.json``, checked.

    Each entry is ``{"submitted_files": [...], "model_file": "..."}`` (``model_file`` only for an
    assignment that submits a Keras model, and then one of its ``submitted_files``).

    Parameters
    ----------
    path : path-like
        The course's ``assignments.json``.

    Returns
    -------
    dict
        ``assignment -> entry``, in the file's order.

    Raises
    ------
    FileNotFoundError, InputError
        The file is missing, or an entry is not of that shape (the message names it).
    """
    import json

    from fercourse.errors import InputError

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no assignments file (expected the course's {ASSIGNMENTS_FILE})")
    try:
        table = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise InputError(f"{path}: line {error.lineno}: not valid JSON ({error.msg})") from None
    if not isinstance(table, dict):
        raise InputError(f"{path}: expected a JSON object {{\"assignment\": {{\"submitted_files\": [...]}}}}")
    for name, entry in table.items():
        files = entry.get("submitted_files") if isinstance(entry, dict) else None
        if not isinstance(files, list) or not all(isinstance(f, str) and f for f in files):
            raise InputError(f"{path}: {name}.submitted_files is {files!r}: expected a list of file names")
        model = entry.get("model_file")
        if model is not None and model not in files:
            raise InputError(f"{path}: {name}.model_file is {model!r}: expected one of its submitted_files "
                             f"{files}")
        unknown = sorted(set(entry) - {"submitted_files", "model_file"})
        if unknown:
            raise InputError(f"{path}: {name} has unknown fields {unknown}: expected submitted_files and "
                             "model_file")
    return table


def course_root_files(root: str | Path, thresholds_file: str = THRESHOLDS_FILE) -> dict[str, Path]:
    """``name -> path`` of the instructor files at the course root (whether they exist or not).

    Parameters
    ----------
    root : path-like
        The course folder.
    thresholds_file : str
        The thresholds file's name relative to the root (``c.FercourseGrader.thresholds_file``).

    Returns
    -------
    dict of str to Path
    """
    root = Path(root)
    names = [thresholds_file if name == THRESHOLDS_FILE else name for name in COURSE_ROOT_FILES]
    return {name: root / name for name in names}


def key_files(answer_key: str | Path) -> dict[str, Path]:
    """The answer key and its sidecars, labelled as messages name them (``the answer key PATH``, ...).

    Parameters
    ----------
    answer_key : path-like
        The answer key's path.

    Returns
    -------
    dict of str to Path
        The key first, then each sidecar (whether it exists or not).
    """
    answer_key = Path(answer_key)
    files = {f"the answer key {answer_key}": answer_key}
    for suffix in KEY_SIDECARS:
        path = sidecar_path(answer_key, suffix)
        files[f"the public/private split {path}" if suffix == SPLIT_SUFFIX else str(path)] = path
    return files


__all__ = ["ASSIGNMENTS_FILE", "CONFIG_FILE", "COURSE_ROOT_FILES", "KEY_SIDECARS", "PIN_FILE", "SPLIT_SUFFIX",
           "THRESHOLDS_FILE", "course_root_files", "key_files", "read_assignments", "sidecar_path",
           "split_path"]
