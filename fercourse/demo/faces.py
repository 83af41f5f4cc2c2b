"""Find faces in a photo and cut them out the way FER2013 was cut.

Two detectors, chosen by name (:data:`DETECTORS`, ``DetectionSettings(detector=...)``):

- ``"mtcnn"`` (the default): the MTCNN networks of the ``mtcnn`` package
  (:mod:`fercourse.demo.mtcnn_faces`), which find turned, small and dim faces the cascade misses.
- ``"haar"``: OpenCV's Haar cascades, shipped inside OpenCV. The defaults favour recall on
  real photos: histogram equalisation, a fine scale step (1.1) and a low neighbour count (4).
  On 210 FER2013 test faces (30 per class, upscaled to 192 px with a border) they find 77% of
  the faces; a 1.2 step finds 66%. An optional profile cascade, run on the image and its
  mirror, finds faces turned sideways; overlapping boxes from all cascades are merged with
  non-maximum suppression.

Large photos are shrunk for detection (speed) and the boxes mapped back to the original pixels.
``fercourse bench detect`` compares the detectors on real photos.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from fercourse.data.shapes import IMAGE_SIZE
from fercourse.demo.images import read_image, to_gray
from fercourse.errors import InputError, InputTypeError

#: OpenCV's frontal-face cascade, shipped inside opencv-python(-headless) 4.x.
FRONTAL_CASCADE = "haarcascade_frontalface_default.xml"
#: The profile cascade (left-facing profiles; run on the mirror image too for right-facing ones).
PROFILE_CASCADE = "haarcascade_profileface.xml"
#: The face detectors :class:`DetectionSettings` can name.
DETECTORS = ("haar", "mtcnn")
#: The demo's detector: MTCNN found 86 % of 210 FER2013 test faces pasted into photos with no false
#: box, the Haar cascade 67 % with 42, and MTCNN kept detect+classify under 150 ms per 640x480
#: photo on a 2-core CPU (``fercourse bench detect``; figures in the README).
DEFAULT_DETECTOR = "mtcnn"
#: The border :class:`~fercourse.demo.EmotionDetector` adds around each detector's boxes by default
#: (fraction of the box) so that its crops are framed like FER2013's: MTCNN's boxes reach from brow
#: to chin, and their height (which sets the square crop) comes out about 4 % larger than FER2013's
#: crops; Haar's square boxes about 2 % smaller (medians over 180 and 141 pasted FER2013 faces).
CROP_MARGINS = {"haar": 0.05, "mtcnn": 0.0}


@dataclass(frozen=True)
class DetectionSettings:
    """Face detection parameters; every field has a default tuned for recall on photos.

    Attributes
    ----------
    detector : str
        Which detector finds the faces, one of :data:`DETECTORS`: ``"mtcnn"`` (the default,
        :data:`DEFAULT_DETECTOR`) or ``"haar"`` (OpenCV's cascade: faster on one core, finds
        fewer faces, more false ones). The fields from ``scale_factor`` to
        ``min_score`` tune the Haar cascade only; ``min_confidence`` tunes MTCNN only.
    scale_factor : float
        Step between detection window sizes (smaller finds more faces, slower).
    min_neighbors : int
        Overlapping raw hits a face needs (lower finds more faces and more false ones).
    min_face_fraction : float
        Smallest face to look for, as a fraction of the photo's shorter side.
    min_size : int
        Smallest face in pixels of the detection image, whatever the fraction says. The
        default 36 skips faces with much less detail than FER2013's 48x48 crops and keeps
        a 640x480 photo under ~100 ms on one CPU core (smaller windows cost most).
    max_side : int
        Photos whose longer side is larger are shrunk to this for detection.
    profile : bool
        Also run the profile cascade (slower; finds faces turned sideways).
    equalize : bool
        Equalise the histogram first (helps dark or low-contrast photos).
    nms_threshold : float
        Boxes overlapping more than this (intersection over union) are merged.
    min_score : float
        Drop boxes whose cascade confidence (the last stage's level weight) is below this.
        Faces score about 1.5-10, most false boxes on textures below 1; 0 keeps every box.
    min_confidence : float
        Drop MTCNN boxes whose probability of being a face is below this. The default 0.8 is
        MTCNN's own last-stage threshold: on the photos of ``fercourse bench detect`` it gave no
        false box, and 0.9 lost 5 of 210 FER2013 faces.
    """

    detector: str = DEFAULT_DETECTOR
    scale_factor: float = 1.1
    min_neighbors: int = 4
    min_face_fraction: float = 0.03
    min_size: int = 36
    max_side: int = 1024
    profile: bool = False
    equalize: bool = True
    nms_threshold: float = 0.3
    min_score: float = 1.0
    min_confidence: float = 0.8

    def __post_init__(self) -> None:
        if self.detector not in DETECTORS:
            raise InputError(f"unknown face detector {self.detector!r}; expected one of "
                             f"{', '.join(repr(name) for name in DETECTORS)}")
        if not self.scale_factor > 1.0:
            raise InputError(f"scale_factor must be greater than 1, got {self.scale_factor}")
        if self.min_neighbors < 0:
            raise InputError(f"min_neighbors must be 0 or more, got {self.min_neighbors}")
        if not 0.0 <= self.min_face_fraction < 1.0:
            raise InputError(f"min_face_fraction must lie in [0, 1), got {self.min_face_fraction}")
        if self.min_size < 1 or self.max_side < 32:
            raise InputError(f"min_size must be at least 1 and max_side at least 32, "
                             f"got {self.min_size} and {self.max_side}")
        if self.min_score < 0:
            raise InputError(f"min_score must be 0 or more, got {self.min_score}")
        if not 0.0 < self.nms_threshold <= 1.0:
            raise InputError(f"nms_threshold must lie in (0, 1], got {self.nms_threshold}")
        if not 0.0 <= self.min_confidence <= 1.0:
            raise InputError(f"min_confidence must lie in [0, 1], got {self.min_confidence}")


@lru_cache(maxsize=None)
def load_cascade(filename: str):
    """Load (once) one of OpenCV's bundled Haar cascades by file name."""
    import cv2

    path = cv2.data.haarcascades + filename
    cascade = cv2.CascadeClassifier(path)
    if cascade.empty():
        raise FileNotFoundError(f"{path}: OpenCV Haar cascade missing; install opencv-python-headless 4.x "
                                f"(5.x no longer ships the cascade files)")
    return cascade


def non_max_suppression(boxes: np.ndarray, scores: np.ndarray | None = None,
                        threshold: float = 0.3) -> np.ndarray:
    """Keep the best of every group of overlapping boxes.

    Parameters
    ----------
    boxes : np.ndarray
        (n, 4) boxes as x, y, width, height.
    scores : np.ndarray, optional
        Higher is better; defaults to the box area, so the larger box wins.
    threshold : float
        Boxes whose intersection over union with a kept box exceeds this are dropped.

    Returns
    -------
    np.ndarray
        The kept boxes, best first.

    Examples
    --------
    >>> non_max_suppression(np.array([[0, 0, 10, 10], [1, 1, 10, 10], [50, 50, 5, 5]])).tolist()
    [[0, 0, 10, 10], [50, 50, 5, 5]]
    """
    boxes = np.asarray(boxes).reshape(-1, 4)
    if len(boxes) == 0:
        return boxes
    x1, y1 = boxes[:, 0].astype(float), boxes[:, 1].astype(float)
    x2, y2 = x1 + boxes[:, 2], y1 + boxes[:, 3]
    areas = boxes[:, 2].astype(float) * boxes[:, 3]
    order = np.argsort(-(areas if scores is None else np.asarray(scores, dtype=float)), kind="stable")
    keep = []
    while len(order):
        best, rest = order[0], order[1:]
        keep.append(best)
        width = np.clip(np.minimum(x2[best], x2[rest]) - np.maximum(x1[best], x1[rest]), 0, None)
        height = np.clip(np.minimum(y2[best], y2[rest]) - np.maximum(y1[best], y1[rest]), 0, None)
        overlap = width * height
        iou = overlap / (areas[best] + areas[rest] - overlap)
        # A box lying mostly inside a kept one (a cheek or an eye) is a duplicate too.
        inside = overlap / np.minimum(areas[best], areas[rest])
        order = rest[(iou <= threshold) & (inside <= 0.8)]
    return boxes[keep]


def detect_faces(image, settings: DetectionSettings | None = None,
                 **options) -> list[tuple[int, int, int, int]]:
    """Find faces in a photo.

    Parameters
    ----------
    image : path, bytes, PIL image or np.ndarray
        Anything :func:`fercourse.demo.read_image` accepts.
    settings : DetectionSettings, optional
        Detection parameters; keyword ``options`` override single fields
        (``detect_faces(photo, detector="mtcnn")``, ``detect_faces(photo, profile=True, min_neighbors=6)``).

    Returns
    -------
    list of (x, y, width, height)
        Boxes in the pixels of the original photo, largest first; empty when there is no face.

    Examples
    --------
    >>> detect_faces(np.zeros((120, 160), dtype=np.uint8))
    []
    """
    settings = resolve_settings(settings, options)
    if _is_gray_uint8(image):
        rgb = gray = image
    else:
        rgb = read_image(image)
        gray = to_gray(rgb)
    return [tuple(int(v) for v in box) for box in detect_boxes(rgb, gray, settings)]


def detect_boxes(rgb: np.ndarray, gray: np.ndarray, settings: DetectionSettings) -> np.ndarray:
    """The faces the chosen detector finds: an (n, 4) int array of x, y, width, height, largest first.

    ``rgb`` is the photo as MTCNN wants it (RGB, or gray), ``gray`` the same photo as the Haar
    cascade wants it (uint8 gray); each detector reads only its own.
    """
    if settings.detector == "mtcnn":
        from fercourse.demo.mtcnn_faces import detect_mtcnn

        return detect_mtcnn(rgb, min_size=settings.min_size, min_face_fraction=settings.min_face_fraction,
                            max_side=settings.max_side, min_confidence=settings.min_confidence)[0]
    return detect_gray(gray, settings)


def resolve_settings(settings: DetectionSettings | None, options: dict) -> DetectionSettings:
    """``settings`` (default :class:`DetectionSettings`) with the fields named in ``options`` replaced."""
    from dataclasses import replace

    settings = settings or DetectionSettings()
    unknown = set(options) - set(DetectionSettings.__dataclass_fields__)
    if unknown:
        raise InputTypeError(f"unknown detection option(s) {', '.join(sorted(unknown))}; expected "
                        f"{', '.join(DetectionSettings.__dataclass_fields__)}")
    return replace(settings, **options) if options else settings


def _is_gray_uint8(image) -> bool:
    return isinstance(image, np.ndarray) and image.ndim == 2 and image.dtype == np.uint8


def detect_gray(gray: np.ndarray, settings: DetectionSettings) -> np.ndarray:
    """The Haar cascade on a uint8 gray photo: an (n, 4) int array of boxes, largest first."""
    import cv2

    height, width = gray.shape
    scale = min(1.0, settings.max_side / max(height, width))
    small_size = (max(1, round(width * scale)), max(1, round(height * scale)))
    small = gray if scale == 1.0 else cv2.resize(gray, small_size, interpolation=cv2.INTER_AREA)
    if settings.equalize:
        small = cv2.equalizeHist(small)
    min_side = max(settings.min_size, int(settings.min_face_fraction * min(small.shape)))
    if min(small.shape) < min_side:
        return np.zeros((0, 4), dtype=int)
    found = [_run(load_cascade(FRONTAL_CASCADE), small, settings, min_side)]
    if settings.profile:
        profile = load_cascade(PROFILE_CASCADE)
        found.append(_run(profile, small, settings, min_side))
        mirrored, scores = _run(profile, small[:, ::-1].copy(), settings, min_side)
        if len(mirrored):
            mirrored[:, 0] = small.shape[1] - mirrored[:, 0] - mirrored[:, 2]
        found.append((mirrored, scores))
    boxes = np.concatenate([b for b, _ in found])
    scores = np.concatenate([s for _, s in found])
    keep = scores >= settings.min_score
    boxes = non_max_suppression(boxes[keep], scores[keep], threshold=settings.nms_threshold)
    boxes = boxes[np.argsort(-(boxes[:, 2] * boxes[:, 3]), kind="stable")]  # largest first
    if scale != 1.0 and len(boxes):
        boxes = np.round(boxes / scale).astype(int)
        boxes[:, 2] = np.minimum(boxes[:, 2], width - boxes[:, 0])
        boxes[:, 3] = np.minimum(boxes[:, 3], height - boxes[:, 1])
    return boxes


def _run(cascade, gray: np.ndarray, settings: DetectionSettings,
         min_side: int) -> tuple[np.ndarray, np.ndarray]:
    """Boxes (n, 4) and their confidences (n,) from one cascade."""
    boxes, _, weights = cascade.detectMultiScale3(gray, scaleFactor=settings.scale_factor,
                                                  minNeighbors=settings.min_neighbors,
                                                  minSize=(min_side, min_side), outputRejectLevels=True)
    boxes = np.asarray(boxes, dtype=int).reshape(-1, 4)
    return boxes, np.asarray(weights, dtype=float).reshape(-1)[:len(boxes)]


def crop_face(gray: np.ndarray, box, *, margin: float = 0.05, size: int = IMAGE_SIZE) -> np.ndarray:
    """Cut one face out of a gray photo as a FER2013-style square crop.

    Parameters
    ----------
    gray : np.ndarray
        uint8 gray photo (h, w).
    box : (x, y, width, height)
        The face box, e.g. from :func:`detect_faces`.
    margin : float
        Extra border on every side, as a fraction of the box size (FER2013's crops are about
        as tight as a Haar box; see :class:`EmotionDetector`). Parts outside the photo repeat
        its edge.
    size : int
        Output side length in pixels.

    Returns
    -------
    np.ndarray
        uint8 (size, size).

    Examples
    --------
    >>> crop_face(np.zeros((100, 100), dtype=np.uint8), (10, 10, 50, 50)).shape
    (48, 48)
    """
    import cv2

    x, y, w, h = (int(v) for v in box)
    if w <= 0 or h <= 0:
        raise InputError(f"face box {tuple(box)}: width and height must be positive")
    side = max(w, h) * (1.0 + 2.0 * margin)
    cx, cy = x + w / 2.0, y + h / 2.0
    left, top = int(round(cx - side / 2)), int(round(cy - side / 2))
    side = int(round(side))
    pad_left, pad_top = max(0, -left), max(0, -top)
    pad_right = max(0, left + side - gray.shape[1])
    pad_bottom = max(0, top + side - gray.shape[0])
    if pad_left or pad_top or pad_right or pad_bottom:
        gray = cv2.copyMakeBorder(gray, pad_top, pad_bottom, pad_left, pad_right, cv2.BORDER_REPLICATE)
        left, top = left + pad_left, top + pad_top
    patch = gray[top:top + side, left:left + side]
    interpolation = cv2.INTER_AREA if side > size else cv2.INTER_LINEAR
    return cv2.resize(patch, (size, size), interpolation=interpolation)
