"""The sandbox a student's kernel runs in: bubblewrap (``bwrap``), the tool Flatpak uses.

The grader (nbgrader, the gradebook, the scores) stays outside. Only the kernel runs inside, and
talks to the grader over ZeroMQ on Unix sockets in a folder the two share. Inside, the kernel sees:

* read-only: the system (``/usr``, ``/etc``), the interpreter, the virtual environment and the
  ``backendlab`` package — nothing else of the machine: not the course folder, ``solutions/``,
  other students, the gradebook or anyone's home;
* writable: its own copy of the submission (``/home/student/work``, its working folder), a home
  (``/home/student``) and a private ``/tmp``;
* its own PID namespace (it sees only its own processes; when the kernel ends, everything it
  started ends with it, ``setsid`` or not), its own network namespace (loopback only: servers in
  tests work, nothing leaves the machine), its own IPC and host name;
* limits (:class:`Limits`) on memory per process, processes, file size and open files.

As root (CI, a JupyterHub machine), bubblewrap runs privileged and the kernel is started as an
unprivileged user id of its own (one per worker, with no account and no files anywhere else), so
that the limit on processes applies. Otherwise bubblewrap runs unprivileged in a user namespace.
"""

from __future__ import annotations

import dataclasses
import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path, PurePosixPath

__all__ = ["Limits", "Sandbox", "SandboxUnavailable", "UidLease", "check_sandbox", "readonly_paths"]

GIB = 1024**3
MIB = 1024**2
WORK = "/home/student/work"
HOME = "/home/student"
# The system folders every program needs, read-only. (/bin, /lib... are links into /usr on Debian.)
SYSTEM = ("/usr", "/etc")
USR_LINKS = {"/bin": "usr/bin", "/sbin": "usr/sbin", "/lib": "usr/lib", "/lib64": "usr/lib64"}
# User ids for sandboxed kernels when the grader runs as root: no account, no files.
FIRST_UID = 61000
UID_COUNT = 1000


class SandboxUnavailable(RuntimeError):
    """The sandbox cannot be created here; the message says why and what to do."""


@dataclasses.dataclass(frozen=True)
class Limits:
    """Resource limits inside the sandbox (set with ``prlimit`` inside it, as ``setrlimit``)."""

    memory: int = 2 * GIB  # bytes of data (heap, anonymous mappings, stacks) per process: RLIMIT_DATA
    processes: int = 256  # processes and threads of the sandbox's user: RLIMIT_NPROC
    file_size: int = 256 * MIB  # bytes per file written: RLIMIT_FSIZE
    open_files: int = 1024  # RLIMIT_NOFILE

    def prlimit(self) -> list[str]:
        return [
            "/usr/bin/prlimit", f"--data={self.memory}", f"--nproc={self.processes}",
            f"--fsize={self.file_size}", f"--nofile={self.open_files}", "--core=0", "--",
        ]

    def describe(self) -> str:
        return (f"{self.memory / GIB:g} GiB of memory per process, {self.processes} processes and threads, "
                f"{self.file_size / MIB:g} MiB per file, {self.open_files} open files")


def readonly_paths() -> list[Path]:
    """What a kernel needs to read besides the system: interpreter, environment, ``backendlab``."""
    import backendlab

    paths = [Path(sys.base_prefix), Path(sys.prefix), Path(backendlab.__file__).parent]
    kept: list[Path] = []
    for path in sorted({p.resolve() for p in paths}, key=lambda p: len(p.parts)):
        if not any(path.is_relative_to(parent) for parent in kept) and not path.is_relative_to("/usr"):
            kept.append(path)
    return kept


def socket_folder(folder: Path) -> Path:
    """Where the sandbox in ``folder`` keeps its kernel's sockets: a short path under /tmp, since a
    Unix socket's path may not exceed 107 bytes (and a course's temporary folders can be deep)."""
    digest = hashlib.sha1(str(folder.resolve()).encode()).hexdigest()[:16]
    return Path("/tmp") / f"backendlab-sockets-{digest}"


def _is_root() -> bool:
    return os.geteuid() == 0


class UidLease:
    """An unprivileged user id reserved for one worker's kernels while this object lives.

    Only used when grading as root. A lock file per id under the system's temporary folder keeps
    two grading runs on one machine (or two workers of one run) from sharing an id, and so from
    sharing a process limit.
    """

    def __init__(self, first: int = FIRST_UID, count: int = UID_COUNT) -> None:
        folder = Path("/tmp/backendlab-sandbox-uids")
        folder.mkdir(mode=0o700, exist_ok=True)
        for uid in range(first, first + count):
            handle = open(folder / f"{uid}.lock", "w")  # noqa: SIM115 (held for the lease's lifetime)
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                handle.close()
                continue
            self.uid, self._handle = uid, handle
            return
        raise SandboxUnavailable(f"all {count} sandbox user ids from {first} are in use")

    def release(self) -> None:
        self._handle.close()


