"""The photos ``fercourse bench detect`` scores face detectors on, and the scoring.

Three sets, every photo fitted into a 640x480 frame (the demo's benchmark size):

- :func:`face_photos`: real photos with people, shipped inside installed packages (scikit-image's
  astronaut and cameraman, whose face is turned; matplotlib's Grace Hopper), faces boxed by hand.
- :func:`face_free_photos`: real photos without people (scikit-image's cat, coffee, rocket,
  coins ...; scikit-learn's two sample photos): every box found there is a false one.
- :func:`fer2013_photos`: FER2013 test faces, upscaled and pasted at random places and sizes
  into the face-free photos. Built in memory from your FER2013 copy, never written to disk.

A face counts as found when a box overlaps its true box by at least :data:`MATCH_IOU`
(intersection over union); every other box is a false one (:func:`score_boxes`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fercourse.errors import InputError

#: The frame every benchmark photo is fitted into (width, height).
FRAME = (640, 480)
#: Overlap (intersection over union) a box needs with a true face to find it. Loose because
#: detectors draw different boxes around the same face: MTCNN's reach from brow to chin and
#: are taller than wide, Haar's are square, FER2013's crops are squares of their own.
MATCH_IOU = 0.3
#: Faces boxed by hand (x, y, width, height; brow to chin) in the photos as shipped.
ANNOTATED_FACES = {"astronaut": ((176, 62, 94, 112),), "camera": ((186, 112, 72, 90),),
                   "grace_hopper": ((172, 120, 180, 210),)}
#: scikit-image's sample photos without people (the rest show a person or need a download).
SKIMAGE_FACE_FREE = ("chelsea", "coffee", "rocket", "coins", "moon", "brick", "grass", "gravel", "clock",
                     "cell", "text", "page", "colorwheel", "hubble_deep_field", "immunohistochemistry",
                     "retina")


@dataclass(frozen=True)
class Photo:
    """One benchmark photo: ``rgb`` (480, 640, 3) uint8 and its true face boxes (x, y, w, h)."""

    name: str
    rgb: np.ndarray
    faces: tuple[tuple[int, int, int, int], ...] = ()


def fit_to_frame(image: np.ndarray, faces=(), size: tuple[int, int] = FRAME,
                 fill: int = 128) -> tuple[np.ndarray, tuple[tuple[int, int, int, int], ...]]:
    """Shrink or enlarge ``image`` to fit ``size`` (width, height), centred on a gray border.

    Returns the RGB uint8 frame and the ``faces`` boxes moved into it.

    Examples
    --------
    >>> frame, boxes = fit_to_frame(np.zeros((100, 100), dtype=np.uint8), [(10, 10, 20, 20)])
    >>> frame.shape, boxes
    ((480, 640, 3), ((128, 48, 96, 96),))
    """
    import cv2

    image = np.asarray(image)
    if image.dtype == bool:
        image = image.astype(np.uint8) * 255
    if image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)
    image = image[:, :, :3]
    width, height = size
    scale = min(width / image.shape[1], height / image.shape[0])
    new_width, new_height = round(image.shape[1] * scale), round(image.shape[0] * scale)
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    frame = np.full((height, width, 3), fill, dtype=np.uint8)
    left, top = (width - new_width) // 2, (height - new_height) // 2
    frame[top:top + new_height, left:left + new_width] = cv2.resize(image, (new_width, new_height),
                                                                    interpolation=interpolation)
    moved = tuple((round(left + x * scale), round(top + y * scale), round(w * scale), round(h * scale))
                  for x, y, w, h in faces)
    return frame, moved


def face_photos() -> list[Photo]:
    """The real photos with faces: scikit-image's astronaut and cameraman, matplotlib's Grace Hopper."""
    import matplotlib.cbook
    from PIL import Image
    from skimage import data

    with Image.open(matplotlib.cbook.get_sample_data("grace_hopper.jpg")) as image:
        hopper = np.asarray(image.convert("RGB"))
    photos = []
    for name, image in (("astronaut", data.astronaut()), ("camera", data.camera()), ("grace_hopper", hopper)):
        frame, faces = fit_to_frame(image, ANNOTATED_FACES[name])
        photos.append(Photo(name, frame, faces))
    return photos


def face_free_photos() -> list[Photo]:
    """Real photos without people: :data:`SKIMAGE_FACE_FREE` and scikit-learn's china and flower."""
    from skimage import data
    from sklearn.datasets import load_sample_images

    photos = [Photo(name, fit_to_frame(getattr(data, name)())[0]) for name in SKIMAGE_FACE_FREE]
    samples = load_sample_images()
    for filename, image in zip(samples.filenames, samples.images):
        photos.append(Photo(Path(filename).stem, fit_to_frame(image)[0]))
    return photos


