"""The built wheel, installed in a fresh venv, runs a lesson and builds the book from a course copy.

This is what a student or teaching assistant gets from ``pip install``: the package in
``site-packages``, far from any checkout. The venv reuses this environment's installed
dependencies through a plain path line in a ``.pth`` file (no downloads), which does not run the
editable install's import hook, so ``import fercourse`` can only find the wheel's copy.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import nbformat
import pytest
from PIL import Image
from skimage import data as skimage_data

REPO_ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


def _run(command: list, **options) -> subprocess.CompletedProcess:
    completed = subprocess.run([str(part) for part in command], capture_output=True, text=True, **options)
    assert completed.returncode == 0, f"{command} exited {completed.returncode}:\n{completed.stderr[-3000:]}"
    return completed


def _build_wheel(tmp_path: Path) -> Path:
    pytest.importorskip("setuptools", minversion="77", reason="the build needs setuptools>=77 (make setup)")
    # Build from a copy of the sources, so setuptools' build/ and egg-info never land in the checkout.
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO_ROOT / name, source / name)
    shutil.copytree(REPO_ROOT / "fercourse", source / "fercourse",
                    ignore=shutil.ignore_patterns("__pycache__", ".ruff_cache"))
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q",
          source, "-w", tmp_path / "dist"], timeout=300)
    wheels = sorted((tmp_path / "dist").glob("fercourse-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


def _fresh_venv(tmp_path: Path) -> tuple[Path, Path]:
    """A venv whose own site-packages comes first, then this environment's (dependencies only)."""
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", venv], timeout=120)
    python = venv / "bin" / "python"
    site_packages = Path(_run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                              timeout=60).stdout.strip())
    ours = dict.fromkeys([sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]])
    (site_packages / "reuse_dependencies.pth").write_text("".join(f"{path}\n" for path in ours))
    return python, site_packages


def test_wheel_holds_every_subpackage(tmp_path):
    wheel = _build_wheel(tmp_path)
    names = set(zipfile.ZipFile(wheel).namelist())
    packages = sorted(path.parent.relative_to(REPO_ROOT).as_posix()
                      for path in (REPO_ROOT / "fercourse").rglob("__init__.py"))
    assert len(packages) >= 10
    for package in packages:
        assert f"{package}/__init__.py" in names, f"{package} is missing from {wheel.name}"
    modules = sorted(path.relative_to(REPO_ROOT).as_posix()
                     for path in (REPO_ROOT / "fercourse").rglob("*.py") if "__pycache__" not in path.parts)
    assert [name for name in modules if name not in names] == []
    assert not [name for name in names if name.startswith(("tests/", "notebooks/", "book/"))]


def test_installed_wheel_runs_a_lesson_and_builds_the_book(tmp_path):
    wheel = _build_wheel(tmp_path)
    python, site_packages = _fresh_venv(tmp_path)
    bin_dir = python.parent
    env = {name: value for name, value in os.environ.items()
           if name not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONDONTWRITEBYTECODE")}
    env.update(PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}", VIRTUAL_ENV=str(python.parent.parent))
    # pip comes from the reused site-packages and installs into the fresh venv; --ignore-installed so it
    # never touches the editable install it can see there.
    # --no-compile: bytecode appears only for modules a process really imports from the wheel.
    _run([python, "-m", "pip", "install", "--no-deps", "--no-index", "--ignore-installed", "--no-compile",
          "-q", wheel], env=env, timeout=300)
    where = _run([python, "-c", "import fercourse; print(fercourse.__file__)"], env=env, timeout=60,
                 cwd=tmp_path).stdout.strip()
    assert Path(where) == site_packages / "fercourse" / "__init__.py"
    # The shipped FER2013 model travels as package data and loads from the installed copy.
    shipped = _run([python, "-c", "from fercourse.models.pretrained import pretrained, pretrained_path\n"
                                  "print(pretrained_path()); print(pretrained().output_shape)"],
                   env=env, timeout=300, cwd=tmp_path).stdout.split("\n")
    assert Path(shipped[0]) == site_packages / "fercourse" / "models" / "weights" / "fer2013_reference.keras"
    assert shipped[1] == "(None, 7)"

    course = tmp_path / "course"
    generated = shutil.ignore_patterns("_build", "lessons", "__pycache__", ".ipynb_checkpoints")
    for name in ("notebooks", "book", "autograder", "docs", "results"):
        shutil.copytree(REPO_ROOT / name, course / name, ignore=generated)
    fercourse = bin_dir / "fercourse"
    assert fercourse.is_file()

    # From inside the copy: the runner finds the course by walking up from the working directory.
    ran = _run([fercourse, "notebooks", "run", "--quick", "--only", "01"], env=env, timeout=900,
               cwd=course / "notebooks")
    assert "1 of 1 lessons ran" in ran.stdout
    executed = nbformat.read(course / "book" / "lessons" / "01_eda.ipynb", as_version=4)
    assert executed.metadata.papermill.parameters["quick"] is True
    assert all(cell.execution_count is not None for cell in executed.cells
               if cell.cell_type == "code" and cell.source.strip())
    assert (course / "artifacts" / "sample-quick" / "logs" / "01_eda.kernel.log").is_file()
    # Only the lesson's kernel imports fercourse.plotting (the command never does): it used the wheel.
    assert list((site_packages / "fercourse" / "plotting" / "__pycache__").glob("*.pyc"))

    # From elsewhere, with --course: lesson 01 again, then the book.
    built = _run([fercourse, "book", "build", "--quick", "--only", "01", "--checkout", course], env=env,
                 timeout=900, cwd=tmp_path)
    index = course / "book" / "_build" / "html" / "index.html"
    assert built.stdout.strip().endswith(f"book built: {index}")
    assert index.is_file() and (index.parent / "lessons" / "01_eda.html").is_file()
    assert "Shipped model" in (index.parent / "results.html").read_text()  # results/fer2013.json of the copy


def test_student_install_without_extras_runs_detect_and_names_the_grading_extra(student_env, tmp_path):
    """The Set up page's install (no extras): the demo works; instructor commands say what to add.

    The lessons themselves run in this environment in tests/lessons/test_student_env.py.
    """
    python, env = student_env.python, student_env.env
    missing = _run([python, "-c", "import importlib.util as u; print([m for m in ('nbgrader', 'papermill', "
                                  "'jupyter_book', 'myst_nb', 'distributed') if u.find_spec(m)])"],
                   env=env, timeout=60).stdout.strip()
    assert missing == "[]"  # none of the extras came with the student install
    where = _run([python, "-c", "import fercourse; print(fercourse.__file__)"], env=env, timeout=60,
                 cwd=tmp_path).stdout.strip()
    assert "site-packages" in Path(where).parts, where  # the installed copy, not the course's sources

    fercourse = python.parent / "fercourse"
    photo = tmp_path / "astronaut.png"
    Image.fromarray(skimage_data.astronaut()).save(photo)
    detected = _run([fercourse, "detect", photo, "--json"], env=env, timeout=600)
    assert '"emotion"' in detected.stdout

    graded = subprocess.run([fercourse, "grade", "autograde", "a1"], capture_output=True, text=True,
                            env=env, cwd=tmp_path, timeout=300)
    assert graded.returncode == 1
    assert graded.stderr.strip().splitlines()[-1] == (
        'fercourse grade: needs the grading extra (module nbgrader is not installed): '
        'pip install "fercourse[grading]"')
