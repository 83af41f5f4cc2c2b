"""Which files under ``submitted/`` and ``autograded/`` the grader may read: one decision for every path.

Every file a student sends, and every file their kernel leaves in its working folder, is hostile
input (STYLE.md rule 14). A symbolic link makes whoever follows it read or change the file it
names (the answer key, ``/etc/shadow``): nbgrader follows links when it copies a submission into
``autograded/``, when ``generate_feedback`` copies ``autograded/`` into ``feedback/`` and when it
``chmod``\\ s the files it wrote; parallel grading read them with ``read_bytes()``. A hard link is
a second name of a file that may be someone else's, and a FIFO, socket or device file blocks or
reads from somewhere else.

:func:`classify` walks a folder without following any link and sorts its entries into regular
files (one name, ``S_ISREG``) and refused entries with the reason. Serial grading, the parallel
coordinator, the worker task and feedback generation all use it (:func:`remove_refused` deletes
the refused entries themselves, never what they point to), and :func:`read_regular` reads one
file after checking, on the opened descriptor, that it still is a regular file.

Examples
--------
>>> import os, tempfile
>>> folder = Path(tempfile.mkdtemp())
>>> _ = (folder / "submission.csv").write_text("id,emotion\\n")
>>> os.symlink("/etc/passwd", folder / "notes.html")
>>> contents = classify(folder)
>>> sorted(contents.regular), contents.refused
(['submission.csv'], {'notes.html': 'a symbolic link'})
>>> remove_refused(folder)
{'notes.html': 'a symbolic link'}
>>> sorted(p.name for p in folder.iterdir())
['submission.csv']
"""

from __future__ import annotations

import fnmatch
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class FolderContents:
    """A folder's entries by relative POSIX path: regular files, and the refused ones with why."""

    regular: dict[str, Path] = field(default_factory=dict)
    refused: dict[str, str] = field(default_factory=dict)


def refusal(mode_or_stat: os.stat_result) -> str | None:
    """Why an entry (its ``lstat``) is not a regular file with one name; None when it is.

    Parameters
    ----------
    mode_or_stat : os.stat_result
        The entry's ``lstat()``.

    Returns
    -------
    str or None
    """
    mode = mode_or_stat.st_mode
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISDIR(mode):
        return None
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device file"
    if not stat.S_ISREG(mode):
        return "not a regular file"
    if mode_or_stat.st_nlink > 1:
        return f"a hard link ({mode_or_stat.st_nlink} names for one file)"
    return None


def classify(folder: str | Path, ignore: list[str] | tuple[str, ...] = ()) -> FolderContents:
    """Sort every entry under ``folder`` into regular files and refused entries, following no link.

    Parameters
    ----------
    folder : path-like
        A submitted or autograded folder; a missing folder has no entries.
    ignore : sequence of str
        Glob patterns of names skipped with everything below them (nbgrader's
        ``CourseDirectory.ignore``).

    Returns
    -------
    FolderContents
        ``regular``: relative path -> path; ``refused``: relative path -> reason (a linked folder
        is refused as a whole, and nothing below it is looked at).
    """
    folder = Path(folder)
    contents = FolderContents()
    if not folder.is_dir() or folder.is_symlink():
        return contents
    for here, dirs, files in os.walk(folder, followlinks=False):
        base = Path(here)
        for name in sorted([*dirs, *files]):
            if any(fnmatch.fnmatch(name, pattern) for pattern in ignore):
                if name in dirs:
                    dirs.remove(name)
                continue
            path = base / name
            relative = path.relative_to(folder).as_posix()
            try:
                reason = refusal(path.lstat())
            except OSError as error:  # gone meanwhile: nothing to read
                reason = f"unreadable ({error.strerror})"
            if reason is not None:
                contents.refused[relative] = reason
                if name in dirs:
                    dirs.remove(name)
            elif name in files:
                contents.regular[relative] = path
    return contents


