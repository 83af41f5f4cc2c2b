"""The kernel sandbox: the bwrap command line, what it binds, its environment, the refusal, a real kernel."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from grading_helpers import marked_processes

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


# What a hostile kernel tries (issue 27), each in its own cell; the grader runs them as root and as an
# ordinary user. DAEMON forks a process that leaves the kernel's session (setsid, double fork) to
# outlive the kernel and keep writing into its folder.
FORGED = "[E 2026-01-01 autograde] fercourse: FORGED grading stopped for all"
HOSTILE_CELLS = {
    "uid": "import os; print(os.getuid(), os.getgid())",
    "init_environ": "print(open('/proc/1/environ', 'rb').read().decode(errors='replace'))",
    "core_pattern": "open('/proc/sys/kernel/core_pattern', 'w')",
    "descriptors": f"""
import os
targets = {{}}
for fd in sorted(map(int, os.listdir('/proc/self/fd'))):
    try:
        targets[fd] = os.readlink(f'/proc/self/fd/{{fd}}')
        if not targets[fd].startswith(('socket:', 'anon_inode:', '/proc')):
            os.write(fd, b'\\n{FORGED}\\n')
    except OSError:
        pass
print('HELD', sorted(targets.values()))""",
    "capabilities": """
status = dict(line.split(':', 1) for line in open('/proc/self/status').read().splitlines())
print(status['CapEff'].strip(), status['CapBnd'].strip(), status['NoNewPrivs'].strip())""",
    "limits": "import resource\n"
              "print([resource.getrlimit(r)[0] for r in (resource.RLIMIT_AS, resource.RLIMIT_NPROC, "
              "resource.RLIMIT_FSIZE)])",
    "processes": """
import subprocess
children = []
try:
    for _ in range(200):
        children.append(subprocess.Popen(['sleep', '30']))
    print(len(children), 'started')
except OSError as error:
    print(len(children), 'started, then', type(error).__name__)
for child in children:
    child.kill()
    child.wait()""",
    "tmp": "handle = open('/tmp/fill', 'wb')\nfor _ in range(300): handle.write(bytes(2**20))",
    "dev_shm": "handle = open('/dev/shm/fill', 'wb')\nfor _ in range(300): handle.write(bytes(2**20))",
    "daemon": """
import os, subprocess, sys
LOOP = '''
import os, sys, time
if os.fork():
    os._exit(0)  # the second fork: the daemon's parent is gone at once
for _ in range(600):
    with open('heartbeat', 'a') as handle:
        handle.write('beat\\\\n')
    time.sleep(0.1)
'''
subprocess.Popen([sys.executable, '-c', LOOP, MARKER], start_new_session=True, stdin=subprocess.DEVNULL,
                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).wait()
