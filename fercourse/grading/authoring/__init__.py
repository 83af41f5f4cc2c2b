"""Instructor commands that prepare a course: ``grade setup``, ``grade new`` and ``grade calibrate``.

:mod:`~fercourse.grading.authoring.setup` releases the data and pins the answer key and its split;
:mod:`~fercourse.grading.authoring.template` copies the assignment template files
(``templates/``) and registers the assignment in ``assignments.json`` and ``thresholds.json``
(:mod:`~fercourse.grading.authoring.course_files`); :mod:`~fercourse.grading.authoring.calibrate`
measures the reference solution and the dummy and sets the tiers.
"""
