"""The load generator: a pure-Python HTTP/1.1 client on asyncio.

Two measurements, each bounded in time and in count:

* :func:`run_load` keeps ``concurrency`` keep-alive connections busy, each sending its next
  request as soon as the previous answer has arrived (a *closed loop*; no pipelining), first
  for ``warmup`` seconds (not counted), then for ``duration`` seconds: requests/s, latency
  percentiles, status and error counts.
* :func:`run_hold` opens ``connections`` connections at once, each sending one request (a slow
  one), and waits for all answers within ``timeout``: which arrived, which failed, how long.

It is deliberately small: the request bytes are built once, and a response is framed by
:func:`frame_response` as a header block up to the blank line, then exactly ``Content-Length``
body bytes (or chunks); nothing else of the header is parsed besides the status code and
``Connection: close``. The closed loop runs on protocol callbacks (:class:`asyncio.Protocol`),
not on stream readers and one task per connection: per response that is one callback instead of
several awaits and task switches, which is what lets one Python process on one core keep up with
the C load generator wrk against a fast server (see the benchmark chapter for the measured ratio).

Run in its own process by the harness (``python -m backendlab.bench.client SPEC_JSON`` prints
the result as JSON on stdout), so that it does not share a GIL with the server or the notebook.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import resource
import sys
import time
from array import array
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from backendlab.bench.stats import latency_summary

__all__ = [
    "HoldSpec", "LoadSpec", "ProtocolError", "build_request", "frame_response", "read_response", "run_hold", "run_load",
]

MAX_HEADER_BYTES = 64 * 1024


class ProtocolError(Exception):
    """The server's answer is not an HTTP/1.1 response this client can frame."""


@dataclass
class LoadSpec:
    """One closed-loop run against ``http://host:port`` + ``path``."""

    host: str = "127.0.0.1"
    port: int = 0
    path: str = "/json"
    method: str = "GET"
    body: str = ""
    content_type: str = "application/json"
    concurrency: int = 8
    warmup: float = 0.5
    duration: float = 2.0
    request_timeout: float = 5.0
    connect_timeout: float = 5.0
    max_requests: int = 2_000_000  # over warm-up and measurement together
    expect_status: int = 200


@dataclass
class HoldSpec:
    """``connections`` simultaneous requests to ``path``, all to be answered within ``timeout``."""

    host: str = "127.0.0.1"
    port: int = 0
    path: str = "/slow?ms=1000"
    connections: int = 1000
    timeout: float = 10.0
    expect_status: int = 200


