"""What one ``nbgrader autograde`` process keeps between its plug-ins: one :class:`GradingState`.

nbgrader gives each pass over a notebook (sanitize, then autograde) a fresh ``resources`` dict and
fresh preprocessor instances, so what :class:`~fercourse.grading.plugins.preprocessors.SnapshotSubmission`
computes before the kernel starts cannot travel to
:class:`~fercourse.grading.plugins.preprocessors.ApplyScores` in ``resources`` alone. It lives in
one object per process, :data:`PROCESS_STATE`; every plug-in finds it through
:func:`state_for` (``resources["fercourse_state"]`` when a caller put one there, as the tests do;
otherwise the process's), never in module dictionaries of its own.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from fercourse.config import ANSWER_KEY_ENV
from fercourse.errors import InputError

RESOURCES_KEY = "fercourse_state"
"""Where :func:`state_for` looks in nbgrader's ``resources`` first."""


@dataclass
class GradingState:
    """Per-process grading state: the key read once, verdicts and snapshots between passes, caches.

    Attributes
    ----------
    key_path : Path or None
        The answer key's path, taken from the environment on first use.
    key : AnswerKey or None
        The key, read and checked against its pin once.
    split : PublicPrivateSplit or None
        The public/private split, once read (``split_read`` says whether it was).
    pending : dict
        ``(student, assignment, notebook) -> (verdicts, record)`` from the sanitize pass, taken by
        the autograde pass.
    snapshots : dict
        ``(student, assignment, notebook) -> Snapshot`` of the instructor files before the kernel.
    test_set : tuple or None
        ``(signature, ids, images)`` of the last released test set the model check read.
    model_checks : ThreadPoolExecutor or None
        The one background thread that runs model checks in order.
    sandbox_probes : dict
        ``bwrap path -> None`` (it works) or the reason it does not.
    """

    key_path: Path | None = None
    key: object | None = None
    split: object | None = None
    split_read: bool = False
    pending: dict = field(default_factory=dict)
    snapshots: dict = field(default_factory=dict)
    test_set: tuple | None = None
    model_checks: ThreadPoolExecutor | None = None
    sandbox_probes: dict = field(default_factory=dict)

    def take_key_path(self) -> Path:
        """The answer key's path from ``FERCOURSE_ANSWER_KEY``, removed from the environment on first call.

        Returns
        -------
        Path
            The key's resolved path.

        Raises
        ------
        InputError
            The variable was never set in this process.
        """
        if ANSWER_KEY_ENV in os.environ:
            value = os.environ[ANSWER_KEY_ENV]
            _blank_environment_value(ANSWER_KEY_ENV)
            os.environ.pop(ANSWER_KEY_ENV, None)
            self.key_path = Path(value).expanduser().resolve()
            self.key, self.split, self.split_read = None, None, False
        if self.key_path is None:
            raise InputError(f"no answer key: run autograde as `{ANSWER_KEY_ENV}=/instructor/only/answer_key"
                             ".csv nbgrader autograde ASSIGNMENT` (the path is read from the environment and "
                             "removed before any student kernel starts)")
        return self.key_path

    def reset(self) -> None:
        """Forget everything: the key, the verdicts, the caches (a new run in the same process)."""
        self.__init__()

    def model_check_executor(self) -> ThreadPoolExecutor:
        """The background thread of the model checks (one: they run one at a time, in order)."""
        if self.model_checks is None:
            self.model_checks = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fercourse-model-check")
        return self.model_checks


PROCESS_STATE = GradingState()
"""The state of this process's ``nbgrader autograde`` (or of the coordinator)."""


def state_for(resources: dict | None = None) -> GradingState:
    """The grading state a plug-in uses: ``resources["fercourse_state"]`` if set, else :data:`PROCESS_STATE`.

    Parameters
    ----------
    resources : dict, optional
        nbgrader's resources of the notebook being converted.

    Returns
    -------
    GradingState
    """
    if resources is not None and RESOURCES_KEY in resources:
        return resources[RESOURCES_KEY]
    return PROCESS_STATE


def notebook_of(resources: dict) -> tuple[str, str, str]:
    """``(student, assignment, notebook)`` of the notebook nbgrader is converting.

    Parameters
    ----------
    resources : dict
        nbgrader's resources (its ``nbgrader`` entry).

    Returns
    -------
    tuple of str
    """
    info = resources["nbgrader"]
    return info["student"], info["assignment"], info["notebook"]


def take_key_path() -> Path:
    """:meth:`GradingState.take_key_path` of this process (for the coordinator and the CLI).

    Returns
    -------
    Path
    """
    return PROCESS_STATE.take_key_path()


def _blank_environment_value(name: str) -> None:
    """Overwrite the bytes of an environment value in this process's memory (Linux, glibc).

    ``os.environ.pop`` alone leaves the original text readable in ``/proc/<pid>/environ``,
    which a kernel started by this process could read.
    """
    try:
        import ctypes

        libc = ctypes.CDLL(None)
        libc.getenv.restype = ctypes.c_void_p
        pointer = libc.getenv(name.encode())
        if pointer:
            ctypes.memset(pointer, ord("x"), len(os.environ.get(name, "").encode()))
    except (OSError, AttributeError):  # not glibc: the pop below still hides it from children
        pass


__all__ = ["PROCESS_STATE", "GradingState", "notebook_of", "state_for", "take_key_path"]
