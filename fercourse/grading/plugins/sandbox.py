"""Run every student kernel of ``nbgrader autograde`` in a bubblewrap sandbox, as an unprivileged user.

nbgrader starts each student's notebook in a Jupyter kernel that, left alone, runs as the
instructor's Unix user (root, on a course set up as the guide does): it could write the course
config, the thresholds, the gradebook and other students' folders, read the answer key, use the
network, or write ``/proc/sys``. Here the kernel's launch command is wrapped with `bubblewrap
<https://github.com/containers/bubblewrap>`_ (``bwrap``, Debian package ``bubblewrap``): what the
kernel sees, who it runs as and its limits are in :mod:`~fercourse.grading.plugins.sandbox_command`.
The kernel's working folder is handed to its user for the run and taken back after; its standard
streams are ``/dev/null`` (it can neither read the grader's terminal nor write the grader's log),
and bwrap itself starts with the kernel's allow-listed environment only.

:class:`SandboxedExecute` replaces nbgrader's ``Execute`` in ``c.Autograde.autograde_preprocessors``
(nbgrader's ``Execute.__init__`` passes ``kernel_manager_class`` as a keyword, which overrides a
``c.Execute.kernel_manager_class`` setting, so the subclass is the way in). Options are
``c.FercourseSandbox.*`` (:class:`FercourseSandbox`). When the sandbox cannot start, autograde
stops before the first kernel with one line saying why and how to opt out; there is no fallback.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from nbgrader.preprocessors import Execute
from traitlets import Bool, Integer, List, Unicode, default
from traitlets.config import LoggingConfigurable

from fercourse.errors import FercourseError
from fercourse.grading.plugins.sandbox_command import (
    SANDBOX_FLAGS,
    Limits,
    identity_arguments,
    kernel_environment,
    outermost,
    python_folders,
    sandbox_command,
    system_binds,
)
from fercourse.grading.plugins.state import PROCESS_STATE

NO_SANDBOX_ENV = "FERCOURSE_NO_SANDBOX"
SANDBOX_PROBE_TIMEOUT = 30




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
    max_processes = Integer(512, help="RLIMIT_NPROC of the kernel: processes and threads of the kernel's "
                                      "user, counted over the whole machine (kernels graded at once share "
                                      "it). It holds because the kernel never runs as root (see uid). 0: no "
                                      "bound.").tag(config=True)
    max_file_mb = Integer(1024, help="Largest file the kernel may write, in MiB (RLIMIT_FSIZE). 0: no bound."
                          ).tag(config=True)
    tmpfs_mb = Integer(512, help="Size of each of the kernel's private /tmp and HOME, in MiB (memory). 0: no "
                                 "bound.").tag(config=True)
    uid = Integer(65534, help="When autograde runs as root: the unprivileged host user each kernel runs as "
                              "(default 65534, nobody); it owns the kernel's working folder during the "
                              "run. As another user, the kernel runs as that user in a user namespace."
                  ).tag(config=True)
    gid = Integer(65534, help="The kernel's group when autograde runs as root (default 65534, nogroup)."
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

    def run_as(self) -> tuple[int, int] | None:
        """``(uid, gid)`` the kernel switches to when this process is root; None otherwise."""
        return (self.uid, self.gid) if os.geteuid() == 0 else None

    def limits(self) -> Limits:
        """The kernel's :class:`~fercourse.grading.plugins.sandbox_command.Limits` from these options."""
        return Limits(self.memory_mb, self.max_processes, self.max_file_mb, self.tmpfs_mb)

    def check(self) -> str:
        """bwrap's path, once it has run ``true`` in the sandbox, as the kernel's user, on this machine."""
        bwrap = self.executable()
        probes = PROCESS_STATE.sandbox_probes  # bwrap path and user -> None (works) or why not
        probe = f"{bwrap} {self.run_as()}"
        if probe not in probes:
            identity, switch = identity_arguments(self.run_as())
            command = [bwrap, *SANDBOX_FLAGS, *identity, *system_binds(), "--proc", "/proc", "--dev", "/dev",
                       "--", *switch, "true"]
            try:
                result = subprocess.run(command, capture_output=True, text=True, stdin=subprocess.DEVNULL,
                                        timeout=SANDBOX_PROBE_TIMEOUT)
                probes[probe] = None if result.returncode == 0 else (
                    f"{bwrap} could not create namespaces (exit {result.returncode}: "
                    f"{result.stderr.strip().splitlines()[-1] if result.stderr.strip() else 'no message'})")
            except (OSError, subprocess.TimeoutExpired) as error:
                probes[probe] = f"{bwrap} did not run ({error})"
        if probes[probe] is not None:
            raise SandboxUnavailableError(probes[probe])
        return bwrap


def refusal(reason: str) -> str:
    """The one-line message autograde stops with when the sandbox cannot start."""
    return (f"fercourse: not autograding: the student kernel sandbox cannot start: {reason}. Install "
            "bubblewrap (Debian: apt-get install bubblewrap) on a machine that allows user namespaces, or "
            "opt out explicitly (kernels then run with all your rights): `nbgrader autograde ASSIGNMENT "
            f"--FercourseSandbox.enabled=False` or {NO_SANDBOX_ENV}=1")


def hand_over(folder: Path, uid: int, gid: int) -> None:
    """Make ``folder`` and everything in it belong to ``uid:gid`` (``lchown``: a link is never followed).

    Parameters
    ----------
    folder : Path
    uid, gid : int
    """
    os.chown(folder, uid, gid, follow_symlinks=False)
    for here, dirs, files in os.walk(folder, followlinks=False):
        for name in [*dirs, *files]:
            try:
                os.chown(Path(here) / name, uid, gid, follow_symlinks=False)
            except FileNotFoundError:  # removed meanwhile
                continue


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
        read_only = outermost([*python_folders(), *map(Path, settings.read_only)])
        env = kernel_environment(read_only, kw.get("env"))
        workdir = kw.get("cwd") or os.getcwd()
        run_as = settings.run_as()
        if run_as is not None:  # the kernel's user writes its folder and its sockets, nothing else
            hand_over(Path(workdir), *run_as)
            hand_over(Path(self._runtime_dir), *run_as)
            self._handed_over = Path(workdir)
        command = sandbox_command(kernel_cmd, bwrap=bwrap, workdir=workdir, runtime_dir=self._runtime_dir,
                                  read_only=read_only, env=env, limits=settings.limits(), run_as=run_as)
        # bwrap itself gets only the kernel's environment (it is PID 1 of the sandbox), and no standard
        # stream of this process: the kernel can neither read the terminal nor forge lines of the log
        null = subprocess.DEVNULL
        kw.update(env=dict(env), stdin=null, stdout=null, stderr=null)
        self.log.debug("fercourse: sandboxed kernel: %s", command)
        return command, kw

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        await super()._async_cleanup_resources(restart=restart)
        runtime = getattr(self, "_runtime_dir", None)
        if runtime and not restart:
            shutil.rmtree(runtime, ignore_errors=True)
        handed_over = getattr(self, "_handed_over", None)
        if handed_over is not None and not restart:
            hand_over(handed_over, os.geteuid(), os.getegid())  # back to the grader, links not followed
            self._handed_over = None


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
