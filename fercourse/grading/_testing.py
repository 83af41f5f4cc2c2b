"""Throw-away copies of the nbgrader course and fake student submissions (private: tests and benchmarks).

The grading end-to-end tests (``tests/grading/``) and the grading benchmarks (``fercourse bench
grade``, ``fercourse bench autograde``) share these fixtures, which is why they ship in the
package rather than in ``tests/``. Everything happens in a temporary folder with the real
``nbgrader`` command line and a real sqlite gradebook. The course copied is ``autograder/`` of
the course checkout holding the current directory, or the ``template`` folder given.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from fercourse.errors import InputError
from fercourse.grading.instructor_files import PIN_FILE, course_root_files

CALIBRATION_SALT = "fercourse"
"""The salt of the releases the committed sample tiers were measured on (``grade calibrate``'s default)."""
_SOLUTION_MARKERS = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*$")

A1_QUICK_SOLUTIONS = {
    "compare_baselines": 'def compare_baselines(names, X, y, seed=0):\n'
                         '    names = sorted(names, key="dummy".__eq__)  # dummy last\n'
                         '    scores = {name: 0.9 - 0.1 * i for i, name in enumerate(names)}\n'
                         '    return pd.DataFrame({"val_accuracy": scores})',
    "predict_test_set": 'predictions = np.full(len(test_ids), 3)\n'
                        'write_submission("submission.csv", test_ids, predictions)',
}
"""a1 solution cells (``submit(..., replace=...)``) that pass its in-kernel checks in seconds: a fixed
comparison table and the majority class. For tests about the submitted file, which is scored outside
the kernel whatever the notebook computes."""


@dataclass(frozen=True)
class Course:
    """A temporary course: its root, the answer key outside it, and the key's SHA-256."""

    root: Path
    key: Path
    sha256: str

    def data_dir(self, assignment: str) -> Path:
        return self.root / "source" / assignment / "data"

    def submitted(self, student: str, assignment: str) -> Path:
        return self.root / "submitted" / student / assignment


def make_course(workdir: str | Path, *, n_train: int = 700, n_test: int = 140,
                template: str | Path | None = None, test_set: str | Path | None = None) -> Course:
    """Copy the course (config, thresholds, source notebooks) into ``workdir/course`` and set up sample data.

    ``template`` is the nbgrader course folder; default ``autograder/`` of the course checkout
    holding the current directory. ``test_set``: an instructor-held test set for the private part
    (``fercourse grade setup --test-set``).
    """
    from fercourse.course.checkout import course_folders
    from fercourse.grading.authoring.setup import setup_course

    template = Path(template) if template is not None else course_folders().autograder
    workdir = Path(workdir)
    if not (template / "nbgrader_config.py").is_file():
        raise FileNotFoundError(f"{template}: no nbgrader_config.py: expected the course folder autograder/")
    root = workdir / "course"
    notebooks = sorted(template.glob("source/*/*.ipynb"))
    instructor = [path for name, path in course_root_files(template).items() if name != PIN_FILE]
    for path in [*instructor, *notebooks]:
        target = root / path.relative_to(template)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    # the salt the sample tiers were calibrated with (calibrate's default): the release's row order, and
    # so an SGD reference's accuracy, depends on it; a real course gets a random one
    done = setup_course("sample", root, workdir / "instructor" / "answer_key.csv", n_train=n_train,
                        n_test=n_test, salt=CALIBRATION_SALT, test_set=test_set)
    return Course(root, done.answer_key, done.sha256)


def nbgrader(course: Course, *args: str, key: bool = False, timeout: float = 900,
             check: bool = True) -> subprocess.CompletedProcess:
    """Run the real ``nbgrader`` command in the course folder (``key=True`` passes the answer key path)."""
    from fercourse.grading.coordinator.task import run_nbgrader

    result = run_nbgrader(course.root, *args, key=course.key if key else None, timeout=timeout)
    if check and result.returncode != 0:
        raise RuntimeError(f"nbgrader {' '.join(args)} exited {result.returncode}:\n{result.stderr[-4000:]}")
    return result


def solutions(course: Course, assignment: str) -> dict[str, str]:
    """The instructor's code for every solution cell (by grade_id), solution markers removed."""
    import nbformat

    notebook = nbformat.read(course.root / "source" / assignment / f"{assignment}.ipynb", as_version=4)
    out = {}
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution") and cell.cell_type == "code":
            out[meta["grade_id"]] = "\n".join(line for line in cell.source.splitlines()
                                              if not _SOLUTION_MARKERS.match(line))
    return out


def submit(course: Course, student: str, assignment: str, *, replace: dict[str, str] | None = None,
           insert_after: dict[str, str] | None = None, files: dict[str, bytes | Path] | None = None) -> Path:
    """Write ``submitted/<student>/<assignment>/``: the released notebook with the reference solutions.

    Parameters
    ----------
    replace : dict, optional
        grade_id -> code for a solution cell, instead of the reference solution.
    insert_after : dict, optional
        grade_id -> code of a new (ungraded) cell the "student" adds after that cell.
    files : dict, optional
        File name -> bytes (or a path to copy) placed next to the notebook, e.g. ``submission.csv``.
    """
    import nbformat
    from nbformat.v4 import new_code_cell

    released = course.root / "release" / assignment / f"{assignment}.ipynb"
    notebook = nbformat.read(released, as_version=4)
    code = {**solutions(course, assignment), **(replace or {})}
    cells = []
    for cell in notebook.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if cell.metadata.get("nbgrader", {}).get("solution") and grade_id in code:
            cell.source = code[grade_id]
        cells.append(cell)
        if insert_after and grade_id in insert_after:
            cells.append(new_code_cell(insert_after[grade_id]))
    notebook.cells = cells
    folder = course.submitted(student, assignment)
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, folder / f"{assignment}.ipynb")
    for name, content in (files or {}).items():
        if isinstance(content, Path):
            shutil.copyfile(content, folder / name)
        else:
            (folder / name).write_bytes(content)
    return folder


