"""Readers for the ways people hold FER2013: CSV files and image folders.

These return plain arrays; :func:`fercourse.data.load` wraps them into a
:class:`~fercourse.data.Dataset`. Every problem raises
:class:`~fercourse.errors.DataError` naming the file and the line or field,
unless the caller opts in to skipping bad rows, in which case each skipped row
is reported.
"""

from __future__ import annotations

import csv
import os
import re
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from fercourse.data.shapes import IMAGE_SIZE, NUM_PIXELS
from fercourse.errors import DataError
from fercourse.labels import EMOTIONS, canonical_name, to_index

KAGGLE_USAGE = {"Training": "train", "PublicTest": "val", "PrivateTest": "test"}
SPLIT_FOLDERS = {"train": "train", "training": "train", "test": "test", "testing": "test",
                 "val": "val", "valid": "val", "validation": "val"}


@dataclass
class ReadReport:
    """What a reader noticed: converted images and skipped rows or files."""

    converted: int = 0
    skipped: list[str] = field(default_factory=list)


@dataclass
class RawCsv:
    """Rows of one CSV file: pixels, labels (or None), ids and Usage values (or None)."""

    images: np.ndarray
    labels: np.ndarray | None
    ids: np.ndarray
    usage: np.ndarray | None


def _diagnose_pixels(text: str) -> str:
    """Say exactly what is wrong with one pixel field (the slow path, bad rows only)."""
    tokens = text.split()
    if not tokens:
        return f"the pixels field is empty: expected {NUM_PIXELS} integers 0-255 separated by spaces"
    for position, token in enumerate(tokens, start=1):
        if not token.isdigit():
            kind = "negative" if token.startswith("-") and token[1:].isdigit() else "non-integer"
            return f"pixel {position} is {kind} ({token!r}): expected an integer 0-255"
        if int(token) > 255:
            return f"pixel {position} is {token}: expected an integer 0-255"
    return f"found {len(tokens)} pixels: expected {NUM_PIXELS} (a 48x48 image) separated by spaces"


def parse_pixels(text: str) -> np.ndarray | None:
    """Parse one pixel field into a (48, 48) uint8 array, or return None if it is malformed.

    Examples
    --------
    >>> parse_pixels(" ".join(["7"] * 2304)).shape
    (48, 48)
    >>> parse_pixels("1 2 3") is None
    True
    """
    with warnings.catch_warnings():
        # A token that is not an integer ("x", "1.5") stops numpy early: a ValueError in numpy 2.4+,
        # a DeprecationWarning before; both mean a malformed field.
        warnings.simplefilter("error", DeprecationWarning)
        try:
            values = np.fromstring(text, dtype=np.int16, sep=" ")
        except (ValueError, DeprecationWarning):
            return None
    if values.size != NUM_PIXELS or values.min() < 0 or values.max() > 255:
        return None
    return values.astype(np.uint8).reshape(IMAGE_SIZE, IMAGE_SIZE)


def _progress(iterable, total: int, desc: str, enabled: bool, unit: str = "row"):
    if not enabled:
        return iterable
    from tqdm.auto import tqdm

    return tqdm(iterable, total=total, desc=desc, unit=unit, mininterval=0.5, file=sys.stderr)


CHUNK_BYTES = 8 * 1024 * 1024
PARALLEL_BYTES = 32 * 1024 * 1024  # below this, worker start-up costs more than it saves


@dataclass
class _Layout:
    width: int
    pixel_col: int
    label_col: int | None
    id_col: int | None
    usage_col: int | None


