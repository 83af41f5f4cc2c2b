"""The kernel sandbox: the bwrap command line, what it binds, its environment, the refusal, a real kernel."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from fercourse.grading.plugins.sandbox import (
    NO_SANDBOX_ENV,
    FercourseSandbox,
    SandboxUnavailableError,
    refusal,
)
from fercourse.grading.plugins.sandbox_command import (
    SANDBOX_HOME,
    Limits,
    kernel_environment,
    python_folders,
    sandbox_command,
)

KERNEL = ["/venv/bin/python", "-m", "ipykernel_launcher", "-f", "/run/k/kernel.json"]


def command(**overrides) -> list[str]:
    arguments = dict(bwrap="/usr/bin/bwrap", workdir="/course/autograded/ada/a1", runtime_dir="/run/k",
                     read_only=[Path("/venv"), Path("/checkout/fercourse")],
                     env={"PATH": "/venv/bin:/usr/bin", "HOME": SANDBOX_HOME},
                     limits=Limits(memory_mb=4096, max_processes=256, tmpfs_mb=64))
    return sandbox_command(KERNEL, **{**arguments, **overrides})


def pairs(args: list[str], option: str, width: int = 2) -> list[tuple[str, ...]]:
    """The arguments that follow each occurrence of ``option``."""
    return [tuple(args[i + 1:i + 1 + width]) for i, arg in enumerate(args) if arg == option]


def test_command_isolates_namespaces_and_clears_the_environment():
    args = command()
    options = args[:args.index("--")]
    for flag in ("--unshare-net", "--unshare-pid", "--unshare-ipc", "--die-with-parent", "--new-session",
                 "--clearenv"):
        assert flag in options
    assert pairs(args, "--cap-drop", 1) == [("ALL",)]
    assert "--unshare-user" in options  # not root: a user namespace of the grader's own user
    assert args[0] == "/usr/bin/bwrap"
    assert pairs(args, "--setenv") == [("PATH", "/venv/bin:/usr/bin"), ("HOME", SANDBOX_HOME)]
    assert options.index("--clearenv") < options.index("--setenv")


def test_only_the_working_folder_and_runtime_folder_are_writable():
    args = command()
    assert pairs(args, "--bind") == [("/course/autograded/ada/a1", "/course/autograded/ada/a1"),
                                     ("/run/k", "/run/k")]
    assert args[args.index("--chdir") + 1] == "/course/autograded/ada/a1"
    # the root and every bind under it read-only once mounted; /tmp and HOME private and empty
    assert pairs(args, "--remount-ro", 1) == [("/",)]
    assert args.index("--remount-ro") > max(i for i, a in enumerate(args) if a in ("--bind", "--ro-bind"))
    assert pairs(args, "--tmpfs", 1) == [("/tmp",), (SANDBOX_HOME,), ("/dev/shm",)]
    assert pairs(args, "--size", 1) == [(str(64 * 2**20),)] * 3  # bounded, as memory
    assert args.index("--bind") > args.index("--tmpfs")  # a workdir under /tmp stays visible
    assert ("/proc/sys", "/proc/sys") in pairs(args, "--ro-bind")


def test_a_course_under_tmp_gets_read_only_parents():
    args = command(workdir="/tmp/pytest-7/e2e/course/autograded/ada/a1",
                   runtime_dir="/tmp/fercourse-kernel-x")
    assert pairs(args, "--tmpfs", 1) == [("/tmp",), (SANDBOX_HOME,), ("/dev/shm",), ("/tmp/pytest-7",)]
    assert pairs(args, "--remount-ro", 1) == [("/tmp/pytest-7",), ("/",)]
    assert args.index("--remount-ro") > args.index("--bind")


def test_python_and_system_folders_are_read_only_and_nothing_of_the_course():
    args = command()
    read_only = [source for source, target in pairs(args, "--ro-bind") if source == target]
    assert len(read_only) == len(pairs(args, "--ro-bind"))
    assert {"/venv", "/checkout/fercourse", "/usr", "/etc/ld.so.cache"} <= set(read_only)
    assert "/etc" not in read_only and "/etc/shadow" not in read_only and "/sys" not in read_only
    assert not any(path in ("/", "/course", "/checkout", "/root", "/home") for path in read_only)


def test_limits_run_inside_the_sandbox_before_the_kernel():
    args = command()
    assert args[args.index("--"):] == ["--", "/usr/bin/prlimit", f"--as={4096 * 2**20}", "--nproc=256", "--",
                                       *KERNEL]
    assert command(limits=Limits())[-len(KERNEL) - 1:] == ["--", *KERNEL]


def test_a_root_grader_runs_the_kernel_as_an_unprivileged_user_with_no_capabilities():
    args = command(run_as=(65534, 65534))
    options = args[:args.index("--")]
    assert "--unshare-user" not in options  # bwrap as root maps only to root: switch users instead
    assert pairs(options, "--cap-add", 1) == [("CAP_SETUID",), ("CAP_SETGID",), ("CAP_SETPCAP",)]
    assert args[args.index("--") + 1:args.index("/usr/bin/prlimit")] == [
        "/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all",
        "--bounding-set=-all", "--"]


def test_python_folders_bind_the_environment_and_the_package_not_their_parents():
    import fercourse

    folders = python_folders()
    package = Path(fercourse.__file__).parent
    assert package.resolve() in [f.resolve() for f in folders] or any(f in package.parents for f in folders)
    assert Path(sys.prefix).resolve() in [f.resolve() for f in folders] or any(
        f in Path(sys.prefix).resolve().parents for f in folders)
    assert Path(sys.base_prefix).resolve() in [f.resolve() for f in folders]
    checkout = package.parent
    assert checkout not in folders and Path.home() not in folders and Path("/") not in folders
    assert not any(f in checkout.parents or f == checkout for f in folders if f != package)


def test_kernel_environment_passes_only_what_the_kernel_needs(tmp_path):
    package = tmp_path / "checkout" / "fercourse"
    environ = {"PATH": "/anything", "HOME": "/root", "FERCOURSE_ANSWER_KEY": "/root/key.csv",
               "AWS_SECRET_ACCESS_KEY": "x", "TF_CPP_MIN_LOG_LEVEL": "2", "MPLBACKEND": "Agg",
               "PYTHONPATH": f"{tmp_path / 'checkout'}:/root/private:{package / 'sub'}"}
    env = kernel_environment([package], environ)
    assert env["HOME"] == SANDBOX_HOME and env["TF_CPP_MIN_LOG_LEVEL"] == "2" and env["MPLBACKEND"] == "Agg"
    assert env["PATH"].startswith(str(Path(sys.executable).parent) + ":")
    assert "FERCOURSE_ANSWER_KEY" not in env and "AWS_SECRET_ACCESS_KEY" not in env
    assert env["PYTHONPATH"] == f"{tmp_path / 'checkout'}:{package / 'sub'}"  # /root/private is not bound
    assert "PYTHONPATH" not in kernel_environment([package], {"PYTHONPATH": "/root/private"})


def test_sandbox_is_on_unless_opted_out(monkeypatch):
    monkeypatch.delenv(NO_SANDBOX_ENV, raising=False)
    assert FercourseSandbox().enabled
    monkeypatch.setenv(NO_SANDBOX_ENV, "1")
    assert not FercourseSandbox().enabled
    monkeypatch.setenv(NO_SANDBOX_ENV, "0")
    assert FercourseSandbox().enabled


def test_missing_bwrap_is_refused_with_the_way_to_opt_out(tmp_path):
    missing = str(tmp_path / "bwrap")
    with pytest.raises(SandboxUnavailableError, match=f"bubblewrap not found \\('{missing}'"):
        FercourseSandbox(bwrap=missing).check()
    message = refusal("bubblewrap not found")
    assert "\n" not in message and "--FercourseSandbox.enabled=False" in message
    assert f"{NO_SANDBOX_ENV}=1" in message and "apt-get install bubblewrap" in message


def test_a_bwrap_that_fails_is_refused_with_its_exit_status(tmp_path):
    fake = tmp_path / "bwrap"
    fake.write_text("#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\nexit 1\n")
    fake.chmod(0o755)
    with pytest.raises(SandboxUnavailableError, match="could not create namespaces \\(exit 1: bwrap: No "
                                                      "permissions to create new namespace\\)"):
        FercourseSandbox(bwrap=str(fake)).check()


@pytest.mark.slow
def test_a_sandboxed_kernel_sees_its_folder_and_nothing_else(tmp_path):
    import nbformat
    from nbclient import NotebookClient
    from nbformat.v4 import new_code_cell, new_notebook

    from fercourse.grading.plugins.sandbox import SandboxedKernelManager

    try:
        FercourseSandbox().check()
    except SandboxUnavailableError as error:
        pytest.skip(f"no sandbox on this machine: {error}")
    work = tmp_path / "course" / "autograded" / "ada" / "a1"
    work.mkdir(parents=True)
    (tmp_path / "course" / "thresholds.json").write_text("{}")
    cells = ["open('written.txt', 'w').write('ok')",
             f"open({str(tmp_path / 'course' / 'thresholds.json')!r})",
             f"open({str(tmp_path / 'course' / 'thresholds.json')!r}, 'w')",
             "import os; print(sorted(os.listdir(os.path.expanduser('~'))), os.getcwd())",
             "import socket; socket.create_connection(('127.0.0.1', 22), timeout=5)",
             "import resource; print(resource.getrlimit(resource.RLIMIT_AS)[0] // 2**20)",
             "print(open('/proc/self/status').read().split('CapEff:')[1].split()[0])",
             "import os; print(os.getuid())",
             "open('/proc/1/environ').read()"]
    notebook = new_notebook(cells=[new_code_cell(code) for code in cells])
    client = NotebookClient(notebook, kernel_name="python3", kernel_manager_class=SandboxedKernelManager,
                            resources={"metadata": {"path": str(work)}}, allow_errors=True, timeout=120)
    client.execute()
    outputs = [[o.get("text") or f"{o.get('ename')}: {o.get('evalue')}" for o in cell.outputs]
               for cell in nbformat.from_dict(notebook).cells]
    assert (work / "written.txt").read_text() == "ok"
    assert outputs[1][0].startswith("FileNotFoundError: [Errno 2] No such file or directory")
    assert outputs[2][0].startswith("OSError: [Errno 30] Read-only file system")
    assert outputs[3] == [f"['.ipython'] {work}\n"]  # HOME holds only the kernel's own profile
    assert outputs[4][0].startswith("ConnectionRefusedError")  # a private loopback: nothing listens
    assert outputs[5] == [f"{FercourseSandbox().memory_mb}\n"]
    assert outputs[6] == ["0000000000000000\n"]  # no capabilities, even when the grader runs as root
    assert outputs[7] == [f"{FercourseSandbox().uid if os.geteuid() == 0 else os.getuid()}\n"]
    assert outputs[8][0].startswith("PermissionError")  # bwrap's environment: not the kernel's to read
    assert (tmp_path / "course" / "thresholds.json").read_text() == "{}"


def test_sandboxed_execute_is_how_the_manager_reaches_nbgrader():
    from nbgrader.preprocessors import Execute
    from traitlets.config import Config

    from fercourse.grading.plugins.sandbox import SandboxedExecute, SandboxedKernelManager

    config = Config()
    config.Execute.kernel_manager_class = SandboxedKernelManager
    config.Execute.timeout = 7
    # nbgrader's Execute passes kernel_manager_class as a keyword, which wins over the config
    assert Execute(config=config).kernel_manager_class is not SandboxedKernelManager
    sandboxed = SandboxedExecute(config=config)
    assert sandboxed.kernel_manager_class is SandboxedKernelManager and sandboxed.timeout == 7
    config.FercourseSandbox.enabled = False
    assert SandboxedExecute(config=config).kernel_manager_class is not SandboxedKernelManager