def build_request(host: str, port: int, path: str, method: str = "GET", body: bytes = b"",
                  content_type: str = "application/json", keep_alive: bool = True) -> bytes:
    """The exact bytes of one request, built once and written again and again."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}:{port}", "User-Agent: backendlab-bench"]
    if body or method in ("POST", "PUT", "PATCH"):
        lines += [f"Content-Type: {content_type}", f"Content-Length: {len(body)}"]
    if not keep_alive:
        lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def frame_response(buffer: bytes) -> tuple[int, int, bool] | None:
    """Frame the first response in ``buffer``: ``(its length in bytes, status, keep-alive)``, or
    ``None`` while it is incomplete. Raises :class:`ProtocolError` for what this client cannot frame."""
    head_end = buffer.find(b"\r\n\r\n", 0, MAX_HEADER_BYTES)
    if head_end < 0:
        if len(buffer) >= MAX_HEADER_BYTES:
            raise ProtocolError("response header too large")
        if len(buffer) >= 8 and not buffer.startswith(b"HTTP/1."):
            raise ProtocolError(f"not an HTTP/1.x status line: {buffer[:40]!r}")
        return None
    if not buffer.startswith(b"HTTP/1.") or head_end < 12:
        raise ProtocolError(f"not an HTTP/1.x status line: {buffer[:40]!r}")
    try:
        status = int(buffer[9:12])
        # Fast path, taken for nearly every response of a keep-alive run (the per-response cost
        # of this function limits the client against a fast server): HTTP/1.1, a Content-Length
        # in one of its two usual spellings, and no Connection header at all.
        start = buffer.find(b"\r\nContent-Length:", 8, head_end)
        if start < 0:
            start = buffer.find(b"\r\ncontent-length:", 8, head_end)
        if (start >= 0 and buffer[5:9] == b"1.1 " and buffer.find(b"onnection", 8, head_end) < 0
                and buffer.find(b"ONNECTION", 8, head_end) < 0):
            start += 17
            end = head_end + 4 + int(buffer[start:buffer.index(b"\r\n", start)])
            return (end, status, True) if len(buffer) >= end else None
        head = buffer[:head_end + 2].lower()  # every header line, each ending in CRLF
        body_start = head_end + 4
        start = head.find(b"\r\ncontent-length:")
        if start >= 0:
            start += 17
            end = body_start + int(head[start:head.index(b"\r\n", start)])
            if len(buffer) < end:
                return None
        elif b"\r\ntransfer-encoding: chunked" in head:
            end = body_start
            while True:  # size line, chunk, CRLF; up to the last (empty) chunk; no trailers
                line_end = buffer.find(b"\r\n", end)
                if line_end < 0:
                    return None
                size = int(buffer[end:line_end].split(b";")[0], 16)
                end = line_end + 2 + size + 2
                if len(buffer) < end:
                    return None
                if size == 0:
                    break
        elif status >= 200 and status not in (204, 304):
            raise ProtocolError("response without Content-Length or chunked body on a kept-alive connection")
        else:
            end = body_start
    except ValueError as exc:
        raise ProtocolError(f"unreadable response head: {buffer[:80]!r}") from exc
    return end, status, b"\r\nconnection: close" not in head and buffer.startswith(b"HTTP/1.1")


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """Read one response from a stream (no pipelining: nothing follows it); return its status
    code and whether the connection stays open."""
    buffer = b""
    while (framed := frame_response(buffer)) is None:
        data = await reader.read(65536)
        if not data:
            raise asyncio.IncompleteReadError(buffer, None)
        buffer += data
    _, status, keep_alive = framed
    return status, keep_alive


def _error_kind(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "timeout"
    if isinstance(exc, ConnectionRefusedError):
        return "refused"
    if isinstance(exc, ConnectionResetError | BrokenPipeError | asyncio.IncompleteReadError):
        return "reset"
    if isinstance(exc, ProtocolError | ValueError):
        return "protocol"
    return "os-error"


@dataclass
class _LoadState:
    spec: LoadSpec
    request: bytes
    measure_start: float
    measure_end: float
    latencies: array = field(default_factory=lambda: array("d"))
    statuses: Counter = field(default_factory=Counter)
    errors: Counter = field(default_factory=Counter)
    warmup_errors: Counter = field(default_factory=Counter)
    sent: int = 0
    stopping: bool = False
    live: dict[int, _LoadConnection] = field(default_factory=dict)  # slot number -> its open connection
    ready_to_send: list[_LoadConnection] = field(default_factory=list)
    answered_once: set[int] = field(default_factory=set)  # slots that have had an answer
    answered_total: int = 0  # answers read, in and out of the window

    def error(self, kind: str, at: float) -> None:
        (self.errors if at >= self.measure_start else self.warmup_errors)[kind] += 1

    def may_send(self, now: float) -> bool:
        return not self.stopping and self.sent < self.spec.max_requests and now < self.measure_end

    def send_soon(self, connection: _LoadConnection) -> None:
        """Queue ``connection``'s next request; the queue is written out once per loop iteration."""
        self.ready_to_send.append(connection)
        if len(self.ready_to_send) == 1:
            asyncio.get_running_loop().call_soon(self.send_queued)

    def send_queued(self) -> None:
        # Writing the next requests together after reading a batch of answers, as wrk does (it
        # writes when the socket is next reported writable), keeps a fast server busy through the
        # burst. Written one at a time from each read callback, the client against the bare
        # reference server ran either at about a third of its speed or at full speed, switching
        # by chance; in the slow state 80 % of its time was kernel time, which we read as the
        # cost of waking a server that had gone idle before each request (expensive on a VM).
        # Batched: 72-78k req/s against 55-65k on average, on the same pinned CPUs.
        queued, self.ready_to_send = self.ready_to_send, []
        now = time.perf_counter()
        for connection in queued:
            connection._send(now)


