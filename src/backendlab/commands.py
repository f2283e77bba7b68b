"""Run a framework's own command (``flask run``, ``fastapi dev``, ``uvicorn main:app``) as its users do.

The chapters serve most apps in a kernel thread with :func:`backendlab.serve`; this module runs
the command a user would type in a terminal, in a subprocess, with the same promises::

    with run_command("flask --app hello run --port {port}", cwd="projects/flask") as server:
        print(server.banner)                      # what the command printed while starting
        requests.get(server.url + "/", timeout=5)

* ``{port}`` is replaced by a free port on 127.0.0.1 (the command must listen on it, on
  127.0.0.1 only: the defaults of ``flask run``, ``fastapi dev`` and ``uvicorn`` are 127.0.0.1;
  pass ``--host 127.0.0.1`` where the default is 0.0.0.0, as for ``fastapi run``).
* The command's first word is looked up next to this Python first (the course's ``.venv/bin``),
  so ``flask`` is the course's Flask even when JupyterLab was started without the venv on PATH.
* It runs in its own process group: stopping sends Ctrl+C (SIGINT) to the group, as a terminal
  would, then SIGTERM, then SIGKILL, and waits for the group to be gone; a re-run cell with the
  same ``name`` stops the previous process first, and the kernel stops every one when it exits.
* Everything it prints is kept in ``output`` (colours removed, the absolute working folder shown
  as the ``cwd`` you passed) and never lands in another cell.
"""

from __future__ import annotations

import collections
import contextlib
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import psutil

from backendlab import serving
from backendlab.children import prepare_child
from backendlab.serving import HOST, ServerStartError, ServingError

__all__ = ["CommandServer", "run_command"]

ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
PORT_PLACEHOLDER = "{port}"
# Attempts when another program takes the chosen port between choosing and the command's bind.
PORT_ATTEMPTS = 3
# Seconds to wait, once the command accepts connections, for a line naming its port (many servers
# print their "running on" line just after they listen); then the lines printed with it.
BANNER_WAIT = 5.0
BANNER_TAIL = 0.2


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def _resolve_program(program: str) -> str:
    beside_python = Path(sys.executable).parent / program
    if os.sep not in program and beside_python.exists():
        return str(beside_python)
    found = shutil.which(program)
    if found is None:
        raise ServingError(f"command not found: {program!r} (is it installed in this environment?)")
    return found


