"""Run every student kernel of ``nbgrader autograde`` in a bubblewrap sandbox.

nbgrader starts each student's notebook in a Jupyter kernel that, left alone, runs as the
instructor's Unix user: it could write the course config, the thresholds, the gradebook and
other students' folders, read the answer key and use the network. Here the kernel's launch
command is wrapped with `bubblewrap <https://github.com/containers/bubblewrap>`_ (``bwrap``,
Debian package ``bubblewrap``), so the kernel sees only

- its working folder ``autograded/<student>/<assignment>/`` (read-write; nbclient passes it as
  ``cwd``),
- the Python environment (``sys.prefix``, ``sys.base_prefix`` and their real paths) and the
  folder of the imported ``fercourse`` package, read-only,
- the system folders needed to run (``/usr``, ``/lib*``, ``/bin``, a few files of ``/etc``),
  read-only, a private ``/proc`` and ``/dev``,
- an empty private ``/tmp`` and an empty ``HOME``,
- a private runtime folder holding the connection file and the kernel's sockets,

with no network (``--unshare-net``: the kernel talks to the grader over unix sockets, the
``ipc`` transport), its own PID and IPC namespaces, a new session, no capabilities, a minimal
environment and an address-space bound (``prlimit --as``).

:class:`SandboxedExecute` replaces nbgrader's ``Execute`` in ``c.Autograde.autograde_preprocessors``
(nbgrader's ``Execute.__init__`` passes ``kernel_manager_class`` as a keyword, which overrides a
``c.Execute.kernel_manager_class`` setting, so the subclass is the way in). Options are
``c.FercourseSandbox.*`` (:class:`FercourseSandbox`). When the sandbox cannot start, autograde
stops before the first kernel with one line saying why and how to opt out.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from nbgrader.preprocessors import Execute
from traitlets import Bool, Integer, List, Unicode, default
from traitlets.config import LoggingConfigurable

from fercourse.errors import FercourseError
from fercourse.grading.plugins.state import PROCESS_STATE

NO_SANDBOX_ENV = "FERCOURSE_NO_SANDBOX"
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


class SandboxUnavailableError(FercourseError, RuntimeError):
    """The sandbox cannot start on this machine; the message says why and how to opt out."""


class FercourseSandbox(LoggingConfigurable):
    """Options of the kernel sandbox: ``c.FercourseSandbox.*`` in nbgrader_config.py or on the command line.
    """

    enabled = Bool(help="Run each student kernel in a bubblewrap sandbox during autograde. Default True; "
                        f"False (or the environment variable {NO_SANDBOX_ENV}=1) runs kernels as your own "
                        "user with all your rights: only for machines that cannot create namespaces."
                   ).tag(config=True)
    bwrap = Unicode("bwrap", help="The bubblewrap executable: a name looked up on PATH, or an absolute path."
                    ).tag(config=True)
    memory_mb = Integer(8192, help="Address-space bound of each kernel process in MiB (RLIMIT_AS, set with "
                                   "prlimit). TensorFlow reserves much more virtual memory than it uses: "
                                   "measured with TF 2.21, its import aborts at 2048 and a small Keras "
                                   "prediction runs at 3072. 0: no bound.").tag(config=True)
    max_processes = Integer(512, help="RLIMIT_NPROC of the kernel. Linux enforces it only for a non-root "
                                      "user: when autograde runs as root it bounds nothing (measured: 100 "
                                      "forks under a limit of 20; see the guide). 0: no bound."
                            ).tag(config=True)
    read_only = List(Unicode(), help="Extra folders the kernel may read (absolute paths), e.g. a shared "
                                     "dataset cache; never the course folder or the answer key's folder."
                     ).tag(config=True)

    @default("enabled")
    def _enabled_default(self) -> bool:
        return os.environ.get(NO_SANDBOX_ENV, "") in ("", "0")

    def executable(self) -> str:
        """The absolute path of bwrap, or raise :class:`SandboxUnavailableError` saying it is missing."""
        found = shutil.which(self.bwrap)
        if found is None:
            raise SandboxUnavailableError(f"bubblewrap not found ({self.bwrap!r}: not on PATH or not "
                                          "executable)")
        return found

    def check(self) -> str:
        """bwrap's path, once it has run ``true`` with the sandbox's namespaces on this machine."""
        bwrap = self.executable()
        probes = PROCESS_STATE.sandbox_probes  # bwrap path -> None (works) or why not
        if bwrap not in probes:
            command = [bwrap, *SANDBOX_FLAGS, *system_binds(), "--proc", "/proc", "--dev", "/dev", "true"]
            try:
                result = subprocess.run(command, capture_output=True, text=True, timeout=30)
                probes[bwrap] = None if result.returncode == 0 else (
                    f"{bwrap} could not create namespaces (exit {result.returncode}: "
                    f"{result.stderr.strip().splitlines()[-1] if result.stderr.strip() else 'no message'})")
            except (OSError, subprocess.TimeoutExpired) as error:
                probes[bwrap] = f"{bwrap} did not run ({error})"
        if probes[bwrap] is not None:
            raise SandboxUnavailableError(probes[bwrap])
        return bwrap


def refusal(reason: str) -> str:
    """The one-line message autograde stops with when the sandbox cannot start."""
    return (f"fercourse: not autograding: the student kernel sandbox cannot start: {reason}. Install "
            "bubblewrap (Debian: apt-get install bubblewrap) on a machine that allows user namespaces, or "
            "opt out explicitly (kernels then run with all your rights): `nbgrader autograde ASSIGNMENT "
            f"--FercourseSandbox.enabled=False` or {NO_SANDBOX_ENV}=1")


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
    return _outermost(seen)


def _outermost(folders: list[Path]) -> list[Path]:
    """The folders not inside another of the list (binding both would hide nothing, but twice)."""
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
                    read_only: list[Path], env: dict[str, str], memory_mb: int = 0,
                    max_processes: int = 0) -> list[str]:
    # Over 60 lines: a 35-line docstring with its doctest; the body is 28.
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
    memory_mb, max_processes : int
        RLIMIT_AS in MiB and RLIMIT_NPROC of the kernel, set with ``prlimit``; 0 for none.

    Returns
    -------
    list of str
        ``[bwrap, ...options, "--", (prlimit ...), *kernel_cmd]``.

    Examples
    --------
    >>> command = sandbox_command(["python", "-m", "ipykernel_launcher"], bwrap="/usr/bin/bwrap",
    ...                           workdir="/course/autograded/ada/a1", runtime_dir="/tmp/k1",
    ...                           read_only=[], env={"HOME": "/home/student"}, memory_mb=4096)
    >>> command[command.index("--bind") + 1:command.index("--bind") + 3]
    ['/course/autograded/ada/a1', '/course/autograded/ada/a1']
    >>> command[command.index("--"):]
    ['--', '/usr/bin/prlimit', '--as=4294967296', '--', 'python', '-m', 'ipykernel_launcher']
    """
    workdir, runtime_dir = str(Path(workdir).absolute()), str(Path(runtime_dir).absolute())
    args = [bwrap, *SANDBOX_FLAGS, "--clearenv"]
    for name, value in env.items():
        args += ["--setenv", name, value]
    args += system_binds()
    args += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--tmpfs", env.get("HOME", SANDBOX_HOME)]
    # A bind deep under /tmp (a course in a temporary folder) has its parents created on the writable
    # /tmp: give their top folder its own tmpfs, made read-only below, so that writing the course
    # root's files fails there as it does on the read-only root.
    shadowed = sorted({f"/tmp/{Path(p).relative_to('/tmp').parts[0]}" for p in (workdir, runtime_dir)
                       if Path("/tmp") in Path(p).parents and len(Path(p).relative_to("/tmp").parts) > 1})
    for top in shadowed:
        args += ["--tmpfs", top]
    for folder in read_only:
        args += ["--ro-bind", str(folder), str(folder)]
    args += ["--bind", workdir, workdir, "--bind", runtime_dir, runtime_dir]
    for top in [*shadowed, "/"]:
        args += ["--remount-ro", top]
    args += ["--chdir", workdir]
    limits = []
    if memory_mb:
        limits.append(f"--as={int(memory_mb) * 1024 * 1024}")
    if max_processes:
        limits.append(f"--nproc={int(max_processes)}")
    prlimit = ["/usr/bin/prlimit", *limits, "--"] if limits else []
    return [*args, "--", *prlimit, *kernel_cmd]


