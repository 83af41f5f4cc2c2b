"""``fercourse bench grade``: seconds per a2_cnn submission autograded with the saved model and without.

Uses the course fixtures of :mod:`fercourse.grading._testing` (a temporary course on the built-in
sample, fake submissions, the real ``nbgrader`` command line).
"""

from __future__ import annotations

import os
import re
import tempfile
import time
from pathlib import Path


def bench_autograde(*, submissions: int = 3, epochs: int = 3, n_train: int = 1400, n_test: int = 280,
                    retrain_epochs: int | None = None, template: str | Path | None = None) -> dict:
    """Seconds per a2_cnn submission autograded with the saved model (fit-or-load) and without (retraining).

    Both flows grade ``submissions`` students with one ``nbgrader autograde`` call each, in the
    same process tree and course, so the ratio compares like with like. ``epochs`` trains the
    submitted model; the retraining flow trains what the notebook's ``num_epochs`` says, or
    ``retrain_epochs`` when given (written into the temporary copy's parameters cell).
    ``template`` is the nbgrader course to copy (see :func:`make_course`).
    """
    import nbformat

    from fercourse.grading._testing import make_course, nbgrader, set_parameter, submit, train_reference_cnn

    with tempfile.TemporaryDirectory() as scratch:
        course = make_course(scratch, n_train=n_train, n_test=n_test, template=template)
        source = course.root / "source" / "a2_cnn" / "a2_cnn.ipynb"
        if retrain_epochs is not None:
            set_parameter(source, "num_epochs", retrain_epochs)
        parameters = next(c for c in nbformat.read(source, as_version=4).cells
                          if "parameters" in c.metadata.get("tags", []))
        notebook_epochs = int(re.search(r"^num_epochs = (\d+)", parameters.source, re.MULTILINE).group(1))
        nbgrader(course, "generate_assignment", "a2_cnn")
        model_file = Path(scratch) / "cnn.keras"
        csv_bytes = train_reference_cnn(course, model_file, epochs=epochs)
        seconds = {}
        for flow, with_model in (("fit_or_load", True), ("retraining", False)):
            for index in range(submissions):
                files = {"submission.csv": csv_bytes}
                if with_model:
                    files["cnn.keras"] = model_file
                submit(course, f"{flow}_{index}", "a2_cnn", files=files)
            start = time.perf_counter()  # one nbgrader process per batch, as an instructor runs it
            nbgrader(course, "autograde", "a2_cnn", "--student", f"{flow}_*", key=True, timeout=3600)
            seconds[flow] = (time.perf_counter() - start) / submissions
    result = {"submissions_per_flow": submissions, "n_train": n_train, "n_test": n_test,
              "retraining_epochs": notebook_epochs,
              "seconds_per_submission_fit_or_load": round(seconds["fit_or_load"], 2),
              "seconds_per_submission_retraining": round(seconds["retraining"], 2),
              "retraining_over_fit_or_load": round(seconds["retraining"] / seconds["fit_or_load"], 2),
              "cpu_count": os.cpu_count(), "load_average_1min": round(os.getloadavg()[0], 1)}
    print(f"a2_cnn autograde, {submissions} submissions per flow, sample {n_train}/{n_test}, retraining "
          f"{notebook_epochs} epochs: "
          f"fit-or-load {result['seconds_per_submission_fit_or_load']:.1f} s/submission, retraining "
          f"{result['seconds_per_submission_retraining']:.1f} s/submission "
          f"({result['retraining_over_fit_or_load']:.1f}x slower); {result['cpu_count']} CPUs, load average "
          f"{result['load_average_1min']}")
    return result
