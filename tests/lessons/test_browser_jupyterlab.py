"""A fresh student environment, set up as the Set up page says, opens every lesson in JupyterLab.

The lessons are written in the book's MyST; JupyterLab prints its roles and fences as they are.
Students work in the student copies (``fercourse student export``, or the download link on each
lesson page). These tests use the session's ``student_env`` (tests/student_env.py: a venv with
``pip install . jupyterlab`` and ``pip install notebook`` from a copy of the course), run
``fercourse student export`` there, and serve the copies with that venv's JupyterLab and
Notebook 7, whose kernels are that venv's too. In headless Chromium every lesson is opened and its
rendered markdown read: no ``{glue:text}``, no ``:::{admonition}``, no ``{cite}``, every solution
folded. Opening the book's own source of a lesson the same way must show the raw markup (the test
can fail). One lesson is Run All'd in the browser; all of them headless in test_student_env.py.
Screenshots go to ``$FERCOURSE_TEST_ARTIFACTS`` (default ``runs/test-artifacts/``).
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import nbformat
import pytest
from browser_server import frontend, jupyter_server, run_all_cells
from student_env import TENSORFLOW_NOISE

from fercourse.course import runner
from fercourse.course.student_copy import SOLUTION_TAG

REPO_ROOT = Path(__file__).resolve().parents[2]
LESSONS = [path for path in sorted((REPO_ROOT / "notebooks").glob("*.ipynb"))
           if runner.LESSON_PATTERN.match(path.name)]
#: The notebook on show (JupyterLab keeps other open documents in hidden panels).
SHOWN = ".jp-NotebookPanel:not(.lm-mod-hidden)"
RAW = re.compile(r"\{glue:text\}|\{cite[:a-z]*\}|\{admonition\}|^:::", re.MULTILINE)
#: The lesson Run All'd in the browser, at its student defaults (the parameters cell as shipped).
BROWSER_RUN_ALL = "01_eda.ipynb"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def student_course(student_env):
    """The fresh environment's course copy after ``fercourse student export``, with private lab settings."""
    exported = student_env.run(["fercourse", "student", "export"], timeout=300)
    assert f"{len(LESSONS)} student copies" in exported.stdout, exported.stdout
    # Render every cell, not only those in view (JupyterLab 4 windows long notebooks), so the test
    # reads the whole lesson; and no "get notified about news?" pop-up.
    settings = student_env.course / ".jupyter-test" / "lab-settings"
    tracker = settings / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings"
    tracker.parent.mkdir(parents=True, exist_ok=True)
    tracker.write_text(json.dumps({"windowingMode": "none"}))
    news = settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    news.parent.mkdir(parents=True, exist_ok=True)
    news.write_text(json.dumps({"fetchNews": "false"}))
    return student_env, {**student_env.env, "JUPYTERLAB_SETTINGS_DIR": str(settings)}


@pytest.fixture(scope="module")
def lab(student_course):
    """The fresh environment's JupyterLab serving its course copy; yields the server's URL."""
    student_env, environment = student_course
    arguments, _ = frontend("jupyterlab", "")
    arguments += ["--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    with jupyter_server(arguments, student_env.course, log_name="jupyterlab_student_env",
                        python=student_env.python, environment=environment) as url:
        yield url


def _rendered_markdown(page) -> str:
    """The text of the shown notebook's rendered markdown cells, once its title has rendered."""
    page.wait_for_selector(f"{SHOWN} .jp-MarkdownCell .jp-RenderedMarkdown h1", timeout=90_000)
    page.wait_for_timeout(1500)  # math typesetting and the last cells
    return page.eval_on_selector_all(f"{SHOWN} .jp-MarkdownCell .jp-RenderedMarkdown",
                                     "cells => cells.map(c => c.innerText).join('\\n')")


def _open(page, url: str, path: str) -> str:
    """Open ``path`` in JupyterLab and return the text of its rendered markdown cells."""
    # ?reset: a fresh workspace, so the notebook opened before is not restored beside this one
    page.goto(f"{url}lab/tree/{path}?reset", wait_until="domcontentloaded")
    return _rendered_markdown(page)


def _check_student_copy(page, lesson: Path, text: str) -> None:
    """No raw MyST in ``text``, and the page shows every solution of ``lesson`` folded."""
    raw = sorted(set(RAW.findall(text)))
    assert not raw, f"{lesson.name}: raw MyST visible: {raw}"
    solutions = sum(SOLUTION_TAG in cell.metadata.get("tags", [])
                    for cell in nbformat.read(lesson, as_version=4).cells)
    folded = page.eval_on_selector_all(f"{SHOWN} .jp-RenderedMarkdown details",
                                       "ds => ds.filter(d => !d.open).length")
    assert folded >= solutions, f"{lesson.name}: {folded} folded blocks for {solutions} solutions"
    shown = page.eval_on_selector_all(f"{SHOWN} .jp-RenderedMarkdown details pre",
                                      "blocks => blocks.filter(b => b.closest('details').open).length")
    assert shown == 0, f"{lesson.name}: solution code open before a click"