import time; time.sleep(1); print('daemon started', os.path.getsize('heartbeat') > 0)""",
}
RUN_HOSTILE_CELLS = '''
import json, os, sys
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_notebook
from traitlets.config import Config
from fercourse.grading.plugins.sandbox import SandboxedKernelManager

work, cells = sys.argv[1], json.loads(sys.argv[2])
config = Config()
config.FercourseSandbox.max_processes = 60
config.FercourseSandbox.tmpfs_mb = 64
notebook = new_notebook(cells=[new_code_cell(code) for code in cells.values()])
NotebookClient(notebook, kernel_name="python3", kernel_manager_class=SandboxedKernelManager, config=config,
               resources={"metadata": {"path": work}}, allow_errors=True, timeout=120).execute()
report = {name: "".join(o.get("text") or f"{o.get('ename')}: {o.get('evalue')}" for o in cell.outputs)
          for name, cell in zip(cells, notebook.cells)}
print(json.dumps({"grader_uid": os.getuid(), **report}))
'''
ORDINARY_UID = 65534


def as_ordinary_user(argv: list[str], home: str) -> list[str]:
    """``argv`` run by root as the ordinary user 65534, with no capability left.

    The grader's Python may live in root's own 0700 home (pyenv, as on this machine): an
    ordinary instructor has their own, so root's home is replaced (for this process only, by a
    mount namespace that bwrap makes) by a traversable folder holding only the Python folders.
    """
    from fercourse.grading.plugins.sandbox_command import SETPRIV, traversable_parents

    pythons = [str(folder) for folder in python_folders() if Path("/root") in folder.parents]
    view = ["--perms", "0755", "--tmpfs", "/root"]
    for parent in traversable_parents(pythons, {"/", "/root"}):  # else bwrap copies their 0700
        view += ["--perms", "0755", "--dir", parent]
    for folder in pythons:
        view += ["--ro-bind", folder, folder]
    return [FercourseSandbox().executable(), "--dev-bind", "/", "/", *view, "--setenv", "HOME", home, "--",
            SETPRIV, f"--reuid={ORDINARY_UID}", f"--regid={ORDINARY_UID}", "--clear-groups",
            "--inh-caps=-all", "--bounding-set=-all", "--", *argv]


@pytest.mark.slow
@pytest.mark.parametrize("grader", ["root", "ordinary user"])
def test_a_hostile_kernel_gets_no_privilege_whoever_runs_the_grader(grader):
    import ast
    import json
    import shutil
    import subprocess
    import tempfile
    import time
    import uuid

    from fercourse.grading.plugins.sandbox_command import PASSED_ENV

    if grader == "root" and os.geteuid() != 0:
        pytest.skip("the grader is not root here")
    try:
        FercourseSandbox().check()
    except SandboxUnavailableError as error:
        pytest.skip(f"no sandbox on this machine: {error}")
    marker = f"fercourse-daemon-{uuid.uuid4().hex}"
    cells = {**HOSTILE_CELLS, "daemon": f"MARKER = {marker!r}\n{HOSTILE_CELLS['daemon']}"}
    # pytest's tmp_path lies in a 0700 folder of root: this one is reachable by the ordinary user
    shared = Path(tempfile.mkdtemp(prefix="fercourse-grader-"))
    try:
        shared.chmod(0o755)
        work, home = shared / "course" / "autograded" / "ada" / "a1", shared / "home"
        work.mkdir(parents=True)
        home.mkdir()
        (shared / "run.py").write_text(RUN_HOSTILE_CELLS)
        argv = [sys.executable, str(shared / "run.py"), str(work), json.dumps(cells)]
        ordinary = grader == "ordinary user" and os.geteuid() == 0
        if ordinary:
            for path in (shared / "course", shared / "course" / "autograded", work.parent, work, home):
                os.chown(path, ORDINARY_UID, ORDINARY_UID)
            argv = as_ordinary_user(argv, str(home))
        log = shared / "grader.log"  # the grader's standard error: what nbgrader's log would be
        environ = {**os.environ, "FERCOURSE_TEST_GRADER_TOKEN": "grader-token-77e1"}
        with log.open("wb") as stderr:
            result = subprocess.run(argv, stdout=subprocess.PIPE, stderr=stderr, stdin=subprocess.DEVNULL,
                                    env=environ, timeout=600, check=False)
        assert result.returncode == 0, log.read_text()[-3000:]
        report = json.loads(result.stdout.decode().splitlines()[-1])
        # the kernel has ended (the client shut it down): its daemon must be gone with it
        time.sleep(2)
        beats = (work / "heartbeat").stat().st_size
        time.sleep(1)
        assert marked_processes(marker) == [] and (work / "heartbeat").stat().st_size == beats
        grader_log = log.read_text()
    finally:
        shutil.rmtree(shared, ignore_errors=True)

    expected_uid = FercourseSandbox().uid if grader == "root" else (ORDINARY_UID if ordinary else os.getuid())
    assert (report["grader_uid"] == 0) == (grader == "root")
    assert report["uid"].split()[0] == str(expected_uid) != "0"
    if grader == "root":
        assert report["init_environ"].startswith("PermissionError")  # bwrap is root's, the kernel is not
    else:  # bwrap is the kernel's own user: readable, and it holds the kernel's allow-list only
        names = {pair.split("=", 1)[0] for pair in report["init_environ"].strip().split("\0") if pair}
        allowed = {"PATH", "HOME", "LANG", "TMPDIR", "PYTHONNOUSERSITE", "JPY_PARENT_PID", "VIRTUAL_ENV",
                   "PYTHONPATH", *PASSED_ENV}
        assert "PATH" in names and names <= allowed, names
    assert "grader-token-77e1" not in report["init_environ"]
    assert report["core_pattern"].startswith("OSError: [Errno 30] Read-only file system")
    held = ast.literal_eval(report["descriptors"].split("HELD ")[1].splitlines()[0])
    assert held and not any(target.startswith(("/dev/pts", "/dev/tty", str(shared))) for target in held)
    # the line reached the student's own output (ipykernel captures its descriptors 1 and 2), not the grader's
    assert FORGED in report["descriptors"]
    assert FORGED not in grader_log and FORGED not in "".join(result.stdout.decode().splitlines()[:-1])
    assert report["capabilities"] == "0000000000000000 0000000000000000 1\n"  # none, none to regain
    assert report["limits"] == f"[{8192 * 2**20}, 60, {1024 * 2**20}]\n"
    assert "started, then BlockingIOError" in report["processes"]
    assert report["tmp"].startswith("OSError: [Errno 28] No space left on device")
    assert report["dev_shm"].startswith("OSError: [Errno 28] No space left on device")
    assert report["daemon"] == "daemon started True\n"
