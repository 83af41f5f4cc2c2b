"""Student copies of the lessons: plain Jupyter Markdown, solutions folded away and never run.

The lessons are written for the book (Jupyter Book's MyST: ``{glue:text}`` roles, ``:::{admonition}``
fences, ``{cite}`` roles), which JupyterLab and Notebook 7 print as raw markup. A student copy is the
same notebook rewritten for them:

- every ``{glue:text}`name:format``` becomes the value of the course's run of that lesson (read from
  the executed copy), marked as such; each markdown cell that quotes such values says where they come
  from, and the student's own run prints its own values in the cells that compute them;
- admonitions become a bold title over a block quote, and a ``:class: dropdown`` one (a written
  solution) a collapsed ``<details>`` block;
- ``{cite}`key``` becomes "Author et al. (year)" from the book's ``references.bib``;
- links to book pages (``../results.md``) become the page's name in the book;
- solution code cells (tagged ``solution``) become a collapsed ``<details>`` block holding the code,
  so Run All never executes them; the student copies the code into a cell when they want it;
- outputs, papermill's injected-parameters cell and the runner's build note are dropped;
- the first code cell that imports Keras or TensorFlow imports them quietly first
  (:data:`QUIET_IMPORT`): a student's Jupyter kernel forwards TensorFlow's C++ start-up lines to the
  notebook, where they print as a red block (the book's runner keeps them in its kernel log).

Examples
--------
>>> markdown_for_jupyter("Human accuracy is 65 % {cite}`goodfellow2013challenges`.",
...                      citations={"goodfellow2013challenges": "Goodfellow et al. (2013)"})
'Human accuracy is 65 % (Goodfellow et al., 2013).'
>>> print(markdown_for_jupyter(":::{admonition} Exercise 1.1\\nCount the faces.\\n:::"))
**Exercise 1.1**
<BLANKLINE>
> Count the faces.
>>> markdown_for_jupyter("peaks at row {glue:text}`peak:d`", glue={"peak": "40"})
'peaks at row **40**'
"""

from __future__ import annotations

import ast
import os
import re
from pathlib import Path

__all__ = ["QUIET_IMPORT", "SOLUTION_TAG", "glue_values", "markdown_for_jupyter", "read_citations",
           "student_notebook", "write_student_copies"]

#: The tag of a lesson's solution code cells: folded (input and output) in the book, never run in a
#: student copy.
SOLUTION_TAG = "solution"
#: Put before a student copy's first ``import keras`` / ``import tensorflow``.
QUIET_IMPORT = ("from fercourse.quiet import import_tensorflow_quietly\n\n"
                "import_tensorflow_quietly()  # keeps TensorFlow's start-up lines out of the notebook\n\n")
_TENSORFLOW_IMPORT = re.compile(r"^(?:import|from) (?:keras|tensorflow)\b", re.MULTILINE)
_GLUE_PREFIX = "application/papermill.record/"
_GLUE_ROLE = re.compile(r"\{glue(?::text)?\}`([A-Za-z0-9_]+)(?::([^`]*))?`")
_CITE_ROLE = re.compile(r"\{cite(:[pt])?\}`([^`]+)`")
_BOOK_LINK = re.compile(r"\[([^\]]+)\]\((?:\.\./)?([a-z_]+)\.md(?:#[^)]*)?\)")
_FENCE_OPEN = re.compile(r"^(:{3,}|`{3,})\{([a-z-]+)\}\s*(.*)$")


def glue_values(executed) -> dict[str, str]:
    """The text of every value an executed lesson glued (myst-nb's ``glue``), by name."""
    values: dict[str, str] = {}
    for cell in executed.cells:
        for output in cell.get("outputs", []):
            name = output.get("metadata", {}).get("scrapbook", {}).get("name")
            data = output.get("data", {})
            text = data.get(f"{_GLUE_PREFIX}text/plain", data.get("text/plain"))
            if name and text is not None:
                values[name] = text
    return values


def _format_glued(text: str, spec: str | None) -> str:
    """A glued value as myst-nb's ``{glue:text}`` shows it: ``spec`` applied to the value."""
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text
    if spec:
        try:
            return format(value, spec)
        except (TypeError, ValueError):
            return str(value)
    return str(value)


