"""Course setup: the released data for every assignment, the pinned answer key and its public/private
split."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from pathlib import Path

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
    test_disguised: bool = True
    split: Path | None = None
    n_public: int = 0


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
                 salt: str | None = None, disguise_test: bool | None = None,
                 public_fraction: float = DEFAULT_PUBLIC_FRACTION) -> CourseData:
    # Over 60 lines: the docstring; the body is one sequence of writes.
    """Prepare the course data for every assignment and pin the answer key.

    Runs :func:`fercourse.data.writers.prepare` on ``source``, copies ``train.csv`` and ``test.csv``
    into ``course/source/<assignment>/data/`` for each assignment, writes the answer key to
    ``key_out`` (which must lie outside ``course``; mode 0600) and writes ``course/answer_key.pin.json``
    with its SHA-256 and the thresholds set to use (``dataset``: ``sample`` when ``source`` is
    ``"sample"``, else ``fer2013``). ``disguise_test`` (default: True for real data, False for
    the built-in sample) disguises the released test faces so that a pixel lookup in the public
    FER2013 does not find their labels (see :func:`~fercourse.data.writers.prepare`).

    ``salt`` seeds the ids, the disguise and the split; without one, setup draws a random salt
    (the key must not be reproducible from public defaults: anyone can run setup on the public
    sample) and keeps it beside the key (``<key>.salt``, mode 0600) for a later setup of the same
    key.

    The test ids are split into a public part (``public_fraction`` of them) and a private part,
    seeded by ``salt`` (:mod:`fercourse.grading.records.split`), written next to the key
    (``<key>.split.json``, mode 0600) and pinned too (``split_sha256`` in the pin).
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
    if salt is None:  # a public default would let anyone regenerate this key from the public sample
        salt = secrets.token_hex(16)
    with tempfile.TemporaryDirectory() as scratch:
        data = load(source, n_train=n_train, n_test=n_test, progress=None)
        release = prepare(data, scratch, salt=salt, disguise_test=disguise_test)
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

    split = PublicPrivateSplit.from_ids(read_ids(key_out), salt, public_fraction)
    split_sha256 = split.write(split_path(key_out))
    salt_file = salt_path(key_out)
    if salt_file.exists():
        salt_file.chmod(0o600)
    salt_file.write_text(salt + "\n", encoding="utf-8")
    salt_file.chmod(0o600)
    pin = {"sha256": release.answer_key_sha256, "dataset": dataset, "source": str(source),
           "n_train": release.n_train, "n_test": release.n_test, "test_disguised": release.test_disguised,
           "split_sha256": split_sha256, "public_fraction": public_fraction, "n_public": len(split.public),
           "n_private": len(split.private)}
    (course / PIN_FILE).write_text(json.dumps(pin, indent=2) + "\n", encoding="utf-8")
    return CourseData(tuple(data_dirs), key_out, release.answer_key_sha256, dataset, release.n_train,
                      release.n_test, release.test_disguised, split_path(key_out), len(split.public))