def fer2013_photos(root, backgrounds: list[Photo], *, faces_per_class: int = 30, faces_per_photo: int = 3,
                   min_side: int = 64, max_side: int = 192, seed: int = 0) -> list[Photo]:
    """FER2013 test faces pasted into face-free photos, ``faces_per_photo`` to a photo.

    Parameters
    ----------
    root : path
        FER2013's image folders (``test/<emotion>/*.jpg``).
    backgrounds : list of Photo
        Face-free 640x480 photos, used in turn.
    faces_per_class : int
        Test faces drawn (at random, without repeats) from each emotion's folder.
    faces_per_photo : int
        Faces pasted into each photo, at random non-overlapping places.
    min_side, max_side : int
        Each face is upscaled to a random side in this range (log-uniform).
    seed : int
        The same seed gives the same photos.
    """
    import cv2

    from fercourse.labels import EMOTIONS

    test = Path(root) / "test"
    if not test.is_dir():
        raise FileNotFoundError(f"{test}: no such folder (expected FER2013's image folders, test/<emotion>/)")
    if not backgrounds or faces_per_class < 1 or faces_per_photo < 1 or not 0 < min_side <= max_side:
        raise InputError(f"need backgrounds, faces_per_class and faces_per_photo >= 1 and "
                         f"0 < min_side <= max_side; got {len(backgrounds)} backgrounds, {faces_per_class}, "
                         f"{faces_per_photo}, {min_side}, {max_side}")
    rng = np.random.default_rng(seed)
    files = []
    for emotion in EMOTIONS:
        found = sorted((test / emotion).glob("*.jpg"))
        if len(found) < faces_per_class:
            raise FileNotFoundError(f"{test / emotion}: {len(found)} images, expected at least "
                                    f"{faces_per_class}")
        files += [found[i] for i in rng.choice(len(found), faces_per_class, replace=False)]
    files = [files[i] for i in rng.permutation(len(files))]
    photos = []
    for start in range(0, len(files), faces_per_photo):
        background = backgrounds[len(photos) % len(backgrounds)]
        canvas, boxes = background.rgb.copy(), []
        for path in files[start:start + faces_per_photo]:
            face = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
            if face is None:
                raise InputError(f"{path}: not a readable image")
            side = int(round(np.exp(rng.uniform(np.log(min_side), np.log(max_side)))))
            x, y = _free_place(rng, boxes, side, canvas.shape)
            upscaled = cv2.resize(face, (side, side), interpolation=cv2.INTER_CUBIC)
            canvas[y:y + side, x:x + side] = upscaled[:, :, None]
            boxes.append((x, y, side, side))
        photos.append(Photo(f"fer2013_{len(photos)}_on_{background.name}", canvas, tuple(boxes)))
    return photos


def _free_place(rng, boxes, side: int, shape) -> tuple[int, int]:
    """A random top-left corner for a ``side`` square that touches none of ``boxes``."""
    for _ in range(1000):
        x, y = int(rng.integers(0, shape[1] - side + 1)), int(rng.integers(0, shape[0] - side + 1))
        if all(x + side <= bx or bx + bw <= x or y + side <= by or by + bh <= y for bx, by, bw, bh in boxes):
            return x, y
    raise InputError(f"no room left for a {side} px face among {len(boxes)} others")


def iou(a, b) -> float:
    """Intersection over union of two (x, y, width, height) boxes.

    Examples
    --------
    >>> iou((0, 0, 10, 10), (5, 0, 10, 10))
    0.3333333333333333
    """
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    width = max(0, min(ax + aw, bx + bw) - max(ax, bx))
    height = max(0, min(ay + ah, by + bh) - max(ay, by))
    overlap = width * height
    return overlap / (aw * ah + bw * bh - overlap)


def score_boxes(found: list, photos: list[Photo], min_iou: float = MATCH_IOU) -> dict:
    """How many true faces the boxes found, and how many boxes were false.

    Parameters
    ----------
    found : list of list of (x, y, w, h)
        The boxes a detector returned, one list per photo.
    photos : list of Photo
        The same photos, with their true faces.
    min_iou : float
        Overlap a box needs with a true face to find it; each box finds at most one face
        and each face counts once (the best-overlapping boxes are matched first).

    Returns
    -------
    dict
        ``faces`` (true faces), ``found`` (of them), ``recall`` (found / faces, None without
        faces), ``false_boxes`` (boxes that found no face) and ``photos``.

    Examples
    --------
    >>> photo = Photo("two", np.zeros((1, 1, 3), np.uint8), ((0, 0, 10, 10), (50, 50, 10, 10)))
    >>> score_boxes([[(1, 1, 10, 10), (100, 0, 5, 5)]], [photo])
    {'photos': 1, 'faces': 2, 'found': 1, 'recall': 0.5, 'false_boxes': 1}
    """
    if len(found) != len(photos):
        raise InputError(f"got boxes for {len(found)} photos and {len(photos)} photos")
    faces = hits = false_boxes = 0
    for boxes, photo in zip(found, photos):
        pairs = sorted(((iou(box, face), b, f) for b, box in enumerate(boxes)
                        for f, face in enumerate(photo.faces)), reverse=True)
        used_boxes, used_faces = set(), set()
        for overlap, b, f in pairs:
            if overlap >= min_iou and b not in used_boxes and f not in used_faces:
                used_boxes.add(b)
                used_faces.add(f)
        faces += len(photo.faces)
        hits += len(used_faces)
        false_boxes += len(boxes) - len(used_boxes)
    return {"photos": len(photos), "faces": faces, "found": hits,
            "recall": hits / faces if faces else None, "false_boxes": false_boxes}
