"""Start a Jupyter server (JupyterLab, Notebook 7 or Voila) for a browser test, and stop it after.

One context manager for every browser test that needs a server: :func:`jupyter_server` picks a
free port, starts ``python -m <command>`` in its own process group with private Jupyter folders,
waits until it answers, yields its URL and, on the way out, stops that process group only (the
server and the kernels it started) and keeps the server's log beside the screenshots.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]

#: ``python -m`` arguments of each front end (before the notebook's name and the port), and the page that
#: opens a notebook there. No token, so pages open without one: the server listens on 127.0.0.1 only, for
#: the length of one test.
FRONTENDS = {
    "voila": (["voila", "{notebook}", "--no-browser", "--Voila.ip=127.0.0.1"], ""),
    "jupyterlab": (["jupyter", "lab", "--no-browser", "--ServerApp.ip=127.0.0.1", "--IdentityProvider.token=",
                    "--ServerApp.disable_check_xsrf=True", "--LabApp.news_url=None", "--allow-root"],
                   "lab/tree/{notebook}"),
    "notebook7": (["jupyter", "notebook", "--no-browser", "--ServerApp.ip=127.0.0.1",
                   "--IdentityProvider.token=", "--ServerApp.disable_check_xsrf=True", "--allow-root"],
                  "notebooks/{notebook}"),
}


def frontend(name: str, notebook: str) -> tuple[list[str], str]:
    """(``python -m`` arguments that serve ``notebook`` with front end ``name``, the page that opens it)."""
    arguments, page = FRONTENDS[name]
    return [part.format(notebook=notebook) for part in arguments], page.format(notebook=notebook)


def artifacts_dir() -> Path:
    """Where browser tests keep screenshots and logs: ``$FERCOURSE_TEST_ARTIFACTS``, else
    ``runs/test-artifacts/``."""
    folder = Path(os.environ.get("FERCOURSE_TEST_ARTIFACTS", REPO_ROOT / "runs" / "test-artifacts"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_http(url: str, process: subprocess.Popen, timeout: float) -> None:
    """Return once ``url`` answers (any HTTP status); raise if ``process`` exits or ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[:3]} exited with status {process.returncode} "
                               f"before serving {url}")
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except urllib.error.HTTPError:
            return  # any HTTP answer (even 403 or 404 for this path) means the server is up
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"{process.args[:3]} did not answer at {url} within {timeout:.0f} s")


@contextmanager
def jupyter_server(arguments: list[str], folder: Path, *, log_name: str,
                   python: str | os.PathLike | None = None, environment: dict[str, str] | None = None,
                   timeout: float = 120) -> Iterator[str]:
    """Serve ``folder`` with ``python -m <arguments>``; yields the server's URL (ending in ``/``).

    Parameters
    ----------
    arguments : list of str
        What follows ``python -m``, e.g. from :func:`frontend` (the port is added here).
    folder : Path
        The server's working directory and root; its Jupyter config and runtime folders go in
        ``folder/.jupyter-test/`` so nothing from the user's own setup is read.
    log_name : str
        The server's log is kept as ``<artifacts_dir()>/<log_name>.log``.
    python : path, optional
        The interpreter (default: this one); a student venv's serves from that venv, and its
        kernels are that venv's too.
    environment : dict, optional
        The server's whole environment (default: this process's, with the checkout on
        ``PYTHONPATH``); ``MPLBACKEND`` and ``PYTEST_CURRENT_TEST`` are dropped so figures and
        descriptor 2 show in the notebook, as for a student.
    """
    private = folder / ".jupyter-test"
    log_path = private / "server.log"
    private.mkdir(parents=True, exist_ok=True)
    env = dict(environment) if environment is not None else {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    env.update(TF_CPP_MIN_LOG_LEVEL="2", JUPYTER_CONFIG_DIR=str(private / "config"),
               JUPYTER_RUNTIME_DIR=str(private / "runtime"), JUPYTER_DATA_DIR=str(private / "data"))
    env.pop("MPLBACKEND", None)
    # ipykernel forwards what a kernel writes to descriptor 2 (C++ libraries' lines) to the notebook,
    # as a student sees it, except under pytest: not for these kernels either
    env.pop("PYTEST_CURRENT_TEST", None)
    port = free_port()
    log = log_path.open("w")
    command = [str(python or sys.executable), "-m", *arguments, f"--port={port}"]
    process = subprocess.Popen(command, cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT,
                               start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}/"
        wait_for_http(url + "static/", process, timeout)  # not a notebook: Voila would start a kernel
        yield url
    finally:
        if process.poll() is None:  # stop only this server's own process group (server and kernels)
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)
        log.close()
        shutil.copy(log_path, artifacts_dir() / f"{log_name}.log")


def sync_api_timeout():
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    return PlaywrightTimeout


def run_all_cells(page) -> None:
    """JupyterLab / Notebook 7: wait for an idle kernel, then Run > Run All Cells, as a student would."""
    page.locator(".jp-CodeCell").first.wait_for(state="visible", timeout=120_000)
    select_kernel = page.locator(".jp-Dialog").get_by_role("button", name="Select")
    try:  # JupyterLab sometimes asks which kernel to start: the notebook's own, python3
        select_kernel.wait_for(state="visible", timeout=5_000)
        select_kernel.click()
    except sync_api_timeout():
        pass
    page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").first.wait_for(state="attached",
                                                                                      timeout=120_000)
    prompt = page.locator(".jp-CodeCell .jp-InputPrompt").first
    for _ in range(3):  # a click landing while the page is still settling can be lost: check and retry
        page.locator(".lm-MenuBar-item", has_text="Run").first.click()
        page.locator(".lm-Menu-item[data-command='runmenu:run-all']").click()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if prompt.inner_text().strip() not in ("[ ]:", ""):  # "[*]:" running, "[1]:" done
                return
            page.wait_for_timeout(250)
    raise AssertionError("Run All Cells did not start the notebook's cell")
