"""Many concurrent HTTP requests from one asyncio task, each on its own connection.

The client side of the concurrency demonstrations: fire ``n`` requests at once, or open ``n``
long-poll requests that the server holds, check on the server, then collect every answer::

    responses = await fetch_concurrently(server.url + "/slow", 20)

    async with ConcurrentRequests(server.url + "/wait", 1000, batch=100, timeout=30) as held:
        ...                                 # all 1000 requests are sent and waiting here
        responses = await held.responses()  # in the order they were opened

It speaks just enough HTTP/1.1 for that (``Connection: close``; ``Content-Length``, chunked or
read-to-EOF bodies) over raw asyncio streams, so each request costs one socket and a few small
objects, and nothing caps the number in flight (Tornado's ``AsyncHTTPClient`` queues above
``max_clients=10``; a thread per request would cost a thread stack each). Every network step is
bounded by ``timeout``. A connection given up before its answer arrived (a timeout, an error, leaving
``async with`` early) is closed with a TCP reset, so that the server drops it at once (see
:meth:`ConcurrentRequests.close`).

:class:`NumericResolver` lets Tornado's own clients (``websocket_connect``) reach ``127.0.0.1``
without the helper thread that Tornado's default resolver leaves in a notebook kernel.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import resource
import socket
import struct
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from tornado.netutil import Resolver

__all__ = ["ConcurrentRequests", "NumericResolver", "Response", "ensure_fd_limit", "fetch_concurrently"]


@dataclass(frozen=True)
class Response:
    """One HTTP response: status code, headers (lower-case names) and body."""

    status: int
    headers: dict[str, str] = field(repr=False)
    body: bytes = field(repr=False)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


def ensure_fd_limit(needed: int) -> tuple[int, int]:
    """Raise this process's soft limit on open files to at least ``needed`` if it is lower.

    Each connection costs a file descriptor at each end (two when client and server share a
    process). Returns ``(soft limit before, soft limit now)``. Raises ``RuntimeError`` if the hard
    limit is too low: only root can raise that one.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        if hard != resource.RLIM_INFINITY and hard < needed:
            raise RuntimeError(f"{needed} file descriptors needed, but the hard limit is {hard}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))
    return soft, resource.getrlimit(resource.RLIMIT_NOFILE)[0]


async def _read_response(reader: asyncio.StreamReader) -> Response:
    status_line = await reader.readline()
    parts = status_line.decode("latin-1").split(None, 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/"):
        raise ConnectionError(f"not an HTTP response: {status_line[:80]!r}")
    headers: dict[str, str] = {}
    while True:
        line = (await reader.readline()).decode("latin-1").rstrip("\r\n")
        if not line:
            break
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if "chunked" in headers.get("transfer-encoding", "").lower():
        chunks = []
        while size := int((await reader.readline()).split(b";")[0], 16):
            chunks.append(await reader.readexactly(size))
            await reader.readexactly(2)  # the CRLF after each chunk
        body = b"".join(chunks)
    elif "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
    else:
        body = await reader.read()  # Connection: close, the body ends with the connection
    return Response(int(parts[1]), headers, body)


class ConcurrentRequests:
    """``n`` requests to ``url``, sent at once on ``n`` connections and held open until answered.

    ``open()`` connects in batches of ``batch`` concurrent connects (so a burst never overflows
    the server's listen backlog) and sends each request; ``responses()`` reads every answer;
    ``close()`` (or leaving ``async with``) closes every connection, answered or not. Each phase must
    finish within ``timeout`` seconds, or ``TimeoutError`` is raised.
    """

    def __init__(
        self,
        url: str,
        n: int,
        *,
        method: str = "GET",
        body: bytes = b"",
        batch: int = 100,
        timeout: float = 10.0,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"only http:// URLs are supported, not {url!r}")
        if n < 0 or batch < 1:
            raise ValueError("n must be >= 0 and batch >= 1")
        self.host = parts.hostname
        self.port = parts.port or 80
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self.n, self.batch, self.timeout = n, batch, timeout
        head = (
            f"{method} {target} HTTP/1.1\r\nHost: {parts.netloc}\r\nConnection: close\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        self._request = head.encode("latin-1") + body
        self._connections: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self._answered: set[asyncio.StreamWriter] = set()  # connections whose response was read in full

    def __len__(self) -> int:
        """How many connections are open now."""
        return len(self._connections)

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        reader, writer = await asyncio.open_connection(self.host, self.port)
        writer.write(self._request)
        try:
            await writer.drain()
        except BaseException:
            writer.close()
            raise
        return reader, writer

    async def open(self) -> None:
        """Open the ``n`` connections and send the ``n`` requests; close them all on failure."""
        try:
            async with asyncio.timeout(self.timeout):
                for start in range(len(self._connections), self.n, self.batch):
                    tasks = [asyncio.ensure_future(self._connect()) for _ in range(min(self.batch, self.n - start))]
                    try:
                        await asyncio.gather(*tasks, return_exceptions=True)
                    finally:  # keep what connected, so that close() closes it
                        for task in tasks:
                            if not task.done():
                                task.cancel()
                            elif not task.cancelled() and task.exception() is None:
                                self._connections.append(task.result())
                    errors = [task.exception() for task in tasks if task.done() and not task.cancelled()]
                    if any(errors):
                        raise next(error for error in errors if error is not None)
        except BaseException:
            await self.close()
            raise

    async def _read(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> Response:
        response = await _read_response(reader)
        self._answered.add(writer)
        return response

    async def responses(self) -> list[Response]:
        """Read every response, in the order the requests were opened."""
        async with asyncio.timeout(self.timeout):
            return list(await asyncio.gather(*(self._read(reader, writer) for reader, writer in self._connections)))

    async def close(self) -> None:
        """Close every connection (safe to call twice).

        A connection whose response was read in full is closed normally. One still waiting for its
        answer is closed with a TCP reset (RST): a normal close sends only FIN, which tells the server
        that the client has finished *sending*, not that it has stopped listening, so the server may
        keep the connection open until it has answered. asyncio's own stream servers do exactly that
        (their ``eof_received`` keeps a half-closed connection open until the handler closes its
        writer), and since Python 3.12 their ``Server.wait_closed()`` waits for every such connection:
        behind a server that never answers, it never returned. A reset reaches the server's socket
        layer at once, whatever its handler is doing, and the server drops the connection.
        """
        connections, self._connections = self._connections, []
        answered, self._answered = self._answered, set()
        for _, writer in connections:
            if writer in answered:
                writer.close()
            else:
                _reset(writer)
        if connections:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.timeout):
                    await asyncio.gather(*(writer.wait_closed() for _, writer in connections), return_exceptions=True)

    async def __aenter__(self) -> ConcurrentRequests:
        await self.open()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close a connection with a TCP reset: SO_LINGER with a zero timeout, then close without flushing."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):  # already closed by the peer: nothing to reset
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


async def fetch_concurrently(url: str, n: int, **options: object) -> list[Response]:
    """Send ``n`` requests to ``url`` at once and return the ``n`` responses in order.

    ``options`` are those of :class:`ConcurrentRequests` (``method``, ``body``, ``batch``, ``timeout``).
    """
    async with ConcurrentRequests(url, n, **options) as requests:  # type: ignore[arg-type]
        return await requests.responses()


class NumericResolver(Resolver):
    """A Tornado resolver for numeric addresses (``127.0.0.1``, ``::1``) that never starts a thread.

    Tornado's default resolver calls ``loop.getaddrinfo``, which runs in the event loop's default
    executor: the first ``websocket_connect(..)`` from a notebook cell leaves an ``asyncio_0``
    thread in the kernel for good. Pass ``resolver=NumericResolver()`` instead. Host names raise
    ``ValueError``: they need a real resolver.
    """

    async def resolve(
        self, host: str, port: int, family: socket.AddressFamily = socket.AF_UNSPEC
    ) -> list[tuple[int, Any]]:
        address = ipaddress.ip_address(host)  # ValueError for a host name
        found = socket.AF_INET6 if address.version == 6 else socket.AF_INET
        if family not in (socket.AF_UNSPEC, found):
            raise OSError(f"{host} is not an address of family {family!r}")
        return [(found, (host, port, 0, 0) if found == socket.AF_INET6 else (host, port))]
