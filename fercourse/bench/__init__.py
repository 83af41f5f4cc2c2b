"""Benchmarks, all run as ``fercourse bench NAME``; each prints its figures and ratios measured in one run.

- :mod:`~fercourse.bench.load`: ``bench load``, the seed courses' CSV parse against
  :func:`fercourse.data.load`.
- :mod:`~fercourse.bench.detect`: ``bench detect``, face detection and classification latency.
- :mod:`~fercourse.bench.grade`: ``bench grade``, nbgrader autograde per submission.
- :mod:`~fercourse.bench.autograde`: ``bench autograde``, serial nbgrader against parallel autograde.
- :mod:`~fercourse.bench.recipes`: ``bench recipes``, training recipes at one budget.
- :mod:`~fercourse.bench.lookup`: ``bench lookup``, how often a pixel lookup in the public data finds
  a released test face and its label.
"""
