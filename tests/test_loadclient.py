"""The concurrent HTTP client of the Tornado chapter, against small asyncio servers made here."""

from __future__ import annotations

import asyncio
import resource
import socket
import threading
from collections.abc import Awaitable, Callable

import psutil
import pytest
import tornado.web
import tornado.websocket

from backendlab import serve
from backendlab.loadclient import (
    ConcurrentRequests,
    NumericResolver,
    ensure_fd_limit,
    fetch_concurrently,
)

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
# Only a broken run ever waits this long: no test waits a fixed time for something to happen.
SAFETY_TIMEOUT = 30


async def read_request(reader: asyncio.StreamReader) -> tuple[str, bytes]:
    """The request line and body of one request (Content-Length bodies only)."""
    request_line = (await reader.readline()).decode().strip()
    length = 0
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode().partition(":")
        if name.lower() == "content-length":
            length = int(value)
    return request_line, await reader.readexactly(length)


async def with_server(handler: Handler, test: Callable[[str], Awaitable[None]]) -> None:
    server = await asyncio.start_server(handler, "127.0.0.1", 0, backlog=1024)
    port = server.sockets[0].getsockname()[1]
    try:
        await test(f"http://127.0.0.1:{port}")
    finally:
        server.close()
        # Since Python 3.12 this waits for every connection the server still has (3.11 returned at
        # once). The bound only turns a leaked connection into a failure instead of a hang.
        async with asyncio.timeout(SAFETY_TIMEOUT):
            await server.wait_closed()


def open_fds() -> int:
    return psutil.Process().num_fds()


def test_long_poll_requests_are_held_until_released() -> None:
    held, release = [], asyncio.Event()

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request_line, _ = await read_request(reader)
        held.append(request_line)
        ticket = len(held)
        await release.wait()
        body = str(ticket).encode()
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nX-Ticket: %d\r\n\r\n%s" % (len(body), ticket, body))
        await writer.drain()
        writer.close()

    async def test(url: str) -> None:
        fds_before = open_fds()
        async with ConcurrentRequests(url + "/wait?x=1", 300, batch=50, timeout=20) as requests:
            assert len(requests) == 300
            for _ in range(200):
                if len(held) == 300:
                    break
                await asyncio.sleep(0.01)
            assert len(held) == 300 and set(held) == {"GET /wait?x=1 HTTP/1.1"}
            assert open_fds() - fds_before >= 600  # both ends of every connection live in this process
            release.set()
            responses = await requests.responses()
        assert len(requests) == 0
        assert [r.status for r in responses] == [200] * 300
        assert sorted(int(r.text) for r in responses) == list(range(1, 301))
        assert all(r.headers["x-ticket"] == r.text for r in responses)
        await asyncio.sleep(0.05)
        assert open_fds() <= fds_before + 5

    asyncio.run(with_server(handler, test))


