"""nbgrader configuration for the fercourse course. Instructor-only: never release this folder's root.

Run every nbgrader command from this folder (``cd autograder``). The answer key is NOT named
here: pass its path to ``nbgrader autograde`` in the environment variable FERCOURSE_ANSWER_KEY;
fercourse.grading removes it from the environment before any student kernel starts and refuses
a key whose SHA-256 differs from the pin that ``fercourse grade setup`` writes to
answer_key.pin.json. See README.md (the instructor guide) for the whole flow and threat model.
"""

import json
from pathlib import Path

from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import (
    AssignLatePenalties,
    CheckCellMetadata,
    ClearHiddenTests,
    ClearOutput,
    GetGrades,
    IgnorePattern,
    LimitOutput,
    OverwriteCells,
    OverwriteKernelspec,
    SaveAutoGrades,
)

from fercourse.grading.instructor_files import read_assignments
from fercourse.grading.plugins import (
    ApplyScores,
    CheckInstructorFiles,
    DeduplicateGradeIds,
    FeedbackHtmlOnly,
    GuardInstructorFiles,
    HideHiddenTests,
    LibraryNoiseToStdout,
    LimitOutputSize,
    SandboxedExecute,
    SnapshotSubmission,
)

c = get_config()  # noqa: F821 - provided by nbgrader when it loads this file
here = Path(__file__).resolve().parent

c.CourseDirectory.root = str(here)
c.CourseDirectory.course_id = "fercourse"
c.CourseDirectory.db_url = f"sqlite:///{here / 'gradebook.db'}"
# Data, models and caches never travel as "extra files" of a submission back into the gradebook.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", ".cache"]
c.CourseDirectory.max_file_size = 400_000  # kB, for the exchange: a FER2013 train.csv is 237 MB

# Per assignment, in assignments.json (data that `fercourse grade new` adds to): the files the student
# submits, which must never be replaced by an instructor's copy in source/, and for a Keras assignment
# the model file that must predict the submitted CSV (SnapshotSubmission.model_files, below).
assignments = read_assignments(here / "assignments.json")
c.Autograde.exclude_overwriting = {name: entry["submitted_files"] for name, entry in assignments.items()}

# Students come from the submitted/ folders; no roster needed for autograde.
c.Autograde.create_student = True

# Per-cell limit. With fit_or_load nothing trains at autograde; 300 s leaves room for the a1
# baselines on full FER2013 on a laptop. A cell past it is interrupted (CellTimeoutError, 0 points
# for that cell) and the rest of the notebook still runs and is graded.
c.Execute.timeout = 300
c.Execute.interrupt_on_timeout = True

# Score the submission outside the student's kernel: snapshot + score before execution,
# write the verdicts into the graded cells after it. SandboxedExecute is nbgrader's Execute with
# the kernel in a bubblewrap sandbox (README.md, "Sandbox"; c.FercourseSandbox.* options; it
# refuses to start where the sandbox cannot run). GuardInstructorFiles/CheckInstructorFiles stop
# grading when a kernel changed this file, the thresholds, the pin, the key, the gradebook or
# another student's folder.
# DeduplicateGradeIds: nbgrader's DeduplicateIds, but a repeated grade id no longer stops the whole run.
c.Autograde.sanitize_preprocessors = [ClearOutput, DeduplicateGradeIds, OverwriteKernelspec, OverwriteCells,
                                      CheckCellMetadata, SnapshotSubmission, GuardInstructorFiles]
# ApplyScores also removes every link (or FIFO, device, hard link) the kernel left in its folder,
# before nbgrader writes or chmods anything there; LimitOutputSize cuts outputs of any length;
# LibraryNoiseToStdout moves TensorFlow's C++ log lines and library warnings off standard error, which
# nbgrader scores as a failed cell wherever they land.
c.Autograde.autograde_preprocessors = [SandboxedExecute, CheckInstructorFiles, ApplyScores, LimitOutputSize,
                                       LibraryNoiseToStdout,
                                       IgnorePattern, ClearMetadataPreprocessor, LimitOutput, SaveAutoGrades,
                                       AssignLatePenalties, CheckCellMetadata]
# Feedback shows the autograded notebook: drop outputs that repeat hidden test code, strip the hidden
# tests, and hand back only the HTML report (not the data, nor files the kernel wrote).
c.GenerateFeedback.preprocessors = [GetGrades, HideHiddenTests, ClearHiddenTests, CSSHTMLHeaderPreprocessor,
                                    FeedbackHtmlOnly]
c.ClearHiddenTests.enforce_metadata = False  # feedback cells keep their grade metadata; strip anyway

c.FercourseGrader.thresholds_file = "thresholds.json"
# a2's accuracy points need the submitted cnn.keras to predict the submitted CSV (on 99% of the test
# rows by default, c.SnapshotSubmission.min_model_agreement). The files are read before the kernel
# starts; the model is loaded in this process (never in the kernel) while the kernel runs, after
# fercourse.grading.plugins.model_check allowed every object its config names.
c.SnapshotSubmission.model_files = {name: entry["model_file"] for name, entry in assignments.items()
                                    if "model_file" in entry}
pin = here / "answer_key.pin.json"  # written by `fercourse grade setup`; not in git
if pin.is_file():
    pinned = json.loads(pin.read_text())
    c.FercourseGrader.answer_key_sha256 = pinned["sha256"]
    c.FercourseGrader.dataset = pinned["dataset"]
    c.FercourseGrader.split_sha256 = pinned.get("split_sha256", "")  # none: every test row public
