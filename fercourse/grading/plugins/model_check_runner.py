"""Run the model check: read its inputs now, then check in a limited child process, in the background.

Loading a student's Keras model runs no student code (:mod:`~fercourse.grading.plugins.model_check`
allows only Keras's modelling classes), but what those classes are asked to build is the
student's choice: a 70 KB config asking for a huge ``Dense`` layer drove the grader to 8 GB, and a
model of many layers held it for 83 s. :func:`check_in_child` runs
:func:`~fercourse.grading.plugins.model_check.check_model_explains_csv` in a fresh Python process
with ``RLIMIT_AS`` at ``memory_mb`` and ``RLIMIT_CPU`` at ``cpu_seconds`` (processor time, so a busy
machine does not fail an honest model: measured, TensorFlow's import alone took 90 s of wall time
at a load average of 20 on 2 cores), and a wall-clock backstop of ten times that; past any of them
the child is killed and the verdict is "accuracy points withheld ... the instructor will take a
look", for that student only.

:func:`start_model_check` reads every input (the submitted model, the released test set) before the
student's kernel starts and hands the check to the process's one background thread, which runs
:func:`check_in_child`. The child is ``python -m fercourse.grading.plugins.model_check_runner
FOLDER``: the folder holds the request (``model.keras``, ``faces.npy``, ``request.json``) and
receives ``result.json``.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from concurrent.futures import Future
from pathlib import Path

import numpy as np

from fercourse.grading.plugins.model_check import (
    MAX_MODEL_BYTES,
    MIN_AGREEMENT,
    ModelCheck,
    check_model_explains_csv,
    read_test_set,
)
from fercourse.grading.plugins.state import PROCESS_STATE, GradingState
from fercourse.grading.student_files import read_regular

DEFAULT_CPU_SECONDS = 120
"""Processor-time limit of one model check (TensorFlow's import uses about 10 s of it)."""
DEFAULT_MEMORY_MB = 4096
"""Address-space limit of the child (TensorFlow's import alone reserves about 2 GB of it)."""


def check_in_child(model_data: bytes | None, ids, images: np.ndarray, submitted: Mapping[str, int], *,
                   name: str, csv_name: str, min_agreement: float, max_bytes: int,
                   cpu_seconds: int = DEFAULT_CPU_SECONDS, memory_mb: int = DEFAULT_MEMORY_MB):
    """:func:`~fercourse.grading.plugins.model_check.check_model_explains_csv` in a limited child process.

    Parameters
    ----------
    model_data, ids, images, submitted, name, csv_name, min_agreement, max_bytes
        As for :func:`~fercourse.grading.plugins.model_check.check_model_explains_csv`.
    cpu_seconds : int
        Processor-time limit (RLIMIT_CPU); ten times as many seconds of wall time stop it too.
    memory_mb : int
        The child's address-space limit (RLIMIT_AS), in MiB.

    Returns
    -------
    ModelCheck
        The child's verdict, or a withheld one naming the limit the check ran into.
    """
    with tempfile.TemporaryDirectory(prefix="fercourse-model-check-") as scratch:
        folder = Path(scratch)
        if model_data is not None:
            (folder / "model.keras").write_bytes(model_data)
        np.save(folder / "faces.npy", np.asarray(images), allow_pickle=False)
        request = {"ids": [str(i) for i in ids], "submitted": {str(k): int(v) for k, v in submitted.items()},
                   "name": name, "csv_name": csv_name, "min_agreement": min_agreement, "max_bytes": max_bytes}
        (folder / "request.json").write_text(json.dumps(request), encoding="utf-8")
        command = [sys.executable, "-m", "fercourse.grading.plugins.model_check_runner", str(folder)]
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
        try:
            result = subprocess.run(command, env=env, stdin=subprocess.DEVNULL, capture_output=True,
                                    timeout=10 * cpu_seconds, preexec_fn=_limits(memory_mb, cpu_seconds))
        except subprocess.TimeoutExpired:
            return ModelCheck(False, None, f"accuracy points withheld: checking {name} took longer than "
                                           f"{10 * cpu_seconds} s (the instructor will take a look)",
                              needs_look=True)
        answer = folder / "result.json"
        if result.returncode in (-signal.SIGXCPU, -signal.SIGKILL):  # the soft, then the hard CPU limit
            return ModelCheck(False, None, f"accuracy points withheld: checking {name} used more than "
                                           f"{cpu_seconds} s of processor time, the grader's limit (the "
                                           "instructor will take a look)", needs_look=True)
        if result.returncode != 0 or not answer.is_file():
            return ModelCheck(False, None, f"accuracy points withheld: checking {name} failed (exit "
                                           f"{result.returncode}) under the grader's {memory_mb} MiB memory "
                                           "limit (the instructor will take a look)", needs_look=True)
        verdict = json.loads(answer.read_text(encoding="utf-8"))
    return ModelCheck(bool(verdict["explained"]), verdict["agreement"], str(verdict["message"]))


def _limits(memory_mb: int, cpu_seconds: int):
    """The child's limits, set between fork and exec: address space, processor time, death with the grader."""
    def apply() -> None:
        limit = int(memory_mb) * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        resource.setrlimit(resource.RLIMIT_CPU, (int(cpu_seconds), int(cpu_seconds) + 1))
        try:
            import ctypes

            ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass

    return apply


def _main(folder: Path) -> None:
    request = json.loads((folder / "request.json").read_text(encoding="utf-8"))
    model = folder / "model.keras"
    check = check_model_explains_csv(model.read_bytes() if model.is_file() else None, request["ids"],
                                     np.load(folder / "faces.npy", allow_pickle=False), request["submitted"],
                                     name=request["name"], csv_name=request["csv_name"],
                                     min_agreement=request["min_agreement"], max_bytes=request["max_bytes"])
    answer = {"explained": check.explained, "agreement": check.agreement, "message": check.message}
    (folder / "result.json").write_text(json.dumps(answer), encoding="utf-8")


def start_model_check(model_path: str | Path, test_csv: str | Path, csv_data: bytes, *,
                      csv_name: str = "submission.csv", min_agreement: float = MIN_AGREEMENT,
                      max_bytes: int = MAX_MODEL_BYTES, state: GradingState | None = None,
                      cpu_seconds: int = 120, memory_mb: int = 4096) -> Future:
    """Read the files now, then load the model and predict in a limited child process, in the background.

    Everything a student's code could later change (the submitted model, the instructor's test
    set) is read before this returns, so the grader can start the student's kernel at once: the
    TensorFlow import, the load and the prediction then overlap the notebook's execution.

    Parameters
    ----------
    model_path : path-like
        The model as submitted (``submitted/<student>/<assignment>/cnn.keras``); a symbolic link
        or a file over ``max_bytes`` is refused unread.
    test_csv : path-like
        The instructor's copy of the released test set.
    csv_data : bytes
        The submitted CSV, already found valid.
    state : GradingState, optional
        Holds the test set read and the background thread (default: this process's).
    cpu_seconds, memory_mb : int
        The child process's limits (:func:`check_in_child`).

    Returns
    -------
    concurrent.futures.Future
        Its ``result()`` is the :class:`ModelCheck` (it raises what :func:`check_model_explains_csv`
        raises for a grader-side problem, such as an unreadable test set).
    """
    from fercourse.submission import check_submission_bytes

    model_path = Path(model_path)
    name = model_path.name
    state = state or PROCESS_STATE
    ids, images = read_test_set(test_csv, state)
    submitted = check_submission_bytes(csv_data, ids, csv_name).predictions
    done: Future = Future()
    try:
        model_data = read_regular(model_path, max_bytes)
    except FileNotFoundError:
        model_data = None
    except PermissionError as error:  # a link, FIFO, device or hard link: never followed
        done.set_result(ModelCheck(False, None, f"accuracy points withheld: {error}"))
        return done
    if model_data is not None and len(model_data) > max_bytes:
        size = model_path.lstat().st_size / 1e6
        done.set_result(ModelCheck(False, None, f"accuracy points withheld: {name} is {size:.1f} MB, over "
                                                f"the {max_bytes / 1e6:.0f} MB limit"))
        return done
    return state.model_check_executor().submit(check_in_child, model_data, ids, images, submitted, name=name,
                                               csv_name=csv_name, min_agreement=min_agreement,
                                               max_bytes=max_bytes, cpu_seconds=cpu_seconds,
                                               memory_mb=memory_mb)


def check_submitted_model(model_path: str | Path, test_csv: str | Path, csv_data: bytes, *,
                          csv_name: str = "submission.csv", min_agreement: float = MIN_AGREEMENT,
                          max_bytes: int = MAX_MODEL_BYTES, cpu_seconds: int = 120,
                          memory_mb: int = 4096) -> ModelCheck:
    """:func:`start_model_check` and wait for its result: the whole check for the files given."""
    return start_model_check(model_path, test_csv, csv_data, csv_name=csv_name, min_agreement=min_agreement,
                             max_bytes=max_bytes, cpu_seconds=cpu_seconds,
                                               memory_mb=memory_mb).result()


if __name__ == "__main__":
    _main(Path(sys.argv[1]))
