"""An instructor-held test set: labelled faces that are not public, graded as the private part.

FER2013's labels are public, so a student can find any released FER2013 test face in the public
data and copy its label. ``fercourse grade setup --test-set PATH`` adds the instructor's own
faces to the release: the source's test faces stay the public part (feedback, public
leaderboard), the held faces become the private part, and the accuracy tiers count them only.

Two forms are read:

- an image folder with one subfolder per emotion (``angry/``, ``disgust/``, ... as in
  :data:`fercourse.labels.EMOTIONS`; ``disgusted``, ``fearful``, ``surprised`` accepted), each
  holding 48x48 face images (JPEG or PNG, converted to grayscale);
- a CSV with an ``emotion`` column (0-6 or a name) and a ``pixels`` column (2,304 values 0-255),
  and optionally ``id`` (a course CSV, or Kaggle's ``fer2013.csv`` layout).

Examples
--------
>>> import tempfile
>>> from pathlib import Path
>>> folder = Path(tempfile.mkdtemp())
>>> _ = (folder / "held.csv").write_text("emotion,pixels\\n3," + " ".join(["7"] * 2304) + "\\n")
>>> held = read_held_test_set(folder / "held.csv")
>>> held.images.shape, held.labels.tolist(), held.ids.tolist()
((1, 48, 48), [3], ['held:00001'])
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from fercourse.data.dataset import Dataset, Split
from fercourse.data.shapes import IMAGE_SIZE
from fercourse.errors import DataError

ID_PREFIX = "held:"
"""Prefix of a held face's id before the release's salted hash: never the id of a source test face."""


def read_held_test_set(path: str | Path) -> Split:
    """Read an instructor-held test set (image folder or CSV) as a labelled split.

    Parameters
    ----------
    path : path-like
        A folder of ``<emotion>/`` subfolders, or a CSV file with ``emotion`` and ``pixels`` columns.

    Returns
    -------
    Split
        uint8 faces (n, 48, 48), their labels 0-6 and ids ``held:<file or row id>``.

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist.
    DataError
        A face that is not 48x48 or not readable, an unknown class folder, a CSV row that is not a
        labelled face (the message names the file and, for a CSV, the line).
    """
    path = Path(path)
    if path.is_dir():
        images, labels, ids = _read_folder(path)
    elif path.is_file():
        images, labels, ids = _read_csv(path)
    else:
        raise FileNotFoundError(f"{path}: no such file or folder (expected the held test set: a folder of "
                                "<emotion>/ subfolders or a CSV with emotion and pixels columns)")
    if len(set(ids.tolist())) != len(ids):
        raise DataError(path, "repeated ids: expected one id per face")
    return Split(images, labels, np.char.add(ID_PREFIX, ids.astype(str)))


def _read_folder(folder: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    from PIL import Image, UnidentifiedImageError

    from fercourse.data.readers import list_image_folder

    images, labels, ids = [], [], []
    for file, label in list_image_folder(folder):
        try:
            with Image.open(file) as image:
                size = image.size
                face = np.asarray(image.convert("L"), dtype=np.uint8)
        except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as error:
            raise DataError(file, f"not a readable image ({type(error).__name__}): expected a 48x48 JPEG or "
                                  "PNG face") from None
        if size != (IMAGE_SIZE, IMAGE_SIZE):
            raise DataError(file, f"the image is {size[0]}x{size[1]} pixels: expected a {IMAGE_SIZE}x"
                                  f"{IMAGE_SIZE} face crop, as the released faces are (crop and resize it "
                                  "first)")
        images.append(face)
        labels.append(label)
        ids.append(f"{file.parent.name}/{file.stem}")
    return np.stack(images), np.array(labels, dtype=np.int64), np.array(ids, dtype=str)


def _read_csv(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    from fercourse.data.readers import read_csv

    raw = read_csv(path)  # names the file and line of any row that is not a face
    if raw.labels is None:
        raise DataError(path, "no 'emotion' column: expected labelled faces (emotion,pixels or "
                              "id,emotion,pixels), since the held faces are graded against their labels",
                        line=1)
    return raw.images, raw.labels, raw.ids


def check_not_public(held: Split, source: Dataset, where: str | Path) -> None:
    """Refuse held faces whose exact pixels are in ``source`` (its train or test faces): they are public.

    Raises
    ------
    DataError
        Naming up to three such faces by their id in the held set.
    """
    public = {face.tobytes() for split in source.splits.values() for face in split.images}
    copies = [str(face_id)[len(ID_PREFIX):] for face, face_id in zip(held.images, held.ids)
              if face.tobytes() in public]
    if copies:
        raise DataError(where, f"{len(copies)} held face(s) have exactly the pixels of a face in "
                               f"{source.source} ({', '.join(copies[:3])}): those faces are public, so "
                               "their labels can be looked up; leave them out of the held test set")


__all__ = ["ID_PREFIX", "check_not_public", "read_held_test_set"]
