"""Open a leaderboard page from a file in headless Chromium: the table renders, nothing is fetched.

Needs Debian's ``chromium`` and Playwright's Python package (the ``chromium`` fixture skips without
them). The screenshot is kept in ``$FERCOURSE_TEST_ARTIFACTS`` (default ``runs/test-artifacts/``).
"""

from __future__ import annotations

from datetime import datetime

import pytest

from fercourse.grading.records.leaderboard import Standings, rank_verdicts, write_leaderboard

pytestmark = pytest.mark.slow


def verdict(student: str, correct: int | None) -> dict:
    part = None if correct is None else {"n": 50, "correct": correct, "accuracy": correct / 50}
    return {"student": student, "pseudonym": f"pseudo-{student}", "status": "invalid" if part is None
            else "scored", "public": part, "private": part}


def test_leaderboard_page_renders_offline_in_chromium(chromium, tmp_path, test_artifacts):
    records = {name: verdict(name, correct) for name, correct in
               (("ada", 45), ("bo", 40), ("cy", 40), ("dee", 30), ("<eve>", None))}
    rows = rank_verdicts(records, final=False, pseudonyms=False,
                         lateness={"bo": (7200.0, datetime(2026, 12, 1, 14, 0))})
    board = Standings("a1_baselines", False, False, tuple(rows), 50, 50, True, datetime(2026, 12, 1, 12, 0),
                      datetime(2026, 12, 3, 15, 0))
    page_path, _ = write_leaderboard(board, tmp_path / "leaderboard.html")

    problems: list[str] = []
    page = chromium.new_page(viewport={"width": 1000, "height": 700})
    page.on("console", lambda message: message.type == "error" and problems.append(message.text))
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("request", lambda request: request.url.startswith("file:") or problems.append(
        f"fetched {request.url}"))
    page.goto(page_path.as_uri(), wait_until="load")
    assert page.title() == "Leaderboard: a1_baselines (public)"
    headers = page.eval_on_selector_all("#leaderboard thead th", "cells => cells.map(c => c.textContent)")
    assert headers == ["Rank", "Student", "Accuracy", "Submitted", "History (public)"]
    cells = page.eval_on_selector_all(
        "#leaderboard tbody tr", "rows => rows.map(r => Array.from(r.cells, c => c.innerText.trim()))")
    assert [row[:3] for row in cells] == [["1", "ada", "0.9000"], ["2", "bo late (2.0 h)", "0.8000"],
                                          ["2", "cy", "0.8000"], ["4", "dee", "0.6000"],
                                          ["\u2013", "<eve>", "\u2013"]]  # escaped, shown as text
    box = page.locator("#leaderboard").bounding_box()
    assert box is not None and box["width"] > 500 and box["height"] > 6 * 20  # laid out, not collapsed
    late = page.locator(".late").first
    background = late.evaluate("e => getComputedStyle(e).backgroundColor")
    assert late.is_visible() and background not in ("", "rgba(0, 0, 0, 0)")  # the style applied
    page.screenshot(path=str(test_artifacts / "leaderboard_public.png"), full_page=True)
    assert problems == []