class _LoadConnection(asyncio.Protocol):
    """One keep-alive connection of the closed loop, driven by callbacks rather than a coroutine
    (a stream reader and a task switch per response cost more than the response itself: this is
    what lets one Python process keep up with a fast server). It sends a request as soon as it is
    connected and the next one as soon as an answer is complete; ``finished`` resolves when the
    connection is over (closed, failed, or no more requests to send)."""

    def __init__(self, state: _LoadState, number: int) -> None:
        self.state = state
        self.number = number
        self.buffer = b""
        self.waiting = False  # a request is out and its answer not complete
        self.sent_at = 0.0
        self.transport: asyncio.Transport | None = None
        self.finished: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.state.live[self.number] = self
        self._send(time.perf_counter())

    def _send(self, now: float) -> None:
        state = self.state
        if self.transport is None or self.transport.is_closing():
            return
        if state.may_send(now):
            state.sent += 1
            self.waiting = True
            self.sent_at = now
            self.transport.write(state.request)  # type: ignore[union-attr]
        else:
            self.close()

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer + data if self.buffer else data
        state = self.state
        while self.waiting:
            try:
                framed = frame_response(buffer)
            except ProtocolError:
                self.fail("protocol")
                return
            if framed is None:
                break
            end, status, keep_alive = framed
            buffer = buffer[end:]
            finished = time.perf_counter()
            self.waiting = False
            state.answered_total += 1
            state.answered_once.add(self.number)
            if state.measure_start <= finished <= state.measure_end:  # answered within the window
                state.latencies.append(finished - self.sent_at)
                state.statuses[status] += 1
            if status != state.spec.expect_status:
                state.error(f"status-{status}", self.sent_at)
            if keep_alive:
                state.send_soon(self)
            else:
                self.close()
        self.buffer = buffer

    def fail(self, kind: str) -> None:
        """Count the request in flight as failed with ``kind`` and drop the connection."""
        if self.waiting:
            self.waiting = False
            self.state.error(kind, self.sent_at)
        if self.transport is not None:
            self.transport.abort()

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.waiting:  # closed with a request unanswered
            self.waiting = False
            self.state.error("reset" if exc is None else _error_kind(exc), self.sent_at)
        if self.state.live.get(self.number) is self:
            del self.state.live[self.number]
        if not self.finished.done():
            self.finished.set_result(None)


async def _load_slot(state: _LoadState, number: int, first_attempt: asyncio.Future[None]) -> None:
    """Keep slot ``number`` connected and busy until the run ends, reconnecting after a close."""
    spec = state.spec
    loop = asyncio.get_running_loop()
    clock = time.perf_counter
    try:
        while state.may_send(clock()):
            try:
                async with asyncio.timeout(spec.connect_timeout):
                    _, connection = await loop.create_connection(lambda: _LoadConnection(state, number),
                                                                 spec.host, spec.port)
            except (OSError, TimeoutError) as exc:
                state.error("connect-" + _error_kind(exc), clock())
                connection = None
            if not first_attempt.done():
                first_attempt.set_result(None)
            if connection is None:
                await asyncio.sleep(0.05)  # no hot loop against a refusing port
            else:
                await connection.finished
    finally:
        if not first_attempt.done():
            first_attempt.set_result(None)


async def _watch_timeouts(state: _LoadState) -> None:
    """Fail any request that has waited longer than ``request_timeout`` (one timer for all)."""
    timeout = state.spec.request_timeout
    while True:
        await asyncio.sleep(min(0.05, timeout / 4))
        now = time.perf_counter()
        for connection in list(state.live.values()):
            if connection.waiting and now - connection.sent_at > timeout:
                connection.fail("timeout")