@dataclasses.dataclass
class Sandbox:
    """One submission's sandbox: its folders on the host and how to start a command in it.

    ``folder`` (on the host) holds ``work/`` (the submission's copy, the kernel's working folder)
    and ``home/``; :attr:`sockets` (the kernel's connection file and Unix sockets, shared with the
    grader at the same path inside) is a short folder under /tmp (:func:`socket_folder`).
    """

    folder: Path
    limits: Limits = dataclasses.field(default_factory=Limits)
    uid: int | None = None  # as root: the unprivileged user id the kernel runs as
    readonly: list[Path] = dataclasses.field(default_factory=readonly_paths)
    env: dict[str, str] = dataclasses.field(default_factory=dict)

    @property
    def work(self) -> Path:
        return self.folder / "work"

    @property
    def home(self) -> Path:
        return self.folder / "home"

    @property
    def sockets(self) -> Path:
        return socket_folder(self.folder)

    def remove(self) -> None:
        """Delete the sandbox's folders (its files belong to the grader, or to its user id as root)."""
        shutil.rmtree(self.sockets, ignore_errors=True)
        shutil.rmtree(self.folder, ignore_errors=True)

    def create(self, submission: Path | None = None, ignore: object = None) -> Sandbox:
        """Make the folders; copy ``submission`` (a folder) into ``work/``."""
        self.folder.mkdir(parents=True, exist_ok=True)
        if submission is not None:
            shutil.copytree(submission, self.work, ignore=ignore, dirs_exist_ok=True)  # type: ignore[arg-type]
        for path in (self.work, self.home, self.sockets):
            path.mkdir(mode=0o700, exist_ok=True)
        self.give_to_sandbox(self.work, self.home, self.sockets)
        return self

    def give_to_sandbox(self, *paths: Path) -> None:
        """As root, hand files and folders to the sandbox's user id (recursively for folders)."""
        if self.uid is None:
            return
        for path in paths:
            os.chown(path, self.uid, self.uid)
            if path.is_dir():
                for item in path.rglob("*"):
                    os.chown(item, self.uid, self.uid, follow_symlinks=False)

    def argv(self, command: list[str]) -> list[str]:
        """The command line that runs ``command`` inside the sandbox."""
        args = ["bwrap", "--die-with-parent", "--new-session", "--clearenv",
                "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try"]
        if self.uid is None:
            args.insert(1, "--unshare-user")
        args += ["--proc", "/proc", "--dev", "/dev", "--perms", "1777", "--tmpfs", "/tmp"]
        for system in SYSTEM:
            args += ["--ro-bind", system, system]
        for link, target in USR_LINKS.items():
            if Path(link).is_symlink() or not Path(link).exists():
                args += ["--symlink", target, link]
            else:
                args += ["--ro-bind", link, link]
        mounts = [("--ro-bind", path, str(path)) for path in self.readonly]
        mounts += [("--bind", self.home, HOME), ("--bind", self.work, WORK)]
        mounts += [("--bind", self.sockets, str(self.sockets))]
        # Folders on the way to each mount point, world-readable (bwrap would copy the host's modes:
        # /root is 0700, which would hide an interpreter installed under it from the kernel's user).
        made = {"/", "/tmp", "/proc", "/dev", *SYSTEM, *USR_LINKS}
        for _, _, target in mounts:
            for parent in reversed(PurePosixPath(target).parents):
                if str(parent) not in made and not any(str(parent).startswith(s + "/") for s in SYSTEM):
                    args += ["--perms", "0755", "--dir", str(parent)]
                    made.add(str(parent))
        for how, source, target in mounts:
            args += [how, str(source), target]
        environment = {
            "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
            "HOME": HOME, "TMPDIR": "/tmp", "LANG": "C.UTF-8", "USER": "student", "MPLBACKEND": "Agg",
            **self.env,
        }
        for name, value in environment.items():
            args += ["--setenv", name, value]
        args += ["--chdir", WORK, "--hostname", "sandbox"]
        if self.uid is not None:
            # bwrap keeps only these two capabilities, which setpriv uses to drop to the user id and
            # then gives up, together with every other privilege.
            args += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID", "--",
                     "/usr/bin/setpriv", f"--reuid={self.uid}", f"--regid={self.uid}", "--clear-groups",
                     "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs"]
        else:
            args += ["--"]
        return args + self.limits.prlimit() + command


HOW_TO_ENABLE = """\
Grading runs every submission in a bubblewrap sandbox, and it cannot be created on this machine:
  {reason}
What to do:
  * install bubblewrap: on Debian or Ubuntu `sudo apt-get install bubblewrap` (Fedora: `dnf install bubblewrap`);
  * allow unprivileged user namespaces if grading as a normal user: Debian before 11
    `sudo sysctl kernel.unprivileged_userns_clone=1`; Ubuntu 24.04 and later restrict them with AppArmor
    (`sudo sysctl kernel.apparmor_restrict_unprivileged_userns=0`, or an AppArmor profile for bwrap);
    in a container, run it with user namespaces allowed (or grade as root inside it);
  * or grade without the sandbox with --unsafe-no-sandbox: student code can then read and change anything
    your account can, and every row of grades.csv says so."""


def check_sandbox(limits: Limits | None = None) -> str:
    """Start ``true`` in the sandbox, as grading will; return bwrap's version, or raise
    :class:`SandboxUnavailable` saying why and how to enable it."""
    import tempfile

    for tool in ("bwrap", "/usr/bin/prlimit", "/usr/bin/setpriv"):
        if shutil.which(tool) is None:
            package = "bubblewrap" if tool == "bwrap" else "util-linux"
            raise SandboxUnavailable(HOW_TO_ENABLE.format(reason=f"{tool} is not installed (Debian package {package})"))
    version = subprocess.run(["bwrap", "--version"], capture_output=True, text=True).stdout.strip()
    lease = UidLease() if _is_root() else None
    try:
        with tempfile.TemporaryDirectory(prefix="bl-check-") as folder:
            sandbox = Sandbox(Path(folder), limits or Limits(), uid=lease.uid if lease else None).create()
            try:
                probe = subprocess.run(sandbox.argv(["/bin/true"]), capture_output=True, text=True, timeout=30)
            finally:
                sandbox.remove()
            if probe.returncode != 0:
                reason = (probe.stderr.strip().splitlines() or [f"exit code {probe.returncode}"])[-1]
                raise SandboxUnavailable(HOW_TO_ENABLE.format(reason=f"{version}: {reason}"))
    finally:
        if lease:
            lease.release()
    return version
