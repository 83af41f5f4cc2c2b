"""What grading records for later: the public/private split, the verdicts, pseudonyms, the leaderboard.

No nbgrader at import. :mod:`~fercourse.grading.records.split` (written by ``grade setup``, read by
the plug-ins), :mod:`~fercourse.grading.records.verdicts` (written after each kernel, read by the
leaderboard), :mod:`~fercourse.grading.records.pseudonyms` and
:mod:`~fercourse.grading.records.leaderboard` (``fercourse grade leaderboard``).
"""
