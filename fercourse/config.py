"""Every setting fercourse reads from outside its arguments, and what quick mode means.

Environment variables (the only ones the package reads)
-------------------------------------------------------
``FERCOURSE_CACHE_DIR``
    Folder for cached datasets (:func:`cache_dir`); default ``$XDG_CACHE_HOME/fercourse``.
``XDG_CACHE_HOME``
    The user's cache root when ``FERCOURSE_CACHE_DIR`` is unset; default ``~/.cache``.
``FERCOURSE_FER2013``
    Your FER2013 copy, a Kaggle ``fer2013.csv`` or an image-folder root (:func:`fer2013_path`);
    what ``load("fer2013")`` and ``--data fer2013`` read. Nothing guesses where FER2013 is.
``FERCOURSE_DEBUG``
    Any non-empty value makes the command line show full tracebacks (:func:`debug`).
``FERCOURSE_ANSWER_KEY``
    The answer key path for ``nbgrader autograde``; read (and removed from the environment)
    only by :func:`fercourse.grading.plugins.state.take_key_path`, never through this module.

Quick mode
----------
:data:`QUICK` holds what ``--quick`` means everywhere: the parameters the lesson runner injects,
the data size :func:`fercourse.data.lesson_data` uses, and the model zoo's training cap.

Examples
--------
>>> QUICK.lesson_parameters()
{'quick': True, 'num_epochs': 8, 'cnn_variant': 'simple'}
>>> QUICK.n_train, QUICK.n_test
(2000, 400)
>>> with using_cache_dir("/tmp/scratch-cache"):
...     str(cache_dir())
'/tmp/scratch-cache'
"""

from __future__ import annotations

import contextlib
import contextvars
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

CACHE_DIR_ENV = "FERCOURSE_CACHE_DIR"
XDG_CACHE_ENV = "XDG_CACHE_HOME"
FER2013_ENV = "FERCOURSE_FER2013"
DEBUG_ENV = "FERCOURSE_DEBUG"
ANSWER_KEY_ENV = "FERCOURSE_ANSWER_KEY"

# A cache folder chosen by the code itself (a benchmark that needs a cold cache), which wins over
# the environment without touching it: the user's own FERCOURSE_CACHE_DIR stays as they set it.
_CACHE_OVERRIDE: contextvars.ContextVar[Path | None] = contextvars.ContextVar("fercourse_cache", default=None)


def cache_dir() -> Path:
    """The folder for cached datasets.

    Returns
    -------
    Path
        The folder given to :func:`using_cache_dir` while it is active, else
        ``$FERCOURSE_CACHE_DIR``, else ``$XDG_CACHE_HOME/fercourse``, else ``~/.cache/fercourse``.
        It may not exist yet.
    """
    override = _CACHE_OVERRIDE.get()
    if override is not None:
        return override
    explicit = os.environ.get(CACHE_DIR_ENV)
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get(XDG_CACHE_ENV) or Path.home() / ".cache"
    return Path(base).expanduser() / "fercourse"


@contextlib.contextmanager
def using_cache_dir(folder: str | os.PathLike) -> Iterator[Path]:
    """Use ``folder`` as the dataset cache inside the ``with`` block (the environment is untouched).

    Parameters
    ----------
    folder : path-like
        The cache folder for the block; created when the cache is first written.

    Yields
    ------
    Path
        ``folder`` as a Path.
    """
    token = _CACHE_OVERRIDE.set(Path(folder))
    try:
        yield Path(folder)
    finally:
        _CACHE_OVERRIDE.reset(token)


def fer2013_path(path: str | os.PathLike | None = None) -> Path:
    """Where FER2013 is: ``path`` when given, else ``$FERCOURSE_FER2013``.

    Parameters
    ----------
    path : path-like, optional
        An explicit copy (a Kaggle ``fer2013.csv`` or an image-folder root); wins over the variable.

    Returns
    -------
    Path
        The file or folder, which exists.

    Raises
    ------
    FileNotFoundError
        No path and ``FERCOURSE_FER2013`` unset or empty, or the path does not exist; the
        message names the variable and what it should hold.

    Examples
    --------
    >>> fer2013_path("/no/such/fer2013")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    FileNotFoundError: /no/such/fer2013: no such file or folder (expected FER2013 as a Kaggle fer2013.csv ...)
    """
    expected = "expected FER2013 as a Kaggle fer2013.csv or an image-folder root with train/ and test/"
    if path is None:
        value = os.environ.get(FER2013_ENV, "")
        if not value:
            raise FileNotFoundError(f"FER2013 not located: pass its path, or set the environment variable "
                                    f"{FER2013_ENV} to your copy ({expected})")
        found = Path(value).expanduser()
        if not found.exists():
            raise FileNotFoundError(f"{found} (from {FER2013_ENV}): no such file or folder ({expected})")
        return found
    found = Path(path).expanduser()
    if not found.exists():
        raise FileNotFoundError(f"{found}: no such file or folder ({expected})")
    return found


def debug() -> bool:
    """Whether ``FERCOURSE_DEBUG`` is set (non-empty): the command line then shows full tracebacks."""
    return bool(os.environ.get(DEBUG_ENV))


@dataclass(frozen=True)
class QuickMode:
    """What ``--quick`` means: short runs that still show learning, for CI and first tries.

    Eight epochs and the simple CNN are the least that lets lessons 5 and 6 learn visibly on the
    quick sample (two epochs, or the batch-norm CNN, stayed at chance there), while every lesson
    still runs in about 4 minutes on a 2-core CPU.
    """

    num_epochs: int = 8
    """Injected into every lesson that declares ``num_epochs``."""
    cnn_variant: str = "simple"
    """Injected into every lesson that declares ``cnn_variant``."""
    n_train: int = 2000
    """Training images a lesson uses: the built-in sample's size, or real data's training subsample."""
    n_test: int = 400
    """Test images of the quick sample (and the size of real data's validation subsample)."""
    zoo_max_train: int = 5000
    """``fercourse compare --quick`` trains every model on a stratified subsample of at most this many."""
    zoo_excluded: tuple[str, ...] = ("svm_pca", "knn_pca")
    """Zoo models left out by ``--quick`` (slow, never informative at quick budgets) unless named."""

    def lesson_parameters(self) -> dict[str, object]:
        """The parameters the lesson runner injects (only into lessons that declare each name)."""
        return {"quick": True, "num_epochs": self.num_epochs, "cnn_variant": self.cnn_variant}


#: The one quick-mode setting the runner, :func:`fercourse.data.lesson_data` and the model zoo read.
QUICK = QuickMode()