async def run_load(spec: LoadSpec) -> dict[str, Any]:
    """Closed-loop load for ``spec.warmup`` + ``spec.duration`` seconds (or ``max_requests``)."""
    request = build_request(spec.host, spec.port, spec.path, spec.method, spec.body.encode(), spec.content_type)
    loop = asyncio.get_running_loop()
    state = _LoadState(spec, request, measure_start=math.inf, measure_end=math.inf)
    # Open every connection (each sends its first request at once), then wait (at most
    # connect_timeout) until each has had one answer, before the warm-up clock starts: a server
    # with a short listen queue takes a burst of connections in only gradually, and the kernel may
    # report a connection as open before the server has accepted it. The window then measures c
    # connections that are all in play.
    connecting = time.perf_counter()
    first_attempts = [loop.create_future() for _ in range(spec.concurrency)]
    slots = [asyncio.create_task(_load_slot(state, n, first)) for n, first in enumerate(first_attempts)]
    watchdog = asyncio.create_task(_watch_timeouts(state))
    await asyncio.wait(first_attempts)
    connect_s = time.perf_counter() - connecting
    priming_deadline = connecting + spec.connect_timeout
    while (len(state.answered_once) < spec.concurrency and time.perf_counter() < priming_deadline
           and not all(slot.done() for slot in slots)):
        await asyncio.sleep(0.005)
    primed = len(state.answered_once)
    now = time.perf_counter()
    state.measure_start = now + spec.warmup
    state.measure_end = now + spec.warmup + spec.duration
    await asyncio.wait(slots, timeout=spec.warmup + spec.duration)  # returns early only at max_requests
    stopped = time.perf_counter()
    state.stopping = True
    # A request still waiting now that was sent before the measurement began got no answer
    # during the whole window: count it, or a server that never answers would look error-free.
    for connection in list(state.live.values()):
        if connection.waiting and connection.sent_at < state.measure_start:
            state.errors["no-answer-in-window"] += 1
        connection.waiting = False
        connection.fail("stopped")  # not counted: nothing is waiting any more
    watchdog.cancel()
    for slot in slots:
        slot.cancel()
    await asyncio.gather(watchdog, *slots, return_exceptions=True)
    await asyncio.sleep(0)  # let the aborted transports report connection_lost
    measured = max(1e-9, min(stopped, state.measure_end) - state.measure_start)
    requests = len(state.latencies)
    return {
        "path": spec.path,
        "method": spec.method,
        "concurrency": spec.concurrency,
        "duration_s": round(measured, 3),
        "requests": requests,
        "answered_total": state.answered_total,
        "rps": round(requests / measured, 1),
        "latency_ms": latency_summary(state.latencies),
        "statuses": {str(code): count for code, count in sorted(state.statuses.items())},
        "errors": dict(sorted(state.errors.items())),
        "error_count": sum(state.errors.values()),
        "warmup_errors": dict(sorted(state.warmup_errors.items())),
        "stopped_by": "max_requests" if stopped < state.measure_end - 0.01 else "duration",
        "connect_s": round(connect_s, 3),
        "primed_connections": primed,
    }


async def run_hold(spec: HoldSpec) -> dict[str, Any]:
    """Open ``spec.connections`` connections at once, one request each; wait for every answer."""
    request = build_request(spec.host, spec.port, spec.path, keep_alive=False)
    errors: Counter = Counter()
    latencies: list[float] = []
    connected = 0
    peak_open = 0
    started = time.perf_counter()

    async def one() -> None:
        nonlocal connected, peak_open
        writer = None
        begun = time.perf_counter()
        try:
            async with asyncio.timeout(spec.timeout):
                reader, writer = await asyncio.open_connection(spec.host, spec.port)
                connected += 1
                peak_open = max(peak_open, connected)
                writer.write(request)
                status, _ = await read_response(reader)
        except (OSError, TimeoutError, EOFError, ProtocolError, ValueError) as exc:
            errors[_error_kind(exc)] += 1
            return
        finally:
            if writer is not None:
                connected -= 1
                writer.close()
        if status == spec.expect_status:
            latencies.append(time.perf_counter() - begun)
        else:
            errors[f"status-{status}"] += 1

    await asyncio.gather(*(one() for _ in range(spec.connections)))
    return {
        "path": spec.path,
        "connections": spec.connections,
        "timeout_s": spec.timeout,
        "ok": len(latencies),
        "errors": dict(sorted(errors.items())),
        "error_count": sum(errors.values()),
        "peak_open_client_side": peak_open,
        "latency_ms": latency_summary(latencies),
        "wall_s": round(time.perf_counter() - started, 3),
    }


def raise_fd_limit(wanted: int = 65536) -> int:
    """Raise this process's soft limit on open files towards ``wanted`` (capped by the hard limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft < target:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def main(argv: list[str] | None = None) -> int:
    """``python -m backendlab.bench.client '{"mode": "load", ...}'``: print the result as JSON."""
    argv = sys.argv[1:] if argv is None else argv
    spec = json.loads(argv[0])
    mode = spec.pop("mode", "load")
    run = asyncio.run
    if spec.pop("loop", "asyncio") == "uvloop":
        import uvloop

        run = uvloop.run
    raise_fd_limit()
    if mode == "load":
        result = run(run_load(LoadSpec(**spec)))
    elif mode == "hold":
        result = run(run_hold(HoldSpec(**spec)))
    else:
        raise SystemExit(f"unknown mode {mode!r}")
    print(json.dumps(result))
    return 0


def spec_json(spec: LoadSpec | HoldSpec, loop: str = "asyncio") -> str:
    """The command-line form of a spec for :func:`main`; ``loop`` is ``asyncio`` or ``uvloop``."""
    return json.dumps({"mode": "load" if isinstance(spec, LoadSpec) else "hold", "loop": loop, **asdict(spec)})


if __name__ == "__main__":
    sys.exit(main())
