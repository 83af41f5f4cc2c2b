"""The bubblewrap command line of a sandboxed student kernel, and the kernel's whole environment.

The kernel sees only its working folder (read-write), a private runtime folder (the connection
file and its sockets), the Python environment and the fercourse package (read-only), the system
folders needed to run and a few files of ``/etc`` (read-only), a private ``/proc`` with
``/proc/sys`` read-only, a private ``/dev``, and an empty ``/tmp`` and ``HOME`` of bounded size.
It has no network and its own PID and IPC namespaces, no capabilities and a new session; its
environment is an allow-list (:func:`kernel_environment`). It runs as an unprivileged host user
(:func:`identity_arguments`: the user ``nobody`` by default when the grader is root, or a user
namespace of the grader's own user otherwise), so the limits of :class:`Limits` (address space,
processes, file size) hold, and ``/proc/1/environ`` (bwrap's) is not readable.
:mod:`~fercourse.grading.plugins.sandbox` starts it.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

MIB = 1024 * 1024
# --cap-drop ALL: bwrap run by root otherwise leaves the kernel every capability (measured:
# CapEff 000001fffeffffff), enough to undo the read-only mounts.
SANDBOX_FLAGS = ("--unshare-net", "--unshare-pid", "--unshare-ipc", "--die-with-parent", "--new-session",
                 "--cap-drop", "ALL")
# /etc entries a Python kernel needs (loader cache, users, time zone, certificates, fonts,
# Debian's alternatives links); not the rest of /etc (shadow, the machine's secrets).
ETC_ENTRIES = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "passwd", "group", "nsswitch.conf", "hosts",
               "localtime", "timezone", "ssl", "ca-certificates", "ca-certificates.conf", "alternatives",
               "fonts", "mime.types", "os-release", "locale.alias", "matplotlibrc")
SYSTEM_FOLDERS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/opt/conda")
# Environment variables passed into the kernel when the grader has them.
PASSED_ENV = ("LANG", "LC_ALL", "LC_CTYPE", "MPLBACKEND", "TF_CPP_MIN_LOG_LEVEL", "TF_NUM_INTRAOP_THREADS",
              "TF_NUM_INTEROP_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
              "PYTHONHASHSEED", "CUDA_VISIBLE_DEVICES", "TZ")
SANDBOX_HOME = "/home/student"
SETPRIV = "/usr/bin/setpriv"
"""util-linux's setpriv, inside the sandbox: switches a root-started kernel to the unprivileged user."""


@dataclass(frozen=True)
class Limits:
    """What one kernel may use; 0 for no bound. Set with ``prlimit`` inside the sandbox (as the
    kernel's unprivileged user, so RLIMIT_NPROC holds), and as the size of each tmpfs.

    Examples
    --------
    >>> Limits(memory_mb=2, max_processes=64, max_file_mb=1).prlimit()
    ['/usr/bin/prlimit', '--as=2097152', '--nproc=64', '--fsize=1048576', '--']
    """

    memory_mb: int = 0
    max_processes: int = 0
    max_file_mb: int = 0
    tmpfs_mb: int = 0

    def prlimit(self) -> list[str]:
        """``prlimit`` and its options, or ``[]`` without limits."""
        limits = []
        if self.memory_mb:
            limits.append(f"--as={int(self.memory_mb) * MIB}")
        if self.max_processes:
            limits.append(f"--nproc={int(self.max_processes)}")
        if self.max_file_mb:
            limits.append(f"--fsize={int(self.max_file_mb) * MIB}")
        return ["/usr/bin/prlimit", *limits, "--"] if limits else []


def traversable_parents(destinations: list[str], mounts: set[str]) -> list[str]:
    """The folders above ``destinations`` that the sandbox must create, outermost first.

    Left out: the folders mounted anyway (``mounts``) and those inside the system folders, which
    are bound whole.

    Parameters
    ----------
    destinations : list of str
        Where folders are bound inside the sandbox.
    mounts : set of str
        Folders the sandbox mounts itself (``/``, ``/tmp``, ``HOME``).

    Returns
    -------
    list of str

    Examples
    --------
    >>> traversable_parents(["/root/.pyenv/versions/3.11", "/tmp/x/course/a1"], {"/", "/tmp", "/tmp/x"})
    ['/root', '/root/.pyenv', '/root/.pyenv/versions', '/tmp/x/course']
    """
    system = [Path(folder) for folder in SYSTEM_FOLDERS]
    parents: list[str] = []
    for destination in destinations:
        for parent in reversed(Path(destination).parents):
            if str(parent) in mounts or str(parent) in parents or any(
                    parent == folder or folder in parent.parents for folder in system):
                continue
            parents.append(str(parent))
    return parents


