"""Plumbing for the FastAPI chapter: reading Uvicorn's log, and timing bursts of requests.

None of it is about FastAPI itself, so the chapter keeps it out of the learner's way:

* :func:`wait_for_reload` waits, after a file in the project changed, until the development
  server (``fastapi dev``, ``uvicorn --reload``) has restarted its server process, reading the
  command's own log lines, and returns those lines.
* :func:`wait_for_line` waits until a command's log holds a line ``count`` times (one
  ``Application startup complete.`` per worker process, say), and returns those lines.
* :func:`log_lines` keeps Uvicorn's ``INFO:`` lines of a banner with the numbers that vary
  (process ids, ports) replaced, so two banners can be compared.
* :func:`burst` sends ``n`` requests at the same moment from ``n`` client threads and measures the
  wall-clock time until the last answer; :func:`threads_used` says how many threads answered.
"""

from __future__ import annotations

import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol

import requests

__all__ = [
    "RELOAD_STARTED",
    "STARTUP_COMPLETE",
    "Burst",
    "burst",
    "log_lines",
    "threads_used",
    "wait_for_line",
    "wait_for_reload",
]

# Uvicorn's log lines (uvicorn/supervisors/basereload.py and uvicorn/lifespan/on.py).
RELOAD_STARTED = "Reloading..."
STARTUP_COMPLETE = "Application startup complete."


class _HasOutput(Protocol):
    @property
    def output(self) -> str: ...


def wait_for_reload(server: _HasOutput, *, timeout: float = 20.0, poll: float = 0.05) -> list[str]:
    """Wait until the server's log shows a reload followed by a completed startup; return those lines.

    ``server`` is what :func:`backendlab.run_command` returned for a command with auto-reload. The
    lines returned run from the last ``... Reloading...`` line to the ``Application startup
    complete.`` of the restarted server process. Raises :class:`TimeoutError` (with the end of the
    log) if no reload completes within ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    while True:
        lines = server.output.splitlines()
        reloads = [i for i, line in enumerate(lines) if line.rstrip().endswith(RELOAD_STARTED)]
        if reloads:
            after = lines[reloads[-1] :]
            done = [i for i, line in enumerate(after) if line.rstrip().endswith(STARTUP_COMPLETE)]
            if done:
                return after[: done[0] + 1]
        if time.monotonic() > deadline:
            tail = "\n".join(lines[-15:]) or "(nothing)"
            raise TimeoutError(f"no completed reload within {timeout:g} s; the log ends with:\n{tail}")
        time.sleep(poll)


def wait_for_line(
    server: _HasOutput, text: str, count: int = 1, *, timeout: float = 20.0, poll: float = 0.05
) -> list[str]:
    """Wait until ``count`` lines of the server's log contain ``text``; return the first ``count`` of them.

    ``server`` is what :func:`backendlab.run_command` returned. A command with worker processes
    (``fastapi run --workers 2``) accepts connections as soon as its first worker is ready, so
    ``run_command`` can return before the others have started; this waits for their own lines. Raises
    :class:`TimeoutError` (with the end of the log) if fewer than ``count`` such lines appear
    within ``timeout`` seconds.
    """
    if count < 1:
        raise ValueError("count must be at least 1")
    deadline = time.monotonic() + timeout
    while True:
        lines = server.output.splitlines()
        found = [line for line in lines if text in line]
        if len(found) >= count:
            return found[:count]
        if time.monotonic() > deadline:
            tail = "\n".join(lines[-15:]) or "(nothing)"
            raise TimeoutError(
                f"{len(found)} of {count} lines with {text!r} within {timeout:g} s; the log ends with:\n{tail}"
            )
        time.sleep(poll)


def log_lines(banner: str) -> list[str]:
    """Uvicorn's ``INFO:`` lines of ``banner``, with every number (process ids, ports) replaced by ``N``."""
    return [re.sub(r"\d+", "N", line) for line in banner.splitlines() if line.startswith("INFO:")]


@dataclass(frozen=True)
class Burst:
    """What :func:`burst` measured: the seconds until the last answer, and every response in order."""

    seconds: float
    responses: list[requests.Response]


def burst(url: str, n: int, *, timeout: float = 30.0) -> Burst:
    """Send ``n`` GET requests to ``url`` at the same moment, from ``n`` threads; time them all.

    The threads start first and wait at a barrier, so thread start-up is not counted; the clock
    runs from their release until the last response has arrived.
    """
    if n < 1:
        raise ValueError("n must be at least 1")
    ready = threading.Barrier(n + 1)

    def one(_: int) -> requests.Response:
        ready.wait(timeout=timeout)
        return requests.get(url, timeout=timeout)

    with ThreadPoolExecutor(max_workers=n) as pool:
        futures = [pool.submit(one, i) for i in range(n)]
        ready.wait(timeout=timeout)
        started = time.perf_counter()
        responses = [future.result() for future in futures]
        seconds = time.perf_counter() - started
    return Burst(seconds=seconds, responses=responses)


def threads_used(result: Burst) -> str:
    """Which threads answered a burst, read from each JSON body's ``thread`` (name) and ``thread_id``.

    For example ``"10 thread(s) named ['AnyIO worker thread']"``: the number of distinct thread
    ids, then their distinct names, sorted.
    """
    bodies = [response.json() for response in result.responses]
    names = sorted({body["thread"] for body in bodies})
    return f"{len({body['thread_id'] for body in bodies})} thread(s) named {names}"
