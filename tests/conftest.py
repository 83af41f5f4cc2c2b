"""Shared fixtures for the test suite (the cache isolation lives in the root conftest.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from fercourse import config

REPO_ROOT = Path(__file__).resolve().parents[1]
#: Where the course machines keep FER2013, used when FERCOURSE_FER2013 is unset (tests only: the
#: package itself knows FER2013 only through that variable).
SHARED_FER2013 = REPO_ROOT.parent / "shared" / "fer2013"


@pytest.fixture(scope="session")
def fer2013_root() -> Path:
    """The real FER2013 image folders: ``$FERCOURSE_FER2013``, else ``../shared/fer2013``; skips if absent."""
    try:
        root = config.fer2013_path(None if os.environ.get(config.FER2013_ENV) else SHARED_FER2013)
    except FileNotFoundError as error:
        pytest.skip(f"real FER2013 not found: {error}")
    if not (root / "train").is_dir():
        pytest.skip(f"{root}: not FER2013's image folders (expected train/ and test/)")
    return root


@pytest.fixture(scope="session")
def fer2013_slice(fer2013_root, tmp_path_factory) -> Path:
    """A small copy of the real FER2013 folders (60 training and 15 test faces per emotion)."""
    import shutil

    faces = tmp_path_factory.mktemp("fer2013-slice") / "fer2013-slice"
    for split, count in (("train", 60), ("test", 15)):
        for folder in sorted(path for path in (fer2013_root / split).iterdir() if path.is_dir()):
            (faces / split / folder.name).mkdir(parents=True)
            for image in sorted(folder.iterdir())[:count]:
                shutil.copy(image, faces / split / folder.name / image.name)
    return faces


@pytest.fixture(scope="session")
def small_sample():
    """A small built-in sample (700 train, 140 test) shared by the whole session."""
    from fercourse.data import load

    return load("sample", n_train=700, n_test=140)


@pytest.fixture(scope="session")
def executed_lessons(tmp_path_factory):
    """Every lesson executed once, in quick mode on the sample, shared by the notebook, book and
    browser tests (so CI runs the lessons once). Failures are recorded, not raised: each test
    asserts on the lesson it needs.

    Returns a namespace: ``out`` (executed copies), ``artifacts`` (model and submission folder),
    ``results`` (lesson name -> :class:`fercourse.course.runner.LessonResult`), ``seconds`` (total).
    """
    from types import SimpleNamespace

    from fercourse.course.runner import artefact_folder, run_lessons

    root = tmp_path_factory.mktemp("lessons")
    results = run_lessons(out=root / "executed", data="sample", quick=True, artifacts=root / "artifacts",
                          stop_on_error=False, log=None)
    return SimpleNamespace(out=root / "executed",
                           artifacts=artefact_folder("sample", True, root / "artifacts"),
                           results={result.name: result for result in results},
                           seconds=sum(result.seconds for result in results))


@pytest.fixture(scope="session")
def built_book(executed_lessons, tmp_path_factory):
    """The course book built (warnings as errors) from ``executed_lessons`` in a copy of book/.

    Returns the path of ``index.html``; the build error is raised if the build fails.
    """
    import shutil

    from fercourse.course.book import build_book

    failed = [result.error for result in executed_lessons.results.values() if not result.ok]
    if failed:
        pytest.fail("lessons failed, so the book cannot be built: " + "; ".join(failed))
    book = tmp_path_factory.mktemp("book") / "book"
    shutil.copytree(REPO_ROOT / "book", book, ignore=shutil.ignore_patterns("_build", "lessons"))
    shutil.copytree(executed_lessons.out, book / "lessons")
    return build_book(book, course=REPO_ROOT)  # the results and instructor pages quote this checkout


@pytest.fixture(scope="session")
def student_env(tmp_path_factory):
    """A fresh venv set up as the book's Set up page says, from a copy of the course
    (:func:`student_env.build_student_env`), shared by every test of what a student installs.

    Returns a :class:`student_env.StudentEnv`: ``course`` (the copy), ``python``, ``env``, ``run``.
    """
    from student_env import build_student_env

    built = build_student_env(tmp_path_factory.mktemp("student-env"))
    print(f"student environment set up in {built.seconds:.0f} s")
    return built


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


@pytest.fixture
def chromium():
    """Debian's headless Chromium driven by Playwright (nothing downloaded); skips when either is missing."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} missing: install Debian's chromium (make system-deps)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, timeout=60_000)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def test_artifacts() -> Path:
    """Where browser tests keep screenshots for a person to look at: ``$FERCOURSE_TEST_ARTIFACTS``, else
    ``runs/test-artifacts/``."""
    from browser_server import artifacts_dir

    return artifacts_dir()
