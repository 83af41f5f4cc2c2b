"""Atomic file writes (a file is either its old self or completely new, never half written) and file digests.

Checkpoints, resume state and dataset caches are read back by later runs; a crash or a full
disk in the middle of a write must not leave a truncated file for them to trust. Each writer
here writes a scratch file beside the target (same folder, so the final rename never crosses a
file system) and renames it over the target only after the write succeeded.

Examples
--------
>>> import tempfile
>>> folder = Path(tempfile.mkdtemp())
>>> atomic_write_text(folder / "notes.txt", "hello\\n").read_text()
'hello\\n'
>>> sorted(path.name for path in folder.iterdir())
['notes.txt']
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Callable


def atomic_write(path: str | os.PathLike, write: Callable[[Path], object]) -> Path:
    """Call ``write(scratch)`` on a scratch path beside ``path``, then rename it to ``path``.

    Parameters
    ----------
    path : path-like
        The file to create or replace; its folder is created when missing.
    write : callable
        Writes the complete file at the path it is given. The scratch path ends with the same
        suffix as ``path`` (``model.saving.keras``), for writers that choose the format by suffix
        (``keras.Model.save``, ``numpy.savez``).

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    Exception
        Whatever ``write`` raised; ``path`` is then unchanged and no scratch file is left.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # The process id keeps two processes writing the same file from sharing a scratch file.
    scratch = path.with_name(f"{path.stem}.saving{os.getpid()}{path.suffix}")
    try:
        write(scratch)
        os.replace(scratch, path)
    except BaseException:
        scratch.unlink(missing_ok=True)
        raise
    return path


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_write`); returns ``path``."""
    return atomic_write(path, lambda scratch: scratch.write_bytes(data))


def atomic_write_text(path: str | os.PathLike, text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically (see :func:`atomic_write`); returns ``path``."""
    return atomic_write(path, lambda scratch: scratch.write_text(text, encoding=encoding))


def sha256_file(path: str | os.PathLike) -> str:
    """SHA-256 of a file's bytes as hex, read in 1 MiB blocks (saved models can be large).

    >>> import tempfile
    >>> sha256_file(atomic_write_text(Path(tempfile.mkdtemp()) / "a.txt", "abc"))[:12]
    'ba7816bf8f01'
    """
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
