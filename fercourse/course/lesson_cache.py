"""Reuse an executed lesson when nothing that decides its outputs has changed.

A lesson's cache key hashes what decides what it prints and draws: its cells (source and tags,
not outputs), the parameters injected into it, a fingerprint of the data (the file or every file
below the folder: path, size and modification time), and the source of the ``fercourse`` package
itself. An entry also lists the files the lesson wrote through its artefact parameters (the
saved CNN, the submission) with their SHA-256, and is only used while those files are still there
unchanged. So a rebuild with unchanged lessons copies the executed copies back in seconds, and
any edit to a lesson, its parameters, the data or the package runs that lesson again.

Examples
--------
>>> data_fingerprint("sample")
'sample'
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
from pathlib import Path

from fercourse.files import sha256_file

__all__ = ["LessonCache", "data_fingerprint", "lesson_key", "package_fingerprint"]


def _notebook_digest(lesson: Path) -> str:
    import nbformat

    notebook = nbformat.read(lesson, as_version=4)
    cells = [[cell.cell_type, cell.source, sorted(cell.get("metadata", {}).get("tags", []))]
             for cell in notebook.cells]
    return hashlib.sha256(json.dumps(cells).encode()).hexdigest()


def data_fingerprint(data: str | None, base: str | os.PathLike | None = None) -> str:
    """A string that changes when the data behind ``data`` changes (names kept as they are)."""
    if data is None or data in ("sample", "fer2013"):
        if data == "fer2013":
            from fercourse.config import fer2013_path

            return data_fingerprint(str(fer2013_path()))
        return str(data)
    path = Path(data)
    if not path.is_absolute() and base is not None:
        path = Path(base) / path
    if path.is_file():
        stat = path.stat()
        return f"file:{stat.st_size}:{stat.st_mtime_ns}"
    if path.is_dir():
        digest, count = hashlib.sha256(), 0
        for folder, names, files in os.walk(path):
            names.sort()
            for name in sorted(files):
                stat = os.stat(os.path.join(folder, name))
                digest.update(f"{os.path.relpath(os.path.join(folder, name), path)}:{stat.st_size}:"
                              f"{stat.st_mtime_ns}\n".encode())
                count += 1
        return f"dir:{count}:{digest.hexdigest()}"
    return f"missing:{data}"


@functools.lru_cache(maxsize=1)
def package_fingerprint() -> str:
    """SHA-256 over the source of the installed ``fercourse`` package (its ``.py`` files)."""
    import fercourse

    root = Path(fercourse.__file__).parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def lesson_key(lesson: str | os.PathLike, values: dict[str, object], data: str | None) -> str:
    """The cache key of one lesson run (see the module docstring for what it covers)."""
    lesson = Path(lesson)
    parts = {"lesson": _notebook_digest(lesson), "parameters": values,
             "data": data_fingerprint(data, base=lesson.parent), "package": package_fingerprint()}
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:20]


class LessonCache:
    """Executed lessons by key, in ``folder`` (one ``STEM.KEY.ipynb`` and its ``.json`` manifest)."""

    def __init__(self, folder: str | os.PathLike):
        self.folder = Path(folder)

    def _paths(self, stem: str, key: str) -> tuple[Path, Path]:
        return self.folder / f"{stem}.{key}.ipynb", self.folder / f"{stem}.{key}.json"

    def get(self, stem: str, key: str) -> dict | None:
        """The manifest of a usable entry (executed copy present, outputs unchanged), else None."""
        notebook, manifest = self._paths(stem, key)
        if not (notebook.is_file() and manifest.is_file()):
            return None
        try:
            entry = json.loads(manifest.read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            return None
        for path, digest in entry.get("outputs", {}).items():
            if not Path(path).is_file() or sha256_file(Path(path)) != digest:
                return None
        return {**entry, "notebook": notebook}

    def put(self, stem: str, key: str, executed: str | os.PathLike, *, seconds: float,
            outputs: list[str | os.PathLike]) -> None:
        """Keep ``executed`` (and drop older entries of the same lesson)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        for old in self.folder.glob(f"{stem}.*"):
            old.unlink()
        notebook, manifest = self._paths(stem, key)
        shutil.copyfile(executed, notebook)
        present = [Path(path).resolve() for path in outputs if Path(path).is_file()]
        manifest.write_text(json.dumps({"seconds": round(seconds, 1),
                                        "outputs": {str(path): sha256_file(path) for path in present}},
                                       indent=2), encoding="utf-8")
