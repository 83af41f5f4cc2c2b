"""Run the numbered lessons headless with papermill, and the small helpers the lessons share.

:func:`run_lessons` executes ``notebooks/NN_*.ipynb`` in order, injecting parameters into each
lesson's ``parameters`` cell (only the names that lesson declares), and writes the executed
copies (outputs and figures included) to an output folder, by default ``book/lessons/``, which
the book renders without executing anything again. Folders left unnamed are those of the course
checkout (:func:`~fercourse.course.checkout.find_course_root`: the current directory's, or
``course=``).

Quick mode injects :meth:`fercourse.config.QuickMode.lesson_parameters` (``quick = True``, a
small ``num_epochs``); the lessons shrink their data and budgets themselves when ``quick`` is
true. Saved models and submissions go to an artefacts folder named after the data and the mode, in
a file named after the network (``artifacts/sample-quick/cnn-simple.keras``), so a model trained on
the sample in quick mode, or another variant, is never loaded by a full run on FER2013.

Examples
--------
>>> [path.name for path in discover_lessons()][:2]
['01_eda.ipynb', '02_baselines.ipynb']
>>> artefact_folder("sample", quick=True, root="artifacts").as_posix()
'artifacts/sample-quick'
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from fercourse.config import QUICK, SAMPLE_SOURCE, is_builtin_source
from fercourse.course.build_note import mark_injected_cell
from fercourse.course.checkout import course_folders
from fercourse.errors import InputError

LESSON_PATTERN = re.compile(r"^\d\d_[a-z0-9_]+\.ipynb$")
#: Where files a lesson writes go, per parameter name, inside the artefact folder.
ARTIFACT_PARAMETERS = {"model_path": "cnn.keras", "submission_path": "submission.csv"}


@dataclass
class LessonResult:
    """How one lesson went."""

    name: str
    output: Path
    seconds: float
    error: str | None = None
    """None when it ran through; else names the failing cell and the exception."""
    cached: bool = False
    """True when the executed copy came from the lesson cache (``seconds`` is then the copy's time)."""

    @property
    def ok(self) -> bool:
        return self.error is None


def discover_lessons(notebook_dir: str | os.PathLike | None = None,
                     only: list[str] | None = None) -> list[Path]:
    """The lesson notebooks in order (``01_eda.ipynb`` ...), optionally only some of them.

    Parameters
    ----------
    notebook_dir : path-like, optional
        Default: ``notebooks/`` of the course checkout holding the current directory.
    only : list of str, optional
        Lesson names, stems or number prefixes: ``["05_cnn"]``, ``["05"]``, ``["cnn"]``.

    Raises
    ------
    FileNotFoundError
        The folder does not exist or holds no lessons.
    fercourse.errors.InputError
        A name in ``only`` matches no lesson.
    """
    folder = Path(notebook_dir) if notebook_dir is not None else course_folders().notebooks
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no such lessons folder (expected notebooks/NN_name.ipynb files)")
    lessons = sorted(path for path in folder.iterdir() if LESSON_PATTERN.match(path.name))
    if not lessons:
        raise FileNotFoundError(f"{folder}: no lesson notebooks (expected files named like 01_eda.ipynb)")
    if not only:
        return lessons
    chosen = []
    for name in only:
        key = Path(name).stem
        matches = [path for path in lessons
                   if key in (path.stem, path.stem[:2], path.stem[3:]) or path.stem.startswith(key + "_")]
        if not matches:
            raise InputError(f"--only {name}: no such lesson; expected one of "
                             f"{', '.join(path.stem for path in lessons)}")
        chosen += [path for path in matches if path not in chosen]
    return sorted(chosen)


def data_tag(data: str) -> str:
    """A short folder-safe name for a data source: ``"sample"``, ``"fer2013"`` ..."""
    name = Path(str(data).rstrip("/")).name or "data"
    return re.sub(r"[^a-z0-9]+", "-", name.lower().removesuffix(".csv")).strip("-") or "data"


def artefact_folder(data: str, quick: bool, root: str | os.PathLike | None = None) -> Path:
    """Where the lessons save models and submissions for this data and mode, below ``root``.

    ``root`` defaults to ``artifacts/`` of the course checkout holding the current directory.
    """
    root = Path(root) if root is not None else course_folders().artifacts
    return root / f"{data_tag(data)}-{'quick' if quick else 'full'}"


def lesson_parameters(notebook: str | os.PathLike) -> dict[str, object]:
    """The names and default values in a lesson's ``parameters`` cell.

    Raises
    ------
    fercourse.errors.InputError
        The notebook has no cell tagged ``parameters``, or more than one.
    """
    import nbformat

    notebook = Path(notebook)
    cells = [cell for cell in nbformat.read(notebook, as_version=4).cells
             if "parameters" in cell.get("metadata", {}).get("tags", [])]
    if len(cells) != 1:
        raise InputError(f"{notebook.name}: expected exactly one cell tagged 'parameters'; "
                         f"found {len(cells)}")
    values: dict[str, object] = {}
    exec(compile(cells[0].source, f"{notebook.name}:parameters", "exec"), {}, values)  # literals only
    return values


def injected_parameters(notebook: str | os.PathLike, *, data: str | None = None, quick: bool = False,
                        artifacts: str | os.PathLike | None = None, budgets: bool = False,
                        extra: dict[str, object] | None = None) -> dict[str, object]:
    """The parameters the runner injects into one lesson: only names the lesson declares.

    The one place a lesson's parameters are merged, later sources winning: ``data``, quick mode's
    settings, the lesson's real-data budget (``budgets``,
    :func:`fercourse.course.budgets.real_data_budget`), then ``extra`` (``-p NAME VALUE``); the artefact
    paths unless ``extra`` names them (a saved CNN's file names its ``cnn_variant``). Names the
    lesson does not declare keep their default. Paths (``data`` when it is one, the artefact files)
    are made relative to the lesson's folder, where the lesson runs: they work from there and show
    no path of the machine that built the book.
    """
    declared = lesson_parameters(notebook)
    here = Path(notebook).resolve().parent
    values: dict[str, object] = {}
    if data is not None:
        values["data"] = data if is_builtin_source(data) else _relative(Path(data).expanduser(), here)
    if quick:
        values.update(QUICK.lesson_parameters())
    if budgets:
        from fercourse.course.budgets import real_data_budget

        values.update(real_data_budget(Path(notebook).stem))
    values.update(extra or {})
    if artifacts is not None:  # the folder names the data and mode; the file, the network it holds
        folder = Path(artifacts).resolve()
        variant = values.get("cnn_variant", declared.get("cnn_variant"))
        files = {name: file.replace(".keras", f"-{variant}.keras") if variant else file
                 for name, file in ARTIFACT_PARAMETERS.items()}
        values = {**{name: _relative(folder / file, here) for name, file in files.items()},
                  **values}  # a path given with -p wins
    return {name: value for name, value in values.items() if name in declared}


def _relative(path: Path, start: Path) -> str:
    """``path`` relative to ``start`` (``..`` where needed), as a POSIX string."""
    return Path(os.path.relpath(path.resolve(), start)).as_posix()


def _remove_stale_artifacts(lesson: Path, values: dict[str, object], log: Callable[[str], None]) -> None:
    """Delete the files a lesson saves (``model_path``...) before a cached build runs it again.

    A lesson loads a saved model instead of training when the file exists (``fit_or_load``). In the
    cached publishing build a lesson runs again only because its cells, budget, data or the package
    changed, and then the model left by the earlier run belongs to the old version: the page would
    show that model's scores and no learning curves. So it trains anew.
    """
    for name, path in _artifact_paths(lesson, values).items():
        if path.is_file():
            path.unlink()
            log(f"    removed {name} = {values[name]!r} of the earlier run: the lesson changed, "
                "so it trains anew")


def _artifact_paths(lesson: Path, values: dict[str, object]) -> dict[str, Path]:
    """The files a lesson saves (:data:`ARTIFACT_PARAMETERS` it was given), by parameter name."""
    return {name: lesson.parent / str(values[name]) for name in ARTIFACT_PARAMETERS if name in values}


@dataclass
class LessonPlan:
    """What the runner will do with one lesson: the parameters it injects, its cache key, its plan."""

    lesson: Path
    values: dict[str, object]
    key: str | None = None
    """The lesson cache's key (:func:`fercourse.course.lesson_cache.lesson_key`); None without a cache."""
    planned_minutes: float | None = None
    """The real-data budget's planned minutes (publishing build only)."""

    @property
    def name(self) -> str:
        return self.lesson.stem

    def describe(self) -> str:
        shown = ", ".join(f"{key}={value!r}" for key, value in self.values.items()) or "defaults"
        planned = f", planned {self.planned_minutes:g} min" if self.planned_minutes else ""
        return f"{self.name} ({shown}{planned})"


def plan_lessons(lessons: list[Path], *, data: str | None, quick: bool, artifacts: Path, budgets: bool,
                 parameters: dict[str, object] | None, cache: bool) -> list[LessonPlan]:
    """Step 1: each lesson's parameters (:func:`injected_parameters`), cache key and planned minutes."""
    from fercourse.course.budgets import REAL_DATA_BUDGETS
    from fercourse.course.lesson_cache import lesson_key

    plans = []
    for lesson in lessons:
        values = injected_parameters(lesson, data=data, quick=quick, artifacts=artifacts, budgets=budgets,
                                     extra=parameters)
        planned = REAL_DATA_BUDGETS.get(lesson.stem) if budgets else None
        plans.append(LessonPlan(lesson, values, lesson_key(lesson, values, data) if cache else None,
                                planned.minutes if planned else None))
    return plans


def reuse_lesson(plan: LessonPlan, store, out: Path) -> tuple[LessonResult, dict] | None:
    """Step 2a: write the cached executed lesson to ``out``, with the lesson's current prose
    (:func:`~fercourse.course.lesson_cache.with_current_prose`), when an unchanged run is cached;
    else None."""
    from fercourse.course.lesson_cache import with_current_prose

    hit = store.get(plan.name, plan.key) if store is not None and plan.key else None
    if not hit:
        return None
    started = time.perf_counter()
    if not with_current_prose(hit["notebook"], plan.lesson, out / plan.lesson.name):
        return None
    mark_injected_cell(out / plan.lesson.name, plan.values)
    return LessonResult(plan.name, out / plan.lesson.name, time.perf_counter() - started, cached=True), hit


def run_lesson(plan: LessonPlan, out: Path, artifacts: Path, *, kernel_name: str = "python3") -> LessonResult:
    """Step 2b: execute the lesson (:func:`fercourse.course.execute.execute_notebook`) into ``out``.

    The kernel's own output goes to ``artifacts/logs/NN_name.kernel.log``, named in the error.
    """
    from fercourse.course.execute import execute_notebook

    log_path = artifacts / "logs" / f"{plan.name}.kernel.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log_path.write_bytes(b"")
    output = out / plan.lesson.name
    started = time.perf_counter()
    error = execute_notebook(plan.lesson, output, parameters=plan.values, cwd=plan.lesson.parent,
                             kernel_log=log_path, kernel_name=kernel_name)
    if output.is_file():
        mark_injected_cell(output, plan.values)
    return LessonResult(plan.name, output, time.perf_counter() - started,
                        None if error is None else f"{error} (kernel log: {log_path})")


def keep_lesson(plan: LessonPlan, result: LessonResult, *, store, record: str | os.PathLike | None,
                data: str | None) -> None:
    """Step 3: cache a lesson that ran through, and record what it glued when asked to (``record``)."""
    if not result.ok or result.cached:
        return
    if store is not None and plan.key:
        store.put(plan.name, plan.key, result.output, seconds=result.seconds,
                  outputs=list(_artifact_paths(plan.lesson, plan.values).values()))
    if record is not None:
        from fercourse.course.results import record_lesson

        record_lesson(result.output, parameters=plan.values, seconds=result.seconds,
                      data=data or SAMPLE_SOURCE, path=record)


def run_lessons(*, course: str | os.PathLike | None = None, notebook_dir: str | os.PathLike | None = None,
                out: str | os.PathLike | None = None, data: str | None = None, quick: bool = False,
                only: list[str] | None = None, artifacts: str | os.PathLike | None = None,
                parameters: dict[str, object] | None = None, budgets: bool = False,
                cache: bool = False, record: str | os.PathLike | None = None,
                kernel_name: str = "python3", stop_on_error: bool = True,
                log: Callable[[str], None] | None = print) -> list[LessonResult]:
    # Over 60 lines: a 50-line docstring (every folder default); the body is the three named steps.
    """Execute the lessons with papermill and write the executed copies to ``out``.

    Three named steps per lesson: :func:`plan_lessons` (parameters, cache key), then
    :func:`reuse_lesson` or :func:`run_lesson`, then :func:`keep_lesson` (cache, record).

    Parameters
    ----------
    course : path-like, optional
        The course checkout (or a folder inside it) whose folders are the defaults below; default
        the one holding the current directory. Not needed when the three folders are given.
    notebook_dir : path-like, optional
        Where the ``NN_name.ipynb`` lessons are (default ``notebooks/``); they run with this as the
        working directory.
    out : path-like, optional
        Folder for the executed copies, same file names (default ``book/lessons/``).
    data : str, optional
        Injected as ``data`` (``"sample"``, ``"fer2013"`` or a path); None keeps each lesson's default.
    quick : bool
        Inject :meth:`fercourse.config.QuickMode.lesson_parameters`.
    only : list of str, optional
        Run only these lessons (see :func:`discover_lessons`).
    artifacts : path-like, optional
        Root of the artefact folders; default ``artifacts/`` in the course checkout. Each run uses
        :func:`artefact_folder` below it for ``model_path`` and ``submission_path``, and keeps each
        kernel's own log (TensorFlow's messages) in its ``logs/`` folder.
    parameters : dict, optional
        More parameters, injected into every lesson that declares them (they win).
    budgets : bool
        Run each lesson with its real-data budget (:mod:`fercourse.course.budgets`) and log the
        planned minutes beside the measured ones: the publishing build on real FER2013.
    cache : bool
        Reuse an executed lesson whose cells, parameters, data and the package modules it uses are
        unchanged and whose saved files are still there (:mod:`fercourse.course.lesson_cache`);
        entries are kept in the artefact folder's ``cache/``. A lesson that runs again first loses the
        files it saved (``model_path``...), so that it trains anew instead of loading the earlier
        version's model.
    record : path-like, optional
        A results file (:func:`fercourse.course.results.results_path`): record in it what each lesson
        glued, with its budget and time (:func:`fercourse.course.results.record_lesson`). None (the
        default) writes no results file.
    kernel_name : str
        The Jupyter kernel; ``python3`` is the kernel of the Python running this function.
    stop_on_error : bool
        Stop at the first failing lesson (the rest are not run).
    log : callable, optional
        Receives one progress line per lesson start and end.

    Returns
    -------
    list of LessonResult
        One per lesson run, in order.
    """
    from fercourse.course.lesson_cache import LessonCache

    if course is not None or None in (notebook_dir, out, artifacts):
        folders = course_folders(course)
        notebook_dir = notebook_dir if notebook_dir is not None else folders.notebooks
        out = out if out is not None else folders.executed
        artifacts = artifacts if artifacts is not None else folders.artifacts
    out = Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    folder = artefact_folder(data or SAMPLE_SOURCE, quick, Path(artifacts).resolve())
    folder.mkdir(parents=True, exist_ok=True)
    log = log or (lambda line: None)
    store = LessonCache(folder / "cache") if cache else None
    plans = plan_lessons(discover_lessons(notebook_dir, only), data=data, quick=quick, artifacts=folder,
                         budgets=budgets, parameters=parameters, cache=cache)
    results = []
    for number, plan in enumerate(plans, start=1):
        where = f"[{number}/{len(plans)}] {plan.name}"
        reused = reuse_lesson(plan, store, out)
        if reused:
            results.append(reused[0])
            log(f"{where}: unchanged, reused the cached run ({reused[1]['seconds']:.0f} s when it ran)")
            continue
        log(f"[{number}/{len(plans)}] {plan.describe()} ...")
        if store is not None:
            _remove_stale_artifacts(plan.lesson, plan.values, log)
        result = run_lesson(plan, out, folder, kernel_name=kernel_name)
        results.append(result)
        keep_lesson(plan, result, store=store, record=record, data=data)
        log(f"{where}: {'ok' if result.ok else 'FAILED'} in {result.seconds:.1f} s"
            + ("" if result.ok else f"\n    {result.error}"))
        if not result.ok and stop_on_error:
            break
    return results
