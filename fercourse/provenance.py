"""Where a number came from: library versions and the machine, recorded beside results.

:func:`provenance` is what a training record (:class:`fercourse.training.record.TrainRecord`), a
benchmark (:mod:`fercourse.bench.recipes`) and the course results file
(:mod:`fercourse.course.results`) store, so a time or a score is read with the software and the
load it was measured under.

Examples
--------
>>> sorted(provenance())
['machine', 'versions']
>>> sorted(library_versions())
['fercourse', 'keras', 'numpy', 'python', 'scikit-learn', 'tensorflow']
"""

from __future__ import annotations

import os
import platform

LIBRARIES = ("tensorflow", "keras", "numpy", "scikit-learn")
"""The libraries besides Python and fercourse that decide a trained model and its scores."""


def library_versions() -> dict[str, str]:
    """Versions of fercourse, Python and :data:`LIBRARIES` (``"not installed"`` for one that is absent)."""
    from importlib.metadata import PackageNotFoundError, version

    from fercourse import __version__

    versions = {"fercourse": __version__, "python": platform.python_version()}
    for package in LIBRARIES:
        try:
            versions[package] = version(package)
        except PackageNotFoundError:
            versions[package] = "not installed"
    return versions


def machine_info() -> dict:
    """The machine and its load (1-minute load average), so timings are read in context."""
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    return {"platform": platform.platform(), "processor": platform.machine(), "cpus": os.cpu_count(),
            "load_average_1min": None if load is None else round(load, 2)}


def provenance() -> dict:
    """``{"versions": library_versions(), "machine": machine_info()}``."""
    return {"versions": library_versions(), "machine": machine_info()}


__all__ = ["LIBRARIES", "library_versions", "machine_info", "provenance"]