class CommandServer:
    """A command serving HTTP on ``127.0.0.1:<port>`` in a subprocess; stop it with :meth:`stop`."""

    kind = "command"

    def __init__(
        self,
        command: str | Sequence[str],
        *,
        name: str,
        cwd: str | os.PathLike[str] = ".",
        env: Mapping[str, str | None] | None = None,
        startup_timeout: float = 30.0,
        stop_timeout: float = 10.0,
    ) -> None:
        self.command = command if isinstance(command, str) else shlex.join(command)
        if PORT_PLACEHOLDER not in self.command and not any(
            PORT_PLACEHOLDER in (v or "") for v in (env or {}).values()
        ):
            raise ValueError(
                f"the command must say where the port goes: write {PORT_PLACEHOLDER} in it "
                "(for example 'flask --app hello run --port {port}') or in one of env's values"
            )
        self.name = name
        self.cwd = Path(cwd)
        if not self.cwd.is_dir():
            raise ServingError(f"working folder {str(cwd)!r} does not exist")
        self.extra_env = dict(env or {})  # a value of None removes the variable
        self.startup_timeout = startup_timeout
        self.stop_timeout = stop_timeout
        self.host = HOST
        self.port = 0
        self.app = None  # the registry it shares with serve() compares apps; a command has none
        self.returncode: int | None = None
        self._lines: collections.deque[str] = collections.deque(maxlen=serving.LOG_LINES_KEPT)
        self._banner_lines = 0
        self._process: subprocess.Popen[str] | None = None
        self._reader: threading.Thread | None = None
        self._stopped = False

    # -- public API ---------------------------------------------------------------------

    @property
    def url(self) -> str:
        """Base URL: ``http://127.0.0.1:<port>``."""
        return f"http://{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None and not self._stopped

    @property
    def output(self) -> str:
        """Everything the command printed so far (stdout and stderr, in order)."""
        return "\n".join(self._lines)

    @property
    def banner(self) -> str:
        """What the command printed while starting: up to the line that names its port, and the
        lines printed with it (or, for a command that never names its port, what it printed within
        :data:`BANNER_WAIT` seconds of accepting its first connection)."""
        return "\n".join(list(self._lines)[: self._banner_lines])

    @property
    def log_text(self) -> str:
        return self.output

    def start(self) -> CommandServer:
        if self._process is not None:
            raise ServingError(f"command {self.name!r} was already started; call run_command() again")
        for attempt in range(1, PORT_ATTEMPTS + 1):
            self.port = _free_port()
            try:
                self._start_once()
                return self
            except ServerStartError as exc:
                lost_port = "address already in use" in self.output.lower()
                if not lost_port or attempt == PORT_ATTEMPTS:
                    raise exc from None
                self._lines.clear()
        raise AssertionError("unreachable")  # pragma: no cover

    def stop(self) -> None:
        """Ctrl+C the command (SIGINT to its process group), wait for it, then make sure it is gone."""
        if self._process is None or self._stopped:
            return
        self._stopped = True
        group = self._process.pid
        # Ctrl+C, then Ctrl+C again as a user would if the first one was swallowed (wsgiref's request
        # handler catches every exception, KeyboardInterrupt included, while it finishes a request),
        # then SIGTERM, then SIGKILL.
        first = min(2.0, self.stop_timeout / 2)
        steps = (
            (signal.SIGINT, first),
            (signal.SIGINT, self.stop_timeout - first),
            (signal.SIGTERM, 3.0),
            (signal.SIGKILL, 3.0),
        )
        for sig, wait in steps:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(group, sig)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._process.wait(timeout=wait)
            # Every member of the group, descendant or not: a background job of a shell ignores
            # Ctrl+C, and a process whose parent exited is no longer anyone's child.
            _, alive = psutil.wait_procs(_group_members(group), timeout=wait)
            if self._process.poll() is not None and not alive:
                break
        self.returncode = self._process.poll()
        if self._reader is not None:
            self._reader.join(timeout=2)
        if self._process.stdout is not None:
            self._process.stdout.close()
        with serving._registry_lock:
            if serving._running.get(self.name) is self:
                del serving._running[self.name]

    def check(self) -> None:
        """Raise :class:`backendlab.serving.ServerCrashed` if the command has exited on its own."""
        if self._process is not None and not self._stopped and self._process.poll() is not None:
            raise serving.ServerCrashed(
                f"{self.command!r} exited with status {self._process.returncode}:\n{self._tail()}"
            )

    def __enter__(self) -> CommandServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else ("stopped" if self._stopped else "not running")
        return f"<CommandServer {self.name!r} {self.command!r} {self.url} {state}>"

    # -- internals ----------------------------------------------------------------------

    def _start_once(self) -> None:
        self._stopped = False
        argv = shlex.split(self.command.replace(PORT_PLACEHOLDER, str(self.port)))
        argv[0] = _resolve_program(argv[0])
        env = dict(os.environ)
        # What a terminal of 100 columns without colours would get; output unbuffered.
        env.update(PYTHONUNBUFFERED="1", NO_COLOR="1", TERM="dumb", COLUMNS="100")
        for name, value in self.extra_env.items():
            if value is None:
                env.pop(name, None)
            else:
                env[name] = value.replace(PORT_PLACEHOLDER, str(self.port))
        self._process = subprocess.Popen(
            argv,
            cwd=self.cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            start_new_session=True,
            preexec_fn=prepare_child if os.name == "posix" else None,
        )
        self._reader = threading.Thread(target=self._read_output, name=f"backendlab:{self.name}:output", daemon=True)
        self._reader.start()
        deadline = time.monotonic() + self.startup_timeout
        while True:
            if self._process.poll() is not None:
                self._reader.join(timeout=2)
                self._stopped = True
                if self._process.stdout is not None:
                    self._process.stdout.close()
                raise ServerStartError(
                    f"{self.command!r} exited with status {self._process.returncode} before serving:\n{self._tail()}"
                )
            try:
                with socket.create_connection((HOST, self.port), timeout=0.5):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise ServerStartError(
                        f"{self.command!r} did not listen on {HOST}:{self.port} within "
                        f"{self.startup_timeout:g} s:\n{self._tail()}"
                    ) from None
                time.sleep(0.05)
        self._wait_for_banner()

    def _wait_for_banner(self) -> None:
        """Wait for the line that names the port (the "running on" line, which many servers print
        only after they listen), at most :data:`BANNER_WAIT` seconds, then :data:`BANNER_TAIL` more
        for the lines printed with it ("Press CTRL+C to quit")."""
        assert self._process is not None
        names_port = re.compile(rf"(?<!\d){self.port}(?!\d)")
        deadline = time.monotonic() + BANNER_WAIT
        while (not any(names_port.search(line) for line in list(self._lines))
               and self._process.poll() is None and time.monotonic() < deadline):
            time.sleep(0.02)
        time.sleep(BANNER_TAIL)
        self._banner_lines = len(self._lines)

    def _read_output(self) -> None:
        assert self._process is not None and self._process.stdout is not None
        absolute = str(self.cwd.resolve())
        shown = str(self.cwd)
        with contextlib.suppress(ValueError, OSError):
            for raw in self._process.stdout:
                line = ANSI_ESCAPE.sub("", raw.rstrip("\n")).replace(absolute, shown)
                self._lines.append(line)

    def _tail(self, lines: int = 25) -> str:
        return "\n".join(list(self._lines)[-lines:]) or "(it printed nothing)"


def _group_members(group: int) -> list[psutil.Process]:
    """The live (not zombie) processes of a process group."""
    members = []
    for process in psutil.process_iter(["status"]):
        with contextlib.suppress(OSError, psutil.Error):
            if process.info["status"] != psutil.STATUS_ZOMBIE and os.getpgid(process.pid) == group:
                members.append(process)
    return members


def run_command(
    command: str | Sequence[str],
    *,
    cwd: str | os.PathLike[str] = ".",
    name: str | None = None,
    env: Mapping[str, str | None] | None = None,
    startup_timeout: float = 30.0,
    stop_timeout: float = 10.0,
) -> CommandServer:
    """Start ``command`` (with ``{port}`` replaced by a free port) and return once it accepts connections.

    ``name`` identifies it in this kernel (default: the command itself): running again under the
    same name first stops the previous process, so a re-run cell never leaves one behind.
    """
    server = CommandServer(
        command,
        name=name or (command if isinstance(command, str) else shlex.join(command)),
        cwd=cwd,
        env=env,
        startup_timeout=startup_timeout,
        stop_timeout=stop_timeout,
    )
    with serving._registry_lock:
        previous = serving._running.get(server.name)
    if previous is not None:
        with contextlib.suppress(serving.ServerCrashed):
            previous.stop()
    server.start()
    with serving._registry_lock:
        serving._running[server.name] = server  # type: ignore[assignment]
    return server
