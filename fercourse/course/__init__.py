"""Course tooling: the lesson runner and the book builder, the only code that knows about a course checkout.

- :mod:`~fercourse.course.checkout`: :func:`find_course_root`, the checkout holding the working
  directory (or ``--course DIR``); never the package's own location.
- :mod:`~fercourse.course.runner`: :func:`run_lessons`, papermill over ``notebooks/NN_*.ipynb``.
- :mod:`~fercourse.course.book`: :func:`build_book`, the Jupyter Book build.
"""