def identity_arguments(run_as: tuple[int, int] | None) -> tuple[list[str], list[str]]:
    """bwrap's options and the command prefix that make the kernel an unprivileged user.

    Parameters
    ----------
    run_as : (uid, gid) or None
        The host user and group when the grader is root; None for a user namespace.

    Returns
    -------
    (list of str, list of str)
        Options for bwrap, and the command that runs before the kernel's inside the sandbox.

    Examples
    --------
    >>> identity_arguments(None)
    (['--unshare-user'], [])
    >>> identity_arguments((65534, 65534))[1][:3]
    ['/usr/bin/setpriv', '--reuid=65534', '--regid=65534']
    """
    if run_as is None:
        return ["--unshare-user"], []
    uid, gid = run_as
    # setpriv needs these three to switch user and empty the bounding set; it drops them all
    keep = ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID", "--cap-add", "CAP_SETPCAP"]
    return keep, [SETPRIV, f"--reuid={int(uid)}", f"--regid={int(gid)}", "--clear-groups", "--inh-caps=-all",
                  "--bounding-set=-all", "--"]


def system_binds() -> list[str]:
    """bwrap arguments for the read-only system folders: binds, or links where ``/lib`` is a link."""
    args: list[str] = []
    for folder in SYSTEM_FOLDERS:
        path = Path(folder)
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), folder]
        elif path.is_dir():
            args += ["--ro-bind", folder, folder]
    for name in ETC_ENTRIES:
        path = Path("/etc") / name
        if path.exists():
            args += ["--ro-bind", str(path), str(path)]
    return args


def python_folders() -> list[Path]:
    """The folders the kernel's Python needs: the environment, the base Python and the fercourse package.

    Only those folders, never their parents: the base Python may live in the instructor's home
    (pyenv), and an editable install of fercourse sits inside the course checkout, next to
    ``autograder/``.
    """
    import fercourse

    folders = [Path(sys.prefix), Path(sys.base_prefix), Path(sys.exec_prefix), Path(sys.base_exec_prefix),
               Path(sys.executable).parent, Path(fercourse.__file__).parent]
    seen: list[Path] = []
    for folder in folders:
        for candidate in (folder.absolute(), folder.resolve()):
            if candidate not in seen:
                seen.append(candidate)
    return outermost(seen)


def outermost(folders: list[Path]) -> list[Path]:
    """The folders not inside another of the list (binding both would hide nothing, but twice).

    Parameters
    ----------
    folders : list of Path

    Returns
    -------
    list of Path
    """
    return [f for f in folders if not any(other != f and other in f.parents for other in folders)]


def kernel_environment(read_only: list[Path], environ: dict[str, str] | None = None) -> dict[str, str]:
    """The kernel's whole environment: PATH, HOME, the passed variables and the usable part of PYTHONPATH."""
    environ = dict(os.environ if environ is None else environ)
    bin_dir = str(Path(sys.executable).parent)
    env = {"PATH": f"{bin_dir}:/usr/local/bin:/usr/bin:/bin", "HOME": SANDBOX_HOME,
           "LANG": "C.UTF-8", "TMPDIR": "/tmp", "PYTHONNOUSERSITE": "1",
           # 1: ipykernel watches no parent (bwrap --die-with-parent does) and prints no console banner
           "JPY_PARENT_PID": "1"}
    env.update({name: environ[name] for name in PASSED_ENV if name in environ})
    if environ.get("VIRTUAL_ENV"):
        env["VIRTUAL_ENV"] = environ["VIRTUAL_ENV"]
    usable = []
    for entry in environ.get("PYTHONPATH", "").split(os.pathsep):
        path = Path(entry).absolute() if entry else None
        # an entry is usable when it lies in a bound folder or is the parent of one (the checkout
        # root of an editable fercourse: inside the sandbox it holds only the package folder)
        if path and any(path == f or f in path.parents or path in f.parents for f in read_only):
            usable.append(str(path))
    if usable:
        env["PYTHONPATH"] = os.pathsep.join(usable)
    return env


