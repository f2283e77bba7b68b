"""A JupyterHub classroom on one machine: an instructor, students, nbgrader's exchange, the course.

``make hub`` starts one for an instructor to try the class; tests/test_classroom.py runs the whole
loop on it (pull the course, release, fetch, submit, collect, grade, return feedback)::

    with Classroom(course=Path(".")) as room:
        print(room.url, room.accounts)
        room.run_as(room.student(1), ["nbgrader", "list", "--course", "backend-lab"])

What it creates, all of it removed by :meth:`Classroom.stop` (and a classroom left behind by a
killed process is removed by the next one):

* local accounts (``useradd``) with random passwords and homes only their owner can enter, marked
  in their comment field as this classroom's;
* a folder (system temp) with the homes, nbgrader's exchange, the hub's state and the per-role
  Jupyter configuration, and the course as a git repository served over HTTP on 127.0.0.1 (the
  ``repo=`` of the nbgitpuller link);
* JupyterHub with its proxy (configurable-http-proxy from ``hub/node_modules``), on 127.0.0.1.

Creating accounts and starting servers as other users needs root: without it the classroom raises
:class:`ClassroomUnavailable` saying so.

The hub runs in a mount namespace of its own (``bwrap`` as root: no user namespace, no other
change): there, the folders above the course's Python and the course checkout that other users
cannot enter (``/root`` is ``0700`` where pyenv installed Python) are replaced by empty ``0755``
folders holding only those two, read-only. The machine itself is not changed.
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import requests

from backendlab.commands import _free_port  # a free port on 127.0.0.1

HOST = "127.0.0.1"
COURSE_ID = "backend-lab"
CHECKOUT = "backend-lab"  # the course's folder in every home
MARK = "Backend Lab classroom"  # the comment field of every account a classroom creates
ROOT = Path(__file__).resolve().parents[3]
PROXY = ROOT / "hub" / "node_modules" / ".bin" / "configurable-http-proxy"


class ClassroomUnavailable(RuntimeError):
    """This machine (or this user) cannot run the classroom; the message says what is missing."""


@dataclass(frozen=True)
class Account:
    """A local account of the classroom."""

    name: str
    role: str  # "instructor" or "student"
    password: str
    home: Path

    @property
    def course(self) -> Path:
        """The course checkout in this account's home."""
        return self.home / CHECKOUT


def check_requirements() -> None:
    """Raise :class:`ClassroomUnavailable` naming what this machine lacks."""
    if os.geteuid() != 0:
        raise ClassroomUnavailable(
            "the classroom creates local accounts and starts each user's JupyterLab as that user, "
            "which needs root: run it as root on a machine you can throw away (CI, a VM or a container)"
        )
    missing = [tool for tool in ("useradd", "userdel", "chpasswd", "bwrap", "setpriv", "git")
               if shutil.which(tool) is None]
    if missing:
        raise ClassroomUnavailable(f"missing commands: {', '.join(missing)} (Debian: passwd, bubblewrap, "
                                   "util-linux, git)")
    if not PROXY.exists():
        raise ClassroomUnavailable(
            f"JupyterHub's proxy is not installed ({PROXY.relative_to(ROOT)}): `make hub-proxy` installs "
            "configurable-http-proxy from the npm registry (needs Node.js and npm)"
        )


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _kill_user_processes(name: str) -> None:
    """SIGKILL every process of the account until none is left."""
    for _ in range(50):
        if subprocess.run(["pkill", "-KILL", "-u", name], capture_output=True).returncode == 1:
            return  # no process matched
        time.sleep(0.1)
    raise RuntimeError(f"processes of {name} survive SIGKILL")


def remove_account(name: str) -> None:
    """Stop the account's processes and delete it with its home."""
    _kill_user_processes(name)
    subprocess.run(["userdel", "--remove", name], capture_output=True, check=False)


def remove_abandoned_accounts() -> list[str]:
    """Delete the accounts of classrooms whose process has died (a killed test run, a crash)."""
    removed = []
    for entry in pwd.getpwall():
        found = re.fullmatch(rf"{MARK} pid=(\d+)", entry.pw_gecos)
        if found and not _alive(int(found.group(1))):
            remove_account(entry.pw_name)
            removed.append(entry.pw_name)
    return removed


