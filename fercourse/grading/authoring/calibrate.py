"""``fercourse grade calibrate``: measure an assignment's reference solution over seeds, set three tiers.

Each tier has a meaning, recorded with it (:data:`TIER_RULES`):

- tier 1: **beats the simple baselines the lessons taught** (lesson 1's floor, always the majority
  class; lesson 2's Gaussian naive Bayes on the pixels, fitted on the released training set) by a
  margin of test rows;
- tier 3: **reachable by a correct solution on any machine**: the mean of the reference solution's
  accuracies over at least three seeds (:data:`DEFAULT_SEEDS`) minus two standard deviations;
- tier 2: halfway.

:func:`tiers_from_runs` places them; :func:`calibrate` measures (:func:`measure`) and writes the
tiers with the seeds, the per-seed accuracies, their mean and spread, the baselines and the rules
under ``"calibration"`` in ``thresholds.json``.

The description below is of the single-run rule this module used before, which
:func:`tiers_between` still computes (kept for comparison; ``calibrate`` no longer uses it):

The tiers of ``thresholds.json`` sit between two measured accuracies on the released test set:
the **dummy** (always the majority class of the released training labels: what a submission
earns without learning anything) and the **reference** (the source notebook's own solution,
run unchanged). :func:`calibrate` prepares the data as ``fercourse grade setup`` does (same ids,
faces as in the source), runs the reference from a
scratch copy of ``source/NAME/`` (never inside ``source/``, whose files are released), scores
its ``submission.csv`` and the dummy against the answer key, and places the tiers with a margin
of ``margin_rows`` test rows on either side:

    dummy + margin <= tier 1 < tier 2 < tier 3 <= reference - margin

tier 2 halfway. The margin is 1% of the test rows (at least 3): a submission has to do a few
faces better than the dummy for the first point, and an honest run of the reference recipe may
land that many faces below the reference and still take every point. With less than four
margins between dummy and reference the tiers would be closer to each other than to the noise,
and nothing is written. What was measured (accuracies, rows, date, library versions, data
source) is recorded next to the tiers, under ``"calibration"``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import numpy as np

from fercourse.errors import InputError
from fercourse.grading.authoring.tier_rules import (  # noqa: F401 - the rules' names, also read from here
    DEFAULT_SEEDS,
    MIN_SEEDS,
    SIMPLE_BASELINES,
    SPREAD_FACTOR,
    TIER_RULES,
    default_margin_rows,
    reference_spread,
    tier_rules,
    tiers_between,
    tiers_from_runs,
)
from fercourse.grading.instructor_files import THRESHOLDS_FILE

#: Libraries whose versions a calibration records (the reference's accuracy depends on them).
RECORDED_PACKAGES = ("fercourse", "numpy", "scikit-learn", "keras", "tensorflow", "nbgrader", "papermill")
_SCRATCH_IGNORE = ("data", "submission.csv", "*.keras", ".ipynb_checkpoints", "__pycache__")
#: A calibration record's fields, in the order thresholds.json shows them.
RECORD_FIELDS = ("date", "data", "n_train", "n_test", "seeds", "reference_accuracies",
                 "validation_accuracies", "test_minus_validation_points",
                 "reference_accuracy", "reference_std", "reference_spread", "baselines", "dummy_accuracy",
                 "dummy_predicts",
                 "margin_rows", "tiers", "rules", "reference_seconds", "versions")


@dataclass(frozen=True)
class Calibration:
    """What :func:`calibrate` measured and the tiers it set (``written`` False for a dry run)."""

    assignment: str
    dataset: str
    tiers: list[float]
    previous: list[float] | None
    record: dict
    written: bool


def package_versions(names=RECORDED_PACKAGES) -> dict[str, str]:
    """Installed versions of ``names`` and Python's (missing ones left out), without importing them."""
    import platform
    from importlib import metadata

    versions = {"python": platform.python_version()}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def run_reference(notebook: Path, workdir: Path, *, progress: bool = True,
                  parameters: dict | None = None) -> float:
    """Execute ``notebook`` (with papermill, ``parameters`` injected) in ``workdir``; returns the seconds.

    The kernel's own output (TensorFlow's start-up messages) goes to ``workdir/kernel.log``.

    Raises
    ------
    InputError
        A cell failed: which one, with its error.
    """
    from fercourse.course.execute import execute_notebook

    started = time.perf_counter()
    error = execute_notebook(notebook, workdir / f"executed_{notebook.name}", parameters=parameters or {},
                             cwd=workdir,
                             kernel_log=workdir / "kernel.log", progress=progress)
    if error:
        raise InputError(f"the reference solution did not run: {error}")
    return time.perf_counter() - started


