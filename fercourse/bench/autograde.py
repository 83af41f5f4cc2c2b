"""``fercourse bench autograde``: serial ``nbgrader autograde`` against ``fercourse grade autograde``.

One temporary course on the built-in sample, one generated class of a1 submissions
(:func:`fercourse.grading._testing.submit_a1_class`), copied twice: one copy graded by plain
``nbgrader autograde`` (one student after another), the other by
:func:`fercourse.grading.coordinator.parallel.autograde` with ``workers`` local workers (or on a Dask
scheduler). Prints both wall times, their ratio and whether every student's total is the same.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

A1 = "a1_baselines"


def bench_parallel_autograde(*, submissions: int = 30, workers: int = 2, scheduler: str | None = None,
                             n_train: int = 1400, n_test: int = 280,
                             template: str | Path | None = None) -> dict:
    """Wall seconds of serial and parallel autograde of the same ``submissions`` a1 submissions.

    Returns the figures (``serial_seconds``, ``parallel_seconds``, ``serial_over_parallel``,
    ``same_totals``, the load average before and after); ``template`` is the nbgrader course
    to copy (see :func:`fercourse.grading._testing.make_course`).
    """
    from fercourse.grading._testing import Course, gradebook_totals, make_course, nbgrader, submit_a1_class
    from fercourse.grading.coordinator.parallel import autograde

    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as scratch:
        course = make_course(scratch, n_train=n_train, n_test=n_test, template=template)
        nbgrader(course, "generate_assignment", A1)
        expected = submit_a1_class(course, submissions)
        copies = {}
        for name in ("serial", "parallel"):
            shutil.copytree(course.root, Path(scratch) / name)
            copies[name] = Course(Path(scratch) / name, course.key, course.sha256)
        start = time.perf_counter()
        nbgrader(copies["serial"], "autograde", A1, key=True, timeout=3600)
        serial = time.perf_counter() - start
        start = time.perf_counter()
        summary = autograde(copies["parallel"].root, A1, workers=workers, scheduler=scheduler, key=course.key,
                            log=None)
        parallel = time.perf_counter() - start
        totals = {name: gradebook_totals(copy.root, A1) for name, copy in copies.items()}
    overheads = [o.overhead_seconds for o in summary.students.values() if o.overhead_seconds is not None]
    result = {"submissions": submissions, "where": summary.where, "n_train": n_train, "n_test": n_test,
              "serial_seconds": round(serial, 1), "parallel_seconds": round(parallel, 1),
              "serial_over_parallel": round(serial / parallel, 2),
              "parallel_over_serial": round(parallel / serial, 2),
              "per_task_overhead_seconds": round(sum(overheads) / len(overheads), 3) if overheads else None,
              "process_startup_seconds": summary.startup_seconds,
              "parallel_failed": summary.count("failed"),
              "same_totals": totals["serial"] == totals["parallel"],
              "totals_as_generated": totals["serial"] == expected,
              "cpu_count": os.cpu_count(), "load_average_1min_before": round(load_before, 1),
              "load_average_1min_after": round(os.getloadavg()[0], 1)}
    print(f"a1 autograde of {submissions} submissions (sample {n_train}/{n_test}): serial nbgrader "
          f"{result['serial_seconds']:.1f} s, fercourse grade autograde on {summary.where} "
          f"{result['parallel_seconds']:.1f} s: parallel/serial {result['parallel_over_serial']:.2f} "
          f"(speed-up {result['serial_over_parallel']:.2f}x); totals "
          f"{'identical' if result['same_totals'] else 'DIFFERENT'}; {result['cpu_count']} CPUs, load "
          f"average {result['load_average_1min_before']} before, {result['load_average_1min_after']} after")
    if overheads:
        startups = ", ".join(f"{seconds:.1f}" for seconds in summary.startup_seconds)
        print(f"per-task overhead (outside nbgrader's autograde: scratch files, grades, recording) "
              f"{result['per_task_overhead_seconds']:.2f} s on average; grading-process start-up, once "
              f"per worker: {startups} s")
    return result
