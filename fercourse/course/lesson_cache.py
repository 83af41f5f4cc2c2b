"""Reuse an executed lesson when nothing that decides its outputs has changed.

A lesson's cache key hashes what decides what it prints and draws: its code cells (source and tags,
not outputs), the parameters injected into it, a fingerprint of the data (the file or every file
below the folder: path, size and modification time), and the source of the ``fercourse`` modules
the lesson uses: those its code cells import and, transitively, every module those import (lazy
imports inside functions included), each package's ``__init__`` on the way, and the package data
(the shipped model) beside them. An edit to a module no lesson reaches (the grading code, the CLI)
reruns no lesson; an edit to one a lesson reaches reruns that lesson only. An edit to a lesson's
prose (its Markdown cells) reruns nothing either: the reused copy gets the lesson's current
Markdown around the cached outputs (:func:`with_current_prose`).

An entry also lists the files the lesson wrote through its artefact parameters (the saved CNN,
the submission) with their SHA-256, and is only used while those files are still there unchanged.

Examples
--------
>>> data_fingerprint("sample")
'sample'
>>> "fercourse.grading" in {name.rsplit(".", 1)[0] for name in imported_modules(["fercourse.data"])}
False
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import re
import shutil
from pathlib import Path

from fercourse.files import content_fingerprint, sha256_file, stat_fingerprint

__all__ = ["LessonCache", "data_fingerprint", "imported_modules", "lesson_key", "lesson_modules",
           "modules_fingerprint", "with_current_prose"]

PACKAGE = "fercourse"
_MAGIC = re.compile(r"^\s*[%!]", re.MULTILINE)


def _code_cells(notebook) -> list[str]:
    return [cell.source for cell in notebook.cells if cell.cell_type == "code"]


def _notebook_digest(notebook) -> str:
    """SHA-256 of the code cells (source and tags): the prose does not change what a lesson computes."""
    cells = [[cell.source, sorted(cell.get("metadata", {}).get("tags", []))]
             for cell in notebook.cells if cell.cell_type == "code"]
    return hashlib.sha256(json.dumps(cells).encode()).hexdigest()


def with_current_prose(executed: str | os.PathLike, lesson: str | os.PathLike,
                       out: str | os.PathLike) -> bool:
    """Write to ``out`` the lesson as it is now, each code cell with its outputs from ``executed``.

    A cached run is reused when only the lesson's Markdown changed (the key covers its code cells),
    so the page must show today's prose beside the outputs the unchanged code produced. papermill's
    injected-parameters cell is kept after the ``parameters`` cell, where it ran; the build note
    is left for :func:`fercourse.course.build_note.mark_injected_cell` to write again. Returns
    False, writing nothing, when the code cells of the two do not match one for one.
    """
    import nbformat

    ran = nbformat.read(executed, as_version=4)
    now = nbformat.read(lesson, as_version=4)

    def tags(cell) -> list[str]:
        return cell.get("metadata", {}).get("tags", [])

    injected = [cell for cell in ran.cells if "injected-parameters" in tags(cell)]
    outputs = [cell for cell in ran.cells if cell.cell_type == "code" and cell not in injected]
    code = [cell for cell in now.cells if cell.cell_type == "code"]
    if [cell.source for cell in outputs] != [cell.source for cell in code]:
        return False
    executed_code = iter(outputs)
    cells = []
    for cell in now.cells:
        cells.append(next(executed_code) if cell.cell_type == "code" else cell)
        if "parameters" in tags(cell):
            cells.extend(injected)
    ran.cells = cells
    nbformat.write(ran, out)
    return True


def data_fingerprint(data: str | None, base: str | os.PathLike | None = None) -> str:
    """A string that changes when the data behind ``data`` changes (built-in names kept as they are)."""
    from fercourse.config import FER2013_SOURCE, fer2013_path, is_builtin_source

    if data is None or is_builtin_source(data):
        if data == FER2013_SOURCE:

            return data_fingerprint(str(fer2013_path()))
        return str(data)
    path = Path(data)
    if not path.is_absolute() and base is not None:
        path = Path(base) / path
    fingerprint = stat_fingerprint(path)
    return f"missing:{data}" if fingerprint == "missing" else fingerprint


def _package_root() -> Path:
    import fercourse

    return Path(fercourse.__file__).parent


def _module_file(name: str, root: Path) -> Path | None:
    """The source file of module ``name`` (``fercourse.x.y``) below ``root``, or None."""
    parts = name.split(".")[1:]
    candidates = [root.joinpath(*parts).with_suffix(".py"), root.joinpath(*parts, "__init__.py")]
    if not parts:
        candidates = [root / "__init__.py"]
    return next((path for path in candidates if path.is_file()), None)


def _names_imported(tree: ast.AST, module: str, is_package: bool) -> set[str]:
    """Every ``fercourse`` module an AST imports anywhere (a function's lazy imports too).

    ``from fercourse.x import y`` yields both ``fercourse.x`` and ``fercourse.x.y`` (y may be a
    submodule); relative imports are resolved against ``module``.
    """
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".") if is_package else module.split(".")[:-1]
                anchor = anchor[:len(anchor) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return {name for name in names if name == PACKAGE or name.startswith(PACKAGE + ".")}


def imported_modules(names: list[str], root: str | os.PathLike | None = None) -> set[str]:
    """The ``fercourse`` modules that importing ``names`` can reach, ``names`` and their packages included.

    A static reading of the import statements (no code runs), so it also follows imports made
    inside functions, which run only when the function is called: it may list a module a run never
    imports, never the other way round (the package imports nothing by name from a string).
    """
    root = Path(root) if root is not None else _package_root()
    seen: set[str] = set()
    pending = list(names)
    while pending:
        name = pending.pop()
        parts = name.split(".")
        for depth in range(1, len(parts) + 1):  # importing a.b.c runs a/__init__ and a/b/__init__ too
            prefix = ".".join(parts[:depth])
            path = _module_file(prefix, root)
            if path is None or prefix in seen:
                continue
            seen.add(prefix)
            tree = ast.parse(path.read_bytes(), filename=str(path))
            pending.extend(_names_imported(tree, prefix, path.name == "__init__.py"))
    return seen


def lesson_modules(notebook) -> set[str]:
    """The ``fercourse`` modules a lesson's code can reach (:func:`imported_modules` of its imports)."""
    names: set[str] = set()
    for source in _code_cells(notebook):
        try:
            tree = ast.parse(_MAGIC.sub("pass  # ", source))
        except SyntaxError:  # a cell that is not plain Python: take every name that looks like a module
            names.update(re.findall(rf"\b{PACKAGE}(?:\.\w+)*", source))
            continue
        names.update(_names_imported(tree, "__main__", False))
    return imported_modules(sorted(names))


def _data_packages(path: Path) -> set[str]:
    """Packages whose data a module reads (``importlib.resources.files("fercourse.models")``)."""
    packages = set()
    for node in ast.walk(ast.parse(path.read_bytes(), filename=str(path))):
        called = getattr(node, "func", None)
        if (isinstance(node, ast.Call) and getattr(called, "id", getattr(called, "attr", None)) == "files"
                and node.args and isinstance(node.args[0], ast.Constant)
                and str(node.args[0].value).startswith(PACKAGE)):
            packages.add(node.args[0].value)
    return packages


def modules_fingerprint(modules: set[str], root: str | os.PathLike | None = None) -> str:
    """SHA-256 over the source of ``modules`` and the package data they read (the shipped model)."""
    root = Path(root) if root is not None else _package_root()
    files = {_module_file(name, root) for name in modules} - {None}
    for package in set().union(*(_data_packages(path) for path in files)):
        folder = root.joinpath(*package.split(".")[1:])
        files.update(path for path in folder.rglob("*") if path.is_file()
                     and path.suffix not in (".py", ".pyc") and "__pycache__" not in path.parts)
    return content_fingerprint(sorted(files), root)


def lesson_key(lesson: str | os.PathLike, values: dict[str, object], data: str | None) -> str:
    """The cache key of one lesson run (see the module docstring for what it covers)."""
    import nbformat

    lesson = Path(lesson)
    notebook = nbformat.read(lesson, as_version=4)
    parts = {"lesson": _notebook_digest(notebook), "parameters": values,
             "data": data_fingerprint(data, base=lesson.parent),
             "package": modules_fingerprint(lesson_modules(notebook))}
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
