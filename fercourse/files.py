"""Atomic file writes (a file is either its old self or completely new, never half written), file digests
and fingerprints (the one place that says when a file or folder counts as changed).

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

import contextlib
import hashlib
import os
from pathlib import Path
from typing import Callable, Iterator


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


@contextlib.contextmanager
def locked(path: str | os.PathLike) -> Iterator[Path]:
    """Hold an exclusive lock on ``path`` for the ``with`` block: the way to read, change and write
    back a file that two processes update (an experiment and a book build recording results).

    The lock is taken on a hidden file beside it (``.NAME.lock``, left in place), not on ``path``
    itself, whose inode an atomic write replaces. Another process calling ``locked(path)`` waits
    until the block ends; the lock is released when the process dies, so a killed run never leaves
    it held. On a system without ``fcntl`` (Windows) the block runs unlocked.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield path
        return
    with open(path.with_name(f".{path.name}.lock"), "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield path
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


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


def stat_fingerprint(path: str | os.PathLike) -> str:
    """A string that changes when a file or any file below a folder changes size or modification time.

    Cheap (no file is read), so it suits large data: ``file:SIZE:MTIME``, ``dir:COUNT:DIGEST`` over
    every file's relative name, size and modification time, or ``missing`` when nothing is there.
    Links are followed, as a reader of the data would.

    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> stat_fingerprint(folder / "none")
    'missing'
    >>> before = stat_fingerprint(folder)
    >>> _ = atomic_write_text(folder / "a.txt", "abc")
    >>> stat_fingerprint(folder) != before
    True
    """
    path = Path(path)
    if path.is_file():
        stat = path.stat()
        return f"file:{stat.st_size}:{stat.st_mtime_ns}"
    if not path.is_dir():
        return "missing"
    digest, count = hashlib.sha256(), 0
    for folder, names, files in os.walk(path):
        names.sort()
        for name in sorted(files):
            full = os.path.join(folder, name)
            stat = os.stat(full)
            digest.update(f"{os.path.relpath(full, path)}:{stat.st_size}:{stat.st_mtime_ns}\n".encode())
            count += 1
    return f"dir:{count}:{digest.hexdigest()}"


def content_fingerprint(paths: list[Path], root: str | os.PathLike) -> str:
    """SHA-256 over the names (relative to ``root``) and bytes of ``paths``, in sorted order.

    For source code, where a change of content must count even when the modification time does not
    move (a checkout, a copy).

    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> one = content_fingerprint([atomic_write_text(root / "a.py", "x = 1")], root)
    >>> one == content_fingerprint([atomic_write_text(root / "a.py", "x = 2")], root)
    False
    """
    root = Path(root)
    digest = hashlib.sha256()
    for path in sorted(Path(path) for path in paths):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()
