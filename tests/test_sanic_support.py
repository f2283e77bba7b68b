"""backendlab.sanic_support: waiting for Sanic's workers, process liveness, listening sockets, raw HTTP
bytes, WebSocket exchanges."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import threading
import time

import pytest
from conftest import FakeCommand  # a stand-in for run_command's handle, shared by the helper tests

from backendlab.sanic_support import (
    is_running,
    listens,
    raw_exchange,
    status_and_headers,
    wait_for_workers,
    ws_exchange,
)

BANNER = ("Main  2026-01-01 10:00:00 +0000 INFO: Sanic v25.12.1", "Main  ... INFO: mode: production, w/ 2 workers")
READY = (
    "Srv 1 2026-01-01 10:00:01 +0000 INFO: Starting worker [202]",
    "Srv 1 2026-01-01 10:00:01 +0000 INFO: Worker ready [202]",
    "Srv 0 2026-01-01 10:00:01 +0000 INFO: Starting worker [201]",
    "Srv 0 2026-01-01 10:00:01 +0000 INFO: Worker ready [201]",
)


def test_wait_for_workers_returns_the_ready_workers_pids_in_log_order_after_settling() -> None:
    started = time.monotonic()
    assert wait_for_workers(FakeCommand(*BANNER, *READY), 2, settle=0.3) == [202, 201]
    assert time.monotonic() - started >= 0.3  # and it gave the manager time to take note


def test_wait_for_workers_waits_for_the_last_worker() -> None:
    command = FakeCommand(*BANNER)

    def start_later() -> None:
        for line in READY:
            time.sleep(0.05)
            command.lines.append(line)

    writer = threading.Thread(target=start_later)
    writer.start()
    try:
        assert wait_for_workers(command, 2, timeout=5, settle=0) == [202, 201]
    finally:
        writer.join()


def test_wait_for_workers_times_out_with_the_end_of_the_log() -> None:
    command = FakeCommand(*BANNER, *READY[:2])  # "Starting worker" alone is not ready
    with pytest.raises(TimeoutError, match=r"1 of 2 workers ready after 0.2 s(.|\n)*Worker ready \[202\]"):
        wait_for_workers(command, 2, timeout=0.2)


def test_is_running_is_false_for_an_exited_child_not_yet_reaped() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert is_running(child.pid)
        child.kill()
        deadline = time.monotonic() + 10
        while is_running(child.pid) and time.monotonic() < deadline:  # a zombie until wait() below
            time.sleep(0.01)
        assert not is_running(child.pid)
    finally:
        child.kill()
        child.wait()
    assert not is_running(child.pid)


def test_listens_sees_a_listening_socket_and_not_a_connected_one() -> None:
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        with socket.create_connection(("127.0.0.1", port), timeout=5) as client:
            client_port = client.getsockname()[1]
            assert listens(os.getpid(), port)
            assert not listens(os.getpid(), client_port)  # connected (ESTABLISHED), not listening
    assert not listens(os.getpid(), port)  # closed


def test_raw_exchange_returns_everything_until_the_server_closes() -> None:
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]

        def answer_once() -> None:
            connection, _ = listener.accept()
            with connection:
                request = connection.recv(1024)
                connection.sendall(b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\nX-Empty:\r\n\r\n")
                connection.sendall(b"got " + request.split(b"\r\n")[0])

        server = threading.Thread(target=answer_once)
        server.start()
        reply = raw_exchange("127.0.0.1", port, b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", timeout=5)
        server.join(timeout=5)
    status_line, headers, body = status_and_headers(reply)
    assert status_line == "HTTP/1.1 400 Bad Request"
    assert headers == {"connection": "close", "x-empty": ""}
    assert body == b"got PRI * HTTP/2.0"


def test_ws_exchange_returns_one_reply_per_message() -> None:
    from websockets.asyncio.server import serve

    async def shout(ws) -> None:
        async for message in ws:
            await ws.send(message.upper())

    async def exchange() -> list[str] | str:
        async with serve(shout, "127.0.0.1", 0) as server:
            port = server.sockets[0].getsockname()[1]
            return await ws_exchange(f"ws://127.0.0.1:{port}/", ["hi", "there"], timeout=5)

    assert asyncio.run(exchange()) == ["HI", "THERE"]


def test_ws_exchange_says_what_went_wrong_instead_of_raising() -> None:
    from websockets.asyncio.server import serve

    def refuse(connection, request):
        return connection.respond(404, "no such route\n")

    async def silent(ws) -> None:
        await ws.wait_closed()

    async def exchanges() -> tuple[list[str] | str, list[str] | str]:
        async with (
            serve(silent, "127.0.0.1", 0, process_request=refuse) as refusing,
            serve(silent, "127.0.0.1", 0) as quiet,
        ):
            refused = await ws_exchange(f"ws://127.0.0.1:{refusing.sockets[0].getsockname()[1]}/", ["hi"], timeout=5)
            unanswered = await ws_exchange(f"ws://127.0.0.1:{quiet.sockets[0].getsockname()[1]}/", ["hi"], timeout=0.2)
            return refused, unanswered

    refused, unanswered = asyncio.run(exchanges())
    assert refused == "the server refused the WebSocket handshake with 404"
    assert unanswered == "no reply within 0.2 s after 0 replies []"
