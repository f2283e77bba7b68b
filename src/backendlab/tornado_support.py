"""Plumbing for the Tornado chapter: measuring, client-side parsing and notebook workarounds.

None of it is about Tornado's own idiom, so the chapter keeps it out of the learner's way:

* :func:`burst` sends ``n`` requests at the same moment and measures the time until the last
  answer; :func:`ping_during` times one request sent while another is inside its handler.
* :func:`hold_connections` opens ``n`` long-poll requests that the server holds, reads the
  server's own count over HTTP, measures what holding them costs (memory, file descriptors),
  releases them and collects every answer. It raises the process's limit on open files for the
  time it needs them, and puts the old limit back.
* :func:`connections_until_emfile` lets a child process run into a low limit on open files.
* :func:`ws_connect` and :func:`ws_receive` wrap Tornado's WebSocket client with a timeout on
  every wait and a resolver that leaves no thread behind in the kernel.
  :func:`ws_exchange` sends messages one by one, collects the answers and tells whether the
  server closed the connection afterwards (for a self-check that must never raise).
* :func:`read_sse_events` parses the first events of a ``text/event-stream`` response.
"""

from __future__ import annotations

import asyncio
import json
import re
import resource
import subprocess
import sys
import textwrap
import time
import tracemalloc
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import psutil

from backendlab.loadclient import ConcurrentRequests, NumericResolver, Response, ensure_fd_limit, fetch_concurrently

__all__ = [
    "Burst",
    "Exchange",
    "Held",
    "burst",
    "connections_until_emfile",
    "hold_connections",
    "ping_during",
    "read_sse_events",
    "ws_connect",
    "ws_exchange",
    "ws_receive",
]

TIMEOUT = 5.0  # seconds for one request or one WebSocket message


@dataclass(frozen=True)
class Burst:
    """What :func:`burst` measured: the seconds until the last answer, and every response in order."""

    seconds: float
    responses: list[Response] = field(repr=False)

    @property
    def statuses(self) -> list[int]:
        return [response.status for response in self.responses]


async def burst(url: str, n: int, *, timeout: float = 60.0) -> Burst:
    """Send ``n`` requests to ``url`` at the same moment, each on its own connection; time the last answer."""
    started = time.perf_counter()
    responses = await fetch_concurrently(url, n, timeout=timeout)
    return Burst(time.perf_counter() - started, responses)


async def ping_during(slow_url: str, ping_url: str, *, head_start: float = 0.1, timeout: float = 30.0) -> float:
    """Start one request to ``slow_url``; ``head_start`` seconds later, time one request to ``ping_url``.

    Returns the seconds the second request took. Both must answer 200, or ``AssertionError`` says which did not.
    """
    slow = asyncio.ensure_future(fetch_concurrently(slow_url, 1, timeout=timeout))
    try:
        await asyncio.sleep(head_start)  # the slow request is inside its handler by now
        started = time.perf_counter()
        (ping,) = await fetch_concurrently(ping_url, 1, timeout=timeout)
        waited = time.perf_counter() - started
    finally:
        (slow_response,) = await slow
    assert ping.status == 200, f"{ping_url} answered {ping.status}"
    assert slow_response.status == 200, f"{slow_url} answered {slow_response.status}"
    return waited


@dataclass(frozen=True)
class Held:
    """What :func:`hold_connections` saw and measured."""

    n: int
    opened: int  # connections the client had open at once
    waiting: int  # requests the server said it was holding, all at the same time
    final: dict[str, Any]  # the server's counts after the release
    statuses: set[int]
    bodies: list[str] = field(repr=False)  # every answer, in the order the requests were opened
    seconds: float  # the whole round: open, hold, release, read every answer
    rss_growth: int  # bytes of resident memory the process gained while holding them
    fds_per_connection: float  # file descriptors opened per held connection (client and server ends)
    python_bytes: int | None  # Python memory (tracemalloc) allocated while holding them, if traced

    @property
    def python_kb_per_connection(self) -> float | None:
        return None if self.python_bytes is None else self.python_bytes / self.n / 1024


async def _status(url: str) -> dict[str, Any]:
    (response,) = await fetch_concurrently(url, 1, timeout=TIMEOUT)
    return json.loads(response.body)


async def hold_connections(
    base_url: str,
    n: int,
    *,
    wait_path: str = "/wait",
    status_path: str = "/gate",
    release_path: str = "/release",
    batch: int = 100,
    timeout: float = 60.0,
    trace_python_memory: bool = False,
) -> Held:
    """Hold ``n`` requests to ``wait_path`` open at once, then release them with ``POST release_path``.

    ``GET status_path`` must answer JSON with a ``"waiting"`` count. The client opens its
    connections ``batch`` at a time, so that a burst never overflows the server's listen backlog.
    Client and server share this process, so each connection costs two file descriptors here;
    the soft limit on open files is raised for the round if it is too low, and restored after it.
    """
    process = psutil.Process()
    soft_before, _ = ensure_fd_limit(2 * n + process.num_fds() + 200)  # both ends, what is open, a margin
    started = time.perf_counter()
    try:
        if trace_python_memory:
            tracemalloc.start()
        try:
            traced_before = tracemalloc.get_traced_memory()[0] if trace_python_memory else 0
            rss_before, fds_before = process.memory_info().rss, process.num_fds()
            async with ConcurrentRequests(base_url + wait_path, n, batch=batch, timeout=timeout) as held:
                opened = len(held)
                deadline = time.monotonic() + timeout
                while (status := await _status(base_url + status_path))["waiting"] < n:
                    if time.monotonic() > deadline:
                        raise TimeoutError(f"the server held {status['waiting']} of {n} requests after {timeout:g} s")
                    await asyncio.sleep(0.02)
                rss_held, fds_held = process.memory_info().rss, process.num_fds()
                python_bytes = tracemalloc.get_traced_memory()[0] - traced_before if trace_python_memory else None
                (released,) = await fetch_concurrently(base_url + release_path, 1, method="POST", timeout=TIMEOUT)
                assert released.status == 200, f"POST {release_path} answered {released.status}"
                responses = await held.responses()
        finally:
            if trace_python_memory:
                tracemalloc.stop()
        final = await _status(base_url + status_path)
    finally:
        hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft_before, hard))
    return Held(
        n=n,
        opened=opened,
        waiting=status["waiting"],
        final=final,
        statuses={response.status for response in responses},
        bodies=[response.text for response in responses],
        seconds=time.perf_counter() - started,
        rss_growth=rss_held - rss_before,
        fds_per_connection=(fds_held - fds_before) / n if n else 0.0,
        python_bytes=python_bytes,
    )


