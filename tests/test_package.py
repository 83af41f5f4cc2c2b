"""Package-level promises: a fast import that changes nothing global, and a working console script."""

import subprocess
import sys


def test_import_does_not_load_heavy_libraries():
    code = ("import sys, fercourse, fercourse.data, fercourse.labels; "
            "print(sorted(m for m in ('tensorflow', 'keras', 'cv2', 'matplotlib.pyplot', 'sklearn') "
            "if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_cli_help_does_not_load_tensorflow():
    code = ("import sys; from fercourse.cli import build_parser; build_parser(); "
            "print('tensorflow' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_console_script_is_installed():
    import shutil
    from pathlib import Path

    script = shutil.which("fercourse") or str(Path(sys.executable).with_name("fercourse"))
    result = subprocess.run([script, "--version"], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.startswith("fercourse ")
