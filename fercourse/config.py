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

Training budgets and validation
-------------------------------
:class:`Budget` is the one budget type: epochs, wall-time minutes and batch size, used by the
recipes (:mod:`fercourse.training.recipes`), the model zoo (:mod:`fercourse.training.zoo`), quick
mode and the lessons' real-data build (:mod:`fercourse.course.budgets`). :data:`VALIDATION_SHARE`
and :data:`VALIDATION_SEED` define the validation split every trainer carves from train.

Quick mode
----------
:data:`QUICK` holds what ``--quick`` means everywhere: the parameters the lesson runner injects,
the data size :func:`fercourse.data.lesson_data` uses, and the model zoo's training cap.

Examples
--------
>>> QUICK.lesson_parameters()
{'quick': True, 'num_epochs': 8, 'cnn_variant': 'simple'}
>>> Budget(epochs=8).seconds is None, Budget(epochs=8, minutes=2.5).seconds
(True, 150.0)
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

from fercourse.errors import InputError

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


SAMPLE_SOURCE = "sample"
"""The source name of the built-in synthetic sample (``load("sample")``, ``--data sample``)."""
FER2013_SOURCE = "fer2013"
"""The source name that means the FER2013 copy in ``$FERCOURSE_FER2013`` (:func:`fer2013_path`)."""


def is_sample(source) -> bool:
    """Whether ``source`` (a name or path) names the built-in synthetic sample.

    Examples
    --------
    >>> is_sample("sample"), is_sample("../shared/fer2013"), is_sample(None)
    (True, False, False)
    """
    return source is not None and str(source) == SAMPLE_SOURCE


def is_builtin_source(source) -> bool:
    """Whether ``source`` is one of the two built-in names, ``"sample"`` or ``"fer2013"`` (not a path)."""
    return source is not None and str(source) in (SAMPLE_SOURCE, FER2013_SOURCE)


VALIDATION_SHARE: float = 0.1
"""The share of train held out for validation (stratified) by the recipes, the zoo and the lessons."""
VALIDATION_SEED: int = 0
"""The seed of that split, the same for every recipe and training seed so that runs are comparable."""


@dataclass(frozen=True)
class Budget:
    """How much training one run gets; a field left None sets no limit (or keeps a default).

    Attributes
    ----------
    epochs : int, optional
        Passes over the training data.
    minutes : float, optional
        Wall time: a recipe's training limit, checked after every batch; a zoo model's soft limit,
        checked after every epoch; a lesson's planned time in the real-data build.
    batch_size : int, optional
        Images per optimizer step.
    """

    epochs: int | None = None
    minutes: float | None = None
    batch_size: int | None = None

    def __post_init__(self) -> None:
        if self.epochs is not None and (isinstance(self.epochs, bool) or not isinstance(self.epochs, int)
                                        or self.epochs < 1):
            raise InputError(f"budget epochs is {self.epochs!r}: expected a positive whole number")
        if self.minutes is not None and not self.minutes > 0:
            raise InputError(f"budget minutes is {self.minutes!r}: expected a positive number of minutes")
        if self.batch_size is not None and (not isinstance(self.batch_size, int) or self.batch_size < 1):
            raise InputError(f"budget batch_size is {self.batch_size!r}: expected a positive whole number")

    @property
    def seconds(self) -> float | None:
        """``minutes`` in seconds (None: no time limit)."""
        return None if self.minutes is None else 60.0 * self.minutes


@dataclass(frozen=True)
class QuickMode:
    """What ``--quick`` means: short runs that still show learning, for CI and first tries.

    Eight epochs and the simple CNN are the least that lets lessons 5 and 6 learn visibly on the
    quick sample (two epochs, or the batch-norm CNN, stayed at chance there), while every lesson
    still runs in about 4 minutes on a 2-core CPU.
    """

    lesson_budget: Budget = Budget(epochs=8)
    """Its ``epochs`` are injected into every lesson that declares ``num_epochs``."""
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
        return {"quick": True, "num_epochs": self.lesson_budget.epochs, "cnn_variant": self.cnn_variant}


#: The one quick-mode setting the runner, :func:`fercourse.data.lesson_data` and the model zoo read.
QUICK = QuickMode()
