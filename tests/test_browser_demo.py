"""The upload-and-detect app in a real browser: Voila serves it, headless Chromium uses it.

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

REPO_ROOT = Path(__file__).resolve().parents[1]
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
        {"cell_type": "markdown", "metadata": {}, "source": "# Emotion demo"},
        {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
         "source": f"from fercourse.demo import upload_app\n\nupload_app({str(model_path)!r})"},
    ]
    notebook = {"cells": cells, "nbformat": 4, "nbformat_minor": 5,
                "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}}
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


@pytest.fixture
def voila_url(tmp_path):
    pytest.importorskip("voila")
    from fercourse.models import build_model

    model_path = tmp_path / "cnn.keras"
    build_model("cnn", variant="simple").save(model_path)
    notebook = demo_notebook(tmp_path, model_path)
    port = free_port()
    log = (tmp_path / "voila.log").open("w")
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": str(REPO_ROOT)}
    env.pop("MPLBACKEND", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "voila", str(notebook), "--no-browser", f"--port={port}", "--Voila.ip=127.0.0.1",
         "--Voila.open_browser=False"],
        cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}/"
        wait_for_http(url + "static/", process, timeout=60)  # not "/": that would start a kernel
        yield url
    finally:
        # Stop only the server this test started (its own process group: Voila and its kernel).
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)
        log.close()
        shutil.copy(tmp_path / "voila.log", artifacts_dir() / "browser_demo_voila.log")


def test_upload_a_photo_and_see_the_emotion_in_chromium(voila_url, tmp_path):
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} missing: install Debian's chromium (make system-deps)")
    sync_api = pytest.importorskip("playwright.sync_api")
    from PIL import Image
    from skimage import data

    photo = tmp_path / "astronaut.jpg"
    Image.fromarray(data.astronaut()).save(photo, quality=92)
    screenshot = artifacts_dir() / "browser_demo.png"

    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, timeout=60_000)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 1300})
            page.goto(voila_url, timeout=120_000)
            # The kernel runs the notebook (imports TensorFlow, loads the model) before the app appears.
            detect = page.get_by_role("button", name="Detect")
            detect.wait_for(state="visible", timeout=180_000)
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
        finally:
            browser.close()

    assert "1 face in astronaut.jpg: face 1: " in message
    emotion = message.split("face 1: ", 1)[1].split(" ", 1)[0]
    assert emotion in ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
    assert box["width"] > 300 and box["height"] > 300
    assert screenshot.stat().st_size > 10_000
