"""Digests the grader computes: salted digests of ids, and fingerprints of files and folders.

A salted digest ``sha256(salt|purpose|item)`` orders the test ids into public and private
(purpose ``public-private``) and derives the pseudonym secret (purpose ``pseudonyms``): one salt
per offering, one purpose per use, so no two uses share a digest. A fingerprint says whether a
file or a folder changed: by content (:func:`file_digest`, :func:`folder_digest`) or, where
content is too costly to read (a class's autograded folders), by size and time
(:func:`stat_signature`).

Examples
--------
>>> salted_digest("course-2026", "public-private", "id7")[:12]
'9d3cbf6893ed'
>>> salted_digest("course-2026", "pseudonyms") == salted_digest("course-2026", "pseudonyms")
True
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from fercourse.files import sha256_file


def salted_digest(salt: str, purpose: str, item: str | None = None) -> str:
    """Hex SHA-256 of ``salt|purpose|item`` (``salt|purpose`` without an item).

    Parameters
    ----------
    salt : str
        The offering's secret.
    purpose : str
        What the digest is for; different purposes never share digests.
    item : str, optional
        The thing digested (a test id).

    Returns
    -------
    str
        64 hex digits.
    """
    text = f"{salt}|{purpose}" if item is None else f"{salt}|{purpose}|{item}"
    return hashlib.sha256(text.encode()).hexdigest()


def bytes_digest(data: bytes) -> str:
    """Hex SHA-256 of ``data``.

    Examples
    --------
    >>> bytes_digest(b"abc")[:12]
    'ba7816bf8f01'
    """
    return hashlib.sha256(data).hexdigest()


def file_digest(path: str | Path) -> str:
    """SHA-256 of a file, or ``missing``/``unreadable (...)`` when it cannot be read.

    Parameters
    ----------
    path : path-like

    Returns
    -------
    str
    """
    try:
        return sha256_file(path)
    except FileNotFoundError:
        return "missing"
    except OSError as error:
        return f"unreadable ({error})"


def folder_digest(folder: str | Path) -> str:
    """SHA-256 over the relative paths and contents of every file under ``folder`` (a link: its target
    text, never what it points to).

    Parameters
    ----------
    folder : path-like

    Returns
    -------
    str
    """
    folder = Path(folder)
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_symlink():
            digest.update(f"\0{path.relative_to(folder).as_posix()}\0".encode())
            digest.update(os.readlink(path).encode())
        elif path.is_file():
            digest.update(f"\0{path.relative_to(folder).as_posix()}\0".encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def stat_signature(path: str | Path) -> tuple[int, int] | None:
    """``(size, mtime_ns)`` of ``path`` itself (a link is not followed), or None when it is gone.

    Parameters
    ----------
    path : path-like

    Returns
    -------
    tuple of int, or None
    """
    try:
        stat = Path(path).lstat()
    except OSError:
        return None
    return stat.st_size, stat.st_mtime_ns


__all__ = ["bytes_digest", "file_digest", "folder_digest", "salted_digest", "stat_signature"]
