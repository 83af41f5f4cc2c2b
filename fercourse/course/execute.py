"""Execute one notebook headless with papermill: the one place the course runs a notebook.

The lesson runner (:mod:`fercourse.course.runner`) and ``fercourse grade calibrate`` both call
:func:`execute_notebook`. The kernel gets inline figures and quiet TensorFlow through its own
environment (the caller's ``os.environ`` is never changed), and writes its stdout and stderr
(TensorFlow's C++ start-up lines) to a log file instead of into the notebook's cells. A failure
comes back as one sentence naming the notebook, the failing cell as a person counts it when
opening the file, and the exception.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["KERNEL_ENVIRONMENT", "describe_failure", "execute_notebook"]

#: Set in the kernel's environment (not the caller's): inline figures even when the caller set
#: ``MPLBACKEND=Agg``, quiet TensorFlow, no debugger warning about frozen modules.
KERNEL_ENVIRONMENT = {"MPLBACKEND": "module://matplotlib_inline.backend_inline", "TF_CPP_MIN_LOG_LEVEL": "2",
                      "PYDEVD_DISABLE_FILE_VALIDATION": "1"}


def _kernel_manager(log_path: Path, environment: dict[str, str]):
    """A kernel manager class whose kernel runs with ``environment`` added and logs to ``log_path``."""
    from jupyter_client.manager import AsyncKernelManager

    class LoggedKernelManager(AsyncKernelManager):
        async def _async_launch_kernel(self, kernel_cmd, **kw):
            log_file = open(log_path, "ab")  # kept open for the kernel's lifetime
            kw.update(stdout=log_file, stderr=log_file,
                      env={**kw.get("env", os.environ), **environment})
            return await super()._async_launch_kernel(kernel_cmd, **kw)

    return LoggedKernelManager


def describe_failure(name: str, error: Exception, injected: bool) -> str:
    """``05_cnn failed at cell 14 ("model, history = ..."), In [15] of the executed copy: ValueError: ...``.

    The cell number counts the notebook's own cells from 1 (papermill's injected-parameters cell
    is not counted when ``injected``), so it matches what a person sees when opening the file.

    Examples
    --------
    >>> describe_failure("01_eda", OSError("disk full"), injected=False)
    '01_eda failed: OSError: disk full'
    """
    index = getattr(error, "cell_index", None)
    if hasattr(error, "ename") and index is not None:
        number = index + 1 - (1 if injected and index > 0 else 0)
        first_line = ((getattr(error, "source", "") or "").strip().splitlines() or [""])[0][:80]
        count = getattr(error, "exec_count", None)
        executed = f", In [{count}] of the executed copy" if count else ""
        return f"{name} failed at cell {number} ({first_line!r}){executed}: {error.ename}: {error.evalue}"
    return f"{name} failed: {type(error).__name__}: {error}"


def execute_notebook(notebook: str | os.PathLike, output: str | os.PathLike, *,
                     parameters: dict[str, object], cwd: str | os.PathLike, kernel_log: str | os.PathLike,
                     kernel_name: str = "python3", environment: dict[str, str] | None = None,
                     progress: bool = False) -> str | None:
    """Run ``notebook`` with ``parameters`` injected and write the executed copy to ``output``.

    Parameters
    ----------
    notebook, output : path-like
        The notebook to run and where its executed copy goes (written even when a cell fails).
    parameters : dict
        Injected by papermill after the cell tagged ``parameters``.
    cwd : path-like
        The kernel's working directory.
    kernel_log : path-like
        The kernel's stdout and stderr are appended here.
    kernel_name : str
        The Jupyter kernel.
    environment : dict, optional
        Added to the kernel's environment over :data:`KERNEL_ENVIRONMENT`.
    progress : bool
        Show papermill's cell progress bar.

    Returns
    -------
    str or None
        None when every cell ran; else :func:`describe_failure`'s sentence.
    """
    import papermill

    kernel_log = Path(kernel_log)
    kernel_log.parent.mkdir(parents=True, exist_ok=True)
    manager = _kernel_manager(kernel_log, {**KERNEL_ENVIRONMENT, **(environment or {})})
    try:
        papermill.execute_notebook(str(notebook), str(output), parameters=parameters, kernel_name=kernel_name,
                                   cwd=str(cwd), progress_bar=progress, log_output=False,
                                   kernel_manager_class=manager,
                                   # C-level output (TensorFlow's start-up logs) goes to the kernel
                                   # log, not into the notebook's cells
                                   extra_arguments=["--IPKernelApp.capture_fd_output=False"])
    except Exception as failure:  # any kernel, cell or papermill failure is reported, not raised
        return describe_failure(Path(notebook).stem, failure, bool(parameters))
    return None
