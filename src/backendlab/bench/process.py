"""Child processes of the harness: a server per framework, the load generator, wrk.

Every child runs in its own session (``start_new_session=True``), so stopping it kills its
whole process group, whatever it spawned; every wait has a deadline. A child also gets SIGTERM
if the harness dies without stopping it (:func:`backendlab.children.prepare_child`).
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from typing import IO, Any

import psutil

from backendlab.bench.serve import READY_PREFIX
from backendlab.children import prepare_child

__all__ = ["ChildTimeout", "ResourceSampler", "ServerProcess", "ServerStartFailed", "cpu_placement", "pin", "run_child"]

CHILD_ENV = {"PYTHONUNBUFFERED": "1", "NO_COLOR": "1", "PYTHONWARNINGS": "ignore"}


class ServerStartFailed(RuntimeError):
    """The server process exited, stayed silent, or did not answer within the startup timeout."""


class ChildTimeout(RuntimeError):
    """A child process did not finish in time and was killed with its process group."""


def kill_group(process: subprocess.Popen, grace: float = 3.0) -> None:
    """SIGTERM the child's process group, then SIGKILL it if it is still there after ``grace``."""
    if process.poll() is not None:
        return  # reaped: its id may be reused, so never signal it again
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        pass
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(grace)


def cpu_placement() -> tuple[set[int], set[int]] | None:
    """``(server CPUs, load-generator CPUs)``: two different CPUs of those this process may use,
    or ``None`` when there is only one (or the platform cannot pin processes).

    Pinning puts the server under test and the load generator on CPUs of their own, as the
    method asks, and keeps them from being moved between CPUs mid-run: unpinned, the same run
    against a Flask server varied threefold here from one attempt to the next."""
    try:
        usable = sorted(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return None
    if len(usable) < 2:
        return None
    return {usable[0]}, {usable[1]}


def pin(pid: int, cpus: set[int] | None) -> None:
    """Restrict every thread of process ``pid`` (and so whatever it starts later) to ``cpus``."""
    if not cpus:
        return
    try:
        threads = [int(t) for t in os.listdir(f"/proc/{pid}/task")]
    except OSError:
        threads = [pid]
    for thread in threads:
        with contextlib.suppress(ProcessLookupError, PermissionError, OSError):
            os.sched_setaffinity(thread, cpus)


def _child_env() -> dict[str, str]:
    return {**os.environ, **CHILD_ENV}


class ServerProcess:
    """A contract app served by ``python -m backendlab.bench.serve KEY`` in a process of its own.

    ``start()`` returns once the server has reported its port and answered ``probe_path``
    with 200; otherwise it kills the process and raises :class:`ServerStartFailed` with the
    tail of the server's log. ``stop()`` kills the process group. ``command`` replaces the
    child's command line (tests use it for servers that fail or hang).
    """

    def __init__(
        self,
        key: str,
        *,
        startup_timeout: float = 20.0,
        probe_path: str = "/plaintext",
        command: Sequence[str] | None = None,
        cpus: set[int] | None = None,
    ) -> None:
        self.key = key
        self.cpus = cpus
        self.startup_timeout = startup_timeout
        self.probe_path = probe_path
        self.command = list(command) if command else [sys.executable, "-m", "backendlab.bench.serve", key]
        self.process: subprocess.Popen | None = None
        self.port: int | None = None
        self.startup_s: float | None = None
        self._launched = 0.0
        self._log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def log_tail(self, chars: int = 2000) -> str:
        if self._log is None:
            return ""
        self._log.flush()
        self._log.seek(0, os.SEEK_END)
        size = self._log.tell()
        self._log.seek(max(0, size - chars))
        return self._log.read().decode(errors="replace")

    def start(self) -> ServerProcess:
        """Launch the process and wait until it serves (see :meth:`launch` and :meth:`wait_ready`)."""
        self.launch()
        return self.wait_ready()

    def launch(self) -> ServerProcess:
        """Start the process and return at once; several servers can start side by side."""
        self._launched = time.monotonic()
        self._log = tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            self.command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self._log,
            start_new_session=True, env=_child_env(), preexec_fn=prepare_child if os.name == "posix" else None,
        )
        pin(self.process.pid, self.cpus)  # before the interpreter has started any thread
        return self

    def wait_ready(self) -> ServerProcess:
        """Wait for the port report and a 200 answer, until ``startup_timeout`` after the launch."""
        deadline = self._launched + self.startup_timeout
        try:
            self.port = self._read_port(deadline)
            self._probe(deadline)
        except BaseException:
            self.stop()
            raise
        self.startup_s = time.monotonic() - self._launched
        return self

    def _fail(self, reason: str) -> ServerStartFailed:
        tail = self.log_tail().strip()
        return ServerStartFailed(f"{self.key}: {reason}" + (f"\n--- server log ---\n{tail}" if tail else ""))

    def _read_port(self, deadline: float) -> int:
        assert self.process is not None and self.process.stdout is not None
        stdout = self.process.stdout
        buffer = b""
        with selectors.DefaultSelector() as selector:
            selector.register(stdout, selectors.EVENT_READ)
            while True:
                lines = buffer.split(b"\n")
                for line in lines[:-1]:  # complete lines; anything printed before the announcement is skipped
                    text = line.decode(errors="replace")
                    if text.startswith(READY_PREFIX):
                        fields = dict(part.split("=", 1) for part in text.split()[1:] if "=" in part)
                        return int(fields["port"])
                buffer = lines[-1]
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise self._fail(f"reported no port within {self.startup_timeout:g} s")
                if selector.select(min(remaining, 0.1)):
                    chunk = os.read(stdout.fileno(), 4096)
                    if not chunk:
                        code = self.process.wait(5)
                        raise self._fail(f"exited with code {code} before serving")
                    buffer += chunk

    def _probe(self, deadline: float) -> None:
        assert self.process is not None
        last_error = "no answer"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise self._fail(f"exited with code {self.process.returncode} after reporting its port")
            try:
                with urllib.request.urlopen(self.url + self.probe_path, timeout=2) as response:
                    if response.status == 200:
                        return
                    last_error = f"status {response.status}"
            except (OSError, urllib.error.URLError) as exc:
                last_error = f"{type(exc).__name__}: {exc}"
            time.sleep(0.05)
        raise self._fail(f"did not answer GET {self.probe_path} within {self.startup_timeout:g} s ({last_error})")

    def rss(self) -> int | None:
        """Resident memory of the server process (bytes), None once it has gone."""
        try:
            return psutil.Process(self.pid).memory_info().rss
        except (psutil.Error, AssertionError):
            return None

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        """Kill the server's process group and close its pipes and log. Safe to call twice."""
        if self.process is not None:
            kill_group(self.process)
            if self.process.stdout is not None:
                self.process.stdout.close()
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def run_child(command: Sequence[str], timeout: float, cpus: set[int] | None = None) -> str:
    """Run ``command`` in its own process group (on ``cpus`` if given) and return its stdout;
    kill the group at ``timeout``."""
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(
            list(command), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=errors,
            start_new_session=True, env=_child_env(), preexec_fn=prepare_child if os.name == "posix" else None,
        )
        pin(process.pid, cpus)
        try:
            stdout, _ = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            kill_group(process, grace=1.0)
            process.communicate()
            raise ChildTimeout(f"{command[0]} did not finish within {timeout:g} s; killed") from exc
        finally:
            kill_group(process, grace=1.0)
        if process.returncode != 0:
            errors.seek(0)
            raise RuntimeError(
                f"{' '.join(command[:4])} ... exited with {process.returncode}: "
                f"{errors.read().decode(errors='replace')[-1500:]}"
            )
        return stdout.decode()


