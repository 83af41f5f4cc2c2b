"""Check after each student that their kernel changed none of the instructor's files.

Defence in depth behind the sandbox (:mod:`fercourse.grading.plugins.sandbox`), and the only defence
when it is turned off: :class:`GuardInstructorFiles` (last of
``c.Autograde.sanitize_preprocessors``) records, before the student's kernel starts,

- the SHA-256 of the instructor files (:mod:`fercourse.grading.instructor_files`:
  ``nbgrader_config.py``, ``assignments.json``, ``thresholds.json``, ``answer_key.pin.json``), the
  answer key and the public/private split next to it,
- a digest of every row of the gradebook,
- a cheap signature (path, size, mtime; no content hashes: a class's autograded folders hold
  gigabytes of data) of every file under ``source/``, ``release/``, ``submitted/``,
  ``autograded/`` and ``feedback/``, except the kernel's own working folder;

:class:`CheckInstructorFiles` (right after the ``Execute`` preprocessor) records the same again.
Any difference stops the whole autograde run with a message naming the student and what
changed; that student's autograded notebook is not written.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from nbgrader.coursedir import CourseDirectory

from fercourse.grading.digests import file_digest, stat_signature
from fercourse.grading.instructor_files import course_root_files, key_files
from fercourse.grading.plugins.preprocessors import FercourseGrader
from fercourse.grading.plugins.state import notebook_of, state_for

SIGNED_FOLDERS = ("source", "release", "submitted", "autograded", "feedback")


class GradingStopped(SystemExit):
    """Stops ``nbgrader autograde`` as a whole (nbgrader catches every ``Exception`` per student).

    The message has been logged by then; the exit status is 1, as nbgrader's own ``fail``.
    """


@dataclass(frozen=True)
class Snapshot:
    """What the instructor's files looked like at one moment (see the module docstring)."""

    digests: dict[str, str]
    gradebook: str
    files: dict[str, tuple[int, int]] = field(repr=False)


def gradebook_digest(db_url: str) -> str:
    """SHA-256 over every row of every table of the gradebook, in a fixed order."""
    from sqlalchemy import create_engine, inspect, text

    engine = create_engine(db_url)
    digest = hashlib.sha256()
    try:
        with engine.connect() as connection:
            for table in sorted(inspect(connection).get_table_names()):
                digest.update(f"\0table {table}\0".encode())
                for row in connection.execute(text(f'SELECT * FROM "{table}" ORDER BY 1')):
                    digest.update(repr(tuple(row)).encode())
    finally:
        engine.dispose()
    return digest.hexdigest()


def folder_signatures(root: Path, skip: Path) -> dict[str, tuple[int, int]]:
    """``relative path -> (size, mtime_ns)`` of every file and link under the signed folders, but ``skip``."""
    signatures = {}
    for top in SIGNED_FOLDERS:
        for folder, dirs, files in os.walk(root / top):
            here = Path(folder)
            if here == skip:
                dirs[:] = []
                continue
            for name in [*files, *(d for d in dirs if (here / d).is_symlink())]:
                path = here / name
                signature = stat_signature(path)
                if signature is not None:
                    signatures[path.relative_to(root).as_posix()] = signature
            signatures[here.relative_to(root).as_posix() + "/"] = (len(files) + len(dirs), 0)
    return signatures


def take_snapshot(coursedir: CourseDirectory, student: str, assignment: str,
                  files: dict[str, Path]) -> Snapshot:
    """The instructor files' state now; ``files`` maps a name shown in messages to a file to hash."""
    root = Path(coursedir.root).resolve()
    own = Path(coursedir.format_path(coursedir.autograded_directory, student, assignment)).resolve()
    return Snapshot({name: file_digest(path) for name, path in files.items()},
                    gradebook_digest(coursedir.db_url), folder_signatures(root, own))


def changes(before: Snapshot, after: Snapshot) -> list[str]:
    """What differs between two snapshots, one phrase per change (empty: nothing changed)."""
    found = [f"{name} (SHA-256 now {after.digests.get(name)})" for name, digest in before.digests.items()
             if after.digests.get(name) != digest]
    if after.gradebook != before.gradebook:
        found.append("the gradebook's rows")
    for path in sorted(set(before.files) | set(after.files)):
        if before.files.get(path) != after.files.get(path):
            state = ("removed" if path not in after.files else "added" if path not in before.files
                     else "modified")
            found.append(f"{path} ({state})")
    return found


def stop_grading(preprocessor, resources, message: str) -> None:
    """Log ``message``, remove the student's autograded folder (so a re-run grades them) and stop."""
    preprocessor.log.error(message)
    info = resources.get("nbgrader", {})
    if "student" in info and "assignment" in info:
        coursedir = CourseDirectory(config=preprocessor.config)
        folder = coursedir.format_path(coursedir.autograded_directory, info["student"], info["assignment"])
        shutil.rmtree(folder, ignore_errors=True)
    raise GradingStopped(1)


class _Guard(FercourseGrader):
    def watched_files(self, resources) -> dict[str, Path]:
        """The instructor files (:mod:`fercourse.grading.instructor_files`) of this course and key."""
        files = course_root_files(self.course_root(), self.thresholds_file)
        key_path = state_for(resources).key_path
        if key_path is not None:
            files.update({name: path for name, path in key_files(key_path).items()
                          if path == key_path or path.exists()})
        return files

    def snapshot(self, resources) -> Snapshot:
        info = resources["nbgrader"]
        return take_snapshot(CourseDirectory(config=self.config), info["student"], info["assignment"],
                             self.watched_files(resources))


class GuardInstructorFiles(_Guard):
    """Before the student's kernel starts: record the instructor files (last sanitize preprocessor)."""

    def preprocess(self, nb, resources):
        state_for(resources).snapshots[notebook_of(resources)] = self.snapshot(resources)
        return nb, resources


class CheckInstructorFiles(_Guard):
    """After the student's kernel ran: stop grading if any instructor file changed (right after Execute)."""

    def preprocess(self, nb, resources):
        student = resources["nbgrader"]["student"]
        before = state_for(resources).snapshots.pop(notebook_of(resources), None)
        if before is None:
            stop_grading(self, resources, "fercourse: CheckInstructorFiles found no snapshot: add "
                         "fercourse.grading.plugins.GuardInstructorFiles at the end of "
                         "c.Autograde.sanitize_preprocessors")
        found = changes(before, self.snapshot(resources))
        if found:
            shown = "; ".join(found[:10]) + (f"; and {len(found) - 10} more" if len(found) > 10 else "")
            stop_grading(self, resources, f"fercourse: grading stopped: instructor files changed while "
                         f"{student}'s notebook ran: {shown}. {student} is not graded; restore the files "
                         "(the gradebook from a backup) and inspect the notebook before grading again")
        return nb, resources

