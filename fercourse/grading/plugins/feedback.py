"""The plug-in of ``nbgrader generate_feedback``: hand back the HTML report and nothing else.

nbgrader copies every file of ``autograded/<student>/<assignment>/`` into the feedback, including
files the student's code wrote during autograde (a ``submission.csv`` that a cheater filled from
the key, say) and the course data; :class:`FeedbackHtmlOnly` removes them before the report is
written.
"""

from __future__ import annotations

from pathlib import Path

from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import NbGraderPreprocessor

from fercourse.grading.plugins.state import notebook_of


class FeedbackHtmlOnly(NbGraderPreprocessor):
    """In ``GenerateFeedback``: keep only the HTML reports in a student's feedback folder.

    nbgrader copies every file of ``autograded/<student>/<assignment>/`` into the feedback,
    including files the student's code wrote during autograde (a ``submission.csv`` that a
    cheater filled from the key, say) and the course data. This removes them before the
    report is written.
    """

    def preprocess(self, nb, resources):
        student, assignment, _ = notebook_of(resources)
        coursedir = CourseDirectory(config=self.config)
        folder = Path(coursedir.format_path(coursedir.feedback_directory, student, assignment))
        for path in sorted(folder.rglob("*"), reverse=True):  # files before their folders
            if path.is_dir() and not path.is_symlink():
                if not any(path.iterdir()):
                    path.rmdir()
            elif path.suffix != ".html":
                path.unlink()
        return nb, resources


