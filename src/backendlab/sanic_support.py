"""Plumbing for the Sanic chapter, kept out of the learner's way.

None of it is about Sanic itself:

* :func:`wait_for_workers` waits until the ``sanic`` command's worker processes say they are ready,
  reading the command's own log lines, and until the worker manager has taken note; it returns the
  workers' process ids.
* :func:`is_running` tells whether a process still runs (a zombie, finished but not yet reaped by
  its parent, does not count).
* :func:`listens` tells whether a process holds a socket listening on a port.
* :func:`raw_exchange` sends bytes that no HTTP library would send (an HTTP/1.0 request, the
  HTTP/2 connection preface) on a fresh connection and returns everything the server answers;
  :func:`status_and_headers` splits that answer.
* :func:`ws_exchange` sends WebSocket messages and collects one reply to each, for self-checks that
  must say what went wrong instead of raising.
"""

from __future__ import annotations

import asyncio
import re
import socket
import time
from collections.abc import Iterable
from typing import Protocol

import psutil

__all__ = [
    "WORKER_READY",
    "is_running",
    "listens",
    "raw_exchange",
    "status_and_headers",
    "wait_for_workers",
    "ws_exchange",
]

# The line each Sanic worker logs once it serves (sanic/server/runners.py, _run_server_forever).
WORKER_READY = re.compile(r"Worker ready \[(\d+)\]")


class _HasOutput(Protocol):
    @property
    def output(self) -> str: ...


def wait_for_workers(
    server: _HasOutput, count: int, *, timeout: float = 30.0, settle: float = 1.0, poll: float = 0.05
) -> list[int]:
    """Wait until ``count`` workers have logged ``Worker ready [pid]``; return their pids in log order.

    ``server`` is what :func:`backendlab.run_command` returned for ``sanic ...``. After the lines
    appear it waits ``settle`` seconds more: the worker manager checks every 0.1 s whether all workers
    have acknowledged their start (``WorkerManager.wait_for_ack`` in ``sanic/worker/manager.py``), and
    a Ctrl+C that arrives before it has seen them makes it kill the whole process group with SIGKILL
    instead of stopping the workers. One second is ten of those checks. Raises
    :class:`TimeoutError` (with the end of the log) if fewer workers are ready after ``timeout`` s.
    """
    deadline = time.monotonic() + timeout
    while True:
        pids = [int(pid) for pid in WORKER_READY.findall(server.output)]
        if len(pids) >= count:
            time.sleep(settle)
            return pids
        if time.monotonic() > deadline:
            tail = "\n".join(server.output.splitlines()[-15:]) or "(nothing)"
            raise TimeoutError(f"{len(pids)} of {count} workers ready after {timeout:g} s; the log ends with:\n{tail}")
        time.sleep(poll)


def is_running(pid: int) -> bool:
    """True while the process runs; False once it has exited (a zombie counts as exited)."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def listens(pid: int, port: int) -> bool:
    """True if the process holds a socket listening on ``port``."""
    return any(c.status == psutil.CONN_LISTEN and c.laddr.port == port for c in psutil.Process(pid).net_connections())


def raw_exchange(host: str, port: int, data: bytes, *, timeout: float = 5.0) -> bytes:
    """Send ``data`` on a new connection; return everything the server sends until it closes it."""
    received = bytearray()
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(data)
        while chunk := sock.recv(65536):  # b"" once the server has closed the connection
            received += chunk
    return bytes(received)


def status_and_headers(reply: bytes) -> tuple[str, dict[str, str], bytes]:
    """Split a raw HTTP/1.x answer into its status line, headers (names in lower case) and body."""
    head, _, body = reply.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return status_line, headers, body


async def ws_exchange(url: str, messages: Iterable[str], *, timeout: float = 5.0) -> list[str] | str:
    """Send each message to the WebSocket at ``url`` and wait for one reply to it.

    Returns the replies, or, when that fails, a sentence saying what happened instead (the
    handshake refused with a status, no reply in time, the connection closed by the server).
    """
    import websockets
    from websockets.exceptions import ConnectionClosed, InvalidStatus

    replies: list[str] = []
    try:
        async with websockets.connect(url, open_timeout=timeout) as ws:
            for message in messages:
                await ws.send(message)
                reply = await asyncio.wait_for(ws.recv(), timeout)
                replies.append(reply if isinstance(reply, str) else reply.decode("utf-8", "replace"))
    except InvalidStatus as exc:
        return f"the server refused the WebSocket handshake with {exc.response.status_code}"
    except TimeoutError:  # asyncio.TimeoutError is TimeoutError since Python 3.11
        return f"no reply within {timeout:g} s after {len(replies)} replies {replies!r}"
    except ConnectionClosed as exc:
        return f"the server closed the connection after {len(replies)} replies {replies!r} ({exc})"
    except OSError as exc:
        return f"could not connect ({exc})"
    return replies
