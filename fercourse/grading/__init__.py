"""Grading: the nbgrader course's tamper-resistant scoring, split by where each part runs.

- ``fercourse.grading`` (this module) and :mod:`~fercourse.grading.kernel`: what a student's kernel
  imports (:func:`scored_outside_kernel`, :func:`cnn_problems`); light, never imports nbgrader.
- :mod:`~fercourse.grading.plugins`: inside ``nbgrader autograde`` and ``generate_feedback``: the
  preprocessors that score outside the kernel, the sandbox, the integrity check, the model check,
  output limits and the process's one grading state.
- :mod:`~fercourse.grading.coordinator`: ``fercourse grade autograde``, a class in parallel or on
  Dask (``parallel``, ``course``), one student per worker task (``task``).
- :mod:`~fercourse.grading.records`: what grading leaves for later: the public/private split, the
  verdict files, pseudonyms, the leaderboard.
- :mod:`~fercourse.grading.authoring`: instructor commands ``grade setup``, ``grade new`` (template
  files) and ``grade calibrate``.
- Shared by all of them: :mod:`~fercourse.grading.instructor_files` (the one list of instructor
  files), :mod:`~fercourse.grading.student_files` (which files under ``submitted/`` and
  ``autograded/`` may be read: regular, one name, never a link) and
  :mod:`~fercourse.grading.digests` (salted digests, fingerprints).
"""

from fercourse.grading.kernel import ACCURACY_CELL, FORMAT_CELL, cnn_problems, scored_outside_kernel

__all__ = ["ACCURACY_CELL", "FORMAT_CELL", "cnn_problems", "scored_outside_kernel"]