def read_csv(path: str | Path, *, skip_bad_rows: bool = False, progress: bool = False,
             report: ReadReport | None = None, workers: int | None = None) -> RawCsv:
    # Over 60 lines: a 23-line docstring; the body reads rows and collects every problem in one pass.
    """Read a Kaggle ``fer2013.csv`` or a course CSV (``id,emotion,pixels`` or ``id,pixels``).

    Large files are parsed in byte-range chunks, in parallel processes when the machine
    has more than one core.

    Parameters
    ----------
    path : str or Path
        The CSV file. Its header must have a ``pixels`` column; ``emotion``, ``id`` and
        ``Usage`` are optional. Header names are matched case-insensitively, spaces ignored.
    skip_bad_rows : bool
        Skip malformed rows instead of raising; each one is listed in ``report.skipped``.
    progress : bool
        Show a progress bar.
    report : ReadReport, optional
        Collects skipped rows.
    workers : int, optional
        Processes to parse with; default: one per core for files over 32 MB, else 1.

    Returns
    -------
    RawCsv
        uint8 images (n, 48, 48), int64 labels or None, ids (str) and Usage values or None.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file (expected a FER CSV with a 'pixels' column)")
    report = report if report is not None else ReadReport()
    layout, body_start = _read_header(path)
    size = path.stat().st_size
    bounds = list(range(body_start, size, CHUNK_BYTES)) + [size]
    chunks = [(str(path), start, stop, layout) for start, stop in zip(bounds[:-1], bounds[1:])]
    if workers is None:
        workers = min(os.cpu_count() or 1, 4) if size > PARALLEL_BYTES else 1
    results = None
    if workers > 1 and len(chunks) > 1:
        results = _parse_in_workers(chunks, workers, path.name, progress)
    if results is None:
        chunk_bar = _progress(chunks, len(chunks), path.name, progress, "chunk")
        results = [_parse_chunk(chunk) for chunk in chunk_bar]
    line_offset = 1  # the header is line 1
    images, labels, ids, usage = [], [], [], []
    for result in results:
        for local_line, message in result["errors"]:
            error = DataError(path, message, line=line_offset + local_line)
            if not skip_bad_rows:
                raise error
            report.skipped.append(str(error))
        if len(result["images"]):
            images.append(result["images"])
            labels.append(result["labels"])
            ids.extend(f"{line_offset + n - 1:05d}" if i is None else i for n, i in result["ids"])
            usage.extend(result["usage"])
        line_offset += result["lines"]
    if not images:
        raise DataError(path, "the file has a header but no data rows: expected one row per image")
    return RawCsv(
        images=np.concatenate(images),
        labels=np.concatenate(labels) if layout.label_col is not None else None,
        ids=np.array(ids, dtype=str),
        usage=np.array(usage, dtype=str) if layout.usage_col is not None else None,
    )


def _parse_in_workers(chunks: list, workers: int, name: str, progress: bool) -> list[dict] | None:
    """Parse chunks in forked worker processes; None where that is not possible (then parse serially).

    Fork, not spawn: spawn re-runs the caller's script in each worker, which breaks every
    script without an ``if __name__ == "__main__":`` guard. The workers only parse text
    with NumPy, so the threads a parent may have running (TensorFlow's) do not matter to them.
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    if "fork" not in multiprocessing.get_all_start_methods() or sys.platform == "darwin":
        return None
    try:
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
            return list(_progress(pool.map(_parse_chunk, chunks), len(chunks), name, progress, "chunk"))
    except (BrokenProcessPool, OSError) as error:
        print(f"{name}: parallel parsing failed ({error}); parsing in one process", file=sys.stderr)
        return None


def _read_header(path: Path) -> tuple[_Layout, int]:
    with path.open("rb") as handle:
        raw = handle.readline()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise DataError(path, f"not UTF-8 text ({error.reason} at byte {error.start}): "
                              "expected a CSV text file", line=1) from None
    if not text.strip():
        raise DataError(path, "the file is empty: expected a header such as "
                              "'emotion,pixels,Usage' or 'id,emotion,pixels'")
    header = next(csv.reader([text]))
    columns = [name.strip().lower() for name in header]
    if "pixels" not in columns:
        raise DataError(path, f"no 'pixels' column in the header {header!r}: expected "
                              "'emotion,pixels,Usage' (Kaggle) or 'id,emotion,pixels' / 'id,pixels' "
                              "(course CSV), comma-separated")
    layout = _Layout(len(header), columns.index("pixels"),
                     columns.index("emotion") if "emotion" in columns else None,
                     columns.index("id") if "id" in columns else None,
                     columns.index("usage") if "usage" in columns else None)
    return layout, len(raw)


def _parse_chunk(chunk) -> dict:
    """Parse the lines that start inside one byte range; line numbers are local (1 = first line)."""
    path, start, stop, layout = chunk
    path = Path(path)
    images, labels, ids, usage, errors = [], [], [], [], []
    lines = 0
    with open(path, "rb") as handle:
        handle.seek(start - 1)
        if handle.read(1) != b"\n":
            handle.readline()  # the rest of a line that belongs to the previous chunk
        while handle.tell() < stop:
            raw = handle.readline()
            if not raw:
                break
            lines += 1
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as error:
                errors.append((lines, f"not UTF-8 text ({error.reason} at byte {error.start} of the line): "
                                      "expected a CSV text file"))
                continue
            text = text.rstrip("\r\n")
            if not text.strip():
                continue  # blank line
            row = text.split(",") if '"' not in text else next(csv.reader([text]))
            try:
                image, label, row_id, row_usage = _parse_row(
                    path, lines, row, layout.width, layout.pixel_col, layout.label_col, layout.id_col,
                    layout.usage_col)
            except DataError as error:
                errors.append((lines, error.reason))
                continue
            images.append(image)
            labels.append(label)
            ids.append((lines, row_id))
            usage.append(row_usage)
    return {"images": np.stack(images) if images else np.empty((0, IMAGE_SIZE, IMAGE_SIZE), np.uint8),
            "labels": np.array(labels, dtype=np.int64) if layout.label_col is not None else None,
            "ids": ids, "usage": usage, "errors": errors, "lines": lines}


def _parse_row(path: Path, line: int, row: list[str], width: int, pixel_col: int,
               label_col: int | None, id_col: int | None, usage_col: int | None):
    if len(row) != width:
        raise DataError(path, f"found {len(row)} fields: expected {width} as in the header", line=line)
    image = parse_pixels(row[pixel_col])
    if image is None:
        raise DataError(path, _diagnose_pixels(row[pixel_col]), line=line)
    label = None
    if label_col is not None:
        label = _parse_label(path, line, row[label_col])
    row_id = row[id_col].strip() if id_col is not None else None  # filled in from the line number
    if id_col is not None and not row_id:
        raise DataError(path, "field 'id' is empty: expected a unique id", line=line)
    usage = None
    if usage_col is not None:
        usage = row[usage_col].strip()
        if usage not in KAGGLE_USAGE:
            raise DataError(path, f"field 'Usage' is {usage!r}: expected one of "
                                  f"{', '.join(KAGGLE_USAGE)}", line=line)
    return image, label, row_id, usage


def _parse_label(path: Path, line: int, text: str) -> int:
    text = text.strip()
    if not text:
        raise DataError(path, "field 'emotion' is empty: expected an integer 0-6 or an emotion name",
                        line=line)
    try:  # one check, one message, for integers and names alike (fercourse.labels)
        return to_index(int(text) if text.lstrip("-").isdigit() else text)
    except ValueError as error:
        raise DataError(path, f"field 'emotion': {error}", line=line) from None


def _natural_key(name: str) -> list:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def find_split_folders(root: Path) -> dict[str, Path]:
    """Return ``{split: folder}`` for the split folders (train, test, validation) under ``root``."""
    found = {}
    for child in sorted(root.iterdir()):
        if child.is_dir() and child.name.lower() in SPLIT_FOLDERS:
            split = SPLIT_FOLDERS[child.name.lower()]
            if split in found:
                raise DataError(root, f"two folders for the {split} split ({found[split].name}, "
                                      f"{child.name}): "
                                      "expected one")
            found[split] = child
    return found


def list_image_folder(folder: Path) -> list[tuple[Path, int]]:
    """List ``(file, canonical label)`` for every image in one split folder, in natural file-name order."""
    files = []
    class_dirs = [child for child in sorted(folder.iterdir()) if not child.name.startswith(".")]
    if not class_dirs:
        raise DataError(folder, "no class folders: expected one folder per emotion "
                                f"({', '.join(sorted(EMOTIONS))})")
    for class_dir in class_dirs:
        if not class_dir.is_dir():
            raise DataError(class_dir, "a file where a class folder was expected: put images in "
                                       "<split>/<emotion>/ folders")
        try:
            label = EMOTIONS.index(canonical_name(class_dir.name))
        except ValueError:
            known = ", ".join(sorted(EMOTIONS))
            raise DataError(class_dir, f"unknown class folder {class_dir.name!r}: expected one of "
                                       f"{known} (or disgusted, fearful, surprised)") from None
        files.extend((item, label) for item in class_dir.iterdir() if not item.name.startswith("."))
    if not files:
        raise DataError(folder, "no images in any class folder: expected JPEG or PNG files")
    files.sort(key=lambda pair: _natural_key(pair[0].name))
    return files


def read_image_file(path: Path, report: ReadReport) -> np.ndarray:
    """Read one image as (48, 48) uint8 grayscale, converting (and counting) any other size or mode."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            image.load()
            if image.mode == "L" and image.size == (IMAGE_SIZE, IMAGE_SIZE):
                return np.asarray(image, dtype=np.uint8)
            report.converted += 1
            gray = image.convert("L")
            if gray.size != (IMAGE_SIZE, IMAGE_SIZE):
                gray = gray.resize((IMAGE_SIZE, IMAGE_SIZE), Image.Resampling.BILINEAR)
            return np.asarray(gray, dtype=np.uint8)
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as error:
        raise DataError(path, f"not a readable image ({type(error).__name__}: {error}): expected a JPEG or "
                              "PNG face image") from None


def read_image_folder(folder: Path, *, skip_bad_rows: bool = False, progress: bool = False,
                      report: ReadReport | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Read one split folder (``<split>/<emotion>/*``) into images, canonical labels and ids
    (``folder/stem``)."""
    report = report if report is not None else ReadReport()
    files = list_image_folder(folder)
    images, labels, ids = [], [], []
    for path, label in _progress(files, len(files), folder.name, progress):
        try:
            images.append(read_image_file(path, report))
        except DataError as error:
            if not skip_bad_rows:
                raise
            report.skipped.append(str(error))
            continue
        labels.append(label)
        # FER2013 folder copies reuse a few file names across classes, so the class is part of the id.
        ids.append(f"{path.parent.name}/{path.stem}")
    if not images:
        raise DataError(folder, "every image failed to read: expected JPEG or PNG files")
    return np.stack(images), np.array(labels, dtype=np.int64), np.array(ids, dtype=str)