_RUN_OUT_OF_DESCRIPTORS = textwrap.dedent(
    """
    import errno, resource, socket, sys
    resource.setrlimit(resource.RLIMIT_NOFILE, (int(sys.argv[1]), resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
    listener = socket.create_server(("127.0.0.1", 0), backlog=128)
    sockets = []
    try:
        for _ in range(100_000):
            sockets.append(socket.create_connection(listener.getsockname(), timeout=5))
            sockets.append(listener.accept()[0])
    except OSError as exc:
        print(len(sockets) // 2, errno.errorcode[exc.errno], exc.strerror)
    """
)


def connections_until_emfile(soft_limit: int = 64) -> tuple[int, str, str]:
    """In a child process with ``soft_limit`` open files, connect to itself until the limit stops it.

    Returns ``(connections made, error name, error message)``, for example ``(29, "EMFILE", "Too many
    open files")``. The child holds both ends of each connection, two descriptors per connection.
    """
    child = subprocess.run(
        [sys.executable, "-c", _RUN_OUT_OF_DESCRIPTORS, str(soft_limit)],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    count, error, message = child.stdout.split(maxsplit=2)
    return int(count), error, message.strip()


def _ws_url(url: str) -> str:
    return re.sub(r"^http(s?)://", r"ws\1://", url)


async def ws_connect(url: str, *, timeout: float = TIMEOUT) -> Any:
    """``tornado.websocket.websocket_connect(url)``, given up after ``timeout`` seconds.

    ``http://`` URLs become ``ws://``. The resolver turns ``127.0.0.1`` into an address without a
    thread: Tornado's default resolver runs in the event loop's thread pool, whose thread would
    stay in the kernel for as long as the kernel runs.
    """
    import tornado.websocket

    return await asyncio.wait_for(
        tornado.websocket.websocket_connect(_ws_url(url), resolver=NumericResolver()), timeout
    )


async def ws_receive(connection: Any, *, timeout: float = TIMEOUT) -> Any:
    """The next message (decoded when it is JSON), or ``None`` once the server has closed the connection."""
    message = await asyncio.wait_for(connection.read_message(), timeout)
    if message is None:
        return None
    try:
        return json.loads(message)
    except ValueError:
        return message


@dataclass(frozen=True)
class Exchange:
    """What :func:`ws_exchange` saw: one answer per message sent, and whether the server closed afterwards."""

    answers: list[Any]
    closed_by_server: bool


async def ws_exchange(
    url: str, messages: Iterable[str], *, answer_timeout: float = TIMEOUT, close_wait: float = 1.0
) -> Exchange:
    """Send each message and read one answer to it; then wait ``close_wait`` seconds for the server to close.

    Never raises for what the server does: an answer that does not come within ``answer_timeout``
    seconds is recorded as ``"(no answer within N s)"`` and ends the exchange; ``None`` means the
    server closed the connection instead of answering.
    """
    connection = await ws_connect(url)
    answers: list[Any] = []
    try:
        for message in messages:
            await connection.write_message(message)
            try:
                answer = await ws_receive(connection, timeout=answer_timeout)
            except TimeoutError:
                answers.append(f"(no answer within {answer_timeout:g} s)")
                return Exchange(answers, closed_by_server=False)
            answers.append(answer)
            if answer is None:
                return Exchange(answers, closed_by_server=True)
        try:
            closed = await ws_receive(connection, timeout=close_wait) is None
        except TimeoutError:
            closed = False
        return Exchange(answers, closed_by_server=closed)
    finally:
        connection.close()


def read_sse_events(lines: Iterable[str], n: int) -> list[dict[str, str]]:
    """The first ``n`` events of a ``text/event-stream``, each as its ``field: value`` pairs.

    ``lines`` are the stream's lines, for example ``response.iter_lines(decode_unicode=True)`` of
    a streamed ``requests`` response. An event ends with an empty line; a line that starts with a
    colon is a comment (a keep-alive, often) and is skipped.
    """
    events: list[dict[str, str]] = []
    current: dict[str, str] = {}
    for line in lines:
        if line.startswith(":"):
            continue
        if line:
            name, _, value = line.partition(":")
            current[name] = value.removeprefix(" ")
        elif current:
            events.append(current)
            current = {}
            if len(events) == n:
                break
    return events
