"""Grading: tamper-resistant scoring for the nbgrader course, and course setup.

- :mod:`~fercourse.grading.preprocessors`: the nbgrader preprocessors that score ``submission.csv``
  outside the student's kernel (:class:`SnapshotSubmission`, :class:`ApplyScores`,
  :class:`FeedbackHtmlOnly`), the tiers and the key handling.
- :mod:`~fercourse.grading.sandbox`: :class:`SandboxedExecute`, nbgrader's ``Execute`` with every student
  kernel in a bubblewrap sandbox (options ``c.FercourseSandbox.*``).
- :mod:`~fercourse.grading.integrity`: :class:`GuardInstructorFiles` and :class:`CheckInstructorFiles`,
  which stop autograde when a student's kernel changed the config, thresholds, pin, key, gradebook or
  another student's folder.
- :mod:`~fercourse.grading.model_check`: loads a submitted Keras model without running student code
  and checks that it predicts the submitted CSV (a2's accuracy points depend on it).
- :mod:`~fercourse.grading.setup`: :func:`setup_course`, which releases the data to every assignment
  and pins the answer key and its public/private split.
- :mod:`~fercourse.grading.split`: the test ids split into public and private parts, seeded by the salt.
- :mod:`~fercourse.grading.verdicts`: the accuracies the grader records per submission (public, private,
  all rows), read by :mod:`~fercourse.grading.leaderboard`, which ranks the class (public or final)
  into a static HTML page and a CSV; :mod:`~fercourse.grading.pseudonyms` names students on it.

``autograder/nbgrader_config.py`` and the assignments import from here.
"""

from fercourse.grading.integrity import CheckInstructorFiles, GradingStopped, GuardInstructorFiles
from fercourse.grading.preprocessors import (
    ACCURACY_CELL,
    FORMAT_CELL,
    KEY_ENV,
    ApplyScores,
    FeedbackHtmlOnly,
    FercourseGrader,
    SnapshotSubmission,
    Verdict,
    grade_submission_bytes,
    load_thresholds,
    scored_outside_kernel,
    take_key_path,
    tiers_cleared,
)
from fercourse.grading.sandbox import FercourseSandbox, SandboxedExecute, SandboxedKernelManager
from fercourse.grading.setup import PIN_FILE, CourseData, setup_course

__all__ = ["ACCURACY_CELL", "FORMAT_CELL", "KEY_ENV", "PIN_FILE", "ApplyScores", "CheckInstructorFiles",
           "CourseData", "FeedbackHtmlOnly", "FercourseGrader", "FercourseSandbox", "GradingStopped",
           "GuardInstructorFiles", "SandboxedExecute", "SandboxedKernelManager", "SnapshotSubmission",
           "Verdict", "grade_submission_bytes", "load_thresholds", "scored_outside_kernel", "setup_course",
           "take_key_path", "tiers_cleared"]
