"""The nbgrader plug-ins: what runs inside ``nbgrader autograde`` and ``nbgrader generate_feedback``.

``autograder/nbgrader_config.py`` imports these classes; nothing in a student's kernel does.

- :mod:`~fercourse.grading.plugins.preprocessors`: :class:`SnapshotSubmission` (scores
  ``submission.csv`` before the kernel starts) and :class:`ApplyScores` (writes the verdicts into
  the graded cells after it ran), with :mod:`~fercourse.grading.plugins.scoring` (the verdicts,
  no nbgrader) and :mod:`~fercourse.grading.plugins.model_check` (a submitted Keras model must
  predict the submitted CSV), and :class:`DeduplicateGradeIds` (a repeated or hand-edited graded
  cell fails its student only, never the whole run).
- :mod:`~fercourse.grading.plugins.sandbox`: :class:`SandboxedExecute`, nbgrader's ``Execute`` with
  every student kernel in a bubblewrap sandbox, as an unprivileged user
  (:mod:`~fercourse.grading.plugins.sandbox_command`: the command line and the limits).
- :mod:`~fercourse.grading.plugins.integrity`: :class:`GuardInstructorFiles` and
  :class:`CheckInstructorFiles`, which stop grading when a kernel changed an instructor file.
- :mod:`~fercourse.grading.plugins.outputs`: :class:`LimitOutputSize` (outputs of bounded size) and
  :class:`HideHiddenTests` (no output repeating hidden test code in the feedback).
- :mod:`~fercourse.grading.plugins.feedback`: :class:`FeedbackHtmlOnly` for ``generate_feedback``.
- :mod:`~fercourse.grading.plugins.state`: the one :class:`GradingState` a process keeps.
"""

from fercourse.grading.plugins.feedback import FeedbackHtmlOnly
from fercourse.grading.plugins.integrity import CheckInstructorFiles, GradingStopped, GuardInstructorFiles
from fercourse.grading.plugins.outputs import HideHiddenTests, LibraryNoiseToStdout, LimitOutputSize
from fercourse.grading.plugins.preprocessors import (
    ApplyScores,
    DeduplicateGradeIds,
    FercourseGrader,
    SnapshotSubmission,
)
from fercourse.grading.plugins.sandbox import FercourseSandbox, SandboxedExecute, SandboxedKernelManager

__all__ = ["ApplyScores", "CheckInstructorFiles", "DeduplicateGradeIds", "FeedbackHtmlOnly",
           "FercourseGrader", "FercourseSandbox", "GradingStopped", "GuardInstructorFiles", "HideHiddenTests",
           "LibraryNoiseToStdout", "LimitOutputSize", "SandboxedExecute", "SandboxedKernelManager",
           "SnapshotSubmission"]