def read_citations(bib_path: str | os.PathLike) -> dict[str, str]:
    """``{key: "Goodfellow et al. (2013)"}`` for every entry of a BibTeX file (first author's surname)."""
    text = Path(bib_path).read_text(encoding="utf-8")
    citations = {}
    for match in re.finditer(r"@\w+\{([^,\s]+),(.*?)\n\}", text, flags=re.DOTALL):
        key, body = match.group(1), match.group(2)
        author = re.search(r"author\s*=\s*\{(.*?)\},?\s*\n\s*\w+\s*=", body + "\nend = ", re.DOTALL)
        year = re.search(r"year\s*=\s*\{?(\d{4})", body)
        field = author.group(1).strip() if author else ""
        if field.startswith("{"):  # {European Parliament and Council ...}: one institution, kept whole
            names = [field.strip("{}")]
            first = names[0]
        else:
            names = [name.strip() for name in re.split(r"\s+and\s+", field)] if field else []
            first = names[0].split(",")[0].strip("{} ") if names else key
            if names and "," not in names[0]:
                first = names[0].strip("{}").split()[-1] if names[0].strip("{}").split() else key
        others = f" and {names[1].split(',')[0]}" if len(names) == 2 else ""
        who = first + (" et al." if len(names) > 2 else others)
        citations[key] = f"{who} ({year.group(1)})" if year else who
    return citations


def _cite(match: re.Match, citations: dict[str, str]) -> str:
    """``{cite:t}`` as "Goodfellow et al. (2013)", ``{cite}``/``{cite:p}`` as "(Goodfellow et al., 2013)"."""
    kind, keys = match.groups()
    texts = [citations.get(key.strip(), key.strip()) for key in keys.split(",")]
    if kind == ":t":
        return "; ".join(texts)
    return "(" + "; ".join(re.sub(r" \((\d{4})\)$", r", \1", text) for text in texts) + ")"


def _admonitions(markdown: str) -> str:
    """Admonition fences as plain Markdown: a bold title over a block quote, or a ``<details>`` dropdown."""
    lines, out, index = markdown.splitlines(), [], 0
    while index < len(lines):
        opened = _FENCE_OPEN.match(lines[index])
        if not opened:
            out.append(lines[index])
            index += 1
            continue
        fence, kind, title = opened.groups()
        body, index, options = [], index + 1, {}
        while index < len(lines) and re.match(r"^:([a-z-]+):\s*(.*)$", lines[index]):
            name, value = re.match(r"^:([a-z-]+):\s*(.*)$", lines[index]).groups()
            options[name] = value
            index += 1
        while index < len(lines) and lines[index].strip() != fence:
            body.append(lines[index])
            index += 1
        index += 1  # the closing fence
        title = title.strip() or kind.capitalize()
        inner = _admonitions("\n".join(body)).strip("\n")
        if "dropdown" in options.get("class", ""):
            out += [f"<details><summary><b>{title}</b> (click to show)</summary>", "", inner, "",
                    "</details>"]
        else:
            out += [f"**{title}**", ""] + [f"> {line}" if line else ">" for line in inner.splitlines()]
    return "\n".join(out)


def markdown_for_jupyter(markdown: str, *, glue: dict[str, str] | None = None,
                         citations: dict[str, str] | None = None) -> str:
    """One markdown cell rewritten from the book's MyST into Markdown that JupyterLab renders.

    Glue roles with a value in ``glue`` become that value in bold; without one, the glued name in
    code font. Citations use ``citations`` (key -> text), else the key.
    """
    glue, citations = glue or {}, citations or {}

    def glued(match: re.Match) -> str:
        name, spec = match.groups()
        if name in glue:
            return f"**{_format_glued(glue[name], spec)}**"
        return f"`{name}`"

    text = _GLUE_ROLE.sub(glued, markdown)
    text = _CITE_ROLE.sub(lambda match: _cite(match, citations), text)
    text = _BOOK_LINK.sub(lambda match: f"{match.group(1)} (in the course book)", text)
    return _admonitions(text)


_NOTE_HERE = "<!-- fercourse: note -->"


def _mark_note(source: str) -> str:
    """``source`` with a marker where the note on its glued values goes: under the paragraphs that quote
    them, above the first heading after the last one (a cell may go on with the next section), else at
    the end."""
    last = list(_GLUE_ROLE.finditer(source))[-1].end()
    heading = re.search(r"^#+ ", source[last:], re.MULTILINE)
    if heading is None:
        return source.rstrip("\n") + f"\n\n{_NOTE_HERE}"
    at = last + heading.start()
    return source[:at].rstrip("\n") + f"\n\n{_NOTE_HERE}\n\n" + source[at:]


def _source(cell) -> str:
    return cell.source if isinstance(cell.source, str) else "".join(cell.source)