class Classroom:
    """A JupyterHub on 127.0.0.1 with one instructor and ``students`` students, and the course.

    ``prefix`` starts every account name (a test uses a random one, so that runs never collide).
    """

    def __init__(
        self,
        course: Path = ROOT,
        *,
        students: int = 2,
        prefix: str = "blab-",
        folder: Path | None = None,
        test_service: bool = False,
    ) -> None:
        self.course_source = Path(course).resolve()
        self.prefix = prefix
        self.student_count = students
        self.folder_parent = folder
        self.test_service_token = secrets.token_hex(32) if test_service else None
        self.accounts: list[Account] = []
        self.url = ""
        self.repo_url = ""
        self.branch = ""
        self.hub: subprocess.Popen | None = None
        self.folder: Path | None = None
        self.timings: dict[str, float] = {}
        self._git_daemon: subprocess.Popen | None = None

    # -- accounts --------------------------------------------------------------------------------

    @property
    def instructor(self) -> Account:
        return self.accounts[0]

    def student(self, number: int) -> Account:
        """The ``number``-th student (1-based)."""
        return self.accounts[number]

    @property
    def students(self) -> list[Account]:
        return self.accounts[1:]

    def _create_account(self, role: str, suffix: str) -> Account:
        name = f"{self.prefix}{suffix}"
        home = self.folder / "home" / name
        subprocess.run(
            ["useradd", "--create-home", "--home-dir", str(home), "--shell", "/bin/bash", "--user-group",
             "--comment", f"{MARK} pid={os.getpid()}", name],
            check=True, capture_output=True, text=True,
        )
        password = secrets.token_urlsafe(12)
        subprocess.run(["chpasswd"], input=f"{name}:{password}\n", check=True, capture_output=True, text=True)
        home.chmod(0o700)  # a home only its owner can enter
        account = Account(name, role, password, home)
        self.accounts.append(account)
        return account

    # -- the view every classroom process runs in --------------------------------------------------

    def _view(self) -> list[str]:
        """bwrap arguments: this machine, with the course's Python and checkout reachable by every user."""
        needed = [Path(sys.base_prefix).resolve(), ROOT]
        blocked: dict[Path, list[Path]] = {}
        for path in needed:
            for parent in reversed(path.parents):
                if parent != Path("/") and not os.stat(parent).st_mode & 0o001:
                    blocked.setdefault(parent, []).append(path)
                    break
        args = ["bwrap", "--dev-bind", "/", "/", "--die-with-parent"]
        for parent, paths in blocked.items():
            args += ["--perms", "0755", "--tmpfs", str(parent)]
            for path in paths:
                for step in reversed(path.relative_to(parent).parents[:-1]):
                    args += ["--perms", "0755", "--dir", str(parent / step)]
                args += ["--ro-bind", str(path), str(path)]
        return args

    def run_as(
        self,
        account: Account,
        argv: list[str],
        *,
        cwd: Path | None = None,
        timeout: float = 300,
        check: bool = True,
        env: dict[str, str] | None = None,
    ) -> subprocess.CompletedProcess:
        """Run a command as ``account`` would in a terminal of their JupyterLab, and return it."""
        environment = {
            "HOME": str(account.home),
            "USER": account.name,
            "LOGNAME": account.name,
            "PATH": f"{self.bin}:/usr/local/bin:/usr/bin:/bin",
            "JUPYTER_CONFIG_PATH": str(self.folder / "config" / account.role),
            "LANG": "C.UTF-8",
            **(env or {}),
        }
        command = [
            *self._view(), "--chdir", str(cwd or account.home), "--",
            "setpriv", f"--reuid={account.name}", f"--regid={account.name}", "--init-groups",
            "env", "-i", *(f"{key}={value}" for key, value in environment.items()), *argv,
        ]
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
        if check and result.returncode != 0:
            raise RuntimeError(
                f"{account.name}: {' '.join(argv)} exited with {result.returncode}\n"
                f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
            )
        return result

    # -- set-up ----------------------------------------------------------------------------------

    @property
    def bin(self) -> str:
        """The course environment's bin folder (the users' PATH starts with it)."""
        return str(Path(sys.executable).parent)

    def _serve_course_repository(self) -> None:
        """The course as a bare git repository that ``git daemon`` serves read-only on 127.0.0.1.

        nbgitpuller clones with ``--depth 1``, which git's plain-HTTP ("dumb") transport refuses, so
        the course is served with git's own protocol, as a git host would serve it.
        """
        base = self.folder / "git"
        repository = base / f"{CHECKOUT}.git"
        branch = subprocess.run(["git", "-C", str(self.course_source), "rev-parse", "--abbrev-ref", "HEAD"],
                                capture_output=True, text=True, check=True).stdout.strip()
        self.branch = "main" if branch == "HEAD" else branch
        subprocess.run(["git", "clone", "--quiet", "--bare", "--no-local", str(self.course_source), str(repository)],
                       check=True, capture_output=True, text=True)
        port = _free_port()
        self._git_daemon = subprocess.Popen(
            ["git", "daemon", "--reuseaddr", "--export-all", "--informative-errors", f"--listen={HOST}",
             f"--port={port}", f"--base-path={base}", str(base)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )
        self.repo_url = f"git://{HOST}:{port}/{CHECKOUT}.git"
        deadline = time.monotonic() + 20
        while subprocess.run(["git", "ls-remote", self.repo_url], capture_output=True).returncode != 0:
            if self._git_daemon.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"git daemon did not serve the course on port {port}")
            time.sleep(0.1)

    def _write_role_config(self) -> None:
        exchange = self.folder / "exchange"
        common = (f"c = get_config()  # noqa: F821\n"
                  f"c.Exchange.root = {str(exchange)!r}\n"
                  f"c.CourseDirectory.course_id = {COURSE_ID!r}\n")
        student = self.folder / "config" / "student"
        (student / "labconfig").mkdir(parents=True)
        (student / "nbgrader_config.py").write_text(common)
        # Students get the assignment list; not the instructor's tools (see book/student-guide.md).
        (student / "labconfig" / "page_config.json").write_text(json.dumps({"disabledExtensions": {
            "@jupyter/nbgrader:formgrader": True, "@jupyter/nbgrader:create-assignment": True,
            "@jupyter/nbgrader:course-list": True}}, indent=1))
        (student / "jupyter_server_config.json").write_text(json.dumps({"ServerApp": {"jpserver_extensions": {
            "nbgrader.server_extensions.formgrader": False,
            "nbgrader.server_extensions.course_list": False}}}, indent=1))
        instructor = self.folder / "config" / "instructor"
        instructor.mkdir(parents=True)
        course = self.instructor.course
        (instructor / "nbgrader_config.py").write_text(
            common
            + f"load_subconfig('nbgrader_config.py', path={str(course)!r})  # noqa: F821\n"
            + f"c.CourseDirectory.root = {str(course)!r}\n"
            + f"c.CourseDirectory.db_url = 'sqlite:///{course}/gradebook.db'\n"
        )
        for path in (self.folder / "config").rglob("*"):
            path.chmod(0o755 if path.is_dir() else 0o644)
        (self.folder / "config").chmod(0o755)
        exchange.mkdir(mode=0o777)
        exchange.chmod(0o777)  # nbgrader's docs: every user of the hub reads and writes the exchange

    def _write_hub_settings(self) -> Path:
        state = self.folder / "state"
        state.mkdir(mode=0o700)
        settings = {
            "port": _free_port(), "hub_port": _free_port(), "proxy_api_port": _free_port(),
            "proxy": str(PROXY), "state": str(state), "bin": self.bin, "config": str(self.folder / "config"),
            "roles": {account.name: account.role for account in self.accounts},
            "test_service_token": self.test_service_token,
        }
        path = state / "classroom.json"
        path.write_text(json.dumps(settings, indent=1))
        self.url = f"http://{HOST}:{settings['port']}"
        return path

    def pull_link(self, path: str = "notebooks/introduction.ipynb") -> str:
        """The nbgitpuller link that puts the course in a user's home and opens ``path`` in JupyterLab."""
        return (f"{self.url}/hub/user-redirect/git-pull?repo={requests.utils.quote(self.repo_url, safe='')}"
                f"&branch={self.branch}&targetpath={CHECKOUT}&urlpath=lab/tree/{CHECKOUT}/{path}")

    def start(self) -> Classroom:
        """Create the accounts and folders, start the hub and wait until it answers."""
        check_requirements()
        started = time.perf_counter()
        remove_abandoned_accounts()
        parent = self.folder_parent or Path(tempfile.gettempdir())
        self.folder = Path(tempfile.mkdtemp(prefix="backendlab-classroom-", dir=parent))
        try:
            self.folder.chmod(0o755)
            (self.folder / "home").mkdir(mode=0o755)
            (self.folder / "git").mkdir(mode=0o755)
            self._create_account("instructor", "instructor")
            for number in range(1, self.student_count + 1):
                self._create_account("student", f"student{number}")
            self._serve_course_repository()
            self._write_role_config()
            # The instructor's own checkout of the course (where they generate, collect and grade).
            self.run_as(self.instructor, ["git", "clone", "--quiet", "--branch", self.branch, self.repo_url, CHECKOUT])
            self.run_as(self.instructor, ["chmod", "700", str(self.instructor.course)])
            settings = self._write_hub_settings()
            self.timings["set-up"] = time.perf_counter() - started
            self._start_hub(settings)
        except BaseException:
            self.stop()
            raise
        self.timings["hub start"] = time.perf_counter() - started - self.timings["set-up"]
        return self

    def _start_hub(self, settings: Path) -> None:
        log = open(self.folder / "state" / "jupyterhub.log", "ab")  # noqa: SIM115 - closed in stop()
        self._hub_log = log
        config = Path(__file__).with_name("jupyterhub_config.py")
        self.hub = subprocess.Popen(
            [*self._view(), "--chdir", str(self.folder / "state"), "--",
             str(Path(self.bin) / "jupyterhub"), "-f", str(config)],
            env={**os.environ, "BACKENDLAB_CLASSROOM": str(settings)},
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
        )
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.hub.poll() is not None:
                raise RuntimeError(f"JupyterHub exited with {self.hub.returncode}:\n{self.hub_log()[-4000:]}")
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"{self.url}/hub/api/", timeout=2).status_code == 200:
                    return
            time.sleep(0.3)
        raise RuntimeError(f"JupyterHub did not answer within 90 s:\n{self.hub_log()[-4000:]}")

    def hub_log(self) -> str:
        """What JupyterHub and its proxy printed so far."""
        path = self.folder / "state" / "jupyterhub.log" if self.folder else None
        return path.read_text(errors="replace") if path and path.exists() else ""

    # -- tear-down -------------------------------------------------------------------------------

    def stop(self) -> None:
        """Stop the hub and every user's process, delete the accounts and the folder."""
        if self.hub and self.hub.poll() is None:
            # SIGTERM to JupyterHub itself (bwrap's child): it stops the users' servers, then its proxy.
            # (Not to bwrap: its child would get SIGKILL, --die-with-parent, and clean up nothing.)
            children = Path(f"/proc/{self.hub.pid}/task/{self.hub.pid}/children")
            with contextlib.suppress(OSError, ValueError):
                for pid in children.read_text().split():
                    os.kill(int(pid), signal.SIGTERM)
            try:
                self.hub.wait(30)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.hub.pid, signal.SIGKILL)
                self.hub.wait(10)
        if getattr(self, "_hub_log", None):
            self._hub_log.close()
        if self._git_daemon and self._git_daemon.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._git_daemon.pid, signal.SIGTERM)  # the daemon and its upload-pack children
            self._git_daemon.wait(10)
        for account in self.accounts:
            remove_account(account.name)
        self.accounts = []
        if self.folder and self.folder.exists():
            shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> Classroom:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
