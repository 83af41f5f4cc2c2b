"""The upload-and-detect app in a real browser: Voila, JupyterLab and Notebook 7 serve it,
headless Chromium uses it.

Needs Debian's ``chromium`` (``make system-deps`` installs it) and the Python ``playwright``
and ``voila`` packages; skips when any is missing. The screenshot is kept in
``$FERCOURSE_TEST_ARTIFACTS`` (default ``runs/test-artifacts/``) so a person can look at it.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def artifacts_dir() -> Path:
    folder = Path(os.environ.get("FERCOURSE_TEST_ARTIFACTS", REPO_ROOT / "runs" / "test-artifacts"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


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


def wait_for_http(url: str, process: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"voila exited with status {process.returncode} before serving {url}")
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except urllib.error.HTTPError:
            return  # any HTTP answer (even 403 for this path) means the server is up
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"voila did not answer at {url} within {timeout:.0f} s")


FRONTENDS = {
    # name: (server command after `python -m`, page to open for demo.ipynb)
    "voila": (["voila", "demo.ipynb", "--no-browser", "--Voila.ip=127.0.0.1"], ""),
    "jupyterlab": (["jupyter", "lab", "--no-browser", "--ServerApp.ip=127.0.0.1", "--IdentityProvider.token=",
                    "--ServerApp.disable_check_xsrf=True", "--LabApp.news_url=None", "--allow-root"],
                   "lab/tree/demo.ipynb"),
    "notebook7": (["jupyter", "notebook", "--no-browser", "--ServerApp.ip=127.0.0.1",
                   "--IdentityProvider.token=", "--ServerApp.disable_check_xsrf=True", "--allow-root"],
                  "notebooks/demo.ipynb"),
}


@pytest.fixture(params=list(FRONTENDS))
def served(request, tmp_path):
    """(frontend, URL of the demo notebook) with a server running in ``tmp_path``; stopped afterwards."""
    frontend = request.param
    pytest.importorskip("voila" if frontend == "voila"
                        else "jupyterlab" if frontend == "jupyterlab" else "notebook")
    from fercourse.models import build_model

    model_path = tmp_path / "cnn.keras"
    build_model("cnn", variant="simple").save(model_path)
    demo_notebook(tmp_path, model_path)
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
        wait_for_http(url + "static/", process, timeout=90)  # not the page itself: Voila would start a kernel
        yield frontend, url + page
    finally:
        # Stop only the server this test started (its own process group: the server and its kernel).
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)
        log.close()
        shutil.copy(log_path, artifacts_dir() / f"browser_demo_{frontend}.log")


def sync_api_timeout():
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    return PlaywrightTimeout


def run_all_cells(page) -> None:
    """JupyterLab / Notebook 7: wait for an idle kernel, then Run > Run All Cells, as a student would."""
    page.locator(".jp-CodeCell").first.wait_for(state="visible", timeout=120_000)
    select_kernel = page.locator(".jp-Dialog").get_by_role("button", name="Select")
    try:  # JupyterLab sometimes asks which kernel to start: the notebook's own, python3
        select_kernel.wait_for(state="visible", timeout=5_000)
        select_kernel.click()
    except sync_api_timeout():
        pass
    page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").first.wait_for(state="attached",
                                                                                      timeout=120_000)
    prompt = page.locator(".jp-CodeCell .jp-InputPrompt").first
    for _ in range(3):  # a click landing while the page is still settling can be lost: check and retry
        page.locator(".lm-MenuBar-item", has_text="Run").first.click()
        page.locator(".lm-Menu-item[data-command='runmenu:run-all']").click()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if prompt.inner_text().strip() not in ("[ ]:", ""):  # "[*]:" running, "[1]:" done
                return
            page.wait_for_timeout(250)
    raise AssertionError("Run All Cells did not start the notebook's cell")


def test_upload_a_photo_and_see_the_emotion_in_chromium(served, tmp_path):
    frontend, url = served
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} missing: install Debian's chromium (make system-deps)")
    sync_api = pytest.importorskip("playwright.sync_api")
    from PIL import Image
    from skimage import data

    photo = tmp_path / "astronaut.jpg"
    Image.fromarray(data.astronaut()).save(photo, quality=92)
    screenshot = artifacts_dir() / f"browser_demo_{frontend}.png"

    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, timeout=60_000)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 1300})
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
                failed = screenshot.with_name(screenshot.stem + "_failed.png")
                page.screenshot(path=str(failed), full_page=True)
                raise
        finally:
            browser.close()

    assert "1 face in astronaut.jpg: face 1: " in message, frontend
    emotion = message.split("face 1: ", 1)[1].split(" ", 1)[0]
    assert emotion in ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral", "uncertain")
    assert box["width"] > 300 and box["height"] > 300
    assert screenshot.stat().st_size > 10_000