def baseline_submission(course: Course, assignment: str, name: str, **params) -> bytes:
    """The submission.csv bytes a scikit-learn baseline (fercourse.models) fitted on the course data gives."""
    from fercourse.data import as_flat, load
    from fercourse.models import build_baseline
    from fercourse.submission import write_submission

    data = load(course.data_dir(assignment), cache=False, progress=None)
    model = build_baseline(name, **params).fit(as_flat(data.train.X), data.train.y)
    with tempfile.TemporaryDirectory() as scratch:
        predictions = model.predict(as_flat(data.test.X))
        path = write_submission(Path(scratch) / "submission.csv", data.test.ids, predictions)
        return path.read_bytes()


def reference_function(course: Course, assignment: str, grade_id: str, name: str, *, seed: int = 0):
    """The function ``name`` that the reference solution in cell ``grade_id`` defines.

    The assignment's imports cell (``<short name>_imports``, e.g. ``a2_imports``) runs first, in a
    fresh namespace holding ``seed``, so the solution sees the names a student's notebook has.
    """
    import nbformat

    notebook = nbformat.read(course.root / "source" / assignment / f"{assignment}.ipynb", as_version=4)
    imports_id = f"{assignment.split('_')[0]}_imports"
    imports = [cell.source for cell in notebook.cells
               if cell.metadata.get("nbgrader", {}).get("grade_id") == imports_id]
    code = solutions(course, assignment)
    if not imports or grade_id not in code:
        raise InputError(f"{assignment}.ipynb: expected an imports cell {imports_id!r} and a solution cell "
                         f"{grade_id!r}")
    namespace: dict = {"seed": seed}
    exec(compile(imports[0] + "\n" + code[grade_id], f"{assignment}.ipynb", "exec"), namespace)  # noqa: S102
    return namespace[name]


