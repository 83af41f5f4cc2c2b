"""A download link to the student copy of each lesson, at the top of its page.

The book's lessons are the executed copies in ``lessons/`` (MyST markup, outputs, solutions that
ran). What a student should download is the student copy (:mod:`fercourse.course.student_copy`):
plain Markdown that JupyterLab renders, the values this build computed written into the prose and
marked as such, solutions folded and never run, no outputs (so no FER2013 face leaves the book in
it). This extension writes those copies to ``_downloads/lessons/`` of the built site and puts a link
under each lesson's title.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

FOLDER = "_downloads/lessons"
LESSON = re.compile(r"^lessons/(\d\d_[a-z0-9_]+)$")


def write_copies(app, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    from fercourse.course.student_copy import write_student_copies

    source = Path(app.srcdir)
    if any((source / "lessons").glob("[0-9][0-9]_*.ipynb")):
        write_student_copies(source / "lessons", Path(app.outdir) / FOLDER, bib=source / "references.bib")


def add_link(app, pagename, templatename, context, doctree) -> None:
    match = LESSON.match(pagename)
    if not match or "body" not in context:
        return
    target = context["pathto"](f"{FOLDER}/{match.group(1)}.ipynb", 1)
    link = (f'<p class="student-download"><a class="reference download" href="{html.escape(target)}" '
            f'download="{match.group(1)}.ipynb">Download this lesson\'s notebook</a> to run it yourself '
            f'(its student copy: plain notebook text, solutions folded and never run by Run All; see '
            f'<a href="{html.escape(context["pathto"]("setup"))}">Set up</a>).</p>')
    context["body"] = re.sub(r"(</h1>)", lambda found: found.group(1) + "\n" + link, context["body"], count=1)


def setup(app):
    app.connect("html-page-context", add_link)
    app.connect("build-finished", write_copies)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
