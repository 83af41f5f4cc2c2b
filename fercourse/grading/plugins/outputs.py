"""What a student's outputs may put in the autograded notebook and the feedback: bounded, and never a
hidden test's code.

:class:`LimitOutputSize` (after :class:`~fercourse.grading.plugins.preprocessors.ApplyScores` in
``c.Autograde.autograde_preprocessors``) cuts every output text and rich value over ``max_chars``
(a 30 MB HTML display would otherwise be kept whole in the gradebook's notebook and in the
feedback; nbgrader's own ``LimitOutput`` counts lines, and one line can be any length).
:class:`HideHiddenTests` (in ``c.GenerateFeedback.preprocessors``, before nbgrader's
``ClearHiddenTests``) removes, from the student's feedback, every output that repeats a line of a
hidden test: a hook the student registers in an early cell sees the source of every later cell and
can print it anywhere. An output that encodes the source (reversed, base64) is not recognised.
"""

from __future__ import annotations

import re

from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Integer

from fercourse.grading.kernel import ACCURACY_CELL, FORMAT_CELL

HIDDEN_BEGIN, HIDDEN_END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
MIN_HIDDEN_LINE = 12
"""Hidden-test lines shorter than this (``pass``, ``)``) are too common to recognise in an output."""


def cut(text: str, max_chars: int) -> str:
    """``text``, or its first ``max_chars`` characters and a line saying how much was cut.

    Examples
    --------
    >>> cut("x" * 10, 4)
    'xxxx\\n[output cut: 10 characters; the grader keeps at most 4]'
    """
    if len(text) <= max_chars:
        return text
    return (f"{text[:max_chars]}\n[output cut: {len(text):,} characters; the grader keeps at most "
            f"{max_chars:,}]")


class LimitOutputSize(NbGraderPreprocessor):
    """Cut each output's text and rich values to ``c.LimitOutputSize.max_chars`` characters."""

    max_chars = Integer(100_000, help="Largest output text or rich value kept (characters; an image counts "
                                      "its base64 text). Longer ones are cut, with a line saying so."
                        ).tag(config=True)

    def preprocess(self, nb, resources):
        for cell in nb.cells:
            for output in cell.get("outputs", []):
                if isinstance(output.get("text"), str):
                    output.text = cut(output.text, self.max_chars)
                data = output.get("data", {})
                for mime, value in list(data.items()):
                    text = "".join(value) if isinstance(value, list) else value
                    if isinstance(text, str) and len(text) > self.max_chars:
                        del data[mime]  # half an HTML page or an image is no use: say what was there
                        data["text/plain"] = (f"[{mime} output cut: {len(text):,} characters; the grader "
                                              f"keeps at most {self.max_chars:,}]")
                if output.get("output_type") == "error":
                    output.evalue = cut(str(output.get("evalue", "")), self.max_chars)
                    output.traceback = [cut(line, self.max_chars) for line in output.get("traceback", [])]
        return nb, resources


def hidden_lines(nb) -> set[str]:
    """The lines between the hidden-test markers of every cell, stripped, long enough to recognise."""
    lines: set[str] = set()
    for cell in nb.cells:
        inside = False
        for line in cell.source.splitlines():
            stripped = line.strip()
            if stripped == HIDDEN_BEGIN:
                inside = True
            elif stripped == HIDDEN_END:
                inside = False
            elif inside and len(stripped) >= MIN_HIDDEN_LINE:
                lines.add(stripped)
    return lines


def output_text(output) -> str:
    """Every text an output carries: stream text, rich values, error name, value and traceback."""
    parts = [str(output.get("text", "")), str(output.get("evalue", "")),
             *map(str, output.get("traceback", []))]
    for value in output.get("data", {}).values():
        parts.append("".join(value) if isinstance(value, list) else str(value))
    return "\n".join(parts)