def calibrate(assignment: str, data: str, course: str | Path = "autograder", *, n_train: int | None = None,
              n_test: int | None = None, dataset: str | None = None, salt: str = "fercourse",
              margin_rows: int | None = None, dry_run: bool = False,
              seeds: tuple[int, ...] = DEFAULT_SEEDS, min_spread: float | None = None,
              progress: bool = True,
              log: Callable[[str], None] | None = print) -> Calibration:
    # Over 60 lines: a 30-line numpydoc docstring; the body (checks, measure, write) is 40.
    """Calibrate ``assignment``'s tiers on ``data``; write them, with what was measured, to thresholds.json.

    Parameters
    ----------
    assignment : str
        A folder ``course/source/<assignment>/`` holding ``<assignment>.ipynb``, whose reference
        solution writes ``submission.csv``.
    data : str
        ``"sample"`` or a FER2013 source, as for ``fercourse grade setup``.
    n_train, n_test : int, optional
        Built-in sample only: its size (the CI course uses 1,400/280).
    dataset : str, optional
        The thresholds set to write; default ``sample`` for the sample, ``fer2013`` otherwise.
    salt : str
        Salt of the prepared release (its ids and so its row order), as in ``grade setup``.
    margin_rows : int, optional
        The tiers' margin in test rows (default :func:`default_margin_rows`).
    dry_run : bool
        Measure and print, but write nothing.
    seeds : tuple of int
        The reference runs once per seed (the notebook's ``seed`` parameter); at least three.
    min_spread : float, optional
        Floor of the spread tier 3 allows (default: the standard error of an accuracy on the test
        rows; :func:`~fercourse.grading.authoring.tier_rules.reference_spread`). Recorded when given.

    Returns
    -------
    Calibration
    """
    from fercourse.grading.authoring.course_files import read_thresholds_table, write_thresholds_table
    from fercourse.grading.authoring.setup import thresholds_set

    log = log or (lambda line: None)
    course = Path(course).resolve()
    notebook = course / "source" / assignment / f"{assignment}.ipynb"
    if not notebook.is_file():
        raise FileNotFoundError(f"{notebook}: no such notebook: expected an assignment of the course in "
                                f"{course} (create one with `fercourse grade new`)")
    thresholds_file = course / THRESHOLDS_FILE
    table = read_thresholds_table(thresholds_file)
    if not isinstance(table.get(assignment), dict):
        raise InputError(f"{thresholds_file}: no entry {assignment!r} (an object of tiers per dataset): add "
                         f'"{assignment}": {{"sample": null, "fer2013": null}} (`fercourse grade new` does)')
    dataset = thresholds_set(data, dataset)
    if margin_rows is not None and margin_rows < 1:
        raise InputError(f"--margin-rows {margin_rows}: expected a positive number of test rows")
    if len(set(seeds)) < MIN_SEEDS:
        raise InputError(f"--seeds {','.join(map(str, seeds))}: expected at least {MIN_SEEDS} different "
                         "seeds (the top tier allows for the spread between reference runs)")

    record = measure(notebook, data, n_train=n_train, n_test=n_test, salt=salt,
                     seeds=tuple(dict.fromkeys(seeds)), progress=progress, log=log)
    n = record["n_test"]
    margin_rows = margin_rows or default_margin_rows(n)
    best_baseline = max(record.pop("baselines_exact").values())
    runs = record.pop("reference_accuracies_exact")
    tiers = tiers_from_runs(best_baseline, runs, n, margin_rows, min_spread)
    record.update(margin_rows=margin_rows, tiers=tiers, rules=tier_rules(min_spread),
                  reference_spread=round(reference_spread(runs, n, min_spread), 4))
    record = {name: record[name] for name in RECORD_FIELDS} | (
        {} if min_spread is None else {"min_spread": min_spread})
    previous = table[assignment].get(dataset)
    log(f"tiers for {assignment}/{dataset}: {', '.join(map(str, tiers))} (tier 1: best simple baseline + "
        f"{margin_rows} test rows; tier 3: reference mean {record['reference_accuracy']:.4f} - "
        f"{SPREAD_FACTOR} x spread {record['reference_spread']:.4f} (std {record['reference_std']:.4f}) "
        "over seeds "
        f"{', '.join(map(str, record['seeds']))})")
    if previous is not None and [float(t) for t in previous] != tiers:
        log(f"replacing the previous tiers {', '.join(str(t) for t in previous)}" if not dry_run else
            f"the current tiers are {', '.join(str(t) for t in previous)}")
    if not dry_run:
        table = read_thresholds_table(thresholds_file)  # fresh: the run took a while
        entry = table.setdefault(assignment, {})
        entry[dataset] = tiers
        entry.setdefault("calibration", {})[dataset] = record
        write_thresholds_table(thresholds_file, table)
        log(f"wrote {thresholds_file} ({assignment}/{dataset} and its calibration record)")
    else:
        log("dry run: nothing written")
    return Calibration(assignment, dataset, tiers, None if previous is None else [float(t) for t in previous],
                       record, not dry_run)


