"""The upload-and-detect app in a real browser: Voila, JupyterLab and Notebook 7 serve it,
headless Chromium uses it.

Needs Debian's ``chromium`` (``make system-deps`` installs it) and the Python ``playwright``
and ``voila`` packages; skips when any is missing. The screenshot is kept in
``$FERCOURSE_TEST_ARTIFACTS`` (default ``runs/test-artifacts/``) so a person can look at it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from browser_server import FRONTENDS, artifacts_dir, frontend, jupyter_server, run_all_cells

pytestmark = pytest.mark.slow


def demo_notebook(folder: Path, model_path: Path) -> Path:
    cells = [
        {"cell_type": "markdown", "id": "title", "metadata": {}, "source": "# Emotion demo"},
        {"cell_type": "code", "id": "app", "metadata": {}, "execution_count": None, "outputs": [],
         "source": f"from fercourse.demo import upload_app\n\nupload_app({str(model_path)!r})"},
    ]
    notebook = {"cells": cells, "nbformat": 4, "nbformat_minor": 5,
                "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3 (ipykernel)",
                                             "language": "python"}, "language_info": {"name": "python"}}}
    path = folder / "demo.ipynb"
    path.write_text(json.dumps(notebook))
    return path


@pytest.fixture(params=list(FRONTENDS))
def served(request, tmp_path):
    """(frontend, URL of the demo notebook) with a server running in ``tmp_path``; stopped afterwards."""
    name = request.param
    pytest.importorskip({"voila": "voila", "jupyterlab": "jupyterlab", "notebook7": "notebook"}[name])
    from fercourse.models import build_model

    model_path = tmp_path / "cnn.keras"
    build_model("cnn", variant="simple").save(model_path)
    demo_notebook(tmp_path, model_path)
    arguments, page = frontend(name, "demo.ipynb")
    with jupyter_server(arguments, tmp_path, log_name=f"browser_demo_{name}") as url:
        yield name, url + page


def test_upload_a_photo_and_see_the_emotion_in_chromium(served, chromium, tmp_path):
    frontend, url = served
    from PIL import Image
    from skimage import data

    photo = tmp_path / "astronaut.jpg"
    Image.fromarray(data.astronaut()).save(photo, quality=92)
    screenshot = artifacts_dir() / f"browser_demo_{frontend}.png"

    page = chromium.new_page(viewport={"width": 1100, "height": 1300})
    try:
        page.goto(url, timeout=120_000)
        if frontend != "voila":
            run_all_cells(page)
        # The kernel runs the notebook (imports TensorFlow, loads the model) before the app appears.
        detect = page.get_by_role("button", name="Detect")
        detect.wait_for(state="visible", timeout=120_000)
        # ipywidgets' FileUpload keeps its <input type=file> out of the page: click the button
        # and answer the file dialog, as a person would.
        with page.expect_file_chooser(timeout=20_000) as chooser:
            page.get_by_role("button", name="Photo").click()
        chooser.value.set_files(str(photo))
        page.get_by_text("(1)").first.wait_for(timeout=20_000)  # FileUpload shows "Photo (1)"
        detect.click()
        annotated = page.locator("img.fercourse-annotated")
        annotated.wait_for(state="visible", timeout=60_000)
        message = page.locator(".fercourse-message").first.inner_text(timeout=10_000)
        page.locator("img.fercourse-chart").first.wait_for(state="visible", timeout=10_000)
        page.wait_for_timeout(500)  # let the images paint before the screenshot
        page.screenshot(path=str(screenshot), full_page=True)
        box = annotated.bounding_box()
    except Exception:
        page.screenshot(path=str(screenshot.with_name(screenshot.stem + "_failed.png")), full_page=True)
        raise
    finally:
        page.close()

    assert "1 face in astronaut.jpg: face 1: " in message, frontend
    emotion = message.split("face 1: ", 1)[1].split(" ", 1)[0]
    assert emotion in ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral", "uncertain")
    assert box["width"] > 300 and box["height"] > 300
    assert screenshot.stat().st_size > 10_000
