"""The load generator: a pure-Python HTTP/1.1 client on asyncio streams.

Two measurements, each bounded in time and in count:

* :func:`run_load` keeps ``concurrency`` keep-alive connections busy, each sending its next
  request as soon as the previous answer has arrived (a *closed loop*; no pipelining), first
  for ``warmup`` seconds (not counted), then for ``duration`` seconds: requests/s, latency
  percentiles, status and error counts.
* :func:`run_hold` opens ``connections`` connections at once, each sending one request (a slow
  one), and waits for all answers within ``timeout``: which arrived, which failed, how long.

It is deliberately small: the request bytes are built once, and a response is read as a header
block up to the blank line, then exactly ``Content-Length`` body bytes (or chunks); nothing else
of the header is parsed besides the status code and ``Connection: close``.

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

__all__ = ["HoldSpec", "LoadSpec", "ProtocolError", "build_request", "read_response", "run_hold", "run_load"]

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


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """Read one response; return its status code and whether the connection stays open."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.LimitOverrunError as exc:
        raise ProtocolError("response header too large") from exc
    if not head.startswith(b"HTTP/1.") or len(head) < 12:
        raise ProtocolError(f"not an HTTP/1.x status line: {head[:40]!r}")
    try:
        status = int(head[9:12])
    except ValueError as exc:
        raise ProtocolError(f"bad status line: {head[:40]!r}") from exc
    lower = head.lower()
    start = lower.find(b"\r\ncontent-length:")
    if start >= 0:
        start += 17
        length = int(lower[start:lower.index(b"\r\n", start)])
        if length:
            await reader.readexactly(length)
    elif b"\r\ntransfer-encoding: chunked" in lower:
        while True:
            size_line = await reader.readuntil(b"\r\n")
            size = int(size_line.split(b";")[0], 16)
            await reader.readexactly(size + 2)  # the chunk and its CRLF
            if size == 0:
                break
    elif status >= 200 and status not in (204, 304):
        raise ProtocolError("response without Content-Length or chunked body on a kept-alive connection")
    keep_alive = b"\r\nconnection: close" not in lower and head.startswith(b"HTTP/1.1")
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
    in_flight_since: dict[int, float] = field(default_factory=dict)
    answered_once: set[int] = field(default_factory=set)  # connections that have had an answer
    answered_total: int = 0  # answers read, in and out of the window

    def error(self, kind: str, at: float) -> None:
        (self.errors if at >= self.measure_start else self.warmup_errors)[kind] += 1


async def _load_worker(state: _LoadState, number: int, connection: Any) -> None:
    spec = state.spec
    reader, writer = connection if isinstance(connection, tuple) else (None, None)
    clock = time.perf_counter
    try:
        while not state.stopping and state.sent < spec.max_requests and clock() < state.measure_end:
            if writer is None:
                try:
                    async with asyncio.timeout(spec.connect_timeout):
                        reader, writer = await asyncio.open_connection(spec.host, spec.port)
                except (OSError, TimeoutError) as exc:
                    state.error("connect-" + _error_kind(exc), clock())
                    await asyncio.sleep(0.05)  # no hot loop against a refusing port
                    continue
            state.sent += 1
            started = clock()
            state.in_flight_since[number] = started
            try:
                async with asyncio.timeout(spec.request_timeout):
                    writer.write(state.request)
                    status, keep_alive = await read_response(reader)
            except (OSError, TimeoutError, EOFError, ProtocolError, ValueError) as exc:
                del state.in_flight_since[number]
                state.error(_error_kind(exc), started)
                writer.close()
                writer = None
                continue
            finished = clock()
            del state.in_flight_since[number]
            state.answered_once.add(number)
            state.answered_total += 1
            if state.measure_start <= finished <= state.measure_end:  # answered within the window
                state.latencies.append(finished - started)
                state.statuses[status] += 1
            if status != spec.expect_status:
                state.error(f"status-{status}", started)
            if not keep_alive:
                writer.close()
                writer = None
    finally:
        if writer is not None:
            writer.close()


async def run_load(spec: LoadSpec) -> dict[str, Any]:
    """Closed-loop load for ``spec.warmup`` + ``spec.duration`` seconds (or ``max_requests``)."""
    request = build_request(spec.host, spec.port, spec.path, spec.method, spec.body.encode(), spec.content_type)

    async def connect() -> Any:
        try:
            async with asyncio.timeout(spec.connect_timeout):
                return await asyncio.open_connection(spec.host, spec.port)
        except (OSError, TimeoutError) as exc:
            return exc

    # Open every connection, then wait (at most connect_timeout) until each has had one answer,
    # before the warm-up clock starts: a server with a short listen queue takes a burst of
    # connections in only gradually, and the kernel may report a connection as open before the
    # server has accepted it. The window then measures c connections that are all in play.
    connecting = time.perf_counter()
    connections = await asyncio.gather(*(connect() for _ in range(spec.concurrency)))
    connect_s = time.perf_counter() - connecting
    state = _LoadState(spec, request, measure_start=math.inf, measure_end=math.inf)
    for connection in connections:
        if isinstance(connection, BaseException):
            state.warmup_errors["connect-" + _error_kind(connection)] += 1
    workers = [asyncio.create_task(_load_worker(state, n, c)) for n, c in enumerate(connections)]
    priming_deadline = time.perf_counter() + spec.connect_timeout
    while (len(state.answered_once) < spec.concurrency and time.perf_counter() < priming_deadline
           and not all(worker.done() for worker in workers)):
        await asyncio.sleep(0.005)
    primed = len(state.answered_once)
    now = time.perf_counter()
    state.measure_start = now + spec.warmup
    state.measure_end = now + spec.warmup + spec.duration
    await asyncio.wait(workers, timeout=spec.warmup + spec.duration)  # returns early only at max_requests
    stopped = time.perf_counter()
    state.stopping = True
    # A request still waiting now that was sent before the measurement began got no answer
    # during the whole window: count it, or a server that never answers would look error-free.
    for since in state.in_flight_since.values():
        if since < state.measure_start:
            state.errors["no-answer-in-window"] += 1
    for worker in workers:
        worker.cancel()
    await asyncio.gather(*workers, return_exceptions=True)
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