def measure(notebook: Path, data: str, *, n_train: int | None = None, n_test: int | None = None,
            salt: str = "fercourse", seeds: tuple[int, ...] = (0,),
            progress: bool = True, log: Callable[[str], None] = print) -> dict:
    # Over 60 lines: one scratch folder, used from the release to the scores.
    """Run the reference ``notebook`` once per seed on a release of ``data``; score it and the baselines.

    The release is prepared as ``grade setup`` does, into a scratch copy of the notebook's folder
    (never inside ``source/``).

    Returns
    -------
    dict
        The calibration record's measured fields (:data:`RECORD_FIELDS` but the tiers, margin and
        rules; ``reference_accuracy`` is the mean over the seeds), plus ``reference_accuracies_exact``
        and ``baselines_exact`` (unrounded).

    Raises
    ------
    InputError
        The reference failed or wrote no valid ``submission.csv``.
    """
    import shutil
    import tempfile

    from fercourse.data import load
    from fercourse.data.writers import prepare
    from fercourse.labels import EMOTIONS
    from fercourse.submission import AnswerKey, SubmissionError, score_submission

    source = notebook.parent
    with tempfile.TemporaryDirectory(prefix="fercourse-calibrate-") as scratch:
        scratch = Path(scratch)
        log(f"preparing the data from {data} ...")
        loaded = load(data, n_train=n_train, n_test=n_test, progress=progress)
        release = prepare(loaded, scratch / "prepared", salt=salt)
        work = scratch / source.name
        shutil.copytree(source, work, ignore=shutil.ignore_patterns(*_SCRATCH_IGNORE))
        (work / "data").mkdir()
        shutil.copyfile(release.train_csv, work / "data" / "train.csv")
        shutil.copyfile(release.test_csv, work / "data" / "test.csv")
        log(f"released {release.n_train} train and {release.n_test} test rows into a scratch copy of "
            f"{source.name}/")
        accuracies, validations, seconds = [], [], 0.0
        for seed in seeds:
            for left in [work / "submission.csv", *work.glob("*.keras")]:  # fit_or_load would load it
                left.unlink(missing_ok=True)
            log(f"running the reference solution of {notebook.name} with seed {seed} (kernel output in the "
                "scratch folder) ...")
            seconds += run_reference(work / notebook.name, work, progress=progress, parameters={"seed": seed})
            try:
                reference = score_submission(work / "submission.csv", release.answer_key)
            except SubmissionError as error:
                raise InputError(f"the reference solution of {notebook.name} (seed {seed}) wrote no valid "
                                 "submission.csv: " + "; ".join(error.problems)) from None
            accuracies.append(float(reference["accuracy"]))
            validations.append(glued_validation(work / f"executed_{notebook.name}"))
            shown = "" if validations[-1] is None else (
                f" (the notebook's validation accuracy {validations[-1]:.4f}: test - validation "
                f"{100 * (accuracies[-1] - validations[-1]):+.1f} points)")
            log(f"seed {seed}: accuracy {accuracies[-1]:.4f}{shown}")
        key = AnswerKey.read(release.answer_key)
        baselines = simple_baselines(work / "data", key)
    n = int(reference["n"])
    train_labels = np.concatenate([split.y for split in (loaded.train, loaded.val) if split is not None])
    majority = int(np.bincount(train_labels).argmax())
    mean = float(np.mean(accuracies))
    std = float(np.std(accuracies, ddof=1)) if len(accuracies) > 1 else 0.0
    log(f"reference over seeds {', '.join(map(str, seeds))}: mean accuracy {mean:.4f}, std {std:.4f} "
        f"({n} test rows, {seconds:.0f} s in all); simple baselines: "
        + ", ".join(f"{name} {accuracy:.4f}" for name, accuracy in baselines.items()))
    return {"date": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%MZ"), "data": str(data),
            "n_train": release.n_train, "n_test": n,
            "seeds": list(seeds), "reference_accuracies": [round(a, 4) for a in accuracies],
            "validation_accuracies": [None if v is None else round(v, 4) for v in validations],
            "test_minus_validation_points": [None if v is None else round(100 * (a - v), 1)
                                             for a, v in zip(accuracies, validations)],
            "reference_accuracy": round(mean, 4), "reference_std": round(std, 4),
            "baselines": {name: round(accuracy, 4) for name, accuracy in baselines.items()},
            "dummy_accuracy": round(baselines["dummy"], 4), "dummy_predicts": EMOTIONS[majority],
            "reference_seconds": round(seconds, 1), "versions": package_versions(),
            "reference_accuracies_exact": accuracies, "baselines_exact": baselines}


