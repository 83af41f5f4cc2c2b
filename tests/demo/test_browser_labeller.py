"""Lesson 9's labelling app in a real browser: Voila and JupyterLab serve it, headless Chromium clicks it.

A few faces (:data:`FACES`) are labelled with clicks on the emotion buttons, one is skipped and
comes round again; after the last one the scores show, and the student's CSV lies next to the
notebook, valid for the assignments' validator, holding the answers clicked. The server start and
Run All are test_browser_demo.py's. Screenshots go to ``$FERCOURSE_TEST_ARTIFACTS`` (default
``runs/test-artifacts/``).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys

import pytest
from test_browser_demo import REPO_ROOT, artifacts_dir, free_port, run_all_cells, wait_for_http

from fercourse.submission import check_submission_bytes

pytestmark = pytest.mark.slow

#: Faces labelled in the browser (the app's default is 100; a handful keeps the test short).
FACES = 4
#: The clicks, in order, and the face shown after each: "Skip" leaves face 2 for after face 4.
CLICKS = (("fear", 2), ("Skip", 3), ("sad", 4), ("angry", 2), ("happy", 2))
#: The answer each face ends with, in the labelling set's order.
EXPECTED = (2, 3, 4, 0)
DATA = 'load("sample", n_train=700, n_test=140)'  # small: the kernel generates it in a second

FRONTENDS = {
    "voila": (["voila", "labeller.ipynb", "--no-browser", "--Voila.ip=127.0.0.1"], ""),
    "jupyterlab": (["jupyter", "lab", "--no-browser", "--ServerApp.ip=127.0.0.1", "--IdentityProvider.token=",
                    "--ServerApp.disable_check_xsrf=True", "--LabApp.news_url=None", "--allow-root"],
                   "lab/tree/labeller.ipynb"),
}


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


@pytest.fixture(params=list(FRONTENDS))
def served(request, tmp_path):
    """(frontend, URL of the labeller notebook) with a server running in ``tmp_path``; stopped afterwards."""
    frontend = request.param
    pytest.importorskip("voila" if frontend == "voila" else "jupyterlab")
    labeller_notebook(tmp_path)
    arguments, page = FRONTENDS[frontend]
    port = free_port()
    log_path = tmp_path / "server.log"
    log = log_path.open("w")
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": str(REPO_ROOT),
           "JUPYTER_CONFIG_DIR": str(tmp_path / "jupyter-config"),
           "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime")}
    env.pop("MPLBACKEND", None)
    process = subprocess.Popen([sys.executable, "-m", *arguments, f"--port={port}"], cwd=tmp_path, env=env,
                               stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}/"
        wait_for_http(url + "static/", process, timeout=90)
        yield frontend, url + page
    finally:
        if process.poll() is None:  # stop only this server's own process group (server and kernel)
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)
        log.close()
        shutil.copy(log_path, artifacts_dir() / f"browser_labeller_{frontend}.log")


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