def remove_refused(folder: str | Path) -> dict[str, str]:
    """Delete every refused entry under ``folder`` (the link itself, never its target).

    Parameters
    ----------
    folder : path-like

    Returns
    -------
    dict of str to str
        What was removed: relative path -> reason.
    """
    folder = Path(folder)
    removed = classify(folder).refused
    for relative in removed:
        path = folder / relative
        try:
            path.unlink()  # a link, FIFO, socket, device or hard link: unlink never follows
        except IsADirectoryError:
            pass  # a real folder is never refused
        except FileNotFoundError:
            continue
    return removed


def over_size(regular: dict[str, Path], source: str | Path | None, max_bytes: int) -> dict[str, str]:
    """The files of a kernel's folder beyond its size bound, with why: the ones to remove, never read.

    The kernel writes its folder, and a sparse file costs it no disk: nbgrader's
    ``generate_feedback`` then copied it out whole (zeros written to disk), and parallel grading
    read it into memory. A folder keeps at most ``max_bytes`` (the course's
    ``CourseDirectory.max_file_size``) per file and in all, notebooks first, then by name; a file
    with the name and size of the instructor's file in ``source`` (the course data nbgrader copied
    there) is not counted. Sizes come from ``lstat``: nothing is read.

    Parameters
    ----------
    regular : dict of str to Path
        :attr:`FolderContents.regular` of the folder.
    source : path-like or None
        ``source/<assignment>/``.
    max_bytes : int

    Returns
    -------
    dict of str to str
        Relative path -> why it is over the bound.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "a1.ipynb").write_bytes(bytes(600))
    >>> with (folder / "zeros.bin").open("wb") as handle:
    ...     _ = handle.truncate(2**30)  # 1 GiB, no disk used
    >>> _ = (folder / "notes.txt").write_bytes(bytes(600))
    >>> over_size(classify(folder).regular, None, 1000)  # doctest: +NORMALIZE_WHITESPACE
    {'notes.txt': "600 bytes: the folder's files are over 1,000 bytes in all (CourseDirectory.max_file_size)",
     'zeros.bin': '1,073,741,824 bytes: over the 1,000 of CourseDirectory.max_file_size'}
    >>> import shutil; shutil.rmtree(folder)
    """
    over: dict[str, str] = {}
    counted = 0
    for relative in sorted(regular, key=lambda name: (not name.endswith(".ipynb"), name)):
        size = regular[relative].lstat().st_size
        original = Path(source) / relative if source is not None else None
        if original is not None and original.is_file() and not original.is_symlink() and \
                original.stat().st_size == size:
            continue  # the instructor's data, or as large as it: not the kernel's to grow
        if size > max_bytes:
            over[relative] = f"{size:,} bytes: over the {max_bytes:,} of CourseDirectory.max_file_size"
        elif counted + size > max_bytes:
            over[relative] = (f"{size:,} bytes: the folder's files are over {max_bytes:,} bytes in all "
                              "(CourseDirectory.max_file_size)")
        else:
            counted += size
    return over


def read_regular(path: str | Path, max_bytes: int) -> bytes:
    """Read at most ``max_bytes + 1`` bytes of ``path`` if it is a regular file with one name.

    The checks run on the opened descriptor (``O_NOFOLLOW``, ``O_NONBLOCK``), so a file swapped
    for a link between a check and the read is refused too.

    Parameters
    ----------
    path : path-like
    max_bytes : int
        The largest size the caller accepts (one byte more is read, so a caller sees it was larger).

    Returns
    -------
    bytes

    Raises
    ------
    FileNotFoundError
        Nothing is there.
    PermissionError
        The entry is not a regular file with one name; the message says what it is.
    """
    path = Path(path)
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        descriptor = os.open(path, flags)
    except OSError as error:
        if isinstance(error, FileNotFoundError):
            raise
        reason = refusal(path.lstat()) if path.exists() or path.is_symlink() else None
        raise PermissionError(f"{path.name} is {reason or 'not readable'}: expected a regular file") from None
    with os.fdopen(descriptor, "rb") as handle:
        reason = refusal(os.fstat(descriptor))
        if reason is not None:
            raise PermissionError(f"{path.name} is {reason}: expected a regular file")
        return handle.read(max_bytes + 1)


__all__ = ["FolderContents", "classify", "over_size", "read_regular", "refusal", "remove_refused"]