def glued_validation(executed: Path) -> float | None:
    """The validation accuracy an executed assignment notebook glued as ``validation_accuracy``, or None.

    The course's assignments glue it (:func:`fercourse.glue.glue`) in a locked cell after training, so
    that a calibration records how well validation predicted the graded test accuracy; a notebook
    without that cell (an older or hand-made assignment) records None.
    """
    from fercourse.course.results import harvest_glue

    value = harvest_glue(executed).get("validation_accuracy")
    return float(value) if isinstance(value, (int, float)) else None


def simple_baselines(data_dir: Path, key, names: tuple[str, ...] = SIMPLE_BASELINES) -> dict[str, float]:
    """Test accuracy of the lessons' simple baselines fitted on the release in ``data_dir`` (seed 0)."""
    from fercourse.data import as_flat, load
    from fercourse.evaluate import evaluate
    from fercourse.models import build_baseline

    release = load(str(data_dir), progress=False)
    truth = dict(zip(key.ids, key.labels))
    y_test = np.asarray([truth[test_id] for test_id in release.test.ids])
    X_train, X_test = as_flat(release.train.X), as_flat(release.test.X)
    return {name: evaluate(y_test, build_baseline(name, random_state=0).fit(X_train, release.train.y)
                           .predict(X_test), split="test")["accuracy"] for name in names}