def sandbox_command(kernel_cmd: list[str], *, bwrap: str, workdir: str | Path, runtime_dir: str | Path,
                    read_only: list[Path], env: dict[str, str], limits: Limits | None = None,
                    run_as: tuple[int, int] | None = None) -> list[str]:
    # Over 60 lines: a 40-line docstring with its doctest; the body is 32.
    """The bwrap command line that runs ``kernel_cmd`` in the sandbox.

    Parameters
    ----------
    kernel_cmd : list of str
        The kernel's own command (``python -m ipykernel_launcher -f CONNECTION_FILE``).
    bwrap : str
        Path of the bubblewrap executable.
    workdir : path
        The kernel's working folder, bound read-write (the only writable folder of the host).
    runtime_dir : path
        Folder with the connection file and the ``ipc`` sockets, bound read-write.
    read_only : list of Path
        Folders bound read-only at the same path (the Python environment, the fercourse package).
    env : dict
        The kernel's whole environment (bwrap starts from an empty one).
    limits : Limits, optional
        Memory, processes, file size and tmpfs size; none when not given.
    run_as : (uid, gid), optional
        The unprivileged host user the kernel runs as (the grader is root: bwrap keeps only the
        capabilities to switch, ``setpriv`` switches and drops them all); None: a user namespace
        of the grader's own user.

    Returns
    -------
    list of str
        ``[bwrap, ...options, "--", (setpriv ...), (prlimit ...), *kernel_cmd]``.

    Examples
    --------
    >>> command = sandbox_command(["python", "-m", "ipykernel_launcher"], bwrap="/usr/bin/bwrap",
    ...                           workdir="/course/autograded/ada/a1", runtime_dir="/tmp/k1",
    ...                           read_only=[], env={"HOME": "/home/student"}, limits=Limits(memory_mb=4096))
    >>> command[command.index("--bind") + 1:command.index("--bind") + 3]
    ['/course/autograded/ada/a1', '/course/autograded/ada/a1']
    >>> command[command.index("--"):]
    ['--', '/usr/bin/prlimit', '--as=4294967296', '--', 'python', '-m', 'ipykernel_launcher']
    """
    limits = limits or Limits()
    workdir, runtime_dir = str(Path(workdir).absolute()), str(Path(runtime_dir).absolute())
    identity, switch = identity_arguments(run_as)
    args = [bwrap, *SANDBOX_FLAGS, *identity, "--clearenv"]
    for name, value in env.items():
        args += ["--setenv", name, value]
    args += system_binds()
    args += ["--proc", "/proc", "--ro-bind", "/proc/sys", "/proc/sys", "--dev", "/dev"]
    # writable by the kernel's user, bounded (/dev/shm: joblib's semaphores, else it runs serially)
    for folder in ("/tmp", env.get("HOME", SANDBOX_HOME), "/dev/shm"):
        args += ["--perms", "1777", *(["--size", str(limits.tmpfs_mb * MIB)] if limits.tmpfs_mb else []),
                 "--tmpfs", folder]
    # A bind deep under /tmp (a course in a temporary folder) has its parents created on the writable
    # /tmp: give their top folder its own tmpfs, made read-only below, so that writing the course
    # root's files fails there as it does on the read-only root.
    shadowed = sorted({f"/tmp/{Path(p).relative_to('/tmp').parts[0]}" for p in (workdir, runtime_dir)
                       if Path("/tmp") in Path(p).parents and len(Path(p).relative_to("/tmp").parts) > 1})
    for top in shadowed:
        args += ["--tmpfs", top]
    # bwrap gives the folders it creates above a bind the mode of their source (/root: 0700), which
    # would shut the kernel's unprivileged user out of its own Python: create them traversable first
    mounts = {"/", "/tmp", env.get("HOME", SANDBOX_HOME), *shadowed}
    for parent in traversable_parents([*map(str, read_only), workdir, runtime_dir], mounts):
        args += ["--perms", "0755", "--dir", parent]
    for folder in read_only:
        args += ["--ro-bind", str(folder), str(folder)]
    args += ["--bind", workdir, workdir, "--bind", runtime_dir, runtime_dir]
    for top in [*shadowed, "/"]:
        args += ["--remount-ro", top]
    args += ["--chdir", workdir]
    return [*args, "--", *switch, *limits.prlimit(), *kernel_cmd]
