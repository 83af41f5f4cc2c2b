"""Open the built book in headless Chromium: images load and no page logs an error.

Needs Debian's ``chromium`` (``make system-deps`` installs it) and Playwright's Python package
(it drives the system browser; nothing is downloaded). Screenshots are kept in
``$FERCOURSE_TEST_ARTIFACTS`` (default ``runs/test-artifacts/``) so a person can look at them.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import re
import threading
import urllib.request
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
LESSON_NAMES = ("01_eda", "02_baselines", "03_mlp", "04_recurrent", "05_cnn", "06_augmentation", "07_demo",
                "08_trust", "09_labeller")
#: Every page of the book: each lesson and each course page (a new page is added here).
PAGES = ("index.html", "intro.html", "setup.html",
         *(f"lessons/{name}.html" for name in ("01_eda", "02_baselines", "03_mlp", "04_recurrent", "05_cnn",
                                               "06_augmentation", "07_demo", "08_trust",
                                               "09_labeller")),
         "assignments.html", "ethics.html", "results.html", "model_card.html", "instructor_guide.html",
         "references.html")


def artifacts_dir() -> Path:
    folder = Path(os.environ.get("FERCOURSE_TEST_ARTIFACTS", REPO_ROOT / "runs" / "test-artifacts"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def book_url(built_book):
    """The built book served on 127.0.0.1 (a free port) for the duration of one test."""
    handler = functools.partial(_QuietHandler, directory=str(built_book.parent))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # the base class's argument name
        pass


@pytest.mark.slow
def test_book_pages_render_with_images_and_no_console_errors(book_url, built_book):
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} missing: install Debian's chromium (make system-deps)")
    sync_api = pytest.importorskip("playwright.sync_api")
    root = built_book.parent
    built = {path.relative_to(root).as_posix() for path in root.rglob("*.html")
             if path.parent.name not in ("_sources", "_static")} - {"genindex.html", "search.html"}
    assert built == set(PAGES), f"pages built but not checked, or checked but not built: {built ^ set(PAGES)}"
    problems: list[str] = []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, timeout=60_000)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("console", lambda message: message.type == "error" and problems.append(
                f"{page.url}: console error: {message.text}"))
            page.on("pageerror", lambda error: problems.append(f"{page.url}: page error: {error}"))
            page.on("requestfailed", lambda request: problems.append(f"{page.url}: failed request "
                                                                     f"{request.url}"))
            page.on("response", lambda response: response.status >= 400 and problems.append(
                f"{page.url}: HTTP {response.status} for {response.url}"))
            for path in PAGES:
                response = page.goto(f"{book_url}/{path}", wait_until="load")
                status = response and response.status
                assert response is not None and response.status == 200, f"{path}: HTTP {status}"
                page.wait_for_load_state("networkidle")
                images = page.eval_on_selector_all(
                    "main img", "images => images.map(i => [i.getAttribute('src'), i.complete, "
                                "i.naturalWidth])")
                if path.startswith("lessons/"):
                    assert len(images) >= 3, (f"{path}: expected the lesson's figures, "
                                              f"found {len(images)} images")
                broken = [source for source, complete, width in images if not complete or width == 0]
                assert not broken, f"{path}: images that did not load: {broken}"
                assert "Facial emotion recognition with FER2013" in page.title(), path
                screenshot = artifacts_dir() / f"book_{Path(path).stem}.png"
                page.screenshot(path=str(screenshot), full_page=False)
                assert screenshot.stat().st_size > 20_000
        finally:
            browser.close()
    assert not problems, "\n".join(problems)


@pytest.mark.slow
def _tagged_solutions(names) -> int:
    """How many code cells the lesson sources tag ``solution``: the book must fold every one."""
    notebooks = Path(__file__).resolve().parents[2] / "notebooks"
    return sum("solution" in cell.get("metadata", {}).get("tags", [])
               for name in names for cell in json.loads((notebooks / f"{name}.ipynb").read_text())["cells"]
               if cell["cell_type"] == "code")


def test_solutions_stay_folded_until_clicked(book_url, built_book, chromium, test_artifacts):
    """Every solution's code and output (and every written solution) is hidden until its toggle is clicked."""
    page = chromium.new_page(viewport={"width": 1280, "height": 900})
    try:
        checked = 0
        for name in LESSON_NAMES:
            page.goto(f"{book_url}/lessons/{name}.html", wait_until="load")
            solutions = page.locator("div.cell.tag_solution")
            assert solutions.count() > 0, f"{name}: no solution cell on the page"
            for index in range(solutions.count()):
                cell = solutions.nth(index)
                for part in (".cell_input", ".cell_output"):
                    for element in cell.locator(part).all():
                        assert not element.is_visible(), f"{name}: solution {index + 1}'s {part} shows"
                checked += 1
            written = page.locator("details.dropdown")
            for index in range(written.count()):
                assert written.nth(index).get_attribute("open") is None, f"{name}: a written solution is open"
            if name == "04_recurrent":  # a click shows the code and its output
                first = solutions.first
                first.locator("summary").first.scroll_into_view_if_needed()
                page.screenshot(path=str(test_artifacts / "book_solution_folded.png"))
                first.locator("summary").first.click()
                page.wait_for_timeout(600)  # the theme fades the content in
                assert first.locator(".cell_input").first.is_visible()
                assert first.locator(".cell_output").first.is_visible()
                page.screenshot(path=str(test_artifacts / "book_solution_opened.png"))
        assert checked == _tagged_solutions(LESSON_NAMES)
    finally:
        page.close()


@pytest.mark.slow
def test_each_lesson_page_offers_its_student_copy(book_url, built_book):
    for name in ("01_eda", "04_recurrent", "07_demo"):
        page = (built_book.parent / "lessons" / f"{name}.html").read_text()
        link = re.search(r'<p class="student-download"><a class="reference download" href="([^"]+)"', page)
        assert link, f"{name}: no download link"
        with urllib.request.urlopen(f"{book_url}/lessons/{link.group(1)}") as response:
            notebook = json.loads(response.read())
        cells = notebook["cells"]
        prose = "\n".join("".join(cell["source"]) for cell in cells if cell["cell_type"] == "markdown")
        assert "{glue:text}" not in prose and ":::{admonition}" not in prose and "{cite" not in prose
        assert all(cell.get("outputs", []) == [] for cell in notebook["cells"] if cell["cell_type"] == "code")
        assert not any("solution" in cell["metadata"].get("tags", []) for cell in notebook["cells"]
                       if cell["cell_type"] == "code")
        if name == "04_recurrent":  # values of the run that built the book, marked as such
            assert "Numbers in bold: the course's run of this lesson" in prose