def test_every_student_copy_renders_without_raw_myst(lab, chromium, test_artifacts):
    page = chromium.new_page(viewport={"width": 1280, "height": 1000})
    try:
        raw_source = _open(page, lab, "notebooks/04_recurrent.ipynb")
        assert RAW.search(raw_source), "the book's source should show raw MyST in JupyterLab (control)"
        page.screenshot(path=str(test_artifacts / "jupyterlab_source_04_recurrent.png"))
        for lesson in LESSONS:
            _check_student_copy(page, lesson, _open(page, lab, f"student/{lesson.name}"))
            page.screenshot(path=str(test_artifacts / f"jupyterlab_student_{lesson.stem}.png"))
        # One solution opened by a click: its code shows.
        page.locator(".jp-RenderedMarkdown details summary").first.scroll_into_view_if_needed()
        page.locator(".jp-RenderedMarkdown details summary").first.click()
        assert page.locator(".jp-RenderedMarkdown details[open] pre").first.is_visible()
        page.screenshot(path=str(test_artifacts / "jupyterlab_student_solution_opened.png"))
    finally:
        page.close()


def test_notebook7_renders_a_student_copy(student_course, chromium, test_artifacts):
    """The Set up page's other front end, Notebook 7, from the same environment: the same rendering."""
    student_env, environment = student_course
    lesson = REPO_ROOT / "notebooks" / "04_recurrent.ipynb"
    arguments, page_path = frontend("notebook7", f"student/{lesson.name}")
    with jupyter_server(arguments, student_env.course, log_name="notebook7_student_env",
                        python=student_env.python, environment=environment) as url:
        version = student_env.run(["python", "-c", "import notebook; print(notebook.__version__)"],
                                  timeout=60)
        assert version.stdout.startswith("7."), version.stdout
        page = chromium.new_page(viewport={"width": 1280, "height": 1000})
        try:
            page.goto(url + page_path, wait_until="domcontentloaded")
            _check_student_copy(page, lesson, _rendered_markdown(page))
            page.screenshot(path=str(test_artifacts / f"notebook7_student_{lesson.stem}.png"))
        finally:
            page.close()


def _prompts(page) -> list[str]:
    return page.eval_on_selector_all(f"{SHOWN} .jp-CodeCell .jp-InputPrompt",
                                     "prompts => prompts.map(p => p.innerText.trim())")


def test_run_all_in_jupyterlab_finishes_and_runs_no_solution(lab, student_course, chromium, test_artifacts):
    """Run > Run All Cells on a student copy, as it ships: every code cell runs, none fails."""
    student_env, _ = student_course
    copy = nbformat.read(student_env.course / "student" / BROWSER_RUN_ALL, as_version=4)
    code_cells = [cell for cell in copy.cells if cell.cell_type == "code"]
    assert not [cell for cell in code_cells if SOLUTION_TAG in cell.metadata.get("tags", [])]
    screenshot = test_artifacts / f"jupyterlab_run_all_{Path(BROWSER_RUN_ALL).stem}.png"
    page = chromium.new_page(viewport={"width": 1280, "height": 1000})
    try:
        page.goto(f"{lab}lab/tree/student/{BROWSER_RUN_ALL}?reset", wait_until="domcontentloaded")
        run_all_cells(page)
        started = time.monotonic()
        while time.monotonic() - started < 1200:
            prompts = _prompts(page)
            if "[*]:" not in prompts:
                break
            page.wait_for_timeout(2000)
        seconds = time.monotonic() - started
        prompts = _prompts(page)
        # JupyterLab shows a cell's error and its stderr alike (the stderr renderer): an error has a traceback
        stderr = page.eval_on_selector_all(
            f"{SHOWN} .jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']",
            "outputs => outputs.map(output => output.innerText)")
        tracebacks = [text for text in stderr if "Traceback" in text]
        figures = page.locator(f"{SHOWN} .jp-OutputArea-output img")
        figure_count = figures.count()
        page.screenshot(path=str(screenshot))  # the lesson's end
        if figure_count:  # and its first figure, as the student sees it
            figures.first.scroll_into_view_if_needed()
            page.screenshot(path=str(screenshot.with_name(screenshot.stem + "_first_figure.png")))
    except Exception:
        page.screenshot(path=str(screenshot.with_name(screenshot.stem + "_failed.png")))
        raise
    finally:
        page.close()
    print(f"Run All of student/{BROWSER_RUN_ALL} in JupyterLab: {seconds:.0f} s; stderr outputs: {stderr}")
    assert len(prompts) == len(code_cells)
    assert all(re.fullmatch(r"\[\d+\]:", prompt) for prompt in prompts), prompts
    assert not tracebacks, tracebacks[0][-3000:]
    assert figure_count >= 3, "the lesson's figures should show inline"
    assert not [text for text in stderr if re.search(TENSORFLOW_NOISE, text)], "TensorFlow's start-up lines"
