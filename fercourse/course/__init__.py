"""Course tooling: the lesson runner and the book builder, the only code that knows about a course checkout.

- :mod:`~fercourse.course.runner`: :func:`run_lessons`, papermill over ``notebooks/NN_*.ipynb``.
- :mod:`~fercourse.course.book`: :func:`build_book`, the Jupyter Book build.
"""