def train_reference_cnn(course: Course, out: Path, *, epochs: int, seed: int = 0) -> bytes:
    """Train a2_cnn's reference model as the notebook does, save it to ``out``; return submission bytes.

    The network is the one the notebook's reference ``make_cnn`` writes (:func:`reference_function`).
    """
    from fercourse import set_seed
    from fercourse.data import load
    from fercourse.models import model_input
    from fercourse.submission import write_submission
    from fercourse.training import fit_or_load

    make_cnn = reference_function(course, "a2_cnn", "make_cnn", "make_cnn", seed=seed)
    set_seed(seed)
    data = load(course.data_dir("a2_cnn"), cache=False, progress=None)
    model, _ = fit_or_load(out, make_cnn,
                           model_input("cnn", data.train.X), data.train.y, epochs=epochs, batch_size=64,
                           validation_split=0.1, verbose=0)
    predictions = model.predict(model_input("cnn", data.test.X), batch_size=256, verbose=0).argmax(axis=1)
    with tempfile.TemporaryDirectory() as scratch:
        return write_submission(Path(scratch) / "submission.csv", data.test.ids, predictions).read_bytes()


#: Kinds of a1 submission in a generated class and the points each earns at the e2e size (1,400/280).
CLASS_KINDS = {"reference": 6, "weak": 4, "dummy": 3, "malformed": 2, "missing_csv": 2, "unfinished": 5,
               "key_probe": 3}
#: The key_probe student's extra cell: looks for the instructor files next to and above its kernel's
#: folder (``autograded/<student>/<assignment>/``; in a parallel task the key sits in ``../../../../
#: instructor/``) and prints what it finds.
KEY_PROBE = """
from pathlib import Path
for name in ("../../../../instructor/answer_key.csv", "../../../gradebook.db", "../../../nbgrader_config.py",
             "../../../source"):
    print(name, "found" if Path(name).exists() else "absent")
print("course root holds:", sorted(p.name for p in Path("../../..").iterdir()))
"""


def submit_a1_class(course: Course, count: int) -> dict[str, float]:
    """Write ``count`` cheap-to-grade a1 submissions of every kind in :data:`CLASS_KINDS`, in turn.

    Students are named ``s000_reference``, ``s001_weak``, ...; returns ``student -> expected total``.
    The CSVs are what scikit-learn baselines predict on the course data (reference: sgd, weak: a
    30-tree forest, dummy and key_probe: the majority class), semicolon-separated (malformed) or absent.
    """
    reference = baseline_submission(course, "a1_baselines", "sgd")
    dummy = baseline_submission(course, "a1_baselines", "dummy")
    csvs = {"reference": reference, "unfinished": reference, "key_probe": dummy,
            "dummy": dummy,
            "weak": baseline_submission(course, "a1_baselines", "random_forest", n_estimators=30),
            "malformed": reference.replace(b",", b";")}
    unfinished = {**A1_QUICK_SOLUTIONS, "compare_baselines": "def compare_baselines(names, X, y, seed=0):\n"
                                                   "    raise RuntimeError('not finished')"}
    expected = {}
    for index in range(count):
        kind = list(CLASS_KINDS)[index % len(CLASS_KINDS)]
        student = f"s{index:03d}_{kind}"
        files = {"submission.csv": csvs[kind]} if kind in csvs else {}
        submit(course, student, "a1_baselines", files=files,
               replace=unfinished if kind == "unfinished" else A1_QUICK_SOLUTIONS,
               insert_after={"a1_imports": KEY_PROBE} if kind == "key_probe" else None)
        expected[student] = float(CLASS_KINDS[kind])
    return expected


def gradebook_totals(root: str | Path, assignment: str) -> dict[str, float]:
    """``student -> total score`` of every submission of ``assignment`` in the course's sqlite gradebook."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{Path(root) / 'gradebook.db'}", "fercourse") as gradebook:
        return {submission.student_id: float(submission.score)
                for submission in gradebook.find_assignment(assignment).submissions}


def set_parameter(notebook_path: str | Path, name: str, value: int) -> None:
    """Rewrite ``name = ...`` in the notebook's ``parameters`` cell (used on temporary course copies)."""
    import nbformat

    notebook = nbformat.read(notebook_path, as_version=4)
    cell = next(c for c in notebook.cells if "parameters" in c.metadata.get("tags", []))
    pattern = re.compile(rf"^{re.escape(name)} = [^#\n]*", flags=re.MULTILINE)
    if not pattern.search(cell.source):
        raise InputError(f"{notebook_path}: the parameters cell has no {name!r}")
    cell.source = pattern.sub(f"{name} = {value!r}  ", cell.source)
    nbformat.write(notebook, notebook_path)
