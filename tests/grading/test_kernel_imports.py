"""What a student's kernel imports from the grader stays light: no nbgrader, no Jupyter client."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nbformat

AUTOGRADER = Path(__file__).resolve().parents[2] / "autograder"
HEAVY = ("nbgrader", "jupyter_client", "traitlets", "tensorflow", "keras", "fercourse.grading.plugins",
         "fercourse.grading.coordinator")


def grading_imports() -> list[str]:
    """Every line of the assignments' source notebooks that imports from fercourse.grading."""
    lines = []
    for path in sorted(AUTOGRADER.glob("source/*/*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            lines += [line.strip() for line in cell.source.splitlines()
                      if line.strip().startswith(("from fercourse.grading", "import fercourse.grading"))]
    return sorted(set(lines))


def test_the_assignments_grading_imports_load_no_nbgrader():
    imports = grading_imports()
    assert "from fercourse.grading import scored_outside_kernel" in imports
    assert "from fercourse.grading import cnn_problems" in imports  # a2's architecture cell
    code = "\n".join([*imports, "import sys, json",
                      f"print(json.dumps(sorted(m for m in sys.modules if m.startswith({HEAVY!r}))))",
                      "print(scored_outside_kernel('accuracy_tiers'))"])
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    loaded, printed = out.splitlines()
    assert json.loads(loaded) == []
    assert printed == "accuracy_tiers: scored by the autograder from the submission.csv you submit"


def test_the_grade_commands_parser_imports_no_grading_stack():
    """``fercourse grade --help`` answers without loading nbgrader or TensorFlow (handlers import them)."""
    code = ("import argparse, json, sys\n"
            "from fercourse.cli import grade\n"
            "parser = argparse.ArgumentParser(); grade.register(parser.add_subparsers())\n"
            "parser.parse_args(['grade', 'autograde', 'a1_baselines', '--workers', '2'])\n"
            f"print(json.dumps(sorted(m for m in sys.modules if m.startswith({HEAVY!r}))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == []
