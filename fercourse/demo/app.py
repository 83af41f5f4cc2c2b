"""The upload-and-detect app: pick a photo, click Detect, see every face and its emotion.

Built from plain ipywidgets (FileUpload, Button, HTML, Image, VBox) with no matplotlib
backend and no ``Output`` capture, so it renders the same in JupyterLab, Notebook 7 and
Voila, and can be driven from Python (set ``app.upload.value``, call ``app.button.click()``,
read ``app.output.children``).
"""

from __future__ import annotations

import html

import ipywidgets as widgets
import numpy as np

from fercourse.demo.detector import (
    Detection,
    EmotionDetector,
    annotate,
    encode_png,
    label_text,
    plot_probabilities,
)
from fercourse.demo.images import read_image

#: File types the upload button offers (browsers filter the file dialog with this).
ACCEPT = "image/*,.jpg,.jpeg,.png,.bmp,.gif,.tif,.tiff,.webp"


class UploadApp(widgets.VBox):
    """An ipywidgets app around an :class:`EmotionDetector` (see :func:`upload_app`).

    Attributes
    ----------
    upload : ipywidgets.FileUpload
        Accepts one image file.
    button : ipywidgets.Button
        Runs detection on the uploaded file.
    mark_uncertain : ipywidgets.Checkbox
        Label faces below the detector's calibrated threshold "uncertain" (ticked by default when the
        detector has a calibration; disabled when it has none).
    output : ipywidgets.VBox
        Holds the result: a message (``HTML``), the annotated photo (``Image``) and one
        probability chart per face (``Image``).
    """

    def __init__(self, detector: EmotionDetector, *, max_display_width: int = 640) -> None:
        self.detector = detector
        self.max_display_width = max_display_width
        self.upload = widgets.FileUpload(accept=ACCEPT, multiple=False, description="Photo")
        self.button = widgets.Button(description="Detect", button_style="primary", icon="search",
                                     tooltip="find faces and classify their emotions")
        calibrated = detector.calibration is not None
        threshold = f" (confidence below {detector.calibration.threshold:.0%})" if calibrated else ""
        self.mark_uncertain = widgets.Checkbox(value=detector.mark_uncertain and calibrated,
                                               disabled=not calibrated,
                                               description=f'say "uncertain"{threshold}', indent=False,
                                               layout=widgets.Layout(width="auto"))
        self.output = widgets.VBox(layout=widgets.Layout(margin="8px 0 0 0"))
        self.output.add_class("fercourse-output")
        self.button.on_click(self._on_click)
        intro = widgets.HTML("<b>Upload a photo with one or more faces, then click Detect.</b>")
        super().__init__([intro, widgets.HBox([self.upload, self.button, self.mark_uncertain]), self.output])

    def __repr__(self) -> str:
        # What a static page (the book, nbviewer) shows in place of the live widgets.
        # ipywidgets cuts text/plain at 110 characters.
        return "Upload-and-detect app: run this notebook in JupyterLab, Notebook 7 or Voila to use it"

    def _on_click(self, _button=None) -> None:
        self.button.disabled = True
        self.output.children = [_message("Detecting faces ...")]
        try:
            self.output.children = self.run()
        finally:
            self.button.disabled = False

    def run(self) -> list:
        """Detect on the uploaded file; return the result widgets (also what the button shows)."""
        files = self.upload.value
        if not files:
            return [_message("No photo yet: choose an image file with the Photo button first.")]
        upload = files[0]
        name = upload.get("name", "upload") if isinstance(upload, dict) else getattr(upload, "name", "upload")
        content = upload["content"] if isinstance(upload, dict) else upload.content
        try:
            rgb = read_image(bytes(content), name=name)
            detections = self.detector.detect(rgb, mark_uncertain=self.mark_uncertain.value)
        except (ValueError, TypeError) as error:
            return [_message(f"Could not read this file. {error}", error=True)]
        if not detections:
            return [_message(f"No face found in {html.escape(name)}. Try a photo where faces look at the "
                             f"camera, are well lit and not too small."), self._image(rgb, "fercourse-photo")]
        summary = ", ".join(f"face {i}: <b>{d.decision}</b> ("
                            + (f"{d.emotion} " if d.uncertain else "") + f"{d.confidence:.0%})"
                            for i, d in enumerate(detections, start=1))
        plural = "s" if len(detections) != 1 else ""
        charts = [self._chart(i, d) for i, d in enumerate(detections, start=1)]
        return [_message(f"{len(detections)} face{plural} in {html.escape(name)}: {summary}"),
                self._image(annotate(rgb, detections), "fercourse-annotated"),
                widgets.HBox(charts, layout=widgets.Layout(flex_flow="row wrap"))]

    def _image(self, rgb: np.ndarray, css_class: str) -> widgets.Image:
        image = widgets.Image(value=encode_png(rgb), format="png",
                              layout=widgets.Layout(max_width=f"{self.max_display_width}px", height="auto"))
        image.add_class(css_class)
        return image

    def _chart(self, number: int, detection: Detection) -> widgets.Image:
        image = widgets.Image(value=probability_chart_png(detection, title=f"face {number}"), format="png",
                              layout=widgets.Layout(width="300px", height="auto"))
        image.add_class("fercourse-chart")
        return image


def _message(text: str, *, error: bool = False) -> widgets.HTML:
    color = "#b00020" if error else "inherit"
    widget = widgets.HTML(f'<p style="color: {color}">{text if not error else html.escape(text)}</p>')
    widget.add_class("fercourse-message")
    return widget


def probability_chart_png(detection: Detection, *, title: str = "") -> bytes:
    """A horizontal bar chart of one face's seven probabilities, as PNG bytes."""
    import io

    from matplotlib.figure import Figure  # no pyplot: no backend, no global figure state

    figure = Figure(figsize=(3.2, 2.2), dpi=100, layout="constrained")
    ax = plot_probabilities(detection, figure.add_subplot(),
                            title=f"{title}: {label_text(detection)}".lstrip(": "))
    ax.title.set_fontsize(10)
    ax.tick_params(labelsize=8)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def upload_app(detector) -> UploadApp:
    """Build the upload-and-detect app for a detector (or a model, or a saved model path).

    Parameters
    ----------
    detector : EmotionDetector, keras.Model or path
        What classifies the faces; a model or path is wrapped in an :class:`EmotionDetector`.

    Returns
    -------
    UploadApp
        An ipywidgets ``VBox``: display it as the last expression of a notebook cell.
    """
    if not isinstance(detector, EmotionDetector):
        detector = EmotionDetector(detector)
    return UploadApp(detector)
