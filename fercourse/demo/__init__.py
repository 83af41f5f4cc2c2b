"""The upload-and-detect demo: find faces in a photo, classify each face's emotion, show it.

Pieces, one job each:

- :mod:`fercourse.demo.images`: read a photo from a path, bytes, a PIL image or an array, safely.
- :mod:`fercourse.demo.faces`: face detection (MTCNN by default, or OpenCV's Haar cascade) and
  FER2013-style 48x48 crops; :mod:`fercourse.demo.mtcnn_faces`: the MTCNN detector.
- :mod:`fercourse.demo.detector`: :class:`EmotionDetector`, :class:`Detection`, :func:`annotate`,
  :func:`plot_probabilities`.
- :mod:`fercourse.demo.app`: :func:`upload_app`, the ipywidgets app (imported on first use).
- :mod:`fercourse.demo.labelling`: the faces a class labels (lesson 9), one student's session, its
  scores and CSV; :mod:`fercourse.demo.agreement`: a class's CSVs together, Fleiss' kappa;
  :mod:`fercourse.demo.labeller`: :func:`labeller_app`, the labelling app (imported on first use).
- :mod:`fercourse.bench.detect`: the ``fercourse bench detect`` speed benchmark.

OpenCV, PIL, Keras, MTCNN and ipywidgets are imported inside functions, so importing this package is cheap.

Examples
--------
>>> import numpy as np
>>> from fercourse.demo import detect_faces
>>> detect_faces(np.full((200, 200), 128, dtype=np.uint8))
[]
"""

from __future__ import annotations

from fercourse.demo.detector import Detection, EmotionDetector, annotate, plot_probabilities
from fercourse.demo.faces import DetectionSettings, crop_face, detect_faces, non_max_suppression
from fercourse.demo.images import MAX_PIXELS, read_image

__all__ = ["Detection", "DetectionSettings", "EmotionDetector", "MAX_PIXELS", "annotate", "crop_face",
           "detect_faces", "labeller_app", "non_max_suppression", "plot_probabilities", "read_image",
           "upload_app"]


def upload_app(detector):
    """Build the ipywidgets upload-and-detect app; see :func:`fercourse.demo.app.upload_app`."""
    from fercourse.demo.app import upload_app as build

    return build(detector)


def labeller_app(faces, **options):
    """Build the labelling app; see :func:`fercourse.demo.labeller.labeller_app`."""
    from fercourse.demo.labeller import labeller_app as build

    return build(faces, **options)
