"""Package-level promises: a fast import that changes nothing global, and a working console script."""

import subprocess
import sys


def test_import_does_not_load_heavy_libraries():
    code = ("import sys, fercourse, fercourse.data, fercourse.labels; "
            "print(sorted(m for m in ('tensorflow', 'keras', 'cv2', 'matplotlib.pyplot', 'sklearn') "
            "if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def _modules_after_help(*argv: str) -> list[str]:
    """The heavy libraries and fercourse modules loaded by ``fercourse ARGV --help``."""
    code = ("import sys; from fercourse.cli import main\n"
            "try:\n    main([*sys.argv[1:], '--help'])\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras', 'nbgrader', "
            "'sklearn', 'cv2', 'papermill') or m.startswith('fercourse.')), file=sys.stderr)")
    result = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, check=True)
    return eval(result.stderr.strip().splitlines()[-1])


def test_help_loads_only_the_chosen_commands_module_and_no_heavy_library():
    assert _modules_after_help() == ["fercourse.cli", "fercourse.config", "fercourse.errors",
                                     "fercourse.labels"]
    train = _modules_after_help("train")
    assert "fercourse.cli.train" in train and "fercourse.cli.grade" not in train
    assert not [name for name in train if name.split(".")[0] in ("tensorflow", "keras", "sklearn", "cv2")]
    grade = _modules_after_help("grade")
    assert "fercourse.cli.grade" in grade
    assert not [name for name in grade if name.startswith(("nbgrader", "tensorflow"))]


def test_console_script_is_installed():
    import shutil
    from pathlib import Path

    script = shutil.which("fercourse") or str(Path(sys.executable).with_name("fercourse"))
    result = subprocess.run([script, "--version"], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.startswith("fercourse ")


def test_set_seed_imports_tensorflow_without_its_start_up_lines():
    """A lesson's set_seed(seed) is its first TensorFlow import: no oneDNN/CUDA lines under the cell.

    Those lines go to descriptor 2, which a Jupyter kernel forwards to the notebook; a subprocess's
    stderr shows the same descriptor.
    """
    def stderr_of(code: str) -> str:
        environment = {"PATH": "/usr/bin:/bin", "TF_CPP_MIN_LOG_LEVEL": "2"}
        return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                              env=environment, check=True).stderr

    assert "oneDNN" in stderr_of("import keras")  # the lines set_seed must hide (control)
    assert stderr_of("from fercourse import set_seed; set_seed(0); print('seeded')") == ""
