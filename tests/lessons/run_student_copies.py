"""Run All on student copies, headless, as a student's JupyterLab would: a script for a student venv.

Run by a student environment's own Python (tests/lessons/test_student_env.py), so it imports only
what that environment has: nbformat and nbclient (JupyterLab brings both), no papermill. Each
notebook's code cells run in order in a fresh ``python3`` kernel whose working directory is the
notebook's folder; a cell that raises stops that notebook, as Run All does. Overrides, if any, go
in a cell right after the ``parameters`` cell (what papermill does; a student edits that cell).

Usage: ``python run_student_copies.py FOLDER OUT [--set quick=True] [--timeout 1800] NAME...``;
prints one JSON line per notebook: name, seconds, error (null when it finished), code cells run.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path


def run_one(path: Path, out: Path, overrides: list[str], timeout: int) -> dict:
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    notebook = nbformat.read(path, as_version=4)
    if overrides:
        at = next((index for index, cell in enumerate(notebook.cells)
                   if "parameters" in cell.metadata.get("tags", [])), None)
        if at is None:
            raise ValueError(f"{path}: no cell tagged 'parameters' to override")
        notebook.cells.insert(at + 1, nbformat.v4.new_code_cell(
            "\n".join(overrides), metadata={"tags": ["injected-parameters"]}))
    client = NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    started, error = time.monotonic(), None
    try:
        client.execute()
    except (CellExecutionError, CellTimeoutError, DeadKernelError) as failure:
        error = str(failure)[-2000:]
    seconds = time.monotonic() - started
    nbformat.write(notebook, out / path.name)
    ran = sum(1 for cell in notebook.cells if cell.cell_type == "code" and cell.get("execution_count"))
    return {"name": path.name, "seconds": round(seconds, 1), "error": error, "code_cells_run": ran}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("names", nargs="+")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds per cell")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for name in args.names:
        print(json.dumps(run_one(args.folder / name, args.out, args.set, args.timeout)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
