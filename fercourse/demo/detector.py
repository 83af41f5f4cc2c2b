"""The emotion detector: faces found in a photo, each classified by a trained Keras model.

The probabilities it reports are calibrated when the model has a calibration file beside it
(:mod:`fercourse.models.calibrated`; the shipped model has one, made by ``fercourse calibrate``):
they are divided by the temperature fitted on validation, and a face whose top probability is below
the threshold chosen there is marked "uncertain".

Preprocessing matches training exactly: gray (ITU-R 601 luma), a square crop with a small
margin, 48x48; the crops are then classified by :func:`fercourse.models.predict_proba`, the same
prediction path as the lessons and ``fercourse evaluate`` (float32 pixels in [0, 1], shaped for the
model's input as its ``input_shape`` says: (48, 48, 1) for the CNN, (2304,) for the MLP, (48, 48)
for the recurrent models).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from fercourse.data.shapes import FACE_SHAPE, LAYOUTS, as_faces
from fercourse.demo.faces import CROP_MARGINS, DetectionSettings, crop_face, detect_boxes, resolve_settings
from fercourse.demo.images import describe, read_image, to_gray
from fercourse.errors import InputError, InputTypeError
from fercourse.labels import EMOTION_COLORS, EMOTIONS, emotion_rgb
from fercourse.models.predict import input_layout, predict_proba


@dataclass(frozen=True)
class Detection:
    """One face found in a photo and what the model thinks it shows.

    Attributes
    ----------
    box : tuple of int
        (x, y, width, height) in the pixels of the photo as given (after EXIF rotation).
    emotion : str
        The most probable of :data:`fercourse.EMOTIONS`.
    confidence : float
        Its probability.
    probabilities : dict
        All seven probabilities, keyed by emotion name in canonical order (calibrated when the
        detector has a calibration).
    uncertain : bool
        The confidence is below the detector's threshold: the model does not know.
    """

    box: tuple[int, int, int, int]
    emotion: str
    confidence: float
    probabilities: dict[str, float] = field(repr=False)
    uncertain: bool = False

    @property
    def decision(self) -> str:
        """What the demo says: ``"uncertain"``, or the emotion."""
        return "uncertain" if self.uncertain else self.emotion

    def to_dict(self) -> dict:
        """The detection as plain JSON-ready types (the ``fercourse detect --json`` face format)."""
        return {"box": [int(v) for v in self.box], "emotion": self.emotion,
                "confidence": float(self.confidence), "uncertain": bool(self.uncertain),
                "decision": self.decision,
                "probabilities": {name: float(p) for name, p in self.probabilities.items()}}


def load_model(model=None):
    """Return a Keras model: ``model`` itself, the model saved at a ``.keras`` path, or (None or
    ``"pretrained"``) the FER2013 model that ships with fercourse (:func:`fercourse.models.pretrained`)."""
    from fercourse.models.pretrained import PRETRAINED_NAME, load_inference_model, pretrained

    if model is None or (isinstance(model, str) and model == PRETRAINED_NAME):
        return pretrained()
    if isinstance(model, (str, os.PathLike)):
        path = Path(model)
        if not path.exists():
            raise FileNotFoundError(f"{path}: no saved model here; train one first (lesson 05_cnn saves "
                                    "artifacts/cnn.keras), pass a Keras model object, or leave the model "
                                    "out to use the one that ships with fercourse")
        return load_inference_model(path)
    if not hasattr(model, "input_shape") or not callable(model):
        raise InputTypeError(f"expected a Keras model or a path to a .keras file, got {type(model).__name__}")
    return model


def resolve_calibration(model, calibration):
    """The :class:`~fercourse.models.calibrated.Calibration` a detector uses, or None.

    ``"auto"``: the file beside the model (the shipped one, or a ``.keras`` path) when there is one;
    a Keras model object has none. A calibration file measured for another model file is ignored
    with a warning (rerun ``fercourse calibrate``). ``None``: raw probabilities. A ``Calibration``:
    itself.
    """
    import warnings

    from fercourse.models.calibrated import Calibration, StaleCalibrationError, load_calibration
    from fercourse.models.pretrained import PRETRAINED_NAME, pretrained_path

    if calibration is None or isinstance(calibration, Calibration):
        return calibration
    if calibration != "auto":
        raise InputTypeError(f"calibration is {calibration!r}: expected 'auto', None or a Calibration")
    if model is None or (isinstance(model, str) and model == PRETRAINED_NAME):
        path = pretrained_path()
    elif isinstance(model, (str, os.PathLike)):
        path = Path(model)
    else:
        return None
    try:
        return load_calibration(path)
    except StaleCalibrationError as error:
        warnings.warn(f"{error}; reporting uncalibrated probabilities and no 'uncertain'", stacklevel=3)
        return None


class EmotionDetector:
    """Find every face in a photo and classify its emotion.

    Parameters
    ----------
    model : keras.Model, path or None
        A trained seven-class model or the path of one saved with ``model.save`` (for example
        ``artifacts/cnn.keras`` from lesson 05). None (the default): the FER2013 model that ships
        with fercourse (:func:`fercourse.models.pretrained`; its model card gives its scores).
    settings : DetectionSettings, optional
        Face detection parameters; keyword ``options`` override single fields, e.g.
        ``detector="mtcnn"`` or ``detector="haar"`` to choose the face detector.
    margin : float, optional
        Border added around each face box before resizing to 48x48 (fraction of the box).
        Default: the detector's own, :data:`~fercourse.demo.faces.CROP_MARGINS` (0 for MTCNN,
        0.05 for Haar), chosen so that a model answers on the detected crop as it does on the
        original FER2013 crop. On 143 FER2013 test faces that both detectors found (pasted into
        photos as in ``fercourse bench detect``, seed 1), a CNN trained on FER2013 agreed with its
        answer on the original crop 88 % of the time for MTCNN with margin 0 (81 % with 0.05),
        and 85 % for Haar with 0.05 (88 % with 0). Earlier, on 519 upscaled FER2013 test faces
        the Haar cascade found: 77 % with margin 0 or 0.05, 73 % with 0.1 and 60 % with 0.2.
    calibration : "auto", Calibration or None
        ``"auto"`` (default): the calibration file beside the model (the shipped model's, fitted on
        FER2013 validation by ``fercourse calibrate``), when it has one; None: report the model's raw
        probabilities; a :class:`~fercourse.models.calibrated.Calibration`: that one.
    mark_uncertain : bool
        Mark faces below the calibration's threshold "uncertain" (default True; no effect without a
        calibration).

    Examples
    --------
    >>> detector = EmotionDetector()   # the shipped FER2013 model  # doctest: +SKIP
    >>> [(d.emotion, d.box) for d in detector.detect("class_photo.jpg")]   # doctest: +SKIP
    [('happy', (212, 64, 118, 118)), ('neutral', (455, 90, 96, 96))]
    """

    def __init__(self, model=None, settings: DetectionSettings | None = None, *, margin: float | None = None,
                 calibration="auto", mark_uncertain: bool = True, **options) -> None:
        self.calibration = resolve_calibration(model, calibration)
        self.mark_uncertain = bool(mark_uncertain)
        self.model = load_model(model)
        self.layout = input_layout(self.model)
        self.input_shape = LAYOUTS[self.layout]
        self.settings = resolve_settings(settings, options)
        if margin is None:
            margin = CROP_MARGINS[self.settings.detector]
        if not 0.0 <= margin <= 1.0:
            raise InputError(f"margin must lie in [0, 1], got {margin}")
        self.margin = margin

    def faces(self, image) -> tuple[np.ndarray, list[tuple[int, int, int, int]], np.ndarray]:
        """Read a photo, find its faces and crop them: ``(rgb, boxes, crops uint8 (n, 48, 48))``."""
        rgb = read_image(image)
        gray = to_gray(rgb)
        boxes = [tuple(int(v) for v in box) for box in detect_boxes(rgb, gray, self.settings)]
        crops = np.stack([crop_face(gray, box, margin=self.margin) for box in boxes]) if boxes else \
            np.zeros((0, *FACE_SHAPE), dtype=np.uint8)
        return rgb, boxes, crops

    def classify(self, crops: np.ndarray) -> np.ndarray:
        """Class probabilities (n, 7) for uint8 48x48 face crops, calibrated when the detector has a
        calibration (:func:`fercourse.models.predict_proba`, then the temperature)."""
        raw = predict_proba(self.model, as_faces(crops, "face crops", layouts=("sequence",)))
        return raw if self.calibration is None else self.calibration.probabilities(raw)

    def threshold(self, mark_uncertain: bool | None = None) -> float | None:
        """The confidence below which a face is "uncertain" (None: never), for ``mark_uncertain``
        (default: the detector's own setting)."""
        mark = self.mark_uncertain if mark_uncertain is None else mark_uncertain
        return self.calibration.threshold if mark and self.calibration is not None else None

    def detect(self, image, *, mark_uncertain: bool | None = None) -> list[Detection]:
        """Every face in ``image`` with its emotion, largest face first; [] when there is none.

        ``image`` is anything :func:`fercourse.demo.read_image` accepts: a path, bytes, a PIL
        image or a NumPy array. Unreadable files raise ValueError naming the file.
        ``mark_uncertain`` overrides the detector's setting for this call.
        """
        _, boxes, crops = self.faces(image)
        return _detections(boxes, self.classify(crops), self.threshold(mark_uncertain))

    def describe_calibration(self) -> dict | None:
        """The calibration in use as JSON-ready values (None: raw probabilities)."""
        if self.calibration is None:
            return None
        return {"temperature": self.calibration.temperature, "threshold": self.threshold(),
                "target_accuracy": self.calibration.target_accuracy, "source": self.calibration.source}

    def detect_batch(self, images) -> list[list[Detection]]:
        """:meth:`detect` for many photos, classifying all their faces in one model call."""
        boxes_per_image, all_crops = [], []
        for image in images:
            _, boxes, crops = self.faces(image)
            boxes_per_image.append(boxes)
            all_crops.append(crops)
        probabilities = self.classify(np.concatenate(all_crops) if all_crops else
                                      np.zeros((0, *FACE_SHAPE), dtype=np.uint8))
        results, start = [], 0
        for boxes in boxes_per_image:
            results.append(_detections(boxes, probabilities[start:start + len(boxes)], self.threshold()))
            start += len(boxes)
        return results

    def __repr__(self) -> str:
        calibration = "none" if self.calibration is None else \
            f"T={self.calibration.temperature:.2f}, uncertain below {self.threshold()}"
        return (f"EmotionDetector(model={self.model.name!r}, input={self.input_shape}, "
                f"detector={self.settings.detector!r}, margin={self.margin}, calibration={calibration})")


def _detections(boxes, probabilities: np.ndarray, threshold: float | None = None) -> list[Detection]:
    detections = []
    for box, row in zip(boxes, probabilities):
        best = int(np.argmax(row))
        detections.append(Detection(box=tuple(int(v) for v in box), emotion=EMOTIONS[best],
                                    confidence=float(row[best]),
                                    probabilities={name: float(p) for name, p in zip(EMOTIONS, row)},
                                    uncertain=threshold is not None and float(row[best]) < threshold))
    return sorted(detections, key=lambda d: -d.box[2] * d.box[3])


_UNKNOWN_EMOTION_RGB = (255, 255, 0)  # yellow: a hand-made Detection with a name outside the vocabulary
UNCERTAIN_RGB = (128, 128, 128)  # gray: the model does not know


def label_text(detection: Detection, *, show_confidence: bool = True) -> str:
    """A face's label: ``"happy 87%"``, or ``"uncertain (happy 41%)"`` below the threshold.

    >>> label_text(Detection((0, 0, 9, 9), "sad", 0.41, {}, uncertain=True))
    'uncertain (sad 41%)'
    """
    text = f"{detection.emotion} {detection.confidence:.0%}" if show_confidence else detection.emotion
    return f"uncertain ({text})" if detection.uncertain else text


def _box_rgb(emotion: str, uncertain: bool = False) -> tuple[int, int, int]:
    """The emotion's colour (:data:`fercourse.labels.EMOTION_COLORS`) as RGB for OpenCV; gray if uncertain."""
    if uncertain:
        return UNCERTAIN_RGB
    try:
        return emotion_rgb(emotion)
    except ValueError:
        return _UNKNOWN_EMOTION_RGB


def annotate(image, detections: list[Detection], *, show_confidence: bool = True) -> np.ndarray:
    """Draw each detection's box and label (``"happy 87%"``, gray ``"uncertain (sad 41%)"``) on a copy.

    Parameters
    ----------
    image : path, bytes, PIL image or np.ndarray
        The photo the detections came from.
    detections : list of Detection
        From :meth:`EmotionDetector.detect`.
    show_confidence : bool
        Append the probability to each label.

    Returns
    -------
    np.ndarray
        RGB uint8 (height, width, 3); the input is not modified.

    Examples
    --------
    >>> face = Detection((2, 2, 20, 20), "happy", 0.9, dict.fromkeys(EMOTIONS, 0.0))
    >>> annotate(np.zeros((40, 60), dtype=np.uint8), [face]).shape
    (40, 60, 3)
    """
    import cv2

    canvas = read_image(image).copy()
    height, width = canvas.shape[:2]
    thickness = max(2, round(min(height, width) / 250))
    font_scale = max(0.5, min(height, width) / 800)
    for number, detection in enumerate(detections, start=1):
        if not isinstance(detection, Detection):
            raise InputTypeError(f"detection {number}: expected a Detection, got {type(detection).__name__}")
        x, y, w, h = detection.box
        color = _box_rgb(detection.emotion, detection.uncertain)
        cv2.rectangle(canvas, (x, y), (x + w, y + h), color, thickness)
        label = label_text(detection, show_confidence=show_confidence)
        (text_w, text_h), baseline = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, font_scale, thickness)
        top = y - text_h - baseline - 4 if y - text_h - baseline - 4 >= 0 else y + h  # below if no room
        cv2.rectangle(canvas, (x, top), (x + text_w + 4, top + text_h + baseline + 4), color, -1)
        cv2.putText(canvas, label, (x + 2, top + text_h + 2), cv2.FONT_HERSHEY_SIMPLEX, font_scale,
                    (255, 255, 255), max(1, thickness - 1), cv2.LINE_AA)
    return canvas


def plot_probabilities(detection: Detection, ax=None, *, title: str | None = None):
    """Horizontal bars of one face's seven probabilities, in the emotion colours of every plot.

    Parameters
    ----------
    detection : Detection
        One face from :meth:`EmotionDetector.detect`.
    ax : matplotlib Axes, optional
        Where to draw (default: a new figure's axes).
    title : str, optional
        Default :func:`label_text`: ``"<emotion> <confidence>"``, ``"uncertain (...)"`` below the threshold.

    Returns
    -------
    matplotlib.axes.Axes
    """
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(3.2, 2.2))
    values = [detection.probabilities[name] for name in EMOTIONS]
    ax.barh(list(EMOTIONS), values, color=list(EMOTION_COLORS))
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("probability")
    ax.set_title(title if title is not None else label_text(detection))
    return ax


def encode_png(rgb: np.ndarray) -> bytes:
    """PNG bytes of an RGB uint8 image (for widgets and files)."""
    import cv2

    ok, data = cv2.imencode(".png", cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2BGR))
    if not ok:
        raise InputError(f"{describe(rgb)}: could not encode as PNG")
    return data.tobytes()