class HideHiddenTests(NbGraderPreprocessor):
    """In ``GenerateFeedback``, before ``ClearHiddenTests``: drop outputs that repeat hidden test code.

    The two cells scored outside the kernel keep their outputs: the grader wrote them.
    """

    def preprocess(self, nb, resources):
        from nbformat.v4 import new_output

        secret = hidden_lines(nb)
        if not secret:
            return nb, resources
        for cell in nb.cells:
            if cell.cell_type != "code" or cell.metadata.get("nbgrader", {}).get("grade_id") in (
                    FORMAT_CELL, ACCURACY_CELL):
                continue
            kept = []
            for output in cell.get("outputs", []):
                if any(line in output_text(output) for line in secret):
                    kept.append(new_output("stream", name="stdout",
                                           text="[output removed from the feedback: it repeated hidden test "
                                                "code]\n"))
                else:
                    kept.append(output)
            cell.outputs = kept
        return nb, resources


#: Lines that libraries, not the student's code, write to standard error: TensorFlow's C++ log lines
#: (``E0000 00:00:1796661695.403332  2 cuda_platform.cc:52] failed call to cuInit ...``, absl's notice
#: before its set-up, the CPU-feature note) and Python warnings with the source line under them.
LIBRARY_NOISE = re.compile(
    r"^(?:[IWEF]\d{4} \d\d:\d\d:\d+\.\d+\s+\d+ [\w.\-]+:\d+\] .*"
    r"|WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    r"|To enable the following instructions: .* rebuild TensorFlow with the appropriate compiler flags\."
    r"|\S+\.py:\d+: \w*Warning: .*"
    r"|  \S.*)$")


def split_noise(text: str) -> tuple[str, str]:
    """``text`` of a standard-error stream split into (library noise, the rest), line by line.

    An indented line counts as noise only right after a warning line (the source line Python prints
    under it).

    Examples
    --------
    >>> noise, rest = split_noise("E0000 00:00:1796661695.403332       2 cuda_platform.cc:52] failed call "
    ...                           "to cuInit: INTERNAL\\nmy own message\\n")
    >>> noise.startswith("E0000"), rest
    (True, 'my own message\\n')
    """
    noise, rest, after_warning = [], [], False
    for line in text.splitlines(keepends=True):
        bare = line.rstrip("\n")
        matched = LIBRARY_NOISE.match(bare) is not None and (not bare.startswith("  ") or after_warning)
        (noise if matched else rest).append(line)
        after_warning = matched and "Warning: " in bare
    return "".join(noise), "".join(rest)


class LibraryNoiseToStdout(NbGraderPreprocessor):
    """Move library noise on standard error (:data:`LIBRARY_NOISE`) to standard output in every cell.

    nbgrader gives a graded code cell 0 points when any of its outputs is on standard error. A
    TensorFlow C++ log line (the CUDA probe's ``failed call to cuInit`` on a machine without a GPU)
    or a library's warning arrives there whenever the library decides, and ipykernel attributes it to
    whichever cell runs at that moment: measured in CI under load, an honest a4 submission lost its
    ``augmentation_keeps_labels`` point to the cuInit line. The text stays visible (as standard
    output); a real failure is an ``error`` output and is not touched, and anything else the student
    writes to standard error still counts as nbgrader counts it.
    """

    def preprocess(self, nb, resources):
        for cell in nb.cells:
            outputs = []
            for output in cell.get("outputs", []):
                if output.get("output_type") == "stream" and output.get("name") == "stderr":
                    noise, rest = split_noise(output.get("text", ""))
                    if noise:
                        outputs.append(nbformat_stream("stdout", noise))
                    if rest:
                        outputs.append(nbformat_stream("stderr", rest))
                    continue
                outputs.append(output)
            if "outputs" in cell:
                cell.outputs = outputs
        return nb, resources


def nbformat_stream(name: str, text: str):
    """A stream output of ``text`` on ``name`` (``stdout`` or ``stderr``)."""
    import nbformat

    return nbformat.v4.new_output("stream", name=name, text=text)
