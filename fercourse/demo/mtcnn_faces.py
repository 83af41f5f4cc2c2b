"""Find faces with MTCNN (Zhang et al. 2016), whose weights ship inside the ``mtcnn`` package on PyPI.

MTCNN runs three small convolutional networks (proposal, refinement, output) in TensorFlow,
which fercourse already needs; the ``mtcnn`` package (a dependency of fercourse) adds only its
2 MB of weights, ``joblib`` and ``lz4``. It finds turned, small and dimly lit faces that the Haar
cascade misses; ``fercourse bench detect`` measures both.

Photos are shrunk so that the smallest face looked for (``min_size`` of
:class:`fercourse.demo.faces.DetectionSettings`,
36 px by default) becomes MTCNN's own smallest, 20 px. That is what MTCNN's ``min_face_size``
option should do, but in mtcnn 1.0.0 it builds too many pyramid levels, the smallest ones under
its 12 px window, and the error that follows is reported as "no face".
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

#: The smallest face MTCNN looks for at its default pyramid (``min_face_size=20``).
MTCNN_MIN_FACE = 20
#: MTCNN's proposal window; a photo shrunk below this has no room for a face.
MTCNN_WINDOW = 12


@lru_cache(maxsize=1)
def load_mtcnn():
    """The MTCNN detector (loaded once, a few seconds: TensorFlow and three small networks)."""
    try:
        from mtcnn import MTCNN
    except ImportError:
        raise ImportError("detector 'mtcnn' needs the mtcnn package (its weights ship inside it), a "
                          "dependency of fercourse: pip install 'mtcnn>=1.0', or use detector='haar'"
                          ) from None
    return MTCNN(stages="face_and_landmarks_detection", device="CPU:0")


def detect_mtcnn(rgb: np.ndarray, *, min_size: int, min_face_fraction: float, max_side: int,
                 min_confidence: float) -> tuple[np.ndarray, np.ndarray]:
    """Faces in an RGB (or gray) uint8 photo: boxes (n, 4) as x, y, width, height and confidences (n,).

    Boxes are in the photo's pixels, clipped to it, largest first. The settings are the fields of
    :class:`fercourse.demo.faces.DetectionSettings` of the same names: ``min_size``,
    ``min_face_fraction`` and ``max_side`` (as for the Haar cascade) and ``min_confidence``.
    """
    import cv2

    if rgb.ndim == 2:
        rgb = np.repeat(rgb[:, :, None], 3, axis=2)
    height, width = rgb.shape[:2]
    detection_scale = min(1.0, max_side / max(height, width))
    min_side = max(min_size, int(min_face_fraction * detection_scale * min(height, width)))
    scale = detection_scale * MTCNN_MIN_FACE / min_side
    small_size = (max(1, round(width * scale)), max(1, round(height * scale)))
    if min(small_size) < MTCNN_WINDOW:
        return np.zeros((0, 4), dtype=int), np.zeros(0)
    interpolation = cv2.INTER_AREA if scale < 1.0 else cv2.INTER_LINEAR
    small = cv2.resize(rgb, small_size, interpolation=interpolation) if scale != 1.0 else rgb
    found = load_mtcnn().detect_faces(np.ascontiguousarray(small), box_format="xywh", output_type="json")
    found = [face for face in found if face["confidence"] >= min_confidence]
    if not found:
        return np.zeros((0, 4), dtype=int), np.zeros(0)
    boxes = np.round(np.array([face["box"] for face in found], dtype=float) / scale).astype(int)
    scores = np.array([face["confidence"] for face in found], dtype=float)
    boxes[:, :2] = np.clip(boxes[:, :2], 0, None)
    boxes[:, 2] = np.clip(np.minimum(boxes[:, 2], width - boxes[:, 0]), 1, None)
    boxes[:, 3] = np.clip(np.minimum(boxes[:, 3], height - boxes[:, 1]), 1, None)
    order = np.argsort(-(boxes[:, 2] * boxes[:, 3]), kind="stable")  # largest first
    return boxes[order], scores[order]
