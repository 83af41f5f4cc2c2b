"""Edit the course's instructor files in place, keeping their comments and layout.

``grade new`` adds an assignment to two dictionaries in ``nbgrader_config.py``
(``c.Autograde.exclude_overwriting`` and, for a Keras assignment, ``c.SnapshotSubmission.model_files``)
and an entry to ``thresholds.json``; ``grade calibrate`` writes tiers and what they were measured
from into ``thresholds.json``. The config is edited as text at the position Python's parser
reports, so every comment and line break stays; the thresholds file is rewritten in its own
layout (one assignment per block, tier lists on one line, numbers as written).
"""

from __future__ import annotations

import ast
import json
from decimal import Decimal
from pathlib import Path

from fercourse.errors import InputError
from fercourse.files import atomic_write_text


def add_to_config_dict(text: str, target: str, key: str, value: object, *, where: str = "nbgrader_config.py"
                       ) -> str:
    """``text`` with ``key: value`` appended to the dict literal assigned to ``target``.

    Parameters
    ----------
    text : str
        The config file's source.
    target : str
        The assigned name, e.g. ``"c.Autograde.exclude_overwriting"``; it must be assigned exactly
        once, to a ``{...}`` literal with string keys.
    key, value
        The new entry; ``value`` is written with ``repr`` (lists and strings of a config).

    Raises
    ------
    InputError
        ``target`` is missing, assigned more than once, not a dict literal, or already holds ``key``.

    Examples
    --------
    >>> print(add_to_config_dict('x = {"a": [1],  # why\\n     "b": [2]}\\n', "x", "c", [3]))
    x = {"a": [1],  # why
         "b": [2],
         "c": [3]}
    <BLANKLINE>
    """
    try:
        module = ast.parse(text)
    except SyntaxError as error:
        raise InputError(f"{where}: line {error.lineno}: not valid Python ({error.msg}); not editing "
                         "it") from None
    found = [node for node in module.body if isinstance(node, ast.Assign) and len(node.targets) == 1
             and ast.unparse(node.targets[0]) == target]
    if len(found) != 1:
        raise InputError(f"{where}: expected exactly one `{target} = {{...}}`, found {len(found)}: add it by "
                         "hand (see autograder/nbgrader_config.py) and run the command again")
    literal = found[0].value
    if not isinstance(literal, ast.Dict) or not all(isinstance(k, ast.Constant) and isinstance(k.value, str)
                                                    for k in literal.keys):
        raise InputError(f"{where}: line {found[0].lineno}: `{target}` is not a dict literal with string "
                         f"keys ({{\"assignment\": ...}}); add {key!r} to it by hand")
    if key in [k.value for k in literal.keys]:
        raise InputError(f"{where}: line {found[0].lineno}: `{target}` already has an entry {key!r}")
    lines = text.splitlines(keepends=True)

    def offset(lineno: int, col: int) -> int:  # ast columns count UTF-8 bytes
        return sum(len(line) for line in lines[:lineno - 1]) + len(lines[lineno - 1].encode()[:col].decode())

    entry = f"{key!r}: {value!r}".replace("'", '"')
    if not literal.keys:  # `{}`: fill it
        start = offset(literal.lineno, literal.col_offset)
        end = offset(literal.end_lineno, literal.end_col_offset)
        new = text[:start] + "{" + entry + "}" + text[end:]
    else:
        first, last = literal.keys[0], literal.values[-1]
        indent = " " * len(lines[first.lineno - 1].encode()[:first.col_offset].decode())
        # right after the last value: a trailing comma, if any, now follows the new entry
        at = offset(last.end_lineno, last.end_col_offset)
        new = text[:at] + ",\n" + indent + entry + text[at:]
    ast.parse(new)  # never write a config that no longer parses
    return new


def edit_config(path: str | Path, target: str, key: str, value: object) -> None:
    """Append ``key: value`` to the dict literal ``target`` in the config file ``path`` (see
    :func:`add_to_config_dict`)."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    atomic_write_text(path, add_to_config_dict(text, target, key, value, where=str(path)))


def read_thresholds_table(path: str | Path) -> dict:
    """The thresholds file as nested dicts, numbers kept as written (``Decimal``), for rewriting."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no thresholds file (expected the course's instructor-only "
                                "thresholds.json)")
    try:
        table = json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
    except json.JSONDecodeError as error:
        raise InputError(f"{path}: line {error.lineno}: not valid JSON ({error.msg})") from None
    if not isinstance(table, dict):
        raise InputError(f"{path}: expected a JSON object "
                         "{\"assignment\": {\"sample\": [t1, t2, t3], ...}}")
    return table


def format_thresholds(table: dict) -> str:
    """The thresholds file's text: objects one key a line, indented by 2; lists on one line.

    Examples
    --------
    >>> print(format_thresholds({"a1": {"sample": [Decimal("0.30"), 0.4], "note": None}}), end="")
    {
      "a1": {
        "sample": [0.30, 0.4],
        "note": null
      }
    }
    """
    def dump(value, depth: int) -> str:
        if isinstance(value, dict):
            if not value:
                return "{}"
            pad = "  " * (depth + 1)
            items = [f"{pad}{json.dumps(str(k))}: {dump(v, depth + 1)}" for k, v in value.items()]
            return "{\n" + ",\n".join(items) + "\n" + "  " * depth + "}"
        if isinstance(value, list):
            return "[" + ", ".join(dump(v, depth + 1) for v in value) + "]"
        if isinstance(value, Decimal):
            return str(value)
        return json.dumps(value, ensure_ascii=False)

    return dump(table, 0) + "\n"


def write_thresholds_table(path: str | Path, table: dict) -> None:
    """Write ``table`` to the thresholds file in :func:`format_thresholds`'s layout (atomically)."""
    atomic_write_text(Path(path), format_thresholds(table))
