"""Course setup: the released data for every assignment, the pinned answer key and its public/private
split."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from pathlib import Path

from fercourse.data.dataset import Dataset, Split
from fercourse.errors import InputError
from fercourse.grading.instructor_files import PIN_FILE, split_path
from fercourse.grading.records.split import DEFAULT_PUBLIC_FRACTION, PublicPrivateSplit


def salt_path(answer_key: str | Path) -> Path:
    """Where setup keeps the salt it used: beside the key, ``<key stem>.salt`` (instructor-only).

    Parameters
    ----------
    answer_key : path-like

    Returns
    -------
    Path

    Examples
    --------
    >>> salt_path("/private/answer_key.csv").as_posix()
    '/private/answer_key.salt'
    """
    answer_key = Path(answer_key)
    return answer_key.with_name(answer_key.stem + ".salt")


@dataclass(frozen=True)
class CourseData:
    """What :func:`setup_course` wrote."""

    data_dirs: tuple[Path, ...]
    answer_key: Path
    sha256: str
    dataset: str
    n_train: int
    n_test: int
    split: Path | None = None
    n_public: int = 0
    n_held: int = 0
    """Faces of the instructor-held test set (``test_set``): the private part; 0 without one."""


def thresholds_set(source: str, dataset: str | None = None) -> str:
    """Which thresholds set grades data from ``source``: ``dataset`` if given, else ``sample`` for the
    built-in sample and ``fer2013`` for anything else.

    Examples
    --------
    >>> thresholds_set("sample"), thresholds_set("../shared/fer2013"), thresholds_set("x.csv", "sample")
    ('sample', 'fer2013', 'sample')
    """
    dataset = dataset or ("sample" if source == "sample" else "fer2013")
    if dataset not in ("sample", "fer2013"):
        raise InputError(f"dataset {dataset!r}: expected 'sample' or 'fer2013' (the thresholds sets)")
    return dataset


def setup_course(source: str, course: str | Path, key_out: str | Path, *, dataset: str | None = None,
                 n_train: int | None = None, n_test: int | None = None,
                 salt: str | None = None, public_fraction: float = DEFAULT_PUBLIC_FRACTION,
                 test_set: str | Path | None = None) -> CourseData:
    # Over 60 lines: the docstring; the body is one sequence of writes.
    """Prepare the course data for every assignment and pin the answer key.

    Runs :func:`fercourse.data.writers.prepare` on ``source``, copies ``train.csv`` and ``test.csv``
    into ``course/source/<assignment>/data/`` for each assignment, writes the answer key to
    ``key_out`` (which must lie outside ``course``; mode 0600) and writes ``course/answer_key.pin.json``
    with its SHA-256 and the thresholds set to use (``dataset``: ``sample`` when ``source`` is
    ``"sample"``, else ``fer2013``). The faces are released as they are in ``source``.

    ``salt`` seeds the ids and the split; without one, setup draws a random salt
    (the key must not be reproducible from public defaults: anyone can run setup on the public
    sample) and keeps it beside the key (``<key>.salt``, mode 0600) for a later setup of the same
    key.

    The test ids are split into a public part (``public_fraction`` of them) and a private part,
    seeded by ``salt`` (:mod:`fercourse.grading.records.split`), written next to the key
    (``<key>.split.json``, mode 0600) and pinned too (``split_sha256`` in the pin).

    With ``test_set`` (an instructor-held set of labelled faces,
    :func:`~fercourse.grading.authoring.held_test_set.read_held_test_set`) the released test set
    is the source's test faces, unchanged (the public part, with the ids they get without a held
    set), plus the held faces (the private part, on which the tiers are counted);
    ``public_fraction`` is then not used.
    """
    import shutil
    import tempfile

    from fercourse.data import load
    from fercourse.data.writers import prepare

    course, key_out = Path(course).resolve(), Path(key_out).expanduser().resolve()
    assignments = sorted(p for p in (course / "source").glob("*") if p.is_dir() and list(p.glob("*.ipynb")))
    if not assignments:
        raise FileNotFoundError(f"{course / 'source'}: no assignment folders with a notebook: expected the "
                                "nbgrader course (autograder/)")
    if course in key_out.parents:
        raise InputError(f"--key-out {key_out} is inside the course folder {course}: keep the answer key "
                         "outside it, where nothing released, submitted or autograded can reach it")
    if not 0 < public_fraction < 1:
        raise InputError(f"--public-fraction {public_fraction}: expected a number strictly between 0 and 1")
    dataset = thresholds_set(source, dataset)
    held = None
    if test_set is not None:  # read before the long part, so that a bad file fails fast
        from fercourse.grading.authoring.held_test_set import read_held_test_set

        held = read_held_test_set(test_set)
    if salt is None:  # a public default would let anyone regenerate this key from the public sample
        salt = secrets.token_hex(16)
    with tempfile.TemporaryDirectory() as scratch:
        data = load(source, n_train=n_train, n_test=n_test, progress=None)
        public_ids = data.test.ids
        if held is not None:
            data = _with_held_faces(data, held, test_set)
        release = prepare(data, scratch, salt=salt)
        data_dirs = []
        for assignment in assignments:
            data_dir = assignment / "data"
            data_dir.mkdir(exist_ok=True)
            shutil.copyfile(release.train_csv, data_dir / "train.csv")
            shutil.copyfile(release.test_csv, data_dir / "test.csv")
            data_dirs.append(data_dir)
        key_out.parent.mkdir(parents=True, exist_ok=True)
        if key_out.exists():
            key_out.chmod(0o600)
        shutil.copyfile(release.answer_key, key_out)
        key_out.chmod(0o600)
    from fercourse.submission import read_ids

    if held is None:
        split = PublicPrivateSplit.from_ids(read_ids(key_out), salt, public_fraction)
    else:
        from fercourse.data.writers import release_ids

        split = PublicPrivateSplit.held_out(release_ids(salt, "test", public_ids),
                                            release_ids(salt, "test", held.ids), salt)
    split_sha256 = split.write(split_path(key_out))
    salt_file = salt_path(key_out)
    if salt_file.exists():
        salt_file.chmod(0o600)
    salt_file.write_text(salt + "\n", encoding="utf-8")
    salt_file.chmod(0o600)
    pin = {"sha256": release.answer_key_sha256, "dataset": dataset, "source": str(source),
           "n_train": release.n_train, "n_test": release.n_test, "split_sha256": split_sha256,
           "public_fraction": split.public_fraction, "n_public": len(split.public),
           "n_private": len(split.private), "held_test_set": None if held is None else str(test_set),
           "tiers_on": split.tiers_on}
    (course / PIN_FILE).write_text(json.dumps(pin, indent=2) + "\n", encoding="utf-8")
    return CourseData(tuple(data_dirs), key_out, release.answer_key_sha256, dataset, release.n_train,
                      release.n_test, split_path(key_out), len(split.public),
                      0 if held is None else len(held))


def _with_held_faces(data: Dataset, held: Split, where: str | Path) -> Dataset:
    """``data`` with the held faces appended to its test split (refused if any is a public face)."""
    import numpy as np

    from fercourse.grading.authoring.held_test_set import check_not_public

    check_not_public(held, data, where)
    test = data.test
    if test.labels is None:
        raise InputError(f"{data.source}: its test split has no labels: expected a labelled source")
    combined = Split(np.concatenate([test.images, held.images]), np.concatenate([test.labels, held.labels]),
                     np.concatenate([test.ids.astype(str), held.ids.astype(str)]))
    return Dataset({**data.splits, "test": combined}, data.source, data.class_names)