def student_notebook(notebook, *, glue: dict[str, str] | None = None,
                     citations: dict[str, str] | None = None, glue_source: str | None = None):
    # Over 60 lines: one pass over the cells, a short branch per kind of MyST it rewrites.
    """The student copy of one lesson (an ``nbformat`` notebook; the argument is not changed).

    Parameters
    ----------
    notebook : nbformat.NotebookNode
        The lesson, as committed or as executed by the runner.
    glue : dict, optional
        Glued values by name (:func:`glue_values` of the executed lesson).
    citations : dict, optional
        Citation texts by BibTeX key (:func:`read_citations`).
    glue_source : str, optional
        Where the glued values come from, e.g. the runner's build note; said under each markdown cell
        that quotes them.
    """
    import copy

    import nbformat

    notebook = copy.deepcopy(notebook)
    cells, pending_title, quiet = [], None, False
    for cell in notebook.cells:
        tags = cell.metadata.get("tags", [])
        if "injected-parameters" in tags or "build-note" in tags:
            continue
        if cell.cell_type == "code" and SOLUTION_TAG in tags:
            title = pending_title or "Solution"
            if pending_title is not None:
                cells.pop()
            title = "Solution code" if title == "Solution" else title
            code = _source(cell).rstrip()
            cells.append(nbformat.v4.new_markdown_cell(
                f"<details><summary><b>{title}</b> (click to show; Run All never runs it: copy it into a "
                f"code cell to try it)</summary>\n\n```python\n{code}\n```\n\n</details>",
                metadata={"tags": [SOLUTION_TAG]}))
            pending_title = None
            continue
        pending_title = None
        if cell.cell_type == "markdown":
            source = _source(cell)
            names = _GLUE_ROLE.findall(source)
            marked = _mark_note(source) if names else source
            text = markdown_for_jupyter(marked, glue=glue, citations=citations)
            if names and glue:
                where = (glue_source or "the course's run of this lesson").strip().strip("*").rstrip(".")
                text = text.replace(_NOTE_HERE, f"<sub>Numbers in bold: {where}. Your run computes its own "
                                                "in the code cells above.</sub>")
            elif names:
                text = text.replace(_NOTE_HERE, "<sub>Names in code font are values your run computes in "
                                                "the code cells above (each is passed to <code>glue</code> "
                                                "there).</sub>")
            cell.source = text
            stripped = source.strip()
            if stripped.startswith("Solution") and "(click to show)" in stripped and "\n" not in stripped:
                pending_title = stripped.replace(" (click to show)", "").rstrip(":.")
        elif cell.cell_type == "code":
            if not quiet and _TENSORFLOW_IMPORT.search(_source(cell)):
                cell.source, quiet = QUIET_IMPORT + _source(cell), True
            cell.outputs, cell.execution_count = [], None
            cell.metadata.pop("execution", None)
            cell.metadata.pop("papermill", None)
        cells.append(cell)
    notebook.cells = cells
    notebook.metadata.pop("papermill", None)
    return notebook


def _build_note(executed) -> str | None:
    for cell in executed.cells:
        if "build-note" in cell.metadata.get("tags", []):
            return _source(cell).strip().strip("*").replace("This page was run", "the course's run of this "
                                                            "lesson", 1)
    return None


def write_student_copies(lessons: str | os.PathLike, out: str | os.PathLike, *,
                         bib: str | os.PathLike | None = None) -> list[Path]:
    """Write the student copy of every lesson in ``lessons`` (``NN_name.ipynb``) to ``out``.

    ``lessons`` is either the executed lessons (``book/lessons/``: their glued values are written
    in) or the committed ones (``notebooks/``: the prose names each value instead). ``bib`` is the
    book's ``references.bib`` for citations. Returns the files written.
    """
    import nbformat

    from fercourse.course.runner import LESSON_PATTERN

    lessons, out = Path(lessons), Path(out)
    paths = sorted(path for path in lessons.glob("*.ipynb") if LESSON_PATTERN.match(path.name))
    if not paths:
        raise FileNotFoundError(f"{lessons}: no lessons (expected files named like 01_eda.ipynb)")
    citations = read_citations(bib) if bib is not None and Path(bib).is_file() else {}
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for path in paths:
        executed = nbformat.read(path, as_version=4)
        copy = student_notebook(executed, glue=glue_values(executed), citations=citations,
                                glue_source=_build_note(executed))
        nbformat.write(copy, out / path.name)
        written.append(out / path.name)
    return written