class SandboxedKernelManager(AsyncKernelManager):
    """A kernel manager that starts the kernel inside :func:`sandbox_command` over unix sockets.

    The connection file and the sockets live in a private folder (mode 0700) created per kernel
    and removed with it. Interrupts are sent as messages (the kernel is not a child of this
    process's process group once bwrap starts a new session).
    """

    async def _async_pre_start_kernel(self, **kw):
        settings = FercourseSandbox(config=self.config)
        bwrap = settings.check()
        self._runtime_dir = tempfile.mkdtemp(prefix="fercourse-kernel-")
        self.transport = "ipc"  # the kernel has no network, so no TCP on 127.0.0.1 either
        self.connection_file = os.path.join(self._runtime_dir, "kernel.json")
        self.ip = os.path.join(self._runtime_dir, "kernel-ipc")
        if self.kernel_spec is not None:
            self.kernel_spec.interrupt_mode = "message"
        kernel_cmd, kw = await super()._async_pre_start_kernel(**kw)
        read_only = _outermost([*python_folders(), *map(Path, settings.read_only)])
        env = kernel_environment(read_only, kw.get("env"))
        command = sandbox_command(kernel_cmd, bwrap=bwrap, workdir=kw.get("cwd") or os.getcwd(),
                                  runtime_dir=self._runtime_dir, read_only=read_only, env=env,
                                  memory_mb=settings.memory_mb, max_processes=settings.max_processes)
        self.log.debug("fercourse: sandboxed kernel: %s", command)
        return command, kw

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        await super()._async_cleanup_resources(restart=restart)
        runtime = getattr(self, "_runtime_dir", None)
        if runtime and not restart:
            shutil.rmtree(runtime, ignore_errors=True)


class SandboxedExecute(Execute):
    """nbgrader's ``Execute`` with each kernel in the sandbox (unless ``c.FercourseSandbox.enabled = False``).

    Put it in ``c.Autograde.autograde_preprocessors`` where ``Execute`` was; ``c.Execute.*``
    options (timeout, interrupt_on_timeout) still apply.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.sandbox = FercourseSandbox(parent=self)
        if self.sandbox.enabled:
            self.kernel_manager_class = SandboxedKernelManager

    def preprocess(self, nb, resources, *args, **kwargs):
        from fercourse.grading.plugins.integrity import stop_grading

        if self.sandbox.enabled:
            try:
                self.sandbox.check()
            except SandboxUnavailableError as error:
                stop_grading(self, resources, refusal(str(error)))
        else:
            student = resources.get("nbgrader", {}).get("student", "this student")
            self.log.warning("fercourse: kernel sandbox off: %s's kernel runs with your rights", student)
        return super().preprocess(nb, resources, *args, **kwargs)
