"""Open the student copies of the lessons in JupyterLab, in headless Chromium: no raw MyST shows.

The lessons are written in the book's MyST; JupyterLab prints its roles and fences as they are.
Students work in the student copies (``fercourse student export``, or the download link on each
lesson page). This test starts JupyterLab on them, opens every lesson, and reads the rendered
markdown: no ``{glue:text}``, no ``:::{admonition}``, no ``{cite}``, and every solution folded.
Opening the book's own source of a lesson the same way must show the raw markup (the test can
fail). Screenshots go to ``$FERCOURSE_TEST_ARTIFACTS`` (default ``runs/test-artifacts/``).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

from fercourse.course import runner
from fercourse.course.student_copy import SOLUTION_TAG, write_student_copies

REPO_ROOT = Path(__file__).resolve().parents[2]
LESSONS = [path for path in sorted((REPO_ROOT / "notebooks").glob("*.ipynb"))
           if runner.LESSON_PATTERN.match(path.name)]
#: The notebook on show (JupyterLab keeps other open documents in hidden panels).
SHOWN = ".jp-NotebookPanel:not(.lm-mod-hidden)"
RAW = re.compile(r"\{glue:text\}|\{cite[:a-z]*\}|\{admonition\}|^:::", re.MULTILINE)

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab serving the student copies (and one raw source lesson) on 127.0.0.1; yields its URL."""
    if shutil.which("jupyter-lab", path=str(Path(sys.executable).parent)) is None:
        pytest.skip("JupyterLab is not installed in this environment")
    root = tmp_path_factory.mktemp("jupyterlab")
    write_student_copies(REPO_ROOT / "notebooks", root / "student", bib=REPO_ROOT / "book" / "references.bib")
    (root / "source").mkdir()
    shutil.copy(REPO_ROOT / "notebooks" / "04_recurrent.ipynb", root / "source")
    # Render every cell, not only those in view (JupyterLab 4 windows long notebooks), so the test
    # reads the whole lesson.
    settings = root / "settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)
    (settings / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
    news = root / "settings" / "@jupyterlab" / "apputils-extension"  # no "get notified about news?" pop-up
    news.mkdir(parents=True)
    (news / "notification.jupyterlab-settings").write_text(json.dumps({"fetchNews": "false"}))
    token, port = secrets.token_hex(16), _free_port()
    environment = dict(os.environ, JUPYTERLAB_SETTINGS_DIR=str(root / "settings"),
                       JUPYTER_CONFIG_DIR=str(root / "config"), JUPYTER_RUNTIME_DIR=str(root / "runtime"))
    log = open(root / "jupyterlab.log", "wb")
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "jupyter-lab"), "--no-browser", f"--port={port}", "--ip=127.0.0.1",
         f"--ServerApp.token={token}", f"--ServerApp.root_dir={root}", "--ServerApp.open_browser=False",
         "--ServerApp.allow_root=True", "--LabApp.news_url=",
         "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"],
        stdout=log, stderr=subprocess.STDOUT, env=environment)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2):
                    break
            except OSError:
                if server.poll() is not None:
                    pytest.fail("JupyterLab exited:\n" + (root / "jupyterlab.log").read_text()[-2000:])
                time.sleep(0.5)
        else:
            pytest.fail("JupyterLab did not start within 60 s")
        yield url, token
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def _open(page, url: str, token: str, path: str) -> str:
    """Open ``path`` in JupyterLab and return the text of its rendered markdown cells."""
    # ?reset: a fresh workspace, so the notebook opened before is not restored beside this one
    page.goto(f"{url}/lab/tree/{path}?reset&token={token}", wait_until="domcontentloaded")
    page.wait_for_selector(f"{SHOWN} .jp-MarkdownCell .jp-RenderedMarkdown h1", timeout=90_000)
    page.wait_for_timeout(1500)  # math typesetting and the last cells
    return page.eval_on_selector_all(f"{SHOWN} .jp-MarkdownCell .jp-RenderedMarkdown",
                                     "cells => cells.map(c => c.innerText).join('\\n')")


def test_student_copies_render_without_raw_myst(lab, chromium, test_artifacts):
    url, token = lab
    page = chromium.new_page(viewport={"width": 1280, "height": 1000})
    try:
        raw_source = _open(page, url, token, "source/04_recurrent.ipynb")
        assert RAW.search(raw_source), "the book's source should show raw MyST in JupyterLab (control)"
        page.screenshot(path=str(test_artifacts / "jupyterlab_source_04_recurrent.png"))
        for lesson in LESSONS:
            text = _open(page, url, token, f"student/{lesson.name}")
            raw = sorted(set(RAW.findall(text)))
            assert not raw, f"{lesson.name}: raw MyST visible in JupyterLab: {raw}"
            solutions = sum(SOLUTION_TAG in cell.metadata.get("tags", [])
                            for cell in nbformat.read(lesson, as_version=4).cells)
            folded = page.eval_on_selector_all(
                f"{SHOWN} .jp-RenderedMarkdown details", "ds => ds.filter(d => !d.open).length")
            assert folded >= solutions, f"{lesson.name}: {folded} folded blocks for {solutions} solutions"
            shown = page.eval_on_selector_all(
                f"{SHOWN} .jp-RenderedMarkdown details pre",
                "blocks => blocks.filter(b => b.closest('details').open).length")
            assert shown == 0, f"{lesson.name}: solution code open before a click"
            page.screenshot(path=str(test_artifacts / f"jupyterlab_student_{lesson.stem}.png"))
        # One solution opened by a click: its code shows.
        page.locator(".jp-RenderedMarkdown details summary").first.scroll_into_view_if_needed()
        page.locator(".jp-RenderedMarkdown details summary").first.click()
        assert page.locator(".jp-RenderedMarkdown details[open] pre").first.is_visible()
        page.screenshot(path=str(test_artifacts / "jupyterlab_student_solution_opened.png"))
    finally:
        page.close()


def test_run_all_of_a_student_copy_runs_no_solution(tmp_path):
    """Run All of lesson 1's student copy on the sample (quick): it finishes, and no solution ran."""
    papermill = pytest.importorskip("papermill")
    write_student_copies(REPO_ROOT / "notebooks", tmp_path / "student")
    copy = tmp_path / "student" / "01_eda.ipynb"
    papermill.execute_notebook(str(copy), str(tmp_path / "ran.ipynb"), parameters={"quick": True},
                               cwd=str(copy.parent), progress_bar=False, kernel_name="python3")
    ran = nbformat.read(tmp_path / "ran.ipynb", as_version=4)
    executed = [cell.source for cell in ran.cells if cell.cell_type == "code" and cell.execution_count]
    lesson = nbformat.read(REPO_ROOT / "notebooks" / "01_eda.ipynb", as_version=4)
    solutions = [cell.source for cell in lesson.cells if SOLUTION_TAG in cell.metadata.get("tags", [])]
    assert solutions and executed
    assert not any(solution in executed for solution in solutions)
