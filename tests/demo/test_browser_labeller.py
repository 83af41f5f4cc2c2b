"""Lesson 9's labelling app in a real browser: Voila and JupyterLab serve it, headless Chromium clicks it.

A few faces (:data:`FACES`) are labelled with clicks on the emotion buttons, one is skipped and
comes round again; after the last one the scores show, and the student's CSV lies next to the
notebook, valid for the assignments' validator, holding the answers clicked. The server start and
Run All are tests/browser_server.py's. Screenshots go to ``$FERCOURSE_TEST_ARTIFACTS`` (default
``runs/test-artifacts/``).
"""

from __future__ import annotations

import json

import pytest
from browser_server import artifacts_dir, frontend, jupyter_server, run_all_cells

from fercourse.submission import check_submission_bytes

pytestmark = pytest.mark.slow

#: Faces labelled in the browser (the app's default is 100; a handful keeps the test short).
FACES = 4
#: The clicks, in order, and the face shown after each: "Skip" leaves face 2 for after face 4.
CLICKS = (("fear", 2), ("Skip", 3), ("sad", 4), ("angry", 2), ("happy", 2))
#: The answer each face ends with, in the labelling set's order.
EXPECTED = (2, 3, 4, 0)
DATA = 'load("sample", n_train=700, n_test=140)'  # small: the kernel generates it in a second


def labeller_notebook(folder) -> None:
    source = ("from fercourse.data import load\nfrom fercourse.demo import labeller_app\n"
              "from fercourse.demo.labelling import labelling_set\n\n"
              f"faces = labelling_set({DATA}, count={FACES})\n"
              'labeller_app(faces, folder=".", student="browser")')
    cells = [{"cell_type": "markdown", "id": "title", "metadata": {}, "source": "# Be the labeller"},
             {"cell_type": "code", "id": "app", "metadata": {}, "execution_count": None, "outputs": [],
              "source": source}]
    notebook = {"cells": cells, "nbformat": 4, "nbformat_minor": 5,
                "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3 (ipykernel)",
                                             "language": "python"}, "language_info": {"name": "python"}}}
    (folder / "labeller.ipynb").write_text(json.dumps(notebook))


@pytest.fixture(params=["voila", "jupyterlab"])
def served(request, tmp_path):
    """(frontend, URL of the labeller notebook) with a server running in ``tmp_path``; stopped afterwards."""
    name = request.param
    pytest.importorskip(name)
    labeller_notebook(tmp_path)
    arguments, page = frontend(name, "labeller.ipynb")
    with jupyter_server(arguments, tmp_path, log_name=f"browser_labeller_{name}") as url:
        yield name, url + page


def test_label_faces_with_clicks_and_get_scores_and_csv(served, chromium, tmp_path):
    from fercourse.data import load
    from fercourse.demo.labelling import labelling_set

    frontend, url = served
    screenshot = artifacts_dir() / f"browser_labeller_{frontend}.png"
    page = chromium.new_page(viewport={"width": 1200, "height": 1400})
    try:
        page.goto(url, timeout=120_000)
        if frontend != "voila":
            run_all_cells(page)
        # The kernel loads the shipped model and answers the faces before the app appears.
        progress = page.locator(".fercourse-progress")
        progress.filter(has_text=f"face 1 of {FACES}").wait_for(timeout=180_000)
        for number, (click, shown) in enumerate(CLICKS):
            # A button's name is its text; Skip's also holds its icon's glyph, hence no exact match.
            page.get_by_role("button", name=click).click()
            labelled = sum(name != "Skip" for name, _ in CLICKS[:number + 1])
            progress.filter(has_text=f"face {shown} of {FACES}").filter(
                has_text=f"{labelled} of {FACES} labelled").wait_for(timeout=30_000)
        scores = page.locator(".fercourse-scores")
        scores.wait_for(state="visible", timeout=60_000)  # after the last face, without a click
        saved = page.locator(".fercourse-saved").inner_text(timeout=30_000)
        summary = scores.inner_text()
        tables = page.locator(".fercourse-confusion").count()
        page.wait_for_timeout(300)
        page.screenshot(path=str(screenshot), full_page=True)
    except Exception:
        page.screenshot(path=str(screenshot.with_name(screenshot.stem + "_failed.png")), full_page=True)
        raise
    finally:
        page.close()

    faces = labelling_set(load("sample", n_train=700, n_test=140), count=FACES)
    assert f"On the {FACES} faces you labelled (of {FACES}): your accuracy" in summary, frontend
    right = sum(answer == label for answer, label in zip(EXPECTED, faces.labels.tolist()))
    assert f"accuracy against FER2013's labels {right / FACES:.0%}" in summary
    assert "labels_browser.csv" in saved and "a valid id,emotion file" in saved
    assert tables == 2  # the student's confusion matrix and the model's
    written = (tmp_path / "labels_browser.csv").read_bytes()
    checked = check_submission_bytes(written, faces.ids, name="labels_browser.csv")
    assert checked.valid, checked.problems
    assert [checked.predictions[face] for face in faces.ids] == list(EXPECTED)