def test_chunked_and_read_to_eof_bodies_and_post() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request_line, body = await read_request(reader)
        if request_line.startswith("POST /chunked"):
            writer.write(b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n")
            for part in (b"echo:", body):
                writer.write(b"%x\r\n%s\r\n" % (len(part), part))
            writer.write(b"0\r\n\r\n")
        else:
            writer.write(b"HTTP/1.0 404 Not Found\r\nContent-Type: text/plain\r\n\r\nno such page")
        await writer.drain()
        writer.close()

    async def test(url: str) -> None:
        chunked = await fetch_concurrently(url + "/chunked", 3, method="POST", body=b"hi", timeout=5)
        assert [(r.status, r.body) for r in chunked] == [(201, b"echo:hi")] * 3
        (missing,) = await fetch_concurrently(url + "/other", 1, timeout=5)
        assert missing.status == 404 and missing.text == "no such page"  # HTTP/1.0, body ends at EOF
        assert missing.headers["content-type"] == "text/plain"

    asyncio.run(with_server(handler, test))


def test_a_server_that_never_answers_times_out_and_everything_is_closed() -> None:
    n = 20
    server_saw: list[str] = []  # how each server-side connection ended
    all_ended = asyncio.Event()

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        try:  # never answers, and never closes the connection itself: only the client can end it
            await writer.wait_closed()
            server_saw.append("closed")
        except ConnectionError as error:
            server_saw.append(type(error).__name__)
        if len(server_saw) == n:
            all_ended.set()

    async def test(url: str) -> None:
        fds_before = open_fds()
        requests = ConcurrentRequests(url + "/", n, timeout=SAFETY_TIMEOUT)
        await requests.open()  # connecting may take its time on a loaded machine
        assert len(requests) == n
        requests.timeout = 0.3  # the wait for answers is what must time out
        with pytest.raises(TimeoutError):
            await requests.responses()
        await requests.close()
        await requests.close()  # twice is fine
        assert len(requests) == 0
        # The unanswered connections were reset, so the server drops them at once: a plain close
        # (FIN) would leave them half-open until the server answered, that is, forever.
        async with asyncio.timeout(SAFETY_TIMEOUT):
            await all_ended.wait()
        assert server_saw == ["ConnectionResetError"] * n
        assert open_fds() == fds_before  # both ends of every connection are closed

    asyncio.run(with_server(handler, test))


def test_refused_connections_raise_and_leave_nothing_open() -> None:
    async def test(port: int) -> None:
        fds_before = open_fds()
        requests = ConcurrentRequests(f"http://127.0.0.1:{port}/", 10, timeout=5)
        with pytest.raises(ConnectionRefusedError):
            await requests.open()
        assert len(requests) == 0
        assert open_fds() <= fds_before + 1

    # Bound and kept open but not listening: connections are refused, and no other program can take
    # the port meanwhile (a port taken from a socket already closed could be in use by then).
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        asyncio.run(test(probe.getsockname()[1]))


def test_invalid_arguments() -> None:
    with pytest.raises(ValueError, match="only http"):
        ConcurrentRequests("https://127.0.0.1/", 1)
    with pytest.raises(ValueError):
        ConcurrentRequests("http://127.0.0.1/", 1, batch=0)


def test_not_http_is_reported() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"SSH-2.0-nope\r\n")
        await writer.drain()
        writer.close()

    async def test(url: str) -> None:
        with pytest.raises(ConnectionError, match="not an HTTP response"):
            await fetch_concurrently(url, 1, timeout=5)

    asyncio.run(with_server(handler, test))


def test_ensure_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        assert ensure_fd_limit(64) == (soft, soft)  # already enough: unchanged
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))
        assert ensure_fd_limit(300) == (256, 300)
        assert resource.getrlimit(resource.RLIMIT_NOFILE) == (300, hard)
        if hard != resource.RLIM_INFINITY:
            with pytest.raises(RuntimeError, match="hard limit"):
                ensure_fd_limit(hard + 1)
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_numeric_resolver_connects_tornado_without_a_thread() -> None:
    class Echo(tornado.websocket.WebSocketHandler):
        def on_message(self, message: str | bytes) -> None:
            self.write_message(message)

    async def exchange(url: str) -> str | bytes | None:
        threads_before = {t.name for t in threading.enumerate()}
        connection = await asyncio.wait_for(tornado.websocket.websocket_connect(url, resolver=NumericResolver()), 5)
        await connection.write_message("ping")
        reply = await asyncio.wait_for(connection.read_message(), 5)
        connection.close()
        assert {t.name for t in threading.enumerate()} - threads_before == set()
        return reply

    with serve(tornado.web.Application([("/ws", Echo)])) as server:
        assert asyncio.run(exchange(server.url.replace("http", "ws", 1) + "/ws")) == "ping"


def test_numeric_resolver_answers() -> None:
    resolver = NumericResolver()
    assert asyncio.run(resolver.resolve("127.0.0.1", 80)) == [(socket.AF_INET, ("127.0.0.1", 80))]
    assert asyncio.run(resolver.resolve("::1", 80)) == [(socket.AF_INET6, ("::1", 80, 0, 0))]
    with pytest.raises(ValueError):
        asyncio.run(resolver.resolve("localhost", 80))
    with pytest.raises(OSError):
        asyncio.run(resolver.resolve("127.0.0.1", 80, socket.AF_INET6))
