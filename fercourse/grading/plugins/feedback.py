"""The plug-in of ``nbgrader generate_feedback``: hand back the HTML report and nothing else.

nbgrader copies every file of ``autograded/<student>/<assignment>/`` into the feedback, including
files the student's code wrote during autograde (a ``submission.csv`` that a cheater filled from
the key, say) and the course data; :class:`FeedbackHtmlOnly` removes everything but the reports
before nbgrader writes them, and removes links and other non-regular entries without following
them. (The copy itself follows links: that is why autograde leaves no link in ``autograded/``,
:class:`~fercourse.grading.plugins.preprocessors.ApplyScores`.)
"""

from __future__ import annotations

from pathlib import Path

from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import NbGraderPreprocessor

from fercourse.grading.plugins.state import notebook_of
from fercourse.grading.student_files import classify, remove_refused


class FeedbackHtmlOnly(NbGraderPreprocessor):
    """In ``GenerateFeedback``: keep only the HTML reports in a student's feedback folder.

    A report is ``<notebook>.html`` for a notebook of the student's autograded folder; any other
    file, whatever its name (``key.html`` included), is removed.
    """

    def preprocess(self, nb, resources):
        student, assignment, _ = notebook_of(resources)
        coursedir = CourseDirectory(config=self.config)
        folder = Path(coursedir.format_path(coursedir.feedback_directory, student, assignment))
        autograded = Path(coursedir.format_path(coursedir.autograded_directory, student, assignment))
        reports = {f"{relative[:-len('.ipynb')]}.html" for relative in classify(autograded).regular
                   if relative.endswith(".ipynb") and "/" not in relative}
        for relative, reason in remove_refused(folder).items():
            self.log.warning("fercourse: removed %s (%s) from %s's feedback", relative, reason, student)
        for relative, path in classify(folder).regular.items():
            if relative not in reports:
                path.unlink()
        for path in sorted(folder.rglob("*"), reverse=True):  # emptied folders, deepest first
            if path.is_dir() and not path.is_symlink() and not any(path.iterdir()):
                path.rmdir()
        return nb, resources
