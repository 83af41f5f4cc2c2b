"""What a student's kernel imports from the grader: light, no nbgrader, no TensorFlow at import.

The assignments' hidden score cells call :func:`scored_outside_kernel` (the cell's real output
is written outside the kernel at autograde, by :mod:`fercourse.grading.plugins`), and a2's
architecture check calls :func:`~fercourse.grading.kernel.architecture.cnn_problems` (Keras is
imported inside the function, when the kernel already has it).
"""

from __future__ import annotations

from fercourse.grading.kernel.architecture import MIN_CONVOLUTIONS, cnn_problems

FORMAT_CELL = "submission_format"
"""grade_id of the cell whose points say whether submission.csv follows the contract."""
ACCURACY_CELL = "accuracy_tiers"
"""grade_id of the partial-credit cell: one point per accuracy tier cleared."""


def scored_outside_kernel(cell: str = ACCURACY_CELL) -> str:
    """What a hidden score cell prints when run in the notebook; at autograde its output is replaced.

    Parameters
    ----------
    cell : str
        The cell's grade_id.

    Returns
    -------
    str
        One line for the student.

    Examples
    --------
    >>> scored_outside_kernel()
    'accuracy_tiers: scored by the autograder from the submission.csv you submit'
    """
    return f"{cell}: scored by the autograder from the submission.csv you submit"


__all__ = ["ACCURACY_CELL", "FORMAT_CELL", "MIN_CONVOLUTIONS", "cnn_problems", "scored_outside_kernel"]
