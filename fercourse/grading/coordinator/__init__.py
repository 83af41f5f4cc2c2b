"""``fercourse grade autograde``: grade a class in parallel on this machine or on a Dask cluster.

:mod:`~fercourse.grading.coordinator.parallel` runs on the instructor's machine and alone writes
the gradebook (:mod:`~fercourse.grading.coordinator.course` reads and writes the course);
:mod:`~fercourse.grading.coordinator.task` runs on a worker: nbgrader's own autograde of one
student in a scratch course.
"""
