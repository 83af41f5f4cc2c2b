"""A fresh student environment, set up the way the book's Set up page (book/setup.md) says.

A copy of the course (the package's sources, the lessons, the book's sources) and, beside it, a
venv made with ``python3.11 -m venv``, pip upgraded, then ``pip install . jupyterlab`` run in the
copy, then ``pip install notebook`` (the page's line for Notebook 7). pip resolves every
dependency from the package index as a student's pip would (with pip's cache and the machine's
local wheels, nothing large is downloaded again). Built once per test session
(``student_env`` in tests/conftest.py) and shared by the tests of what a student installs.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
#: What a copy of the course repository holds for a student (the book's sources for references.bib).
COURSE_PARTS = ("pyproject.toml", "README.md", "fercourse", "notebooks", "book")
#: The Set up page's install lines, run in this order in the course copy.
SETUP_LINES = (["install", "--upgrade", "pip"], ["install", ".", "jupyterlab"], ["install", "notebook"])
#: TensorFlow's C++ lines a student's kernel would forward to the notebook: at import (oneDNN, through
#: absl) and at the first model (the CUDA probe's cuInit error on a machine without a GPU).
TENSORFLOW_NOISE = r"oneDNN|absl::|cuInit"


@dataclass
class StudentEnv:
    """A fresh student venv and the course copy it was installed from."""

    course: Path  # the course copy (pip install . ran here); `fercourse student export` writes student/ here
    python: Path  # the venv's interpreter
    env: dict  # environment for the venv's commands: its bin/ first on PATH, no PYTHONPATH
    seconds: float  # time taken by venv creation and the install lines

    def run(self, command: list, *, timeout: float, cwd: Path | None = None) -> subprocess.CompletedProcess:
        """Run ``command`` (its first item a name in the venv's bin/, or a path); fail on a non-zero exit."""
        first = self.python.parent / command[0] if "/" not in str(command[0]) else command[0]
        return run_checked([first, *command[1:]], env=self.env, cwd=cwd or self.course, timeout=timeout)


def run_checked(command: list, **options) -> subprocess.CompletedProcess:
    """Run ``command``; raise AssertionError with the end of its output if it exits non-zero."""
    completed = subprocess.run([str(part) for part in command], capture_output=True, text=True, **options)
    if completed.returncode != 0:
        raise AssertionError(f"{command} exited {completed.returncode}:\n{completed.stdout[-2000:]}\n"
                             f"{completed.stderr[-3000:]}")
    return completed


def build_student_env(root: Path) -> StudentEnv:
    """Copy the course into ``root/course`` and set up ``root/fercourse-env`` as book/setup.md says."""
    started = time.monotonic()
    course = root / "course"
    generated = shutil.ignore_patterns("_build", "lessons", "__pycache__", ".ipynb_checkpoints",
                                       ".ruff_cache")
    for part in COURSE_PARTS:
        source = REPO_ROOT / part
        if source.is_dir():
            shutil.copytree(source, course / part, ignore=generated)
        else:
            course.mkdir(parents=True, exist_ok=True)
            shutil.copy(source, course / part)
    venv = root / "fercourse-env"
    base_python = shutil.which("python3.11") or sys.executable
    run_checked([base_python, "-m", "venv", venv], timeout=300)
    python = venv / "bin" / "python"
    env = {name: value for name, value in os.environ.items()
           if name not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONDONTWRITEBYTECODE", "PYTHONHOME",
                           "PYTEST_CURRENT_TEST")}  # under pytest, ipykernel stops forwarding descriptor 2
    env.update(PATH=f"{python.parent}{os.pathsep}{env.get('PATH', '')}", VIRTUAL_ENV=str(venv),
               TF_CPP_MIN_LOG_LEVEL="2")
    for line in SETUP_LINES:
        run_checked([python, "-m", "pip", *line, "-q", "--disable-pip-version-check"], env=env, cwd=course,
                    timeout=1800)
    return StudentEnv(course=course, python=python, env=env, seconds=time.monotonic() - started)