def run_client(spec_json: str, timeout: float, cpus: set[int] | None = None) -> dict[str, Any]:
    """Run the load generator in its own process (on ``cpus`` if given) and return its JSON result."""
    out = run_child([sys.executable, "-m", "backendlab.bench.client", spec_json], timeout, cpus)
    return json.loads(out.strip().splitlines()[-1])


class ResourceSampler:
    """Samples a process's RSS (and, optionally, its established TCP connections) in a thread.

    Use as a context manager around a measurement; ``peak_rss`` and ``peak_connections`` hold
    the largest values seen. The thread is joined on exit.
    """

    def __init__(self, pid: int, interval: float = 0.05, connections_every: int = 4) -> None:
        self.pid = pid
        self.interval = interval
        self.connections_every = connections_every
        self.peak_rss = 0
        self.peak_connections = 0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="backendlab-bench-sampler", daemon=True)

    def _run(self) -> None:
        try:
            process = psutil.Process(self.pid)
            while True:
                self.peak_rss = max(self.peak_rss, process.memory_info().rss)
                if self.connections_every and self.samples % self.connections_every == 0:
                    established = [c for c in process.net_connections("tcp") if c.status == psutil.CONN_ESTABLISHED]
                    self.peak_connections = max(self.peak_connections, len(established))
                self.samples += 1
                if self._stop.wait(self.interval):
                    return
        except psutil.Error:
            return

    def __enter__(self) -> ResourceSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join(10)
